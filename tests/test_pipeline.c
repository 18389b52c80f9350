/*
 * End-to-end tests of the training and scoring pipeline on a small synthetic
 * data set in the Fashion-MNIST file format: reproducibility for a seed,
 * model file round trips, score definitions and the batch-context rules.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/fashion_mnist.h"
#include "io/model_file.h"
#include "pipeline/checkpoint.h"
#include "pipeline/pipeline.h"
#include "synthetic.h"
#include "testutil.h"

enum { PER_CLASS = 20, N_TEST = 50, BATCH = 8 };

typedef struct {
    iae_ctx ctx;
    const char *dir;
    iae_dataset train, test;
    iae_detector_info info;
    iae_detector *det;
    iae_scores scores;
} fixture;

static iae_detector *train_once(fixture *f, uint64_t seed) {
    iae_progress quiet;
    iae_progress_init(&quiet, stderr, 1);
    iae_detector_info info = f->info;
    info.seed = seed;
    iae_detector *d = NULL;
    iae_train_history h;
    if (iae_train_detector(&f->ctx, &info, &f->train, NULL, &quiet, &d, &h) != IAE_OK) fail_msg("%s", f->ctx.error);
    assert_int_equal(h.n, info.pretrain_epochs + info.epochs);
    assert_int_equal(h.transferred, 22);
    for (int i = 0; i < h.n; i++) assert_true(isfinite(h.epochs[i].loss));
    iae_train_history_free(&h);
    return d;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof(*f));
    iae_ctx_init(&f->ctx, 2);
    f->dir = tu_tmpdir("pipeline");
    synth_write_fmnist(f->dir, PER_CLASS, N_TEST, 1);
    iae_fmnist_options fo = {.dir = f->dir, .normal_class = 3};
    float lo, hi;
    if (iae_fmnist_load(&f->ctx, &fo, &f->train, &f->test, &lo, &hi) != IAE_OK) fail_msg("%s", f->ctx.error);

    iae_detector_info *in = &f->info;
    in->net = iae_lenet_config(1, 1, 1);
    snprintf(in->dataset, sizeof(in->dataset), "fashion-mnist");
    in->normal_class = 3;
    in->norm_min = lo, in->norm_max = hi;
    in->objective = IAE_OBJECTIVE_ONE_CLASS;
    in->nu = 0.1f;
    in->w_mse = 1.0f, in->w_kl = 0.01f;
    in->batch_size = BATCH;
    in->pretrain_epochs = 1, in->epochs = 2;
    in->lr = 1e-3f, in->weight_decay = 0.5e-6f;
    in->bn_train_mode = 1;
    in->train_samples = f->train.n;
    in->validation_fraction = 0.2f;
    in->threshold_fpr = 0.25f;
    f->det = train_once(f, 5);
    if (iae_score(&f->ctx, f->det, f->test.x, f->test.n, BATCH, IAE_CONTEXT_BATCH, &f->scores) != IAE_OK) fail_msg("%s", f->ctx.error);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    iae_scores_free(&f->scores);
    iae_detector_free(f->det);
    iae_dataset_free(&f->train);
    iae_dataset_free(&f->test);
    free(f);
    return 0;
}

static void test_split_sizes(void **state) {
    fixture *f = *state;
    assert_int_equal(f->train.n, PER_CLASS);
    assert_int_equal(f->test.n, N_TEST);
    assert_int_equal(f->scores.n, N_TEST);
}

static void test_same_seed_same_model(void **state) {
    fixture *f = *state;
    iae_detector *again = train_once(f, 5);
    assert_memory_equal(again->net->param, f->det->net->param, sizeof(float) * f->det->net->n_param_floats);
    assert_memory_equal(again->net->buffer, f->det->net->buffer, sizeof(float) * f->det->net->n_buffer_floats);
    assert_memory_equal(again->center, f->det->center, sizeof(float) * 128);
    iae_detector *other = train_once(f, 6);
    assert_true(memcmp(other->net->param, f->det->net->param, sizeof(float) * f->det->net->n_param_floats) != 0);
    iae_detector_free(again);
    iae_detector_free(other);
}

static void test_center_has_no_small_entries(void **state) {
    fixture *f = *state;
    for (int j = 0; j < 128; j++) {
        float c = f->det->center[j];
        assert_true(c == 0.0f || fabsf(c) >= 0.1f);
    }
}

/* svdd and mse by their definitions from a forward pass of the first batch. */
static void test_score_definitions(void **state) {
    fixture *f = *state;
    iae_net_forward(f->det->net, BATCH, f->test.x, 0);
    const float *z = iae_net_z(f->det->net), *xhat = iae_net_output(f->det->net);
    for (int b = 0; b < BATCH; b++) {
        double s = 0, l1 = 0, m = 0, ml1 = 0;
        for (int j = 0; j < 128; j++) {
            double e = z[b * 128 + j] - f->det->center[j];
            s += e * e, l1 += fabs(e);
        }
        for (int i = 0; i < 1024; i++) {
            double e = xhat[b * 1024 + i] - f->test.x[b * 1024 + i];
            m += e * e, ml1 += fabs(e);
        }
        assert_float_equal(f->scores.svdd[b], s, 1e-4 * (1 + s));
        assert_float_equal(f->scores.l1_svdd[b], l1, 1e-4 * (1 + l1));
        assert_float_equal(f->scores.mse[b], m, 1e-4 * (1 + m));
        assert_float_equal(f->scores.l1_mse[b], ml1, 1e-4 * (1 + ml1));
    }
}

static void test_svdd_mse_normalised_over_all(void **state) {
    fixture *f = *state;
    const iae_scores *s = &f->scores;
    float smin = INFINITY, smax = -INFINITY, mmin = INFINITY, mmax = -INFINITY;
    for (long i = 0; i < s->n; i++) {
        smin = fminf(smin, s->svdd[i]), smax = fmaxf(smax, s->svdd[i]);
        mmin = fminf(mmin, s->mse[i]), mmax = fmaxf(mmax, s->mse[i]);
    }
    for (long i = 0; i < s->n; i++) {
        double want = (s->svdd[i] - smin) / (smax - smin) + (s->mse[i] - mmin) / (mmax - mmin);
        assert_float_equal(s->svdd_mse[i], want, 1e-5);
    }
}

/* The last partial batch (N_TEST % BATCH samples) is scored as a sequence of
 * its own, so scoring those samples alone gives the same scores. */
static void test_last_partial_batch_kept(void **state) {
    fixture *f = *state;
    const int tail = N_TEST % BATCH, start = N_TEST - tail;
    assert_true(tail > 0);
    iae_scores s;
    assert_int_equal(iae_score(&f->ctx, f->det, f->test.x + (long)start * 1024, tail, BATCH, IAE_CONTEXT_BATCH, &s), IAE_OK);
    assert_memory_equal(s.svdd, f->scores.svdd + start, sizeof(float) * tail);
    assert_memory_equal(s.mse, f->scores.mse + start, sizeof(float) * tail);
    iae_scores_free(&s);
}

static void test_model_file_round_trip(void **state) {
    fixture *f = *state;
    const char *path = tu_path(tu_tmpdir("pipeline-model"), "m.iae");
    assert_int_equal(iae_model_save(&f->ctx, f->det, path), IAE_OK);
    iae_detector *loaded = NULL;
    if (iae_model_load(&f->ctx, path, 0, &loaded) != IAE_OK) fail_msg("%s", f->ctx.error);
    assert_int_equal(loaded->info.batch_size, BATCH);
    assert_int_equal(loaded->info.normal_class, 3);
    assert_float_equal(loaded->info.w_kl, 0.01f, 0);
    assert_float_equal(loaded->info.norm_min, f->info.norm_min, 0);
    iae_scores s;
    assert_int_equal(iae_score(&f->ctx, loaded, f->test.x, f->test.n, BATCH, IAE_CONTEXT_BATCH, &s), IAE_OK);
    for (int k = 0; k < IAE_N_SCORES; k++)
        assert_memory_equal(iae_scores_get(&s, k), iae_scores_get(&f->scores, k), sizeof(float) * N_TEST);
    iae_scores_free(&s);

    /* Memory state, statistics and threshold survive, and so do the
     * memory-context scores. */
    assert_true(loaded->net->has_memory);
    assert_memory_equal(loaded->net->memory_state, f->det->net->memory_state, sizeof(float) * 2 * 2048);
    assert_memory_equal(&loaded->stats, &f->det->stats, sizeof(iae_score_stats));
    assert_float_equal(loaded->info.threshold, f->det->info.threshold, 0);
    assert_int_equal(loaded->info.score_context, IAE_CONTEXT_MEMORY);
    iae_scores a, b;
    assert_int_equal(iae_score(&f->ctx, loaded, f->test.x, f->test.n, BATCH, IAE_CONTEXT_MEMORY, &a), IAE_OK);
    assert_int_equal(iae_score(&f->ctx, f->det, f->test.x, f->test.n, BATCH, IAE_CONTEXT_MEMORY, &b), IAE_OK);
    for (int k = 0; k < IAE_N_SCORES; k++)
        assert_memory_equal(iae_scores_get(&a, k), iae_scores_get(&b, k), sizeof(float) * N_TEST);
    iae_scores_free(&a), iae_scores_free(&b);
    iae_detector_free(loaded);
}

/* Held-out normals: 20% of 20 images give the statistics and the threshold,
 * and the LSTM memory state is set. */
static void test_held_out_statistics(void **state) {
    fixture *f = *state;
    const iae_detector *d = f->det;
    assert_int_equal(d->info.validation_samples, 4);
    assert_int_equal(d->stats.n, 4);
    assert_int_equal(d->info.score_context, IAE_CONTEXT_MEMORY);
    assert_true(d->net->has_memory);
    for (int k = 0; k < IAE_N_STAT_SCORES; k++) {
        assert_true(d->stats.std[k] >= 0);
        for (int q = 1; q < IAE_N_QUANTILES; q++) assert_true(d->stats.quantile[k][q] >= d->stats.quantile[k][q - 1]);
    }
    /* The combined score of held-out normals has mean 0 by construction. */
    assert_float_equal(d->stats.mean[4], 0.0, 1e-4);
    assert_float_equal(d->info.threshold, iae_score_stats_threshold(&d->stats, 4, 0.25f), 0);
    assert_true(d->info.threshold >= d->stats.quantile[4][0] && d->info.threshold <= d->stats.quantile[4][100]);
}

/* Memory-context scores of a sample are identical alone, in any batch size
 * and in any order. */
static void test_memory_scores_independent(void **state) {
    fixture *f = *state;
    iae_scores all;
    assert_int_equal(iae_score(&f->ctx, f->det, f->test.x, f->test.n, BATCH, IAE_CONTEXT_MEMORY, &all), IAE_OK);
    const int sizes[3] = {1, 3, BATCH};
    for (int k = 0; k < 3; k++) {
        iae_scores s;
        assert_int_equal(iae_score(&f->ctx, f->det, f->test.x, f->test.n, sizes[k], IAE_CONTEXT_MEMORY, &s), IAE_OK);
        assert_memory_equal(s.svdd, all.svdd, sizeof(float) * N_TEST);
        assert_memory_equal(s.mse, all.mse, sizeof(float) * N_TEST);
        assert_memory_equal(s.combined, all.combined, sizeof(float) * N_TEST);
        iae_scores_free(&s);
    }
    /* Reversed order. */
    float *rev = malloc(sizeof(float) * N_TEST * 1024);
    for (int i = 0; i < N_TEST; i++) memcpy(rev + i * 1024, f->test.x + (N_TEST - 1 - i) * 1024, sizeof(float) * 1024);
    iae_scores r;
    assert_int_equal(iae_score(&f->ctx, f->det, rev, N_TEST, BATCH, IAE_CONTEXT_MEMORY, &r), IAE_OK);
    for (int i = 0; i < N_TEST; i++) {
        assert_memory_equal(&r.svdd[i], &all.svdd[N_TEST - 1 - i], sizeof(float));
        assert_memory_equal(&r.mse[i], &all.mse[N_TEST - 1 - i], sizeof(float));
    }
    /* The batch context, in contrast, depends on the companions. */
    iae_scores b1, b8;
    assert_int_equal(iae_score(&f->ctx, f->det, f->test.x, f->test.n, 1, IAE_CONTEXT_BATCH, &b1), IAE_OK);
    assert_int_equal(iae_score(&f->ctx, f->det, f->test.x, f->test.n, BATCH, IAE_CONTEXT_BATCH, &b8), IAE_OK);
    assert_true(memcmp(b1.svdd, b8.svdd, sizeof(float) * N_TEST) != 0);
    iae_scores_free(&r), iae_scores_free(&all), iae_scores_free(&b1), iae_scores_free(&b8);
    free(rev);
}

static unsigned char *file_bytes(const char *path, long *size) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)*size);
    assert_int_equal(fread(buf, 1, (size_t)*size, fp), (size_t)*size);
    fclose(fp);
    return buf;
}

/* Stop a run after `stop` epochs with checkpoints after every epoch, resume
 * it from the checkpoint, and compare the final model file byte for byte
 * with the uninterrupted run's. */
static void check_resume(fixture *f, int stop) {
    const char *dir = tu_tmpdir(stop == 1 ? "resume-pretrain" : "resume-train");
    char ckpt[1024], a_path[1024], b_path[1024];
    snprintf(ckpt, sizeof(ckpt), "%s/run.ckpt", dir);
    snprintf(a_path, sizeof(a_path), "%s/uninterrupted.iae", dir);
    snprintf(b_path, sizeof(b_path), "%s/resumed.iae", dir);
    iae_progress quiet;
    iae_progress_init(&quiet, stderr, 1);
    iae_detector_info info = f->info;
    info.seed = 5;

    iae_train_options stop_opts = {.checkpoint_path = ckpt, .checkpoint_every = 1, .stop_after_epochs = stop};
    iae_detector *d = NULL;
    iae_train_history h;
    assert_int_equal(iae_train_detector(&f->ctx, &info, &f->train, &stop_opts, &quiet, &d, &h), IAE_INTERRUPTED);
    assert_null(d);

    iae_checkpoint *ck = NULL;
    if (iae_checkpoint_load(&f->ctx, ckpt, &ck) != IAE_OK) fail_msg("%s", f->ctx.error);
    assert_int_equal(iae_checkpoint_phase(ck), stop == 1 ? 0 : 1);
    assert_int_equal(iae_checkpoint_epochs_done(ck), stop == 1 ? 1 : stop - 1);
    iae_train_options resume_opts = {.resume = ck};
    if (iae_train_detector(&f->ctx, &info, &f->train, &resume_opts, &quiet, &d, &h) != IAE_OK)
        fail_msg("%s", f->ctx.error);
    assert_int_equal(h.n, info.pretrain_epochs + info.epochs);
    iae_train_history_free(&h);
    iae_checkpoint_free(ck);

    assert_int_equal(iae_model_save(&f->ctx, f->det, a_path), IAE_OK);
    assert_int_equal(iae_model_save(&f->ctx, d, b_path), IAE_OK);
    long na, nb;
    unsigned char *a = file_bytes(a_path, &na), *b = file_bytes(b_path, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na);
    free(a), free(b);
    iae_detector_free(d);
}

static void test_resume_in_pretraining(void **state) { check_resume(*state, 1); }
static void test_resume_in_training(void **state) { check_resume(*state, 2); }

static void test_checkpoint_rejects_model_file(void **state) {
    fixture *f = *state;
    const char *path = tu_path(tu_tmpdir("resume-wrong"), "m.iae");
    assert_int_equal(iae_model_save(&f->ctx, f->det, path), IAE_OK);
    iae_checkpoint *ck = NULL;
    assert_int_equal(iae_checkpoint_load(&f->ctx, path, &ck), IAE_ERR_FORMAT);
    assert_non_null(strstr(f->ctx.error, "not an iae checkpoint"));
}

/* Every model variant trains and scores; the scores it lacks are NaN, the
 * loss terms it lacks stay zero, and its model file round-trips. */
static void test_model_variants(void **state) {
    fixture *f = *state;
    const char *dir = tu_tmpdir("variants");
    for (int k = 0; k < IAE_N_MODELS; k++) {
        iae_detector_info info = f->info;
        info.model = (iae_model_kind)k;
        info.net = iae_lenet_config(1, iae_model_has_lstm(info.model), iae_model_has_decoder(info.model));
        iae_fmnist_default_weights(info.model, 3, &info.w_mse, &info.w_kl);
        iae_progress quiet;
        iae_progress_init(&quiet, stderr, 1);
        iae_detector *d = NULL;
        iae_train_history h;
        if (iae_train_detector(&f->ctx, &info, &f->train, NULL, &quiet, &d, &h) != IAE_OK)
            fail_msg("%s: %s", iae_model_name(info.model), f->ctx.error);
        const iae_epoch_record *last = &h.epochs[h.n - 1];
        assert_int_equal(h.n, (k == IAE_MODEL_CAE ? 0 : info.pretrain_epochs) + info.epochs);
        assert_int_equal(last->svdd != 0.0, iae_model_has_svdd(info.model));
        assert_int_equal(last->mse != 0.0, iae_model_has_decoder(info.model));
        assert_int_equal(last->kl != 0.0, iae_model_has_kl(info.model));
        iae_train_history_free(&h);

        iae_scores s;
        assert_int_equal(iae_score(&f->ctx, d, f->test.x, f->test.n, BATCH, IAE_CONTEXT_BATCH, &s), IAE_OK);
        assert_int_equal(isnan(s.svdd[0]), !iae_model_has_svdd(info.model));
        assert_int_equal(isnan(s.mse[0]), !iae_model_has_decoder(info.model));
        assert_false(isnan(s.svdd_mse[0]));
        assert_false(isnan(s.combined[0]));
        double a[IAE_N_SCORES];
        iae_scores_auroc(&s, f->test.label, a);
        assert_true(a[5] >= 0 && a[5] <= 1);

        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.iae", dir, iae_model_name(info.model));
        assert_int_equal(iae_model_save(&f->ctx, d, path), IAE_OK);
        iae_detector *e = NULL;
        if (iae_model_load(&f->ctx, path, 0, &e) != IAE_OK) fail_msg("%s", f->ctx.error);
        assert_int_equal(e->info.model, info.model);
        iae_scores t;
        assert_int_equal(iae_score(&f->ctx, e, f->test.x, f->test.n, BATCH, IAE_CONTEXT_BATCH, &t), IAE_OK);
        assert_memory_equal(t.svdd_mse, s.svdd_mse, sizeof(float) * N_TEST);
        iae_scores_free(&s), iae_scores_free(&t);
        iae_detector_free(d), iae_detector_free(e);
    }
}

/* Soft-boundary SVDD: R stays 0 during the 10 warm-up epochs, then follows
 * the batches; svdd scores are d - R^2. */
static void test_soft_boundary_radius(void **state) {
    fixture *f = *state;
    iae_detector_info info = f->info;
    info.model = IAE_MODEL_DCAE_SVDD;
    info.net = iae_lenet_config(1, 0, 1);
    info.objective = IAE_OBJECTIVE_SOFT_BOUNDARY;
    info.nu = 0.2f;
    info.w_kl = 0;
    info.pretrain_epochs = 0;
    iae_progress quiet;
    iae_progress_init(&quiet, stderr, 1);
    iae_detector *d = NULL;
    iae_train_history h;
    for (int epochs = 10; epochs <= 11; epochs++) {
        info.epochs = epochs;
        if (iae_train_detector(&f->ctx, &info, &f->train, NULL, &quiet, &d, &h) != IAE_OK) fail_msg("%s", f->ctx.error);
        if (epochs == 10)
            assert_float_equal(d->info.radius, 0.0f, 0);
        else
            assert_true(d->info.radius > 0.0f);
        iae_train_history_free(&h);
        if (epochs == 11) break;
        iae_detector_free(d);
    }
    iae_scores s;
    assert_int_equal(iae_score(&f->ctx, d, f->test.x, 4, BATCH, IAE_CONTEXT_BATCH, &s), IAE_OK);
    iae_net_forward(d->net, 4, f->test.x, 0);
    const float *z = iae_net_z(d->net);
    for (int b = 0; b < 4; b++) {
        double dist = 0;
        for (int j = 0; j < 128; j++) dist += pow(z[b * 128 + j] - d->center[j], 2);
        assert_float_equal(s.svdd[b], dist - (double)d->info.radius * d->info.radius, 1e-3 * (1 + dist));
    }
    iae_scores_free(&s);
    iae_detector_free(d);
}

static void test_auroc_in_range(void **state) {
    fixture *f = *state;
    double a[IAE_N_SCORES];
    iae_scores_auroc(&f->scores, f->test.label, a);
    for (int k = 0; k < IAE_N_SCORES; k++) assert_true(a[k] >= 0.0 && a[k] <= 1.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_sizes),
        cmocka_unit_test(test_same_seed_same_model),
        cmocka_unit_test(test_center_has_no_small_entries),
        cmocka_unit_test(test_score_definitions),
        cmocka_unit_test(test_svdd_mse_normalised_over_all),
        cmocka_unit_test(test_last_partial_batch_kept),
        cmocka_unit_test(test_model_file_round_trip),
        cmocka_unit_test(test_auroc_in_range),
        cmocka_unit_test(test_held_out_statistics),
        cmocka_unit_test(test_memory_scores_independent),
        cmocka_unit_test(test_resume_in_pretraining),
        cmocka_unit_test(test_resume_in_training),
        cmocka_unit_test(test_checkpoint_rejects_model_file),
        cmocka_unit_test(test_model_variants),
        cmocka_unit_test(test_soft_boundary_radius),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
