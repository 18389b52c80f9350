/*
 * Recurrent matrix-vector products of the LSTM, the memory-bound core of a
 * batch-as-sequence LSTM: every time step streams the whole recurrent weight
 * matrix W_hh (4Hd, Hd), 64 MiB in fp32 for Hd = 2048, to do 2 FLOPs per
 * weight.
 *
 * Two ideas make them faster than a generic GEMV:
 * - Alternating traversal. Odd steps walk the rows in the opposite order of
 *   even steps, so each step starts on the rows the previous step touched
 *   last, which are still in the last-level cache.
 * - An optional bf16 copy of W_hh halves the bytes streamed per step. Each
 *   weight is widened to fp32 in registers and multiplied with fp32 vectors
 *   accumulating in fp32, so only the weights are rounded.
 * Callers split the work over threads; each function handles one range.
 */
#include <string.h>

#include "layers/lstm_recurrent.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

void iae_f32_to_bf16(const float *x, uint16_t *y, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], 4);
        /* Round to nearest, ties to even (weights are finite). */
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        y[i] = (uint16_t)(bits >> 16);
    }
}

static inline float bf16_to_f32(uint16_t v) {
    uint32_t bits = (uint32_t)v << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#if defined(__AVX512F__)
static inline __m512 load16(const float *p) { return _mm512_loadu_ps(p); }
static inline __m512 load16_bf16(const uint16_t *p) {
    __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}
#endif

/* out[r] += W[row0 + r] . h for r in [0, nrows); rows of length n, stride ld.
 * W is fp32 (w) or bf16 (wb, when not NULL). reverse walks rows downwards. */
void iae_rows_dot(const float *w, const uint16_t *wb, long ld, int row0, int nrows, const float *h, int n,
                  float *out, int reverse) {
#if defined(__AVX512F__)
    /* h split into even- and odd-indexed halves per 32 values, for bf16. */
    float he[IAE_RECURRENT_MAX_N / 2], ho[IAE_RECURRENT_MAX_N / 2];
    if (wb != NULL && n % 32 == 0 && n <= IAE_RECURRENT_MAX_N)
        for (int k = 0; k < n / 2; k++) {
            he[k] = h[2 * k];
            ho[k] = h[2 * k + 1];
        }
#endif
    int r = 0;
    for (; r + 4 <= nrows; r += 4) {
        const int base = reverse ? nrows - 4 - r : r;
        const long row = (long)row0 + base;
        float sums[4];
#if defined(__AVX512F__)
        if (n % 16 == 0) {
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            if (wb != NULL && n % 32 == 0 && n <= IAE_RECURRENT_MAX_N) {
                /* 32 bf16 weights per load: the even-indexed ones become fp32
                 * by a shift, the odd-indexed ones by a mask, and meet h split
                 * the same way (he, ho). */
                const uint16_t *p0 = wb + row * ld, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                const __m512i mask = _mm512_set1_epi32((int)0xFFFF0000u);
                for (int k = 0; k < n; k += 32) {
                    const __m512 e = _mm512_loadu_ps(he + k / 2), o = _mm512_loadu_ps(ho + k / 2);
                    __m512i v0 = _mm512_loadu_si512(p0 + k), v1 = _mm512_loadu_si512(p1 + k);
                    __m512i v2 = _mm512_loadu_si512(p2 + k), v3 = _mm512_loadu_si512(p3 + k);
                    a0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v0, 16)), e, a0);
                    b0 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v0, mask)), o, b0);
                    a1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v1, 16)), e, a1);
                    b1 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v1, mask)), o, b1);
                    a2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v2, 16)), e, a2);
                    b2 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v2, mask)), o, b2);
                    a3 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v3, 16)), e, a3);
                    b3 = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v3, mask)), o, b3);
                }
                a0 = _mm512_add_ps(a0, b0), a1 = _mm512_add_ps(a1, b1);
                a2 = _mm512_add_ps(a2, b2), a3 = _mm512_add_ps(a3, b3);
            } else if (wb != NULL) {
                const uint16_t *p0 = wb + row * ld, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                for (int k = 0; k < n; k += 16) {
                    __m512 hv = load16(h + k);
                    a0 = _mm512_fmadd_ps(load16_bf16(p0 + k), hv, a0);
                    a1 = _mm512_fmadd_ps(load16_bf16(p1 + k), hv, a1);
                    a2 = _mm512_fmadd_ps(load16_bf16(p2 + k), hv, a2);
                    a3 = _mm512_fmadd_ps(load16_bf16(p3 + k), hv, a3);
                }
            } else {
                const float *p0 = w + row * ld, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                for (int k = 0; k < n; k += 16) {
                    __m512 hv = load16(h + k);
                    a0 = _mm512_fmadd_ps(load16(p0 + k), hv, a0);
                    a1 = _mm512_fmadd_ps(load16(p1 + k), hv, a1);
                    a2 = _mm512_fmadd_ps(load16(p2 + k), hv, a2);
                    a3 = _mm512_fmadd_ps(load16(p3 + k), hv, a3);
                }
            }
            sums[0] = _mm512_reduce_add_ps(a0);
            sums[1] = _mm512_reduce_add_ps(a1);
            sums[2] = _mm512_reduce_add_ps(a2);
            sums[3] = _mm512_reduce_add_ps(a3);
        } else
#endif
        {
            for (int q = 0; q < 4; q++) {
                float s = 0.0f;
                for (int k = 0; k < n; k++)
                    s += (wb ? bf16_to_f32(wb[(row + q) * ld + k]) : w[(row + q) * ld + k]) * h[k];
                sums[q] = s;
            }
        }
        for (int q = 0; q < 4; q++) out[base + q] += sums[q];
    }
    /* Remaining rows (nrows not a multiple of 4). */
    for (; r < nrows; r++) {
        const int base = reverse ? nrows - 1 - r : r;
        const long row = (long)row0 + base;
        float s = 0.0f;
        for (int k = 0; k < n; k++) s += (wb ? bf16_to_f32(wb[row * ld + k]) : w[row * ld + k]) * h[k];
        out[base] += s;
    }
}

/* out[k] = sum_r a[r] W[r, col0 + k] for k in [0, ncols), over all nrows rows;
 * the transposed product restricted to a range of columns. */
void iae_cols_axpy(const float *w, const uint16_t *wb, long ld, int nrows, const float *a, int col0, int ncols,
                   float *out, int reverse) {
    memset(out, 0, sizeof(float) * ncols);
#if defined(__AVX512F__)
    float oe[IAE_RECURRENT_MAX_N / 2], oo[IAE_RECURRENT_MAX_N / 2];
    const int split = wb != NULL && ncols % 32 == 0 && col0 % 2 == 0 && ncols <= IAE_RECURRENT_MAX_N;
    if (split) memset(oe, 0, sizeof(float) * ncols / 2), memset(oo, 0, sizeof(float) * ncols / 2);
#endif
    int r = 0;
    for (; r + 4 <= nrows; r += 4) {
        const int row = reverse ? nrows - 4 - r : r;
        const float a0 = a[row], a1 = a[row + 1], a2 = a[row + 2], a3 = a[row + 3];
#if defined(__AVX512F__)
        if (ncols % 16 == 0) {
            const __m512 v0 = _mm512_set1_ps(a0), v1 = _mm512_set1_ps(a1), v2 = _mm512_set1_ps(a2),
                         v3 = _mm512_set1_ps(a3);
            if (split) {
                /* Accumulate even- and odd-indexed columns apart (oe, oo),
                 * interleaved back into out at the end. */
                const uint16_t *p0 = wb + (long)row * ld + col0, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                const __m512i mask = _mm512_set1_epi32((int)0xFFFF0000u);
                for (int k = 0; k < ncols; k += 32) {
                    __m512 e = _mm512_loadu_ps(oe + k / 2), o = _mm512_loadu_ps(oo + k / 2);
                    __m512i u0 = _mm512_loadu_si512(p0 + k), u1 = _mm512_loadu_si512(p1 + k);
                    __m512i u2 = _mm512_loadu_si512(p2 + k), u3 = _mm512_loadu_si512(p3 + k);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u0, 16)), v0, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u0, mask)), v0, o);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u1, 16)), v1, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u1, mask)), v1, o);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u2, 16)), v2, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u2, mask)), v2, o);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u3, 16)), v3, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u3, mask)), v3, o);
                    _mm512_storeu_ps(oe + k / 2, e);
                    _mm512_storeu_ps(oo + k / 2, o);
                }
            } else if (wb != NULL) {
                const uint16_t *p0 = wb + (long)row * ld + col0, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                for (int k = 0; k < ncols; k += 16) {
                    __m512 acc = _mm512_loadu_ps(out + k);
                    acc = _mm512_fmadd_ps(load16_bf16(p0 + k), v0, acc);
                    acc = _mm512_fmadd_ps(load16_bf16(p1 + k), v1, acc);
                    acc = _mm512_fmadd_ps(load16_bf16(p2 + k), v2, acc);
                    acc = _mm512_fmadd_ps(load16_bf16(p3 + k), v3, acc);
                    _mm512_storeu_ps(out + k, acc);
                }
            } else {
                const float *p0 = w + (long)row * ld + col0, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                for (int k = 0; k < ncols; k += 16) {
                    __m512 acc = _mm512_loadu_ps(out + k);
                    acc = _mm512_fmadd_ps(load16(p0 + k), v0, acc);
                    acc = _mm512_fmadd_ps(load16(p1 + k), v1, acc);
                    acc = _mm512_fmadd_ps(load16(p2 + k), v2, acc);
                    acc = _mm512_fmadd_ps(load16(p3 + k), v3, acc);
                    _mm512_storeu_ps(out + k, acc);
                }
            }
            continue;
        }
#endif
        for (int q = 0; q < 4; q++) {
            const float aq = a[row + q];
            for (int k = 0; k < ncols; k++) {
                long idx = (long)(row + q) * ld + col0 + k;
                out[k] += aq * (wb ? bf16_to_f32(wb[idx]) : w[idx]);
            }
        }
    }
#if defined(__AVX512F__)
    if (split)
        for (int k = 0; k < ncols / 2; k++) {
            out[2 * k] += oe[k];
            out[2 * k + 1] += oo[k];
        }
#endif
    for (; r < nrows; r++) {
        const int row = reverse ? nrows - 1 - r : r;
        for (int k = 0; k < ncols; k++) {
            long idx = (long)row * ld + col0 + k;
            out[k] += a[row] * (wb ? bf16_to_f32(wb[idx]) : w[idx]);
        }
    }
}

/* out[k] += sum over r in [0, nrows) of a[r] W[row0 + r, k], for all n
 * columns: the transposed product restricted to a range of rows. */
void iae_rows_axpy(const float *w, const uint16_t *wb, long ld, int row0, int nrows, const float *a, int n,
                   float *out, int reverse) {
#if defined(__AVX512F__)
    if (n % 32 == 0 && n <= IAE_RECURRENT_MAX_N) {
        /* Even- and odd-indexed columns accumulate apart for bf16 weights. */
        float oe[IAE_RECURRENT_MAX_N / 2], oo[IAE_RECURRENT_MAX_N / 2];
        if (wb != NULL) memset(oe, 0, sizeof(float) * n / 2), memset(oo, 0, sizeof(float) * n / 2);
        const __m512i mask = _mm512_set1_epi32((int)0xFFFF0000u);
        int r = 0;
        for (; r + 4 <= nrows; r += 4) {
            const int base = reverse ? nrows - 4 - r : r;
            const long row = (long)row0 + base;
            const __m512 v0 = _mm512_set1_ps(a[base]), v1 = _mm512_set1_ps(a[base + 1]);
            const __m512 v2 = _mm512_set1_ps(a[base + 2]), v3 = _mm512_set1_ps(a[base + 3]);
            if (wb != NULL) {
                const uint16_t *p0 = wb + row * ld, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                for (int k = 0; k < n; k += 32) {
                    __m512 e = _mm512_loadu_ps(oe + k / 2), o = _mm512_loadu_ps(oo + k / 2);
                    __m512i u0 = _mm512_loadu_si512(p0 + k), u1 = _mm512_loadu_si512(p1 + k);
                    __m512i u2 = _mm512_loadu_si512(p2 + k), u3 = _mm512_loadu_si512(p3 + k);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u0, 16)), v0, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u0, mask)), v0, o);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u1, 16)), v1, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u1, mask)), v1, o);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u2, 16)), v2, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u2, mask)), v2, o);
                    e = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(u3, 16)), v3, e);
                    o = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(u3, mask)), v3, o);
                    _mm512_storeu_ps(oe + k / 2, e);
                    _mm512_storeu_ps(oo + k / 2, o);
                }
            } else {
                const float *p0 = w + row * ld, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
                for (int k = 0; k < n; k += 16) {
                    __m512 acc = _mm512_loadu_ps(out + k);
                    acc = _mm512_fmadd_ps(_mm512_loadu_ps(p0 + k), v0, acc);
                    acc = _mm512_fmadd_ps(_mm512_loadu_ps(p1 + k), v1, acc);
                    acc = _mm512_fmadd_ps(_mm512_loadu_ps(p2 + k), v2, acc);
                    acc = _mm512_fmadd_ps(_mm512_loadu_ps(p3 + k), v3, acc);
                    _mm512_storeu_ps(out + k, acc);
                }
            }
        }
        for (; r < nrows; r++) {
            const int base = reverse ? nrows - 1 - r : r;
            const long row = (long)row0 + base;
            for (int k = 0; k < n; k++) {
                if (wb != NULL)
                    (k % 2 ? oo : oe)[k / 2] += a[base] * bf16_to_f32(wb[row * ld + k]);
                else
                    out[k] += a[base] * w[row * ld + k];
            }
        }
        if (wb != NULL)
            for (int k = 0; k < n / 2; k++) {
                out[2 * k] += oe[k];
                out[2 * k + 1] += oo[k];
            }
        return;
    }
#endif
    for (int r = 0; r < nrows; r++) {
        const int base = reverse ? nrows - 1 - r : r;
        const long row = (long)row0 + base;
        for (int k = 0; k < n; k++) out[k] += a[base] * (wb ? bf16_to_f32(wb[row * ld + k]) : w[row * ld + k]);
    }
}
