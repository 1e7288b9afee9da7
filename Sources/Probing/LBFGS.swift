// Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4/7.5) with the
// strong-Wolfe line search of Alg. 3.5/3.6. Written here so the probe's optimiser is inspectable
// and deterministic; the objective supplies value and gradient in Double.

public struct LBFGSOptions: Sendable, Codable, Equatable {
    /// Number of (s, y) pairs kept for the two-loop recursion.
    public var memory: Int = 10
    public var maxIterations: Int = 500
    /// Converged when the largest gradient component is at most this (the objective is a mean
    /// loss, so the gradient is O(1) at the start; 1e-5 is ten times tighter than sklearn's tol).
    public var gradientTolerance: Double = 1e-5
    /// Also converged when one step lowers f by at most this, relative to max(|f|, 1)
    /// (scipy's REL_REDUCTION_OF_F; sklearn passes ftol = 64 * eps).
    public var relativeFunctionTolerance: Double = 1e-13
    /// Sufficient-decrease (Armijo) and curvature constants of the strong Wolfe conditions.
    public var c1: Double = 1e-4
    public var c2: Double = 0.9
    public var maxLineSearchEvaluations: Int = 40

    public init() {}
}

public enum LBFGSStop: String, Sendable, Codable {
    case gradient, functionChange, maxIterations, lineSearchFailed, nonFinite
}

public struct LBFGSResult: Sendable {
    public var x: [Double]
    public var value: Double
    /// Infinity norm of the gradient at `x`.
    public var gradientNorm: Double
    public var iterations: Int
    public var evaluations: Int
    public var stop: LBFGSStop
    /// True only when stopped by the gradient or the relative-reduction test.
    public var converged: Bool { stop == .gradient || stop == .functionChange }
    /// Non-nil whenever `converged` is false, so a caller cannot report such a fit silently.
    public var warning: String?
}

public enum LBFGS {
    /// Minimises `objective`, which returns f(x) and writes the gradient into its second argument.
    public static func minimize(
        x0: [Double], options: LBFGSOptions = LBFGSOptions(),
        objective: ([Double], inout [Double]) -> Double
    ) -> LBFGSResult {
        let p = x0.count
        var x = x0
        var g = [Double](repeating: 0, count: p)
        var f = objective(x, &g)
        var evaluations = 1
        var iterations = 0
        var history = PairHistory(capacity: max(1, options.memory))
        var stop: LBFGSStop

        while true {
            if !f.isFinite || !g.allSatisfy({ $0.isFinite }) { stop = .nonFinite; break }
            if Vec.infNorm(g) <= options.gradientTolerance { stop = .gradient; break }
            if iterations >= options.maxIterations { stop = .maxIterations; break }

            var d = history.direction(g)
            var slope = Vec.dot(g, d)
            if !(slope < 0) {
                // Not a descent direction (curvature pairs went stale): restart from steepest descent.
                history.clear()
                d = g.map { -$0 }
                slope = -Vec.dot(g, g)
            }
            // Without curvature information the first step is scaled so it moves x by at most 1.
            let step0 = history.isEmpty ? min(1, 1 / Vec.norm(g)) : 1
            let ls = lineSearch(x: x, f: f, g: g, d: d, slope: slope, step0: step0,
                                options: options, objective: objective)
            evaluations += ls.evaluations
            guard let accepted = ls.point else {
                if history.isEmpty { stop = .lineSearchFailed; break }
                history.clear()  // retry once along the plain negative gradient
                continue
            }
            var s = [Double](repeating: 0, count: p)
            var y = [Double](repeating: 0, count: p)
            for i in 0..<p { s[i] = accepted.x[i] - x[i]; y[i] = accepted.g[i] - g[i] }
            history.push(s: s, y: y)
            iterations += 1
            let reduction = (f - accepted.f) / max(abs(f), abs(accepted.f), 1)
            x = accepted.x; f = accepted.f; g = accepted.g
            if Vec.infNorm(g) <= options.gradientTolerance { stop = .gradient; break }
            if reduction <= options.relativeFunctionTolerance { stop = .functionChange; break }
        }

        let gnorm = Vec.infNorm(g)
        var result = LBFGSResult(x: x, value: f, gradientNorm: gnorm, iterations: iterations,
                                 evaluations: evaluations, stop: stop, warning: nil)
        if !result.converged {
            let why: String
            switch stop {
            case .maxIterations: why = "hit the cap of \(options.maxIterations) iterations"
            case .lineSearchFailed: why = "line search found no acceptable step"
            default: why = "objective or gradient became non-finite"
            }
            result.warning = "L-BFGS did not converge: \(why) (|grad|inf = \(gnorm), tolerance \(options.gradientTolerance))"
        }
        return result
    }

    struct Point { var x: [Double]; var f: Double; var g: [Double]; var slope: Double; var step: Double }

    /// Strong-Wolfe search along d. If the evaluation budget runs out it still returns the best
    /// point that satisfies sufficient decrease, if any (the BFGS update is then guarded by s.y > 0).
    static func lineSearch(
        x: [Double], f: Double, g: [Double], d: [Double], slope: Double, step0: Double,
        options: LBFGSOptions, objective: ([Double], inout [Double]) -> Double
    ) -> (point: Point?, evaluations: Int) {
        var evaluations = 0
        func eval(_ a: Double) -> Point {
            evaluations += 1
            var xa = x
            for i in 0..<xa.count { xa[i] += a * d[i] }
            var ga = [Double](repeating: 0, count: x.count)
            let fa = objective(xa, &ga)
            return Point(x: xa, f: fa, g: ga, slope: Vec.dot(ga, d), step: a)
        }
        func armijo(_ q: Point) -> Bool { q.f.isFinite && q.f <= f + options.c1 * q.step * slope }
        func curvature(_ q: Point) -> Bool { abs(q.slope) <= -options.c2 * slope }

        let origin = Point(x: x, f: f, g: g, slope: slope, step: 0)
        var prev = origin
        var a = step0
        var lo = origin, hi = origin
        var bracketed = false
        // Phase 1 (Alg. 3.5): grow the step until the interval [lo, hi] brackets a Wolfe point.
        while evaluations < options.maxLineSearchEvaluations {
            let q = eval(a)
            if !q.f.isFinite { hi = q; lo = prev; bracketed = true; break }
            if !armijo(q) || (prev.step > 0 && q.f >= prev.f) { lo = prev; hi = q; bracketed = true; break }
            if curvature(q) { return (q, evaluations) }
            if q.slope >= 0 { lo = q; hi = prev; bracketed = true; break }
            prev = q
            a *= 2
        }
        if !bracketed { return (prev.step > 0 ? prev : nil, evaluations) }
        // Phase 2 (Alg. 3.6): shrink the bracket; lo always satisfies sufficient decrease.
        while evaluations < options.maxLineSearchEvaluations {
            let width = abs(hi.step - lo.step)
            if width <= 1e-16 * max(1, abs(lo.step)) { break }
            let t = interpolate(lo, hi)
            let q = eval(t)
            if !armijo(q) || q.f >= lo.f {
                hi = q
            } else {
                if curvature(q) { return (q, evaluations) }
                if q.slope * (hi.step - lo.step) >= 0 { hi = lo }
                lo = q
            }
        }
        return (lo.step > 0 ? lo : nil, evaluations)
    }

    /// Minimiser of the cubic through both ends (N&W eq. 3.59), kept at least 10% of the width away
    /// from either end; falls back to bisection when the cubic is degenerate or f is non-finite.
    static func interpolate(_ a: Point, _ b: Point) -> Double {
        let lo = min(a.step, b.step), hi = max(a.step, b.step), w = hi - lo
        let mid = 0.5 * (lo + hi)
        guard a.f.isFinite, b.f.isFinite, a.slope.isFinite, b.slope.isFinite else { return mid }
        let d1 = a.slope + b.slope - 3 * (a.f - b.f) / (a.step - b.step)
        let disc = d1 * d1 - a.slope * b.slope
        guard disc >= 0 else { return mid }
        let d2 = (b.step > a.step ? 1.0 : -1.0) * disc.squareRoot()
        let denom = b.slope - a.slope + 2 * d2
        guard denom != 0 else { return mid }
        let t = b.step - (b.step - a.step) * (b.slope + d2 - d1) / denom
        guard t.isFinite else { return mid }
        return min(max(t, lo + 0.1 * w), hi - 0.1 * w)
    }
}

/// The m most recent curvature pairs and the two-loop recursion that applies the implied
/// inverse-Hessian approximation to a vector.
struct PairHistory {
    let capacity: Int
    private var s: [[Double]] = []
    private var y: [[Double]] = []
    private var rho: [Double] = []

    init(capacity: Int) { self.capacity = capacity }

    var isEmpty: Bool { s.isEmpty }
    mutating func clear() { s.removeAll(); y.removeAll(); rho.removeAll() }

    /// Keeps the pair only if s.y > 0 (relative to |s||y|): otherwise the BFGS update would not
    /// stay positive definite. With strong Wolfe steps on a convex objective this always holds.
    mutating func push(s si: [Double], y yi: [Double]) {
        let sy = Vec.dot(si, yi)
        guard sy > 1e-12 * Vec.norm(si) * Vec.norm(yi), sy.isFinite else { return }
        if s.count == capacity { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
        s.append(si); y.append(yi); rho.append(1 / sy)
    }

    /// -H g, with H0 = (s.y / y.y) I from the newest pair (N&W eq. 7.20).
    func direction(_ g: [Double]) -> [Double] {
        var q = g
        let k = s.count
        var alpha = [Double](repeating: 0, count: k)
        for i in stride(from: k - 1, through: 0, by: -1) {
            alpha[i] = rho[i] * Vec.dot(s[i], q)
            Vec.axpy(-alpha[i], y[i], &q)
        }
        if k > 0 {
            let gamma = 1 / (rho[k - 1] * Vec.dot(y[k - 1], y[k - 1]))
            for j in 0..<q.count { q[j] *= gamma }
        }
        for i in 0..<k {
            let beta = rho[i] * Vec.dot(y[i], q)
            Vec.axpy(alpha[i] - beta, s[i], &q)
        }
        for j in 0..<q.count { q[j] = -q[j] }
        return q
    }
}

/// Level-1 vector helpers over parameter vectors (length d*K, far from the hot path).
enum Vec {
    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in 0..<a.count { s += a[i] * b[i] }
        return s
    }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
    static func infNorm(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }
    static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        for i in 0..<y.count { y[i] += alpha * x[i] }
    }
}
