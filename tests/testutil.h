/*
 * Helpers shared by the unit tests: scratch directories, random fills and a
 * finite-difference gradient check.
 */
#ifndef IAE_TESTUTIL_H
#define IAE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the three headers above first. */
#include <cmocka.h>

#include "core/core.h"
#include "core/rng.h"

/* Create (if needed) and return a fresh directory for one test, under
 * $IAE_TEST_TMP or /tmp. The returned string is static per call site name. */
const char *tu_tmpdir(const char *name);

/* Join dir and file into a static buffer (valid until the next call). */
const char *tu_path(const char *dir, const char *file);

/* Write bytes to path, failing the test on error. */
void tu_write_file(const char *path, const void *data, size_t bytes);

/* Fill x with U(lo, hi) from a fixed seed. */
void tu_fill(float *x, long n, float lo, float hi, uint64_t seed);

/* Loss evaluated by the gradient check, in double. */
typedef double (*tu_loss_fn)(void *user);

/* Compare analytic[0..n) with central differences of loss() taken by nudging
 * x[i] by +-eps, for at most max_checks indices spread over x. Fails the test
 * when |analytic - numeric| > atol + rtol * max(|analytic|, |numeric|).
 * Returns the largest relative error seen. */
double tu_gradcheck(const char *what, float *x, long n, const float *analytic, tu_loss_fn loss,
                    void *user, float eps, double atol, double rtol, int max_checks);

/* Run the iae command line with arguments (a shell-quoted string), capturing
 * its stderr into a static buffer; returns the exit status. The binary comes
 * from $IAE_CLI. */
int tu_run_cli(const char *args, const char **stderr_text);

#endif
