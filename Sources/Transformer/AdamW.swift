import Foundation
import Tensors

/// Learning-rate schedule: linear warm-up to `peak`, then cosine decay to `peak * minFraction`.
public struct LRSchedule: Codable, Sendable, Equatable {
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minFraction: Double

    public init(peak: Double = 3e-3, warmupSteps: Int = 100, totalSteps: Int = 1000, minFraction: Double = 0.1) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.minFraction = minFraction
    }

    /// Learning rate for step `t` (0-based).
    public func rate(_ t: Int) -> Double {
        if t < warmupSteps { return peak * Double(t + 1) / Double(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(t - warmupSteps) / Double(span), 1)
        let cosine = 0.5 * (1 + cos(Double.pi * progress))
        return peak * (minFraction + (1 - minFraction) * cosine)
    }
}

/// AdamW (Loshchilov & Hutter): decoupled weight decay, applied to matrices only (not to biases or
/// LayerNorm gains), as PyTorch's AdamW with parameter groups would.
public struct AdamW: Sendable, Equatable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0.01
    public var m: [Float]
    public var v: [Float]
    public var step = 0
    let decayMask: [Bool]   // per parameter entry

    public init(layout: ParameterLayout, weightDecay: Float = 0.01) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: layout.totalCount)
        v = m
        decayMask = layout.entries.map(\.isMatrix)
    }

    /// One update of `params` with `grads` at learning rate `lr`. Elementwise, so it is split in
    /// chunks over the engine's threads without changing any result.
    public mutating func update(_ params: inout Parameters, _ grads: Parameters, lr: Float) {
        step += 1
        let b1c = 1 - powf(beta1, Float(step)), b2c = 1 - powf(beta2, Float(step))
        let (b1, b2, eps, wd) = (beta1, beta2, self.eps, weightDecay)
        let entries = params.layout.entries, mask = decayMask
        params.data.withUnsafeMutableBufferPointer { P in
            grads.data.withUnsafeBufferPointer { G in
                m.withUnsafeMutableBufferPointer { M in
                    v.withUnsafeMutableBufferPointer { V in
                        let p = P.baseAddress!, g = G.baseAddress!, mm = M.baseAddress!, vv = V.baseAddress!
                        for (ei, e) in entries.enumerated() {
                            let decay: Float = mask[ei] ? wd : 0
                            let chunks = (e.count + 16383) / 16384
                            Engine.parallelFor(chunks) { c in
                                let lo = e.offset + c * 16384, hi = min(e.offset + e.count, lo + 16384)
                                for i in lo..<hi {
                                    let gi = g[i]
                                    mm[i] = b1 * mm[i] + (1 - b1) * gi
                                    vv[i] = b2 * vv[i] + (1 - b2) * gi * gi
                                    let mhat = mm[i] / b1c, vhat = vv[i] / b2c
                                    p[i] -= lr * (mhat / (vhat.squareRoot() + eps) + decay * p[i])
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Scales gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradients(_ grads: inout Parameters, maxNorm: Float) -> Float {
    var sum: Double = 0
    for g in grads.data { sum += Double(g) * Double(g) }
    let norm = Float(sum.squareRoot())
    if maxNorm > 0, norm > maxNorm {
        let s = maxNorm / (norm + 1e-6)
        for i in 0..<grads.data.count { grads.data[i] *= s }
    }
    return norm
}
