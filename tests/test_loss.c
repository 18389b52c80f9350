/*
 * Loss tests: values against direct formulas and gradients against finite
 * differences, for the SVDD (both objectives), MSE and both KL forms.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loss/loss.h"
#include "testutil.h"

enum { N = 4, D = 6, KL_C = 3, KL_P = 2 };

typedef struct {
    float z[N * D], c[D], xhat[N * D], x[N * D], target[N * D];
    iae_objective objective;
    float r, nu;
    int kind; /* 0 svdd, 1 mse, 2 kl reference, 3 kl log-softmax, 4 and 5 the
                 same over KL_C channels at each of KL_P positions */
} loss_case;

static double eval(loss_case *l, float *grad) {
    iae_rng rng;
    iae_rng_seed(&rng, 42, 7); /* the same KL target at every call */
    switch (l->kind) {
    case 0: return iae_svdd_loss(N, D, l->z, l->c, l->objective, l->r, l->nu, 1.0f, grad, NULL);
    case 1: return iae_mse_loss(N * D, l->xhat, l->x, 1.0f, grad);
    case 2: return iae_kl_loss(N, D, l->z, &rng, 1.0f, l->target, grad);
    case 3: return iae_kl_log_softmax_loss(N, D, l->z, &rng, 1.0f, l->target, grad);
    case 4: return iae_kl_loss_grouped(N, KL_C, KL_P, l->z, &rng, 1.0f, l->target, grad);
    default: return iae_kl_log_softmax_loss_grouped(N, KL_C, KL_P, l->z, &rng, 1.0f, l->target, grad);
    }
}

static double loss_fn(void *user) { return eval(user, NULL); }

static void setup_case(loss_case *l, int kind) {
    memset(l, 0, sizeof(*l));
    l->kind = kind;
    tu_fill(l->z, N * D, -1, 1, 1);
    tu_fill(l->c, D, -0.5f, 0.5f, 2);
    tu_fill(l->xhat, N * D, 0, 1, 3);
    tu_fill(l->x, N * D, 0, 1, 4);
    l->nu = 0.25f;
}

static void test_svdd_one_class(void **state) {
    loss_case l;
    setup_case(&l, 0);
    float dist[N];
    double v = iae_svdd_loss(N, D, l.z, l.c, IAE_OBJECTIVE_ONE_CLASS, 0, 0.1f, 1.0f, NULL, dist);
    double want = 0;
    for (int b = 0; b < N; b++) {
        double d = 0;
        for (int j = 0; j < D; j++) d += pow(l.z[b * D + j] - l.c[j], 2);
        assert_float_equal(dist[b], d, 1e-5);
        want += d / N;
    }
    assert_float_equal(v, want, 1e-6);
    float g[N * D] = {0};
    eval(&l, g);
    tu_gradcheck("svdd one-class dz", l.z, N * D, g, loss_fn, &l, 1e-3f, 1e-4, 1e-2, N * D);
}

static void test_svdd_soft_boundary(void **state) {
    loss_case l;
    setup_case(&l, 0);
    l.objective = IAE_OBJECTIVE_SOFT_BOUNDARY;
    float dist[N];
    iae_svdd_loss(N, D, l.z, l.c, IAE_OBJECTIVE_ONE_CLASS, 0, 0.1f, 1.0f, NULL, dist);
    /* R between the smallest and largest distance, so both branches occur. */
    float lo = dist[0], hi = dist[0];
    for (int b = 1; b < N; b++) lo = fminf(lo, dist[b]), hi = fmaxf(hi, dist[b]);
    l.r = sqrtf(0.5f * (lo + hi));
    double v = eval(&l, NULL), want = (double)l.r * l.r;
    for (int b = 0; b < N; b++) want += fmax(0.0, dist[b] - (double)l.r * l.r) / (l.nu * N);
    assert_float_equal(v, want, 1e-5);
    float g[N * D] = {0};
    eval(&l, g);
    tu_gradcheck("svdd soft-boundary dz", l.z, N * D, g, loss_fn, &l, 1e-3f, 1e-4, 1e-2, N * D);
}

static void test_mse(void **state) {
    loss_case l;
    setup_case(&l, 1);
    double want = 0;
    for (int i = 0; i < N * D; i++) want += pow(l.xhat[i] - l.x[i], 2) / (N * D);
    assert_float_equal(eval(&l, NULL), want, 1e-7);
    float g[N * D] = {0};
    eval(&l, g);
    tu_gradcheck("mse dxhat", l.xhat, N * D, g, loss_fn, &l, 1e-3f, 1e-5, 1e-2, N * D);
}

static void test_kl_reference(void **state) {
    loss_case l;
    setup_case(&l, 2);
    float g[N * D] = {0};
    double v = eval(&l, g);
    /* Targets are softmax rows; the value is (1/N) sum T (log T - z) and the
     * gradient -T / N, both linear in z. */
    double want = 0;
    for (int b = 0; b < N; b++) {
        double row = 0;
        for (int j = 0; j < D; j++) {
            double t = l.target[b * D + j];
            assert_true(t > 0 && t < 1);
            row += t;
            want += t * (log(t) - l.z[b * D + j]) / N;
            assert_float_equal(g[b * D + j], -t / N, 1e-7);
        }
        assert_float_equal(row, 1.0, 1e-6);
    }
    assert_float_equal(v, want, 1e-5);
    tu_gradcheck("kl reference dz", l.z, N * D, g, loss_fn, &l, 1e-3f, 1e-5, 1e-2, N * D);
}

static void test_kl_targets_change_each_call(void **state) {
    iae_rng rng;
    iae_rng_seed(&rng, 1, 4);
    float z[N * D] = {0}, t1[N * D], t2[N * D];
    iae_kl_loss(N, D, z, &rng, 1.0f, t1, NULL);
    iae_kl_loss(N, D, z, &rng, 1.0f, t2, NULL);
    assert_true(memcmp(t1, t2, sizeof(t1)) != 0);
}

static void test_kl_log_softmax(void **state) {
    loss_case l;
    setup_case(&l, 3);
    float g[N * D] = {0};
    double v = eval(&l, g);
    double want = 0;
    for (int b = 0; b < N; b++) {
        double s = 0;
        for (int j = 0; j < D; j++) s += exp(l.z[b * D + j]);
        for (int j = 0; j < D; j++) {
            double t = l.target[b * D + j], q = exp(l.z[b * D + j]) / s;
            want += t * (log(t) - log(q)) / N;
        }
    }
    assert_float_equal(v, want, 1e-5);
    assert_true(v >= 0); /* a true KL divergence */
    tu_gradcheck("kl log-softmax dz", l.z, N * D, g, loss_fn, &l, 1e-3f, 1e-5, 1e-2, N * D);
}

static void test_loss_weight_scales_gradient(void **state) {
    loss_case l;
    setup_case(&l, 0);
    float g1[N * D] = {0}, g3[N * D] = {0};
    iae_svdd_loss(N, D, l.z, l.c, IAE_OBJECTIVE_ONE_CLASS, 0, 0.1f, 1.0f, g1, NULL);
    iae_svdd_loss(N, D, l.z, l.c, IAE_OBJECTIVE_ONE_CLASS, 0, 0.1f, 3.0f, g3, NULL);
    for (int i = 0; i < N * D; i++) assert_float_equal(g3[i], 3 * g1[i], 1e-6);
}

/* Grouped KL, z (N, C, P): the target is a softmax over the channels at each
 * position, and both forms match their formulas and finite differences. */
static void test_kl_grouped(void **state) {
    for (int kind = 4; kind <= 5; kind++) {
        loss_case l;
        setup_case(&l, kind);
        float g[N * D] = {0};
        double v = eval(&l, g);
        double want = 0;
        for (int b = 0; b < N; b++)
            for (int p = 0; p < KL_P; p++) {
                double tsum = 0, zsum = 0;
                for (int c = 0; c < KL_C; c++) {
                    tsum += l.target[b * D + c * KL_P + p];
                    zsum += exp(l.z[b * D + c * KL_P + p]);
                }
                assert_float_equal(tsum, 1.0, 1e-6);
                for (int c = 0; c < KL_C; c++) {
                    const int k = b * D + c * KL_P + p;
                    const double t = l.target[k];
                    const double in = kind == 4 ? l.z[k] : l.z[k] - log(zsum);
                    want += t * (log(t) - in) / N;
                }
            }
        assert_float_equal(v, want, 1e-5);
        tu_gradcheck(kind == 4 ? "grouped kl dz" : "grouped kl log-softmax dz", l.z, N * D, g, loss_fn, &l, 1e-3f,
                     1e-5, 1e-2, N * D);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svdd_one_class),
        cmocka_unit_test(test_svdd_soft_boundary),
        cmocka_unit_test(test_mse),
        cmocka_unit_test(test_kl_reference),
        cmocka_unit_test(test_kl_targets_change_each_call),
        cmocka_unit_test(test_kl_log_softmax),
        cmocka_unit_test(test_kl_grouped),
        cmocka_unit_test(test_loss_weight_scales_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
