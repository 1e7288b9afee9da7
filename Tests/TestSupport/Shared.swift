import Foundation

/// A value that several threads of a test read and update (results of concurrent processes, flags).
public final class Shared<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T

    public init(_ value: T) { stored = value }

    public var value: T { lock.lock(); defer { lock.unlock() }; return stored }

    public func update(_ change: (inout T) -> Void) { lock.lock(); defer { lock.unlock() }; change(&stored) }
}
