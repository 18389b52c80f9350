/*
 * Tests of AUROC, average precision and the ROC curve. The brute-force
 * references visit every positive-negative pair or rescan all samples at
 * every threshold, and small examples are worked out by hand.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

#include "metrics/roc.h"

/* Fail unless |actual - expected| <= tol, compared in double; NaN fails. */
#define assert_near(actual, expected, tol) \
    check_near((actual), (expected), (tol), #actual, __FILE__, __LINE__)

static void check_near(double actual, double expected, double tol, const char *what,
                       const char *file, int line) {
    if (!(fabs(actual - expected) <= tol))
        fail_msg("%s:%d: %s = %.17g, expected %.17g (tolerance %g)", file, line, what, actual,
                 expected, tol);
}

/* O(n^2) AUROC: each (positive, negative) pair scores 1 if the positive is
 * higher, 1/2 on a tie. */
static double brute_auroc(const float *s, const uint8_t *y, long n) {
    double pairs = 0.0;
    double count = 0.0;
    for (long i = 0; i < n; i++) {
        if (!y[i]) continue;
        for (long j = 0; j < n; j++) {
            if (y[j]) continue;
            count += 1.0;
            if (s[i] > s[j]) pairs += 1.0;
            if (s[i] == s[j]) pairs += 0.5;
        }
    }
    return pairs / count;
}

/* O(n^2) average precision: for each distinct score t, taken from the
 * highest down, rescan all samples to count those with score >= t. */
static double brute_auprc(const float *s, const uint8_t *y, long n) {
    long positives = 0;
    for (long i = 0; i < n; i++) positives += y[i];

    double ap = 0.0;
    double recall_before = 0.0;
    float previous = INFINITY;
    for (;;) {
        /* The next threshold: the largest score below the previous one. */
        float t = -INFINITY;
        int found = 0;
        for (long i = 0; i < n; i++)
            if (s[i] < previous && (!found || s[i] > t)) {
                t = s[i];
                found = 1;
            }
        if (!found) break;

        long tp = 0;
        long predicted = 0;
        for (long i = 0; i < n; i++)
            if (s[i] >= t) {
                predicted++;
                tp += y[i];
            }
        double recall = (double)tp / (double)positives;
        ap += (recall - recall_before) * ((double)tp / (double)predicted);
        recall_before = recall;
        previous = t;
    }
    return ap;
}

/* Random scores drawn from few integer levels, so ties are frequent. */
static void make_tied_sample(float *s, uint8_t *y, long n, int levels, uint64_t seed) {
    iae_rng r;
    iae_rng_seed(&r, seed, 3);
    for (long i = 0; i < n; i++) {
        y[i] = iae_rng_uniform(&r) < 0.3;
        s[i] = (float)iae_rng_below(&r, (uint64_t)levels) + (y[i] ? 0.7f * (float)iae_rng_below(&r, 2) : 0.0f);
    }
    /* Both classes must be present. */
    y[0] = 1;
    y[1] = 0;
}

static void auroc_matches_brute_force(void **state) {
    const long sizes[] = {2, 3, 17, 200, 1001};
    const int levels[] = {1, 2, 5, 40};
    static float s[1001];
    static uint8_t y[1001];
    for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++)
        for (size_t b = 0; b < sizeof(levels) / sizeof(levels[0]); b++) {
            make_tied_sample(s, y, sizes[a], levels[b], 100 * a + b);
            assert_near(iae_auroc(s, y, sizes[a]), brute_auroc(s, y, sizes[a]), 1e-12);
        }
}

static void auprc_matches_brute_force(void **state) {
    const long sizes[] = {2, 3, 17, 200, 1001};
    const int levels[] = {1, 2, 5, 40};
    static float s[1001];
    static uint8_t y[1001];
    for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++)
        for (size_t b = 0; b < sizeof(levels) / sizeof(levels[0]); b++) {
            make_tied_sample(s, y, sizes[a], levels[b], 7 + 100 * a + b);
            assert_near(iae_auprc(s, y, sizes[a]), brute_auprc(s, y, sizes[a]), 1e-12);
        }
}

static void auroc_hand_examples(void **state) {
    const uint8_t y[6] = {0, 1, 0, 1, 1, 0};
    const float perfect[6] = {0.1f, 0.9f, 0.2f, 0.8f, 0.7f, 0.3f};
    const float inverted[6] = {0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.7f};
    const float tied[6] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    assert_near(iae_auroc(perfect, y, 6), 1.0, 0.0);
    assert_near(iae_auroc(inverted, y, 6), 0.0, 0.0);
    assert_near(iae_auroc(tied, y, 6), 0.5, 0.0);

    /* Positives {3, 1}, negatives {2, 1}: pairs (3,2)=1, (3,1)=1, (1,2)=0,
     * (1,1)=1/2, so AUROC = 2.5 / 4. */
    const float s[4] = {3, 1, 2, 1};
    const uint8_t y2[4] = {1, 1, 0, 0};
    assert_near(iae_auroc(s, y2, 4), 0.625, 0.0);

    /* Infinite scores still rank. */
    const float inf_scores[4] = {INFINITY, 1, -INFINITY, 1};
    assert_near(iae_auroc(inf_scores, y2, 4), 0.875, 0.0);
}

static void auroc_undefined_cases(void **state) {
    const float s[3] = {0.1f, 0.2f, 0.3f};
    const uint8_t all_negative[3] = {0, 0, 0};
    const uint8_t all_positive[3] = {1, 1, 1};
    const uint8_t mixed[3] = {0, 1, 0};
    const float with_nan[3] = {0.1f, NAN, 0.3f};
    assert_true(isnan(iae_auroc(s, all_negative, 3)));
    assert_true(isnan(iae_auroc(s, all_positive, 3)));
    assert_true(isnan(iae_auroc(with_nan, mixed, 3)));
    assert_true(isnan(iae_auroc(s, mixed, 0)));
}

/* Scores 0.9, 0.8, 0.7, 0.6, 0.5 with labels 1, 0, 1, 0, 0 (P = 2):
 *   t = 0.9: TP 1, FP 0, precision 1,   recall 1/2
 *   t = 0.8: TP 1, FP 1, precision 1/2, recall 1/2 (no recall step)
 *   t = 0.7: TP 2, FP 1, precision 2/3, recall 1
 *   lower thresholds add no recall.
 *   AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
 * Tied scores 0.9, 0.5, 0.5, 0.1 with labels 0, 1, 0, 1 (P = 2):
 *   t = 0.9: TP 0, FP 1, recall 0
 *   t = 0.5: TP 1, FP 2, precision 1/3, recall 1/2
 *   t = 0.1: TP 2, FP 2, precision 1/2, recall 1
 *   AP = 1/2 * 1/3 + 1/2 * 1/2 = 5/12. */
static void auprc_hand_examples(void **state) {
    const float s[5] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f};
    const uint8_t y[5] = {1, 0, 1, 0, 0};
    assert_near(iae_auprc(s, y, 5), 5.0 / 6.0, 1e-15);

    const float tied[4] = {0.9f, 0.5f, 0.5f, 0.1f};
    const uint8_t y2[4] = {0, 1, 0, 1};
    assert_near(iae_auprc(tied, y2, 4), 5.0 / 12.0, 1e-15);

    const uint8_t none[5] = {0, 0, 0, 0, 0};
    assert_true(isnan(iae_auprc(s, none, 5)));
    const float with_nan[5] = {0.9f, 0.8f, NAN, 0.6f, 0.5f};
    assert_true(isnan(iae_auprc(with_nan, y, 5)));
}

/* Same five samples as the AUPRC example (P = 2, N = 3): the curve is
 * (0,0) (0,1/2) (1/3,1/2) (1/3,1) (2/3,1) (1,1). */
static void roc_curve_hand_example(void **state) {
    const float s[5] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f};
    const uint8_t y[5] = {1, 0, 1, 0, 0};
    double fpr[6];
    double tpr[6];
    assert_int_equal(iae_roc_curve(s, y, 5, fpr, tpr), 6);
    const double want_fpr[6] = {0, 0, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1};
    const double want_tpr[6] = {0, 0.5, 0.5, 1, 1, 1};
    for (int i = 0; i < 6; i++) {
        assert_near(fpr[i], want_fpr[i], 1e-15);
        assert_near(tpr[i], want_tpr[i], 1e-15);
    }

    const uint8_t none[5] = {0, 0, 0, 0, 0};
    assert_int_equal(iae_roc_curve(s, none, 5, fpr, tpr), -1);
}

/* On tied random data: one point per distinct score plus (0,0), both rates
 * non-decreasing from (0,0) to (1,1), and the trapezoid area equal to AUROC. */
static void roc_curve_endpoints_monotone(void **state) {
    enum { N = 500 };
    static float s[N];
    static uint8_t y[N];
    static double fpr[N + 1];
    static double tpr[N + 1];
    make_tied_sample(s, y, N, 12, 42);

    long distinct = 0;
    for (long i = 0; i < N; i++) {
        int seen = 0;
        for (long j = 0; j < i; j++) seen |= s[j] == s[i];
        distinct += !seen;
    }
    long points = iae_roc_curve(s, y, N, fpr, tpr);
    assert_int_equal(points, distinct + 1);
    assert_near(fpr[0], 0.0, 0.0);
    assert_near(tpr[0], 0.0, 0.0);
    assert_near(fpr[points - 1], 1.0, 0.0);
    assert_near(tpr[points - 1], 1.0, 0.0);

    double area = 0.0;
    for (long i = 1; i < points; i++) {
        assert_true(fpr[i] >= fpr[i - 1]);
        assert_true(tpr[i] >= tpr[i - 1]);
        area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2.0;
    }
    assert_near(area, brute_auroc(s, y, N), 1e-12);
}

static void all_finite_cases(void **state) {
    const float ok[3] = {1.0f, -2.0f, 0.0f};
    const float nan_value[3] = {1.0f, NAN, 0.0f};
    const float inf_value[3] = {1.0f, 2.0f, -INFINITY};
    assert_int_equal(iae_all_finite(ok, 3), 1);
    assert_int_equal(iae_all_finite(nan_value, 3), 0);
    assert_int_equal(iae_all_finite(inf_value, 3), 0);
    assert_int_equal(iae_all_finite(ok, 0), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auroc_matches_brute_force),
        cmocka_unit_test(auprc_matches_brute_force),
        cmocka_unit_test(auroc_hand_examples),
        cmocka_unit_test(auroc_undefined_cases),
        cmocka_unit_test(auprc_hand_examples),
        cmocka_unit_test(roc_curve_hand_example),
        cmocka_unit_test(roc_curve_endpoints_monotone),
        cmocka_unit_test(all_finite_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
