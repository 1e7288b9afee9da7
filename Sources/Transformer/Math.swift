#if canImport(Glibc)
import Glibc
#endif

// Vectorisable elementwise math. libm's expf/tanhf are scalar calls that stop LLVM from vectorising
// the GELU and softmax loops; these polynomial forms (Cephes expf, rel. error ~2e-7) do not.

@inline(__always)
func fastExp(_ input: Float) -> Float {
    // NaN passes both clamps (every comparison with it is false), and Int32(n) below then trapped (found
    // by the fuzz suite: a finite weight of 3.4e38 overflowed the attention scores); it is computed as 0
    // and given back as NaN, for the caller's checks to see.
    let x = input.isNaN ? 0 : min(max(input, -87.0), 88.0)
    let n = (x * 1.44269504088896341).rounded(.toNearestOrEven)
    let r = x - n * 0.693359375 + n * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    let bits = UInt32(bitPattern: Int32(n) &+ 127) &<< 23
    return input.isNaN ? input : p * Float(bitPattern: bits)
}

@inline(__always)
func fastTanh(_ x: Float) -> Float {
    // Odd symmetry keeps precision for small |x| from the subtraction.
    let a = min(abs(x), 10)
    let e = fastExp(-2 * a)
    let t = (1 - e) / (1 + e)
    return x < 0 ? -t : t
}

@inline(__always) func erfFloat(_ x: Float) -> Float { erff(x) }
@inline(__always) func sqrtFloat(_ x: Float) -> Float { x.squareRoot() }
@inline(__always) func logFloat(_ x: Float) -> Float { logf(x) }
