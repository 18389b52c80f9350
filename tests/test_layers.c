/*
 * Layer tests: forward passes against direct (loop-by-definition)
 * computations, and backward passes against central finite differences of
 * L = sum(r * y) for a fixed random r, for inputs and parameters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "layers/lstm_recurrent.h"
#include "testutil.h"

#define ATOL 2e-3
#define RTOL 2e-2

static float *vec(long n) {
    float *p = calloc((size_t)n + 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static double dot(const float *a, const float *b, long n) {
    double s = 0.0;
    for (long i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static void assert_close(const char *what, const float *got, const float *want, long n, double tol) {
    for (long i = 0; i < n; i++)
        if (fabs((double)got[i] - want[i]) > tol * (1.0 + fabs((double)want[i])))
            fail_msg("%s[%ld]: got %.7g, expected %.7g", what, i, got[i], want[i]);
}

/* ---------------- convolutions ---------------- */

typedef struct {
    iae_conv_geom g;
    int n, transpose;
    float *x, *w, *y, *r, *scratch;
} conv_case;

static void conv_run(conv_case *c) {
    if (c->transpose)
        iae_conv_transpose2d_forward(&c->g, c->n, c->x, c->w, c->y, c->scratch);
    else
        iae_conv2d_forward(&c->g, c->n, c->x, c->w, c->y, c->scratch);
}

static double conv_loss(void *user) {
    conv_case *c = user;
    conv_run(c);
    return dot(c->r, c->y, (long)c->n * c->g.cout * c->g.hout * c->g.wout);
}

/* Conv2d by its definition: y[b,o,i,j] = sum w[o,c,ki,kj] x[b,c,i*s-p+ki,j*s-p+kj]. */
static void conv2d_direct(const iae_conv_geom *g, int n, const float *x, const float *w, float *y) {
    for (int b = 0; b < n; b++)
        for (int o = 0; o < g->cout; o++)
            for (int i = 0; i < g->hout; i++)
                for (int j = 0; j < g->wout; j++) {
                    double s = 0.0;
                    for (int c = 0; c < g->cin; c++)
                        for (int ki = 0; ki < g->k; ki++)
                            for (int kj = 0; kj < g->k; kj++) {
                                int iy = i * g->stride - g->pad + ki, ix = j * g->stride - g->pad + kj;
                                if (iy < 0 || iy >= g->hin || ix < 0 || ix >= g->win) continue;
                                s += (double)w[((o * g->cin + c) * g->k + ki) * g->k + kj] *
                                     x[((b * g->cin + c) * g->hin + iy) * g->win + ix];
                            }
                    y[((b * g->cout + o) * g->hout + i) * g->wout + j] = (float)s;
                }
}

/* ConvTranspose2d by its definition: every input pixel scatters w[c,o,:,:]
 * into y at (i*s - p + ki, j*s - p + kj). */
static void conv_transpose2d_direct(const iae_conv_geom *g, int n, const float *x, const float *w,
                                    float *y) {
    memset(y, 0, sizeof(float) * n * g->cout * g->hout * g->wout);
    for (int b = 0; b < n; b++)
        for (int c = 0; c < g->cin; c++)
            for (int i = 0; i < g->hin; i++)
                for (int j = 0; j < g->win; j++)
                    for (int o = 0; o < g->cout; o++)
                        for (int ki = 0; ki < g->k; ki++)
                            for (int kj = 0; kj < g->k; kj++) {
                                int oy = i * g->stride - g->pad + ki, ox = j * g->stride - g->pad + kj;
                                if (oy < 0 || oy >= g->hout || ox < 0 || ox >= g->wout) continue;
                                y[((b * g->cout + o) * g->hout + oy) * g->wout + ox] +=
                                    w[((c * g->cout + o) * g->k + ki) * g->k + kj] *
                                    x[((b * g->cin + c) * g->hin + i) * g->win + j];
                            }
}

static void check_conv(int transpose, int cin, int cout, int h, int k, int stride, int pad, int out_pad) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    conv_case c = {.n = 3, .transpose = transpose};
    if (transpose)
        assert_int_equal(iae_conv_transpose2d_geom(&ctx, &c.g, cin, cout, h, h, k, stride, pad, out_pad),
                         IAE_OK);
    else
        assert_int_equal(iae_conv2d_geom(&ctx, &c.g, cin, cout, h, h, k, stride, pad), IAE_OK);
    const long nx = (long)c.n * cin * h * h, nw = (long)cin * cout * k * k;
    const long ny = (long)c.n * cout * c.g.hout * c.g.wout;
    c.x = vec(nx), c.w = vec(nw), c.y = vec(ny), c.r = vec(ny);
    long scratch = transpose ? iae_conv_transpose2d_scratch_floats(&c.g, 2)
                             : iae_conv2d_scratch_floats(&c.g, 2);
    c.scratch = vec(scratch);
    tu_fill(c.x, nx, -1, 1, 1);
    tu_fill(c.w, nw, -0.5f, 0.5f, 2);
    tu_fill(c.r, ny, -1, 1, 3);

    /* Forward against the direct definition. */
    float *want = vec(ny);
    conv_run(&c);
    if (transpose)
        conv_transpose2d_direct(&c.g, c.n, c.x, c.w, want);
    else
        conv2d_direct(&c.g, c.n, c.x, c.w, want);
    assert_close(transpose ? "conv_transpose2d y" : "conv2d y", c.y, want, ny, 1e-4);

    /* Backward against finite differences. dw is overwritten, so it starts
     * with junk that must not survive. */
    float *dx = vec(nx), *dw = vec(nw);
    for (long i = 0; i < nw; i++) dw[i] = 1.0f;
    if (transpose)
        iae_conv_transpose2d_backward(&c.g, c.n, c.x, c.w, c.r, dx, dw, c.scratch);
    else
        iae_conv2d_backward(&c.g, c.n, c.x, c.w, c.r, dx, dw, c.scratch);
    tu_gradcheck("conv dx", c.x, nx, dx, conv_loss, &c, 1e-2f, ATOL, RTOL, 60);
    tu_gradcheck("conv dw", c.w, nw, dw, conv_loss, &c, 1e-2f, ATOL, RTOL, 60);

    /* dx = NULL must give the same weight gradient. */
    float *dw2 = vec(nw);
    if (transpose)
        iae_conv_transpose2d_backward(&c.g, c.n, c.x, c.w, c.r, NULL, dw2, c.scratch);
    else
        iae_conv2d_backward(&c.g, c.n, c.x, c.w, c.r, NULL, dw2, c.scratch);
    assert_close("dw without dx", dw2, dw, nw, 1e-4);

    free(c.x), free(c.w), free(c.y), free(c.r), free(c.scratch), free(want), free(dx), free(dw), free(dw2);
}

static void test_conv2d_k5_pad2(void **state) { check_conv(0, 3, 4, 8, 5, 1, 2, 0); }
static void test_conv2d_k3_stride2(void **state) { check_conv(0, 2, 3, 9, 3, 2, 1, 0); }
/* Even input as in the MVTec encoder: the padding row and column at the far
 * end are never read. */
static void test_conv2d_k3_stride2_even(void **state) { check_conv(0, 3, 4, 8, 3, 2, 1, 0); }
static void test_conv_transpose2d_k5_pad2(void **state) { check_conv(1, 4, 3, 6, 5, 1, 2, 0); }
static void test_conv_transpose2d_stride2(void **state) { check_conv(1, 3, 2, 4, 3, 2, 1, 1); }

static void test_conv_geometry_errors(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_conv_geom g;
    assert_int_equal(iae_conv2d_geom(&ctx, &g, 1, 1, 2, 2, 5, 1, 0), IAE_ERR_ARGUMENT);
    assert_non_null(strstr(ctx.error, "does not fit"));
    assert_int_equal(iae_conv_transpose2d_geom(&ctx, &g, 1, 1, 4, 4, 3, 2, 1, 2), IAE_ERR_ARGUMENT);
    assert_int_equal(iae_conv_transpose2d_geom(&ctx, &g, 8, 128, 4, 4, 5, 1, 2, 0), IAE_OK);
    assert_int_equal(g.hout, 4);
    assert_int_equal(iae_conv_transpose2d_geom(&ctx, &g, 8, 8, 4, 4, 3, 2, 1, 1), IAE_OK);
    assert_int_equal(g.hout, 8);
}

/* ---------------- batch normalisation ---------------- */

typedef struct {
    int n, c, s, train;
    float *x, *y, *r, *rstd, *rm, *rv;
} bn_case;

static double bn_loss(void *user) {
    bn_case *b = user;
    if (b->train) {
        /* Running statistics must not drift during the check: use copies. */
        float rm[16], rv[16];
        memcpy(rm, b->rm, sizeof(float) * b->c);
        memcpy(rv, b->rv, sizeof(float) * b->c);
        iae_batchnorm_forward_train(b->n, b->c, b->s, 1e-4f, 0.1f, b->x, b->y, b->rstd, rm, rv);
    } else {
        iae_batchnorm_forward_eval(b->n, b->c, b->s, 1e-4f, b->x, b->y, b->rm, b->rv);
    }
    return dot(b->r, b->y, (long)b->n * b->c * b->s);
}

static void check_bn(int n, int c, int s, int train) {
    bn_case b = {.n = n, .c = c, .s = s, .train = train};
    const long count = (long)n * c * s;
    b.x = vec(count), b.y = vec(count), b.r = vec(count), b.rstd = vec(c), b.rm = vec(c), b.rv = vec(c);
    tu_fill(b.x, count, -2, 3, 4);
    tu_fill(b.r, count, -1, 1, 5);
    tu_fill(b.rm, c, -0.5f, 0.5f, 6);
    tu_fill(b.rv, c, 0.5f, 2.0f, 7);
    float *rm0 = vec(c), *rv0 = vec(c);
    memcpy(rm0, b.rm, sizeof(float) * c);
    memcpy(rv0, b.rv, sizeof(float) * c);

    float *dx = vec(count);
    if (train) {
        iae_batchnorm_forward_train(n, c, s, 1e-4f, 0.1f, b.x, b.y, b.rstd, b.rm, b.rv);
        /* Statistics computed here independently, in double. */
        for (int ch = 0; ch < c; ch++) {
            double sum = 0, ss = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++) sum += b.x[((long)i * c + ch) * s + j];
            double mean = sum / (n * s);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++) {
                    double d = b.x[((long)i * c + ch) * s + j] - mean;
                    ss += d * d;
                }
            double var = ss / (n * s), unbiased = ss / (n * s - 1);
            assert_float_equal(b.rm[ch], 0.9 * rm0[ch] + 0.1 * mean, 1e-5);
            assert_float_equal(b.rv[ch], 0.9 * rv0[ch] + 0.1 * unbiased, 1e-5);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++) {
                    long k = ((long)i * c + ch) * s + j;
                    assert_float_equal(b.y[k], (b.x[k] - mean) / sqrt(var + 1e-4), 1e-4);
                }
        }
        memcpy(b.rm, rm0, sizeof(float) * c);
        memcpy(b.rv, rv0, sizeof(float) * c);
        iae_batchnorm_backward_train(n, c, s, b.y, b.rstd, b.r, dx);
    } else {
        iae_batchnorm_forward_eval(n, c, s, 1e-4f, b.x, b.y, b.rm, b.rv);
        for (long k = 0; k < count; k++) {
            int ch = (int)((k / s) % c);
            assert_float_equal(b.y[k], (b.x[k] - b.rm[ch]) / sqrt(b.rv[ch] + 1e-4), 1e-5);
        }
        iae_batchnorm_backward_eval(n, c, s, 1e-4f, b.rv, b.r, dx);
    }
    tu_gradcheck(train ? "batchnorm train dx" : "batchnorm eval dx", b.x, count, dx, bn_loss, &b, 1e-2f,
                 ATOL, RTOL, 80);
    free(b.x), free(b.y), free(b.r), free(b.rstd), free(b.rm), free(b.rv), free(rm0), free(rv0), free(dx);
}

static void test_batchnorm2d_train(void **state) { check_bn(4, 3, 5, 1); }
static void test_batchnorm1d_train(void **state) { check_bn(6, 5, 1, 1); }
static void test_batchnorm_eval(void **state) { check_bn(3, 4, 6, 0); }

/* ---------------- element-wise, pooling, up-sampling ---------------- */

typedef struct {
    int kind; /* 0 leaky relu, 1 sigmoid, 2 max pool, 3 upsample */
    float slope; /* leaky ReLU */
    int n, c, h, w;
    long nx, ny;
    float *x, *y, *r;
    uint8_t *arg;
} ew_case;

static void ew_forward(ew_case *e) {
    switch (e->kind) {
    case 0: iae_leaky_relu_forward(e->nx, e->slope, e->x, e->y); break;
    case 1: iae_sigmoid_forward(e->nx, e->x, e->y); break;
    case 2: iae_maxpool2d_forward(e->n, e->c, e->h, e->w, e->x, e->y, e->arg); break;
    default: iae_upsample2x_forward(e->n, e->c, e->h, e->w, e->x, e->y); break;
    }
}

static double ew_loss(void *user) {
    ew_case *e = user;
    ew_forward(e);
    return dot(e->r, e->y, e->ny);
}

static void check_elementwise(int kind, float slope) {
    ew_case e = {.kind = kind, .slope = slope, .n = 2, .c = 3, .h = 4, .w = 6};
    e.nx = (long)e.n * e.c * e.h * e.w;
    e.ny = kind == 2 ? e.nx / 4 : (kind == 3 ? e.nx * 4 : e.nx);
    e.x = vec(e.nx), e.y = vec(e.ny), e.r = vec(e.ny);
    e.arg = calloc((size_t)e.ny, 1);
    tu_fill(e.r, e.ny, -1, 1, 8);
    if (kind == 2) {
        /* Distinct values 0.1 apart, shuffled, so no nudge changes a maximum. */
        int *perm = malloc(sizeof(int) * e.nx);
        iae_rng rng;
        iae_rng_seed(&rng, 3, 0);
        iae_rng_permutation(&rng, perm, (int)e.nx);
        for (long i = 0; i < e.nx; i++) e.x[i] = 0.1f * perm[i];
        free(perm);
    } else {
        tu_fill(e.x, e.nx, -2, 2, 9);
        /* Keep leaky ReLU inputs away from the kink at 0. */
        for (long i = 0; i < e.nx; i++)
            if (fabsf(e.x[i]) < 0.05f) e.x[i] = 0.3f;
    }
    ew_forward(&e);

    /* Forward values by definition. */
    for (long i = 0; i < e.nx && kind < 2; i++) {
        double want;
        if (kind == 1)
            want = 1.0 / (1.0 + exp(-e.x[i]));
        else
            want = e.x[i] > 0 ? e.x[i] : (double)slope * e.x[i];
        assert_float_equal(e.y[i], want, 1e-6);
    }
    if (kind == 2)
        for (long p = 0; p < (long)e.n * e.c; p++)
            for (int i = 0; i < e.h / 2; i++)
                for (int j = 0; j < e.w / 2; j++) {
                    const float *t = e.x + p * e.h * e.w + 2 * i * e.w + 2 * j;
                    float m = fmaxf(fmaxf(t[0], t[1]), fmaxf(t[e.w], t[e.w + 1]));
                    assert_float_equal(e.y[p * e.h * e.w / 4 + i * e.w / 2 + j], m, 0);
                }
    if (kind == 3)
        for (long p = 0; p < (long)e.n * e.c; p++)
            for (int i = 0; i < 2 * e.h; i++)
                for (int j = 0; j < 2 * e.w; j++)
                    assert_float_equal(e.y[p * e.nx / (e.n * e.c) * 4 + i * 2 * e.w + j],
                                       e.x[p * e.h * e.w + (i / 2) * e.w + j / 2], 0);

    float *dx = vec(e.nx);
    switch (kind) {
    case 0: iae_leaky_relu_backward(e.nx, slope, e.x, e.r, dx); break;
    case 1: iae_sigmoid_backward(e.nx, e.y, e.r, dx); break;
    case 2: iae_maxpool2d_backward(e.n, e.c, e.h, e.w, e.arg, e.r, dx); break;
    default: iae_upsample2x_backward(e.n, e.c, e.h, e.w, e.r, dx); break;
    }
    const char *names[4] = {"leaky relu dx", "sigmoid dx", "max pool dx", "upsample dx"};
    tu_gradcheck(names[kind], e.x, e.nx, dx, ew_loss, &e, 1e-2f, ATOL, RTOL, 200);
    free(e.x), free(e.y), free(e.r), free(e.arg), free(dx);
}

static void test_leaky_relu(void **state) { check_elementwise(0, 0.01f); }
static void test_leaky_relu_slope_0_2(void **state) { check_elementwise(0, 0.2f); } /* MVTec network */
static void test_sigmoid(void **state) { check_elementwise(1, 0); }
static void test_maxpool2d(void **state) { check_elementwise(2, 0); }
static void test_upsample2x(void **state) { check_elementwise(3, 0); }

static void test_maxpool2d_ties_take_first(void **state) {
    float x[4] = {1, 1, 1, 1}, y[1], dx[4], dy[1] = {5};
    uint8_t arg[1];
    iae_maxpool2d_forward(1, 1, 2, 2, x, y, arg);
    assert_int_equal(arg[0], 0);
    iae_maxpool2d_backward(1, 1, 2, 2, arg, dy, dx);
    assert_float_equal(dx[0], 5, 0);
    assert_float_equal(dx[1] + dx[2] + dx[3], 0, 0);
}

/* ---------------- linear ---------------- */

typedef struct {
    int n, in, out;
    float *x, *w, *y, *r;
} lin_case;

static double lin_loss(void *user) {
    lin_case *l = user;
    iae_linear_forward(l->n, l->in, l->out, l->x, l->w, l->y);
    return dot(l->r, l->y, (long)l->n * l->out);
}

static void test_linear(void **state) {
    lin_case l = {.n = 5, .in = 7, .out = 4};
    l.x = vec(35), l.w = vec(28), l.y = vec(20), l.r = vec(20);
    tu_fill(l.x, 35, -1, 1, 10);
    tu_fill(l.w, 28, -1, 1, 11);
    tu_fill(l.r, 20, -1, 1, 12);
    iae_linear_forward(l.n, l.in, l.out, l.x, l.w, l.y);
    for (int b = 0; b < l.n; b++)
        for (int o = 0; o < l.out; o++) {
            double s = 0;
            for (int i = 0; i < l.in; i++) s += (double)l.x[b * l.in + i] * l.w[o * l.in + i];
            assert_float_equal(l.y[b * l.out + o], s, 1e-5);
        }
    float *dx = vec(35), *dw = vec(28);
    iae_linear_backward(l.n, l.in, l.out, l.x, l.w, l.r, dx, dw);
    tu_gradcheck("linear dx", l.x, 35, dx, lin_loss, &l, 1e-2f, ATOL, RTOL, 35);
    tu_gradcheck("linear dw", l.w, 28, dw, lin_loss, &l, 1e-2f, ATOL, RTOL, 28);
    free(l.x), free(l.w), free(l.y), free(l.r), free(dx), free(dw);
}

/* ---------------- LSTM ---------------- */

typedef struct {
    int t, in, hid;
    float *x, *w_ih, *w_hh, *b_ih, *b_hh, *h0, *c0;
    float *gates, *hs, *cs, *r;
    iae_lstm_options opt;
} lstm_case;

static double lstm_loss(void *user) {
    lstm_case *l = user;
    iae_lstm_forward(l->t, l->in, l->hid, l->x, l->w_ih, l->w_hh, l->b_ih, l->b_hh, l->h0, l->c0, &l->opt,
                     l->gates, l->hs, l->cs);
    return dot(l->r, l->hs + l->hid, (long)l->t * l->hid);
}

static double sig(double v) { return 1.0 / (1.0 + exp(-v)); }

/* The nn.LSTM equations, one step at a time, in double. */
static void lstm_direct(const lstm_case *l, double *h_out) {
    const int H = l->hid, G = 4 * H;
    double *h = calloc(H, sizeof(double)), *c = calloc(H, sizeof(double)), *a = calloc(G, sizeof(double));
    for (int j = 0; j < H; j++) {
        h[j] = l->h0 ? l->h0[j] : 0.0;
        c[j] = l->c0 ? l->c0[j] : 0.0;
    }
    for (int t = 0; t < l->t; t++) {
        for (int g = 0; g < G; g++) {
            double s = (double)l->b_ih[g] + l->b_hh[g];
            for (int i = 0; i < l->in; i++) s += (double)l->w_ih[g * l->in + i] * l->x[t * l->in + i];
            for (int i = 0; i < H; i++) s += (double)l->w_hh[g * H + i] * h[i];
            a[g] = s;
        }
        for (int j = 0; j < H; j++) {
            double ig = sig(a[j]), fg = sig(a[H + j]), gg = tanh(a[2 * H + j]), og = sig(a[3 * H + j]);
            c[j] = fg * c[j] + ig * gg;
            h[j] = og * tanh(c[j]);
            h_out[t * H + j] = h[j];
        }
    }
    free(h), free(c), free(a);
}

static void lstm_alloc(lstm_case *l, int t, int in, int hid, int with_state) {
    memset(l, 0, sizeof(*l));
    l->t = t, l->in = in, l->hid = hid;
    const int G = 4 * hid;
    l->x = vec(t * in), l->w_ih = vec(G * in), l->w_hh = vec(G * hid), l->b_ih = vec(G), l->b_hh = vec(G);
    l->gates = vec(t * G), l->hs = vec((t + 1) * hid), l->cs = vec((t + 1) * hid), l->r = vec(t * hid);
    tu_fill(l->x, t * in, -1, 1, 13);
    tu_fill(l->w_ih, G * in, -0.6f, 0.6f, 14);
    tu_fill(l->w_hh, G * hid, -0.6f, 0.6f, 15);
    tu_fill(l->b_ih, G, -0.3f, 0.3f, 16);
    tu_fill(l->b_hh, G, -0.3f, 0.3f, 17);
    tu_fill(l->r, t * hid, -1, 1, 18);
    if (with_state) {
        l->h0 = vec(hid), l->c0 = vec(hid);
        tu_fill(l->h0, hid, -0.5f, 0.5f, 19);
        tu_fill(l->c0, hid, -0.5f, 0.5f, 20);
    }
}

static void lstm_release(lstm_case *l) {
    free(l->x), free(l->w_ih), free(l->w_hh), free(l->b_ih), free(l->b_hh), free(l->gates), free(l->hs);
    free(l->cs), free(l->r), free(l->h0), free(l->c0);
}

/* Gradients of one backward pass: dx, dw_ih, dw_hh, db_ih, db_hh in one block. */
typedef struct {
    float *dx, *dw_ih, *dw_hh, *db_ih, *db_hh;
    long total;
} lstm_grads;

static lstm_grads lstm_run_backward(lstm_case *l) {
    const int G = 4 * l->hid;
    lstm_grads g;
    g.total = (long)l->t * l->in + (long)G * l->in + (long)G * l->hid + 2L * G;
    g.dx = vec(g.total);
    g.dw_ih = g.dx + (long)l->t * l->in;
    g.dw_hh = g.dw_ih + (long)G * l->in;
    g.db_ih = g.dw_hh + (long)G * l->hid;
    g.db_hh = g.db_ih + G;
    float *scratch = vec(iae_lstm_scratch_floats(l->t, l->hid, iae_max_threads()));
    lstm_loss(l);
    iae_lstm_backward(l->t, l->in, l->hid, l->x, l->w_ih, l->w_hh, &l->opt, l->gates, l->hs, l->cs, l->r, g.dx,
                      g.dw_ih, g.dw_hh, g.db_ih, g.db_hh, scratch);
    free(scratch);
    return g;
}

/* Forward against the direct double-precision equations, and every gradient
 * against finite differences. */
static void check_lstm(int t, int in, int hid, int with_state, int checks) {
    lstm_case l;
    lstm_alloc(&l, t, in, hid, with_state);
    const int G = 4 * hid;
    lstm_loss(&l);
    double *want = calloc((size_t)l.t * l.hid, sizeof(double));
    lstm_direct(&l, want);
    for (int i = 0; i < l.t * l.hid; i++) assert_float_equal(l.hs[l.hid + i], want[i], 1e-5);

    lstm_grads g = lstm_run_backward(&l);
    tu_gradcheck("lstm dx", l.x, l.t * l.in, g.dx, lstm_loss, &l, 1e-2f, ATOL, RTOL, checks);
    tu_gradcheck("lstm dw_ih", l.w_ih, G * l.in, g.dw_ih, lstm_loss, &l, 1e-2f, ATOL, RTOL, checks);
    tu_gradcheck("lstm dw_hh", l.w_hh, G * l.hid, g.dw_hh, lstm_loss, &l, 1e-2f, ATOL, RTOL, checks);
    tu_gradcheck("lstm db_ih", l.b_ih, G, g.db_ih, lstm_loss, &l, 1e-2f, ATOL, RTOL, checks);
    tu_gradcheck("lstm db_hh", l.b_hh, G, g.db_hh, lstm_loss, &l, 1e-2f, ATOL, RTOL, checks);
    /* The two bias vectors always receive the same gradient. */
    assert_memory_equal(g.db_ih, g.db_hh, sizeof(float) * G);
    free(want), free(g.dx);
    lstm_release(&l);
}

static void test_lstm_zero_state(void **state) { check_lstm(6, 5, 4, 0, 40); }
static void test_lstm_given_state(void **state) { check_lstm(6, 5, 4, 1, 40); }
/* Hd a multiple of 16 takes the vector kernels, split over two threads. */
static void test_lstm_vector_kernels(void **state) { check_lstm(7, 16, 48, 1, 30); }

/* The straightforward path (one BLAS sgemv per step) and the fused kernels
 * compute the same thing up to float summation order. */
static void test_lstm_gemv_matches_fused(void **state) {
    lstm_case a, b;
    lstm_alloc(&a, 9, 32, 64, 0);
    lstm_alloc(&b, 9, 32, 64, 0);
    b.opt.impl = IAE_LSTM_GEMV;
    lstm_grads ga = lstm_run_backward(&a), gb = lstm_run_backward(&b);
    assert_close("lstm h (gemv vs fused)", b.hs, a.hs, 10 * 64, 1e-5);
    assert_close("lstm gradients (gemv vs fused)", gb.dx, ga.dx, ga.total, 1e-4);
    free(ga.dx), free(gb.dx);
    lstm_release(&a), lstm_release(&b);
}

/* With W_hh already representable in bf16, the bf16 copy changes nothing
 * but the float summation order. With general weights, the difference stays
 * within bf16 rounding. */
static void test_lstm_bf16_recurrent_weights(void **state) {
    lstm_case a, b;
    lstm_alloc(&a, 8, 16, 32, 1);
    lstm_alloc(&b, 8, 16, 32, 1);
    const long nw = 4L * 32 * 32;
    uint16_t *wb = calloc((size_t)nw, sizeof(uint16_t));
    iae_f32_to_bf16(b.w_hh, wb, nw);
    for (long i = 0; i < nw; i++) {
        uint32_t bits = (uint32_t)wb[i] << 16;
        memcpy(&a.w_hh[i], &bits, 4);
        memcpy(&b.w_hh[i], &bits, 4);
    }
    b.opt.w_hh_bf16 = wb;
    lstm_grads ga = lstm_run_backward(&a), gb = lstm_run_backward(&b);
    assert_close("lstm h (bf16 copy of bf16 weights)", b.hs, a.hs, 9 * 32, 1e-5);
    assert_close("lstm gradients (bf16 copy of bf16 weights)", gb.dx, ga.dx, ga.total, 1e-4);

    tu_fill(b.w_hh, nw, -0.6f, 0.6f, 15); /* fp32 master weights off the bf16 grid */
    tu_fill(a.w_hh, nw, -0.6f, 0.6f, 15);
    iae_f32_to_bf16(b.w_hh, wb, nw);
    lstm_loss(&a);
    lstm_loss(&b);
    assert_close("lstm h (bf16 vs fp32)", b.hs, a.hs, 9 * 32, 2e-2);
    assert_true(memcmp(a.hs + 64, b.hs + 64, sizeof(float) * 7 * 32) != 0);
    free(ga.dx), free(gb.dx), free(wb);
    lstm_release(&a), lstm_release(&b);
}

/* The recurrent kernels against double-precision sums for rows as long as
 * the MVTec LSTM's (Hd = 4096), the longest the vector bf16 paths take
 * (IAE_RECURRENT_MAX_N) and one beyond it, which takes the plain loops. The
 * bf16 results are compared with sums over the bf16-rounded weights. */
static void test_recurrent_kernels_long_rows(void **state) {
    const int lengths[3] = {4096, IAE_RECURRENT_MAX_N, IAE_RECURRENT_MAX_N + 32};
    enum { ROWS = 6 };
    for (int li = 0; li < 3; li++) {
        const int n = lengths[li];
        const long nw = (long)ROWS * n;
        float *w = vec(nw), *wr = vec(nw), *h = vec(n), *a = vec(ROWS);
        uint16_t *wb = calloc((size_t)nw, sizeof(uint16_t));
        assert_non_null(wb);
        tu_fill(w, nw, -0.5f, 0.5f, 40);
        tu_fill(h, n, -1, 1, 41);
        tu_fill(a, ROWS, -1, 1, 42);
        iae_f32_to_bf16(w, wb, nw);
        for (long i = 0; i < nw; i++) {
            uint32_t bits = (uint32_t)wb[i] << 16;
            memcpy(&wr[i], &bits, 4);
        }
        float *dots = vec(ROWS), *sums = vec(n);
        double *want_dot = calloc(ROWS, sizeof(double)), *want_sum = calloc((size_t)n, sizeof(double));
        for (int bf16 = 0; bf16 <= 1; bf16++) {
            const float *ref = bf16 ? wr : w;
            for (int r = 0; r < ROWS; r++) {
                want_dot[r] = 0.0;
                for (int k = 0; k < n; k++) want_dot[r] += (double)ref[(long)r * n + k] * h[k];
            }
            for (int k = 0; k < n; k++) {
                want_sum[k] = 0.0;
                for (int r = 0; r < ROWS; r++) want_sum[k] += (double)a[r] * ref[(long)r * n + k];
            }
            for (int reverse = 0; reverse <= 1; reverse++) {
                /* Rows 1..5 of the matrix: a range that does not start at 0. */
                memset(dots, 0, sizeof(float) * ROWS);
                iae_rows_dot(w, bf16 ? wb : NULL, n, 1, ROWS - 1, h, n, dots, reverse);
                for (int r = 0; r < ROWS - 1; r++)
                    if (fabs(dots[r] - want_dot[r + 1]) > 1e-3)
                        fail_msg("rows_dot n %d bf16 %d reverse %d row %d: got %.7g, expected %.7g", n, bf16,
                                 reverse, r + 1, dots[r], want_dot[r + 1]);

                memset(sums, 0, sizeof(float) * n);
                iae_rows_axpy(w, bf16 ? wb : NULL, n, 0, ROWS, a, n, sums, reverse);
                for (int k = 0; k < n; k++)
                    if (fabs(sums[k] - want_sum[k]) > 1e-5)
                        fail_msg("rows_axpy n %d bf16 %d reverse %d column %d: got %.7g, expected %.7g", n, bf16,
                                 reverse, k, sums[k], want_sum[k]);

                iae_cols_axpy(w, bf16 ? wb : NULL, n, ROWS, a, 0, n, sums, reverse);
                for (int k = 0; k < n; k++)
                    if (fabs(sums[k] - want_sum[k]) > 1e-5)
                        fail_msg("cols_axpy n %d bf16 %d reverse %d column %d: got %.7g, expected %.7g", n, bf16,
                                 reverse, k, sums[k], want_sum[k]);
            }
        }
        free(w), free(wr), free(h), free(a), free(wb), free(dots), free(sums), free(want_dot), free(want_sum);
    }
}

static void test_bf16_rounding(void **state) {
    const float x[5] = {1.0f, 1.00390625f, 1.005859375f, -3.14159265f, 0.0f};
    uint16_t y[5];
    iae_f32_to_bf16(x, y, 5);
    assert_int_equal(y[0], 0x3F80);
    assert_int_equal(y[1], 0x3F80); /* exactly halfway: ties to even */
    assert_int_equal(y[2], 0x3F81); /* above halfway: rounds up */
    assert_int_equal(y[3], 0xC049); /* -3.140625 */
    assert_int_equal(y[4], 0x0000);
}

/* ---------------- initialisation ---------------- */

static void check_orthogonal(int rows, int cols) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_rng rng;
    iae_rng_seed(&rng, 1, 0);
    float *w = vec((long)rows * cols);
    assert_int_equal(iae_init_orthogonal(&ctx, &rng, w, rows, cols), IAE_OK);
    /* The shorter side is orthonormal: W^T W = I (rows >= cols) or W W^T = I. */
    int n = rows < cols ? rows : cols, len = rows < cols ? cols : rows;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            double s = 0;
            for (int k = 0; k < len; k++) {
                float va = rows >= cols ? w[(long)k * cols + a] : w[(long)a * cols + k];
                float vb = rows >= cols ? w[(long)k * cols + b] : w[(long)b * cols + k];
                s += (double)va * vb;
            }
            assert_float_equal(s, a == b ? 1.0 : 0.0, 1e-5);
        }
    free(w);
}

static void test_orthogonal_tall(void **state) { check_orthogonal(32, 8); }
static void test_orthogonal_wide(void **state) { check_orthogonal(6, 20); }

static void test_xavier_bound(void **state) {
    iae_rng rng;
    iae_rng_seed(&rng, 2, 0);
    float w[4000];
    float gain = iae_leaky_relu_gain(0.01f);
    assert_float_equal(gain, 1.4141429, 1e-6);
    iae_init_xavier_uniform(&rng, w, 4000, 32 * 25, 64 * 25, gain);
    float bound = gain * sqrtf(6.0f / (96 * 25)), maxabs = 0;
    for (int i = 0; i < 4000; i++) maxabs = fmaxf(maxabs, fabsf(w[i]));
    assert_true(maxabs <= bound);
    assert_true(maxabs > 0.95f * bound);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_k5_pad2),
        cmocka_unit_test(test_conv2d_k3_stride2),
        cmocka_unit_test(test_conv2d_k3_stride2_even),
        cmocka_unit_test(test_conv_transpose2d_k5_pad2),
        cmocka_unit_test(test_conv_transpose2d_stride2),
        cmocka_unit_test(test_conv_geometry_errors),
        cmocka_unit_test(test_batchnorm2d_train),
        cmocka_unit_test(test_batchnorm1d_train),
        cmocka_unit_test(test_batchnorm_eval),
        cmocka_unit_test(test_leaky_relu),
        cmocka_unit_test(test_leaky_relu_slope_0_2),
        cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_maxpool2d),
        cmocka_unit_test(test_maxpool2d_ties_take_first),
        cmocka_unit_test(test_upsample2x),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_lstm_zero_state),
        cmocka_unit_test(test_lstm_given_state),
        cmocka_unit_test(test_lstm_vector_kernels),
        cmocka_unit_test(test_lstm_gemv_matches_fused),
        cmocka_unit_test(test_lstm_bf16_recurrent_weights),
        cmocka_unit_test(test_recurrent_kernels_long_rows),
        cmocka_unit_test(test_bf16_rounding),
        cmocka_unit_test(test_orthogonal_tall),
        cmocka_unit_test(test_orthogonal_wide),
        cmocka_unit_test(test_xavier_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
