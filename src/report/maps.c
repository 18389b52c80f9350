/* Anomaly maps and pixel AUROC (see maps.h). */
#include "report/maps.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/image.h"
#include "data/resize.h"
#include "metrics/roc.h"

/* Error maps (N, 64, 64) of the test images: squared error summed over the
 * channels, scored in the model's default context. */
static iae_status error_maps(iae_ctx *ctx, iae_detector *d, const iae_dataset *test, int batch_size, float *err) {
    iae_net *net = d->net;
    const long plane = (long)test->h * test->w, size = (long)test->c * plane;
    iae_status st = iae_net_set_context(ctx, net, d->info.score_context);
    if (st != IAE_OK) return st;
    for (long start = 0; start < test->n; start += batch_size) {
        const int bs = (int)(test->n - start < batch_size ? test->n - start : batch_size);
        const float *x = test->x + start * size;
        iae_net_forward(net, bs, x, 0);
        const float *xhat = iae_net_output(net);
        for (int b = 0; b < bs; b++) {
            float *e = err + (start + b) * plane;
            for (long p = 0; p < plane; p++) {
                double sum = 0.0;
                for (int c = 0; c < test->c; c++) {
                    const double diff = (double)xhat[b * size + c * plane + p] - x[b * size + c * plane + p];
                    sum += diff * diff;
                }
                e[p] = (float)sum;
            }
        }
    }
    return iae_net_set_context(ctx, net, IAE_CONTEXT_BATCH);
}

/* The size at which image i's pixels are ranked (see maps.h). */
static void eval_size(int h, int w, int *eh, int *ew) {
    const int side = h > w ? h : w;
    if (side <= IAE_PIXEL_AUROC_MAX_SIDE) {
        *eh = h, *ew = w;
        return;
    }
    *eh = (int)lround((double)h * IAE_PIXEL_AUROC_MAX_SIDE / side);
    *ew = (int)lround((double)w * IAE_PIXEL_AUROC_MAX_SIDE / side);
    if (*eh < 1) *eh = 1;
    if (*ew < 1) *ew = 1;
}

/* Resize one 64 x 64 map into out (h, w), reusing plan while the size stays. */
static iae_status resize_map(iae_ctx *ctx, iae_resize_plan *plan, const float *map, int in_h, int in_w, int h, int w,
                             float *out) {
    if (plan->out_h != h || plan->out_w != w || plan->in_h != in_h || plan->in_w != in_w) {
        iae_resize_plan_free(plan);
        iae_status st = iae_resize_plan_init(ctx, plan, 1, in_h, in_w, h, w);
        if (st != IAE_OK) return st;
    }
    iae_resize_apply(plan, map, out);
    return IAE_OK;
}

/* "<defect>_<file name without extension>.png" in dir for image i. */
static void map_path(const char *dir, const iae_mvtec_info *info, int i, char *out, size_t size) {
    const char *path = info->test_paths[i];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    const int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, size, "%s/%s_%.*s.png", dir, info->defects[i], stem, base);
}

iae_status iae_mvtec_maps(iae_ctx *ctx, iae_detector *d, const iae_dataset *test, const iae_mvtec_info *info,
                          int batch_size, const char *dir, iae_map_result *out) {
    memset(out, 0, sizeof(*out));
    out->pixel_auroc = NAN;
    if (!d->net->cfg.use_decoder)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "anomaly maps need the reconstruction, and %s models have no decoder; train another --model",
                        iae_model_name(d->info.model));
    if (info->n_test != test->n)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "the test set has %d images but its MVTec records list %d", test->n,
                        info->n_test);
    if (batch_size < 1 || batch_size > d->net->max_batch) batch_size = d->net->max_batch;

    const int n = test->n, in_h = test->h, in_w = test->w;
    const long plane = (long)in_h * in_w;
    float *err = iae_alloc(ctx, sizeof(float) * (size_t)plane * n, "error maps");
    if (err == NULL) return IAE_ERR_NOMEM;
    iae_status st = error_maps(ctx, d, test, batch_size, err);

    /* Sizes: the ranked pixels and the largest image. */
    long total = 0, largest = 0;
    for (int i = 0; st == IAE_OK && i < n; i++) {
        const long pixels = (long)info->orig_h[i] * info->orig_w[i];
        if (pixels > largest) largest = pixels;
        if (i >= info->n_test_good && info->mask_paths[i] == NULL) continue;
        int eh, ew;
        eval_size(info->orig_h[i], info->orig_w[i], &eh, &ew);
        total += (long)eh * ew;
    }
    float *full = NULL, *small = NULL, *scores = NULL;
    uint8_t *mask = NULL, *labels = NULL;
    if (st == IAE_OK) {
        full = iae_alloc(ctx, sizeof(float) * (size_t)largest, "anomaly map");
        small = iae_alloc(ctx, sizeof(float) * (size_t)largest, "anomaly map");
        mask = iae_alloc(ctx, (size_t)largest, "ground-truth mask");
        scores = iae_alloc(ctx, sizeof(float) * (size_t)(total + 1), "pixel scores");
        labels = iae_alloc(ctx, (size_t)(total + 1), "pixel labels");
        if (!full || !small || !mask || !scores || !labels) st = IAE_ERR_NOMEM;
    }

    /* Pass 1: range of the maps at the stored size, and the ranked pixels. */
    iae_resize_plan plan = {0}, eval_plan = {0};
    float lo = INFINITY, hi = -INFINITY;
    long at = 0;
    for (int i = 0; st == IAE_OK && i < n; i++) {
        const int h = info->orig_h[i], w = info->orig_w[i];
        if ((st = resize_map(ctx, &plan, err + (long)i * plane, in_h, in_w, h, w, full)) != IAE_OK) break;
        for (long p = 0; p < (long)h * w; p++) {
            if (full[p] < lo) lo = full[p];
            if (full[p] > hi) hi = full[p];
        }
        const int good = i < info->n_test_good;
        if (!good && info->mask_paths[i] == NULL) {
            out->missing_masks++;
            continue;
        }
        if (good)
            memset(mask, 0, (size_t)h * w);
        else if ((st = iae_mvtec_load_mask(ctx, info->mask_paths[i], h, w, mask)) != IAE_OK)
            break;
        int eh, ew;
        eval_size(h, w, &eh, &ew);
        const float *map = full;
        if (eh != h || ew != w) {
            if ((st = resize_map(ctx, &eval_plan, err + (long)i * plane, in_h, in_w, eh, ew, small)) != IAE_OK) break;
            map = small;
        }
        for (int y = 0; y < eh; y++) {
            /* The nearest stored pixel to the centre of evaluated pixel (y, x). */
            const int sy = eh == h ? y : (int)((y + 0.5) * h / eh);
            for (int x = 0; x < ew; x++) {
                const int sx = ew == w ? x : (int)((x + 0.5) * w / ew);
                scores[at] = map[(long)y * ew + x];
                labels[at] = mask[(long)sy * w + sx];
                at++;
            }
        }
        out->images++;
    }
    if (st == IAE_OK) {
        out->pixels = at;
        out->min = lo, out->max = hi;
        out->pixel_auroc = at > 0 ? iae_auroc(scores, labels, at) : NAN;
    }

    /* Pass 2: the PNG files, scaled over the whole test set. */
    iae_image img = {0};
    if (st == IAE_OK && dir != NULL) {
        img.c = 1;
        img.data = iae_alloc(ctx, (size_t)largest, "anomaly map image");
        if (img.data == NULL) st = IAE_ERR_NOMEM;
    }
    const double range = hi > lo ? (double)hi - lo : 1.0;
    for (int i = 0; st == IAE_OK && dir != NULL && i < n; i++) {
        const int h = info->orig_h[i], w = info->orig_w[i];
        if ((st = resize_map(ctx, &plan, err + (long)i * plane, in_h, in_w, h, w, full)) != IAE_OK) break;
        for (long p = 0; p < (long)h * w; p++) {
            double v = 255.0 * ((double)full[p] - lo) / range;
            if (v < 0) v = 0;
            if (v > 255) v = 255;
            img.data[p] = (uint8_t)lround(v);
        }
        img.h = h, img.w = w;
        char path[IAE_MVTEC_PATH_BYTES + 64];
        map_path(dir, info, i, path, sizeof(path));
        if ((st = iae_image_write_png(ctx, path, &img)) != IAE_OK) break;
        out->maps_written++;
    }

    iae_free(img.data);
    iae_resize_plan_free(&plan);
    iae_resize_plan_free(&eval_plan);
    iae_free(err), iae_free(full), iae_free(small), iae_free(mask), iae_free(scores), iae_free(labels);
    return st;
}
