/*
 * Kernels for the LSTM's recurrent products (see lstm_recurrent.c): row-range
 * dot products for W_hh h and column-range sums for W_hh^T da, on fp32 or
 * bf16 weights, with a switch for the traversal direction.
 */
#ifndef IAE_LSTM_RECURRENT_H
#define IAE_LSTM_RECURRENT_H

#include <stdint.h>

/* Largest row length (Hd) the vector bf16 paths handle; longer rows use the
 * plain loops. */
#define IAE_RECURRENT_MAX_N 8192

/* y[i] = x[i] rounded to bf16 (round to nearest even). */
void iae_f32_to_bf16(const float *x, uint16_t *y, long n);

/* out[r] += W[row0 + r, :] . h for r in [0, nrows). W has rows of n values
 * with leading dimension ld, as fp32 (w) or, when wb is not NULL, bf16. */
void iae_rows_dot(const float *w, const uint16_t *wb, long ld, int row0, int nrows, const float *h, int n,
                  float *out, int reverse);

/* out[k] = sum over r in [0, nrows) of a[r] W[r, col0 + k], for k in [0, ncols). */
void iae_cols_axpy(const float *w, const uint16_t *wb, long ld, int nrows, const float *a, int col0, int ncols,
                   float *out, int reverse);

/* out[k] += sum over r in [0, nrows) of a[r] W[row0 + r, k], for k in
 * [0, n): the transposed product over a range of rows, for all columns. */
void iae_rows_axpy(const float *w, const uint16_t *wb, long ld, int row0, int nrows, const float *a, int n,
                   float *out, int reverse);

#endif
