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
