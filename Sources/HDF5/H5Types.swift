import CHDF5

/// The element type of a dataset or attribute, in our terms.
public enum H5DType: String, Codable, Sendable, CustomStringConvertible {
    case float32, float64, int32, int64
    /// Unsigned bytes, for flags (h5py: `uint8`; `.astype(bool)` for a mask).
    case uint8
    /// Variable-length string (we write UTF-8; h5py reads it as `bytes`, `.asstr()` gives `str`).
    case string
    /// Fixed-length string: readable by h5py, not written by us.
    case fixedString
    /// Any other integer width or sign, or any other class (compound, enum, ...).
    case otherInteger, other

    public var description: String { rawValue }

    /// Classifies an HDF5 datatype. Call with the HDF5 lock held.
    static func of(type t: hid_t) -> H5DType {
        let cls = H5Tget_class(t)
        let size = H5Tget_size(t)
        if cls == H5T_FLOAT { return size == 4 ? .float32 : size == 8 ? .float64 : .other }
        if cls == H5T_INTEGER {
            guard H5Tget_sign(t) == H5T_SGN_2 else { return size == 1 ? .uint8 : .otherInteger }
            return size == 4 ? .int32 : size == 8 ? .int64 : .otherInteger
        }
        if cls == H5T_STRING { return H5Tis_variable_str(t) > 0 ? .string : .fixedString }
        return .other
    }

    /// A new file datatype for this dtype (caller closes it with H5Tclose). Call with the lock held.
    func makeFileType() -> hid_t {
        switch self {
        case .float32: return H5Tcopy(lens_h5t_ieee_f32le())
        case .float64: return H5Tcopy(lens_h5t_ieee_f64le())
        case .int32: return H5Tcopy(lens_h5t_std_i32le())
        case .int64: return H5Tcopy(lens_h5t_std_i64le())
        case .uint8: return H5Tcopy(lens_h5t_std_u8le())
        case .string: return makeUTF8StringType()
        case .fixedString, .otherInteger, .other: return -1
        }
    }
}

/// A variable-length, NUL-terminated UTF-8 string type (what h5py writes for `str`). Caller closes it.
func makeUTF8StringType() -> hid_t {
    let t = H5Tcopy(lens_h5t_c_s1())
    if t < 0 { return t }
    if H5Tset_size(t, lens_h5t_variable()) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 {
        _ = H5Tclose(t)
        return -1
    }
    return t
}

/// Swift element types that map to an HDF5 native type.
public protocol H5Element: Sendable {
    static var h5DType: H5DType { get }
    static var h5MemoryType: hid_t { get }
    static var zero: Self { get }
}

extension Float: H5Element {
    public static var h5DType: H5DType { .float32 }
    public static var h5MemoryType: hid_t { lens_h5t_native_float() }
    public static var zero: Float { 0 }
}
extension Double: H5Element {
    public static var h5DType: H5DType { .float64 }
    public static var h5MemoryType: hid_t { lens_h5t_native_double() }
    public static var zero: Double { 0 }
}
extension Int32: H5Element {
    public static var h5DType: H5DType { .int32 }
    public static var h5MemoryType: hid_t { lens_h5t_native_int32() }
    public static var zero: Int32 { 0 }
}
extension Int64: H5Element {
    public static var h5DType: H5DType { .int64 }
    public static var h5MemoryType: hid_t { lens_h5t_native_int64() }
    public static var zero: Int64 { 0 }
}
extension UInt8: H5Element {
    public static var h5DType: H5DType { .uint8 }
    public static var h5MemoryType: hid_t { lens_h5t_native_uint8() }
    public static var zero: UInt8 { 0 }
}

/// A scalar attribute value.
public enum H5AttributeValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case int64(Int64)
    case int32(Int32)
    case float64(Double)

    public var description: String {
        switch self {
        case .string(let s): return s
        case .int64(let v): return String(v)
        case .int32(let v): return String(v)
        case .float64(let v): return String(v)
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int64? {
        switch self {
        case .int64(let v): return v
        case .int32(let v): return Int64(v)
        default: return nil
        }
    }
    public var doubleValue: Double? { if case .float64(let v) = self { return v } else { return nil } }
}
