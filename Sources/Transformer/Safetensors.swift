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
        let dataStart = 8 + Int(n)
        for (name, t) in tensors.sorted(by: { $0.key < $1.key }) where t.3 < t.2 || dataStart + t.3 > data.count {
            throw fail("tensor \(name) ends at byte \(dataStart + t.3) but the file has \(data.count) bytes (truncated?)")
        }
        return Header(metadata: metadata, tensors: tensors, dataStart: dataStart)
    }

    /// Reads one F32 tensor, checking dtype and byte count.
    public static func floats(_ data: Data, _ header: Header, _ name: String, path: String) throws(ModelError) -> (shape: [Int], values: [Float]) {
        guard let t = header.tensors[name] else { throw .checkpoint(path: path, problem: "missing tensor \(name)") }
        guard t.dtype == "F32" else { throw .checkpoint(path: path, problem: "tensor \(name) has dtype \(t.dtype), expected F32") }
        let count = t.shape.reduce(1, *)
        guard t.end - t.begin == count * 4 else {
            throw .checkpoint(path: path, problem: "tensor \(name) holds \(t.end - t.begin) bytes, shape \(t.shape) needs \(count * 4)")
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
