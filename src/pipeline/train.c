/*
 * Training pipeline of one run (normal class k, seed s):
 * 1. pre-train the autoencoder (no LSTM) with the MSE loss;
 * 2. build the target network and copy every autoencoder tensor whose name
 *    and shape match: conv, fc1 and deconv weights and all BatchNorm running
 *    statistics (the LSTM keeps its fresh initialisation);
 * 3. center c = mean feature over the training batches, BatchNorm in eval
 *    mode, with entries in (-0.1, 0.1) pushed to -0.1 or 0.1 (zeros stay);
 * 4. train with L = L_svdd + w_mse L_mse + w_kl L_kl.
 * Both phases use Adam (amsgrad, coupled weight decay) with MultiStepLR
 * (milestone 250, gamma 0.1) and shuffled batches with the last partial
 * batch dropped. All buffers are allocated before the first step.
 */
#include <math.h>
#include <string.h>

#include "optim/optim.h"
#include "pipeline/pipeline.h"

static const int lr_milestones[1] = {250};
#define LR_GAMMA 0.1f
#define CENTER_EPS 0.1f

void iae_train_history_free(iae_train_history *h) {
    iae_free(h->epochs);
    memset(h, 0, sizeof(*h));
}

/* Adam moments for one network, allocated once. */
typedef struct {
    iae_adam adam;
    float *m, *v, *vmax;
} optimizer;

static iae_status optimizer_create(iae_ctx *ctx, optimizer *o, long count, const iae_detector_info *info) {
    memset(o, 0, sizeof(*o));
    iae_adam_init(&o->adam, info->lr, info->weight_decay, 1);
    o->m = iae_alloc(ctx, sizeof(float) * count, "Adam first moments");
    o->v = iae_alloc(ctx, sizeof(float) * count, "Adam second moments");
    o->vmax = iae_alloc(ctx, sizeof(float) * count, "AMSGrad maxima");
    return o->m && o->v && o->vmax ? IAE_OK : IAE_ERR_NOMEM;
}

static void optimizer_free(optimizer *o) {
    iae_free(o->m), iae_free(o->v), iae_free(o->vmax);
    memset(o, 0, sizeof(*o));
}

/* Copy the samples idx[0..n) of d into x (N, C, H, W). */
static void gather(const iae_dataset *d, const int *idx, int n, float *x) {
    const long size = (long)d->c * d->h * d->w;
    for (int b = 0; b < n; b++) memcpy(x + b * size, d->x + idx[b] * size, sizeof(float) * size);
}

static int check_finite(double v) { return isfinite(v); }

static iae_status diverged(iae_ctx *ctx, const char *phase, int epoch, int step, const char *term) {
    return iae_fail(ctx, IAE_ERR_NUMERIC,
                    "%s diverged at epoch %d, batch %d: the %s loss is not finite; lower --lr or the loss "
                    "weights (--mse-weight, --kl-weight)",
                    phase, epoch + 1, step + 1, term);
}

/* Shared state of one training run. */
typedef struct {
    iae_ctx *ctx;
    const iae_detector_info *info;
    const iae_dataset *train;
    iae_progress *progress;
    iae_train_history *history;
    iae_rng order_rng, kl_rng;
    int *perm;
    float *xb, *dout, *dz, *target;
    int steps_per_epoch;
} run_state;

static iae_status pretrain(run_state *rs, iae_net *ae) {
    const iae_detector_info *info = rs->info;
    const int bs = info->batch_size;
    const long in_count = (long)bs * iae_net_input_size(ae);
    optimizer opt;
    iae_status st = optimizer_create(rs->ctx, &opt, ae->n_param_floats, info);
    if (st != IAE_OK) {
        optimizer_free(&opt);
        return st;
    }
    const char *terms[1] = {"mse"};
    iae_progress_phase(rs->progress, "pretrain", info->pretrain_epochs, rs->steps_per_epoch, bs, 1, terms);
    double t0 = iae_now_s();

    for (int epoch = 0; epoch < info->pretrain_epochs; epoch++) {
        opt.adam.lr = iae_multistep_lr(info->lr, lr_milestones, 1, LR_GAMMA, epoch);
        iae_rng_permutation(&rs->order_rng, rs->perm, rs->train->n);
        iae_progress_epoch_start(rs->progress);
        double e0 = iae_now_s(), sum = 0.0;

        for (int step = 0; step < rs->steps_per_epoch; step++) {
            gather(rs->train, rs->perm + step * bs, bs, rs->xb);
            iae_net_zero_grad(ae);
            iae_net_forward(ae, bs, rs->xb, 1);
            memset(rs->dout, 0, sizeof(float) * in_count);
            double mse = iae_mse_loss(in_count, iae_net_output(ae), rs->xb, 1.0f, rs->dout);
            if (!check_finite(mse)) {
                optimizer_free(&opt);
                return diverged(rs->ctx, "pre-training", epoch, step, "reconstruction");
            }
            iae_net_backward(ae, bs, rs->xb, NULL, rs->dout);
            iae_adam_step(&opt.adam, ae->n_param_floats, ae->param, ae->grad, opt.m, opt.v, opt.vmax);
            iae_net_params_changed(ae);
            sum += mse;
            iae_progress_step(rs->progress, epoch, step, &mse);
        }

        iae_epoch_record *r = &rs->history->epochs[rs->history->n++];
        *r = (iae_epoch_record){.pretrain = 1, .epoch = epoch + 1, .mse = sum / rs->steps_per_epoch,
                                .seconds = iae_now_s() - e0};
        r->loss = r->mse;
        iae_progress_epoch_end(rs->progress, epoch);
    }
    rs->history->pretrain_seconds = iae_now_s() - t0;
    optimizer_free(&opt);
    return IAE_OK;
}

/* c = mean of z over the shuffled training batches (BatchNorm in eval mode). */
static void init_center(run_state *rs, iae_detector *d) {
    const int bs = rs->info->batch_size;
    const int dim = iae_net_z_size(d->net);
    double sum[dim];
    memset(sum, 0, sizeof(sum));
    iae_rng_permutation(&rs->order_rng, rs->perm, rs->train->n);

    for (int step = 0; step < rs->steps_per_epoch; step++) {
        gather(rs->train, rs->perm + step * bs, bs, rs->xb);
        iae_net_forward(d->net, bs, rs->xb, 0);
        const float *z = iae_net_z(d->net);
        for (int b = 0; b < bs; b++)
            for (int j = 0; j < dim; j++) sum[j] += z[(long)b * dim + j];
    }
    const double count = (double)rs->steps_per_epoch * bs;
    for (int j = 0; j < dim; j++) {
        float c = (float)(sum[j] / count);
        if (c > 0.0f && c < CENTER_EPS) c = CENTER_EPS;
        if (c < 0.0f && c > -CENTER_EPS) c = -CENTER_EPS;
        d->center[j] = c;
    }
}

static iae_status train_joint(run_state *rs, iae_detector *d) {
    const iae_detector_info *info = rs->info;
    iae_net *net = d->net;
    const int bs = info->batch_size;
    const int dim = iae_net_z_size(net);
    const long in_count = (long)bs * iae_net_input_size(net);
    const int decoder = net->cfg.use_decoder;
    optimizer opt;
    iae_status st = optimizer_create(rs->ctx, &opt, net->n_param_floats, info);
    if (st != IAE_OK) {
        optimizer_free(&opt);
        return st;
    }
    const char *terms[4] = {"loss", "svdd", "mse", "kl"};
    iae_progress_phase(rs->progress, "train", info->epochs, rs->steps_per_epoch, bs, 4, terms);
    double t0 = iae_now_s();

    for (int epoch = 0; epoch < info->epochs; epoch++) {
        opt.adam.lr = iae_multistep_lr(info->lr, lr_milestones, 1, LR_GAMMA, epoch);
        iae_rng_permutation(&rs->order_rng, rs->perm, rs->train->n);
        iae_progress_epoch_start(rs->progress);
        double e0 = iae_now_s(), sums[4] = {0};

        for (int step = 0; step < rs->steps_per_epoch; step++) {
            gather(rs->train, rs->perm + step * bs, bs, rs->xb);
            iae_net_zero_grad(net);
            iae_net_forward(net, bs, rs->xb, info->bn_train_mode);
            const float *z = iae_net_z(net);

            /* Loss terms and their gradients w.r.t. z and the reconstruction. */
            memset(rs->dz, 0, sizeof(float) * bs * dim);
            double svdd = iae_svdd_loss(bs, dim, z, d->center, info->objective, info->radius, info->nu,
                                        1.0f, rs->dz, NULL);
            double kl = 0.0;
            if (info->w_kl != 0.0f) {
                if (info->kl_form == IAE_KL_LOG_SOFTMAX)
                    kl = iae_kl_log_softmax_loss(bs, dim, z, &rs->kl_rng, info->w_kl, rs->target, rs->dz);
                else
                    kl = iae_kl_loss(bs, dim, z, &rs->kl_rng, info->w_kl, rs->target, rs->dz);
            }
            double mse = 0.0;
            if (decoder) {
                memset(rs->dout, 0, sizeof(float) * in_count);
                mse = iae_mse_loss(in_count, iae_net_output(net), rs->xb, info->w_mse, rs->dout);
            }
            double loss = svdd + info->w_mse * mse + info->w_kl * kl;
            if (!check_finite(loss)) {
                optimizer_free(&opt);
                return diverged(rs->ctx, "training", epoch, step, "total");
            }

            iae_net_backward(net, bs, rs->xb, rs->dz, decoder ? rs->dout : NULL);
            iae_adam_step(&opt.adam, net->n_param_floats, net->param, net->grad, opt.m, opt.v, opt.vmax);
            iae_net_params_changed(net);

            double values[4] = {loss, svdd, mse, kl};
            for (int i = 0; i < 4; i++) sums[i] += values[i];
            iae_progress_step(rs->progress, epoch, step, values);
        }

        iae_epoch_record *r = &rs->history->epochs[rs->history->n++];
        const double k = rs->steps_per_epoch;
        *r = (iae_epoch_record){.pretrain = 0, .epoch = epoch + 1, .loss = sums[0] / k, .svdd = sums[1] / k,
                                .mse = sums[2] / k, .kl = sums[3] / k, .seconds = iae_now_s() - e0};
        iae_progress_epoch_end(rs->progress, epoch);
    }
    rs->history->train_seconds = iae_now_s() - t0;
    optimizer_free(&opt);
    return IAE_OK;
}

static iae_status validate_info(iae_ctx *ctx, const iae_detector_info *info, const iae_dataset *train) {
    if (info->batch_size < 2)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "batch size %d is too small: BatchNorm in training mode needs at least 2 samples",
                        info->batch_size);
    if (train->n < info->batch_size)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "the training set has %d samples, fewer than one batch of %d; lower --batch-size",
                        train->n, info->batch_size);
    if (info->epochs < 0 || info->pretrain_epochs < 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "epoch counts must not be negative");
    if (train->c != info->net.in_c || train->h != info->net.in_h || train->w != info->net.in_w)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "training samples are %dx%dx%d but the network expects %dx%dx%d", train->c,
                        train->h, train->w, info->net.in_c, info->net.in_h, info->net.in_w);
    return IAE_OK;
}

iae_status iae_train_detector(iae_ctx *ctx, const iae_detector_info *info, const iae_dataset *train,
                              iae_progress *progress, iae_detector **out, iae_train_history *history) {
    *out = NULL;
    memset(history, 0, sizeof(*history));
    iae_status st = validate_info(ctx, info, train);
    if (st != IAE_OK) return st;

    const int bs = info->batch_size;
    run_state rs = {.ctx = ctx, .info = info, .train = train, .progress = progress, .history = history};
    rs.steps_per_epoch = train->n / bs;
    iae_rng_seed(&rs.order_rng, info->seed, IAE_STREAM_DATA_ORDER);
    iae_rng_seed(&rs.kl_rng, info->seed, IAE_STREAM_KL_TARGET);

    const long in_size = (long)train->c * train->h * train->w;
    const int dim = info->net.rep_dim;
    iae_net *ae = NULL;
    iae_detector *d = NULL;
    history->epochs = iae_alloc(ctx, sizeof(iae_epoch_record) * (info->epochs + info->pretrain_epochs + 1),
                                "training history");
    rs.perm = iae_alloc(ctx, sizeof(int) * train->n, "sample order");
    rs.xb = iae_alloc(ctx, sizeof(float) * bs * in_size, "input batch");
    rs.dout = iae_alloc(ctx, sizeof(float) * bs * in_size, "reconstruction gradient");
    rs.dz = iae_alloc(ctx, sizeof(float) * bs * dim, "feature gradient");
    rs.target = iae_alloc(ctx, sizeof(float) * bs * dim, "KL target");
    if (!history->epochs || !rs.perm || !rs.xb || !rs.dout || !rs.dz || !rs.target) {
        st = IAE_ERR_NOMEM;
        goto done;
    }

    /* 1. Pre-train the autoencoder. */
    iae_net_config ae_cfg = info->net;
    ae_cfg.use_lstm = 0;
    ae_cfg.use_decoder = 1;
    iae_rng init_rng;
    if ((st = iae_net_create(ctx, &ae_cfg, bs, &ae)) != IAE_OK) goto done;
    iae_rng_seed(&init_rng, info->seed, IAE_STREAM_AE_INIT);
    if ((st = iae_net_init_params(ctx, ae, &init_rng)) != IAE_OK) goto done;
    if ((st = pretrain(&rs, ae)) != IAE_OK) goto done;

    /* 2. Target network and weight transfer. */
    if ((st = iae_detector_create(ctx, info, bs, &d)) != IAE_OK) goto done;
    iae_rng_seed(&init_rng, info->seed, IAE_STREAM_NET_INIT);
    if ((st = iae_net_init_params(ctx, d->net, &init_rng)) != IAE_OK) goto done;
    history->transferred = iae_net_copy_matching(d->net, ae);
    iae_net_free(ae);
    ae = NULL;

    /* 3. Center. */
    double c0 = iae_now_s();
    init_center(&rs, d);
    history->center_seconds = iae_now_s() - c0;

    /* 4. Joint training. */
    if ((st = train_joint(&rs, d)) != IAE_OK) goto done;
    *out = d;
    d = NULL;

done:
    iae_net_free(ae);
    iae_detector_free(d);
    iae_free(rs.perm), iae_free(rs.xb), iae_free(rs.dout), iae_free(rs.dz), iae_free(rs.target);
    if (st != IAE_OK) iae_train_history_free(history);
    return st;
}
