import CHDF5
import Foundation

/// An open HDF5 dataset: shape, dtype, and row-wise (first axis) hyperslab reads and writes.
public final class H5Dataset: H5Node, @unchecked Sendable {
    init(id: hid_t, ctx: H5Context) { super.init(id: id, ctx: ctx, closer: H5Dclose) }

    /// Rows per chunk when the caller does not choose: chunks of at most 1 MiB, at most 1024 rows.
    static func autoChunkRows(rowBytes: Int) -> Int {
        max(1, min(1024, (1 << 20) / max(1, rowBytes)))
    }

    /// The current extent.
    public func shape() throws -> [Int] { try extents().current }

    /// The maximum extent per axis; nil means unlimited.
    public func maxShape() throws -> [Int?] {
        try extents().max.map { $0 == HDF5.UNLIMITED ? nil : Int($0) }
    }

    private func extents() throws -> (current: [Int], max: [hsize_t]) {
        try HDF5.locked {
            try requireOpen()
            let space = try ctx.check(H5Dget_space(id), "cannot get dataspace")
            defer { h5close(space, H5Sclose) }
            let rank = Int(try ctx.check(H5Sget_simple_extent_ndims(space), "cannot get rank"))
            var dims = [hsize_t](repeating: 0, count: rank)
            var maxDims = [hsize_t](repeating: 0, count: rank)
            try ctx.check(H5Sget_simple_extent_dims(space, &dims, &maxDims), "cannot get shape")
            return (dims.map { Int($0) }, maxDims)
        }
    }

    public func dtype() throws -> H5DType {
        try HDF5.locked {
            try requireOpen()
            let t = try ctx.check(H5Dget_type(id), "cannot get datatype")
            defer { h5close(t, H5Tclose) }
            return H5DType.of(type: t)
        }
    }

    /// The chunk shape, or nil for a contiguous (or compact) dataset.
    public func chunkShape() throws -> [Int]? {
        try HDF5.locked {
            try requireOpen()
            let dcpl = try ctx.check(H5Dget_create_plist(id), "cannot get creation properties")
            defer { h5close(dcpl, H5Pclose) }
            guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
            var dims = [hsize_t](repeating: 0, count: 32)
            let rank = try ctx.check(H5Pget_chunk(dcpl, 32, &dims), "cannot get chunk shape")
            return dims.prefix(Int(rank)).map { Int($0) }
        }
    }

    /// True if the gzip (deflate) filter is in the dataset's pipeline.
    public func isCompressed() throws -> Bool {
        try HDF5.locked {
            try requireOpen()
            let dcpl = try ctx.check(H5Dget_create_plist(id), "cannot get creation properties")
            defer { h5close(dcpl, H5Pclose) }
            let n = H5Pget_nfilters(dcpl)
            for i in 0..<max(0, n) {
                var flags: UInt32 = 0
                var nelmts = 0
                var config: UInt32 = 0
                if H5Pget_filter2(dcpl, UInt32(i), &flags, &nelmts, nil, 0, nil, &config) == H5Z_FILTER_DEFLATE {
                    return true
                }
            }
            return false
        }
    }

    /// Sets the number of rows (first axis) of an extendible dataset.
    public func setRows(_ rows: Int) throws {
        try HDF5.locked {
            var dims = try shape().map { hsize_t($0) }
            guard !dims.isEmpty else { throw ctx.error("cannot resize a scalar dataset") }
            dims[0] = hsize_t(rows)
            try ctx.check(H5Dset_extent(id, &dims), "cannot resize to \(rows) rows")
        }
    }

    // MARK: selections

    /// Runs `body(memSpace, fileSpace)` on the hyperslab `start ..< start + count` (per axis).
    @discardableResult
    private func withSlab<T>(start: [Int], count: [Int], _ body: (hid_t, hid_t) throws -> T) throws -> T {
        try HDF5.locked {
            try requireOpen()
            let what = "cannot select [\(zip(start, count).map { "\($0)..<\($0 + $1)" }.joined(separator: ", "))]"
            let fileSpace = try ctx.check(H5Dget_space(id), what)
            defer { h5close(fileSpace, H5Sclose) }
            var dims = [hsize_t](repeating: 0, count: start.count)
            let rank = try ctx.check(H5Sget_simple_extent_ndims(fileSpace), what)
            guard Int(rank) == start.count else {
                throw ctx.error("\(what): dataset has rank \(rank), selection has rank \(start.count)")
            }
            try ctx.check(H5Sget_simple_extent_dims(fileSpace, &dims, nil), what)
            for a in 0..<start.count where start[a] < 0 || count[a] < 0 || start[a] + count[a] > Int(dims[a]) {
                throw ctx.error("\(what): out of bounds for shape \(dims.map { Int($0) })")
            }
            var s = start.map { hsize_t($0) }
            var c = count.map { hsize_t($0) }
            try ctx.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &s, nil, &c, nil), what)
            let memSpace = try ctx.check(H5Screate_simple(Int32(c.count), &c, nil), what)
            defer { h5close(memSpace, H5Sclose) }
            return try body(memSpace, fileSpace)
        }
    }

    private func requireType(_ expected: H5DType) throws {
        let t = try dtype()
        guard t == expected else { throw ctx.error("dtype is \(t), expected \(expected)") }
    }

    // MARK: numeric I/O

    /// Writes `values` (row-major) into rows `rows` (all other axes whole). An extendible dataset grows
    /// to fit; a fixed one must already be large enough.
    public func write<T: H5Element>(rows: Range<Int>, _ values: [T]) throws {
        try HDF5.locked {
            try requireType(T.h5DType)
            var shape = try shape()
            let rowCount = shape.dropFirst().reduce(1, *)
            guard values.count == rows.count * rowCount else {
                throw ctx.error("write of rows \(rows) needs \(rows.count * rowCount) values, got \(values.count)")
            }
            if rows.isEmpty { return }
            if rows.upperBound > shape[0], try maxShape()[0] == nil {
                try setRows(rows.upperBound)
                shape[0] = rows.upperBound
            }
            try withSlab(start: [rows.lowerBound] + shape.dropFirst().map { _ in 0 },
                         count: [rows.count] + shape.dropFirst()) { mem, file in
                try values.withUnsafeBufferPointer { buf in
                    try ctx.check(H5Dwrite(id, T.h5MemoryType, mem, file, HDF5.P_DEFAULT, buf.baseAddress),
                                  "cannot write rows \(rows)")
                }
            }
        }
    }

    /// Reads the hyperslab `start ..< start + count` (row-major). The dtype must match `T` exactly.
    public func read<T: H5Element>(start: [Int], count: [Int], as: T.Type = T.self) throws -> [T] {
        try HDF5.locked {
            try requireType(T.h5DType)
            let total = count.reduce(1, *)
            var out = [T](repeating: T.zero, count: total)
            if total == 0 {
                _ = try withSlab(start: start, count: count) { _, _ in () } // still checks bounds
                return out
            }
            try withSlab(start: start, count: count) { mem, file in
                try out.withUnsafeMutableBufferPointer { buf in
                    try ctx.check(H5Dread(id, T.h5MemoryType, mem, file, HDF5.P_DEFAULT, buf.baseAddress),
                                  "cannot read")
                }
            }
            return out
        }
    }

    /// Reads rows `rows` (all other axes whole).
    public func read<T: H5Element>(rows: Range<Int>, as: T.Type = T.self) throws -> [T] {
        try HDF5.locked {
            let shape = try shape()
            return try read(start: [rows.lowerBound] + shape.dropFirst().map { _ in 0 },
                            count: [rows.count] + shape.dropFirst())
        }
    }

    /// Reads rows `rows` at a single `index` along `axis` (> 0): for a [N, T, d] dataset,
    /// `read(rows: r, axis: 1, index: p)` is `ds[r, p, :]`, shape [r.count, d].
    public func read<T: H5Element>(rows: Range<Int>, axis: Int, index: Int, as: T.Type = T.self) throws -> [T] {
        try HDF5.locked {
            let shape = try shape()
            guard axis > 0, axis < shape.count else { throw ctx.error("axis \(axis) out of range for shape \(shape)") }
            var start = shape.map { _ in 0 }
            var count = shape
            start[0] = rows.lowerBound; count[0] = rows.count
            start[axis] = index; count[axis] = 1
            return try read(start: start, count: count)
        }
    }

    /// Reads the whole dataset.
    public func readAll<T: H5Element>(as: T.Type = T.self) throws -> [T] {
        try HDF5.locked {
            let shape = try shape()
            return try read(start: shape.map { _ in 0 }, count: shape)
        }
    }

    // MARK: strings (1-d, variable-length UTF-8)

    /// Writes strings into rows `rows` of a 1-d variable-length string dataset.
    public func write(rows: Range<Int>, strings: [String]) throws {
        try HDF5.locked {
            try requireType(.string)
            var shape = try shape()
            guard shape.count == 1 else { throw ctx.error("string datasets must be 1-d, shape is \(shape)") }
            guard strings.count == rows.count else {
                throw ctx.error("write of rows \(rows) needs \(rows.count) strings, got \(strings.count)")
            }
            if rows.isEmpty { return }
            if rows.upperBound > shape[0], try maxShape()[0] == nil {
                try setRows(rows.upperBound)
                shape[0] = rows.upperBound
            }
            let memType = try ctx.check(makeUTF8StringType(), "cannot make string type")
            defer { h5close(memType, H5Tclose) }
            let ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
            defer { ptrs.forEach { free($0) } }
            try withSlab(start: [rows.lowerBound], count: [rows.count]) { mem, file in
                try ptrs.withUnsafeBufferPointer { buf in
                    try ctx.check(H5Dwrite(id, memType, mem, file, HDF5.P_DEFAULT, buf.baseAddress),
                                  "cannot write strings \(rows)")
                }
            }
        }
    }

    /// Reads rows `rows` of a 1-d variable-length string dataset (nil rows: all).
    public func readStrings(rows: Range<Int>? = nil) throws -> [String] {
        try HDF5.locked {
            try requireType(.string)
            let shape = try shape()
            guard shape.count == 1 else { throw ctx.error("string datasets must be 1-d, shape is \(shape)") }
            let r = rows ?? 0..<shape[0]
            let memType = try ctx.check(makeUTF8StringType(), "cannot make string type")
            defer { h5close(memType, H5Tclose) }
            return try withSlab(start: [r.lowerBound], count: [r.count]) { mem, file in
                if r.isEmpty { return [] }
                var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: r.count)
                try ctx.check(H5Dread(id, memType, mem, file, HDF5.P_DEFAULT, &ptrs), "cannot read strings")
                let out = ptrs.map { $0.map { String(cString: $0) } ?? "" }
                _ = H5Dvlen_reclaim(memType, mem, HDF5.P_DEFAULT, &ptrs)
                return out
            }
        }
    }
}
