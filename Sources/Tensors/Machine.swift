import Foundation

/// What this machine can hold, read at run time, so a larger machine is not refused by a constant.
public enum Machine {
    /// Physical memory in bytes.
    public static var memoryBytes: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// Half of physical memory: what one working set (a model and its training state, a batch's
    /// activations) may take, leaving room for the rest of the process and the system.
    public static var workingSetBytes: Int { memoryBytes / 2 }

    public static func gib(_ bytes: Int) -> String { String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
}

/// a * b * ... without overflow, or nil.
public func checkedProduct(_ factors: Int...) -> Int? {
    var p = 1
    for f in factors {
        let (r, overflow) = p.multipliedReportingOverflow(by: f)
        if overflow { return nil }
        p = r
    }
    return p
}

/// a + b + ... without overflow, or nil (nil terms give nil).
public func checkedSum(_ terms: Int?...) -> Int? {
    var s = 0
    for t in terms {
        guard let t else { return nil }
        let (r, overflow) = s.addingReportingOverflow(t)
        if overflow { return nil }
        s = r
    }
    return s
}
