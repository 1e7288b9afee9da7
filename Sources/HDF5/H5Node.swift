import CHDF5
import Foundation

/// An open HDF5 object (group or dataset) that closes its identifier exactly once: on `close()` or deinit.
///
/// `@unchecked Sendable` is safe because the stored identifier and context never change, the one mutable
/// flag (`isOpen`) is only read and written under the global HDF5 lock, and every HDF5 call the object
/// makes goes through that same lock (see `HDF5.locked`), so two threads can never be inside HDF5 at once.
public class H5Node: @unchecked Sendable {
    let id: hid_t
    let ctx: H5Context
    private let closer: (hid_t) -> herr_t
    private var isOpen = true

    init(id: hid_t, ctx: H5Context, closer: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.ctx = ctx
        self.closer = closer
    }

    /// The file this object lives in, as the caller named it.
    public var fileName: String { ctx.file }
    /// The object's absolute path inside the file.
    public var path: String { ctx.object }

    /// An error about this object in the binding's one-line form (`file: object: problem`), for the file
    /// formats built on the binding to report what they find wrong with it.
    public func error(_ problem: String) -> HDF5Error { ctx.error(problem) }

    /// Closes the identifier now (idempotent). Later calls on this object fail with an error.
    public func close() {
        HDF5.locked {
            if isOpen { _ = closer(id); isOpen = false }
        }
    }

    deinit { close() }

    /// Throws unless the object is still open. Call with the lock held.
    func requireOpen() throws {
        if !isOpen { throw ctx.error("object is closed") }
    }

    func child(_ name: String) -> H5Context {
        let base = ctx.object == "/" ? "" : ctx.object
        let joined = name.hasPrefix("/") ? name : base + "/" + name
        return H5Context(file: ctx.file, object: joined)
    }

    // MARK: attributes

    /// Names of this object's attributes, in name order.
    public func attributeNames() throws -> [String] {
        try HDF5.locked {
            try requireOpen()
            var names: [String] = []
            var idx: hsize_t = 0
            _ = try withUnsafeMutablePointer(to: &names) { ptr in
                try ctx.check(H5Aiterate2(id, H5_INDEX_NAME, H5_ITER_INC, &idx, { _, name, _, data in
                    guard let name, let data else { return -1 }
                    data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, ptr), "cannot list attributes")
            }
            return names
        }
    }

    public func hasAttribute(_ name: String) throws -> Bool {
        try HDF5.locked {
            try requireOpen()
            return try ctx.check(H5Aexists(id, name), "cannot check attribute '\(name)'") > 0
        }
    }

    /// Writes (or replaces) a scalar attribute. Strings are variable-length UTF-8, so h5py returns `str`.
    public func setAttribute(_ name: String, _ value: H5AttributeValue) throws {
        try HDF5.locked {
            try requireOpen()
            let what = "cannot write attribute '\(name)'"
            if try ctx.check(H5Aexists(id, name), what) > 0 {
                try ctx.check(H5Adelete(id, name), what)
            }
            let space = try ctx.check(H5Screate(H5S_SCALAR), what)
            defer { h5close(space, H5Sclose) }
            let fileType: hid_t
            switch value {
            case .string: fileType = makeUTF8StringType()
            case .int64: fileType = H5Tcopy(lens_h5t_std_i64le())
            case .int32: fileType = H5Tcopy(lens_h5t_std_i32le())
            case .float64: fileType = H5Tcopy(lens_h5t_ieee_f64le())
            }
            try ctx.check(fileType, what)
            defer { h5close(fileType, H5Tclose) }
            let attr = try ctx.check(H5Acreate2(id, name, fileType, space, HDF5.P_DEFAULT, HDF5.P_DEFAULT), what)
            defer { h5close(attr, H5Aclose) }
            switch value {
            case .string(let s):
                try s.withCString { cs in
                    var p: UnsafePointer<CChar>? = cs
                    try ctx.check(H5Awrite(attr, fileType, &p), what)
                }
            case .int64(var v): try ctx.check(H5Awrite(attr, lens_h5t_native_int64(), &v), what)
            case .int32(var v): try ctx.check(H5Awrite(attr, lens_h5t_native_int32(), &v), what)
            case .float64(var v): try ctx.check(H5Awrite(attr, lens_h5t_native_double(), &v), what)
            }
        }
    }

    /// Reads a scalar attribute: strings (variable or fixed length), integers (int32 stays int32, other
    /// integer widths come back as int64) and floats (as float64).
    public func attribute(_ name: String) throws -> H5AttributeValue {
        try HDF5.locked {
            try requireOpen()
            let what = "cannot read attribute '\(name)'"
            if try ctx.check(H5Aexists(id, name), what) == 0 {
                throw ctx.error("attribute '\(name)' is missing")
            }
            let attr = try ctx.check(H5Aopen(id, name, HDF5.P_DEFAULT), what)
            defer { h5close(attr, H5Aclose) }
            let type = try ctx.check(H5Aget_type(attr), what)
            defer { h5close(type, H5Tclose) }
            let space = try ctx.check(H5Aget_space(attr), what)
            defer { h5close(space, H5Sclose) }
            guard H5Sget_simple_extent_npoints(space) == 1 else {
                throw ctx.error("attribute '\(name)' is not a scalar")
            }
            let cls = H5Tget_class(type)
            if cls == H5T_STRING {
                if H5Tis_variable_str(type) > 0 {
                    let mem = makeUTF8StringType()
                    defer { h5close(mem, H5Tclose) }
                    var p: UnsafeMutablePointer<CChar>? = nil
                    try ctx.check(H5Aread(attr, mem, &p), what)
                    defer { if p != nil { _ = H5Dvlen_reclaim(mem, space, HDF5.P_DEFAULT, &p) } }
                    return .string(p.map { String(cString: $0) } ?? "")
                } else {
                    let size = H5Tget_size(type)
                    var buf = [UInt8](repeating: 0, count: size + 1)
                    try ctx.check(H5Aread(attr, type, &buf), what)
                    return .string(String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self))
                }
            }
            if cls == H5T_INTEGER {
                if H5DType.of(type: type) == .int32 {
                    var v: Int32 = 0
                    try ctx.check(H5Aread(attr, lens_h5t_native_int32(), &v), what)
                    return .int32(v)
                }
                var v: Int64 = 0
                try ctx.check(H5Aread(attr, lens_h5t_native_int64(), &v), what)
                return .int64(v)
            }
            if cls == H5T_FLOAT {
                var v: Double = 0
                try ctx.check(H5Aread(attr, lens_h5t_native_double(), &v), what)
                return .float64(v)
            }
            throw ctx.error("attribute '\(name)' has an unsupported type")
        }
    }

    /// Reads a string attribute, failing with a clear message when it is missing or not a string.
    public func stringAttribute(_ name: String) throws -> String {
        let v = try attribute(name)
        guard case .string(let s) = v else {
            throw ctx.error("attribute '\(name)' is not a string (found \(v))")
        }
        return s
    }
}
