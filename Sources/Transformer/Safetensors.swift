import Foundation
import Tensors

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// `{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}}`
/// padded with spaces to 8 bytes, then the raw little-endian data. Only F32 is written or read here.
public enum Safetensors {
    public struct Entry: Sendable { public let name: String; public let shape: [Int]; public let values: [Float] }

    /// The file's bytes; the header is written in a fixed order so the same tensors give the same bytes.
    public static func encode(_ entries: [Entry], metadata: [String: String]) -> Data {
        var header = "{\"__metadata__\":{"
        header += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
        header += "}"
        var offset = 0
        for e in entries {
            let bytes = e.values.count * 4
            header += ",\(jsonString(e.name)):{\"dtype\":\"F32\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],"
            header += "\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        while header.utf8.count % 8 != 0 { header += " " }
        var data = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.reserveCapacity(data.count + offset)
        for e in entries {
            e.values.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        }
        return data
    }

    /// The format's own limit on the header (safetensors refuses longer ones).
    public static let maxHeaderBytes = 100_000_000

    /// The bytes of a safetensors file, read no further than its header says the file reaches (and one
    /// byte more, so that trailing bytes still reach `readHeader`, which checks everything): an endless
    /// input such as /dev/zero is an error after its first 8 bytes, not a read until memory runs out.
    public static func read(path: String) throws(ModelError) -> Data {
        func fail(_ m: String) -> ModelError { .checkpoint(path: path, problem: m) }
        let file: InputFile.Reader
        do { file = try InputFile.Reader(path) } catch { throw fail(error.problem) }
        func next(_ count: Int) throws(ModelError) -> Data {
            do { return try file.read(upTo: count) } catch { throw fail(error.problem) }
        }
        var data = try next(8)
        guard data.count == 8 else { return data }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n > 0, n <= UInt64(maxHeaderBytes) else {
            throw fail("header length \(n) is not between 1 and \(maxHeaderBytes) (not a safetensors file?)")
        }
        data += try next(Int(n))
        guard data.count == 8 + Int(n),
              let json = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<data.count)) as? [String: Any] else { return data }
        // Where the header says the data ends (a lie is found by readHeader; here it only bounds the read).
        let end = json.values.compactMap { (($0 as? [String: Any])?["data_offsets"] as? [Int])?.last }.max() ?? 0
        data += try next(min(max(end, 0), Machine.workingSetBytes) + 1)
        return data
    }

    public struct Header: Sendable {
        public let metadata: [String: String]
        public let tensors: [String: (dtype: String, shape: [Int], begin: Int, end: Int)]
        public let dataStart: Int
    }

    /// Parses and checks the header against the file's size; every problem names the file.
    public static func readHeader(_ data: Data, path: String) throws(ModelError) -> Header {
        func fail(_ m: String) -> ModelError { .checkpoint(path: path, problem: m) }
        guard data.count >= 8 else { throw fail("not a safetensors file: \(data.count) bytes, too short for a header") }
        let n = data.prefix(8).withUnsafeBytes { raw in UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) }
        guard n > 0, n <= UInt64(data.count - 8) else {
            throw fail("header length \(n) exceeds the file size \(data.count) (truncated or not safetensors)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let json = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("header is not a JSON object (not a safetensors file?)")
        }
        var metadata: [String: String] = [:]
        var tensors: [String: (String, [Int], Int, Int)] = [:]
        for (key, value) in json {
            if key == "__metadata__" {
                guard let m = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String,
                  let shape = t["shape"] as? [Int], let offs = t["data_offsets"] as? [Int], offs.count == 2 else {
                throw fail("tensor \(key) has a malformed header entry")
            }
            tensors[key] = (dtype, shape, offs[0], offs[1])
        }
        // Every reader relies on these: offsets inside the data area, tensors that do not overlap, shapes
        // whose element count is a real number, so a bad header is an error and never a read out of bounds.
        let dataStart = 8 + Int(n)
        let dataBytes = data.count - dataStart
        // The format's rule: the tensors tile the data area in offset order, without holes or overlaps.
        var previous: (name: String, end: Int)?
        for (name, t) in tensors.sorted(by: { ($0.value.2, $0.key) < ($1.value.2, $1.key) }) {
            let (_, shape, begin, end) = t
            guard begin >= 0, begin <= end else { throw fail("tensor \(name) has data_offsets [\(begin), \(end)]") }
            guard end <= dataBytes else {
                throw fail("tensor \(name) ends at byte \(dataStart + end) but the file has \(data.count) bytes (truncated?)")
            }
            if let p = previous, begin < p.end { throw fail("tensors \(p.name) and \(name) overlap in the data") }
            guard begin == (previous?.end ?? 0) else { throw fail("tensor \(name) starts at data byte \(begin), after a gap") }
            guard let count = elementCount(shape) else { throw fail("tensor \(name) has an impossible shape \(shape)") }
            if t.0 == "F32" && end - begin != count * 4 {
                throw fail("tensor \(name) holds \(end - begin) bytes, shape \(shape) needs \(count * 4)")
            }
            previous = (name, end)
        }
        let covered = previous?.end ?? 0
        guard covered == dataBytes else {
            throw fail("the data area holds \(dataBytes) bytes but the header's tensors cover \(covered) (wrong header length?)")
        }
        return Header(metadata: metadata, tensors: tensors, dataStart: dataStart)
    }

    /// The number of elements of a shape, or nil when a dimension is negative or the count (as bytes of
    /// F32) would not fit in memory's address range.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Int.max / 4 else { return nil }
            count = product
        }
        return count
    }

    /// Reads one F32 tensor, checking dtype and byte count.
    public static func floats(_ data: Data, _ header: Header, _ name: String, path: String) throws(ModelError) -> (shape: [Int], values: [Float]) {
        guard let t = header.tensors[name] else { throw .checkpoint(path: path, problem: "missing tensor \(name)") }
        guard t.dtype == "F32" else { throw .checkpoint(path: path, problem: "tensor \(name) has dtype \(t.dtype), expected F32") }
        guard let count = elementCount(t.shape), t.end - t.begin == count * 4 else {
            throw .checkpoint(path: path, problem: "tensor \(name) holds \(t.end - t.begin) bytes, not what shape \(t.shape) needs")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(header.dataStart + t.begin)..<(header.dataStart + t.end)]))
            }
        }
        return (t.shape, values)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
