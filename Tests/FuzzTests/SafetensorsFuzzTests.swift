import Foundation
import Testing
import TestSupport

/// Checkpoints (safetensors) mutated every way issue 10 names, each read by `lens eval`.
/// Structural mutations must be refused. Where a mutation may leave a readable file (byte flips in the
/// header or the data), Python's `safetensors` is the oracle: a file it cannot load or that holds a
/// non-finite value must be refused; otherwise an accepted evaluation must equal lens's evaluation of
/// the oracle's own re-encoding of what it read (other tensor order, so other offsets).
@Suite struct SafetensorsFuzzTests {
    @Test func mutatedCheckpoints() throws {
        let fixture = try FuzzFixture.shared.get()
        // Cases sit two levels below a directory without run.json, so eval uses the default tasks.
        let dir = try fixture.scratch("safetensors") + "/cases"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let base = try CheckpointBytes(Data(contentsOf: URL(fileURLWithPath: fixture.checkpoint)))

        var needOracle: [Int] = []
        var cases = try Fuzz.generate("safetensors") { i, rng in
            let path = dir + "/case\(i).safetensors"
            let (name, bytes, expect) = Self.mutate(base, kind: i % Self.kinds, &rng)
            try bytes.write(to: URL(fileURLWithPath: path))
            if expect == nil { needOracle.append(i) }
            return FuzzCase(name: name, args: Self.eval(path), expect: expect ?? .either, mentions: [path], directory: dir)
        }
        try Self.consultOracle(&cases, indices: Set(needOracle), dir: dir)
        try Fuzz.run(family: "safetensors", test: "SafetensorsFuzzTests", cases)
    }

    static func eval(_ path: String) -> [String] {
        ["eval", path, "--tasks", "add", "--n", "4", "--json", "--threads", "1"]
    }

    static let kinds = 6

    /// Mutation `kind` of the valid checkpoint: its name, bytes, and .invalid when the file is invalid by
    /// construction or nil when only the oracle can tell.
    static func mutate(_ base: CheckpointBytes, kind: Int, _ rng: inout FuzzRNG) -> (String, Data, Expectation?) {
        let file = base.file
        switch kind {
        case 0:
            let cut = rng.int(0..<file.count)
            return ("truncate at \(cut) of \(file.count)", file.prefix(cut), .invalid)
        case 1:
            let n = UInt64(base.header.count)
            let length = rng.pick([n + 1, n - 1, 0, n + 8, UInt64(file.count), UInt64(file.count - 8), 1 << 40,
                                   UInt64.max, UInt64(rng.int(1..<Int(n))) | (1 << 33)])
            var bytes = file
            bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: length.littleEndian) { Data($0) })
            return ("header length \(length) (was \(n))", bytes, .invalid)
        case 2:
            var bytes = file
            let at = 8 + rng.int(0..<base.header.count)
            let mask = UInt8(rng.int(1..<256))
            bytes[at] ^= mask
            return ("header byte \(at) xor \(mask)", bytes, nil)
        case 3, 4:
            var json = base.json
            var data = base.data
            let name = JSONRewrite.apply(&json, &data, &rng)
            return ("header rewrite: \(name)", CheckpointBytes.encode(json, data), .invalid)
        default:
            var bytes = file
            let start = 8 + base.header.count
            if rng.int(0..<2) == 0 {
                let flips = (0..<rng.int(1..<4)).map { _ in (start + rng.int(0..<base.data.count), UInt8(1 << rng.int(0..<8))) }
                for (at, bit) in flips { bytes[at] ^= bit }
                return ("data bit flips \(flips.map { "\($0.0)^\($0.1)" }.joined(separator: ","))", bytes, nil)
            }
            let value = rng.pick([Float.nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0, 1e30])
            let at = start + 4 * rng.int(0..<(base.data.count / 4))
            bytes.replaceSubrange(at..<at + 4, with: withUnsafeBytes(of: value.bitPattern.littleEndian) { Data($0) })
            return ("float at byte \(at) set to \(value)", bytes, nil)
        }
    }

    /// Python's safetensors reads every file whose validity depends on its contents (python/fuzz_safetensors.py,
    /// one process for all): unreadable or non-finite means invalid; otherwise it re-encodes what it read
    /// beside the case, and an accepted evaluation must match lens's evaluation of that re-encoding.
    static func consultOracle(_ cases: inout [(Int, FuzzCase)], indices: Set<Int>, dir: String) throws {
        let paths = cases.filter { indices.contains($0.0) }.map { dir + "/case\($0.0).safetensors" }
        guard !paths.isEmpty else { return }
        let list = String(decoding: try JSONSerialization.data(withJSONObject: paths), as: UTF8.self)
        let r = try runPython([Repo.root + "/python/fuzz_safetensors.py"], input: Data(list.utf8))
        try #require(r.status == 0, "the safetensors oracle failed: \(r.err)")
        let verdicts = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: String])
        for k in cases.indices where indices.contains(cases[k].0) {
            let path = dir + "/case\(cases[k].0).safetensors"
            let verdict = verdicts[path] ?? "missing"
            cases[k].1.name += " [oracle: \(verdict)]"
            guard verdict == "finite" else { cases[k].1.expect = .invalid; continue }
            cases[k].1.expect = .oracle { r in sameEvaluation(r.out, of: path, as: path + ".oracle.safetensors") }
        }
    }


    /// nil when `output` (lens's JSON evaluation of `path`) equals lens's evaluation of the oracle's
    /// re-encoding, the checkpoint's own name aside.
    static func sameEvaluation(_ output: String, of path: String, as reencoded: String) -> String? {
        guard let r = try? Fuzz.watchdog(FuzzSettings.lens, eval(reencoded)), r.status == 0 else {
            return "accepted, but lens refused the oracle's re-encoding of the same tensors"
        }
        func normalised(_ text: String) -> String? {
            guard let entries = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else { return nil }
            let stripped = entries.map { $0.filter { $0.key != "checkpoint" } }
            return (try? JSONSerialization.data(withJSONObject: stripped, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
        }
        guard let mine = normalised(output), let oracle = normalised(r.out) else { return "output is not the JSON evaluation" }
        return mine == oracle ? nil : "evaluation differs from that of the oracle's reading: \(mine.prefix(200)) vs \(oracle.prefix(200))"
    }
}

/// A safetensors file split into its parts, and put back together.
struct CheckpointBytes: Sendable {
    let file: Data
    let header: Data
    let data: Data
    /// The header as JSON objects; a fresh copy on every read, for rewriting.
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: header) as? [String: Any]) ?? [:] }

    init(_ file: Data) throws {
        self.file = file
        let n = Int(file.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        header = file.subdata(in: 8..<8 + n)
        data = file.subdata(in: 8 + n..<file.count)
    }

    /// Header JSON padded with spaces to 8 bytes, as the format asks, then the data.
    static func encode(_ json: [String: Any], _ data: Data) -> Data {
        var header = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data("{}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) } + header + data
    }
}

/// Rewrites of a checkpoint header, each making the file invalid: offsets, dtypes, shapes, tensors,
/// metadata and the model config.
enum JSONRewrite {
    static func apply(_ json: inout [String: Any], _ data: inout Data, _ rng: inout FuzzRNG) -> String {
        let names = json.keys.filter { $0 != "__metadata__" }.sorted()
        let name = rng.pick(names)
        var t = json[name] as! [String: Any]
        let offsets = t["data_offsets"] as! [Int]
        let (begin, end) = (offsets[0], offsets[1])
        var meta = json["__metadata__"] as! [String: String]
        var config = (try? JSONSerialization.jsonObject(with: Data(meta["config"]!.utf8)) as? [String: Any]) ?? [:]
        let what: String
        switch rng.int(0..<13) {
        case 0:
            let k = rng.int(1..<65)
            t["data_offsets"] = [begin - k, end]; what = "\(name) begins at \(begin - k)"
        case 1:
            t["data_offsets"] = [end, begin]; what = "\(name) offsets reversed"
        case 2:
            let k = 4 * rng.int(1..<5)
            t["data_offsets"] = begin >= k ? [begin - k, end - k] : [begin + k, end + k]
            what = "\(name) shifted by \(k) bytes (overlap or gap)"
        case 3:
            let k = rng.pick([4, 8, 1 << 20, 1 << 40])
            t["data_offsets"] = rng.int(0..<2) == 0 ? [begin, end + k] : [begin + k, end + k]; what = "\(name) ends \(k) bytes late"
        case 4:
            let v: Any = rng.pick([[Double(begin) + 0.5, Double(end)], ["\(begin)", "\(end)"], [begin], [begin, end, end], NSNull()] as [Any])
            t["data_offsets"] = v; what = "\(name) data_offsets \(v)"
        case 5:
            let d = rng.pick(["F16", "BF16", "F64", "I32", "U8", "f32", "", "F32 "])
            t["dtype"] = d; what = "\(name) dtype \"\(d)\""
        case 6:
            var shape = t["shape"] as! [Int]
            let old = shape
            switch rng.int(0..<4) {
            case 0 where shape.count > 1 && shape[0] != shape[1]: shape.swapAt(0, 1)
            case 1: shape[0] = -shape[0]
            case 2: shape = []
            default: shape[shape.count - 1] += rng.pick([1, -1, 1 << 31])
            }
            if shape == old { shape.append(2) }
            t["shape"] = shape; what = "\(name) shape \(shape) (was \(old))"
        case 7:
            json[name] = nil
            data.removeSubrange(begin..<end)
            for other in names where other != name {
                var o = json[other] as! [String: Any]
                let off = o["data_offsets"] as! [Int]
                if off[0] >= end { o["data_offsets"] = [off[0] - (end - begin), off[1] - (end - begin)]; json[other] = o }
            }
            return "tensor \(name) removed"
        case 8:
            json["blocks.9.extra"] = ["dtype": "F32", "shape": [1], "data_offsets": [data.count, data.count + 4]] as [String: Any]
            data.append(contentsOf: [0, 0, 0, 0])
            return "extra tensor blocks.9.extra"
        case 9:
            let step = rng.pick(["abc", "-1", "1e3", "", "99999999999999999999", " 20", "20.0", "0x14"])
            meta["step"] = step; what = "metadata step \"\(step)\""
        case 10:
            let (key, value): (String, Any) = rng.pick([("d_model", 1 << 62), ("n_layers", 1_000_000_000), ("n_heads", 0),
                                                        ("d_vocab", -1), ("n_ctx", 1 << 40), ("act_fn", "bogus"), ("eps", 0),
                                                        ("d_model", 16.5), ("n_layers", 2), ("d_mlp", 1 << 33), ("eps", "x")])
            config[key] = value
            meta["config"] = String(decoding: try! JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
            what = "config \(key) = \(value)"
        case 11:
            let v = rng.pick(["not json", "{}", "[1]", "null"])
            meta["config"] = v; what = "config \"\(v)\""
        default:
            switch rng.int(0..<3) {
            case 0: meta["format"] = nil; what = "metadata format missing"
            case 1: meta["format"] = "emergence-lens.checkpoint/2"; what = "metadata format /2"
            default:
                var m: [String: Any] = meta
                m["step"] = 20
                json["__metadata__"] = m
                return "metadata step as a number"
            }
        }
        json[name] = t
        json["__metadata__"] = meta
        return what
    }
}
