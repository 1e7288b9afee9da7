// exp for Double without a libm call, so the softmax loop of the probe objective vectorises:
// exp(x) = 2^n * e^r with n = round(x / ln 2), |r| <= ln2 / 2, e^r by its Taylor series to r^13
// (truncation < 2e-17 relative) and 2^n put straight into the exponent bits. Max relative error
// about 2 ulp against libm on [-700, 700] (tested); inputs are clamped to [-708, 709], so the
// smallest result is about 3e-308 (the softmax subtracts the row maximum, so that is never reached in practice).
@inline(__always)
func expDouble(_ x: Double) -> Double {
    let x = min(max(x, -708.0), 709.0)
    let n = (x * 1.4426950408889634).rounded(.toNearestOrEven)
    let r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10
    var p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    let bits = UInt64(bitPattern: Int64(n) &+ 1023) &<< 52
    return p * Double(bitPattern: bits)
}
