import Foundation
import Testing
import TestSupport
@testable import HDF5

/// The binding reads what h5py (the Python users' writer) writes: attributes of every kind, chunked and
/// compressed datasets, variable-length strings.
@Suite struct H5InteropTests {
    @Test func swiftReadsWhatH5pyWrote() throws {
        let (probe, _, _) = try runPython(["-c", "import h5py"])
        try #require(probe == 0, "\(interopPython().python) cannot import h5py: run `apt-get install python3-h5py`")
        let dir = try TempDir("h5-interop")
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("py.h5")
        let script = #"""
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["s"] = "héllo"
    f.attrs["i"] = np.int64(-5)
    f.attrs["f"] = 2.5
    f.attrs["fixed"] = np.bytes_(b"abc")
    f.create_dataset("a/b", data=np.arange(24, dtype="f4").reshape(2, 3, 4), chunks=(1, 3, 4), compression="gzip", shuffle=True)
    f.create_dataset("strs", data=["x", "ÿ"], dtype=h5py.string_dtype())
"""#
        let (status, _, stderr) = try runPython(["-c", script, path])
        try #require(status == 0, "h5py script failed: \(stderr)")
        let f = try H5File.openReadOnly(path)
        #expect(try f.root.attribute("s") == .string("héllo"))
        #expect(try f.root.attribute("i") == .int64(-5))
        #expect(try f.root.attribute("f") == .float64(2.5))
        #expect(try f.root.attribute("fixed") == .string("abc"))
        let ds = try f.openDataset("a/b")
        #expect(try ds.isCompressed() && ds.chunkShape() == [1, 3, 4])
        #expect(try ds.read(rows: 1..<2, axis: 1, index: 2, as: Float.self) == [20, 21, 22, 23])
        #expect(try f.openDataset("strs").readStrings() == ["x", "ÿ"])
    }
}
