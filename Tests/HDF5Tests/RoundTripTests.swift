import Foundation
import Testing
import TestSupport
@testable import HDF5

/// The binding alone: datasets, attributes, groups and errors, written and read back with no file format on top.
@Suite struct H5RoundTripTests {
    @Test func hyperslabsAcrossCompressedChunks() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let f = try H5File.create(dir.path("g.h5"))
        let ds = try f.root.createDataset("/activations/blocks.0.hook_resid_post", dtype: .float32,
                                          shape: [10, 4, 2], extendible: true, chunkRows: 3, compress: true)
        let vals = (0..<80).map { Float($0) }
        try ds.write(rows: 0..<10, vals)
        let want: [Float] = (4..<9).flatMap { (r: Int) -> [Float] in [Float(r * 8 + 4), Float(r * 8 + 5)] }
        let got: [Float] = try ds.read(rows: 4..<9, axis: 1, index: 2)
        #expect(got == want)
        #expect(try ds.read(start: [9, 3, 1], count: [1, 1, 1]) == [Float(79)])
    }

    /// Flags are stored as unsigned bytes (h5py: uint8), with no other dtype read into them.
    @Test func unsignedBytesRoundTrip() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("u8.h5")
        do {
            let f = try H5File.create(path)
            try f.root.createDataset("flags", dtype: .uint8, shape: [4]).write(rows: 0..<4, [UInt8(0), 1, 255, 1])
            try f.root.createDataset("ints", dtype: .int32, shape: [1]).write(rows: 0..<1, [Int32(1)])
            try f.close()
        }
        let f = try H5File.openReadOnly(path)
        let flags = try f.openDataset("flags")
        #expect(try flags.dtype() == .uint8 && flags.shape() == [4])
        #expect(try flags.readAll(as: UInt8.self) == [0, 1, 255, 1])
        let e = #expect(throws: HDF5Error.self) { try f.openDataset("ints").readAll(as: UInt8.self) }
        #expect(e?.description == "\(path): /ints: dtype is int32, expected uint8")
        let (probe, _, _) = try runPython(["-c", "import h5py"])
        try #require(probe == 0, "\(interopPython().python) cannot import h5py: run `apt-get install python3-h5py`")
        let py = try runPython(["-c", "import sys, h5py; d = h5py.File(sys.argv[1])['flags']; print(d.dtype, d[:].tolist())", path])
        #expect(py.out == "uint8 [0, 1, 255, 1]\n", "\(py.err)")
    }

    @Test func wrapperTypesAttributesAndGroups() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("w.h5")
        do {
            let f = try H5File.create(path)
            let g = try f.createGroup("/labels/x/y")
            #expect(g.path == "/labels/x/y")
            try g.setAttribute("s", .string("héllo → 世界"))
            try g.setAttribute("i64", .int64(-9_000_000_000))
            try g.setAttribute("i32", .int32(-7))
            try g.setAttribute("f64", .float64(0.1))
            try g.setAttribute("s", .string("replaced ✓"))
            let i = try f.root.createDataset("/data/ints", dtype: .int32, shape: [2, 3, 4])
            try i.write(rows: 0..<2, (0..<24).map { Int32($0 - 12) })
            let s = try f.root.createDataset("/data/strings", dtype: .string, shape: [0], extendible: true)
            try s.write(rows: 0..<2, strings: ["", "ünï"])
            try s.write(rows: 2..<3, strings: ["三"])
            #expect(throws: HDF5Error.self) { try i.write(rows: 0..<1, [Float](repeating: 0, count: 12)) }
            #expect(throws: HDF5Error.self) { try i.write(rows: 1..<3, [Int32](repeating: 0, count: 24)) }
            try f.close()
        }
        let f = try H5File.openReadOnly(path)
        #expect(try f.root.memberNames() == ["data", "labels"])
        #expect(try f.openGroup("/labels").members().map { "\($0.name):\($0.kind)" } == ["x:group"])
        #expect(try f.openGroup("/data").members().map { "\($0.name):\($0.kind)" } == ["ints:dataset", "strings:dataset"])
        let g = try f.openGroup("labels/x/y")
        #expect(try g.attributeNames() == ["f64", "i32", "i64", "s"])
        #expect(try g.attribute("s") == .string("replaced ✓"))
        #expect(try g.attribute("i64") == .int64(-9_000_000_000))
        #expect(try g.attribute("i32") == .int32(-7))
        #expect(try g.attribute("f64") == .float64(0.1))
        let i = try f.openDataset("/data/ints")
        #expect(try i.shape() == [2, 3, 4] && i.dtype() == .int32 && i.chunkShape() == nil)
        #expect(try i.maxShape() == [2, 3, 4])
        let ints: [Int32] = (0..<24).map { Int32($0 - 12) }
        #expect(try i.readAll(as: Int32.self) == ints)
        #expect(try i.read(start: [1, 1, 2], count: [1, 2, 2], as: Int32.self) == [6, 7, 10, 11])
        let want: [Int32] = [3, 7, 11, 15, 19, 23].map { Int32($0 - 12) }
        #expect(try i.read(rows: 0..<2, axis: 2, index: 3, as: Int32.self) == want)
        let s = try f.openDataset("/data/strings")
        #expect(try s.maxShape() == [nil])
        #expect(try s.readStrings() == ["", "ünï", "三"])
        #expect(try s.readStrings(rows: 1..<3) == ["ünï", "三"])
        // Errors carry file, object and reason.
        let e1 = #expect(throws: HDF5Error.self) { try i.readAll(as: Float.self) }
        #expect(e1?.description == "\(path): /data/ints: dtype is int32, expected float32")
        let e2 = #expect(throws: HDF5Error.self) { try i.read(rows: 1..<3, as: Int32.self) }
        #expect(e2?.description.contains("out of bounds") == true)
        let e3 = #expect(throws: HDF5Error.self) { try f.openDataset("/nope/x") }
        #expect(e3?.description == "\(path): /nope/x: dataset is missing")
        let e4 = #expect(throws: HDF5Error.self) { try g.attribute("nope") }
        #expect(e4?.description.contains("attribute 'nope' is missing") == true)
        // A failure inside HDF5 carries HDF5's reason: creating in a read-only file.
        let e5 = #expect(throws: HDF5Error.self) { try f.createGroup("/new") }
        #expect(e5?.reason?.isEmpty == false)
        #expect(e5.map { !$0.description.contains("\n") } == true)
    }
}
