// The MLP's nonlinearity, forward and backward side by side. The two matrix products around it are
// `linearForward` / `linearBackward`.

enum Activation: Sendable {
    case geluNew, gelu, relu
    init(_ name: String) {
        switch name {
        case "gelu": self = .gelu
        case "relu": self = .relu
        default: self = .geluNew
        }
    }
}

private let geluScale: Float = 0.7978845608028654   // sqrt(2 / pi)

// pre [n] -> post [n]; for gelu_new also tanh(...) [n] into `saved`, so the backward pass need not recompute it
func activationForward(_ act: Activation, pre: UnsafePointer<Float>, post: UnsafeMutablePointer<Float>,
                       saved: UnsafeMutablePointer<Float>, n: Int) {
    switch act {
    case .geluNew:
        Engine.parallelFor(n / 4096 + 1) { chunk in
            let lo = chunk * 4096, hi = min(n, lo + 4096)
            if lo >= hi { return }
            for i in lo..<hi {
                let x = pre[i]
                let t = fastTanh(geluScale * (x + 0.044715 * x * x * x))
                saved[i] = t
                post[i] = 0.5 * x * (1 + t)
            }
        }
    case .gelu:
        for i in 0..<n { let x = pre[i]; post[i] = 0.5 * x * (1 + erfFloat(x * 0.7071067811865476)) }
    case .relu:
        for i in 0..<n { post[i] = max(pre[i], 0) }
    }
}

// dpost [n] -> dpre [n] (=)
func activationBackward(_ act: Activation, pre: UnsafePointer<Float>, saved: UnsafePointer<Float>,
                        dpost: UnsafePointer<Float>, dpre: UnsafeMutablePointer<Float>, n: Int) {
    switch act {
    case .geluNew:
        Engine.parallelFor(n / 4096 + 1) { chunk in
            let lo = chunk * 4096, hi = min(n, lo + 4096)
            if lo >= hi { return }
            for i in lo..<hi {
                let x = pre[i]
                let t = saved[i]
                let du = geluScale * (1 + 3 * 0.044715 * x * x)
                dpre[i] = dpost[i] * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
            }
        }
    case .gelu:
        for i in 0..<n {
            let x = pre[i]
            let cdf = 0.5 * (1 + erfFloat(x * 0.7071067811865476))
            let pdf = 0.3989422804014327 * fastExp(-0.5 * x * x)
            dpre[i] = dpost[i] * (cdf + x * pdf)
        }
    case .relu:
        for i in 0..<n { dpre[i] = pre[i] > 0 ? dpost[i] : 0 }
    }
}
