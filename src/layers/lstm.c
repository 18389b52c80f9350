/*
 * One-layer LSTM over a single sequence, with the equations of PyTorch's
 * nn.LSTM (gate rows stacked i, f, g, o; two bias vectors):
 *   a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh            (4Hd)
 *   i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
 *   c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)
 *
 * The input projections W_ih x_t of all steps form one GEMM; only the
 * recurrent product W_hh h_{t-1} runs step by step (a GEMV). The backward pass
 * walks the steps in reverse to get the gate gradients da_t, then forms the
 * weight gradients with one GEMM each over the whole sequence:
 *   dW_ih = da^T x,  dW_hh = da^T h_prev,  db = sum_t da_t,  dx = da W_ih.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "layers/layers.h"
#include "layers/lstm_recurrent.h"

static inline float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }

/* Split n units into team-size chunks that are multiples of 32 (whole
 * AVX-512 vectors of bf16 pairs); thread tid gets [*lo, *hi). */
static void split_units(int n, int threads, int tid, int *lo, int *hi) {
    int blocks = (n + 31) / 32;
    int per = blocks / threads, extra = blocks % threads;
    int b0 = tid * per + (tid < extra ? tid : extra);
    int b1 = b0 + per + (tid < extra ? 1 : 0);
    *lo = b0 * 32 < n ? b0 * 32 : n;
    *hi = b1 * 32 < n ? b1 * 32 : n;
}

/* Gate activations and state update of units [j0, j1) at one step:
 * gt holds the pre-activations a_t on entry and the activated gates on exit. */
static void cell_update(int hid, int j0, int j1, float *gt, const float *c_prev, float *c_t, float *h_t) {
    for (int j = j0; j < j1; j++) {
        float i_g = sigmoidf(gt[j]);
        float f_g = sigmoidf(gt[hid + j]);
        float g_g = tanhf(gt[2 * hid + j]);
        float o_g = sigmoidf(gt[3 * hid + j]);
        gt[j] = i_g;
        gt[hid + j] = f_g;
        gt[2 * hid + j] = g_g;
        gt[3 * hid + j] = o_g;
        float c = f_g * c_prev[j] + i_g * g_g;
        c_t[j] = c;
        h_t[j] = o_g * tanhf(c);
    }
}

/* Gate gradients da_t of units [j0, j1) from dL/dh_t (dh_t + dh_next) and
 * dL/dc_t carried in dc_next, which is updated to dL/dc_{t-1}. */
static void cell_backward(int hid, int j0, int j1, const float *gt, const float *c_prev, const float *c_t,
                          const float *dh_t, const float *dh_next, float *dc_next, float *da) {
    for (int j = j0; j < j1; j++) {
        float i_g = gt[j], f_g = gt[hid + j], g_g = gt[2 * hid + j], o_g = gt[3 * hid + j];
        float tc = tanhf(c_t[j]);
        /* h_t = o tanh(c_t), c_t = f c_{t-1} + i g */
        float dh_j = dh_t[j] + dh_next[j];
        float dc = dc_next[j] + dh_j * o_g * (1.0f - tc * tc);
        da[j] = dc * g_g * i_g * (1.0f - i_g);
        da[hid + j] = dc * c_prev[j] * f_g * (1.0f - f_g);
        da[2 * hid + j] = dc * i_g * (1.0f - g_g * g_g);
        da[3 * hid + j] = dh_j * tc * o_g * (1.0f - o_g);
        dc_next[j] = dc * f_g;
    }
}

void iae_lstm_forward(int t_len, int in, int hid, const float *x, const float *w_ih,
                      const float *w_hh, const float *b_ih, const float *b_hh, const float *h0,
                      const float *c0, const iae_lstm_options *opt, float *gates, float *hs, float *cs) {
    const int g4 = 4 * hid;
    const iae_lstm_impl impl = opt ? opt->impl : IAE_LSTM_FUSED;
    const uint16_t *wb = opt ? opt->w_hh_bf16 : NULL;

    /* 1. gates = x W_ih^T + b_ih + b_hh for every step at once. */
    for (int t = 0; t < t_len; t++) {
        float *gt = gates + (long)t * g4;
        for (int j = 0; j < g4; j++) gt[j] = b_ih[j] + b_hh[j];
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t_len, g4, in, 1.0f, x, in, w_ih, in, 1.0f,
                gates, g4);

    /* 2. Initial state. */
    if (h0 != NULL)
        memcpy(hs, h0, sizeof(float) * hid);
    else
        memset(hs, 0, sizeof(float) * hid);
    if (c0 != NULL)
        memcpy(cs, c0, sizeof(float) * hid);
    else
        memset(cs, 0, sizeof(float) * hid);

    /* 3. Recurrence. W_hh h_{t-1} is skipped while h_{t-1} is the zero state. */
    if (impl == IAE_LSTM_GEMV) {
        for (int t = 0; t < t_len; t++) {
            float *gt = gates + (long)t * g4;
            if (t > 0 || h0 != NULL)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, g4, hid, 1.0f, w_hh, hid, hs + (long)t * hid, 1, 1.0f,
                            gt, 1);
            cell_update(hid, 0, hid, gt, cs + (long)t * hid, cs + (long)(t + 1) * hid, hs + (long)(t + 1) * hid);
        }
        return;
    }

    /* Fused: each thread owns a range of hidden units, computes the four gate
     * rows of those units and updates their state, so one barrier per step
     * suffices. Odd steps walk the rows backwards (see lstm_recurrent.c). */
#pragma omp parallel
    {
        int j0, j1;
        split_units(hid, iae_team_size(), iae_thread_id(), &j0, &j1);
        for (int t = 0; t < t_len; t++) {
            float *gt = gates + (long)t * g4;
            const float *h_prev = hs + (long)t * hid;
            const int reverse = t & 1;
            if ((t > 0 || h0 != NULL) && j1 > j0)
                for (int k = 0; k < 4; k++) {
                    const int q = reverse ? 3 - k : k;
                    iae_rows_dot(w_hh, wb, hid, q * hid + j0, j1 - j0, h_prev, hid, gt + q * hid + j0, reverse);
                }
            cell_update(hid, j0, j1, gt, cs + (long)t * hid, cs + (long)(t + 1) * hid, hs + (long)(t + 1) * hid);
#pragma omp barrier
        }
    }
}

long iae_lstm_scratch_floats(int t_len, int hid, int threads) {
    return (long)t_len * 4 * hid + 2L * hid + 2L * threads * hid;
}

void iae_lstm_backward(int t_len, int in, int hid, const float *x, const float *w_ih,
                       const float *w_hh, const iae_lstm_options *opt, const float *gates, const float *hs,
                       const float *cs, const float *dh, float *dx, float *dw_ih, float *dw_hh, float *db_ih,
                       float *db_hh, float *scratch) {
    const int g4 = 4 * hid;
    const iae_lstm_impl impl = opt ? opt->impl : IAE_LSTM_FUSED;
    const uint16_t *wb = opt ? opt->w_hh_bf16 : NULL;
    float *dgates = scratch;                    /* (T, 4Hd) gradient w.r.t. a_t */
    float *dh_next = dgates + (long)t_len * g4; /* (Hd) W_hh^T da_{t+1} */
    float *dc_next = dh_next + hid;             /* (Hd) dL/dc_t carried back */
    float *partial = dc_next + hid;             /* (2, threads, Hd) per-thread W_hh^T da */
    memset(dh_next, 0, sizeof(float) * 2 * hid);

    /* 1. Gate gradients, step by step in reverse. */
    if (impl == IAE_LSTM_GEMV) {
        for (int t = t_len - 1; t >= 0; t--) {
            float *da = dgates + (long)t * g4;
            cell_backward(hid, 0, hid, gates + (long)t * g4, cs + (long)t * hid, cs + (long)(t + 1) * hid,
                          dh + (long)t * hid, dh_next, dc_next, da);
            if (t > 0) cblas_sgemv(CblasRowMajor, CblasTrans, g4, hid, 1.0f, w_hh, hid, da, 1, 0.0f, dh_next, 1);
        }
    } else {
        /* Each thread owns a range of units: it computes their gate gradients,
         * then W_hh^T da restricted to the four gate rows of those units (the
         * rows it read in the forward pass) into a partial sum, and after a
         * barrier adds every thread's partial over its own columns. Partials
         * alternate between two buffers, so a thread may start the next step
         * while another still reads this step's partials. */
#pragma omp parallel
        {
            const int nth = iae_team_size(), tid = iae_thread_id();
            int j0, j1;
            split_units(hid, nth, tid, &j0, &j1);
            for (int t = t_len - 1; t >= 0; t--) {
                float *da = dgates + (long)t * g4;
                cell_backward(hid, j0, j1, gates + (long)t * g4, cs + (long)t * hid, cs + (long)(t + 1) * hid,
                              dh + (long)t * hid, dh_next, dc_next, da);
                if (t == 0) break;
                float *mine = partial + ((long)(t & 1) * nth + tid) * hid;
                memset(mine, 0, sizeof(float) * hid);
                const int reverse = !(t & 1);
                for (int k = 0; k < 4 && j1 > j0; k++) {
                    const int q = reverse ? 3 - k : k;
                    iae_rows_axpy(w_hh, wb, hid, q * hid + j0, j1 - j0, da + q * hid + j0, hid, mine, reverse);
                }
#pragma omp barrier
                for (int j = j0; j < j1; j++) {
                    float sum = 0.0f;
                    for (int p = 0; p < nth; p++) sum += partial[((long)(t & 1) * nth + p) * hid + j];
                    dh_next[j] = sum;
                }
            }
        }
    }

    /* 2. Parameter and input gradients over the whole sequence. */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g4, in, t_len, 1.0f, dgates, g4, x, in, 0.0f,
                dw_ih, in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g4, hid, t_len, 1.0f, dgates, g4, hs, hid,
                0.0f, dw_hh, hid);
#pragma omp parallel for schedule(static)
    for (int j = 0; j < g4; j++) {
        float sum = 0.0f;
        for (int t = 0; t < t_len; t++) sum += dgates[(long)t * g4 + j];
        db_ih[j] = sum;
        db_hh[j] = sum;
    }
    if (dx != NULL)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t_len, in, g4, 1.0f, dgates, g4, w_ih,
                    in, 0.0f, dx, in);
}

void iae_lstm_step_bias(int hid, const float *w_hh, const float *b_ih, const float *b_hh, const float *h0, float *r) {
    const int g4 = 4 * hid;
    if (h0 != NULL)
        iae_linear_forward_rowwise(1, hid, g4, h0, w_hh, NULL, r);
    else
        memset(r, 0, sizeof(float) * g4);
    for (int j = 0; j < g4; j++) r[j] += b_ih[j] + b_hh[j];
}

void iae_lstm_forward_independent(int n, int in, int hid, const float *x, const float *w_ih, const float *r,
                                  const float *c0, float *gates, float *h) {
    const int g4 = 4 * hid;
    iae_linear_forward_rowwise(n, in, g4, x, w_ih, r, gates);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++) {
        float *gt = gates + (long)b * g4;
        float *hb = h + (long)b * hid;
        for (int j = 0; j < hid; j++) {
            float i_g = sigmoidf(gt[j]), f_g = sigmoidf(gt[hid + j]);
            float g_g = tanhf(gt[2 * hid + j]), o_g = sigmoidf(gt[3 * hid + j]);
            float c = f_g * (c0 ? c0[j] : 0.0f) + i_g * g_g;
            hb[j] = o_g * tanhf(c);
        }
    }
}
