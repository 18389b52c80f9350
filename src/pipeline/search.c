/*
 * Hyper-parameter search (see search.h).
 *
 * Without a labelled validation set the criterion is a proxy: the AUROC of
 * held-out normal images against corrupted copies of the same images. It
 * rewards models that notice local defects and orientation changes, which is
 * not the same as detecting other Fashion-MNIST classes, so results are best
 * confirmed on a labelled set (--validation-images). The reference code
 * instead tuned its per-class weights on the test AUROC, which leaks the test
 * set into the model choice.
 */
#include "pipeline/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "metrics/roc.h"

void iae_proxy_anomalies(const float *x, int n, int c, int h, int w, uint64_t seed, float *out) {
    iae_rng rng;
    iae_rng_seed(&rng, seed, IAE_STREAM_SEARCH + 100);
    const long size = (long)c * h * w;
    const int side = h / 3 > 1 ? h / 3 : 1;
    for (int b = 0; b < n; b++) {
        const float *src = x + b * size;
        float *dst = out + b * size;
        float lo = src[0], hi = src[0];
        for (long i = 0; i < size; i++) lo = fminf(lo, src[i]), hi = fmaxf(hi, src[i]);
        const int flip = b % 2;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                memcpy(dst + ((long)ch * h + y) * w, src + ((long)ch * h + (flip ? h - 1 - y : y)) * w,
                       sizeof(float) * w);
        const int y0 = (int)iae_rng_below(&rng, (uint64_t)(h - side + 1));
        const int x0 = (int)iae_rng_below(&rng, (uint64_t)(w - side + 1));
        for (int ch = 0; ch < c; ch++)
            for (int y = y0; y < y0 + side; y++)
                for (int xx = x0; xx < x0 + side; xx++)
                    dst[((long)ch * h + y) * w + xx] = lo + (hi - lo) * (float)iae_rng_uniform(&rng);
    }
}

static iae_status write_trials(iae_ctx *ctx, const char *path, const iae_search_options *o, const iae_trial *t, int n,
                               int best) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory writing '%s'", path);
    fprintf(f, "trial,w_mse,w_kl,nu,auroc_%s,criterion,seconds,best\n", iae_score_names[o->score]);
    for (int i = 0; i < n; i++)
        fprintf(f, "%d,%.6g,%.6g,%.6g,%.6f,%s,%.1f,%d\n", i + 1, t[i].value[0], t[i].value[1], t[i].value[2],
                t[i].auroc, o->labelled ? "labelled validation set" : "proxy anomalies", t[i].seconds, i == best);
    fclose(f);
    iae_atomic_file af;
    iae_status st = iae_atomic_open(ctx, &af, path);
    if (st == IAE_OK) {
        iae_atomic_write(&af, text, len);
        st = iae_atomic_commit(ctx, &af);
    }
    free(text);
    return st;
}

/* Candidates: random (log-uniform weights, uniform nu) or a grid with the
 * same number of values on every searched axis. */
static int make_candidates(const iae_search_options *o, double (*cand)[3], int max) {
    int dims = o->tune[0] + o->tune[1] + o->tune[2];
    const double base[3] = {o->base.w_mse, o->base.w_kl, o->base.nu};
    if (!o->grid || dims == 0) {
        iae_rng rng;
        iae_rng_seed(&rng, o->base.seed, IAE_STREAM_SEARCH);
        int n = o->trials < max ? o->trials : max;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 3; p++) {
                const double u = iae_rng_uniform(&rng);
                if (!o->tune[p])
                    cand[i][p] = base[p];
                else if (p < 2)
                    cand[i][p] = exp(log(o->lo[p]) + u * (log(o->hi[p]) - log(o->lo[p])));
                else
                    cand[i][p] = o->lo[p] + u * (o->hi[p] - o->lo[p]);
            }
        return n;
    }
    int per = (int)floor(pow((double)o->trials, 1.0 / dims) + 1e-9);
    if (per < 2) per = 2;
    int n = 1;
    for (int d = 0; d < dims; d++) n *= per;
    if (n > max) n = max;
    for (int i = 0; i < n; i++) {
        int rest = i;
        for (int p = 0; p < 3; p++) {
            if (!o->tune[p]) {
                cand[i][p] = base[p];
                continue;
            }
            const double t = (double)(rest % per) / (per - 1);
            rest /= per;
            cand[i][p] = p < 2 ? exp(log(o->lo[p]) + t * (log(o->hi[p]) - log(o->lo[p]))) : o->lo[p] + t * (o->hi[p] - o->lo[p]);
        }
    }
    return n;
}

iae_status iae_search(iae_ctx *ctx, const iae_search_options *o, const iae_dataset *train, iae_progress *progress,
                      iae_trial *best_out) {
    enum { MAX_TRIALS = 1000 };
    double (*cand)[3] = malloc(sizeof(double[3]) * MAX_TRIALS);
    iae_trial *trials = calloc(MAX_TRIALS, sizeof(iae_trial));
    iae_dataset fit = {0}, val = {0}, eval_set = {0};
    iae_net *ae = NULL;
    iae_status st = cand && trials ? IAE_OK : iae_fail(ctx, IAE_ERR_NOMEM, "out of memory for the search");
    int n = st == IAE_OK ? make_candidates(o, cand, MAX_TRIALS) : 0;

    /* The criterion's data: the labelled set, or held-out normals and their
     * corrupted copies (the same split the trials hold out). */
    const iae_dataset *eval = o->labelled;
    if (st == IAE_OK && eval == NULL) {
        if (!(o->base.validation_fraction > 0))
            st = iae_fail(ctx, IAE_ERR_ARGUMENT,
                          "the search needs held-out images: a --validation-fraction above 0 or a labelled set");
        if (st == IAE_OK)
            st = iae_split_validation(ctx, train, o->base.validation_fraction, o->base.seed, &fit, &val);
        if (st == IAE_OK && val.n < 2) st = iae_fail(ctx, IAE_ERR_ARGUMENT, "too few held-out images (%d)", val.n);
        if (st == IAE_OK) {
            const long size = (long)val.c * val.h * val.w;
            eval_set = (iae_dataset){.n = 2 * val.n, .c = val.c, .h = val.h, .w = val.w};
            eval_set.x = iae_alloc(ctx, sizeof(float) * size * eval_set.n, "search evaluation set");
            eval_set.label = iae_alloc(ctx, (size_t)eval_set.n, "search labels");
            eval_set.cls = iae_alloc(ctx, (size_t)eval_set.n, "search labels");
            if (!eval_set.x || !eval_set.label || !eval_set.cls) st = IAE_ERR_NOMEM;
        }
        if (st == IAE_OK) {
            const long size = (long)val.c * val.h * val.w;
            memcpy(eval_set.x, val.x, sizeof(float) * size * val.n);
            iae_proxy_anomalies(val.x, val.n, val.c, val.h, val.w, o->base.seed, eval_set.x + size * val.n);
            for (int i = 0; i < eval_set.n; i++) eval_set.label[i] = i >= val.n;
            eval = &eval_set;
        }
    }

    int best = -1;
    for (int i = 0; i < n && st == IAE_OK; i++) {
        iae_detector_info info = o->base;
        info.w_mse = (float)cand[i][0];
        info.w_kl = (float)cand[i][1];
        info.nu = (float)cand[i][2];
        iae_progress_note(progress, "trial %d/%d: w_mse %.4g, w_kl %.4g, nu %.4g", i + 1, n, info.w_mse, info.w_kl,
                          info.nu);
        const double t0 = iae_now_s();
        iae_train_options topts = {.pretrained = ae, .keep_pretrained = ae ? NULL : &ae};
        iae_detector *d = NULL;
        iae_train_history h;
        if ((st = iae_train_detector(ctx, &info, train, &topts, progress, &d, &h)) != IAE_OK) break;
        iae_train_history_free(&h);
        iae_scores s;
        st = iae_score(ctx, d, eval->x, eval->n, info.batch_size, d->info.score_context, &s);
        if (st == IAE_OK) {
            double a[IAE_N_SCORES];
            iae_scores_auroc(&s, eval->label, a);
            trials[i] = (iae_trial){{cand[i][0], cand[i][1], cand[i][2]}, a[o->score], iae_now_s() - t0};
            if (!isnan(a[o->score]) && (best < 0 || a[o->score] > trials[best].auroc)) best = i;
            iae_scores_free(&s);
            iae_progress_note(progress, "trial %d/%d: criterion AUROC %.4f (best so far %.4f)", i + 1, n,
                              trials[i].auroc, best >= 0 ? trials[best].auroc : NAN);
            if (o->out_csv) st = write_trials(ctx, o->out_csv, o, trials, i + 1, best);
        }
        iae_detector_free(d);
    }
    if (st == IAE_OK && best < 0) st = iae_fail(ctx, IAE_ERR_NUMERIC, "no trial gave a finite criterion");
    if (st == IAE_OK) *best_out = trials[best];
    iae_net_free(ae);
    iae_dataset_free(&fit), iae_dataset_free(&val), iae_dataset_free(&eval_set);
    free(cand), free(trials);
    return st;
}
