/*
 * iae bench: timings of the Fashion-MNIST networks on synthetic input, next
 * to the machine's limits (read bandwidth and fp32 FMA peak), so every figure
 * can be read as a fraction of what the hardware allows.
 *
 * Every timing is the median of --repeats runs after --warmup untimed runs.
 */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "cli/args.h"
#include "cli/commands.h"
#include "io/atomic_file.h"
#include "layers/lstm_recurrent.h"
#include "optim/optim.h"
#include "pipeline/pipeline.h"

#define MAX_BATCHES 8
#define MAX_REPEATS 101

typedef struct {
    int warmup, repeats;
} bench_opts;

typedef struct {
    double median_s, min_s, max_s;
    int n;
} timing;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *arg);

/* Median, minimum and maximum of t[0..n) (sorted in place). */
static timing summarize(double *t, int n) {
    qsort(t, n, sizeof(double), cmp_double);
    timing r = {t[n / 2], t[0], t[n - 1], n};
    if (n % 2 == 0) r.median_s = 0.5 * (t[n / 2 - 1] + t[n / 2]);
    return r;
}

static timing time_calls(bench_fn fn, void *arg, const bench_opts *o) {
    double t[MAX_REPEATS];
    for (int i = 0; i < o->warmup; i++) fn(arg);
    for (int i = 0; i < o->repeats; i++) {
        double t0 = iae_now_s();
        fn(arg);
        t[i] = iae_now_s() - t0;
    }
    return summarize(t, o->repeats);
}

/* ---------------- machine limits ---------------- */

typedef struct {
    char cpu[128];
    int online_cores, threads;
    int lanes;              /* fp32 lanes per vector instruction the build uses */
    const char *isa;        /* "AVX-512", "AVX2" or "scalar" */
    double mhz;             /* /proc/cpuinfo "cpu MHz" (the kernel's reading, may be nominal) */
    double fma_gflops;      /* measured fp32 FMA peak, all threads */
    double fma_per_cycle;   /* derived: vector FMAs per cycle per core */
    double read_gbs;        /* measured read bandwidth, all threads, 1 GiB buffer */
    const char *blas_config;
} machine;

static void read_cpuinfo(machine *m) {
    snprintf(m->cpu, sizeof(m->cpu), "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    int have_name = 0, have_mhz = 0;
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (colon == NULL) continue;
        char *val = colon + 1;
        while (*val == ' ' || *val == '\t') val++;
        val[strcspn(val, "\n")] = 0;
        if (!have_name && strncmp(line, "model name", 10) == 0) {
            snprintf(m->cpu, sizeof(m->cpu), "%s", val);
            have_name = 1;
        } else if (!have_mhz && strncmp(line, "cpu MHz", 7) == 0) {
            m->mhz = atof(val);
            have_mhz = 1;
        }
    }
    fclose(f);
}

/* Register-only FMA loop: 12 independent accumulators with distinct start
 * values (identical chains would be merged by the compiler), enough to cover
 * FMA latency times the number of FMA pipes of current x86 cores. Every
 * accumulator feeds the result, so none is optimised away. */
#define FMA_CHAINS 12
#if defined(__AVX512F__)
#define VEC __m512
#define VSET _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VADD _mm512_add_ps
#define VSUM _mm512_reduce_add_ps
#elif defined(__AVX2__)
#define VEC __m256
#define VSET _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VADD _mm256_add_ps
static float VSUM(__m256 v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

static double fma_loop(long iters) {
#if defined(__AVX512F__) || defined(__AVX2__)
    const VEC x = VSET(0.999999f), y = VSET(1e-7f);
    VEC a0 = VSET(0), a1 = VSET(1), a2 = VSET(2), a3 = VSET(3), a4 = VSET(4), a5 = VSET(5);
    VEC a6 = VSET(6), a7 = VSET(7), a8 = VSET(8), a9 = VSET(9), a10 = VSET(10), a11 = VSET(11);
    for (long it = 0; it < iters; it++) {
        a0 = VFMA(a0, x, y), a1 = VFMA(a1, x, y), a2 = VFMA(a2, x, y), a3 = VFMA(a3, x, y);
        a4 = VFMA(a4, x, y), a5 = VFMA(a5, x, y), a6 = VFMA(a6, x, y), a7 = VFMA(a7, x, y);
        a8 = VFMA(a8, x, y), a9 = VFMA(a9, x, y), a10 = VFMA(a10, x, y), a11 = VFMA(a11, x, y);
    }
    VEC s = VADD(VADD(VADD(a0, a1), VADD(a2, a3)), VADD(VADD(a4, a5), VADD(a6, a7)));
    return VSUM(VADD(s, VADD(VADD(a8, a9), VADD(a10, a11))));
#else
    float a[FMA_CHAINS];
    for (int i = 0; i < FMA_CHAINS; i++) a[i] = (float)i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < FMA_CHAINS; i++) a[i] = a[i] * 0.999999f + 1e-7f;
    float s = 0.0f;
    for (int i = 0; i < FMA_CHAINS; i++) s += a[i];
    return s;
#endif
}

static void measure_machine(machine *m, int threads) {
    memset(m, 0, sizeof(*m));
    read_cpuinfo(m);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    m->online_cores = n > 0 ? (int)n : 1;
    m->threads = threads;
    m->blas_config = openblas_get_config();
#if defined(__AVX512F__)
    m->lanes = 16, m->isa = "AVX-512";
#elif defined(__AVX2__)
    m->lanes = 8, m->isa = "AVX2";
#else
    m->lanes = 1, m->isa = "scalar";
#endif

    /* FMA peak: FLOPs = 2 per lane per FMA. */
    const long iters = 20000000;
    double best = 1e30, sink = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = iae_now_s();
#pragma omp parallel reduction(+ : sink)
        sink += fma_loop(iters);
        double dt = iae_now_s() - t0;
        if (dt < best) best = dt;
    }
    if (sink == 12345.0) fprintf(stderr, " ");
    m->fma_gflops = 2.0 * FMA_CHAINS * m->lanes * (double)iters * threads / best / 1e9;
    if (m->mhz > 0) m->fma_per_cycle = m->fma_gflops * 1e3 / (2.0 * m->lanes * m->mhz * threads);

    /* Read bandwidth: sum a 1 GiB buffer, median of 5. */
    const long count = 1L << 28;
    float *buf = iae_alloc(NULL, sizeof(float) * count, "bandwidth buffer");
    if (buf == NULL) return;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++) buf[i] = 1.0f;
    double t[5];
    for (int rep = 0; rep < 5; rep++) {
        float total = 0.0f;
        double t0 = iae_now_s();
#pragma omp parallel for simd schedule(static) reduction(+ : total)
        for (long i = 0; i < count; i++) total += buf[i];
        t[rep] = iae_now_s() - t0;
        if (total == 0.5f) fprintf(stderr, " ");
    }
    qsort(t, 5, sizeof(double), cmp_double);
    m->read_gbs = sizeof(float) * count / t[2] / 1e9;
    iae_free(buf);
}

/* ---------------- network timings ---------------- */

typedef struct {
    iae_trainer *trainer;
    const float *x;
    int n;
} step_arg;

static void run_step(void *p) {
    step_arg *a = p;
    double terms[4];
    iae_trainer_step(a->trainer, a->x, a->n, terms);
}

typedef struct {
    const char *name;
    iae_lstm_impl impl;
    int bf16;
} lstm_variant;

static const lstm_variant variants[3] = {
    {"fused fp32", IAE_LSTM_FUSED, 0},
    {"gemv fp32", IAE_LSTM_GEMV, 0},
    {"fused bf16", IAE_LSTM_FUSED, 1},
};

/* One op's profile: forward and backward seconds and FLOPs per call. */
typedef struct {
    char name[IAE_NAME_BYTES];
    double fwd_s, bwd_s, fwd_flops, bwd_flops;
} op_profile;

static double op_flops(const iae_op *op, int n) {
    switch (op->kind) {
    case IAE_OP_CONV2D:
        return 2.0 * n * op->conv.cout * op->conv.hout * op->conv.wout * op->conv.cin * op->conv.k * op->conv.k;
    case IAE_OP_CONV_TRANSPOSE2D:
        return 2.0 * n * op->conv.cin * op->conv.hin * op->conv.win * op->conv.cout * op->conv.k * op->conv.k;
    case IAE_OP_LINEAR:
        return 2.0 * n * op->in_c * op->out_c;
    case IAE_OP_LSTM: /* input projections plus the n - 1 recurrent products */
        return 2.0 * n * op->in_c * 4.0 * op->out_c + 2.0 * (n - 1) * op->out_c * 4.0 * op->out_c;
    default:
        return 0.0;
    }
}

typedef struct {
    int batch;
    timing iae_step[3];
    timing ae_step;
    timing adam;
    int n_ops;
    op_profile ops[IAE_MAX_OPS];
    double lstm_fwd_rec_s[3], lstm_bwd_rec_s[3]; /* recurrent part per call, per variant */
    double score_images_per_s[3];     /* batch context, per kernel variant */
    double score_context_images_per_s[2]; /* memory and none contexts */
} batch_result;

typedef struct {
    iae_net *net;
    int n;
    const float *x;
    float *dh, *dx;
    float *gemm_out;
    int part; /* 0 forward, 1 backward, 2 forward GEMM, 3 backward GEMMs */
} lstm_arg;

static void run_lstm_part(void *p) {
    lstm_arg *a = p;
    iae_net *net = a->net;
    iae_op *op = NULL;
    for (int i = 0; i < net->n_ops; i++)
        if (net->ops[i].kind == IAE_OP_LSTM) op = &net->ops[i];
    const int hid = op->out_c, in = op->in_c, g4 = 4 * hid, n = a->n;
    const float *w_ih = net->param + net->params[op->param[0]].offset;
    const float *w_hh = net->param + net->params[op->param[1]].offset;
    const float *b = net->param + net->params[op->param[2]].offset;
    float *gates = op->aux, *cs = gates + (long)net->max_batch * 4 * hid, *hs = op->out - hid;
    float *dw = net->grad + net->params[op->param[0]].offset;
    float *dwh = net->grad + net->params[op->param[1]].offset;
    float *db = net->grad + net->params[op->param[2]].offset;
    switch (a->part) {
    case 0:
        iae_lstm_forward(n, in, hid, a->x, w_ih, w_hh, b, b, NULL, NULL, &net->lstm_opt, gates, hs, cs);
        break;
    case 1:
        iae_lstm_backward(n, in, hid, a->x, w_ih, w_hh, &net->lstm_opt, gates, hs, cs, a->dh, a->dx, dw, dwh, db,
                          db, net->scratch);
        break;
    case 2:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, g4, in, 1.0f, a->x, in, w_ih, in, 1.0f, a->gemm_out,
                    g4);
        break;
    default:
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g4, in, n, 1.0f, a->gemm_out, g4, a->x, in, 1.0f, dw, in);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g4, hid, n, 1.0f, a->gemm_out, g4, hs, hid, 1.0f, dwh,
                    hid);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, g4, 1.0f, a->gemm_out, g4, w_ih, in, 0.0f,
                    a->dx, in);
        break;
    }
}

typedef struct {
    iae_adam *adam;
    iae_net *net;
    float *m, *v, *vmax;
} adam_arg;

static void run_adam(void *p) {
    adam_arg *a = p;
    iae_adam_step(a->adam, a->net->n_param_floats, a->net->param, a->net->grad, a->m, a->v, a->vmax);
}

typedef struct {
    iae_ctx *ctx;
    iae_detector *det;
    const float *x;
    long n;
    int batch;
    iae_lstm_context context;
} score_arg;

static void run_score(void *p) {
    score_arg *a = p;
    iae_scores s;
    if (iae_score(a->ctx, a->det, a->x, a->n, a->batch, a->context, &s) == IAE_OK) iae_scores_free(&s);
}

static iae_detector_info bench_info(int batch) {
    iae_detector_info info = {0};
    info.net = iae_lenet_config(1, 1, 1);
    snprintf(info.dataset, sizeof(info.dataset), "fashion-mnist");
    info.norm_min = 0.0f, info.norm_max = 1.0f;
    info.nu = 0.1f;
    info.w_mse = iae_fmnist_reference_w_mse[0];
    info.w_kl = iae_fmnist_reference_w_kl[0];
    info.batch_size = batch;
    info.lr = 1e-4f, info.weight_decay = 0.5e-6f;
    info.bn_train_mode = 1;
    return info;
}

static iae_status bench_batch(iae_ctx *ctx, int batch, const bench_opts *o, long score_images, batch_result *r) {
    memset(r, 0, sizeof(*r));
    r->batch = batch;
    iae_detector_info info = bench_info(batch);
    iae_detector *det = NULL;
    iae_net *ae = NULL;
    iae_trainer *tr = NULL;
    float *x = NULL, *big = NULL, *scratch = NULL;
    iae_status st;
    const long in_size = 1024;
    iae_rng rng;
    iae_rng_seed(&rng, 1, 99);

    x = iae_alloc(ctx, sizeof(float) * batch * in_size, "bench input");
    big = iae_alloc(ctx, sizeof(float) * score_images * in_size, "bench scoring input");
    if (x == NULL || big == NULL) {
        st = IAE_ERR_NOMEM;
        goto done;
    }
    iae_rng_fill_uniform(&rng, x, batch * in_size, 0.0f, 1.0f);
    iae_rng_fill_uniform(&rng, big, score_images * in_size, 0.0f, 1.0f);

    /* IAE-LSTM-KL. */
    if ((st = iae_detector_create(ctx, &info, batch, &det)) != IAE_OK) goto done;
    if ((st = iae_net_init_params(ctx, det->net, &rng)) != IAE_OK) goto done;
    for (int j = 0; j < 128; j++) det->center[j] = 0.1f * ((j % 3) - 1);
    if ((st = iae_trainer_create(ctx, det->net, &info, det->center, IAE_STEP_JOINT, &tr)) != IAE_OK) goto done;
    step_arg sa = {tr, x, batch};
    /* Training steps of the three kernels, interleaved step by step so that
     * a change in machine load affects all three alike. */
    {
        double t[3][MAX_REPEATS];
        for (int i = -o->warmup; i < o->repeats; i++)
            for (int v = 0; v < 3; v++) {
                if ((st = iae_net_set_lstm_kernel(ctx, det->net, variants[v].impl, variants[v].bf16)) != IAE_OK)
                    goto done;
                double t0 = iae_now_s();
                run_step(&sa);
                if (i >= 0) t[v][i] = iae_now_s() - t0;
            }
        for (int v = 0; v < 3; v++) r->iae_step[v] = summarize(t[v], o->repeats);
    }
    for (int v = 0; v < 3; v++) {
        if ((st = iae_net_set_lstm_kernel(ctx, det->net, variants[v].impl, variants[v].bf16)) != IAE_OK) goto done;
        /* LSTM recurrent part = whole layer minus its GEMMs. */
        const long g4 = 4L * 2048;
        scratch = iae_alloc(ctx, sizeof(float) * (g4 * batch + 2L * batch * 2048), "LSTM bench buffers");
        if (scratch == NULL) {
            st = IAE_ERR_NOMEM;
            goto done;
        }
        lstm_arg la = {det->net, batch, big, scratch + g4 * batch, scratch + g4 * batch + (long)batch * 2048, scratch, 0};
        iae_rng_fill_uniform(&rng, la.dh, (long)batch * 2048, -1e-3f, 1e-3f);
        timing f = time_calls(run_lstm_part, &la, o);
        la.part = 1;
        timing b = time_calls(run_lstm_part, &la, o);
        la.part = 2;
        timing fg = time_calls(run_lstm_part, &la, o);
        la.part = 3;
        timing bg = time_calls(run_lstm_part, &la, o);
        r->lstm_fwd_rec_s[v] = f.median_s - fg.median_s;
        r->lstm_bwd_rec_s[v] = b.median_s - bg.median_s;
        iae_free(scratch);
        scratch = NULL;

        score_arg sc = {ctx, det, big, score_images, batch, IAE_CONTEXT_BATCH};
        bench_opts once = {1, o->repeats < 3 ? o->repeats : 3};
        timing s = time_calls(run_score, &sc, &once);
        r->score_images_per_s[v] = score_images / s.median_s;
    }

    /* Scoring in the memory and none contexts (every sample alone). */
    {
        float *state = iae_alloc(ctx, sizeof(float) * 2 * 2048, "bench memory state");
        if (state == NULL) {
            st = IAE_ERR_NOMEM;
            goto done;
        }
        iae_rng_fill_uniform(&rng, state, 2 * 2048, -0.5f, 0.5f);
        iae_net_set_memory(det->net, state, state + 2048);
        iae_free(state);
        for (int k = 0; k < 2; k++) {
            score_arg sc = {ctx, det, big, score_images, batch, k == 0 ? IAE_CONTEXT_MEMORY : IAE_CONTEXT_NONE};
            bench_opts once = {1, o->repeats < 3 ? o->repeats : 3};
            r->score_context_images_per_s[k] = score_images / time_calls(run_score, &sc, &once).median_s;
        }
    }

    /* Per-op profile of the default kernel. */
    if ((st = iae_net_set_lstm_kernel(ctx, det->net, IAE_LSTM_FUSED, 0)) != IAE_OK) goto done;
    det->net->profile = 1;
    memset(det->net->op_forward_s, 0, sizeof(det->net->op_forward_s));
    memset(det->net->op_backward_s, 0, sizeof(det->net->op_backward_s));
    for (int i = 0; i < o->repeats; i++) run_step(&sa);
    det->net->profile = 0;
    r->n_ops = det->net->n_ops;
    for (int i = 0; i < det->net->n_ops; i++) {
        const iae_op *op = &det->net->ops[i];
        op_profile *p = &r->ops[i];
        snprintf(p->name, sizeof(p->name), "%s", op->name);
        p->fwd_s = det->net->op_forward_s[i] / o->repeats;
        p->bwd_s = det->net->op_backward_s[i] / o->repeats;
        p->fwd_flops = op_flops(op, batch);
        p->bwd_flops = (i == 0 ? 1.0 : 2.0) * p->fwd_flops;
    }

    /* Adam alone over all parameters. */
    iae_adam adam;
    iae_adam_init(&adam, 1e-4f, 0.5e-6f, 1);
    const long np = det->net->n_param_floats;
    adam_arg aa = {&adam, det->net, iae_alloc(ctx, sizeof(float) * np, "bench m"),
                   iae_alloc(ctx, sizeof(float) * np, "bench v"), iae_alloc(ctx, sizeof(float) * np, "bench vmax")};
    if (aa.m && aa.v && aa.vmax) r->adam = time_calls(run_adam, &aa, o);
    iae_free(aa.m), iae_free(aa.v), iae_free(aa.vmax);
    iae_trainer_free(tr);
    tr = NULL;
    iae_detector_free(det);
    det = NULL;

    /* Plain autoencoder. */
    iae_net_config ae_cfg = iae_lenet_config(1, 0, 1);
    if ((st = iae_net_create(ctx, &ae_cfg, batch, &ae)) != IAE_OK) goto done;
    if ((st = iae_net_init_params(ctx, ae, &rng)) != IAE_OK) goto done;
    if ((st = iae_trainer_create(ctx, ae, &info, NULL, IAE_STEP_AUTOENCODER, &tr)) != IAE_OK) goto done;
    step_arg ea = {tr, x, batch};
    r->ae_step = time_calls(run_step, &ea, o);
    st = IAE_OK;

done:
    iae_trainer_free(tr);
    iae_net_free(ae);
    iae_detector_free(det);
    iae_free(x), iae_free(big), iae_free(scratch);
    return st;
}

/* Train IAE-LSTM-KL for a few steps and return this process's peak resident
 * memory in KiB, or -1. Runs in a child process of its own (see below). */
static long train_and_measure_rss(int batch, int threads) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, threads);
    iae_detector_info info = bench_info(batch);
    iae_detector *det = NULL;
    iae_trainer *tr = NULL;
    long kib = -1;
    float *x = iae_alloc(&ctx, sizeof(float) * batch * 1024, "input");
    iae_rng rng;
    iae_rng_seed(&rng, 2, 0);
    if (x && iae_detector_create(&ctx, &info, batch, &det) == IAE_OK &&
        iae_net_init_params(&ctx, det->net, &rng) == IAE_OK &&
        iae_trainer_create(&ctx, det->net, &info, det->center, IAE_STEP_JOINT, &tr) == IAE_OK) {
        iae_rng_fill_uniform(&rng, x, batch * 1024, 0, 1);
        step_arg sa = {tr, x, batch};
        for (int i = 0; i < 3; i++) run_step(&sa);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kib = ru.ru_maxrss;
    }
    iae_trainer_free(tr);
    iae_detector_free(det);
    iae_free(x);
    return kib;
}

/* Peak resident memory of a fresh process that trains at this batch size, so
 * the other benchmarks' allocations do not count. The child is a new exec of
 * this program: forking a process whose OpenMP runtime is running is unsafe. */
static long training_peak_rss_kib(int batch, int threads) {
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "/proc/%ld/exe bench --peak-rss-child %d --threads %d", (long)getpid(), batch,
             threads);
    FILE *p = popen(cmd, "r");
    if (p == NULL) return -1;
    long kib = -1;
    if (fscanf(p, "%ld", &kib) != 1) kib = -1;
    pclose(p);
    return kib;
}

/* ---------------- report ---------------- */

static void print_timing(const char *label, timing t) {
    printf("  %-34s %8.1f ms  (min %.1f, max %.1f, n=%d)\n", label, t.median_s * 1e3, t.min_s * 1e3, t.max_s * 1e3,
           t.n);
}

static void print_report(const machine *m, const batch_result *res, int n_res, const long *rss_kib) {
    printf("machine: %s, %d online cores, %d threads\n", m->cpu, m->online_cores, m->threads);
    printf("  OpenBLAS: %s\n", m->blas_config);
    printf("  read bandwidth: %.1f GB/s (sum over a 1 GiB buffer, all threads, median of 5)\n", m->read_gbs);
    printf("  fp32 FMA peak: %.0f GFLOP/s measured (register-only FMA loop, all threads)\n", m->fma_gflops);
    printf("    = %d lanes (%s, the build's vector width) x 2 FLOP x %.2f vector FMA/cycle/core (derived)\n", m->lanes,
           m->isa, m->fma_per_cycle);
    printf("      x %.0f MHz (/proc/cpuinfo, the nominal clock; turbo raises the real one) x %d cores\n", m->mhz,
           m->threads);
    for (int k = 0; k < n_res; k++) {
        const batch_result *r = &res[k];
        printf("\nbatch %d:\n", r->batch);
        for (int v = 0; v < 3; v++) {
            char label[64];
            snprintf(label, sizeof(label), "IAE-LSTM-KL train step, %s", variants[v].name);
            print_timing(label, r->iae_step[v]);
        }
        print_timing("autoencoder train step", r->ae_step);
        print_timing("Adam (AMSGrad), all 34.4 M parameters", r->adam);
        printf("  Adam: %.1f GB/s (9 float streams)\n", 9.0 * 4 * 34372160 / r->adam.median_s / 1e9);
        printf("  LSTM recurrent product per step (W_hh is 64 MiB fp32, 32 MiB bf16):\n");
        for (int v = 0; v < 3; v++) {
            double bytes = 4.0 * 2048 * 2048 * (variants[v].bf16 ? 2 : 4);
            double f = r->lstm_fwd_rec_s[v] / (r->batch - 1), b = r->lstm_bwd_rec_s[v] / (r->batch - 1);
            printf("    %-11s forward %.3f ms (%.1f GB/s), backward %.3f ms (%.1f GB/s)\n", variants[v].name, f * 1e3,
                   bytes / f / 1e9, b * 1e3, bytes / b / 1e9);
        }
        printf("  scoring, batch context: %.0f images/s (fused fp32), %.0f (gemv fp32), %.0f (fused bf16)\n",
               r->score_images_per_s[0], r->score_images_per_s[1], r->score_images_per_s[2]);
        printf("  scoring, memory context: %.0f images/s; none context: %.0f images/s\n",
               r->score_context_images_per_s[0], r->score_context_images_per_s[1]);
        printf("  per op, IAE-LSTM-KL step with fused fp32 (GFLOP/s and %% of the FMA peak):\n");
        printf("    %-10s %10s %9s %6s %10s %9s %6s\n", "op", "fwd ms", "GFLOP/s", "peak", "bwd ms", "GFLOP/s", "peak");
        for (int i = 0; i < r->n_ops; i++) {
            const op_profile *p = &r->ops[i];
            if (p->fwd_flops > 0) {
                double gf = p->fwd_flops / p->fwd_s / 1e9, gb = p->bwd_flops / p->bwd_s / 1e9;
                printf("    %-10s %10.2f %9.1f %5.0f%% %10.2f %9.1f %5.0f%%\n", p->name, p->fwd_s * 1e3, gf,
                       100 * gf / m->fma_gflops, p->bwd_s * 1e3, gb, 100 * gb / m->fma_gflops);
            } else {
                printf("    %-10s %10.2f %9s %6s %10.2f\n", p->name, p->fwd_s * 1e3, "", "", p->bwd_s * 1e3);
            }
        }
        if (rss_kib[k] > 0) printf("  peak resident memory, training process: %.0f MiB\n", rss_kib[k] / 1024.0);
    }
}

static void json_timing(FILE *f, const char *key, timing t, const char *end) {
    fprintf(f, "\"%s\": {\"median_s\": %.6f, \"min_s\": %.6f, \"max_s\": %.6f, \"n\": %d}%s", key, t.median_s, t.min_s,
            t.max_s, t.n, end);
}

static iae_status write_json(iae_ctx *ctx, const char *path, const machine *m, const batch_result *res, int n_res,
                             const long *rss_kib) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "cannot build the JSON report");
    fprintf(f, "{\n  \"machine\": {\"cpu\": \"%s\", \"online_cores\": %d, \"threads\": %d, \"isa\": \"%s\", ",
            m->cpu, m->online_cores, m->threads, m->isa);
    fprintf(f, "\"lanes\": %d, \"mhz\": %.0f, \"fma_gflops\": %.1f, \"fma_per_cycle\": %.3f, \"read_gbs\": %.2f, ",
            m->lanes, m->mhz, m->fma_gflops, m->fma_per_cycle, m->read_gbs);
    fprintf(f, "\"openblas\": \"%s\"},\n  \"batches\": [\n", m->blas_config);
    for (int k = 0; k < n_res; k++) {
        const batch_result *r = &res[k];
        fprintf(f, "    {\"batch_size\": %d, \"peak_rss_bytes\": %ld,\n     \"iae_step\": {", r->batch,
                rss_kib[k] * 1024);
        for (int v = 0; v < 3; v++) json_timing(f, variants[v].name, r->iae_step[v], v < 2 ? ", " : "},\n     ");
        json_timing(f, "ae_step", r->ae_step, ", ");
        json_timing(f, "adam_step", r->adam, ",\n     ");
        fprintf(f, "\"lstm_recurrent_step_s\": {");
        for (int v = 0; v < 3; v++)
            fprintf(f, "\"%s\": {\"forward\": %.6g, \"backward\": %.6g}%s", variants[v].name,
                    r->lstm_fwd_rec_s[v] / (r->batch - 1), r->lstm_bwd_rec_s[v] / (r->batch - 1), v < 2 ? ", " : "},\n");
        fprintf(f, "     \"scoring_images_per_s\": {");
        for (int v = 0; v < 3; v++)
            fprintf(f, "\"%s\": %.1f, ", variants[v].name, r->score_images_per_s[v]);
        fprintf(f, "\"memory context\": %.1f, \"none context\": %.1f},\n", r->score_context_images_per_s[0],
                r->score_context_images_per_s[1]);
        fprintf(f, "     \"ops\": [");
        for (int i = 0; i < r->n_ops; i++)
            fprintf(f, "%s{\"name\": \"%s\", \"forward_s\": %.6g, \"backward_s\": %.6g, \"forward_flops\": %.6g, "
                       "\"backward_flops\": %.6g}",
                    i ? ", " : "", r->ops[i].name, r->ops[i].fwd_s, r->ops[i].bwd_s, r->ops[i].fwd_flops,
                    r->ops[i].bwd_flops);
        fprintf(f, "]}%s\n", k + 1 < n_res ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
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

/* ---------------- command line ---------------- */

static void bench_usage(FILE *out) {
    fputs("usage: iae bench [OPTIONS]\n"
          "\n"
          "Time the Fashion-MNIST networks on synthetic input: one training step of\n"
          "IAE-LSTM-KL (each LSTM kernel) and of the autoencoder, Adam alone, the LSTM's\n"
          "recurrent product, scoring throughput, and every op's forward and backward\n"
          "time, next to the machine's measured read bandwidth and fp32 FMA peak.\n"
          "\n"
          "  --batch-size LIST   comma-separated batch sizes (default 64,128)\n"
          "  --threads N         CPU threads (default: all online cores)\n"
          "  --repeats N         timed runs per figure, the median is reported (default 5)\n"
          "  --warmup N          untimed runs before each figure (default 2)\n"
          "  --score-images N    images scored for the throughput figure (default 2048)\n"
          "  --json FILE         also write the results as JSON\n"
          "  --help              show this message\n",
          out);
}

int cmd_bench(int argc, char **argv) {
    static const struct option options[] = {
        {"batch-size", required_argument, 0, 'b'}, {"threads", required_argument, 0, 't'},
        {"repeats", required_argument, 0, 'r'},    {"warmup", required_argument, 0, 'w'},
        {"score-images", required_argument, 0, 's'}, {"json", required_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},             {"peak-rss-child", required_argument, 0, 'p'},
        {0, 0, 0, 0},
    };
    int batches[MAX_BATCHES] = {64, 128}, n_batches = 2;
    long threads = 0, repeats = 5, warmup = 2, score_images = 2048;
    const char *json = NULL;
    long rss_child_batch = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case 'b': {
            n_batches = 0;
            char *copy = strdup(optarg), *save = NULL;
            for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
                long v;
                if (n_batches == MAX_BATCHES) {
                    cli_error("--batch-size lists more than %d sizes", MAX_BATCHES);
                    ok = 0;
                } else if ((ok = cli_parse_int("--batch-size", tok, 2, 1024, &v))) {
                    batches[n_batches++] = (int)v;
                }
            }
            free(copy);
            if (ok && n_batches == 0) {
                cli_error("--batch-size needs at least one size, e.g. 64,128");
                ok = 0;
            }
            break;
        }
        case 't': ok = cli_parse_int("--threads", optarg, 1, 1024, &threads); break;
        case 'r': ok = cli_parse_int("--repeats", optarg, 1, MAX_REPEATS, &repeats); break;
        case 'w': ok = cli_parse_int("--warmup", optarg, 0, 100, &warmup); break;
        case 's': ok = cli_parse_int("--score-images", optarg, 1, 100000, &score_images); break;
        case 'j': json = optarg; break;
        case 'p': ok = cli_parse_int("--peak-rss-child", optarg, 2, 1024, &rss_child_batch); break;
        case 'h': bench_usage(stdout); return 0;
        case ':':
            cli_error("option %s needs a value; run 'iae bench --help'", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        default:
            cli_error("unknown option '%s'; run 'iae bench --help' for the list of options", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        }
        if (!ok) return IAE_EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'; run 'iae bench --help'", argv[optind]);
        return IAE_EXIT_USAGE;
    }

    if (rss_child_batch > 0) {
        printf("%ld\n", train_and_measure_rss((int)rss_child_batch, (int)threads));
        return 0;
    }
    iae_ctx ctx;
    iae_ctx_init(&ctx, (int)threads);
    bench_opts o = {(int)warmup, (int)repeats};
    machine m;
    fprintf(stderr, "measuring the machine's limits...\n");
    measure_machine(&m, ctx.threads);
    batch_result res[MAX_BATCHES];
    long rss[MAX_BATCHES];
    for (int k = 0; k < n_batches; k++) {
        fprintf(stderr, "timing batch %d...\n", batches[k]);
        if (bench_batch(&ctx, batches[k], &o, score_images, &res[k]) != IAE_OK) {
            cli_error("%s", ctx.error);
            return IAE_EXIT_FAILURE;
        }
        rss[k] = training_peak_rss_kib(batches[k], ctx.threads);
    }
    print_report(&m, res, n_batches, rss);
    if (json != NULL && write_json(&ctx, json, &m, res, n_batches, rss) != IAE_OK) {
        cli_error("%s", ctx.error);
        return IAE_EXIT_FAILURE;
    }
    return 0;
}
