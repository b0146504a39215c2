// Elementwise kernels of network training, in C so that each is compiled for the
// vector width of the machine it runs on (AVX-512, AVX2 or the x86-64 baseline, chosen at
// load time). Every clone does the same IEEE operations in the same order (no fused
// multiply-add), so the results are identical on every machine. Used by
// Sources/VAE/VectorKernels.swift and Sources/DKLNumerics/NN/Adam.swift.

/// Adam's update of n parameters: g = w0·g0 + w1·g1 (g0 alone when g1 is NULL),
/// m ← b1·m + (1−b1)·g, v ← b2·v + (1−b2)·g², p ← p − lrc·m/(√v·rc2 + eps).
void dkl_adam_f32(float *p, float *m, float *v, const float *g0, const float *g1, long n,
                  float b1, float b2, float eps, float lrc, float rc2, float w0, float w1);

/// Adam's update of n Double parameters, with decoupled weight decay: m ← b1·m + (1−b1)·g,
/// v ← b2·v + (1−b2)·g², p ← p − (decay·p + lrc·m/(√v·rc2 + eps)).
void dkl_adam_f64(double *p, double *m, double *v, const double *g, long n,
                  double b1, double b2, double eps, double lrc, double rc2, double decay);

/// A stationary kernel at n squared scaled distances r²: k = s·k(r) and, when dk is not
/// NULL, (1/r)·dk/dr, for kind 0 (RBF), 1, 2, 3 (Matérn 1/2, 3/2, 5/2); the operations of
/// Kernel.values and FastMath.exp4 in their order.
void dkl_kernel_fill(int kind, const double *r2, long n, double s, double *k, double *dk);

/// tanh of n values in place: s·(1 − e)/(1 + e) with e = exp(−2|x|) from 2^k and a
/// degree-7 Taylor polynomial on |r| ≤ ln2/2; absolute error a few 1e-8.
void dkl_tanh_f32(float *x, long n);

/// The single-precision variance product's rows (GPPosterior.predict): out[i] =
/// (float)(k[i] − ka[i]) for n values; returns 1 when any difference is not zero.
int dkl_anchor_difference(const double *k, const double *ka, long n, float *out);

/// Σ u[i]² over i < n into *sq, and Σ l[i]·u[i] over from ≤ i < n into *dot, both in
/// double from float values: eight partial sums each, added in a fixed order at the end.
void dkl_square_and_dot(const float *u, const float *l, long n, long from, double *sq, double *dot);
