/* Context, error messages, allocation and threads. */
#include "core.h"

#include <cblas.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

void iae_ctx_init(iae_ctx *ctx, int threads) {
    memset(ctx, 0, sizeof(*ctx));
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    ctx->threads = threads;
#ifdef _OPENMP
    omp_set_num_threads(threads);
    omp_set_dynamic(0);
#endif
    /* OpenBLAS built with OpenMP runs single-threaded inside our parallel
     * regions and with this many threads outside them, so the two never
     * oversubscribe the cores. */
    openblas_set_num_threads(threads);
}

iae_status iae_fail(iae_ctx *ctx, iae_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
    va_end(ap);
    return status;
}

void *iae_alloc(iae_ctx *ctx, size_t bytes, const char *what) {
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (p == NULL) {
        if (ctx != NULL)
            iae_fail(ctx, IAE_ERR_NOMEM, "out of memory: allocating %zu bytes (%.1f MiB) for %s failed",
                     bytes, bytes / 1048576.0, what);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void iae_free(void *p) { free(p); }

void iae_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "iae: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    abort();
}

double iae_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int iae_max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int iae_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

int iae_team_size(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}
