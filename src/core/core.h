/*
 * Core services shared by every module: status codes, the context that owns
 * the error message and the thread count, checked allocation, and an assert
 * that stays on in release builds.
 *
 * Library functions never exit the process. A function that can fail returns
 * an iae_status and, on failure, leaves a message in ctx->error that names the
 * bad value and the fix. Only the command-line front end decides to exit.
 */
#ifndef IAE_CORE_H
#define IAE_CORE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    IAE_OK = 0,
    IAE_ERR_ARGUMENT, /* invalid option or parameter value */
    IAE_ERR_IO,       /* file missing, unreadable or not writable */
    IAE_ERR_FORMAT,   /* file content malformed */
    IAE_ERR_NOMEM,    /* allocation failed */
    IAE_ERR_NUMERIC,  /* NaN or infinity where a finite value is required */
    IAE_INTERRUPTED,  /* a run stopped on request before its end (not a failure) */
} iae_status;

#define IAE_ERROR_BYTES 1024

typedef struct {
    int threads;                  /* OpenMP and OpenBLAS threads */
    char error[IAE_ERROR_BYTES];  /* message of the last failure */
} iae_ctx;

/* Initialise ctx and set the thread count used by OpenMP and OpenBLAS.
 * threads <= 0 selects the number of online processors. */
void iae_ctx_init(iae_ctx *ctx, int threads);

/* Store a printf-style message in ctx->error and return status. */
iae_status iae_fail(iae_ctx *ctx, iae_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocate bytes aligned to 64 bytes, zero-filled. On failure return NULL and
 * store a message naming what and the total size. Free with iae_free. */
void *iae_alloc(iae_ctx *ctx, size_t bytes, const char *what);
void iae_free(void *p);

/* Internal invariant check, active in every build type. */
#define IAE_ASSERT(cond)                                                      \
    do {                                                                      \
        if (!(cond)) iae_assert_fail(#cond, __FILE__, __LINE__);              \
    } while (0)
_Noreturn void iae_assert_fail(const char *expr, const char *file, int line);

/* Wall-clock seconds from a monotonic clock. */
double iae_now_s(void);

/* Number of OpenMP threads the layers use; 1 when built without OpenMP. */
int iae_max_threads(void);

/* Index of the calling OpenMP thread; 0 outside parallel regions. */
int iae_thread_id(void);

/* Number of threads in the current OpenMP team; 1 outside parallel regions. */
int iae_team_size(void);

#endif
