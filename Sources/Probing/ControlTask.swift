import Tensors

/// What makes two examples "the same input" for a control task (Hewitt & Liang 2019), e.g. the
/// operand tuple or the token sequence. Ints and strings are hashed through a fixed canonical
/// encoding (not Swift's per-process randomised Hashable) so labels are reproducible across runs.
public enum ProbeInputKey: Hashable, Sendable, Codable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case int(Int)
    case string(String)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    /// A tuple or token sequence, e.g. [12, 7] for the operands of 12 + 7.
    public init(_ parts: [Int]) { self = .string(parts.map(String.init).joined(separator: ",")) }

    /// FNV-1a 64 over a type tag and the value's bytes.
    var stableHash: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        switch self {
        case .int(let v):
            mix(0x49)
            var u = UInt64(bitPattern: Int64(v))
            for _ in 0..<8 { mix(UInt8(truncatingIfNeeded: u)); u >>= 8 }
        case .string(let s):
            mix(0x53)
            for b in s.utf8 { mix(b) }
        }
        return h
    }
}

public enum ControlTask {
    /// A control label per example: every distinct key gets one value drawn from `pool`, the
    /// empirical distribution (pass the training labels, repeats included). The draw depends only
    /// on (key, seed, multiset of pool), never on example order, so a type keeps its label
    /// wherever it appears.
    public static func labels<T: Comparable & Sendable>(keys: [ProbeInputKey], pool: [T], seed: UInt64) -> [T] {
        precondition(!pool.isEmpty, "ControlTask: empty label pool")
        let sortedPool = pool.sorted()
        var cache: [ProbeInputKey: T] = [:]
        return keys.map { key in
            if let t = cache[key] { return t }
            var rng = RNG(seed: key.stableHash ^ (seed &* 0x9E37_79B9_7F4A_7C15))
            let t = sortedPool[rng.int(sortedPool.count)]
            cache[key] = t
            return t
        }
    }
}
