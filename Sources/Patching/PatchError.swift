import Transformer

/// Every failure of a patching experiment, as one line naming the thing and the problem.
public enum PatchError: Error, CustomStringConvertible, Equatable {
    case unknownKind(String, available: [String])
    case badPairs(String)
    case badReference(String)
    case model(ModelError)

    public var description: String {
        switch self {
        case .unknownKind(let k, let available): "unknown patch kind \"\(k)\"; available: \(available.joined(separator: ", "))"
        case .badPairs(let m): "patch pairs: \(m)"
        case .badReference(let m): "mean-ablation reference: \(m)"
        case .model(let e): e.description
        }
    }
}

/// Runs an engine call, carrying its error as a patching error.
@inline(__always)
func engine<T>(_ body: () throws(ModelError) -> T) throws(PatchError) -> T {
    do { return try body() } catch { throw .model(error) }
}
