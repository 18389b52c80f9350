/*
 * Network tests: parameter counts of the reference networks, the
 * batch-as-sequence LSTM semantics, weight transfer by name, and a
 * finite-difference check of the whole forward/backward chain, for the
 * LeNet network with 1 channel (Fashion-MNIST) and 3 (CIFAR-10); the
 * per-data-set configurations and default loss weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "model/detector.h"
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
    long in_size, z_size; /* per sample */
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
    for (long i = 0; i < c->n * c->z_size; i++) s += (double)c->rz[i] * z[i];
    for (long i = 0; o != NULL && i < c->n * c->in_size; i++) s += (double)c->ro[i] * o[i];
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

/* eps is the step along the unit gradient direction. */
static void check_network_gradients(int in_c, int lstm, int decoder, int train, float eps) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    enum { B = 3 };
    net_case c = {.n = B, .train = train};
    /* Slope 0.5 instead of 0.01 keeps the many leaky-ReLU kinks mild, so
     * finite differences over a whole tensor stay accurate. The layer tests
     * check the kernels at the reference slope. */
    iae_net_config cfg = iae_lenet_config(in_c, lstm, decoder);
    cfg.leaky_slope = 0.5f;
    assert_int_equal(iae_net_create(&ctx, &cfg, B, &c.net), IAE_OK);
    iae_rng rng;
    iae_rng_seed(&rng, 11, 1);
    assert_int_equal(iae_net_init_params(&ctx, c.net, &rng), IAE_OK);
    c.in_size = iae_net_input_size(c.net);
    c.z_size = iae_net_z_size(c.net);
    c.x = malloc(sizeof(float) * B * c.in_size);
    c.rz = malloc(sizeof(float) * B * c.z_size);
    c.ro = malloc(sizeof(float) * B * c.in_size);
    c.saved_buffers = malloc(sizeof(float) * (c.net->n_buffer_floats + 1));
    tu_fill(c.x, B * c.in_size, 0, 1, 6);
    tu_fill(c.rz, B * c.z_size, -1, 1, 7);
    tu_fill(c.ro, B * c.in_size, -1, 1, 8);
    /* Non-trivial running statistics for eval mode. */
    for (long i = 0; i < c.net->n_buffer_floats; i++) c.net->buffer[i] = 0.1f + 0.01f * (float)(i % 7);
    memcpy(c.saved_buffers, c.net->buffer, sizeof(float) * c.net->n_buffer_floats);

    net_loss(&c);
    iae_net_zero_grad(c.net);
    iae_net_backward(c.net, B, c.x, c.rz, decoder ? c.ro : NULL);
    for (int p = 0; p < c.net->n_params; p++) check_direction(&c, &c.net->params[p], eps, 0.03);
    free(c.x), free(c.rz), free(c.ro), free(c.saved_buffers);
    iae_net_free(c.net);
}

static void test_autoencoder_gradients_train_mode(void **state) { check_network_gradients(1, 0, 1, 1, 1e-4f); }
static void test_iae_gradients_train_mode(void **state) { check_network_gradients(1, 1, 1, 1, 1e-4f); }
static void test_iae_gradients_eval_mode(void **state) { check_network_gradients(1, 1, 1, 0, 1e-4f); }
static void test_encoder_only_gradients(void **state) { check_network_gradients(1, 1, 0, 1, 1e-4f); }
static void test_deep_svdd_gradients(void **state) { check_network_gradients(1, 0, 0, 1, 1e-4f); }
/* CIFAR-10: the LSTM does not depend on the channel count, so the
 * autoencoder covers the layers that change (conv1 and deconv4). With three
 * input channels the encoder's loss curves more along the gradient: at step
 * 1e-4 the central difference of conv1 is 10% below the analytic value, and
 * it converges to it as the step shrinks (1.5% at 1e-5). */
static void test_cifar10_autoencoder_gradients(void **state) { check_network_gradients(3, 0, 1, 1, 1e-5f); }
static void test_cifar10_deep_svdd_gradients(void **state) { check_network_gradients(3, 0, 0, 1, 1e-5f); }

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

/* ---------------- CIFAR-10 and the per-data-set settings ---------------- */

static void test_cifar10_parameter_counts(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_net_config ae_cfg = iae_lenet_config(3, 0, 1), iae_cfg = iae_lenet_config(3, 1, 1);
    iae_net *ae = NULL, *iae = NULL;
    assert_int_equal(iae_net_create(&ctx, &ae_cfg, 2, &ae), IAE_OK);
    assert_int_equal(iae_net_create(&ctx, &iae_cfg, 2, &iae), IAE_OK);
    /* Counts of the PyTorch reference models: AeV1V3 and its LSTM analogue. */
    assert_int_equal(count_params(ae), 804544);
    assert_int_equal(count_params(iae), 34375360);
    assert_int_equal(iae_net_input_size(iae), 3072);
    assert_int_equal(iae_net_z_size(iae), 128);
    const iae_tensor_info *conv1 = &iae->params[iae_net_find_param(iae, "conv1.weight")];
    const iae_tensor_info *deconv4 = &iae->params[iae_net_find_param(iae, "deconv4.weight")];
    assert_int_equal(conv1->dims[0], 32);
    assert_int_equal(conv1->dims[1], 3);
    assert_int_equal(deconv4->dims[0], 32);
    assert_int_equal(deconv4->dims[1], 3);
    int channels = 0, positions = 0;
    iae_net_z_layout(iae, &channels, &positions);
    assert_int_equal(channels, 128);
    assert_int_equal(positions, 1);
    iae_net_free(ae), iae_net_free(iae);
}

/* A CIFAR-10 IAE-LSTM-KL detector loads back with the same settings, the
 * same bytes in every tensor and bit-identical forward passes. The loaded
 * network then runs a backward pass. */
static void test_cifar10_model_file_round_trip(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    enum { B = 4 };
    iae_detector_info info = {0};
    info.model = IAE_MODEL_IAE_LSTM_KL;
    info.net = iae_dataset_net_config(IAE_DATASET_CIFAR10, info.model);
    snprintf(info.dataset, sizeof(info.dataset), "%s", iae_dataset_id_name(IAE_DATASET_CIFAR10));
    info.normal_class = 3;
    iae_default_weights(IAE_DATASET_CIFAR10, info.model, info.normal_class, &info.w_mse, &info.w_kl, &info.nu);
    info.norm_min = -10.599172931391799f, info.norm_max = 11.093187820377565f;
    info.seed = 5, info.batch_size = B, info.epochs = 1, info.pretrain_epochs = 1;
    info.lr = 1e-4f, info.weight_decay = 5e-7f, info.bn_train_mode = 1, info.train_samples = 5000;
    iae_detector *d = NULL;
    assert_int_equal(iae_detector_create(&ctx, &info, B, &d), IAE_OK);
    /* Uniform weights instead of the orthogonal init, which is slow and not
     * under test here. */
    tu_fill(d->net->param, d->net->n_param_floats, -0.02f, 0.02f, 50);
    for (long i = 0; i < d->net->n_buffer_floats; i++) d->net->buffer[i] = 0.5f + 0.125f * (float)(i % 5);
    tu_fill(d->center, 128, -0.3f, 0.3f, 51);
    float h[2048], c[2048];
    tu_fill(h, 2048, -0.5f, 0.5f, 52);
    tu_fill(c, 2048, -1, 1, 53);
    iae_net_set_memory(d->net, h, c);
    iae_net_params_changed(d->net);

    const char *path = tu_path(tu_tmpdir("cifar10_round_trip"), "cifar10.iae");
    if (iae_model_save(&ctx, d, path) != IAE_OK) fail_msg("%s", ctx.error);
    iae_detector *e = NULL;
    if (iae_model_load(&ctx, path, 0, &e) != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(e->info.net.arch, IAE_ARCH_LENET);
    assert_int_equal(e->info.net.in_c, 3);
    assert_int_equal(e->info.net.use_lstm, 1);
    assert_string_equal(e->info.dataset, "cifar10");
    assert_float_equal(e->info.w_mse, 2855.311838f, 0);
    assert_float_equal(e->info.w_kl, 1.525873f, 0);
    assert_int_equal(e->net->n_param_floats, d->net->n_param_floats);
    assert_memory_equal(e->net->param, d->net->param, sizeof(float) * d->net->n_param_floats);
    assert_memory_equal(e->net->buffer, d->net->buffer, sizeof(float) * d->net->n_buffer_floats);
    assert_memory_equal(e->center, d->center, sizeof(float) * 128);
    assert_true(e->net->has_memory);
    assert_memory_equal(e->net->memory_state, d->net->memory_state, sizeof(float) * 2 * 2048);

    float *x = malloc(sizeof(float) * B * 3072);
    tu_fill(x, B * 3072, 0, 1, 54);
    iae_net_forward(d->net, B, x, 0);
    iae_net_forward(e->net, B, x, 0);
    assert_memory_equal(iae_net_z(e->net), iae_net_z(d->net), sizeof(float) * B * 128);
    assert_memory_equal(iae_net_output(e->net), iae_net_output(d->net), sizeof(float) * B * 3072);

    float *dz = malloc(sizeof(float) * B * 128), *dout = malloc(sizeof(float) * B * 3072);
    tu_fill(dz, B * 128, -1, 1, 55);
    tu_fill(dout, B * 3072, -1, 1, 56);
    iae_net_forward(e->net, B, x, 1);
    iae_net_zero_grad(e->net);
    iae_net_backward(e->net, B, x, dz, dout);
    for (int p = 0; p < e->net->n_params; p++) {
        const iae_tensor_info *t = &e->net->params[p];
        double norm = 0.0;
        for (long i = 0; i < t->count; i++) norm += (double)e->net->grad[t->offset + i] * e->net->grad[t->offset + i];
        if (!(norm > 0.0 && isfinite(norm))) fail_msg("%s: gradient norm^2 %g", t->name, norm);
    }
    free(x), free(dz), free(dout);
    iae_detector_free(d), iae_detector_free(e);
}

static void test_dataset_ids_and_configs(void **state) {
    for (int d = 0; d < IAE_N_DATASETS; d++)
        assert_int_equal(iae_dataset_id_parse(iae_dataset_id_name((iae_dataset_id)d)), d);
    assert_int_equal(iae_dataset_id_parse("cifar-100"), -1);
    assert_int_equal(iae_dataset_id_classes(IAE_DATASET_MVTEC), 15);
    assert_int_equal(iae_dataset_id_classes(IAE_DATASET_WTBI), 1);

    const int want_arch[IAE_N_DATASETS] = {IAE_ARCH_LENET, IAE_ARCH_LENET, IAE_ARCH_MVTEC, IAE_ARCH_LENET};
    const int want_c[IAE_N_DATASETS] = {1, 3, 3, 1};
    const int want_hw[IAE_N_DATASETS] = {32, 32, 64, 32};
    for (int d = 0; d < IAE_N_DATASETS; d++)
        for (int k = 0; k < IAE_N_MODELS; k++) {
            iae_net_config cfg = iae_dataset_net_config((iae_dataset_id)d, (iae_model_kind)k);
            assert_int_equal(cfg.arch, want_arch[d]);
            assert_int_equal(cfg.in_c, want_c[d]);
            assert_int_equal(cfg.in_h, want_hw[d]);
            assert_int_equal(cfg.use_lstm, iae_model_has_lstm((iae_model_kind)k));
            assert_int_equal(cfg.use_decoder, iae_model_has_decoder((iae_model_kind)k));
        }
}

/* Expected (w_mse, w_kl, nu) of one data set, model and class. */
static void expect_weights(iae_dataset_id d, iae_model_kind k, int cls, float w_mse, float w_kl, float nu) {
    float got_mse = -1, got_kl = -1, got_nu = -1;
    iae_default_weights(d, k, cls, &got_mse, &got_kl, &got_nu);
    if (got_mse != w_mse || got_kl != w_kl || got_nu != nu)
        fail_msg("%s %s class %d: got w_mse %g w_kl %g nu %g, expected %g %g %g", iae_dataset_id_name(d),
                 iae_model_name(k), cls, got_mse, got_kl, got_nu, w_mse, w_kl, nu);
}

static void test_default_weights_per_dataset(void **state) {
    /* Fashion-MNIST: the old entry point and the new one agree. */
    for (int k = 0; k < IAE_N_MODELS; k++)
        for (int cls = -1; cls <= 10; cls++) {
            float a_mse, a_kl, b_mse, b_kl, nu;
            iae_fmnist_default_weights((iae_model_kind)k, cls, &a_mse, &a_kl);
            iae_default_weights(IAE_DATASET_FASHION_MNIST, (iae_model_kind)k, cls, &b_mse, &b_kl, &nu);
            assert_float_equal(a_mse, b_mse, 0);
            assert_float_equal(a_kl, b_kl, 0);
            assert_float_equal(nu, 0.1f, 0);
        }
    expect_weights(IAE_DATASET_FASHION_MNIST, IAE_MODEL_IAE_LSTM_KL, 0, 5.112069f, 0.000998f, 0.1f);
    expect_weights(IAE_DATASET_FASHION_MNIST, IAE_MODEL_IAE_LSTM, 7, 32.369513f, 0, 0.1f);

    /* CIFAR-10 has the IAE-LSTM-KL table but no msd + LSTM table. */
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_IAE_LSTM_KL, 0, 29.123988f, 10.020755f, 0.1f);
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_IAE_LSTM_KL, 9, 26.485921f, 0.045872f, 0.1f);
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_IAE_KL, 3, 1, 1.525873f, 0.1f);
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_IAE_LSTM, 3, 1, 0, 0.1f);
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_DCAE_SVDD, 3, 1, 0, 0.1f);
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_CAE, 3, 0, 0, 0.1f);
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_DEEP_SVDD, 3, 0, 0, 0.1f);
    expect_weights(IAE_DATASET_CIFAR10, IAE_MODEL_IAE_LSTM_KL, 10, 1, 0, 0.1f); /* out of range */

    /* MVTec AD: 1, 1, 0.1 for IAE-LSTM-KL in every category. */
    for (int cls = 0; cls < 15; cls++) expect_weights(IAE_DATASET_MVTEC, IAE_MODEL_IAE_LSTM_KL, cls, 1, 1, 0.1f);
    expect_weights(IAE_DATASET_MVTEC, IAE_MODEL_IAE_KL, 4, 1, 1, 0.1f);
    expect_weights(IAE_DATASET_MVTEC, IAE_MODEL_IAE_LSTM, 5, 5115.531262f, 0, 0.1f);
    expect_weights(IAE_DATASET_MVTEC, IAE_MODEL_IAE_LSTM, 14, 0.642246f, 0, 0.1f);
    expect_weights(IAE_DATASET_MVTEC, IAE_MODEL_DCAE_SVDD, 5, 1, 0, 0.1f);
    expect_weights(IAE_DATASET_MVTEC, IAE_MODEL_IAE_LSTM_KL, 15, 1, 0, 0.1f); /* out of range */

    /* WTBI: one task, so the class is ignored. */
    expect_weights(IAE_DATASET_WTBI, IAE_MODEL_IAE_LSTM_KL, 0, 0.000158f, 1e-11f, 0.898364f);
    expect_weights(IAE_DATASET_WTBI, IAE_MODEL_IAE_LSTM_KL, 7, 0.000158f, 1e-11f, 0.898364f);
    expect_weights(IAE_DATASET_WTBI, IAE_MODEL_IAE_KL, 0, 1, 1e-11f, 0.1f);
    expect_weights(IAE_DATASET_WTBI, IAE_MODEL_IAE_LSTM, 0, 1, 0, 0.1f);

    float w_mse, w_kl;
    iae_default_weights(IAE_DATASET_CIFAR10, IAE_MODEL_IAE_LSTM_KL, 1, &w_mse, &w_kl, NULL); /* nu optional */
    assert_float_equal(w_kl, 0.087933f, 0);
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
        cmocka_unit_test(test_cifar10_parameter_counts),
        cmocka_unit_test(test_cifar10_autoencoder_gradients),
        cmocka_unit_test(test_cifar10_deep_svdd_gradients),
        cmocka_unit_test(test_cifar10_model_file_round_trip),
        cmocka_unit_test(test_dataset_ids_and_configs),
        cmocka_unit_test(test_default_weights_per_dataset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
