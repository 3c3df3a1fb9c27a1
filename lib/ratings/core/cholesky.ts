/** Overwrites the lower triangle of symmetric positive-definite A (row-major m×m) with L, A = L·Lᵀ. */
export function choleskyFactor(a: Float64Array, m: number): void {
  for (let j = 0; j < m; j++) {
    const rowJ = j * m;
    let d = a[rowJ + j]!;
    for (let k = 0; k < j; k++) d -= a[rowJ + k]! * a[rowJ + k]!;
    // Clamped so rounding on a nearly singular matrix gives a huge step, not NaN.
    const ljj = Math.sqrt(Math.max(d, 1e-300));
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      const rowI = i * m;
      let s = a[rowI + j]!;
      for (let k = 0; k < j; k++) s -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = s / ljj;
    }
  }
}

/** Solves L·Lᵀ·x = b with the factor from choleskyFactor. */
export function choleskySolve(l: Float64Array, b: Float64Array, x: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * m + k]! * x[k]!;
    x[i] = s / l[i * m + i]!;
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < m; k++) s -= l[k * m + i]! * x[k]!;
    x[i] = s / l[i * m + i]!;
  }
}
