/*
 * Tests of the research commands on a small synthetic data set:
 * 'iae experiment' runs every model variant end to end, writes results.csv,
 * results.md and figures, and resumes an interrupted grid without rerunning
 * finished runs; 'iae plot' summarises a hand-written results table; 'iae
 * search' writes one row per candidate; 'iae eval --plots' draws figures.
 * The table is checked against means and deviations computed here from the
 * CSV, not against captured output.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "synthetic.h"
#include "testutil.h"

static const char *data_dir;

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void expect(const char *args, int want_rc, const char *const *needles) {
    const char *err = NULL;
    int rc = tu_run_cli(args, &err);
    if (rc >= 128) fail_msg("'iae %s' crashed (status %d): %s", args, rc, err);
    if (rc != want_rc) fail_msg("'iae %s' exited %d, expected %d; stderr: %s", args, rc, want_rc, err);
    for (int i = 0; needles && needles[i]; i++)
        if (strstr(err, needles[i]) == NULL) fail_msg("'iae %s': stderr lacks '%s': %s", args, needles[i], err);
}

/* Count the occurrences of needle in text. */
static int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Check that path is a PNG of at least min_w x min_h pixels (IHDR fields). */
static void expect_png(const char *path, int min_w, int min_h) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("figure %s was not written", path);
    unsigned char b[24];
    size_t n = fread(b, 1, sizeof(b), f);
    fclose(f);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n != sizeof(b) || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
        fail_msg("%s is not a PNG file", path);
    long w = (long)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
    long h = (long)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
    if (w < min_w || h < min_h) fail_msg("%s is %ldx%ld pixels, expected at least %dx%d", path, w, h, min_w, min_h);
}

/* A parsed results.csv: header names and rows of fields. */
typedef struct {
    int n_cols, n_rows;
    char *cols[64];
    char *cells[64][64];
} table;

static int split_csv_line(char *line, char **out, int max) {
    int n = 0;
    for (char *p = line; n < max;) {
        out[n++] = p;
        char *comma = strchr(p, ',');
        if (comma == NULL) break;
        *comma = 0;
        p = comma + 1;
    }
    return n;
}

static void read_table(const char *path, table *t) {
    char *text = read_all(path); /* kept alive: cells point into it */
    memset(t, 0, sizeof(*t));
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    assert_non_null(line);
    t->n_cols = split_csv_line(line, t->cols, 64);
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        assert_true(t->n_rows < 64);
        int n = split_csv_line(line, t->cells[t->n_rows], 64);
        assert_int_equal(n, t->n_cols);
        t->n_rows++;
    }
}

static int column(const table *t, const char *name) {
    for (int i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i], name) == 0) return i;
    fail_msg("results.csv has no column %s", name);
    return -1;
}

/* The AUROC the summary table shows for row r: svdd_mse in the batch
 * context, falling back to svdd and then mse for models without it. */
static double table_auroc(const table *t, int r) {
    const char *names[3] = {"auroc_batch_svdd_mse", "auroc_batch_svdd", "auroc_batch_mse"};
    for (int k = 0; k < 3; k++) {
        const char *cell = t->cells[r][column(t, names[k])];
        if (cell[0] != 0) return atof(cell);
    }
    return NAN;
}

static int setup(void **state) {
    (void)state;
    data_dir = tu_tmpdir("experiment-data");
    synth_write_fmnist(data_dir, 16, 40, 0);
    return 0;
}

static const char *const models[6] = {"cae", "deep-svdd", "dcae-svdd", "iae-lstm", "iae-kl", "iae-lstm-kl"};

static void grid_args(char *args, size_t cap, const char *out, int epochs) {
    snprintf(args, cap,
             "experiment --data '%s' --out-dir '%s' --models cae,deep-svdd,dcae-svdd,iae-lstm,iae-kl,iae-lstm-kl "
             "--classes 3 --seeds 0,1 --pretrain-epochs 1 --epochs %d --batch-size 8",
             data_dir, out, epochs);
}

static void test_grid_tables_figures_and_resume(void **state) {
    (void)state;
    const char *out = tu_tmpdir("experiment-grid");
    char args[16384], path[1024];
    grid_args(args, sizeof(args), out, 1);
    expect(args, 0, NULL);

    /* One row per run; each model's scores match its parts. */
    table t;
    snprintf(path, sizeof(path), "%s/results.csv", out);
    read_table(path, &t);
    assert_int_equal(t.n_rows, 12);
    const int c_model = column(&t, "model"), c_svdd = column(&t, "auroc_batch_svdd"),
              c_mse = column(&t, "auroc_batch_mse"), c_mem = column(&t, "auroc_memory_svdd");
    for (int r = 0; r < t.n_rows; r++) {
        const char *m = t.cells[r][c_model];
        const int has_svdd = strcmp(m, "cae") != 0, has_mse = strcmp(m, "deep-svdd") != 0;
        const int has_lstm = strstr(m, "lstm") != NULL;
        if ((t.cells[r][c_svdd][0] != 0) != has_svdd) fail_msg("%s: svdd AUROC presence is wrong", m);
        if ((t.cells[r][c_mse][0] != 0) != has_mse) fail_msg("%s: mse AUROC presence is wrong", m);
        if ((t.cells[r][c_mem][0] != 0) != has_lstm) fail_msg("%s: memory context presence is wrong", m);
        double a = table_auroc(&t, r);
        if (!(a >= 0 && a <= 1)) fail_msg("%s: AUROC %g outside [0, 1]", m, a);
    }

    /* results.md: mean +- sample standard deviation over the two seeds,
     * best model in bold, baselines first and the full model last. */
    snprintf(path, sizeof(path), "%s/results.md", out);
    char *md = read_all(path);
    double best = -1;
    for (int m = 0; m < 6; m++) {
        double v[2];
        int k = 0;
        for (int r = 0; r < t.n_rows; r++)
            if (strcmp(t.cells[r][c_model], models[m]) == 0 && k < 2) v[k++] = table_auroc(&t, r);
        assert_int_equal(k, 2);
        double mean = (v[0] + v[1]) / 2, sd = fabs(v[0] - v[1]) / sqrt(2.0);
        char cell[64];
        snprintf(cell, sizeof(cell), "%.4f ± %.4f", mean, sd);
        if (strstr(md, cell) == NULL) fail_msg("results.md lacks '%s' for %s:\n%s", cell, models[m], md);
        if (mean > best) best = mean;
    }
    char bold[64];
    snprintf(bold, sizeof(bold), "**%.4f ± ", best);
    if (strstr(md, bold) == NULL) fail_msg("results.md does not show the best mean %.4f in bold:\n%s", best, md);
    if (strstr(md, "| class | cae | deep-svdd | dcae-svdd | iae-lstm | iae-kl | iae-lstm-kl |") == NULL)
        fail_msg("results.md columns are not baselines first, full model last:\n%s", md);
    free(md);

    /* Figures per run and for the grid. */
    const char *figures[4] = {"roc.png", "histogram.png", "losses.png", "reconstructions.png"};
    for (int m = 0; m < 6; m++)
        for (int f = 0; f < 4; f++) {
            snprintf(path, sizeof(path), "%s/runs/%s_c3_s1_r0/%s", out, models[m], figures[f]);
            expect_png(path, 300, 200);
        }
    snprintf(path, sizeof(path), "%s/auroc_per_class.png", out);
    expect_png(path, 400, 300);

    /* Interrupted grid: one run lost its result; a rerun redoes only that
     * one, and with the same seed it reproduces the same AUROCs. */
    snprintf(path, sizeof(path), "%s/runs/iae-kl_c3_s1_r0/row.csv", out);
    assert_int_equal(unlink(path), 0);
    const char *err = NULL;
    assert_int_equal(tu_run_cli(args, &err), 0);
    assert_int_equal(count_of(err, "finished earlier, skipped"), 11);
    if (strstr(err, "iae-kl_c3_s1_r0") == NULL || strstr(err, "iae-kl_c3_s1_r0: finished earlier") != NULL)
        fail_msg("the lost run was not run again:\n%s", err);
    table t2;
    snprintf(path, sizeof(path), "%s/results.csv", out);
    read_table(path, &t2);
    assert_int_equal(t2.n_rows, 12);
    const int c_seconds = column(&t, "seconds");
    for (int r = 0; r < 12; r++)
        for (int c = 0; c < t.n_cols; c++)
            if (c != c_seconds && strcmp(t.cells[r][c], t2.cells[r][c]) != 0)
                fail_msg("row %d column %s changed on resume: %s -> %s", r, t.cols[c], t.cells[r][c], t2.cells[r][c]);

    /* Finished runs made with other settings are not mixed into a grid. */
    grid_args(args, sizeof(args), out, 2);
    expect(args, 1, NEEDLES("was made with", "--epochs 1", "another --out-dir"));

    /* iae plot redraws the summary from the CSV into another folder. */
    const char *plots = tu_tmpdir("experiment-replot");
    snprintf(args, sizeof(args), "plot '%s/results.csv' --out-dir '%s' --table-score svdd", out, plots);
    expect(args, 0, NULL);
    snprintf(path, sizeof(path), "%s/auroc_per_class.png", plots);
    expect_png(path, 400, 300);
    snprintf(path, sizeof(path), "%s/results.md", plots);
    md = read_all(path);
    if (strstr(md, "`svdd` score") == NULL) fail_msg("re-plotted table does not name the svdd score:\n%s", md);
    free(md);
}

/* A results table written by hand: two models, two classes, two seeds, two
 * contamination ratios. */
static void write_results(const char *path, const char *extra_row) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("model,dataset,normal_class,seed,contamination,pretrain_epochs,epochs,batch_size,seconds", f);
    const char *ctx[3] = {"batch", "memory", "none"};
    const char *sc[6] = {"svdd", "mse", "svdd_mse", "l1_svdd", "l1_mse", "combined"};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 6; k++) fprintf(f, ",auroc_%s_%s", ctx[c], sc[k]);
    for (int k = 0; k < 6; k++) fprintf(f, ",auprc_batch_%s", sc[k]);
    fputs(",f1\n", f);
    const char *names[2] = {"dcae-svdd", "iae-lstm-kl"};
    for (int m = 0; m < 2; m++)
        for (int cls = 0; cls < 2; cls++)
            for (int q = 0; q < 2; q++)
                for (int seed = 0; seed < 2; seed++) {
                    /* svdd_mse AUROC = 0.6 + 0.1 m + 0.05 cls - 0.1 q + 0.02 seed */
                    double a = 0.6 + 0.1 * m + 0.05 * cls - 0.1 * q + 0.02 * seed;
                    fprintf(f, "%s,fashion-mnist,%d,%d,%g,1,1,8,1.5,0.5,0.5,%.4f", names[m], cls, seed,
                            q ? 0.1 : 0.0, a);
                    for (int k = 3; k < 18; k++) fputs(",0.5", f);
                    for (int k = 0; k < 6; k++) fputs(",0.7", f);
                    fputs(",0.4\n", f);
                }
    if (extra_row != NULL) fputs(extra_row, f);
    fclose(f);
}

static void test_plot_command(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("plot-command");
    char path[1024], args[8192];
    snprintf(path, sizeof(path), "%s/results.csv", dir);
    write_results(path, NULL);
    snprintf(args, sizeof(args), "plot '%s'", path);
    expect(args, 0, NULL);
    snprintf(path, sizeof(path), "%s/auroc_per_class.png", dir);
    expect_png(path, 400, 300);
    snprintf(path, sizeof(path), "%s/auroc_vs_contamination.png", dir);
    expect_png(path, 400, 300);
    snprintf(path, sizeof(path), "%s/results.md", dir);
    char *md = read_all(path);
    /* Class 1, contamination 0: dcae-svdd 0.65 and 0.67, iae-lstm-kl 0.75
     * and 0.77: mean 0.66 and 0.76, sample deviation 0.02 / sqrt(2). */
    if (strstr(md, "| 1 | 0.6600 ± 0.0141 | **0.7600 ± 0.0141** |") == NULL)
        fail_msg("results.md lacks the class 1 row:\n%s", md);
    /* Contamination 0.1 lowers every AUROC by 0.1; means over classes. */
    if (strstr(md, "## Contamination 0.1") == NULL || strstr(md, "| mean | 0.5350 | **0.6350** |") == NULL)
        fail_msg("results.md lacks the contamination 0.1 table:\n%s", md);
    free(md);

    /* Broken tables: each gives an error naming the file and the fault. */
    struct {
        const char *row, *needle;
    } broken[] = {
        {"cae,fashion-mnist,0,0,0,1,1,8\n", "fields, expected"},
        {"cae,fashion-mnist,zero,0,0,1,1,8,1.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,"
         "0.5,0.5,0.7,0.7,0.7,0.7,0.7,0.7,0.4\n",
         "invalid normal_class"},
        {"cae,fashion-mnist,0,0,0,1,1,8,1.5,1.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,"
         "0.5,0.5,0.7,0.7,0.7,0.7,0.7,0.7,0.4\n",
         "invalid auroc"},
        {"ocsvm,fashion-mnist,0,0,0,1,1,8,1.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,"
         "0.5,0.5,0.7,0.7,0.7,0.7,0.7,0.7,0.4\n",
         "invalid model"},
    };
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        snprintf(path, sizeof(path), "%s/broken.csv", dir);
        write_results(path, broken[i].row);
        snprintf(args, sizeof(args), "plot '%s'", path);
        expect(args, 1, NEEDLES("broken.csv", "line 18", broken[i].needle));
    }
    snprintf(path, sizeof(path), "%s/empty.csv", dir);
    tu_write_file(path, "", 0);
    snprintf(args, sizeof(args), "plot '%s'", path);
    expect(args, 1, NEEDLES("empty.csv", "empty"));
    snprintf(path, sizeof(path), "%s/other.csv", dir);
    tu_write_file(path, "a,b,c\n1,2,3\n", 12);
    snprintf(args, sizeof(args), "plot '%s'", path);
    expect(args, 1, NEEDLES("other.csv", "not a results table"));
    snprintf(args, sizeof(args), "plot '%s'", dir);
    expect(args, 1, NEEDLES("not a regular file"));
    snprintf(args, sizeof(args), "plot '%s/missing.csv'", dir);
    expect(args, 1, NEEDLES("missing.csv", "No such file"));
}

static void test_search_command(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("search-command");
    char args[16384], path[1024];
    snprintf(path, sizeof(path), "%s/trials.csv", dir);
    snprintf(args, sizeof(args),
             "search --data '%s' --normal-class 3 --trials 2 --pretrain-epochs 1 --epochs 1 --batch-size 8 "
             "--w-mse 0.01:10 --w-kl 0.001:0.1 --out '%s' --quiet",
             data_dir, path);
    expect(args, 0, NULL);
    table t;
    read_table(path, &t);
    assert_int_equal(t.n_rows, 2);
    const int c_mse = column(&t, "w_mse"), c_kl = column(&t, "w_kl"), c_best = column(&t, "best");
    int n_best = 0;
    for (int r = 0; r < 2; r++) {
        double w_mse = atof(t.cells[r][c_mse]), w_kl = atof(t.cells[r][c_kl]);
        if (!(w_mse >= 0.01 && w_mse <= 10 && w_kl >= 0.001 && w_kl <= 0.1))
            fail_msg("trial %d drew w_mse %g, w_kl %g outside the ranges", r + 1, w_mse, w_kl);
        n_best += atoi(t.cells[r][c_best]);
    }
    assert_int_equal(n_best, 1);

    /* A labelled validation set in IDX format (here the synthetic test
     * files) replaces the proxy anomalies. */
    char vi[1024], vl[1024];
    snprintf(vi, sizeof(vi), "%s/t10k-images-idx3-ubyte", data_dir);
    snprintf(vl, sizeof(vl), "%s/t10k-labels-idx1-ubyte", data_dir);
    snprintf(args, sizeof(args),
             "search --data '%s' --normal-class 3 --method grid --trials 4 --pretrain-epochs 1 --epochs 1 "
             "--batch-size 8 --validation-images '%s' --validation-labels '%s' --out '%s' --quiet",
             data_dir, vi, vl, path);
    expect(args, 0, NULL);
    read_table(path, &t);
    assert_int_equal(t.n_rows, 4);

    snprintf(args, sizeof(args), "search --data '%s' --normal-class 3 --w-mse 5:1 --out '%s'", data_dir, path);
    expect(args, 2, NEEDLES("'5:1'", "--w-mse"));
    snprintf(args, sizeof(args), "search --data '%s' --normal-class 3 --validation-images '%s' --out '%s'", data_dir,
             vi, path);
    expect(args, 2, NEEDLES("--validation-labels"));
}

static void test_eval_plots(void **state) {
    (void)state;
    const char *dir = tu_tmpdir("eval-plots");
    char args[16384], path[1024];
    snprintf(args, sizeof(args),
             "train --data '%s' --normal-class 1 --pretrain-epochs 1 --epochs 1 --batch-size 8 --out '%s/m.iae' "
             "--quiet",
             data_dir, dir);
    expect(args, 0, NULL);
    snprintf(args, sizeof(args), "eval --model '%s/m.iae' --data '%s' --plots '%s/figs' --quiet", dir, data_dir, dir);
    expect(args, 0, NULL);
    const char *figures[3] = {"roc.png", "histogram.png", "reconstructions.png"};
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof(path), "%s/figs/%s", dir, figures[f]);
        expect_png(path, 300, 200);
    }
}

static void test_bad_grid_options(void **state) {
    (void)state;
    char args[8192];
    snprintf(args, sizeof(args), "experiment --data '%s'", data_dir);
    expect(args, 2, NEEDLES("--out-dir"));
    snprintf(args, sizeof(args), "experiment --data '%s' --out-dir /tmp/x --models cae,ocsvm", data_dir);
    expect(args, 2, NEEDLES("'ocsvm'", "--models"));
    snprintf(args, sizeof(args), "experiment --data '%s' --out-dir /tmp/x --classes 0-12", data_dir);
    expect(args, 2, NEEDLES("--classes"));
    snprintf(args, sizeof(args), "experiment --data '%s' --out-dir /tmp/x --seeds a", data_dir);
    expect(args, 2, NEEDLES("'a'", "--seeds"));
    snprintf(args, sizeof(args), "experiment --data '%s' --out-dir /tmp/x --contamination 0,0.9", data_dir);
    expect(args, 2, NEEDLES("--contamination"));
    /* Duplicates would map two grid points to one run folder. */
    snprintf(args, sizeof(args), "experiment --data '%s' --out-dir /tmp/x --seeds 1,0-2", data_dir);
    expect(args, 2, NEEDLES("--seeds", "1 twice"));
    snprintf(args, sizeof(args), "experiment --data '%s' --out-dir /tmp/x --contamination 0,0.1,0.10", data_dir);
    expect(args, 2, NEEDLES("--contamination", "0.1 twice"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_grid_options),
        cmocka_unit_test(test_plot_command),
        cmocka_unit_test(test_grid_tables_figures_and_resume),
        cmocka_unit_test(test_search_command),
        cmocka_unit_test(test_eval_plots),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
