/*
 * Network construction, parameter initialisation and the forward and backward
 * passes over the op chain.
 */
#include "model/net.h"

#include "layers/lstm_recurrent.h"

#include <stdio.h>
#include <math.h>
#include <string.h>

const char *iae_context_name(iae_lstm_context c) {
    return c == IAE_CONTEXT_MEMORY ? "memory" : (c == IAE_CONTEXT_NONE ? "none" : "batch");
}

int iae_context_parse(const char *name) {
    if (strcmp(name, "batch") == 0) return IAE_CONTEXT_BATCH;
    if (strcmp(name, "memory") == 0) return IAE_CONTEXT_MEMORY;
    if (strcmp(name, "none") == 0) return IAE_CONTEXT_NONE;
    return -1;
}

static const char *const arch_names[IAE_N_ARCHS] = {"lenet", "mvtec"};

const char *iae_arch_name(iae_arch a) { return (unsigned)a < IAE_N_ARCHS ? arch_names[a] : "unknown"; }

int iae_arch_parse(const char *name) {
    for (int a = 0; a < IAE_N_ARCHS; a++)
        if (strcmp(name, arch_names[a]) == 0) return a;
    return -1;
}

iae_net_config iae_lenet_config(int in_c, int use_lstm, int use_decoder) {
    iae_net_config c = {0};
    c.arch = IAE_ARCH_LENET;
    c.in_c = in_c;
    c.in_h = 32;
    c.in_w = 32;
    c.rep_dim = 128;
    c.use_lstm = use_lstm;
    c.use_decoder = use_decoder;
    c.leaky_slope = 0.01f;
    c.bn_eps = 1e-4f;
    c.bn_momentum = 0.1f;
    return c;
}

iae_net_config iae_mvtec_config(int use_lstm, int use_decoder) {
    iae_net_config c = {0};
    c.arch = IAE_ARCH_MVTEC;
    c.in_c = 3;
    c.in_h = 64;
    c.in_w = 64;
    c.rep_dim = 4096;
    c.use_lstm = use_lstm;
    c.use_decoder = use_decoder;
    c.leaky_slope = 0.2f;
    c.bn_eps = 1e-5f;
    c.bn_momentum = 0.1f;
    return c;
}

/* ---- building the op chain ---- */

/* Write "prefix.suffix" into name (IAE_NAME_BYTES). Every name comes from
 * this file, so one that does not fit is a bug, not an input error. */
static void join_name(char *name, const char *prefix, const char *suffix) {
    const int len = snprintf(name, IAE_NAME_BYTES, "%s.%s", prefix, suffix);
    IAE_ASSERT(len > 0 && len < IAE_NAME_BYTES);
}

static int add_tensor(iae_tensor_info *table, int *n, long *total, const char *name, int ndim,
                      const int *dims) {
    IAE_ASSERT(*n < IAE_MAX_TENSORS);
    iae_tensor_info *t = &table[(*n)++];
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->ndim = ndim;
    t->count = 1;
    for (int i = 0; i < ndim; i++) {
        t->dims[i] = dims[i];
        t->count *= dims[i];
    }
    /* Keep every tensor 64-byte aligned inside the block. */
    t->offset = *total;
    *total += (t->count + 15) / 16 * 16;
    return *n - 1;
}

static int add_param(iae_net *net, const char *name, int ndim, int d0, int d1, int d2, int d3) {
    int dims[4] = {d0, d1, d2, d3};
    return add_tensor(net->params, &net->n_params, &net->n_param_floats, name, ndim, dims);
}

static iae_op *add_op(iae_net *net, iae_op_kind kind, const char *name, int c, int h, int w) {
    IAE_ASSERT(net->n_ops < IAE_MAX_OPS);
    IAE_ASSERT(strlen(name) < IAE_NAME_BYTES);
    iae_op *op = &net->ops[net->n_ops++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    snprintf(op->name, sizeof(op->name), "%s", name);
    op->in_c = op->out_c = c;
    op->in_h = op->out_h = h;
    op->in_w = op->out_w = w;
    for (int i = 0; i < 4; i++) op->param[i] = -1;
    op->stat = -1;
    return op;
}

static iae_status add_conv(iae_ctx *ctx, iae_net *net, const char *name, int cin, int cout, int h,
                           int w, int k, int stride, int pad) {
    iae_op *op = add_op(net, IAE_OP_CONV2D, name, cin, h, w);
    iae_status st = iae_conv2d_geom(ctx, &op->conv, cin, cout, h, w, k, stride, pad);
    if (st != IAE_OK) return st;
    op->out_c = cout;
    op->out_h = op->conv.hout;
    op->out_w = op->conv.wout;
    char pname[IAE_NAME_BYTES];
    join_name(pname, name, "weight");
    op->param[0] = add_param(net, pname, 4, cout, cin, k, k);
    return IAE_OK;
}

static iae_status add_deconv(iae_ctx *ctx, iae_net *net, const char *name, int cin, int cout, int h,
                             int w, int k, int stride, int pad, int out_pad) {
    iae_op *op = add_op(net, IAE_OP_CONV_TRANSPOSE2D, name, cin, h, w);
    iae_status st = iae_conv_transpose2d_geom(ctx, &op->conv, cin, cout, h, w, k, stride, pad, out_pad);
    if (st != IAE_OK) return st;
    op->out_c = cout;
    op->out_h = op->conv.hout;
    op->out_w = op->conv.wout;
    char pname[IAE_NAME_BYTES];
    join_name(pname, name, "weight");
    op->param[0] = add_param(net, pname, 4, cin, cout, k, k);
    return IAE_OK;
}

static void add_bn(iae_net *net, const char *name, int c, int h, int w) {
    iae_op *op = add_op(net, IAE_OP_BATCHNORM, name, c, h, w);
    char bname[IAE_NAME_BYTES];
    int dims[1] = {c};
    join_name(bname, name, "running_mean");
    op->stat = add_tensor(net->buffers, &net->n_buffers, &net->n_buffer_floats, bname, 1, dims);
    join_name(bname, name, "running_var");
    add_tensor(net->buffers, &net->n_buffers, &net->n_buffer_floats, bname, 1, dims);
}

static void add_pool(iae_net *net, const char *name, int c, int h, int w) {
    iae_op *op = add_op(net, IAE_OP_MAXPOOL2D, name, c, h, w);
    op->out_h = h / 2;
    op->out_w = w / 2;
}

static void add_upsample(iae_net *net, const char *name, int c, int h, int w) {
    iae_op *op = add_op(net, IAE_OP_UPSAMPLE2X, name, c, h, w);
    op->out_h = 2 * h;
    op->out_w = 2 * w;
}

static void add_linear(iae_net *net, const char *name, int in, int out) {
    iae_op *op = add_op(net, IAE_OP_LINEAR, name, in, 1, 1);
    op->out_c = out;
    char pname[IAE_NAME_BYTES];
    join_name(pname, name, "weight");
    op->param[0] = add_param(net, pname, 2, out, in, 0, 0);
}

static void add_lstm(iae_net *net, const char *name, int in, int hid) {
    iae_op *op = add_op(net, IAE_OP_LSTM, name, in, 1, 1);
    op->out_c = hid;
    const char *suffix[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
    char pname[IAE_NAME_BYTES];
    for (int i = 0; i < 4; i++) {
        join_name(pname, name, suffix[i]);
        if (i < 2)
            op->param[i] = add_param(net, pname, 2, 4 * hid, i == 0 ? in : hid, 0, 0);
        else
            op->param[i] = add_param(net, pname, 1, 4 * hid, 0, 0, 0);
    }
}

/* LeNet-type network (shapes for C x 32 x 32 input):
 * encoder  conv1 C->32 k5 p2, bn2d1, lrelu, pool     32x16x16
 *          conv2 32->64,      bn2d2, lrelu, pool     64x8x8
 *          conv3 64->128,     bn2d3, lrelu, pool     128x4x4 = 2048
 *          [lstm 2048->2048]  fc1 2048->128          z (128)
 * decoder  bn1d(128), view 8x4x4, lrelu
 *          deconv1 8->128 k5 p2, bn2d4, lrelu, up    128x8x8
 *          deconv2 128->64,      bn2d5, lrelu, up    64x16x16
 *          deconv3 64->32,       bn2d6, lrelu, up    32x32x32
 *          deconv4 32->C, sigmoid                    C x 32 x 32 */
static iae_status build_lenet(iae_ctx *ctx, iae_net *net) {
    const iae_net_config *c = &net->cfg;
    if (c->in_h != 32 || c->in_w != 32 || c->in_c < 1 || c->rep_dim != 128)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "the LeNet network needs C x 32 x 32 input and rep_dim 128 (got %d x %d x %d, "
                        "rep_dim %d)",
                        c->in_c, c->in_h, c->in_w, c->rep_dim);
    const int widths[3] = {32, 64, 128};
    int ch = c->in_c, hw = 32;
    iae_status st;
    for (int i = 0; i < 3; i++) {
        char name[IAE_NAME_BYTES];
        snprintf(name, sizeof(name), "conv%d", i + 1);
        if ((st = add_conv(ctx, net, name, ch, widths[i], hw, hw, 5, 1, 2)) != IAE_OK) return st;
        snprintf(name, sizeof(name), "bn2d%d", i + 1);
        add_bn(net, name, widths[i], hw, hw);
        add_op(net, IAE_OP_LEAKY_RELU, "lrelu", widths[i], hw, hw);
        add_pool(net, "pool", widths[i], hw, hw);
        ch = widths[i];
        hw /= 2;
    }
    const int flat = ch * hw * hw; /* 2048 */
    if (c->use_lstm) add_lstm(net, "lstm", flat, flat);
    add_linear(net, "fc1", flat, c->rep_dim);
    net->z_op = net->n_ops - 1;
    if (!c->use_decoder) return IAE_OK;

    add_bn(net, "bn1d", c->rep_dim, 1, 1);
    const int zc = c->rep_dim / 16; /* z viewed as (rep_dim/16, 4, 4) */
    add_op(net, IAE_OP_LEAKY_RELU, "lrelu", zc, 4, 4);
    const int dec_in[3] = {zc, 128, 64}, dec_out[3] = {128, 64, 32};
    hw = 4;
    for (int i = 0; i < 3; i++) {
        char name[IAE_NAME_BYTES];
        snprintf(name, sizeof(name), "deconv%d", i + 1);
        if ((st = add_deconv(ctx, net, name, dec_in[i], dec_out[i], hw, hw, 5, 1, 2, 0)) != IAE_OK)
            return st;
        snprintf(name, sizeof(name), "bn2d%d", i + 4);
        add_bn(net, name, dec_out[i], hw, hw);
        add_op(net, IAE_OP_LEAKY_RELU, "lrelu", dec_out[i], hw, hw);
        add_upsample(net, "up", dec_out[i], hw, hw);
        hw *= 2;
    }
    if ((st = add_deconv(ctx, net, "deconv4", 32, c->in_c, 32, 32, 5, 1, 2, 0)) != IAE_OK) return st;
    add_op(net, IAE_OP_SIGMOID, "sigmoid", c->in_c, 32, 32);
    return IAE_OK;
}

/* MVTec AD network "aev2v2" (shapes for C x 64 x 64 input). Op and tensor
 * names are the reference's module paths: encoder.encoder.i and
 * decoder.decoder.i index nn.Sequential children, so a block's conv, BatchNorm
 * and LeakyReLU take three consecutive indices.
 * encoder.encoder  0 conv C->96 k3 s2 p1,   1 bn, 2 lrelu      96x32x32
 *                  3 conv 96->128,          4 bn, 5 lrelu      128x16x16
 *                  6 conv 128->256,         7 bn, 8 lrelu      256x8x8
 *                  9 conv 256->256,        10 bn, 11 lrelu     256x4x4 = 4096
 * [lstm 4096->4096]                                            z (4096)
 * decoder.decoder  0 deconv 256->256 k3 s2 p1 op1, 1 bn, 2 lrelu  256x8x8
 *                  3 deconv 256->128,              4 bn, 5 lrelu  128x16x16
 *                  6 deconv 128->96,               7 bn, 8 lrelu  96x32x32
 *                  9 deconv 96->C, no activation                  C x 64 x 64
 * Without the LSTM, z is the flattened encoder output. The decoder reads z
 * (4096) as (256, 4, 4). Convolutions have no bias, and BatchNorm has no
 * affine parameters. */
static iae_status build_mvtec(iae_ctx *ctx, iae_net *net) {
    const iae_net_config *c = &net->cfg;
    if (c->in_h != 64 || c->in_w != 64 || c->in_c < 1 || c->rep_dim != 4096)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "the MVTec network needs C x 64 x 64 input and rep_dim 4096 (got %d x %d x %d, "
                        "rep_dim %d)",
                        c->in_c, c->in_h, c->in_w, c->rep_dim);
    const int enc_widths[4] = {96, 128, 256, 256};
    int ch = c->in_c, hw = 64;
    iae_status st;
    for (int i = 0; i < 4; i++) {
        char name[IAE_NAME_BYTES];
        snprintf(name, sizeof(name), "encoder.encoder.%d", 3 * i);
        if ((st = add_conv(ctx, net, name, ch, enc_widths[i], hw, hw, 3, 2, 1)) != IAE_OK) return st;
        ch = enc_widths[i];
        hw /= 2;
        snprintf(name, sizeof(name), "encoder.encoder.%d", 3 * i + 1);
        add_bn(net, name, ch, hw, hw);
        snprintf(name, sizeof(name), "encoder.encoder.%d", 3 * i + 2);
        add_op(net, IAE_OP_LEAKY_RELU, name, ch, hw, hw);
    }
    const int flat = ch * hw * hw; /* 256 x 4 x 4 = 4096 */
    if (c->use_lstm) add_lstm(net, "lstm", flat, flat);
    net->z_op = net->n_ops - 1;
    if (!c->use_decoder) return IAE_OK;

    const int dec_widths[4] = {256, 128, 96, c->in_c};
    for (int i = 0; i < 4; i++) {
        char name[IAE_NAME_BYTES];
        snprintf(name, sizeof(name), "decoder.decoder.%d", 3 * i);
        if ((st = add_deconv(ctx, net, name, ch, dec_widths[i], hw, hw, 3, 2, 1, 1)) != IAE_OK) return st;
        ch = dec_widths[i];
        hw *= 2;
        if (i == 3) break; /* the reconstruction has no BatchNorm and no activation */
        snprintf(name, sizeof(name), "decoder.decoder.%d", 3 * i + 1);
        add_bn(net, name, ch, hw, hw);
        snprintf(name, sizeof(name), "decoder.decoder.%d", 3 * i + 2);
        add_op(net, IAE_OP_LEAKY_RELU, name, ch, hw, hw);
    }
    return IAE_OK;
}

static iae_status build_ops(iae_ctx *ctx, iae_net *net) {
    switch (net->cfg.arch) {
    case IAE_ARCH_LENET:
        return build_lenet(ctx, net);
    case IAE_ARCH_MVTEC:
        return build_mvtec(ctx, net);
    }
    return iae_fail(ctx, IAE_ERR_ARGUMENT, "unknown network architecture %d, expected %d (lenet) or %d (mvtec)",
                    (int)net->cfg.arch, IAE_ARCH_LENET, IAE_ARCH_MVTEC);
}

static long op_in_size(const iae_op *op) { return (long)op->in_c * op->in_h * op->in_w; }
static long op_out_size(const iae_op *op) { return (long)op->out_c * op->out_h * op->out_w; }

/* ---- memory ---- */

/* Floats of activation memory an op needs: its output plus saved data. */
static long op_act_floats(const iae_op *op, int max_batch) {
    long out = (long)max_batch * op_out_size(op);
    switch (op->kind) {
    case IAE_OP_BATCHNORM:
        return out + op->out_c;
    case IAE_OP_LSTM: /* hs (T+1, Hd), gates (T, 4Hd), cs (T+1, Hd) */
        return (long)(max_batch + 1) * op->out_c * 2 + (long)max_batch * 4 * op->out_c;
    default:
        return out;
    }
}

static long op_scratch_floats(const iae_op *op, int max_batch, int threads) {
    switch (op->kind) {
    case IAE_OP_CONV2D:
        return iae_conv2d_scratch_floats(&op->conv, threads);
    case IAE_OP_CONV_TRANSPOSE2D:
        return iae_conv_transpose2d_scratch_floats(&op->conv, threads);
    case IAE_OP_LSTM:
        return iae_lstm_scratch_floats(max_batch, op->out_c, threads);
    default:
        return 0;
    }
}

static long round16(long n) { return (n + 15) / 16 * 16; }

iae_status iae_net_create(iae_ctx *ctx, const iae_net_config *cfg, int max_batch, iae_net **out) {
    *out = NULL;
    if (max_batch < 1)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "batch size must be at least 1, got %d", max_batch);
    iae_net *net = iae_alloc(ctx, sizeof(iae_net), "network");
    if (net == NULL) return IAE_ERR_NOMEM;
    net->cfg = *cfg;
    net->max_batch = max_batch;
    net->threads = iae_max_threads();

    iae_status st = build_ops(ctx, net);
    if (st != IAE_OK) {
        iae_net_free(net);
        return st;
    }

    /* Consecutive ops must agree on the per-sample size. */
    long act_floats = 0, scratch_floats = 0, max_size = op_in_size(&net->ops[0]);
    for (int i = 0; i < net->n_ops; i++) {
        const iae_op *op = &net->ops[i];
        if (i > 0) IAE_ASSERT(op_in_size(op) == op_out_size(&net->ops[i - 1]));
        act_floats += round16(op_act_floats(op, max_batch));
        long s = op_scratch_floats(op, max_batch, net->threads);
        if (s > scratch_floats) scratch_floats = s;
        if (op_out_size(op) > max_size) max_size = op_out_size(op);
    }
    long n_args = 0;
    for (int i = 0; i < net->n_ops; i++)
        if (net->ops[i].kind == IAE_OP_MAXPOOL2D) n_args += round16((long)max_batch * op_out_size(&net->ops[i]));
    net->dbuf_floats = (long)max_batch * max_size;

    net->param = iae_alloc(ctx, sizeof(float) * net->n_param_floats, "parameters");
    net->grad = iae_alloc(ctx, sizeof(float) * net->n_param_floats, "parameter gradients");
    net->buffer = iae_alloc(ctx, sizeof(float) * (net->n_buffer_floats + 1), "BatchNorm statistics");
    net->act = iae_alloc(ctx, sizeof(float) * act_floats + n_args, "activations");
    net->scratch = iae_alloc(ctx, sizeof(float) * (scratch_floats + 1), "layer scratch space");
    net->dbuf[0] = iae_alloc(ctx, sizeof(float) * net->dbuf_floats, "activation gradients");
    net->dbuf[1] = iae_alloc(ctx, sizeof(float) * net->dbuf_floats, "activation gradients");
    const int hid = iae_net_lstm_hidden(net);
    net->memory_state = iae_alloc(ctx, sizeof(float) * (2L * hid + 1), "LSTM memory state");
    net->step_bias = iae_alloc(ctx, sizeof(float) * (4L * hid + 1), "LSTM step bias");
    if (!net->param || !net->grad || !net->buffer || !net->act || !net->scratch || !net->dbuf[0] ||
        !net->dbuf[1] || !net->memory_state || !net->step_bias) {
        iae_net_free(net);
        return IAE_ERR_NOMEM;
    }

    /* Carve the activation block. */
    float *p = net->act;
    for (int i = 0; i < net->n_ops; i++) {
        iae_op *op = &net->ops[i];
        long out_n = (long)max_batch * op_out_size(op);
        if (op->kind == IAE_OP_LSTM) {
            op->out = p + op->out_c; /* rows 1..T of hs */
            op->aux = p + (long)(max_batch + 1) * op->out_c;
        } else {
            op->out = p;
            op->aux = p + out_n;
        }
        p += round16(op_act_floats(op, max_batch));
    }
    uint8_t *a = (uint8_t *)p;
    for (int i = 0; i < net->n_ops; i++) {
        iae_op *op = &net->ops[i];
        if (op->kind != IAE_OP_MAXPOOL2D) continue;
        op->arg = a;
        a += round16((long)max_batch * op_out_size(op));
    }
    *out = net;
    return IAE_OK;
}

void iae_net_free(iae_net *net) {
    if (net == NULL) return;
    iae_free(net->param);
    iae_free(net->grad);
    iae_free(net->buffer);
    iae_free(net->act);
    iae_free(net->scratch);
    iae_free(net->dbuf[0]);
    iae_free(net->dbuf[1]);
    iae_free(net->w_hh_bf16);
    iae_free(net->memory_state);
    iae_free(net->step_bias);
    iae_free(net);
}

static float *param_ptr(iae_net *net, int index) { return net->param + net->params[index].offset; }
static float *grad_ptr(iae_net *net, int index) { return net->grad + net->params[index].offset; }
static float *buffer_ptr(iae_net *net, int index) { return net->buffer + net->buffers[index].offset; }

iae_status iae_net_init_params(iae_ctx *ctx, iae_net *net, iae_rng *rng) {
    const float gain = iae_leaky_relu_gain(net->cfg.leaky_slope);
    for (int i = 0; i < net->n_ops; i++) {
        iae_op *op = &net->ops[i];
        switch (op->kind) {
        case IAE_OP_CONV2D:
        case IAE_OP_CONV_TRANSPOSE2D: {
            /* PyTorch's fans: dims[1] * k * k in, dims[0] * k * k out. */
            const iae_tensor_info *t = &net->params[op->param[0]];
            int rf = t->dims[2] * t->dims[3];
            if (net->cfg.arch == IAE_ARCH_LENET) {
                iae_init_xavier_uniform(rng, param_ptr(net, op->param[0]), t->count, t->dims[1] * rf,
                                        t->dims[0] * rf, gain);
            } else {
                /* PyTorch's default, kaiming_uniform_ with a = sqrt(5):
                 * bound = sqrt(6 / ((1 + a^2) fan_in)) = 1 / sqrt(fan_in). */
                float bound = 1.0f / sqrtf((float)(t->dims[1] * rf));
                iae_rng_fill_uniform(rng, param_ptr(net, op->param[0]), t->count, -bound, bound);
            }
            break;
        }
        case IAE_OP_LINEAR: {
            /* nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)). */
            const iae_tensor_info *t = &net->params[op->param[0]];
            float bound = 1.0f / sqrtf((float)t->dims[1]);
            iae_rng_fill_uniform(rng, param_ptr(net, op->param[0]), t->count, -bound, bound);
            break;
        }
        case IAE_OP_LSTM:
            for (int k = 0; k < 2; k++) {
                const iae_tensor_info *t = &net->params[op->param[k]];
                iae_status st = iae_init_orthogonal(ctx, rng, param_ptr(net, op->param[k]), t->dims[0],
                                                    t->dims[1]);
                if (st != IAE_OK) return st;
            }
            for (int k = 2; k < 4; k++)
                memset(param_ptr(net, op->param[k]), 0, sizeof(float) * net->params[op->param[k]].count);
            break;
        case IAE_OP_BATCHNORM:
            memset(buffer_ptr(net, op->stat), 0, sizeof(float) * op->out_c);
            for (int c = 0; c < op->out_c; c++) buffer_ptr(net, op->stat + 1)[c] = 1.0f;
            break;
        default:
            break;
        }
    }
    iae_net_params_changed(net);
    return IAE_OK;
}

/* ---- forward and backward ---- */

void iae_net_forward(iae_net *net, int n, const float *x, int train) {
    IAE_ASSERT(n >= 1 && n <= net->max_batch);
    net->train_mode = train;
    /* Samples are independent in eval mode with the memory or none context. */
    const int independent = !train && net->context != IAE_CONTEXT_BATCH && iae_net_lstm_hidden(net) > 0;
    const iae_net_config *cfg = &net->cfg;
    const float *in = x;

    for (int i = 0; i < net->n_ops; i++) {
        iae_op *op = &net->ops[i];
        const long in_count = (long)n * op_in_size(op);
        const double t0 = net->profile ? iae_now_s() : 0.0;
        switch (op->kind) {
        case IAE_OP_CONV2D:
            iae_conv2d_forward(&op->conv, n, in, param_ptr(net, op->param[0]), op->out, net->scratch);
            break;
        case IAE_OP_CONV_TRANSPOSE2D:
            iae_conv_transpose2d_forward(&op->conv, n, in, param_ptr(net, op->param[0]), op->out,
                                         net->scratch);
            break;
        case IAE_OP_BATCHNORM: {
            const int s = op->out_h * op->out_w;
            float *mean = buffer_ptr(net, op->stat), *var = buffer_ptr(net, op->stat + 1);
            if (train)
                iae_batchnorm_forward_train(n, op->out_c, s, cfg->bn_eps, cfg->bn_momentum, in, op->out,
                                            op->aux, mean, var);
            else
                iae_batchnorm_forward_eval(n, op->out_c, s, cfg->bn_eps, in, op->out, mean, var);
            break;
        }
        case IAE_OP_LEAKY_RELU:
            iae_leaky_relu_forward(in_count, cfg->leaky_slope, in, op->out);
            break;
        case IAE_OP_SIGMOID:
            iae_sigmoid_forward(in_count, in, op->out);
            break;
        case IAE_OP_MAXPOOL2D:
            iae_maxpool2d_forward(n, op->in_c, op->in_h, op->in_w, in, op->out, op->arg);
            break;
        case IAE_OP_UPSAMPLE2X:
            iae_upsample2x_forward(n, op->in_c, op->in_h, op->in_w, in, op->out);
            break;
        case IAE_OP_LINEAR:
            if (independent)
                iae_linear_forward_rowwise(n, op->in_c, op->out_c, in, param_ptr(net, op->param[0]), NULL, op->out);
            else
                iae_linear_forward(n, op->in_c, op->out_c, in, param_ptr(net, op->param[0]), op->out);
            break;
        case IAE_OP_LSTM: {
            const int hid = op->out_c;
            if (independent) {
                const float *c0 = net->context == IAE_CONTEXT_MEMORY ? net->memory_state + hid : NULL;
                iae_lstm_forward_independent(n, op->in_c, hid, in, param_ptr(net, op->param[0]), net->step_bias, c0,
                                             op->aux, op->out);
                break;
            }
            float *gates = op->aux;
            float *cs = gates + (long)net->max_batch * 4 * hid;
            iae_lstm_forward(n, op->in_c, hid, in, param_ptr(net, op->param[0]),
                             param_ptr(net, op->param[1]), param_ptr(net, op->param[2]),
                             param_ptr(net, op->param[3]), net->lstm_h0, net->lstm_c0, &net->lstm_opt,
                             gates, op->out - hid, cs);
            break;
        }
        }
        if (net->profile) net->op_forward_s[i] += iae_now_s() - t0;
        in = op->out;
    }
}

const float *iae_net_z(const iae_net *net) { return net->ops[net->z_op].out; }

const float *iae_net_output(const iae_net *net) {
    return net->cfg.use_decoder ? net->ops[net->n_ops - 1].out : NULL;
}

long iae_net_input_size(const iae_net *net) { return op_in_size(&net->ops[0]); }

int iae_net_z_size(const iae_net *net) { return (int)op_out_size(&net->ops[net->z_op]); }

/* z has the shape its consumer reads: the decoder's first op, or without a
 * decoder the op that computes z. */
void iae_net_z_layout(const iae_net *net, int *channels, int *positions) {
    const iae_op *z = &net->ops[net->z_op];
    if (net->z_op + 1 < net->n_ops) {
        const iae_op *next = &net->ops[net->z_op + 1];
        *channels = next->in_c;
        *positions = next->in_h * next->in_w;
    } else {
        *channels = z->out_c;
        *positions = z->out_h * z->out_w;
    }
}

void iae_net_zero_grad(iae_net *net) { memset(net->grad, 0, sizeof(float) * net->n_param_floats); }

/* Backward of op i: dy is dL/d(output), dx receives dL/d(input) (NULL when
 * the op may skip it, i.e. for the first op, whose input is the data). */
static void op_backward(iae_net *net, iae_op *op, int n, const float *in, const float *dy, float *dx) {
    const iae_net_config *cfg = &net->cfg;
    const long in_count = (long)n * op_in_size(op);
    switch (op->kind) {
    case IAE_OP_CONV2D:
        iae_conv2d_backward(&op->conv, n, in, param_ptr(net, op->param[0]), dy, dx,
                            grad_ptr(net, op->param[0]), net->scratch);
        break;
    case IAE_OP_CONV_TRANSPOSE2D:
        iae_conv_transpose2d_backward(&op->conv, n, in, param_ptr(net, op->param[0]), dy, dx,
                                      grad_ptr(net, op->param[0]), net->scratch);
        break;
    case IAE_OP_BATCHNORM: {
        const int s = op->out_h * op->out_w;
        if (net->train_mode)
            iae_batchnorm_backward_train(n, op->out_c, s, op->out, op->aux, dy, dx);
        else
            iae_batchnorm_backward_eval(n, op->out_c, s, cfg->bn_eps, buffer_ptr(net, op->stat + 1), dy,
                                        dx);
        break;
    }
    case IAE_OP_LEAKY_RELU:
        iae_leaky_relu_backward(in_count, cfg->leaky_slope, in, dy, dx);
        break;
    case IAE_OP_SIGMOID:
        iae_sigmoid_backward(in_count, op->out, dy, dx);
        break;
    case IAE_OP_MAXPOOL2D:
        iae_maxpool2d_backward(n, op->in_c, op->in_h, op->in_w, op->arg, dy, dx);
        break;
    case IAE_OP_UPSAMPLE2X:
        iae_upsample2x_backward(n, op->in_c, op->in_h, op->in_w, dy, dx);
        break;
    case IAE_OP_LINEAR:
        iae_linear_backward(n, op->in_c, op->out_c, in, param_ptr(net, op->param[0]), dy, dx,
                            grad_ptr(net, op->param[0]));
        break;
    case IAE_OP_LSTM: {
        const int hid = op->out_c;
        const float *gates = op->aux;
        const float *cs = gates + (long)net->max_batch * 4 * hid;
        iae_lstm_backward(n, op->in_c, hid, in, param_ptr(net, op->param[0]), param_ptr(net, op->param[1]),
                          &net->lstm_opt, gates, op->out - hid, cs, dy, dx, grad_ptr(net, op->param[0]),
                          grad_ptr(net, op->param[1]), grad_ptr(net, op->param[2]),
                          grad_ptr(net, op->param[3]), net->scratch);
        break;
    }
    }
}

static int op_skips_input_grad(const iae_op *op) {
    return op->kind == IAE_OP_CONV2D || op->kind == IAE_OP_CONV_TRANSPOSE2D ||
           op->kind == IAE_OP_LINEAR || op->kind == IAE_OP_LSTM;
}

/* Backward pass. dx_input (N, C, H, W) receives dL/dx when not NULL. */
static void net_backward(iae_net *net, int n, const float *x, const float *dz, const float *dout, float *dx_input) {
    const long z_count = (long)n * iae_net_z_size(net);
    const float *d = net->cfg.use_decoder ? dout : NULL;
    int next = 0;

    for (int i = net->n_ops - 1; i >= 0; i--) {
        iae_op *op = &net->ops[i];
        if (i == net->z_op && dz != NULL) {
            if (d == NULL) {
                d = dz;
            } else {
                /* d is a ping-pong buffer here: the decoder wrote it. */
                float *dw = (float *)d;
                for (long j = 0; j < z_count; j++) dw[j] += dz[j];
            }
        }
        if (d == NULL) continue; /* no loss reaches this op yet */

        const float *in = i > 0 ? net->ops[i - 1].out : x;
        float *dx = NULL;
        if (i > 0 || !op_skips_input_grad(op)) {
            dx = net->dbuf[next];
            next ^= 1;
        }
        if (i == 0 && dx_input != NULL) dx = dx_input;
        const double t0 = net->profile ? iae_now_s() : 0.0;
        op_backward(net, op, n, in, d, dx);
        if (net->profile) net->op_backward_s[i] += iae_now_s() - t0;
        d = dx;
    }
}

void iae_net_backward(iae_net *net, int n, const float *x, const float *dz, const float *dout) {
    net_backward(net, n, x, dz, dout, NULL);
}

void iae_net_backward_input(iae_net *net, int n, const float *x, const float *dz, const float *dout, float *dx) {
    net_backward(net, n, x, dz, dout, dx);
}

iae_status iae_net_set_lstm_kernel(iae_ctx *ctx, iae_net *net, iae_lstm_impl impl, int bf16) {
    int w = iae_net_find_param(net, "lstm.weight_hh_l0");
    net->lstm_opt.impl = impl;
    if (w < 0 || !bf16 || impl != IAE_LSTM_FUSED) {
        iae_free(net->w_hh_bf16);
        net->w_hh_bf16 = NULL;
        net->lstm_opt.w_hh_bf16 = NULL;
        return IAE_OK;
    }
    if (net->w_hh_bf16 == NULL) {
        net->w_hh_bf16 = iae_alloc(ctx, sizeof(uint16_t) * net->params[w].count, "bf16 recurrent weights");
        if (net->w_hh_bf16 == NULL) return IAE_ERR_NOMEM;
    }
    net->lstm_opt.w_hh_bf16 = net->w_hh_bf16;
    iae_net_params_changed(net);
    return IAE_OK;
}

/* Recompute the step bias of the memory or none context. */
static void update_step_bias(iae_net *net) {
    const int hid = iae_net_lstm_hidden(net);
    if (hid == 0 || net->context == IAE_CONTEXT_BATCH) return;
    const iae_op *op = NULL;
    for (int i = 0; i < net->n_ops; i++)
        if (net->ops[i].kind == IAE_OP_LSTM) op = &net->ops[i];
    const float *h0 = net->context == IAE_CONTEXT_MEMORY ? net->memory_state : NULL;
    iae_lstm_step_bias(hid, param_ptr(net, op->param[1]), param_ptr(net, op->param[2]), param_ptr(net, op->param[3]),
                       h0, net->step_bias);
}

void iae_net_params_changed(iae_net *net) {
    update_step_bias(net);
    if (net->w_hh_bf16 == NULL) return;
    int w = iae_net_find_param(net, "lstm.weight_hh_l0");
    iae_f32_to_bf16(net->param + net->params[w].offset, net->w_hh_bf16, net->params[w].count);
}

void iae_net_lstm_final_state(const iae_net *net, int n, float *h, float *c) {
    for (int i = 0; i < net->n_ops; i++) {
        const iae_op *op = &net->ops[i];
        if (op->kind != IAE_OP_LSTM) continue;
        const int hid = op->out_c;
        const float *cs = op->aux + (long)net->max_batch * 4 * hid; /* (T+1, Hd), row t+1 = c_t */
        memcpy(h, op->out + (long)(n - 1) * hid, sizeof(float) * hid);
        memcpy(c, cs + (long)n * hid, sizeof(float) * hid);
    }
}

int iae_net_lstm_hidden(const iae_net *net) {
    for (int i = 0; i < net->n_ops; i++)
        if (net->ops[i].kind == IAE_OP_LSTM) return net->ops[i].out_c;
    return 0;
}

iae_status iae_net_set_context(iae_ctx *ctx, iae_net *net, iae_lstm_context context) {
    if (context == IAE_CONTEXT_MEMORY && iae_net_lstm_hidden(net) > 0 && !net->has_memory)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "the memory context needs a stored LSTM state, which this model does not have; use the "
                        "batch or none context");
    net->context = context;
    update_step_bias(net);
    return IAE_OK;
}

void iae_net_set_memory(iae_net *net, const float *h, const float *c) {
    const int hid = iae_net_lstm_hidden(net);
    memcpy(net->memory_state, h, sizeof(float) * hid);
    memcpy(net->memory_state + hid, c, sizeof(float) * hid);
    net->has_memory = 1;
    update_step_bias(net);
}

int iae_net_find_param(const iae_net *net, const char *name) {
    for (int i = 0; i < net->n_params; i++)
        if (strcmp(net->params[i].name, name) == 0) return i;
    return -1;
}

int iae_net_find_buffer(const iae_net *net, const char *name) {
    for (int i = 0; i < net->n_buffers; i++)
        if (strcmp(net->buffers[i].name, name) == 0) return i;
    return -1;
}

static int same_shape(const iae_tensor_info *a, const iae_tensor_info *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

int iae_net_copy_matching(iae_net *dst, const iae_net *src) {
    int copied = 0;
    for (int i = 0; i < src->n_params; i++) {
        int j = iae_net_find_param(dst, src->params[i].name);
        if (j < 0 || !same_shape(&dst->params[j], &src->params[i])) continue;
        memcpy(dst->param + dst->params[j].offset, src->param + src->params[i].offset,
               sizeof(float) * src->params[i].count);
        copied++;
    }
    for (int i = 0; i < src->n_buffers; i++) {
        int j = iae_net_find_buffer(dst, src->buffers[i].name);
        if (j < 0 || !same_shape(&dst->buffers[j], &src->buffers[i])) continue;
        memcpy(dst->buffer + dst->buffers[j].offset, src->buffer + src->buffers[i].offset,
               sizeof(float) * src->buffers[i].count);
        copied++;
    }
    iae_net_params_changed(dst);
    return copied;
}
