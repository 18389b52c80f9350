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
#include <stdlib.h>
#include <string.h>

#include "optim/optim.h"
#include "pipeline/checkpoint.h"
#include "pipeline/pipeline.h"

static const int lr_milestones[1] = {250};
#define LR_GAMMA 0.1f
#define CENTER_EPS 0.1f
#define RADIUS_WARMUP_EPOCHS 10 /* the soft-boundary radius stays 0 before this epoch */

void iae_train_history_free(iae_train_history *h) {
    iae_free(h->epochs);
    memset(h, 0, sizeof(*h));
}

/* ---------------- one optimisation step ---------------- */

struct iae_trainer {
    iae_net *net;
    const iae_detector_info *info;
    const float *center;
    iae_step_kind kind;
    iae_adam adam;
    float *m, *v, *vmax; /* Adam moments, same layout as net->param */
    float *dz, *dout, *target;
    float *dist; /* (N) per-sample squared distances, for the soft-boundary radius */
    iae_rng kl_rng;
    float radius;      /* current soft-boundary R */
    int update_radius; /* this epoch is past the radius warm-up */
};

void iae_trainer_free(iae_trainer *t) {
    if (t == NULL) return;
    iae_free(t->m), iae_free(t->v), iae_free(t->vmax);
    iae_free(t->dz), iae_free(t->dout), iae_free(t->target), iae_free(t->dist);
    iae_free(t);
}

iae_status iae_trainer_create(iae_ctx *ctx, iae_net *net, const iae_detector_info *info, const float *center,
                              iae_step_kind kind, iae_trainer **out) {
    *out = NULL;
    iae_trainer *t = iae_alloc(ctx, sizeof(*t), "trainer");
    if (t == NULL) return IAE_ERR_NOMEM;
    t->net = net;
    t->info = info;
    t->center = center;
    t->kind = kind;
    iae_adam_init(&t->adam, info->lr, info->weight_decay, 1);
    iae_rng_seed(&t->kl_rng, info->seed, IAE_STREAM_KL_TARGET);
    const long count = net->n_param_floats;
    const long in_count = (long)net->max_batch * iae_net_input_size(net);
    const long z_count = (long)net->max_batch * iae_net_z_size(net);
    t->m = iae_alloc(ctx, sizeof(float) * count, "Adam first moments");
    t->v = iae_alloc(ctx, sizeof(float) * count, "Adam second moments");
    t->vmax = iae_alloc(ctx, sizeof(float) * count, "AMSGrad maxima");
    t->dout = iae_alloc(ctx, sizeof(float) * in_count, "reconstruction gradient");
    t->dz = iae_alloc(ctx, sizeof(float) * z_count, "feature gradient");
    t->target = iae_alloc(ctx, sizeof(float) * z_count, "KL target");
    t->dist = iae_alloc(ctx, sizeof(float) * net->max_batch, "SVDD distances");
    t->radius = info->radius;
    if (!t->m || !t->v || !t->vmax || !t->dout || !t->dz || !t->target || !t->dist) {
        iae_trainer_free(t);
        return IAE_ERR_NOMEM;
    }
    *out = t;
    return IAE_OK;
}

void iae_trainer_set_lr(iae_trainer *t, float lr) { t->adam.lr = lr; }

void iae_trainer_begin_epoch(iae_trainer *t, int epoch) {
    t->adam.lr = iae_multistep_lr(t->info->lr, lr_milestones, 1, LR_GAMMA, epoch);
    t->update_radius = t->info->objective == IAE_OBJECTIVE_SOFT_BOUNDARY && epoch >= RADIUS_WARMUP_EPOCHS;
}

float iae_trainer_radius(const iae_trainer *t) { return t->radius; }
void iae_trainer_set_radius(iae_trainer *t, float r) { t->radius = r; }

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Soft-boundary radius after a step: R = the (1 - nu) quantile (linear
 * interpolation, as numpy.quantile) of sqrt(q_b) over the batch. The reference
 * takes q_b = d_b for Deep SVDD, but for the autoencoder-based models it
 * overwrites the distances with the per-sample loss R^2 + max(0, d_b - R^2) / nu
 * before this update; iae keeps that unless radius_from_distance is set. */
static void update_radius(iae_trainer *t, int n) {
    const iae_detector_info *info = t->info;
    const double r2 = (double)t->radius * t->radius;
    const int plain = info->radius_from_distance || info->model == IAE_MODEL_DEEP_SVDD;
    for (int b = 0; b < n; b++) {
        double q = plain ? t->dist[b] : r2 + fmax(0.0, t->dist[b] - r2) / info->nu;
        t->dist[b] = (float)sqrt(q);
    }
    qsort(t->dist, n, sizeof(float), cmp_float);
    double pos = (1.0 - info->nu) * (n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < n ? lo + 1 : lo;
    t->radius = (float)(t->dist[lo] + (pos - lo) * ((double)t->dist[hi] - t->dist[lo]));
}

void iae_trainer_state(const iae_trainer *t, const float **m, const float **v, const float **vmax, long *step,
                       const iae_rng **kl_rng) {
    *m = t->m, *v = t->v, *vmax = t->vmax;
    *step = t->adam.step;
    *kl_rng = &t->kl_rng;
}

long iae_trainer_mutable_state(iae_trainer *t, float **m, float **v, float **vmax, long **step, iae_rng **kl_rng) {
    *m = t->m, *v = t->v, *vmax = t->vmax;
    *step = &t->adam.step;
    *kl_rng = &t->kl_rng;
    return t->net->n_param_floats;
}

int iae_trainer_step(iae_trainer *t, const float *x, int n, double terms[4]) {
    const iae_detector_info *info = t->info;
    iae_net *net = t->net;
    const int dim = iae_net_z_size(net);
    const long in_count = (long)n * iae_net_input_size(net);
    const int decoder = net->cfg.use_decoder;
    const int joint = t->kind == IAE_STEP_JOINT;

    iae_net_forward(net, n, x, joint ? info->bn_train_mode : 1);

    /* Loss terms and their gradients w.r.t. z and the reconstruction. */
    double svdd = 0.0, kl = 0.0, mse = 0.0;
    const int use_svdd = joint && iae_model_has_svdd(info->model);
    const int use_kl = joint && iae_model_has_kl(info->model) && info->w_kl != 0.0f;
    if (use_svdd) {
        const float *z = iae_net_z(net);
        memset(t->dz, 0, sizeof(float) * n * dim);
        svdd = iae_svdd_loss(n, dim, z, t->center, info->objective, t->radius, info->nu, 1.0f, t->dz, t->dist);
        if (use_kl) {
            /* Softmax groups of z: all of it (LeNet), or the channels at each
             * of the 4x4 positions (MVTec), as the reference's softmax(dim=1). */
            int ch = dim, pos = 1;
            iae_net_z_layout(net, &ch, &pos);
            if (info->kl_form == IAE_KL_LOG_SOFTMAX)
                kl = iae_kl_log_softmax_loss_grouped(n, ch, pos, z, &t->kl_rng, info->w_kl, t->target, t->dz);
            else
                kl = iae_kl_loss_grouped(n, ch, pos, z, &t->kl_rng, info->w_kl, t->target, t->dz);
        }
    }
    /* Without the SVDD term (the autoencoder alone) the MSE has weight 1. */
    const float w_mse = use_svdd ? info->w_mse : 1.0f;
    if (decoder) {
        memset(t->dout, 0, sizeof(float) * in_count);
        mse = iae_mse_loss(in_count, iae_net_output(net), x, w_mse, t->dout);
    }
    const double loss = svdd + w_mse * mse + (use_kl ? info->w_kl * kl : 0.0);
    terms[0] = loss, terms[1] = svdd, terms[2] = mse, terms[3] = kl;
    if (!isfinite(loss)) return 1;

    iae_net_backward(net, n, x, use_svdd ? t->dz : NULL, decoder ? t->dout : NULL);
    iae_adam_step(&t->adam, net->n_param_floats, net->param, net->grad, t->m, t->v, t->vmax);
    iae_net_params_changed(net);
    if (use_svdd && t->update_radius) update_radius(t, n);
    return 0;
}

/* ---------------- the training run ---------------- */

/* Copy the samples idx[0..n) of d into x (N, C, H, W). */
static void gather(const iae_dataset *d, const int *idx, int n, float *x) {
    const long size = (long)d->c * d->h * d->w;
    for (int b = 0; b < n; b++) memcpy(x + b * size, d->x + idx[b] * size, sizeof(float) * size);
}

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
    const iae_train_options *opts;
    iae_progress *progress;
    iae_train_history *history;
    iae_rng order_rng;
    int *perm;
    float *xb;
    int steps_per_epoch;
    int epochs_run; /* epochs run by this call, for stop_after_epochs */
} run_state;

/* Run epochs [start, epochs) of one phase: shuffled batches, last partial
 * batch dropped, a checkpoint after every opts->checkpoint_every epochs.
 * center is the SVDD center in the joint phase, NULL while pre-training. */
static iae_status run_phase(run_state *rs, iae_trainer *tr, iae_net *net, const float *center, int pretrain,
                            int start, int epochs) {
    const int bs = rs->info->batch_size;
    const iae_train_options *opts = rs->opts;
    const char *terms_ae[1] = {"mse"}, *terms_joint[4] = {"loss", "svdd", "mse", "kl"};
    if (pretrain)
        iae_progress_phase(rs->progress, "pretrain", epochs, rs->steps_per_epoch, bs, 1, terms_ae);
    else
        iae_progress_phase(rs->progress, "train", epochs, rs->steps_per_epoch, bs, 4, terms_joint);
    iae_progress_skip(rs->progress, (long)start * rs->steps_per_epoch);

    for (int epoch = start; epoch < epochs; epoch++) {
        iae_trainer_begin_epoch(tr, epoch);
        iae_rng_permutation(&rs->order_rng, rs->perm, rs->train->n);
        iae_progress_epoch_start(rs->progress);
        double e0 = iae_now_s(), sums[4] = {0};

        for (int step = 0; step < rs->steps_per_epoch; step++) {
            gather(rs->train, rs->perm + step * bs, bs, rs->xb);
            double terms[4];
            if (iae_trainer_step(tr, rs->xb, bs, terms) != 0)
                return diverged(rs->ctx, pretrain ? "pre-training" : "training", epoch, step,
                                pretrain ? "reconstruction" : "total");
            for (int i = 0; i < 4; i++) sums[i] += terms[i];
            iae_progress_step(rs->progress, epoch, step, pretrain ? terms + 2 : terms);
        }

        iae_epoch_record *r = &rs->history->epochs[rs->history->n++];
        const double k = rs->steps_per_epoch;
        *r = (iae_epoch_record){.pretrain = pretrain, .epoch = epoch + 1, .loss = sums[0] / k,
                                .svdd = sums[1] / k, .mse = sums[2] / k, .kl = sums[3] / k,
                                .seconds = iae_now_s() - e0};
        iae_progress_epoch_end(rs->progress, epoch);

        if (opts->checkpoint_every > 0 && (epoch + 1) % opts->checkpoint_every == 0) {
            iae_status st = iae_checkpoint_save(rs->ctx, opts->checkpoint_path, rs->info, opts->data_config, !pretrain,
                                                epoch + 1, net, center, tr, &rs->order_rng, rs->history);
            if (st != IAE_OK) return st;
        }
        if (++rs->epochs_run == opts->stop_after_epochs)
            return iae_fail(rs->ctx, IAE_INTERRUPTED, "stopped after %d epochs as requested", rs->epochs_run);
    }
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

/* Split train into fit (gradient steps) and val (held out), seeded. Both keep
 * the original order. val gets round(n * fraction) samples. */
iae_status iae_split_validation(iae_ctx *ctx, const iae_dataset *train, float fraction, uint64_t seed,
                                iae_dataset *fit, iae_dataset *val) {
    const long size = (long)train->c * train->h * train->w;
    const int n_val = (int)lround(train->n * (double)fraction);
    int *perm = iae_alloc(ctx, sizeof(int) * train->n, "validation split");
    uint8_t *held = iae_alloc(ctx, (size_t)train->n, "validation split");
    iae_dataset *parts[2] = {fit, val};
    const int sizes[2] = {train->n - n_val, n_val};
    iae_status st = perm && held ? IAE_OK : IAE_ERR_NOMEM;
    for (int p = 0; p < 2 && st == IAE_OK; p++) {
        *parts[p] = (iae_dataset){.n = sizes[p], .c = train->c, .h = train->h, .w = train->w};
        parts[p]->x = iae_alloc(ctx, sizeof(float) * size * (sizes[p] + 1), "training split");
        parts[p]->label = iae_alloc(ctx, (size_t)sizes[p] + 1, "training split labels");
        parts[p]->cls = iae_alloc(ctx, (size_t)sizes[p] + 1, "training split classes");
        if (!parts[p]->x || !parts[p]->label || !parts[p]->cls) st = IAE_ERR_NOMEM;
    }
    if (st == IAE_OK) {
        iae_rng rng;
        iae_rng_seed(&rng, seed, IAE_STREAM_VALIDATION);
        iae_rng_permutation(&rng, perm, train->n);
        for (int i = 0; i < n_val; i++) held[perm[i]] = 1;
        int k[2] = {0, 0};
        for (int i = 0; i < train->n; i++) {
            iae_dataset *d = parts[held[i]];
            int j = k[held[i]]++;
            memcpy(d->x + j * size, train->x + i * size, sizeof(float) * size);
            d->label[j] = train->label[i];
            d->cls[j] = train->cls[i];
        }
    }
    iae_free(perm), iae_free(held);
    if (st != IAE_OK) iae_dataset_free(fit), iae_dataset_free(val);
    return st;
}

/* Set the memory state: the LSTM's final state after a seeded sequence of
 * batch_size fit samples, BatchNorm in eval mode. */
static void set_memory_state(run_state *rs, iae_detector *d) {
    const int hid = iae_net_lstm_hidden(d->net);
    if (hid == 0) return;
    const int bs = rs->info->batch_size;
    iae_rng rng;
    iae_rng_seed(&rng, rs->info->seed, IAE_STREAM_MEMORY);
    iae_rng_permutation(&rng, rs->perm, rs->train->n);
    gather(rs->train, rs->perm, bs, rs->xb);
    iae_net_forward(d->net, bs, rs->xb, 0);
    float *h = d->net->dbuf[0], *c = d->net->dbuf[1]; /* free during evaluation */
    iae_net_lstm_final_state(d->net, bs, h, c);
    iae_net_set_memory(d->net, h, c);
}

static iae_status validate_info(iae_ctx *ctx, const iae_detector_info *info, const iae_dataset *train) {
    if (!(info->validation_fraction >= 0.0f && info->validation_fraction < 1.0f))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "validation fraction %g is outside [0, 1)", info->validation_fraction);
    const int n_fit = train->n - (int)lround(train->n * (double)info->validation_fraction);
    if (info->batch_size < 2)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "batch size %d is too small: BatchNorm in training mode needs at least 2 samples",
                        info->batch_size);
    if (n_fit < info->batch_size)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "the training set has %d samples (%d after holding out the validation fraction %g), fewer "
                        "than one batch of %d; lower --batch-size or --validation-fraction",
                        train->n, n_fit, info->validation_fraction, info->batch_size);
    if (info->epochs < 0 || info->pretrain_epochs < 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "epoch counts must not be negative");
    if (train->c != info->net.in_c || train->h != info->net.in_h || train->w != info->net.in_w)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "training samples are %dx%dx%d but the network expects %dx%dx%d", train->c,
                        train->h, train->w, info->net.in_c, info->net.in_h, info->net.in_w);
    return IAE_OK;
}

iae_status iae_train_detector(iae_ctx *ctx, const iae_detector_info *info_in, const iae_dataset *all,
                              const iae_train_options *opts, iae_progress *progress, iae_detector **out,
                              iae_train_history *history) {
    *out = NULL;
    memset(history, 0, sizeof(*history));
    static const iae_train_options no_options = {0};
    if (opts == NULL) opts = &no_options;
    if (opts->checkpoint_every > 0 && opts->checkpoint_path == NULL)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "checkpoints need a file path");
    /* A resumed run takes its settings from the checkpoint, except the
     * runtime choice of LSTM kernel. */
    const iae_checkpoint *ck = opts->resume;
    iae_detector_info resumed;
    if (ck != NULL) {
        resumed = *iae_checkpoint_info(ck);
        resumed.lstm_impl = info_in->lstm_impl;
        resumed.lstm_bf16 = info_in->lstm_bf16;
    }
    const iae_detector_info *info = ck ? &resumed : info_in;
    const int ck_phase = ck ? iae_checkpoint_phase(ck) : 0, ck_done = ck ? iae_checkpoint_epochs_done(ck) : 0;
    iae_status st = validate_info(ctx, info, all);
    if (st != IAE_OK) return st;

    /* 0. Hold out validation samples; everything below trains on the rest. */
    iae_dataset fit = {0}, val = {0};
    if ((st = iae_split_validation(ctx, all, info->validation_fraction, info->seed, &fit, &val)) != IAE_OK) return st;
    const iae_dataset *train = &fit;
    const int bs = info->batch_size;
    run_state rs = {.ctx = ctx, .info = info, .train = train, .opts = opts, .progress = progress,
                    .history = history};
    rs.steps_per_epoch = train->n / bs;
    iae_rng_seed(&rs.order_rng, info->seed, IAE_STREAM_DATA_ORDER);

    const long in_size = (long)train->c * train->h * train->w;
    iae_net *ae = NULL;
    iae_detector *d = NULL;
    iae_trainer *tr = NULL;
    history->capacity = info->epochs + info->pretrain_epochs + 1;
    history->epochs = iae_alloc(ctx, sizeof(iae_epoch_record) * history->capacity, "training history");
    rs.perm = iae_alloc(ctx, sizeof(int) * train->n, "sample order");
    rs.xb = iae_alloc(ctx, sizeof(float) * bs * in_size, "input batch");
    if (!history->epochs || !rs.perm || !rs.xb) {
        st = IAE_ERR_NOMEM;
        goto done;
    }
    iae_rng init_rng;
    double t0 = iae_now_s();

    /* 1. Pre-train the autoencoder, unless the checkpoint is past it. The
     * autoencoder model (cae) is trained in the second phase instead. */
    const int is_cae = info->model == IAE_MODEL_CAE;
    if (ck_phase == 0 && !is_cae && opts->pretrained != NULL) {
        /* Reuse an autoencoder pre-trained by an earlier run (iae search). */
        iae_net_config ae_cfg = info->net;
        ae_cfg.use_lstm = 0;
        ae_cfg.use_decoder = 1;
        if ((st = iae_net_create(ctx, &ae_cfg, bs, &ae)) != IAE_OK) goto done;
        iae_net_copy_matching(ae, opts->pretrained);
        for (int e = 0; e < info->pretrain_epochs; e++) iae_rng_permutation(&rs.order_rng, rs.perm, train->n);
    } else if (ck_phase == 0 && !is_cae) {
        iae_net_config ae_cfg = info->net;
        ae_cfg.use_lstm = 0;
        ae_cfg.use_decoder = 1;
        if ((st = iae_net_create(ctx, &ae_cfg, bs, &ae)) != IAE_OK) goto done;
        iae_rng_seed(&init_rng, info->seed, IAE_STREAM_AE_INIT);
        if ((st = iae_net_init_params(ctx, ae, &init_rng)) != IAE_OK) goto done;
        if ((st = iae_trainer_create(ctx, ae, info, NULL, IAE_STEP_AUTOENCODER, &tr)) != IAE_OK) goto done;
        if (ck != NULL) {
            if ((st = iae_checkpoint_restore_net(ctx, ck, ae, NULL)) != IAE_OK) goto done;
            if ((st = iae_checkpoint_restore_run(ctx, ck, tr, &rs.order_rng, history)) != IAE_OK) goto done;
            iae_progress_note(progress, "resuming pre-training after epoch %d of %d", ck_done, info->pretrain_epochs);
        }
        if ((st = run_phase(&rs, tr, ae, NULL, 1, ck ? ck_done : 0, info->pretrain_epochs)) != IAE_OK) goto done;
        history->pretrain_seconds = iae_now_s() - t0;
        iae_trainer_free(tr);
        tr = NULL;
    }

    /* 2. Target network and weight transfer. */
    if ((st = iae_detector_create(ctx, info, bs, &d)) != IAE_OK) goto done;
    if ((st = iae_net_set_lstm_kernel(ctx, d->net, info->lstm_impl, info->lstm_bf16)) != IAE_OK) goto done;
    if (ck_phase == 0 && is_cae) {
        iae_rng_seed(&init_rng, info->seed, IAE_STREAM_AE_INIT);
        if ((st = iae_net_init_params(ctx, d->net, &init_rng)) != IAE_OK) goto done;
    } else if (ck_phase == 0) {
        iae_rng_seed(&init_rng, info->seed, IAE_STREAM_NET_INIT);
        if ((st = iae_net_init_params(ctx, d->net, &init_rng)) != IAE_OK) goto done;
        history->transferred = iae_net_copy_matching(d->net, ae);
        if (opts->keep_pretrained != NULL) {
            *opts->keep_pretrained = ae;
        } else {
            iae_net_free(ae);
        }
        ae = NULL;
        iae_progress_note(progress, "copied %d tensors (weights and BatchNorm statistics) from the autoencoder",
                          history->transferred);

        /* 3. Center. */
        iae_progress_note(progress, "placing the center over %d training batches", rs.steps_per_epoch);
        t0 = iae_now_s();
        init_center(&rs, d);
        history->center_seconds = iae_now_s() - t0;
        double norm = 0.0;
        int pushed = 0;
        for (int j = 0; j < iae_net_z_size(d->net); j++) {
            norm += (double)d->center[j] * d->center[j];
            pushed += fabsf(d->center[j]) == CENTER_EPS;
        }
        iae_progress_note(progress, "center: norm %.4f, %d entries at +-%.1f (%.1f s)", sqrt(norm), pushed, CENTER_EPS,
                          history->center_seconds);
    }

    /* 4. Joint training (for cae: the autoencoder's own training). */
    if ((st = iae_trainer_create(ctx, d->net, info, d->center, is_cae ? IAE_STEP_AUTOENCODER : IAE_STEP_JOINT, &tr)) !=
        IAE_OK)
        goto done;
    if (ck != NULL && ck_phase == 1) {
        if ((st = iae_checkpoint_restore_net(ctx, ck, d->net, d->center)) != IAE_OK) goto done;
        if ((st = iae_checkpoint_restore_run(ctx, ck, tr, &rs.order_rng, history)) != IAE_OK) goto done;
        iae_progress_note(progress, "resuming training after epoch %d of %d", ck_done, info->epochs);
    }
    t0 = iae_now_s();
    if ((st = run_phase(&rs, tr, d->net, d->center, 0, ck_phase == 1 ? ck_done : 0, info->epochs)) != IAE_OK)
        goto done;
    history->train_seconds = iae_now_s() - t0;
    d->info.radius = iae_trainer_radius(tr);
    iae_trainer_free(tr);
    tr = NULL;

    /* 5. LSTM memory state, then statistics and threshold of held-out scores. */
    t0 = iae_now_s();
    set_memory_state(&rs, d);
    d->info.validation_samples = val.n;
    d->info.score_context = iae_net_lstm_hidden(d->net) > 0 ? IAE_CONTEXT_MEMORY : IAE_CONTEXT_BATCH;
    if (val.n == 1)
        iae_progress_note(progress,
                          "only 1 held-out normal image: no score statistics, combined score or threshold; "
                          "raise --validation-fraction or add normal images");
    if (val.n >= 2) { /* a standard deviation needs two samples */
        iae_scores vs;
        if ((st = iae_score(ctx, d, val.x, val.n, bs, d->info.score_context, &vs)) != IAE_OK) goto done;
        iae_score_stats_compute(&vs, &d->stats);
        iae_scores_free(&vs);
        d->info.threshold = iae_score_stats_threshold(&d->stats, IAE_N_STAT_SCORES - 1, info->threshold_fpr);
        iae_progress_note(progress,
                          "held-out normal images: %d; combined-score threshold %.4g for a false-positive rate of %g",
                          val.n, d->info.threshold, info->threshold_fpr);
    }
    history->validation_seconds = iae_now_s() - t0;
    if (opts->data_config != NULL) {
        const size_t bytes = strlen(opts->data_config) + 1;
        if ((d->data_config = iae_alloc(ctx, bytes, "data source settings")) == NULL) {
            st = IAE_ERR_NOMEM;
            goto done;
        }
        memcpy(d->data_config, opts->data_config, bytes);
    }
    *out = d;
    d = NULL;

done:
    iae_trainer_free(tr);
    iae_net_free(ae);
    iae_detector_free(d);
    iae_free(rs.perm), iae_free(rs.xb);
    iae_dataset_free(&fit), iae_dataset_free(&val);
    if (st != IAE_OK) iae_train_history_free(history);
    return st;
}
