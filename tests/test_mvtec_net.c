/*
 * MVTec AD network tests. They cover the op chain and the shape of every
 * op's output, parameter counts and state-dict names, PyTorch's default
 * initialisation and a finite-difference check of the autoencoder. For the
 * LSTM(4096) network they cover weight transfer, a forward and backward pass
 * with each recurrent kernel, and the memory context. Model file round trips
 * come last.
 *
 * The LSTM network has 136 M parameters (545 MB, and as much again for the
 * gradients). So the group setup builds it once at batch 2 and fills it with
 * uniform weights, because the orthogonal init of one (16384, 4096) matrix
 * took 50 s on a busy 2-core machine. test_net.c covers the orthogonal init
 * at LeNet size.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "layers/lstm_recurrent.h"
#include "model/detector.h"
#include "model/net.h"
#include "testutil.h"

enum { B = 2, IN_SIZE = 3 * 64 * 64, Z_SIZE = 4096, HID = 4096 };

static long count_params(const iae_net *net) {
    long n = 0;
    for (int i = 0; i < net->n_params; i++) n += net->params[i].count;
    return n;
}

static iae_net *make_net(iae_ctx *ctx, int lstm, int decoder, int batch) {
    iae_net_config cfg = iae_mvtec_config(lstm, decoder);
    iae_net *net = NULL;
    if (iae_net_create(ctx, &cfg, batch, &net) != IAE_OK) fail_msg("%s", ctx->error);
    return net;
}

/* The LSTM network shared by the tests below (state of the group). */
static int setup_lstm_net(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net_config cfg = iae_mvtec_config(1, 1);
    iae_net *net = NULL;
    if (iae_net_create(&ctx, &cfg, B, &net) != IAE_OK) {
        fprintf(stderr, "cannot build the MVTec LSTM network: %s\n", ctx.error);
        return -1;
    }
    /* U(-1/64, 1/64) = U(-1/sqrt(Hd), 1/sqrt(Hd)), nn.LSTM's default range,
     * keeps the gates away from saturation. */
    tu_fill(net->param, net->n_param_floats, -1.0f / 64, 1.0f / 64, 60);
    for (long i = 0; i < net->n_buffer_floats; i++) net->buffer[i] = 0.5f + 0.125f * (float)(i % 5);
    iae_net_params_changed(net);
    *state = net;
    return 0;
}

static int teardown_lstm_net(void **state) {
    iae_net_free(*state);
    return 0;
}

/* ---------------- op chain and shapes ---------------- */

typedef struct {
    const char *name;
    iae_op_kind kind;
    int c, h, w; /* per-sample output shape */
} op_spec;

/* The ops of the reference EncoderV2 and DecoderV2 in order. The LSTM sits
 * between them when present. */
static const op_spec encoder_ops[12] = {
    {"encoder.encoder.0", IAE_OP_CONV2D, 96, 32, 32},     {"encoder.encoder.1", IAE_OP_BATCHNORM, 96, 32, 32},
    {"encoder.encoder.2", IAE_OP_LEAKY_RELU, 96, 32, 32}, {"encoder.encoder.3", IAE_OP_CONV2D, 128, 16, 16},
    {"encoder.encoder.4", IAE_OP_BATCHNORM, 128, 16, 16}, {"encoder.encoder.5", IAE_OP_LEAKY_RELU, 128, 16, 16},
    {"encoder.encoder.6", IAE_OP_CONV2D, 256, 8, 8},      {"encoder.encoder.7", IAE_OP_BATCHNORM, 256, 8, 8},
    {"encoder.encoder.8", IAE_OP_LEAKY_RELU, 256, 8, 8},  {"encoder.encoder.9", IAE_OP_CONV2D, 256, 4, 4},
    {"encoder.encoder.10", IAE_OP_BATCHNORM, 256, 4, 4},  {"encoder.encoder.11", IAE_OP_LEAKY_RELU, 256, 4, 4},
};
static const op_spec lstm_op = {"lstm", IAE_OP_LSTM, 4096, 1, 1};
static const op_spec decoder_ops[10] = {
    {"decoder.decoder.0", IAE_OP_CONV_TRANSPOSE2D, 256, 8, 8},
    {"decoder.decoder.1", IAE_OP_BATCHNORM, 256, 8, 8},
    {"decoder.decoder.2", IAE_OP_LEAKY_RELU, 256, 8, 8},
    {"decoder.decoder.3", IAE_OP_CONV_TRANSPOSE2D, 128, 16, 16},
    {"decoder.decoder.4", IAE_OP_BATCHNORM, 128, 16, 16},
    {"decoder.decoder.5", IAE_OP_LEAKY_RELU, 128, 16, 16},
    {"decoder.decoder.6", IAE_OP_CONV_TRANSPOSE2D, 96, 32, 32},
    {"decoder.decoder.7", IAE_OP_BATCHNORM, 96, 32, 32},
    {"decoder.decoder.8", IAE_OP_LEAKY_RELU, 96, 32, 32},
    {"decoder.decoder.9", IAE_OP_CONV_TRANSPOSE2D, 3, 64, 64},
};

static void expect_op(const iae_net *net, int i, const op_spec *want) {
    const iae_op *op = &net->ops[i];
    if (strcmp(op->name, want->name) != 0 || op->kind != want->kind || op->out_c != want->c ||
        op->out_h != want->h || op->out_w != want->w)
        fail_msg("op %d: got %s kind %d (%d, %d, %d), expected %s kind %d (%d, %d, %d)", i, op->name, op->kind,
                 op->out_c, op->out_h, op->out_w, want->name, want->kind, want->c, want->h, want->w);
}

/* Check the op list against the reference, then run a forward pass over an
 * activation block filled with NaN: every op must write all B x (C, H, W)
 * outputs it declares, with finite values. */
static void check_op_chain(iae_net *net, int lstm, int decoder) {
    int i = 0;
    for (int k = 0; k < 12; k++) expect_op(net, i++, &encoder_ops[k]);
    if (lstm) expect_op(net, i++, &lstm_op);
    assert_int_equal(net->z_op, i - 1);
    for (int k = 0; decoder && k < 10; k++) expect_op(net, i++, &decoder_ops[k]);
    assert_int_equal(net->n_ops, i);
    assert_int_equal(iae_net_input_size(net), IN_SIZE);
    assert_int_equal(iae_net_z_size(net), Z_SIZE);
    int channels = 0, positions = 0;
    iae_net_z_layout(net, &channels, &positions);
    assert_int_equal(channels, lstm && !decoder ? 4096 : 256);
    assert_int_equal(positions, lstm && !decoder ? 1 : 16);
    assert_true(decoder ? iae_net_output(net) != NULL : iae_net_output(net) == NULL);

    float *x = malloc(sizeof(float) * B * IN_SIZE);
    tu_fill(x, (long)B * IN_SIZE, -1, 1, 61);
    for (int train = 1; train >= 0; train--) {
        for (int k = 0; k < net->n_ops; k++) {
            const iae_op *op = &net->ops[k];
            for (long j = 0; j < (long)B * op->out_c * op->out_h * op->out_w; j++) op->out[j] = NAN;
        }
        iae_net_forward(net, B, x, train);
        for (int k = 0; k < net->n_ops; k++) {
            const iae_op *op = &net->ops[k];
            for (long j = 0; j < (long)B * op->out_c * op->out_h * op->out_w; j++)
                if (!isfinite(op->out[j])) fail_msg("%s (train %d): output [%ld] is %g", op->name, train, j, op->out[j]);
        }
    }
    free(x);
}

static void test_op_chain_autoencoder(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *net = make_net(&ctx, 0, 1, B);
    tu_fill(net->param, net->n_param_floats, -0.05f, 0.05f, 62);
    check_op_chain(net, 0, 1);
    iae_net_free(net);
}

static void test_op_chain_encoder_only(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *net = make_net(&ctx, 0, 0, B);
    tu_fill(net->param, net->n_param_floats, -0.05f, 0.05f, 63);
    check_op_chain(net, 0, 0);
    iae_net_free(net);
}

static void test_op_chain_with_lstm(void **state) { check_op_chain(*state, 1, 1); }

/* ---------------- parameters ---------------- */

typedef struct {
    const char *name;
    int ndim, d0, d1;
} tensor_spec;

static void test_parameter_counts_and_names(void **state) {
    iae_net *lstm_net = *state;
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *ae = make_net(&ctx, 0, 1, B), *svdd = make_net(&ctx, 0, 0, B);
    /* Counts of the PyTorch reference: AeV2V2V1 and nn.LSTM(4096, 4096). */
    assert_int_equal(count_params(ae), 1995840);
    assert_int_equal(count_params(lstm_net) - count_params(ae), 134250496);
    assert_int_equal(count_params(svdd), 997920); /* the encoder's half */

    const tensor_spec params[12] = {
        {"encoder.encoder.0.weight", 4, 96, 3},    {"encoder.encoder.3.weight", 4, 128, 96},
        {"encoder.encoder.6.weight", 4, 256, 128}, {"encoder.encoder.9.weight", 4, 256, 256},
        {"lstm.weight_ih_l0", 2, 16384, 4096},     {"lstm.weight_hh_l0", 2, 16384, 4096},
        {"lstm.bias_ih_l0", 1, 16384, 0},          {"lstm.bias_hh_l0", 1, 16384, 0},
        {"decoder.decoder.0.weight", 4, 256, 256}, {"decoder.decoder.3.weight", 4, 256, 128},
        {"decoder.decoder.6.weight", 4, 128, 96},  {"decoder.decoder.9.weight", 4, 96, 3},
    };
    assert_int_equal(lstm_net->n_params, 12);
    for (int i = 0; i < 12; i++) {
        const iae_tensor_info *t = &lstm_net->params[i];
        if (strcmp(t->name, params[i].name) != 0 || t->ndim != params[i].ndim || t->dims[0] != params[i].d0 ||
            (t->ndim > 1 && t->dims[1] != params[i].d1))
            fail_msg("parameter %d: got %s (%d dims: %d, %d), expected %s (%d dims: %d, %d)", i, t->name, t->ndim,
                     t->dims[0], t->dims[1], params[i].name, params[i].ndim, params[i].d0, params[i].d1);
        if (t->ndim == 4) {
            assert_int_equal(t->dims[2], 3);
            assert_int_equal(t->dims[3], 3);
        }
    }

    const char *bn[7] = {"encoder.encoder.1", "encoder.encoder.4", "encoder.encoder.7", "encoder.encoder.10",
                         "decoder.decoder.1", "decoder.decoder.4", "decoder.decoder.7"};
    const int bn_c[7] = {96, 128, 256, 256, 256, 128, 96};
    assert_int_equal(lstm_net->n_buffers, 14);
    for (int i = 0; i < 7; i++) {
        char mean[IAE_NAME_BYTES], var[IAE_NAME_BYTES];
        snprintf(mean, sizeof(mean), "%s.running_mean", bn[i]);
        snprintf(var, sizeof(var), "%s.running_var", bn[i]);
        assert_string_equal(lstm_net->buffers[2 * i].name, mean);
        assert_string_equal(lstm_net->buffers[2 * i + 1].name, var);
        assert_int_equal(lstm_net->buffers[2 * i].count, bn_c[i]);
    }
    iae_net_free(ae), iae_net_free(svdd);
}

/* PyTorch's default for Conv2d and ConvTranspose2d: U(-b, b) with
 * b = 1 / sqrt(fan_in), fan_in = weight.size(1) * 3 * 3, which is Cin * 9
 * for a convolution and Cout * 9 for a transposed one. */
static void test_default_initialisation(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *net = make_net(&ctx, 0, 1, B);
    iae_rng rng;
    iae_rng_seed(&rng, 3, 1);
    assert_int_equal(iae_net_init_params(&ctx, net, &rng), IAE_OK);
    const int fan_in[8] = {3 * 9, 96 * 9, 128 * 9, 256 * 9, 256 * 9, 128 * 9, 96 * 9, 3 * 9};
    for (int p = 0; p < net->n_params; p++) {
        const iae_tensor_info *t = &net->params[p];
        const float bound = 1.0f / sqrtf((float)fan_in[p]);
        float maxabs = 0.0f;
        for (long i = 0; i < t->count; i++) maxabs = fmaxf(maxabs, fabsf(net->param[t->offset + i]));
        if (!(maxabs <= bound && maxabs > 0.95f * bound))
            fail_msg("%s: max |w| %g, expected just below 1/sqrt(%d) = %g", t->name, maxabs, fan_in[p], bound);
    }
    for (int b = 0; b < net->n_buffers; b += 2)
        for (long i = 0; i < net->buffers[b].count; i++) {
            assert_float_equal(net->buffer[net->buffers[b].offset + i], 0.0f, 0);
            assert_float_equal(net->buffer[net->buffers[b + 1].offset + i], 1.0f, 0);
        }
    iae_net_free(net);
}

/* ---------------- gradients of the autoencoder ---------------- */

/* L = sum(rz * z) + sum(ro * xhat), z the encoder output; ro = NULL drops
 * the reconstruction term. */
typedef struct {
    iae_net *net;
    int train;
    float *x, *rz, *ro, *saved_buffers;
} ae_case;

static double ae_loss(void *user) {
    ae_case *c = user;
    /* Training-mode passes update the running statistics: restore them. */
    memcpy(c->net->buffer, c->saved_buffers, sizeof(float) * c->net->n_buffer_floats);
    iae_net_forward(c->net, B, c->x, c->train);
    const float *z = iae_net_z(c->net), *o = iae_net_output(c->net);
    double s = 0.0;
    for (long i = 0; i < (long)B * Z_SIZE; i++) s += (double)c->rz[i] * z[i];
    for (long i = 0; c->ro != NULL && i < (long)B * IN_SIZE; i++) s += (double)c->ro[i] * o[i];
    return s;
}

/* Derivative along the unit gradient direction of a whole tensor, as in
 * test_net.c: (L(w + eps u) - L(w - eps u)) / 2 eps must equal |g|. */
static void check_direction(ae_case *c, const iae_tensor_info *t, float eps, double rtol) {
    float *w = c->net->param + t->offset;
    const float *g = c->net->grad + t->offset;
    float *saved = malloc(sizeof(float) * t->count);
    memcpy(saved, w, sizeof(float) * t->count);
    double norm = 0.0;
    for (long i = 0; i < t->count; i++) norm += (double)g[i] * g[i];
    norm = sqrt(norm);
    assert_true(norm > 0.0);
    for (long i = 0; i < t->count; i++) w[i] = saved[i] + (float)(eps * g[i] / norm);
    const double lp = ae_loss(c);
    for (long i = 0; i < t->count; i++) w[i] = saved[i] - (float)(eps * g[i] / norm);
    const double lm = ae_loss(c);
    memcpy(w, saved, sizeof(float) * t->count);
    const double numeric = (lp - lm) / (2.0 * eps);
    if (fabs(numeric - norm) > rtol * norm)
        fail_msg("%s (train %d): derivative along the gradient: analytic %.6g vs numeric %.6g", t->name, c->train,
                 norm, numeric);
    free(saved);
}

/* Compare central differences of count entries spread over v (n values)
 * with the analytic gradient g. The float forward pass puts rounding noise of
 * about 5e-5 into L, because BatchNorm in training mode mixes the whole batch
 * into every output. That is several percent of a small entry's difference
 * quotient. So the tolerance is 3% of the tensor's largest gradient plus 3%
 * of the entry, which a wrong sign, index or term still exceeds. */
static void check_entries(ae_case *c, const char *tensor_name, float *v, long n, const float *g, float eps,
                          int count) {
    double scale = 0.0;
    for (long i = 0; i < n; i++) scale = fmax(scale, fabs(g[i]));
    assert_true(scale > 0.0);
    for (long i = n / (2 * count); i < n; i += n / count) {
        const float saved = v[i];
        v[i] = saved + eps;
        const double lp = ae_loss(c);
        v[i] = saved - eps;
        const double lm = ae_loss(c);
        v[i] = saved;
        const double numeric = (lp - lm) / ((double)(saved + eps) - (double)(saved - eps));
        if (fabs(numeric - g[i]) > 0.03 * scale + 0.03 * fabs(g[i]))
            fail_msg("%s [%ld] (train %d): analytic %.6g vs numeric %.6g (largest |gradient| %.3g)", tensor_name, i,
                     c->train, g[i], numeric, scale);
    }
}

/* Check the gradients at the reference slope 0.2, with the same parameters
 * and data in both BatchNorm modes. Training mode, the mode of every gradient
 * step, also gets central differences of a few input entries and a few
 * entries of every weight tensor. Both modes get the derivative along each
 * tensor's gradient. With reconstruction = 0 only the z term is in the loss,
 * and the decoder's gradients must stay zero. */
static void check_autoencoder_gradients(int train, int reconstruction) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    ae_case c = {.train = train};
    c.net = make_net(&ctx, 0, 1, B);
    iae_rng rng;
    iae_rng_seed(&rng, 12, 1);
    assert_int_equal(iae_net_init_params(&ctx, c.net, &rng), IAE_OK);
    c.x = malloc(sizeof(float) * B * IN_SIZE);
    c.rz = malloc(sizeof(float) * B * Z_SIZE);
    c.ro = malloc(sizeof(float) * B * IN_SIZE);
    c.saved_buffers = malloc(sizeof(float) * c.net->n_buffer_floats);
    tu_fill(c.x, (long)B * IN_SIZE, -1, 1, 64);
    tu_fill(c.rz, (long)B * Z_SIZE, -1, 1, 65);
    /* With ro ten times smaller than rz, neither term dominates the encoder's
     * gradients in training mode, so an error in either one shows. */
    tu_fill(c.ro, (long)B * IN_SIZE, -0.1f, 0.1f, 66);
    /* Non-trivial running statistics for eval mode. */
    for (long i = 0; i < c.net->n_buffer_floats; i++) c.net->buffer[i] = 0.1f + 0.05f * (float)(i % 7);
    memcpy(c.saved_buffers, c.net->buffer, sizeof(float) * c.net->n_buffer_floats);
    float *ro = c.ro;
    if (!reconstruction) c.ro = NULL;

    /* Parameters of the decoder come after the encoder's four convolutions. */
    const int n_checked = reconstruction ? c.net->n_params : 4;
    float *dx = malloc(sizeof(float) * B * IN_SIZE);
    ae_loss(&c);
    iae_net_zero_grad(c.net);
    iae_net_backward_input(c.net, B, c.x, c.rz, c.ro, dx);
    for (int p = n_checked; p < c.net->n_params; p++) {
        const iae_tensor_info *t = &c.net->params[p];
        for (long i = 0; i < t->count; i++)
            if (c.net->grad[t->offset + i] != 0.0f) fail_msg("%s [%ld]: gradient without a reconstruction term", t->name, i);
    }
    if (train) {
        check_entries(&c, "input", c.x, (long)B * IN_SIZE, dx, 1e-2f, 6);
        for (int p = 0; p < n_checked; p++) {
            const iae_tensor_info *t = &c.net->params[p];
            check_entries(&c, t->name, c.net->param + t->offset, t->count, c.net->grad + t->offset, 1e-3f, 4);
        }
    }
    for (int p = 0; p < n_checked; p++) check_direction(&c, &c.net->params[p], 1e-4f, 0.03);

    /* iae_net_backward computes the same parameter gradients without dx. */
    float *grad = malloc(sizeof(float) * c.net->n_param_floats);
    memcpy(grad, c.net->grad, sizeof(float) * c.net->n_param_floats);
    ae_loss(&c);
    iae_net_zero_grad(c.net);
    iae_net_backward(c.net, B, c.x, c.rz, c.ro);
    assert_memory_equal(c.net->grad, grad, sizeof(float) * c.net->n_param_floats);

    free(grad), free(dx), free(c.x), free(c.rz), free(ro), free(c.saved_buffers);
    iae_net_free(c.net);
}

static void test_autoencoder_gradients_train_mode(void **state) { check_autoencoder_gradients(1, 1); }
static void test_autoencoder_gradients_eval_mode(void **state) { check_autoencoder_gradients(0, 1); }
static void test_encoder_gradients_z_term_only(void **state) { check_autoencoder_gradients(1, 0); }

/* ---------------- the LSTM network ---------------- */

/* Weight transfer from the autoencoder copies every conv weight and
 * BatchNorm statistic by name and leaves the LSTM alone. */
static void test_transfer_from_autoencoder(void **state) {
    iae_net *iae = *state;
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *ae = make_net(&ctx, 0, 1, B);
    tu_fill(ae->param, ae->n_param_floats, -0.05f, 0.05f, 67);
    for (long i = 0; i < ae->n_buffer_floats; i++) ae->buffer[i] = 0.25f + 0.5f * (float)(i % 3);
    const int w_hh = iae_net_find_param(iae, "lstm.weight_hh_l0");
    const float lstm_before = iae->param[iae->params[w_hh].offset + 12345];
    /* 8 conv weights and 7 BatchNorms x 2 statistics. */
    assert_int_equal(iae_net_copy_matching(iae, ae), 22);
    for (int p = 0; p < ae->n_params; p++) {
        const int q = iae_net_find_param(iae, ae->params[p].name);
        assert_true(q >= 0);
        assert_memory_equal(iae->param + iae->params[q].offset, ae->param + ae->params[p].offset,
                            sizeof(float) * ae->params[p].count);
    }
    assert_memory_equal(iae->buffer, ae->buffer, sizeof(float) * ae->n_buffer_floats);
    assert_float_equal(iae->param[iae->params[w_hh].offset + 12345], lstm_before, 0);
    iae_net_free(ae);
}

static double max_abs_diff(const float *a, const float *b, long n) {
    double m = 0.0;
    for (long i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* A training-mode forward and backward pass reaches every tensor, and z is
 * a hidden state in (-1, 1). */
static void test_lstm_forward_backward(void **state) {
    iae_net *net = *state;
    float *x = malloc(sizeof(float) * B * IN_SIZE), *dz = malloc(sizeof(float) * B * Z_SIZE);
    float *dout = malloc(sizeof(float) * B * IN_SIZE);
    tu_fill(x, (long)B * IN_SIZE, -1, 1, 68);
    tu_fill(dz, (long)B * Z_SIZE, -1, 1, 69);
    tu_fill(dout, (long)B * IN_SIZE, -1, 1, 70);
    float *saved_buffers = malloc(sizeof(float) * net->n_buffer_floats);
    memcpy(saved_buffers, net->buffer, sizeof(float) * net->n_buffer_floats);

    iae_net_forward(net, B, x, 1);
    const float *z = iae_net_z(net);
    for (long i = 0; i < (long)B * Z_SIZE; i++) assert_true(z[i] > -1.0f && z[i] < 1.0f);
    iae_net_zero_grad(net);
    iae_net_backward(net, B, x, dz, dout);
    for (int p = 0; p < net->n_params; p++) {
        const iae_tensor_info *t = &net->params[p];
        double norm = 0.0;
        for (long i = 0; i < t->count; i++) norm += (double)net->grad[t->offset + i] * net->grad[t->offset + i];
        if (!(norm > 0.0 && isfinite(norm))) fail_msg("%s: gradient norm^2 %g", t->name, norm);
    }
    memcpy(net->buffer, saved_buffers, sizeof(float) * net->n_buffer_floats);
    free(x), free(dz), free(dout), free(saved_buffers);
}

/* The fused recurrent kernels on fp32 weights, on the bf16 copy of W_hh, and
 * the OpenBLAS GEMV path agree at Hd 4096 within float or bf16 rounding, in
 * z and in dW_hh. BatchNorm runs in eval mode here, because with batch
 * statistics over 2 samples the decoder turns a 1e-4 change of z into a 2%
 * change of the gradient it returns, which would hide the kernels' error. */
static void test_lstm_recurrent_kernels_agree(void **state) {
    iae_net *net = *state;
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    float *x = malloc(sizeof(float) * B * IN_SIZE), *dz = malloc(sizeof(float) * B * Z_SIZE);
    float *dout = malloc(sizeof(float) * B * IN_SIZE);
    tu_fill(x, (long)B * IN_SIZE, -1, 1, 68);
    tu_fill(dz, (long)B * Z_SIZE, -1, 1, 69);
    tu_fill(dout, (long)B * IN_SIZE, -1, 1, 70);

    const int w_hh = iae_net_find_param(net, "lstm.weight_hh_l0");
    const long w_count = net->params[w_hh].count;
    const float *grad_hh = net->grad + net->params[w_hh].offset;
    float *z[3], *dw_hh = malloc(sizeof(float) * w_count); /* dW_hh of run 0 */
    double dw_diff[3] = {0}, dw_scale = 0.0;               /* dw_scale: max |dW_hh| of run 0 */
    for (int run = 0; run < 3; run++) {
        /* 0: fused fp32, 1: fused bf16, 2: GEMV */
        const iae_lstm_impl impl = run == 2 ? IAE_LSTM_GEMV : IAE_LSTM_FUSED;
        assert_int_equal(iae_net_set_lstm_kernel(&ctx, net, impl, run == 1), IAE_OK);
        assert_true(run == 1 ? net->w_hh_bf16 != NULL : net->w_hh_bf16 == NULL);
        iae_net_forward(net, B, x, 0);
        z[run] = malloc(sizeof(float) * B * Z_SIZE);
        memcpy(z[run], iae_net_z(net), sizeof(float) * B * Z_SIZE);
        iae_net_zero_grad(net);
        iae_net_backward(net, B, x, dz, dout);
        if (run > 0) {
            dw_diff[run] = max_abs_diff(grad_hh, dw_hh, w_count);
            continue;
        }
        memcpy(dw_hh, grad_hh, sizeof(float) * w_count);
        for (long i = 0; i < w_count; i++) dw_scale = fmax(dw_scale, fabs(dw_hh[i]));
    }
    assert_int_equal(iae_net_set_lstm_kernel(&ctx, net, IAE_LSTM_FUSED, 0), IAE_OK);

    /* The first sample starts from the zero state, so W_hh is not read. */
    assert_memory_equal(z[1], z[0], sizeof(float) * Z_SIZE);
    const double z_bf16 = max_abs_diff(z[1], z[0], (long)B * Z_SIZE);
    const double z_gemv = max_abs_diff(z[2], z[0], (long)B * Z_SIZE);
    assert_true(z_bf16 > 0.0); /* the second sample did read the bf16 weights */
    if (z_gemv > 1e-5 || dw_diff[2] > 1e-5 * dw_scale)
        fail_msg("GEMV vs fused: max |z| difference %g, max |dW_hh| difference %g of %g", z_gemv, dw_diff[2], dw_scale);
    if (z_bf16 > 1e-3 || dw_diff[1] > 1e-2 * dw_scale)
        fail_msg("bf16 vs fp32: max |z| difference %g, max |dW_hh| difference %g of %g", z_bf16, dw_diff[1], dw_scale);

    for (int run = 0; run < 3; run++) free(z[run]);
    free(dw_hh), free(x), free(dz), free(dout);
}

/* In the memory context at Hd 4096, each sample alone gives the same bits
 * as in the whole batch. */
static void test_lstm_memory_context(void **state) {
    iae_net *net = *state;
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    float *h = malloc(sizeof(float) * HID), *c = malloc(sizeof(float) * HID);
    float *x = malloc(sizeof(float) * B * IN_SIZE), *z = malloc(sizeof(float) * B * Z_SIZE);
    tu_fill(h, HID, -0.5f, 0.5f, 71);
    tu_fill(c, HID, -1, 1, 72);
    tu_fill(x, (long)B * IN_SIZE, -1, 1, 73);
    iae_net_set_memory(net, h, c);
    assert_int_equal(iae_net_set_context(&ctx, net, IAE_CONTEXT_MEMORY), IAE_OK);
    iae_net_forward(net, B, x, 0);
    memcpy(z, iae_net_z(net), sizeof(float) * B * Z_SIZE);
    for (int b = 0; b < B; b++) {
        iae_net_forward(net, 1, x + (long)b * IN_SIZE, 0);
        assert_memory_equal(iae_net_z(net), z + (long)b * Z_SIZE, sizeof(float) * Z_SIZE);
    }
    assert_int_equal(iae_net_set_context(&ctx, net, IAE_CONTEXT_BATCH), IAE_OK);
    net->has_memory = 0;
    free(h), free(c), free(x), free(z);
}

/* ---------------- model file ---------------- */

static iae_detector_info mvtec_info(iae_model_kind model) {
    iae_detector_info info = {0};
    info.model = model;
    info.net = iae_dataset_net_config(IAE_DATASET_MVTEC, model);
    snprintf(info.dataset, sizeof(info.dataset), "%s", iae_dataset_id_name(IAE_DATASET_MVTEC));
    info.normal_class = 5;
    iae_default_weights(IAE_DATASET_MVTEC, model, info.normal_class, &info.w_mse, &info.w_kl, &info.nu);
    info.norm_min = -1.0f, info.norm_max = 1.0f;
    info.seed = 7, info.batch_size = 4, info.epochs = 1, info.pretrain_epochs = 1;
    info.lr = 1e-4f, info.weight_decay = 5e-7f, info.bn_train_mode = 1, info.train_samples = 391;
    return info;
}

/* Save and load an MVTec DCAE-SVDD detector (the autoencoder network; the
 * LSTM tensors take the LeNet path): same settings, same bytes, identical
 * forward passes. */
static void test_model_file_round_trip(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_detector_info info = mvtec_info(IAE_MODEL_DCAE_SVDD);
    iae_detector *d = NULL;
    assert_int_equal(iae_detector_create(&ctx, &info, info.batch_size, &d), IAE_OK);
    iae_rng rng;
    iae_rng_seed(&rng, 8, 1);
    assert_int_equal(iae_net_init_params(&ctx, d->net, &rng), IAE_OK);
    for (long i = 0; i < d->net->n_buffer_floats; i++) d->net->buffer[i] = 0.5f + 0.125f * (float)(i % 5);
    tu_fill(d->center, Z_SIZE, -0.3f, 0.3f, 74);

    const char *path = tu_path(tu_tmpdir("mvtec_round_trip"), "mvtec.iae");
    if (iae_model_save(&ctx, d, path) != IAE_OK) fail_msg("%s", ctx.error);
    iae_detector *e = NULL;
    if (iae_model_load(&ctx, path, 0, &e) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(e->info.net.arch, IAE_ARCH_MVTEC);
    assert_int_equal(e->info.net.in_c, 3);
    assert_int_equal(e->info.net.in_h, 64);
    assert_int_equal(e->info.net.rep_dim, 4096);
    assert_float_equal(e->info.net.leaky_slope, 0.2f, 0);
    assert_float_equal(e->info.net.bn_eps, 1e-5f, 0);
    assert_string_equal(e->info.dataset, "mvtec");
    assert_int_equal(e->net->n_params, d->net->n_params);
    assert_memory_equal(e->net->param, d->net->param, sizeof(float) * d->net->n_param_floats);
    assert_memory_equal(e->net->buffer, d->net->buffer, sizeof(float) * d->net->n_buffer_floats);
    assert_memory_equal(e->center, d->center, sizeof(float) * Z_SIZE);

    float *x = malloc(sizeof(float) * 4 * IN_SIZE);
    tu_fill(x, 4L * IN_SIZE, -1, 1, 75);
    iae_net_forward(d->net, 4, x, 0);
    iae_net_forward(e->net, 4, x, 0);
    assert_memory_equal(iae_net_z(e->net), iae_net_z(d->net), sizeof(float) * 4 * Z_SIZE);
    assert_memory_equal(iae_net_output(e->net), iae_net_output(d->net), sizeof(float) * 4 * IN_SIZE);
    free(x);
    iae_detector_free(d), iae_detector_free(e);
}

/* The configuration record of an MVTec IAE-LSTM-KL model survives a round
 * trip through its text form. */
static void test_config_round_trip_with_lstm(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_detector_info info = mvtec_info(IAE_MODEL_IAE_LSTM_KL), back;
    char text[4096];
    const int len = iae_model_format_config(&info, text, sizeof(text));
    assert_true(len > 0 && len < (int)sizeof(text));
    assert_non_null(strstr(text, "arch=mvtec\n"));
    if (iae_model_parse_config(&ctx, "mvtec.iae", text, (size_t)len, &back) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(back.net.arch, IAE_ARCH_MVTEC);
    assert_int_equal(back.net.use_lstm, 1);
    assert_int_equal(back.net.use_decoder, 1);
    assert_int_equal(back.net.rep_dim, 4096);
    assert_float_equal(back.w_mse, 1.0f, 0);
    assert_float_equal(back.w_kl, 1.0f, 0);
    assert_float_equal(back.nu, 0.1f, 0);
}

/* Replace the first occurrence of from by to in a configuration text. */
static void replace(char *text, const char *from, const char *to) {
    char *at = strstr(text, from);
    assert_non_null(at);
    const size_t from_len = strlen(from), to_len = strlen(to), rest = strlen(at + from_len);
    memmove(at + to_len, at + from_len, rest + 1);
    memcpy(at, to, to_len);
}

static void expect_config_rejected(char *text, const char *needle) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_detector_info info;
    assert_int_equal(iae_model_parse_config(&ctx, "bad.iae", text, strlen(text), &info), IAE_ERR_FORMAT);
    if (strstr(ctx.error, needle) == NULL) fail_msg("message '%s' lacks '%s'", ctx.error, needle);
}

static void test_config_rejects_wrong_architecture(void **state) {
    iae_detector_info info = mvtec_info(IAE_MODEL_IAE_LSTM_KL);
    char text[4096];
    iae_model_format_config(&info, text, sizeof(text));
    char unknown[4096], lenet_sizes[4096], wrong_input[4096];
    memcpy(unknown, text, sizeof(text));
    memcpy(lenet_sizes, text, sizeof(text));
    memcpy(wrong_input, text, sizeof(text));

    replace(unknown, "arch=mvtec", "arch=resnet");
    expect_config_rejected(unknown, "unknown architecture 'resnet'");
    /* An MVTec configuration with LeNet sizes, and the reverse. */
    replace(lenet_sizes, "arch=mvtec", "arch=lenet");
    expect_config_rejected(lenet_sizes, "lenet architecture, input 3x64x64, rep_dim 4096");
    replace(wrong_input, "in_h=64", "in_h=32");
    expect_config_rejected(wrong_input, "mvtec architecture, input 3x32x64");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_chain_autoencoder),
        cmocka_unit_test(test_op_chain_encoder_only),
        cmocka_unit_test(test_op_chain_with_lstm),
        cmocka_unit_test(test_parameter_counts_and_names),
        cmocka_unit_test(test_default_initialisation),
        cmocka_unit_test(test_autoencoder_gradients_train_mode),
        cmocka_unit_test(test_autoencoder_gradients_eval_mode),
        cmocka_unit_test(test_encoder_gradients_z_term_only),
        cmocka_unit_test(test_transfer_from_autoencoder),
        cmocka_unit_test(test_lstm_forward_backward),
        cmocka_unit_test(test_lstm_recurrent_kernels_agree),
        cmocka_unit_test(test_lstm_memory_context),
        cmocka_unit_test(test_model_file_round_trip),
        cmocka_unit_test(test_config_round_trip_with_lstm),
        cmocka_unit_test(test_config_rejects_wrong_architecture),
    };
    return cmocka_run_group_tests(tests, setup_lstm_net, teardown_lstm_net);
}
