// Train / validation / test by held-out operand combinations.
//
// The split of an example is a pure function of (split seed, task's split key): the key is hashed
// with a fixed, platform-independent mixer (never Swift's Hasher, which is seeded per process) into
// [0, 1) and bucketed by the fractions. Equal keys therefore always land in the same split, so no
// test item shares its operand tuple with a training item, in any run, on any machine.
// Composite items contain sub-skill items (a story's telling is an `order` item, a scratchpad equation
// an arithmetic item): a composite is trained or tested only if those are training items (else it
// is a validation item), so test composites are new combinations of trained parts.
// Optionally whole story templates are held out: every item told with one of them is a test item,
// so test accuracy on them measures generalisation to a way of telling never seen in training.

public enum Split: String, Sendable, Codable, CaseIterable {
    case train, validation, test
}

public struct SplitPolicy: Sendable, Codable, Equatable {
    public var seed: UInt64
    public var validationFraction: Double
    public var testFraction: Double
    /// Story templates whose items are all test items (never trained on).
    public var heldOutTemplates: [StoryTemplate]

    public init(seed: UInt64 = 0, validationFraction: Double = 0.1, testFraction: Double = 0.1,
                heldOutTemplates: [StoryTemplate] = []) {
        self.seed = seed
        self.validationFraction = validationFraction
        self.testFraction = testFraction
        self.heldOutTemplates = heldOutTemplates
    }

    /// The item's split by its own key, with one rule for items built from other tasks' items
    /// (SkillTask.components): unless all its parts are training items of their tasks, it is a
    /// validation item. So no held-out sub-skill item is ever trained on inside a composite, and a
    /// test composite is a new combination (held-out operand tuple) of trained parts: its accuracy
    /// measures composition, while each part's generalisation is measured on its own task's test set.
    /// An item told with a held-out template is never trained on: it is a test item when its own key is
    /// a test key and its other parts are trained (its telling cannot be), else a validation item, so
    /// test and training keys stay disjoint with templates held out too.
    public func split(of example: Example, task: any SkillTask) -> Split {
        func heldOut(_ e: Example) -> Bool { heldOutTemplates.contains { $0.rawValue == e.label("template") } }
        let own = split(ofKey: task.splitKey(of: example))
        if own == .validation { return .validation }
        let partsTrained = task.components(of: example).allSatisfy { part in
            heldOut(part.example) || split(of: part.example, task: part.task) == .train
        }
        if !partsTrained || (heldOut(example) && own == .train) { return .validation }
        return own
    }

    public func split(ofKey key: [Int]) -> Split {
        let u = Double(stableHash(key, seed: seed) >> 11) * 0x1.0p-53
        if u < testFraction { return .test }
        if u < testFraction + validationFraction { return .validation }
        return .train
    }
}

extension SplitPolicy {
    /// Run files written before held-out templates existed have no such key: none were held out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        seed = try c.decode(UInt64.self, forKey: .seed)
        validationFraction = try c.decode(Double.self, forKey: .validationFraction)
        testFraction = try c.decode(Double.self, forKey: .testFraction)
        heldOutTemplates = try c.decodeIfPresent([StoryTemplate].self, forKey: .heldOutTemplates) ?? []
    }
}

/// SplitMix64-style mixing of a list of integers; stable across processes and platforms.
func stableHash(_ values: [Int], seed: UInt64) -> UInt64 {
    var h = seed ^ 0x6A09_E667_F3BC_C909
    for v in values + [values.count] {
        h ^= UInt64(bitPattern: Int64(v))
        h &+= 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
    }
    return h
}

/// FNV-1a of a string's UTF-8 bytes (stable, unlike String.hashValue).
func stableHash(_ text: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        h ^= UInt64(byte)
        h &*= 0x0000_0100_0000_01B3
    }
    return h
}
