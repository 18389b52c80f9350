/*
 * Adam (amsgrad, coupled weight decay) against the update written out in
 * double precision, and the MultiStepLR schedule.
 */
#include <math.h>

#include "optim/optim.h"
#include "testutil.h"

static void test_adam_amsgrad_matches_formula(void **state) {
    enum { N = 5, STEPS = 6 };
    float p[N] = {0.5f, -1.0f, 2.0f, 0.0f, -0.25f}, m[N] = {0}, v[N] = {0}, vmax[N] = {0};
    double pd[N], md[N] = {0}, vd[N] = {0}, vmaxd[N] = {0};
    for (int i = 0; i < N; i++) pd[i] = p[i];
    iae_adam a;
    iae_adam_init(&a, 1e-2f, 0.1f, 1);
    /* Gradients that shrink, so v falls below its maximum and amsgrad matters. */
    for (int t = 1; t <= STEPS; t++) {
        float g[N];
        for (int i = 0; i < N; i++) g[i] = (float)((i + 1) * (t == 1 ? 3.0 : 0.5) * (i % 2 ? -1 : 1));
        iae_adam_step(&a, N, p, g, m, v, vmax);
        for (int i = 0; i < N; i++) {
            double gi = g[i] + 0.1 * pd[i];
            md[i] = 0.9 * md[i] + 0.1 * gi;
            vd[i] = 0.999 * vd[i] + 0.001 * gi * gi;
            vmaxd[i] = fmax(vmaxd[i], vd[i]);
            double mhat = md[i] / (1 - pow(0.9, t)), vhat = vmaxd[i] / (1 - pow(0.999, t));
            pd[i] -= 1e-2 * mhat / (sqrt(vhat) + 1e-8);
        }
    }
    assert_int_equal(a.step, STEPS);
    for (int i = 0; i < N; i++) {
        assert_float_equal(p[i], pd[i], 1e-5);
        assert_true(vmax[i] >= v[i]);
    }
}

static void test_adam_without_amsgrad(void **state) {
    float p[1] = {1.0f}, m[1] = {0}, v[1] = {0};
    iae_adam a;
    iae_adam_init(&a, 0.1f, 0.0f, 0);
    float g[1] = {2.0f};
    iae_adam_step(&a, 1, p, g, m, v, NULL);
    /* First step: mhat = g, vhat = g^2, so p moves by lr * sign(g). */
    assert_float_equal(p[0], 0.9f, 1e-6);
}

static void test_multistep_lr(void **state) {
    const int ms[2] = {3, 5};
    assert_float_equal(iae_multistep_lr(1.0f, ms, 2, 0.1f, 0), 1.0f, 0);
    assert_float_equal(iae_multistep_lr(1.0f, ms, 2, 0.1f, 2), 1.0f, 0);
    assert_float_equal(iae_multistep_lr(1.0f, ms, 2, 0.1f, 3), 0.1f, 1e-7);
    assert_float_equal(iae_multistep_lr(1.0f, ms, 2, 0.1f, 5), 0.01f, 1e-8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_amsgrad_matches_formula),
        cmocka_unit_test(test_adam_without_amsgrad),
        cmocka_unit_test(test_multistep_lr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
