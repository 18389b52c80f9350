/*
 * Padding, scaling, L1 global contrast normalisation and min-max scaling of
 * image batches, plus the fixed per-class ranges of reference normalisation.
 * See preprocess.h for the order of the steps.
 */
#include "data/preprocess.h"

#include <math.h>
#include <string.h>

#include "core/core.h"

const double iae_fmnist_reference_minmax[10][2] = {
    {-0.8826567065619495, 9.001545489292527},
    {-0.6661464580883915, 20.108062262467364},
    {-0.7820454743183202, 11.665100841080346},
    {-0.7645772083211267, 12.895051191467457},
    {-0.7253923114302238, 12.683235701611533},
    {-0.7698501867861425, 13.103278415430502},
    {-0.778418217980696, 10.457837397569108},
    {-0.7129780970522351, 12.057777597673047},
    {-0.8280402650205075, 10.581538445782988},
    {-0.7369959242164307, 10.697039838804978},
};

const double iae_cifar10_reference_minmax[10][2] = {
    {-28.94083453598571, 13.802961825439636},
    {-6.681770233365245, 9.158067708230273},
    {-34.924463588638204, 14.419298165027628},
    {-10.599172931391799, 11.093187820377565},
    {-11.945022995801637, 10.628045447867583},
    {-9.691969487694928, 8.948326776180823},
    {-9.174940012342555, 13.847014686472365},
    {-6.876682005899029, 12.282371383343161},
    {-15.603507135507172, 15.2464923804279},
    {-6.132882973622672, 8.046098172351265},
};

/* L1 GCN of one image of size values, in place. */
static void gcn_l1_one(float *x, long size) {
    double sum = 0.0;
    for (long i = 0; i < size; i++) sum += x[i];
    double mean = sum / (double)size;

    double abs_sum = 0.0;
    for (long i = 0; i < size; i++) abs_sum += fabs((double)x[i] - mean);
    double scale = abs_sum / (double)size;

    /* A constant image has nothing to normalise; keep it at zero, not NaN. */
    if (!(scale > 0.0)) {
        memset(x, 0, (size_t)size * sizeof(float));
        return;
    }
    for (long i = 0; i < size; i++) x[i] = (float)(((double)x[i] - mean) / scale);
}

void iae_pad_scale_gcn(const uint8_t *img, int n, int h, int w, int pad, float *out) {
    IAE_ASSERT(n >= 0 && h > 0 && w > 0 && pad >= 0);
    const long out_h = h + 2L * pad;
    const long out_w = w + 2L * pad;
    const long out_size = out_h * out_w;

#pragma omp parallel for schedule(static)
    for (long k = 0; k < n; k++) {
        const uint8_t *src = img + k * (long)h * w; /* (h, w) */
        float *dst = out + k * out_size;            /* (1, out_h, out_w) */

        /* Zero border, then the image scaled to [0, 1] in the middle. */
        memset(dst, 0, (size_t)out_size * sizeof(float));
        for (long r = 0; r < h; r++)
            for (long c = 0; c < w; c++)
                dst[(r + pad) * out_w + (c + pad)] = (float)src[r * w + c] / 255.0f;

        gcn_l1_one(dst, out_size);
    }
}

void iae_gcn_l1(float *x, long n, long size) {
    IAE_ASSERT(n >= 0 && size > 0);
#pragma omp parallel for schedule(static)
    for (long k = 0; k < n; k++) gcn_l1_one(x + k * size, size);
}

void iae_minmax_range(const float *x, long count, float *min, float *max) {
    IAE_ASSERT(count > 0);
    float lo = INFINITY;
    float hi = -INFINITY;
    /* min and max are exact, so the reduction order cannot change the result. */
#pragma omp parallel for schedule(static) reduction(min : lo) reduction(max : hi)
    for (long i = 0; i < count; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    *min = lo;
    *max = hi;
}

void iae_minmax_apply(float *x, long count, float min, float max) {
    IAE_ASSERT(max > min);
    const double lo = min;
    const double range = (double)max - (double)min;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++) x[i] = (float)(((double)x[i] - lo) / range);
}
