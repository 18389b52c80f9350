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
 *   dW_ih += da^T x,  dW_hh += da^T h_prev,  db += sum_t da_t,  dx = da W_ih.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "layers/layers.h"

static inline float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }

void iae_lstm_forward(int t_len, int in, int hid, const float *x, const float *w_ih,
                      const float *w_hh, const float *b_ih, const float *b_hh, const float *h0,
                      const float *c0, float *gates, float *hs, float *cs) {
    const int g4 = 4 * hid;

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

    /* 3. Recurrence. */
    for (int t = 0; t < t_len; t++) {
        float *gt = gates + (long)t * g4;
        const float *h_prev = hs + (long)t * hid;
        const float *c_prev = cs + (long)t * hid;
        float *h_t = hs + (long)(t + 1) * hid;
        float *c_t = cs + (long)(t + 1) * hid;

        /* W_hh h_{t-1}; skipped when h_{t-1} is the zero initial state. */
        if (t > 0 || h0 != NULL)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, g4, hid, 1.0f, w_hh, hid, h_prev, 1, 1.0f, gt, 1);

#pragma omp parallel for schedule(static)
        for (int j = 0; j < hid; j++) {
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
}

long iae_lstm_scratch_floats(int t_len, int hid) { return (long)t_len * 4 * hid + 2L * hid; }

void iae_lstm_backward(int t_len, int in, int hid, const float *x, const float *w_ih,
                       const float *w_hh, const float *gates, const float *hs, const float *cs,
                       const float *dh, float *dx, float *dw_ih, float *dw_hh, float *db_ih,
                       float *db_hh, float *scratch) {
    const int g4 = 4 * hid;
    float *dgates = scratch;                   /* (T, 4Hd) gradient w.r.t. a_t */
    float *dh_next = dgates + (long)t_len * g4; /* (Hd) W_hh^T da_{t+1} */
    float *dc_next = dh_next + hid;            /* (Hd) dL/dc_t carried back */
    memset(dh_next, 0, sizeof(float) * 2 * hid);

    /* 1. Gate gradients, step by step in reverse. */
    for (int t = t_len - 1; t >= 0; t--) {
        const float *gt = gates + (long)t * g4;
        const float *c_prev = cs + (long)t * hid;
        const float *c_t = cs + (long)(t + 1) * hid;
        const float *dh_t = dh + (long)t * hid;
        float *da = dgates + (long)t * g4;

#pragma omp parallel for schedule(static)
        for (int j = 0; j < hid; j++) {
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

        /* dh_{t-1} from the recurrence: W_hh^T da_t. */
        if (t > 0)
            cblas_sgemv(CblasRowMajor, CblasTrans, g4, hid, 1.0f, w_hh, hid, da, 1, 0.0f, dh_next, 1);
    }

    /* 2. Parameter and input gradients over the whole sequence. */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g4, in, t_len, 1.0f, dgates, g4, x, in, 1.0f,
                dw_ih, in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g4, hid, t_len, 1.0f, dgates, g4, hs, hid,
                1.0f, dw_hh, hid);
#pragma omp parallel for schedule(static)
    for (int j = 0; j < g4; j++) {
        float sum = 0.0f;
        for (int t = 0; t < t_len; t++) sum += dgates[(long)t * g4 + j];
        db_ih[j] += sum;
        db_hh[j] += sum;
    }
    if (dx != NULL)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t_len, in, g4, 1.0f, dgates, g4, w_ih,
                    in, 0.0f, dx, in);
}
