/*
 * Layer kernels: forward and backward of every layer kind the networks use.
 *
 * Conventions, shared by every kernel:
 * - Tensors are contiguous float32, row-major, NCHW. Shapes in comments list
 *   the outermost dimension first. Letters: N batch (for the LSTM also T, the
 *   number of time steps, which is the batch), C channels, H, W height and
 *   width, I input features, Hd hidden units, O output features.
 * - Backward kernels write the input gradient dx and the parameter gradients
 *   (=, no accumulation): in these networks every parameter belongs to one
 *   op, so the gradient block needs no zeroing between steps.
 * - Kernels never allocate. Those that need working memory take a scratch
 *   buffer whose size in floats the matching *_scratch_floats function gives
 *   for a thread count.
 * - Kernels parallelise with OpenMP over an index that owns its output, so
 *   results depend only on the thread count, never on scheduling.
 */
#ifndef IAE_LAYERS_H
#define IAE_LAYERS_H

#include <stdint.h>

#include "core/core.h"
#include "core/rng.h"

/* ---- geometry of a 2-D convolution or transposed convolution ---- */

typedef struct {
    int cin, cout;   /* channels */
    int hin, win;    /* input height and width */
    int hout, wout;  /* output height and width */
    int k;           /* square kernel size */
    int stride, pad; /* same in both directions */
    int out_pad;     /* transposed convolution only: extra rows/columns at the end */
} iae_conv_geom;

/* Fill g for Conv2d: hout = (hin + 2 pad - k) / stride + 1.
 * Returns IAE_ERR_ARGUMENT when the output would be empty. */
iae_status iae_conv2d_geom(iae_ctx *ctx, iae_conv_geom *g, int cin, int cout, int hin, int win, int k,
                           int stride, int pad);

/* Fill g for ConvTranspose2d: hout = (hin - 1) stride - 2 pad + k + out_pad. */
iae_status iae_conv_transpose2d_geom(iae_ctx *ctx, iae_conv_geom *g, int cin, int cout, int hin,
                                     int win, int k, int stride, int pad, int out_pad);

/* im2col and its adjoint, shared by both convolutions.
 * img (C, H, W); col (C*k*k, oh*ow) with col[(c,ki,kj), (oy,ox)] =
 * img[c, oy*stride - pad + ki, ox*stride - pad + kj], zero outside the image.
 * iae_col2im adds col back into img (img must be zeroed by the caller). */
void iae_im2col(const float *img, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                float *col);
void iae_col2im(const float *col, int c, int h, int w, int k, int stride, int pad, int oh, int ow,
                float *img);

/* ---- conv2d.c: Conv2d without bias ----
 * x (N, Cin, Hin, Win), w (Cout, Cin, k, k), y (N, Cout, Hout, Wout). */
long iae_conv2d_scratch_floats(const iae_conv_geom *g, int threads);
void iae_conv2d_forward(const iae_conv_geom *g, int n, const float *x, const float *w, float *y,
                        float *scratch);
/* dx may be NULL (input gradient not needed). */
void iae_conv2d_backward(const iae_conv_geom *g, int n, const float *x, const float *w,
                         const float *dy, float *dx, float *dw, float *scratch);

/* ---- conv_transpose2d.c: ConvTranspose2d without bias, PyTorch layout ----
 * x (N, Cin, Hin, Win), w (Cin, Cout, k, k), y (N, Cout, Hout, Wout). */
long iae_conv_transpose2d_scratch_floats(const iae_conv_geom *g, int threads);
void iae_conv_transpose2d_forward(const iae_conv_geom *g, int n, const float *x, const float *w,
                                  float *y, float *scratch);
void iae_conv_transpose2d_backward(const iae_conv_geom *g, int n, const float *x, const float *w,
                                   const float *dy, float *dx, float *dw, float *scratch);

/* ---- batchnorm.c: BatchNorm without affine parameters ----
 * x, y (N, C, S) with S = H*W (S = 1 for BatchNorm1d); running_mean,
 * running_var, rstd (C). Training mode normalises with the batch mean and
 * biased variance, stores rstd = 1/sqrt(var + eps) for the backward pass and
 * updates the running statistics with the unbiased variance:
 * r = (1 - momentum) r + momentum stat. Requires N*S >= 2. */
void iae_batchnorm_forward_train(int n, int c, int s, float eps, float momentum, const float *x,
                                 float *y, float *rstd, float *running_mean, float *running_var);
void iae_batchnorm_forward_eval(int n, int c, int s, float eps, const float *x, float *y,
                                const float *running_mean, const float *running_var);
/* y is the forward output (the normalised input, since there is no affine). */
void iae_batchnorm_backward_train(int n, int c, int s, const float *y, const float *rstd,
                                  const float *dy, float *dx);
void iae_batchnorm_backward_eval(int n, int c, int s, float eps, const float *running_var,
                                 const float *dy, float *dx);

/* ---- activations.c: element-wise, x, y, dy, dx (count) ---- */
void iae_leaky_relu_forward(long count, float slope, const float *x, float *y);
void iae_leaky_relu_backward(long count, float slope, const float *x, const float *dy, float *dx);
void iae_sigmoid_forward(long count, const float *x, float *y);
void iae_sigmoid_backward(long count, const float *y, const float *dy, float *dx);

/* ---- maxpool2d.c: 2x2 max pooling, stride 2 ----
 * x (N, C, H, W) with even H, W; y (N, C, H/2, W/2); arg (N, C, H/2, W/2)
 * holds the position 0..3 of the maximum in its window (first one on ties). */
void iae_maxpool2d_forward(int n, int c, int h, int w, const float *x, float *y, uint8_t *arg);
void iae_maxpool2d_backward(int n, int c, int h, int w, const uint8_t *arg, const float *dy,
                            float *dx);

/* ---- upsample.c: nearest-neighbour 2x up-sampling ----
 * x (N, C, H, W), y (N, C, 2H, 2W). */
void iae_upsample2x_forward(int n, int c, int h, int w, const float *x, float *y);
void iae_upsample2x_backward(int n, int c, int h, int w, const float *dy, float *dx);

/* ---- linear.c: Linear without bias ----
 * x (N, I), w (O, I), y (N, O) = x w^T. dx may be NULL. */
void iae_linear_forward(int n, int in, int out, const float *x, const float *w, float *y);
void iae_linear_backward(int n, int in, int out, const float *x, const float *w, const float *dy,
                         float *dx, float *dw);
/* y (N, O) = x w^T + bias (bias (O) may be NULL), each output by the same
 * fixed-order dot product, so a sample's result never depends on the batch
 * it is in (a BLAS GEMM may change its summation order with N). */
void iae_linear_forward_rowwise(int n, int in, int out, const float *x, const float *w, const float *bias,
                                float *y);

/* ---- lstm.c: one-layer LSTM over one sequence (PyTorch nn.LSTM equations) ----
 * The sequence is x (T, I); in the IAE networks T is the mini-batch.
 * w_ih (4Hd, I), w_hh (4Hd, Hd), b_ih, b_hh (4Hd), gate rows in the order
 * i, f, g, o. h0, c0 (Hd) are the initial state, NULL for zeros.
 * Saved for the backward pass:
 *   gates (T, 4Hd)  activated i, f, g, o of every step
 *   hs (T+1, Hd)    row 0 = h0, row t+1 = h_t; rows 1..T are the output
 *   cs (T+1, Hd)    row 0 = c0, row t+1 = c_t */
typedef enum {
    IAE_LSTM_FUSED = 0, /* own recurrent kernels, one barrier per step (default) */
    IAE_LSTM_GEMV = 1,  /* one OpenBLAS sgemv per step: the straightforward path */
} iae_lstm_impl;

typedef struct {
    iae_lstm_impl impl;
    const uint16_t *w_hh_bf16; /* (4Hd, Hd) bf16 copy of w_hh for the fused
                                  recurrent products, or NULL for fp32 */
} iae_lstm_options;

/* opt may be NULL: fused kernels on fp32 weights. */
void iae_lstm_forward(int t_len, int in, int hid, const float *x, const float *w_ih,
                      const float *w_hh, const float *b_ih, const float *b_hh, const float *h0,
                      const float *c0, const iae_lstm_options *opt, float *gates, float *hs, float *cs);
/* Every sample as one step from the same state: a_b = W_ih x_b + r, where
 * r (4Hd) = b_ih + b_hh + W_hh h0 is precomputed by iae_lstm_step_bias, and
 * c_prev = c0 (NULL for zeros). Samples are independent and each result is
 * the same whatever the batch. gates (N, 4Hd), h (N, Hd). */
void iae_lstm_forward_independent(int n, int in, int hid, const float *x, const float *w_ih, const float *r,
                                  const float *c0, float *gates, float *h);
/* r = b_ih + b_hh + W_hh h0 (h0 NULL: zeros), in a fixed summation order. */
void iae_lstm_step_bias(int hid, const float *w_hh, const float *b_ih, const float *b_hh, const float *h0, float *r);

/* Scratch floats iae_lstm_backward needs with up to this many threads. */
long iae_lstm_scratch_floats(int t_len, int hid, int threads);
/* dh (T, Hd) is the gradient of the loss w.r.t. the outputs h_1..h_T.
 * dx (T, I) may be NULL. Backpropagates through all T steps. */
void iae_lstm_backward(int t_len, int in, int hid, const float *x, const float *w_ih,
                       const float *w_hh, const iae_lstm_options *opt, const float *gates, const float *hs,
                       const float *cs, const float *dh, float *dx, float *dw_ih, float *dw_hh, float *db_ih,
                       float *db_hh, float *scratch);

/* ---- init.c: parameter initialisation ---- */
/* Xavier (Glorot) uniform: U(-b, b), b = gain sqrt(6 / (fan_in + fan_out)). */
void iae_init_xavier_uniform(iae_rng *r, float *w, long count, int fan_in, int fan_out, float gain);
/* PyTorch's leaky_relu gain: sqrt(2 / (1 + slope^2)). */
float iae_leaky_relu_gain(float slope);
/* Orthogonal init of a (rows, cols) matrix as torch.nn.init.orthogonal_ does:
 * QR of a standard normal matrix (of its transpose when rows < cols), Q's
 * columns multiplied by the signs of diag(R). Uses LAPACK sgeqrf/sorgqr. */
iae_status iae_init_orthogonal(iae_ctx *ctx, iae_rng *r, float *w, int rows, int cols);

#endif
