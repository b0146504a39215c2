// See include/kernels.h. Sixteen lanes at a time; the last few values go through the same
// arithmetic padded into one more group.
#include <string.h>
#include "kernels.h"

#pragma clang fp contract(off)

typedef float f16 __attribute__((ext_vector_type(16), aligned(4)));
typedef int i16 __attribute__((ext_vector_type(16), aligned(4)));

// Under a sanitizer the baseline alone: the clones' load-time resolver would run, instrumented,
// before the sanitizer's runtime has started (make sanitize).
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define DKL_SANITIZED 1
#endif
#endif
#if defined(__x86_64__) && !defined(DKL_SANITIZED)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

// Helpers take pointers, not vectors: a vector argument's ABI depends on the clone's ISA.
#define SELECT16(mask, yes, no) ((f16)(((i16)(yes) & (mask)) | ((i16)(no) & ~(mask))))

static inline __attribute__((always_inline)) void adam16(f16 *p, f16 *m, f16 *v, const f16 *gp, float b1, float b2, float eps, float lrc, float rc2) {
    const f16 g = *gp;
    f16 mi = b1 * *m + (1 - b1) * g;
    f16 vi = b2 * *v + (1 - b2) * g * g;
    *m = mi;
    *v = vi;
    *p = *p - lrc * mi / (__builtin_elementwise_sqrt(vi) * rc2 + eps);
}

CLONES
void dkl_adam_f32(float *p, float *m, float *v, const float *g0, const float *g1, long n,
                  float b1, float b2, float eps, float lrc, float rc2, float w0, float w1) {
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        f16 g = *(const f16 *)(g0 + i);
        if (g1) g = w0 * g + w1 * *(const f16 *)(g1 + i);
        adam16((f16 *)(p + i), (f16 *)(m + i), (f16 *)(v + i), &g, b1, b2, eps, lrc, rc2);
    }
    if (i < n) {
        size_t rest = (size_t)(n - i) * sizeof(float);
        f16 pp = 0, mm = 0, vv = 0, g = 0, h = 0;
        memcpy(&pp, p + i, rest); memcpy(&mm, m + i, rest); memcpy(&vv, v + i, rest);
        memcpy(&g, g0 + i, rest);
        if (g1) { memcpy(&h, g1 + i, rest); g = w0 * g + w1 * h; }
        adam16(&pp, &mm, &vv, &g, b1, b2, eps, lrc, rc2);
        memcpy(p + i, &pp, rest); memcpy(m + i, &mm, rest); memcpy(v + i, &vv, rest);
    }
}

typedef double d8 __attribute__((ext_vector_type(8), aligned(8)));

static inline __attribute__((always_inline)) void adam8(d8 *p, d8 *m, d8 *v, const d8 *gp, double b1, double b2, double eps, double lrc, double rc2, double decay) {
    const d8 g = *gp;
    d8 mi = b1 * *m + (1 - b1) * g;
    d8 vi = b2 * *v + (1 - b2) * g * g;
    *m = mi;
    *v = vi;
    *p = *p - (decay * *p + lrc * mi / (__builtin_elementwise_sqrt(vi) * rc2 + eps));
}

CLONES
void dkl_adam_f64(double *p, double *m, double *v, const double *g, long n,
                  double b1, double b2, double eps, double lrc, double rc2, double decay) {
    long i = 0;
    for (; i + 8 <= n; i += 8) adam8((d8 *)(p + i), (d8 *)(m + i), (d8 *)(v + i), (const d8 *)(g + i), b1, b2, eps, lrc, rc2, decay);
    if (i < n) {
        size_t rest = (size_t)(n - i) * sizeof(double);
        d8 pp = 0, mm = 0, vv = 0, gg = 0;
        memcpy(&pp, p + i, rest); memcpy(&mm, m + i, rest); memcpy(&vv, v + i, rest); memcpy(&gg, g + i, rest);
        adam8(&pp, &mm, &vv, &gg, b1, b2, eps, lrc, rc2, decay);
        memcpy(p + i, &pp, rest); memcpy(m + i, &mm, rest); memcpy(v + i, &vv, rest);
    }
}

typedef long l8 __attribute__((ext_vector_type(8), aligned(8)));
#define SELECT8(mask, yes, no) ((d8)(((l8)(yes) & (mask)) | ((l8)(no) & ~(mask))))

// FastMath.exp4 (Sources/DKLNumerics/Linalg/FastMath.swift), eight lanes: the same constants
// and operations in the same order, so the same bits.
static inline __attribute__((always_inline)) void exp8(const d8 *xp, d8 *out) {
    const d8 x = *xp;
    const l8 below = x < -708.0;
    const d8 xc = SELECT8(below, (d8)(-708.0), x);
    const d8 t = xc * 1.4426950408889634 + 6755399441055744.0;
    const d8 k = t - 6755399441055744.0;
    const d8 r = (xc - k * 0.6931471803691238) - k * 1.9082149292705877e-10;
    const d8 r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const d8 p01 = 1 + r;
    const d8 p23 = 0.5 + r * 0.16666666666666666;
    const d8 p45 = 0.041666666666666664 + r * 0.008333333333333333;
    const d8 p67 = 0.001388888888888889 + r * 0.0001984126984126984;
    const d8 p89 = 2.48015873015873e-05 + r * 2.7557319223985893e-06;
    const d8 p1011 = 2.755731922398589e-07 + r * 2.505210838544172e-08;
    const d8 p1213 = 2.08767569878681e-09 + r * 1.6059043836821613e-10;
    const d8 q0 = p01 + r2 * p23, q1 = p45 + r2 * p67, q2 = p89 + r2 * p1011;
    const d8 p = (q0 + r4 * q1) + r8 * (q2 + r4 * p1213);
    const d8 scale = (d8)((((l8)t) + 1023) << 52);
    *out = SELECT8(below, (d8)(0.0), p * scale);
}

// Kernel.values (Sources/DKLNumerics/GP/Kernel.swift) at eight squared distances.
static inline __attribute__((always_inline)) void kernel8(int kind, const d8 *r2p, double s, d8 *kp, d8 *dkp) {
    const d8 r2 = *r2p;
    d8 k, dk;
    if (kind == 0) {            // RBF
        const d8 a = -0.5 * r2;
        exp8(&a, &k);
        dk = 0 - k;   // Swift's SIMD negation is 0 − x: +0 where k underflows
    } else if (kind == 1) {     // Matérn 1/2
        const d8 r = __builtin_elementwise_sqrt(r2), a = 0 - r;
        exp8(&a, &k);
        dk = SELECT8(r == 0.0, (d8)(0.0), (0 - k) / r);
    } else if (kind == 2) {     // Matérn 3/2
        const d8 r = __builtin_elementwise_sqrt(3 * r2), a = 0 - r;
        d8 e;
        exp8(&a, &e);
        k = (1 + r) * e;
        dk = -3 * e;
    } else {                    // Matérn 5/2
        const d8 r = __builtin_elementwise_sqrt(5 * r2), a = 0 - r;
        d8 e;
        exp8(&a, &e);
        k = (1 + r + r * r / 3) * e;
        dk = -(5.0 / 3) * (1 + r) * e;
    }
    *kp = k * s;
    if (dkp) *dkp = dk;
}

CLONES
void dkl_kernel_fill(int kind, const double *r2, long n, double s, double *k, double *dk) {
    long i = 0;
    for (; i + 8 <= n; i += 8) kernel8(kind, (const d8 *)(r2 + i), s, (d8 *)(k + i), dk ? (d8 *)(dk + i) : 0);
    if (i < n) {
        size_t rest = (size_t)(n - i) * sizeof(double);
        d8 rr = 0, kk, dd;
        memcpy(&rr, r2 + i, rest);
        kernel8(kind, &rr, s, &kk, &dd);
        memcpy(k + i, &kk, rest);
        if (dk) memcpy(dk + i, &dd, rest);
    }
}

static inline __attribute__((always_inline)) void tanh16(f16 *xp) {
    const f16 x = *xp;
    const i16 sign = (i16)x & (int)0x80000000;
    const f16 absolute = (f16)((i16)x & 0x7fffffff);
    // exp(−2|x|) underflows below 2^−126 past |x| = 43.5: clamp the exponent there.
    const f16 a = SELECT16(absolute > 43.5f, (f16)(-87.0f), absolute * -2.0f);
    const float magic = 12582912.0f;   // 1.5·2²³: t + magic holds round(t) in its low bits
    const f16 t = a * 1.442695f + magic;
    const f16 k = t - magic;
    const f16 r = (a - k * 0.693359375f) + k * 2.12194440e-4f;
    const f16 r2 = r * r;
    const f16 p01 = 1.0f + r, p23 = 0.5f + r * 0.16666667f;
    const f16 p45 = 0.041666668f + r * 0.008333334f, p67 = 0.0013888889f + r * 0.0001984127f;
    const f16 q = p45 + r2 * p67;
    const f16 p = p01 + r2 * (p23 + r2 * q);
    const i16 k32 = (i16)t - (int)0x4b400000;   // the bits of magic
    const f16 e = p * (f16)((k32 + 127) << 23);
    const f16 y = (1.0f - e) / (1.0f + e);
    *xp = (f16)((i16)y | sign);
}

CLONES
void dkl_tanh_f32(float *x, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) tanh16((f16 *)(x + i));
    if (i < n) {
        size_t rest = (size_t)(n - i) * sizeof(float);
        f16 v = 0;
        memcpy(&v, x + i, rest);
        tanh16(&v);
        memcpy(x + i, &v, rest);
    }
}

typedef float f8 __attribute__((ext_vector_type(8), aligned(4)));

CLONES
int dkl_anchor_difference(const double *k, const double *ka, long n, float *out) {
    d8 any = 0;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        d8 d = *(const d8 *)(k + i) - *(const d8 *)(ka + i);
        *(f8 *)(out + i) = __builtin_convertvector(d, f8);
        any = __builtin_elementwise_max(any, __builtin_elementwise_abs(d));
    }
    int nonzero = 0;
    for (int j = 0; j < 8; j++) nonzero |= any[j] != 0;
    for (; i < n; i++) {
        double d = k[i] - ka[i];
        out[i] = (float)d;
        nonzero |= d != 0;
    }
    return nonzero;
}

// Partial sums of lanes j = i mod 8, counted from the first index summed, then
// ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)).
static inline __attribute__((always_inline)) double sum8(const d8 *sp) {
    const d8 s = *sp;
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

CLONES
void dkl_square_and_dot(const float *u, const float *l, long n, long from, double *sq, double *dot) {
    d8 acc = 0;
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        d8 w = __builtin_convertvector(*(const f8 *)(u + i), d8);
        acc += w * w;
    }
    d8 tail = 0;
    for (long j = 0; i < n; i++, j++) { double w = u[i]; tail[j] = w * w; }
    acc += tail;
    *sq = sum8(&acc);
    acc = 0;
    i = from;
    for (; i + 8 <= n; i += 8) {
        d8 w = __builtin_convertvector(*(const f8 *)(u + i), d8);
        acc += __builtin_convertvector(*(const f8 *)(l + i), d8) * w;
    }
    tail = 0;
    for (long j = 0; i < n; i++, j++) tail[j] = (double)l[i] * (double)u[i];
    acc += tail;
    *dot = sum8(&acc);
}
