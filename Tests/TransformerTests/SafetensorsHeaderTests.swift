import Foundation
import Testing
import Tensors
import TestSupport
@testable import Transformer

/// Headers that lie about the data (issue 10): every one is a one-line error naming the file, never a
/// read outside the data area (which the release build, compiled without bounds checks, would not trap).
@Suite struct SafetensorsHeaderTests {
    let temp: TempDir
    let valid: Data

    init() throws {
        temp = try TempDir("st-header")
        let path = temp.path("valid.safetensors")
        try Checkpoint.save(tinyModel(), step: 5, run: "r", to: path)
        valid = try InputFile.read(path, atMost: 1 << 20)
    }

    /// The valid file with its header JSON changed by `edit` (and its length field `lengthDelta` off).
    func mutated(_ edit: (inout [String: Any]) -> Void, lengthDelta: Int = 0) throws -> Data {
        let n = Int(valid.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        var header = try #require(try JSONSerialization.jsonObject(with: valid.subdata(in: 8..<(8 + n))) as? [String: Any])
        edit(&header)
        var text = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while text.count % 8 != 0 { text.append(0x20) }
        var length = UInt64(text.count + lengthDelta).littleEndian
        var out = Data(bytes: &length, count: 8)
        out.append(text)
        out.append(valid.subdata(in: (8 + n)..<valid.count))
        return out
    }

    func expectRefused(_ data: Data, _ words: String, _ label: String) throws {
        let path = temp.path(label + ".safetensors")
        try data.write(to: URL(fileURLWithPath: path))
        do { _ = try Checkpoint.load(path); Issue.record("\(label): accepted") } catch {
            #expect(error.description.hasPrefix(path + ": "), "\(label): \(error)")
            #expect(error.description.contains(words), "\(label): \(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    func setOffsets(_ name: String, _ offsets: [Int]) -> (inout [String: Any]) -> Void {
        { h in var t = h[name] as! [String: Any]; t["data_offsets"] = offsets; h[name] = t }
    }

    func offsets(_ name: String) throws -> [Int] {
        let h = try Safetensors.readHeader(valid, path: "v")
        let t = try #require(h.tensors[name])
        return [t.begin, t.end]
    }

    @Test func theUnchangedRoundTripIsAccepted() throws {
        let path = temp.path("same.safetensors")
        try mutated { _ in }.write(to: URL(fileURLWithPath: path))
        #expect(try Checkpoint.load(path).step == 5)
    }

    @Test func offsetsOutsideTheDataAreErrors() throws {
        let o = try offsets("blocks.0.mlp.W_in")
        try expectRefused(try mutated(setOffsets("blocks.0.mlp.W_in", [-4, o[1] - o[0] - 4])), "data_offsets", "negative")
        try expectRefused(try mutated(setOffsets("blocks.0.mlp.W_in", [o[1], o[0]])), "data_offsets", "reversed")
        try expectRefused(try mutated(setOffsets("unembed.b_U", [o[0], o[0] + 1 << 40])), "ends at byte", "beyond")
    }

    @Test func overlappingOrGappedTensorsAreErrors() throws {
        let a = try offsets("blocks.0.mlp.W_in"), b = try offsets("blocks.0.mlp.b_in")
        // b_in laid over the start of W_in: same byte count, overlapping bytes.
        try expectRefused(try mutated(setOffsets("blocks.0.mlp.b_in", [a[0], a[0] + b[1] - b[0]])), "overlap", "overlap")
    }

    @Test func aHeaderLengthOffByOneIsAnError() throws {
        // One byte short: the data area starts one byte early (it would read a header byte as weights).
        try expectRefused(try mutated({ _ in }, lengthDelta: -1), "wrong header length", "short")
        // One byte long: the header swallows a data byte.
        let long = try mutated({ _ in }, lengthDelta: 1)
        let path = temp.path("long.safetensors")
        try long.write(to: URL(fileURLWithPath: path))
        #expect(throws: ModelError.self) { _ = try Checkpoint.load(path) }
    }

    @Test func impossibleShapesAreErrors() throws {
        func shape(_ s: [Int]) -> (inout [String: Any]) -> Void {
            { h in var t = h["unembed.b_U"] as! [String: Any]; t["shape"] = s; h["unembed.b_U"] = t }
        }
        try expectRefused(try mutated(shape([-11])), "impossible shape", "negative-dim")
        try expectRefused(try mutated(shape([1 << 40, 1 << 40])), "impossible shape", "huge")
    }

    /// Read no further than the header says (issue 10's fuzz suite: `lens eval /dev/zero` read until
    /// memory ran out); a header length of 0 or beyond the format's limit is refused at once.
    @Test func anEndlessOrAbsurdHeaderIsRefusedAfterEightBytes() throws {
        let e = #expect(throws: ModelError.self) { _ = try Safetensors.read(path: "/dev/zero") }
        #expect(e?.description == "/dev/zero: header length 0 is not between 1 and 100000000 (not a safetensors file?)")
        var huge = valid
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        try expectRefused(huge, "header length 1099511627776 is not between 1 and 100000000", "huge-header")
        let path = temp.path("exact.safetensors")
        try (valid + Data([1, 2, 3])).write(to: URL(fileURLWithPath: path))
        #expect(try Safetensors.read(path: path).count == valid.count + 1, "one byte past the data, so trailing bytes are seen")
    }

    @Test func aStepThatIsNotANumberIsAnError() throws {
        let bad = try mutated { h in var m = h["__metadata__"] as! [String: String]; m["step"] = "abc"; h["__metadata__"] = m }
        try expectRefused(bad, "metadata step \"abc\"", "step-abc")
    }
}
