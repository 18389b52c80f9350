#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void make_dirs(const char *path) {
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

const char *tu_tmpdir(const char *name) {
    static char dirs[16][512];
    static int next = 0;
    const char *root = getenv("IAE_TEST_TMP");
    if (root == NULL || *root == 0) root = "/tmp/iae-test";
    char *d = dirs[next++ % 16];
    snprintf(d, 512, "%s/%s", root, name);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    if (system(cmd) != 0) fail_msg("cannot clear %s", d);
    make_dirs(d);
    return d;
}

const char *tu_path(const char *dir, const char *file) {
    static char buf[4][1024];
    static int next = 0;
    char *b = buf[next++ % 4];
    snprintf(b, 1024, "%s/%s", dir, file);
    return b;
}

void tu_write_file(const char *path, const void *data, size_t bytes) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) fail_msg("cannot create %s: %s", path, strerror(errno));
    if (bytes > 0 && fwrite(data, 1, bytes, f) != bytes) fail_msg("cannot write %s", path);
    fclose(f);
}

void tu_fill(float *x, long n, float lo, float hi, uint64_t seed) {
    iae_rng r;
    iae_rng_seed(&r, seed, 99);
    iae_rng_fill_uniform(&r, x, n, lo, hi);
}

double tu_gradcheck(const char *what, float *x, long n, const float *analytic, tu_loss_fn loss,
                    void *user, float eps, double atol, double rtol, int max_checks) {
    long stride = n / max_checks;
    if (stride < 1) stride = 1;
    double worst = 0.0;
    for (long i = 0; i < n; i += stride) {
        float saved = x[i];
        x[i] = saved + eps;
        double lp = loss(user);
        x[i] = saved - eps;
        double lm = loss(user);
        x[i] = saved;
        /* Divide by the step actually taken, which float rounding may change. */
        double step = (double)(saved + eps) - (double)(saved - eps);
        double numeric = (lp - lm) / step;
        double a = analytic[i];
        if (!isfinite(a)) fail_msg("%s: analytic gradient [%ld] is not finite", what, i);
        double scale = fmax(fabs(a), fabs(numeric));
        double err = fabs(a - numeric);
        double rel = scale > 0 ? err / scale : 0.0;
        if (err > atol && rel > worst) worst = rel;
        if (err > atol + rtol * scale)
            fail_msg("%s: gradient [%ld] analytic %.8g vs numeric %.8g (abs err %.3g, rel %.3g)", what,
                     i, a, numeric, err, rel);
    }
    return worst;
}

int tu_run_cli(const char *args, const char **stderr_text) {
    static char out[65536];
    const char *cli = getenv("IAE_CLI");
    if (cli == NULL) fail_msg("IAE_CLI is not set; run the tests through ctest");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1 >/dev/null", cli, args);
    FILE *p = popen(cmd, "r");
    if (p == NULL) fail_msg("cannot run %s", cmd);
    size_t len = fread(out, 1, sizeof(out) - 1, p);
    out[len] = 0;
    int status = pclose(p);
    if (stderr_text) *stderr_text = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
