import Foundation

/// Every failure of this module. Its description is one line: `file: object: problem (HDF5: reason)`.
public struct ActivationStoreError: Error, CustomStringConvertible, Equatable, Sendable {
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
