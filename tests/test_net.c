/*
 * Network tests: parameter counts of the reference networks, the
 * batch-as-sequence LSTM semantics, weight transfer by name, and a
 * finite-difference check of the whole forward/backward chain.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/net.h"
#include "testutil.h"

static iae_net *make_net(iae_ctx *ctx, int lstm, int decoder, int batch, uint64_t seed) {
    iae_net_config cfg = iae_lenet_config(1, lstm, decoder);
    iae_net *net = NULL;
    assert_int_equal(iae_net_create(ctx, &cfg, batch, &net), IAE_OK);
    iae_rng rng;
    iae_rng_seed(&rng, seed, 1);
    assert_int_equal(iae_net_init_params(ctx, net, &rng), IAE_OK);
    return net;
}

static long count_params(const iae_net *net) {
    long n = 0;
    for (int i = 0; i < net->n_params; i++) n += net->params[i].count;
    return n;
}

static void test_parameter_counts(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *ae = make_net(&ctx, 0, 1, 2, 0);
    iae_net *iae = make_net(&ctx, 1, 1, 2, 0);
    iae_net *svdd = make_net(&ctx, 0, 0, 2, 0);
    /* Counts of the PyTorch reference models. */
    assert_int_equal(count_params(ae), 801344);
    assert_int_equal(count_params(iae), 34372160);
    assert_int_equal(count_params(svdd), 256800 + 262144); /* convs + fc1 */
    assert_int_equal(iae_net_z_size(iae), 128);
    assert_int_equal(iae_net_input_size(iae), 1024);
    iae_net_free(ae), iae_net_free(iae), iae_net_free(svdd);
}

static void test_transfer_copies_all_but_lstm(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *ae = make_net(&ctx, 0, 1, 2, 1);
    iae_net *iae = make_net(&ctx, 1, 1, 2, 2);
    int lstm = iae_net_find_param(iae, "lstm.weight_hh_l0");
    float before = iae->param[iae->params[lstm].offset];
    for (long i = 0; i < ae->n_buffer_floats; i++) ae->buffer[i] = 0.5f + (float)i;
    /* 8 weights (conv1-3, fc1, deconv1-4) and 7 BatchNorms x 2 statistics. */
    assert_int_equal(iae_net_copy_matching(iae, ae), 22);
    const char *names[] = {"conv1.weight", "fc1.weight", "deconv4.weight"};
    for (int k = 0; k < 3; k++) {
        int i = iae_net_find_param(iae, names[k]), j = iae_net_find_param(ae, names[k]);
        assert_memory_equal(iae->param + iae->params[i].offset, ae->param + ae->params[j].offset,
                            sizeof(float) * ae->params[j].count);
    }
    int b = iae_net_find_buffer(iae, "bn2d6.running_var"), a = iae_net_find_buffer(ae, "bn2d6.running_var");
    assert_memory_equal(iae->buffer + iae->buffers[b].offset, ae->buffer + ae->buffers[a].offset, 32 * sizeof(float));
    assert_float_equal(iae->param[iae->params[lstm].offset], before, 0);
    iae_net_free(ae), iae_net_free(iae);
}

/* Sample b's feature depends on samples 0..b of its batch and on no later one. */
static void test_lstm_batch_is_sequence(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    enum { B = 4 };
    iae_net *net = make_net(&ctx, 1, 0, B, 3);
    float x[B * 1024];
    tu_fill(x, B * 1024, 0, 1, 5);
    iae_net_forward(net, B, x, 0);
    float z1[B * 128];
    memcpy(z1, iae_net_z(net), sizeof(z1));
    for (int i = 0; i < 1024; i++) x[2 * 1024 + i] = 1.0f - x[2 * 1024 + i];
    iae_net_forward(net, B, x, 0);
    const float *z2 = iae_net_z(net);
    assert_memory_equal(z1, z2, 2 * 128 * sizeof(float));
    for (int b = 2; b < B; b++) {
        double diff = 0;
        for (int j = 0; j < 128; j++) diff += fabs(z1[b * 128 + j] - z2[b * 128 + j]);
        assert_true(diff > 1e-4);
    }
    iae_net_free(net);
}

/* Whole-network check: L = sum(rz * z) + sum(ro * xhat). */
typedef struct {
    iae_net *net;
    int n, train;
    float *x, *rz, *ro;
    float *saved_buffers;
} net_case;

static double net_loss(void *user) {
    net_case *c = user;
    /* Training-mode passes update the running statistics: restore them. */
    memcpy(c->net->buffer, c->saved_buffers, sizeof(float) * c->net->n_buffer_floats);
    iae_net_forward(c->net, c->n, c->x, c->train);
    double s = 0;
    const float *z = iae_net_z(c->net), *o = iae_net_output(c->net);
    for (long i = 0; i < (long)c->n * 128; i++) s += (double)c->rz[i] * z[i];
    for (long i = 0; o != NULL && i < (long)c->n * 1024; i++) s += (double)c->ro[i] * o[i];
    return s;
}

/* Directional derivative of L along the unit gradient direction
 * u = g / |g| of one whole tensor: (L(w + eps u) - L(w - eps u)) / 2 eps must
 * equal |g|. Moving along the gradient gives the largest first-order signal
 * over float rounding, which matters for the LSTM, whose per-element
 * gradients are tiny, and a per-element step of eps |g_i| / |g| crosses few
 * ReLU and max-pool kinks. */
static void check_direction(net_case *c, const iae_tensor_info *t, float eps, double rtol) {
    float *w = c->net->param + t->offset;
    const float *g = c->net->grad + t->offset;
    float *saved = malloc(sizeof(float) * t->count);
    memcpy(saved, w, sizeof(float) * t->count);
    double norm = 0.0;
    for (long i = 0; i < t->count; i++) norm += (double)g[i] * g[i];
    norm = sqrt(norm);
    assert_true(norm > 0.0);

    for (long i = 0; i < t->count; i++) w[i] = saved[i] + (float)(eps * g[i] / norm);
    double lp = net_loss(c);
    for (long i = 0; i < t->count; i++) w[i] = saved[i] - (float)(eps * g[i] / norm);
    double lm = net_loss(c);
    memcpy(w, saved, sizeof(float) * t->count);
    double numeric = (lp - lm) / (2.0 * eps);
    if (fabs(numeric - norm) > rtol * norm)
        fail_msg("%s (train %d): derivative along the gradient: analytic %.6g vs numeric %.6g", t->name, c->train,
                 norm, numeric);
    free(saved);
}

static void check_network_gradients(int lstm, int decoder, int train) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    enum { B = 3 };
    net_case c = {.n = B, .train = train};
    /* Slope 0.5 instead of 0.01 keeps the many leaky-ReLU kinks mild, so
     * finite differences over a whole tensor stay accurate. The layer tests
     * check the kernels at the reference slope. */
    iae_net_config cfg = iae_lenet_config(1, lstm, decoder);
    cfg.leaky_slope = 0.5f;
    assert_int_equal(iae_net_create(&ctx, &cfg, B, &c.net), IAE_OK);
    iae_rng rng;
    iae_rng_seed(&rng, 11, 1);
    assert_int_equal(iae_net_init_params(&ctx, c.net, &rng), IAE_OK);
    c.x = malloc(sizeof(float) * B * 1024);
    c.rz = malloc(sizeof(float) * B * 128);
    c.ro = malloc(sizeof(float) * B * 1024);
    c.saved_buffers = malloc(sizeof(float) * (c.net->n_buffer_floats + 1));
    tu_fill(c.x, B * 1024, 0, 1, 6);
    tu_fill(c.rz, B * 128, -1, 1, 7);
    tu_fill(c.ro, B * 1024, -1, 1, 8);
    /* Non-trivial running statistics for eval mode. */
    for (long i = 0; i < c.net->n_buffer_floats; i++) c.net->buffer[i] = 0.1f + 0.01f * (float)(i % 7);
    memcpy(c.saved_buffers, c.net->buffer, sizeof(float) * c.net->n_buffer_floats);

    net_loss(&c);
    iae_net_zero_grad(c.net);
    iae_net_backward(c.net, B, c.x, c.rz, decoder ? c.ro : NULL);
    for (int p = 0; p < c.net->n_params; p++) check_direction(&c, &c.net->params[p], 1e-4f, 0.03);
    free(c.x), free(c.rz), free(c.ro), free(c.saved_buffers);
    iae_net_free(c.net);
}

static void test_autoencoder_gradients_train_mode(void **state) { check_network_gradients(0, 1, 1); }
static void test_iae_gradients_train_mode(void **state) { check_network_gradients(1, 1, 1); }
static void test_iae_gradients_eval_mode(void **state) { check_network_gradients(1, 1, 0); }
static void test_encoder_only_gradients(void **state) { check_network_gradients(1, 0, 1); }
static void test_deep_svdd_gradients(void **state) { check_network_gradients(0, 0, 1); }

/* Memory and none contexts: each sample is scored alone, bit-identically
 * whatever its batch and position, and equals one LSTM step from the state. */
static void test_independent_contexts(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    enum { B = 6 };
    iae_net *net = make_net(&ctx, 1, 1, B, 21);
    float h[2048], c[2048], x[B * 1024];
    tu_fill(h, 2048, -0.5f, 0.5f, 30);
    tu_fill(c, 2048, -1.0f, 1.0f, 31);
    tu_fill(x, B * 1024, 0, 1, 32);
    assert_int_equal(iae_net_set_context(&ctx, net, IAE_CONTEXT_MEMORY), IAE_ERR_ARGUMENT);
    iae_net_set_memory(net, h, c);
    for (int mode = IAE_CONTEXT_MEMORY; mode <= IAE_CONTEXT_NONE; mode++) {
        assert_int_equal(iae_net_set_context(&ctx, net, (iae_lstm_context)mode), IAE_OK);
        iae_net_forward(net, B, x, 0);
        float z[B * 128], out[B * 1024];
        memcpy(z, iae_net_z(net), sizeof(z));
        memcpy(out, iae_net_output(net), sizeof(out));
        /* Alone, and in reversed order. */
        for (int b = 0; b < B; b++) {
            iae_net_forward(net, 1, x + b * 1024, 0);
            assert_memory_equal(iae_net_z(net), z + b * 128, sizeof(float) * 128);
            assert_memory_equal(iae_net_output(net), out + b * 1024, sizeof(float) * 1024);
        }
        float rev[B * 1024];
        for (int b = 0; b < B; b++) memcpy(rev + b * 1024, x + (B - 1 - b) * 1024, sizeof(float) * 1024);
        iae_net_forward(net, B, rev, 0);
        for (int b = 0; b < B; b++)
            assert_memory_equal(iae_net_z(net) + b * 128, z + (B - 1 - b) * 128, sizeof(float) * 128);

        /* The batch context with the same initial state and one sample is
         * the same computation, up to float summation order. */
        assert_int_equal(iae_net_set_context(&ctx, net, IAE_CONTEXT_BATCH), IAE_OK);
        net->lstm_h0 = mode == IAE_CONTEXT_MEMORY ? h : NULL;
        net->lstm_c0 = mode == IAE_CONTEXT_MEMORY ? c : NULL;
        for (int b = 0; b < B; b++) {
            iae_net_forward(net, 1, x + b * 1024, 0);
            for (int j = 0; j < 128; j++) assert_float_equal(iae_net_z(net)[j], z[b * 128 + j], 1e-4);
        }
        net->lstm_h0 = net->lstm_c0 = NULL;
    }
    iae_net_free(net);
}

static void test_forward_is_deterministic(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net *a = make_net(&ctx, 0, 1, 4, 9), *b = make_net(&ctx, 0, 1, 4, 9);
    assert_memory_equal(a->param, b->param, sizeof(float) * a->n_param_floats);
    float x[4 * 1024];
    tu_fill(x, 4 * 1024, 0, 1, 10);
    iae_net_forward(a, 4, x, 1);
    iae_net_forward(b, 4, x, 1);
    assert_memory_equal(iae_net_output(a), iae_net_output(b), sizeof(float) * 4 * 1024);
    iae_net_free(a), iae_net_free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_counts),
        cmocka_unit_test(test_transfer_copies_all_but_lstm),
        cmocka_unit_test(test_lstm_batch_is_sequence),
        cmocka_unit_test(test_autoencoder_gradients_train_mode),
        cmocka_unit_test(test_iae_gradients_train_mode),
        cmocka_unit_test(test_iae_gradients_eval_mode),
        cmocka_unit_test(test_encoder_only_gradients),
        cmocka_unit_test(test_deep_svdd_gradients),
        cmocka_unit_test(test_forward_is_deterministic),
        cmocka_unit_test(test_independent_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
