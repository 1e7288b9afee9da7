import CHDF5
import Foundation

/// What a group member is.
public enum H5MemberKind: String, Codable, Sendable {
    case group, dataset, other
}

/// An open HDF5 group. Paths given to its methods may be relative (`labels/x`) or absolute (`/labels/x`).
public final class H5Group: H5Node, @unchecked Sendable {
    init(id: hid_t, ctx: H5Context) { super.init(id: id, ctx: ctx, closer: H5Gclose) }

    /// True if every component of `path` exists (as a link) below this group.
    public func exists(_ path: String) throws -> Bool {
        try HDF5.locked {
            try requireOpen()
            var prefix = path.hasPrefix("/") ? "/" : ""
            for part in path.split(separator: "/") {
                prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
                let r = try child(prefix).check(H5Lexists(id, prefix, HDF5.P_DEFAULT), "cannot look up link")
                if r == 0 { return false }
            }
            return true
        }
    }

    /// Creates a group, with any missing intermediate groups (`labels/x/y`).
    @discardableResult
    public func createGroup(_ path: String) throws -> H5Group {
        try HDF5.locked {
            try requireOpen()
            let c = child(path)
            let lcpl = try c.check(H5Pcreate(lens_h5p_link_create()), "cannot create group")
            defer { h5close(lcpl, H5Pclose) }
            try c.check(H5Pset_create_intermediate_group(lcpl, 1), "cannot create group")
            // No modification times in the group's header either (as for datasets): the same groups written
            // twice, or by a Slurm job and by a local run, give the same bytes.
            let gcpl = try c.check(H5Pcreate(lens_h5p_group_create()), "cannot create group")
            defer { h5close(gcpl, H5Pclose) }
            try c.check(H5Pset_obj_track_times(gcpl, false), "cannot create group")
            let gid = try c.check(H5Gcreate2(id, path, lcpl, gcpl, HDF5.P_DEFAULT), "cannot create group")
            return H5Group(id: gid, ctx: c)
        }
    }

    public func openGroup(_ path: String) throws -> H5Group {
        try HDF5.locked {
            try requireOpen()
            let c = child(path)
            guard try exists(path) else { throw c.error("group is missing") }
            let gid = try c.check(H5Gopen2(id, path, HDF5.P_DEFAULT), "cannot open group")
            return H5Group(id: gid, ctx: c)
        }
    }

    /// Opens the group at `path`, creating it (and its parents) if it does not exist.
    public func requireGroup(_ path: String) throws -> H5Group {
        try exists(path) ? openGroup(path) : createGroup(path)
    }

    /// Names of the group's direct members, in name order.
    public func memberNames() throws -> [String] {
        try HDF5.locked {
            try requireOpen()
            var names: [String] = []
            var idx: hsize_t = 0
            _ = try withUnsafeMutablePointer(to: &names) { ptr in
                try ctx.check(H5Literate(id, H5_INDEX_NAME, H5_ITER_INC, &idx, { _, name, _, data in
                    guard let name, let data else { return -1 }
                    data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, ptr), "cannot list group members")
            }
            return names
        }
    }

    /// The group's direct members with their kinds, in name order.
    public func members() throws -> [(name: String, kind: H5MemberKind)] {
        try HDF5.locked {
            try memberNames().map { name in
                let c = child(name)
                let oid = try c.check(H5Oopen(id, name, HDF5.P_DEFAULT), "cannot open object")
                defer { _ = H5Oclose(oid) }
                let t = H5Iget_type(oid)
                return (name, t == H5I_GROUP ? .group : t == H5I_DATASET ? .dataset : .other)
            }
        }
    }

    /// Creates a dataset.
    /// - shape: the initial extent; `shape[0]` is the row (example) axis.
    /// - extendible: the row axis may grow later (maxshape `None` in h5py); other axes are fixed.
    /// - chunkRows: chunk the dataset as `[chunkRows, shape[1...]]`; required (chosen automatically when
    ///   nil) for extendible or compressed datasets, contiguous layout otherwise.
    /// - compress: gzip level 4 with the shuffle filter first (h5py's `compression="gzip", shuffle=True`).
    public func createDataset(_ path: String, dtype: H5DType, shape: [Int], extendible: Bool = false,
                              chunkRows: Int? = nil, compress: Bool = false) throws -> H5Dataset {
        try HDF5.locked {
            try requireOpen()
            let c = child(path)
            let what = "cannot create dataset"
            guard !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }) else {
                throw c.error("\(what): bad shape \(shape)")
            }
            let rowBytes = shape.dropFirst().reduce(1, *) * (dtype == .string ? 16 : 4)
            var rows = chunkRows
            if rows == nil && (extendible || compress) { rows = H5Dataset.autoChunkRows(rowBytes: rowBytes) }
            var dims = shape.map { hsize_t($0) }
            var maxDims = dims
            if extendible { maxDims[0] = HDF5.UNLIMITED }
            let space = try c.check(H5Screate_simple(Int32(dims.count), &dims, &maxDims), what)
            defer { h5close(space, H5Sclose) }
            let fileType = try c.check(dtype.makeFileType(), "\(what): unsupported dtype \(dtype)")
            defer { h5close(fileType, H5Tclose) }
            let dcpl = try c.check(H5Pcreate(lens_h5p_dataset_create()), what)
            defer { h5close(dcpl, H5Pclose) }
            // No modification times in the object header: the same data written twice gives the same bytes.
            try c.check(H5Pset_obj_track_times(dcpl, false), what)
            var dapl = HDF5.P_DEFAULT
            if let rows {
                guard rows > 0, shape.dropFirst().allSatisfy({ $0 > 0 }) else {
                    throw c.error("\(what): cannot chunk shape \(shape) by \(rows) rows")
                }
                // Along a fixed row axis a chunk may not be longer than the axis.
                let r = extendible ? rows : max(1, min(rows, shape[0]))
                if !extendible && shape[0] == 0 { throw c.error("\(what): a fixed, empty row axis cannot be chunked") }
                var chunk = [hsize_t(r)] + shape.dropFirst().map { hsize_t($0) }
                try c.check(H5Pset_chunk(dcpl, Int32(chunk.count), &chunk), what)
                if compress {
                    try c.check(H5Pset_shuffle(dcpl), what)
                    try c.check(H5Pset_deflate(dcpl, 4), what)
                }
                if compress {
                    // Keep a few chunks in the cache so that batches that do not line up with chunks do not
                    // recompress a chunk per batch (the default cache is 1 MiB). Uncompressed chunks are
                    // better off bypassing the cache: HDF5 then writes partial chunks in place, no copy.
                    dapl = try c.check(H5Pcreate(lens_h5p_dataset_access()), what)
                    try c.check(H5Pset_chunk_cache(dapl, 1009, max(1 << 20, 3 * r * rowBytes), 0.75), what)
                }
            } else if compress {
                throw c.error("\(what): compression needs chunking")
            }
            defer { if dapl != HDF5.P_DEFAULT { h5close(dapl, H5Pclose) } }
            let lcpl = try c.check(H5Pcreate(lens_h5p_link_create()), what)
            defer { h5close(lcpl, H5Pclose) }
            try c.check(H5Pset_create_intermediate_group(lcpl, 1), what)
            let did = try c.check(H5Dcreate2(id, path, fileType, space, lcpl, dcpl, dapl), what)
            return H5Dataset(id: did, ctx: c)
        }
    }

    public func openDataset(_ path: String) throws -> H5Dataset {
        try HDF5.locked {
            try requireOpen()
            let c = child(path)
            guard try exists(path) else { throw c.error("dataset is missing") }
            let oid = try c.check(H5Oopen(id, path, HDF5.P_DEFAULT), "cannot open dataset")
            let isDataset = H5Iget_type(oid) == H5I_DATASET
            _ = H5Oclose(oid)
            guard isDataset else { throw c.error("is not a dataset") }
            let did = try c.check(H5Dopen2(id, path, HDF5.P_DEFAULT), "cannot open dataset")
            return H5Dataset(id: did, ctx: c)
        }
    }
}

/// An open HDF5 file. Create (truncating) or open read-only; closes on `close()` or deinit.
/// `@unchecked Sendable` for the same reason as `H5Node`: immutable identifiers, all calls under the lock.
public final class H5File: @unchecked Sendable {
    public let path: String
    /// The root group `/`.
    public let root: H5Group
    private let id: hid_t
    private var isOpen = true
    /// Opened read-only: a crash inside libhdf5 while it is open names it (HDF5.startReading).
    private let readOnly: Bool

    private init(path: String, id: hid_t, readOnly: Bool) throws {
        self.path = path
        self.id = id
        self.readOnly = readOnly
        let ctx = H5Context(file: path, object: "/")
        let gid = try HDF5.locked { try ctx.check(H5Gopen2(id, "/", HDF5.P_DEFAULT), "cannot open root group") }
        root = H5Group(id: gid, ctx: ctx)
    }

    /// Creates a new file, truncating any existing one.
    public static func create(_ path: String) throws -> H5File {
        try HDF5.locked {
            let ctx = H5Context(file: path, object: "")
            let fid = try ctx.check(H5Fcreate(path, lens_h5f_acc_trunc(), HDF5.P_DEFAULT, HDF5.P_DEFAULT),
                                    "cannot create HDF5 file")
            do { return try H5File(path: path, id: fid, readOnly: false) } catch { _ = H5Fclose(fid); throw error }
        }
    }

    /// Opens an existing file read-only. A missing, non-HDF5 or truncated file gives one clear error.
    public static func openReadOnly(_ path: String) throws -> H5File {
        try HDF5.locked {
            let ctx = H5Context(file: path, object: "")
            guard FileManager.default.fileExists(atPath: path) else { throw ctx.error("no such file") }
            HDF5.startReading(path)
            do {
                let isH5 = H5Fis_hdf5(path)
                if isH5 < 0 { throw ctx.error("cannot read file", reason: HDF5.takeError()) }
                if isH5 == 0 { throw ctx.error("not an HDF5 file (no HDF5 signature)") }
                let fid = try ctx.check(H5Fopen(path, lens_h5f_acc_rdonly(), HDF5.P_DEFAULT),
                                        "cannot open HDF5 file (damaged or truncated?)")
                do { return try H5File(path: path, id: fid, readOnly: true) } catch { _ = H5Fclose(fid); throw error }
            } catch {
                HDF5.stopReading(path)
                throw error
            }
        }
    }

    /// Flushes buffered data to disk.
    public func flush() throws {
        try HDF5.locked {
            guard isOpen else { return }
            try H5Context(file: path, object: "").check(H5Fflush(id, H5F_SCOPE_GLOBAL), "cannot flush file")
        }
    }

    /// Closes the root group and the file. Datasets and groups still open keep the file open until
    /// they are closed too (HDF5's weak close degree), so close them first when the file must be complete.
    public func close() throws {
        try HDF5.locked {
            guard isOpen else { return }
            isOpen = false
            defer { if readOnly { HDF5.stopReading(path) } }
            root.close()
            try H5Context(file: path, object: "").check(H5Fclose(id), "cannot close file")
        }
    }

    deinit { try? close() }

    // Conveniences forwarding to the root group.
    public func createGroup(_ path: String) throws -> H5Group { try root.createGroup(path) }
    public func openGroup(_ path: String) throws -> H5Group { try root.openGroup(path) }
    public func openDataset(_ path: String) throws -> H5Dataset { try root.openDataset(path) }
    public func exists(_ path: String) throws -> Bool { try root.exists(path) }
}
