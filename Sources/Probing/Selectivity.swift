/// Selectivity (Hewitt & Liang 2019): how much better the probe does on its target than the same
/// probe on the control task's random-per-type labels.
///
/// For accuracy the plain difference is bounded and readable. R² is not bounded below: a ridge fit
/// to random labels predicts held-out items worse than their mean (control R² of -0.3 is common
/// with few items per feature), and R² - control R² then exceeds 1. Both R²s are floored at 0
/// ("explains no variance") before subtracting, so ridge selectivity is the share of the target's
/// variance the probe explains beyond what the control explains, in [-1, 1]: 0 for features that
/// carry nothing, up to 1 for a perfect probe whose control explains nothing.
public enum Selectivity {
    public static func of(score: Double, control: Double, kind: ProbeKind) -> Double {
        switch kind {
        case .multiclass, .binary: score - control
        case .ridge: max(score, 0) - max(control, 0)
        }
    }

    /// The formula in words a JSON reader can check against the numbers.
    public static func definition(_ kind: ProbeKind) -> String {
        switch kind {
        case .multiclass, .binary: "accuracy - control_accuracy"
        case .ridge: "max(r2, 0) - max(control_r2, 0)"
        }
    }

    /// The same formula for a markdown table header.
    public static func header(_ kind: ProbeKind) -> String {
        switch kind {
        case .multiclass, .binary: "accuracy − control"
        case .ridge: "max(R², 0) − max(control R², 0)"
        }
    }
}
