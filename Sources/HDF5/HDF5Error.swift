import Foundation

/// Every failure of the binding. Its description is one line: `file: object: problem (HDF5: reason)`.
/// The activation-file format reports its own problems with this same type (as `ActivationStoreError`), so
/// a caller of a reader or writer catches one type whether HDF5 or the format found the problem.
public struct HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file involved (as given by the caller).
    public var file: String
    /// The HDF5 object inside the file (`/activations/blocks.0.hook_resid_post`), or "" for the file itself.
    public var object: String
    /// What went wrong, in our terms.
    public var problem: String
    /// HDF5's innermost error message, when the failure came from the library.
    public var reason: String?

    public init(file: String, object: String = "", problem: String, reason: String? = nil) {
        self.file = file
        self.object = object
        self.problem = problem
        self.reason = reason
    }

    public var description: String {
        var s = file
        if !object.isEmpty { s += ": " + object }
        s += ": " + problem
        if let reason, !reason.isEmpty { s += " (HDF5: " + reason + ")" }
        return s.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
