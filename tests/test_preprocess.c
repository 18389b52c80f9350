/*
 * Tests of padding, scaling, L1 GCN and min-max scaling against values worked
 * out by hand and against a direct double-precision computation.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/preprocess.h"

/* Fail unless |actual - expected| <= tol, compared in double; NaN fails. */
#define assert_near(actual, expected, tol) \
    check_near((actual), (expected), (tol), #actual, __FILE__, __LINE__)

static void check_near(double actual, double expected, double tol, const char *what,
                       const char *file, int line) {
    if (!(fabs(actual - expected) <= tol))
        fail_msg("%s:%d: %s = %.17g, expected %.17g (tolerance %g)", file, line, what, actual,
                 expected, tol);
}

/* Two 1 x 2 images padded by 1 to 3 x 4 (12 values each).
 * Image 0 is [0, 255]: after scaling, one value is 1 and eleven are 0, so
 * mean = 1/12, the centred values are 11/12 (once) and -1/12 (eleven times),
 * mean |x| = (11/12 + 11/12) / 12 = 11/72, and GCN gives 11/12 / (11/72) = 6
 * and -1/12 / (11/72) = -6/11.
 * Image 1 is [0, 0]: all twelve values are 0, a constant image, left at 0. */
static void pad_scale_gcn_hand_example(void **state) {
    const uint8_t img[2][2] = {{0, 255}, {0, 0}};
    float out[2 * 12];
    memset(out, 0xFF, sizeof(out));
    iae_pad_scale_gcn(&img[0][0], 2, 1, 2, 1, out);

    for (int i = 0; i < 12; i++) {
        /* Row 1, column 2 of the 3 x 4 image contains the 255 pixel. */
        double expected = i == 1 * 4 + 2 ? 6.0 : -6.0 / 11.0;
        assert_near(out[i], expected, 1e-6);
    }
    for (int i = 12; i < 24; i++) assert_near(out[i], 0.0, 0.0);
}

/* Pad a random batch and compare with a direct computation that indexes the
 * padded image by hand. */
static void pad_scale_gcn_matches_direct(void **state) {
    enum { N = 3, H = 3, W = 5, PAD = 2, OH = H + 2 * PAD, OW = W + 2 * PAD };
    uint8_t img[N * H * W];
    iae_rng r;
    iae_rng_seed(&r, 21, 0);
    for (int i = 0; i < N * H * W; i++) img[i] = (uint8_t)iae_rng_below(&r, 256);
    float out[N * OH * OW];
    iae_pad_scale_gcn(img, N, H, W, PAD, out);

    for (int k = 0; k < N; k++) {
        double padded[OH * OW];
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                int inside = y >= PAD && y < PAD + H && x >= PAD && x < PAD + W;
                padded[y * OW + x] = inside ? img[k * H * W + (y - PAD) * W + (x - PAD)] / 255.0 : 0.0;
            }
        double mean = 0.0;
        for (int i = 0; i < OH * OW; i++) mean += padded[i] / (OH * OW);
        double mean_abs = 0.0;
        for (int i = 0; i < OH * OW; i++) mean_abs += fabs(padded[i] - mean) / (OH * OW);
        for (int i = 0; i < OH * OW; i++) {
            double expected = (padded[i] - mean) / mean_abs;
            assert_near(out[k * OH * OW + i], expected, 1e-5);
        }
    }
}

/* Three images of 4 values:
 *   [1, 2, 3, 6]: mean 3, centred [-2, -1, 0, 3], mean |x| = 6/4 = 1.5,
 *                 result [-4/3, -2/3, 0, 2];
 *   [5, 5, 5, 5]: constant, result [0, 0, 0, 0];
 *   [0, 0, 0, 4]: mean 1, centred [-1, -1, -1, 3], mean |x| = 1.5,
 *                 result [-2/3, -2/3, -2/3, 2]. */
static void gcn_l1_hand_examples(void **state) {
    float x[12] = {1, 2, 3, 6, 5, 5, 5, 5, 0, 0, 0, 4};
    const double expected[12] = {-4.0 / 3, -2.0 / 3, 0, 2, 0, 0, 0, 0, -2.0 / 3, -2.0 / 3, -2.0 / 3, 2};
    iae_gcn_l1(x, 3, 4);
    for (int i = 0; i < 12; i++) assert_near(x[i], expected[i], 1e-6);
}

/* [3, -1, 2, 7]: min -1, max 7, range 8; scaled [4/8, 0, 3/8, 8/8]. */
static void minmax_hand_example(void **state) {
    float x[4] = {3, -1, 2, 7};
    float lo = 0;
    float hi = 0;
    iae_minmax_range(x, 4, &lo, &hi);
    assert_near(lo, -1.0, 0.0);
    assert_near(hi, 7.0, 0.0);

    iae_minmax_apply(x, 4, lo, hi);
    assert_near(x[0], 0.5, 1e-7);
    assert_near(x[1], 0.0, 1e-7);
    assert_near(x[2], 0.375, 1e-7);
    assert_near(x[3], 1.0, 1e-7);
}

/* A range over many values, split across threads, matches a serial scan. */
static void minmax_range_large(void **state) {
    enum { COUNT = 100003 };
    float *x = malloc(COUNT * sizeof(float));
    tu_fill(x, COUNT, -3.0f, 5.0f, 4);
    x[777] = -9.5f;
    x[COUNT - 1] = 12.25f;
    float lo = 0;
    float hi = 0;
    iae_minmax_range(x, COUNT, &lo, &hi);
    assert_near(lo, -9.5, 0.0);
    assert_near(hi, 12.25, 0.0);
    free(x);
}

/* The output must be bit-identical with 1 and with 4 threads. */
static void preprocess_thread_count_invariant(void **state) {
    enum { N = 64, SIDE = 28, PAD = 2, OUT = (SIDE + 2 * PAD) * (SIDE + 2 * PAD) };
    uint8_t *img = malloc(N * SIDE * SIDE);
    iae_rng r;
    iae_rng_seed(&r, 5, 0);
    for (int i = 0; i < N * SIDE * SIDE; i++) img[i] = (uint8_t)iae_rng_below(&r, 256);
    float *one = malloc(N * OUT * sizeof(float));
    float *four = malloc(N * OUT * sizeof(float));

    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_pad_scale_gcn(img, N, SIDE, SIDE, PAD, one);
    float lo1, hi1;
    iae_minmax_range(one, N * OUT, &lo1, &hi1);
    iae_minmax_apply(one, N * OUT, lo1, hi1);

    iae_ctx_init(&ctx, 4);
    iae_pad_scale_gcn(img, N, SIDE, SIDE, PAD, four);
    float lo4, hi4;
    iae_minmax_range(four, N * OUT, &lo4, &hi4);
    iae_minmax_apply(four, N * OUT, lo4, hi4);

    assert_near(lo1, lo4, 0.0);
    assert_near(hi1, hi4, 0.0);
    assert_memory_equal(one, four, N * OUT * sizeof(float));
    free(img);
    free(one);
    free(four);
}

static void reference_tables_spot_check(void **state) {
    assert_near(iae_fmnist_reference_minmax[0][0], -0.8826567065619495, 0.0);
    assert_near(iae_fmnist_reference_minmax[0][1], 9.001545489292527, 0.0);
    assert_near(iae_fmnist_reference_minmax[1][1], 20.108062262467364, 0.0);
    assert_near(iae_fmnist_reference_minmax[6][0], -0.778418217980696, 0.0);
    assert_near(iae_fmnist_reference_minmax[9][0], -0.7369959242164307, 0.0);
    assert_near(iae_fmnist_reference_minmax[9][1], 10.697039838804978, 0.0);
    assert_near(iae_cifar10_reference_minmax[0][0], -28.94083453598571, 0.0);
    assert_near(iae_cifar10_reference_minmax[2][0], -34.924463588638204, 0.0);
    assert_near(iae_cifar10_reference_minmax[8][1], 15.2464923804279, 0.0);
    assert_near(iae_cifar10_reference_minmax[9][1], 8.046098172351265, 0.0);

    /* Every pair is a usable range. */
    for (int k = 0; k < 10; k++) {
        assert_true(iae_fmnist_reference_minmax[k][0] < iae_fmnist_reference_minmax[k][1]);
        assert_true(iae_cifar10_reference_minmax[k][0] < iae_cifar10_reference_minmax[k][1]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pad_scale_gcn_hand_example),
        cmocka_unit_test(pad_scale_gcn_matches_direct),
        cmocka_unit_test(gcn_l1_hand_examples),
        cmocka_unit_test(minmax_hand_example),
        cmocka_unit_test(minmax_range_large),
        cmocka_unit_test(preprocess_thread_count_invariant),
        cmocka_unit_test(reference_tables_spot_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
