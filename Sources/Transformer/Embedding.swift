// Token and learned position embeddings, forward and backward side by side.

// tokens [B, T], W_E [V, D], W_pos [n_ctx, D] -> embed [B, T, D], pos [B, T, D]
func embeddingForward(tokens: UnsafePointer<Int32>, WE: UnsafePointer<Float>, Wpos: UnsafePointer<Float>,
                      embed: UnsafeMutablePointer<Float>, pos: UnsafeMutablePointer<Float>, B: Int, T: Int, D: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let row = (b * T + t) * D
            (embed + row).update(from: WE + Int(tokens[b * T + t]) * D, count: D)
            (pos + row).update(from: Wpos + t * D, count: D)
        }
    }
}

// dembed, dpos [B, T, D] -> dW_E [V, D] (+=), dW_pos [n_ctx, D] (+=)
func embeddingBackward(tokens: UnsafePointer<Int32>, dembed: UnsafePointer<Float>, dpos: UnsafePointer<Float>,
                       dWE: UnsafeMutablePointer<Float>, dWpos: UnsafeMutablePointer<Float>, B: Int, T: Int, D: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let row = (b * T + t) * D
            accumulate(dWE + Int(tokens[b * T + t]) * D, dembed + row, n: D)
            accumulate(dWpos + t * D, dpos + row, n: D)
        }
    }
}
