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

    /// One update of `params` with `grads` at learning rate `lr`.
    public mutating func update(_ params: inout Parameters, _ grads: Parameters, lr: Float) {
        step += 1
        let b1c = 1 - powf(beta1, Float(step)), b2c = 1 - powf(beta2, Float(step))
        let (b1, b2, eps) = (beta1, beta2, self.eps)
        params.data.withUnsafeMutableBufferPointer { P in
            grads.data.withUnsafeBufferPointer { G in
                m.withUnsafeMutableBufferPointer { M in
                    v.withUnsafeMutableBufferPointer { V in
                        for (ei, e) in params.layout.entries.enumerated() {
                            let wd: Float = decayMask[ei] ? weightDecay : 0
                            for i in e.offset..<(e.offset + e.count) {
                                let g = G[i]
                                M[i] = b1 * M[i] + (1 - b1) * g
                                V[i] = b2 * V[i] + (1 - b2) * g * g
                                let mhat = M[i] / b1c, vhat = V[i] / b2c
                                P[i] -= lr * (mhat / (vhat.squareRoot() + eps) + wd * P[i])
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
