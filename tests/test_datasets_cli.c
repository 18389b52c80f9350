/*
 * The data sets beyond Fashion-MNIST through the command line, on files
 * generated in each real format. Train then eval run on CIFAR-10 batches,
 * an MVTec AD category with masks (anomaly maps and pixel AUROC), a
 * WTBI-style CSV file and folders of PNG images. Score runs on new images,
 * CSV files and the live CSV stream. Bad options and malformed files give
 * errors that name them.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/image.h"
#include "synthetic.h"
#include "testutil.h"

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *cli;

/* Run iae with args; check the exit code and that stderr contains each
 * needle (NULL-terminated list). */
static void expect(const char *args, int want_rc, const char *const *needles) {
    const char *err = NULL;
    int rc = tu_run_cli(args, &err);
    if (rc >= 128) fail_msg("'iae %s' crashed (status %d): %s", args, rc, err);
    if (rc != want_rc) fail_msg("'iae %s' exited %d, expected %d; stderr: %s", args, rc, want_rc, err);
    for (int i = 0; needles && needles[i]; i++)
        if (strstr(err, needles[i]) == NULL) fail_msg("'iae %s': stderr lacks '%s': %s", args, needles[i], err);
}

/* Run a shell command; return its exit status with stdout and stderr in
 * *output. */
static int run_shell(const char *cmd, const char **output) {
    static char out[1 << 16];
    char full[8192];
    snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (p == NULL) fail_msg("cannot run %s", cmd);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    int status = pclose(p);
    *output = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

/* The top-level "auroc" object, the batch context: the last line of a
 * metrics file. */
static const char *auroc_line(const char *json) {
    const char *a = strstr(json, "\n  \"auroc\"");
    if (a == NULL) fail_msg("metrics lack \"auroc\": %s", json);
    return a;
}

/* The number after "key": in json. */
static double json_number(const char *json, const char *key) {
    char needle[128];
    snprintf(needle, sizeof(needle), "\"%s\": ", key);
    const char *at = strstr(json, needle);
    if (at == NULL) fail_msg("metrics lack %s: %s", key, json);
    return strtod(at + strlen(needle), NULL);
}

static void expect_in(const char *text, const char *needle, const char *what) {
    if (strstr(text, needle) == NULL) fail_msg("%s lacks '%s':\n%s", what, needle, text);
}

/* Train with args, evaluate the saved model, and check that eval's batch
 * context reproduces train's AUROCs. Returns train's metrics. */
static char *train_then_eval(const char *out, const char *train_args, const char *eval_args) {
    char args[8192];
    snprintf(args, sizeof(args),
             "train %s --pretrain-epochs 1 --epochs 1 --threads 1 --metrics '%s/m.json' --out '%s/m.iae' --quiet",
             train_args, out, out);
    expect(args, 0, NULL);
    char *train_json = read_text(tu_path(out, "m.json"));
    snprintf(args, sizeof(args), "eval --model '%s/m.iae' --threads 1 --metrics '%s/e.json' --quiet %s", out, out,
             eval_args);
    expect(args, 0, NULL);
    char *eval_json = read_text(tu_path(out, "e.json"));
    assert_string_equal(auroc_line(train_json), auroc_line(eval_json));
    free(eval_json);
    return train_json;
}

static int group_setup(void **state) {
    cli = getenv("IAE_CLI");
    if (cli == NULL) fail_msg("IAE_CLI is not set; run the tests through ctest");
    return 0;
}

/* ------------------------------------------------------------------------ */

static void cifar10_train_eval_score(void **state) {
    const char *data = tu_tmpdir("ds-cifar-data");
    synth_write_cifar10(data, 16, 40);
    const char *out = tu_tmpdir("ds-cifar-run");
    char args[4096];
    snprintf(args, sizeof(args), "--dataset cifar10 --data '%s' --normal-class 3 --batch-size 8", data);
    char *json = train_then_eval(out, args, "");
    expect_in(json, "\"dataset\": \"cifar10\"", "train metrics");
    expect_in(json, "\"normal_class\": 3", "train metrics");
    expect_in(json, "\"train_samples\": 16", "train metrics");
    expect_in(json, "\"test_samples\": 40", "train metrics");
    free(json);

    /* A PNG of another size is resized as in training: one row. */
    const char *img = tu_path(out, "odd.png");
    uint8_t rgb[37 * 41 * 3];
    for (size_t i = 0; i < sizeof(rgb); i++) rgb[i] = (uint8_t)(i * 7);
    synth_write_png(img, 37, 41, 8, PNG_COLOR_TYPE_RGB, rgb, NULL, 0);
    char cmd[4096];
    const char *text;
    snprintf(cmd, sizeof(cmd), "'%s' score --threads 1 --model '%s/m.iae' '%s'", cli, out, img);
    if (run_shell(cmd, &text) != 0) fail_msg("score failed: %s", text);
    expect_in(text, "input,index,svdd,mse,l1_svdd,l1_mse,combined,anomalous\n", "score output");
    expect_in(text, "odd.png,0,", "score output");

    /* IDX files are Fashion-MNIST inputs, not CIFAR-10 ones. */
    snprintf(args, sizeof(args), "score --threads 1 --model '%s/m.iae' '%s/data_batch_1.bin'", out, data);
    expect(args, 1, NEEDLES("data_batch_1.bin"));
}

/* Return 1 when the PNG at path is w x h pixels. */
static int png_size_is(const char *path, int w, int h) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_image img = {0};
    if (iae_image_read(&ctx, path, 0, &img) != IAE_OK) fail_msg("%s", ctx.error);
    const int ok = img.w == w && img.h == h;
    iae_image_free(&img);
    return ok;
}

static void mvtec_train_eval_maps(void **state) {
    const char *root = tu_tmpdir("ds-mvtec-data");
    synth_write_mvtec(root, "bottle", 12, 4, 4, 40, 34);
    synth_write_mvtec(root, "zipper", 4, 2, 2, 24, 24);
    const char *out = tu_tmpdir("ds-mvtec-run");
    char args[4096], path[1024];
    snprintf(args, sizeof(args),
             "--dataset mvtec --data '%s' --category bottle --model dcae-svdd --batch-size 4 --maps '%s/maps1'", root,
             out);
    snprintf(path, sizeof(path), "--maps '%s/maps2'", out);
    char *json = train_then_eval(out, args, path);
    expect_in(json, "\"dataset\": \"mvtec\"", "train metrics");
    expect_in(json, "\"category\": \"bottle\"", "train metrics");
    expect_in(json, "\"normal_class\": 0", "train metrics");
    const double pixel = json_number(json, "pixel_auroc");
    assert_true(pixel >= 0.0 && pixel <= 1.0);
    char *eval_json = read_text(tu_path(out, "e.json"));
    assert_true(json_number(eval_json, "pixel_auroc") == pixel);
    free(eval_json);
    free(json);

    /* One map per test image, at the image's own size. */
    const char *names[] = {"good_000.png", "good_003.png", "crack_000.png", "crack_003.png"};
    for (int m = 1; m <= 2; m++)
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            snprintf(path, sizeof(path), "%s/maps%d/%s", out, m, names[i]);
            if (!png_size_is(path, 40, 34)) fail_msg("%s is not 40 x 34", path);
        }
    const char *listing;
    snprintf(args, sizeof(args), "ls '%s/maps1' | wc -l", out);
    assert_int_equal(run_shell(args, &listing), 0);
    assert_int_equal(atoi(listing), 8);

    /* Category by index; errors list the categories. */
    snprintf(args, sizeof(args),
             "train --dataset mvtec --data '%s' --category 7 --model cae --pretrain-epochs 0 --epochs 0 --batch-size 2",
             root);
    expect(args, 1, NEEDLES("bottle", "zipper"));
    snprintf(args, sizeof(args), "train --dataset mvtec --data '%s' --category bottel --batch-size 2", root);
    expect(args, 1, NEEDLES("bottel", "bottle", "zipper"));
    snprintf(args, sizeof(args), "train --dataset mvtec --data '%s'", root);
    expect(args, 2, NEEDLES("--category", "bottle", "zipper"));

    /* score: a PNG of any size. */
    char cmd[4096];
    const char *text;
    snprintf(cmd, sizeof(cmd), "'%s' score --threads 1 --model '%s/m.iae' '%s/zipper/test/crack/000.png'", cli, out, root);
    if (run_shell(cmd, &text) != 0) fail_msg("score failed: %s", text);
    expect_in(text, "000.png,0,", "score output");
}

/* ------------------------------------------------------------------------ */

enum { CSV_FEATURES = 8, CSV_NORMAL = 150, CSV_ANOMALOUS = 40 };

/* Write the first rows data rows of the CSV at from (after its header) to
 * to, and return the path. */
static const char *csv_head(const char *from, int rows, const char *to) {
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "head -n %d '%s' > '%s'", rows + 1, from, to);
    if (system(cmd) != 0) fail_msg("cannot run %s", cmd);
    return to;
}

/* The lines of text after the first (the header), as scores without the
 * leading column: what follows the first comma. */
static int score_lines(const char *text, char lines[][256], int max) {
    const char *p = strchr(text, '\n');
    int n = 0;
    while (p != NULL && p[1] != 0 && n < max) {
        const char *start = p + 1;
        p = strchr(start, '\n');
        size_t len = p ? (size_t)(p - start) : strlen(start);
        if (len >= 256) fail_msg("score line too long");
        memcpy(lines[n], start, len);
        lines[n][len] = 0;
        n++;
    }
    return n;
}

static void csv_train_eval_score(void **state) {
    const char *dir = tu_tmpdir("ds-csv");
    const char *csv = tu_path(dir, "wtbi.csv");
    synth_write_wtbi_csv(csv, CSV_NORMAL, CSV_ANOMALOUS, CSV_FEATURES);
    char args[4096];
    snprintf(args, sizeof(args),
             "--dataset csv-windows --data '%s' --label-column frozen --drop-columns time,group --batch-size 16", csv);
    char *json = train_then_eval(dir, args, "");
    expect_in(json, "\"dataset\": \"csv-windows\"", "train metrics");
    free(json);

    /* 30 rows through the stream: one line per row once the window of 8 is
     * full, 30 - 8 + 1 = 23, equal to the scores of the same file. */
    const int rows = 30;
    const char *part = csv_head(csv, rows, tu_path(dir, "part.csv"));
    char cmd[4096];
    const char *text;
    snprintf(cmd, sizeof(cmd), "cat '%s' | '%s' score --threads 1 --model '%s/m.iae' --stream 2>/dev/null", part, cli, dir);
    if (run_shell(cmd, &text) != 0) fail_msg("stream failed: %s", text);
    expect_in(text, "row,svdd,mse,l1_svdd,l1_mse,combined,anomalous\n", "stream output");
    static char streamed[64][256], scored[64][256];
    const int n_stream = score_lines(text, streamed, 64);
    assert_int_equal(n_stream, rows - CSV_FEATURES + 1);
    snprintf(cmd, sizeof(cmd), "'%s' score --threads 1 --model '%s/m.iae' '%s' 2>/dev/null", cli, dir, part);
    if (run_shell(cmd, &text) != 0) fail_msg("score of the file failed: %s", text);
    expect_in(text, "input,row,svdd,", "file score output");
    const int n_file = score_lines(text, scored, 64);
    assert_int_equal(n_file, n_stream);
    for (int i = 0; i < n_stream; i++) {
        /* stream "row,scores", file "input,row,scores": the same from the row on. */
        const char *from_file = strchr(scored[i], ',') + 1;
        char row[16];
        snprintf(row, sizeof(row), "%d,", CSV_FEATURES + i);
        assert_int_equal(strncmp(streamed[i], row, strlen(row)), 0);
        assert_string_equal(streamed[i], from_file);
    }

    /* A bad cell: exit 1 naming the line, for the stream and for a file. */
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s/bad.csv' && sed -i '5s/,[0-9.]*,/,oops,/2' '%s/bad.csv'", part, dir, dir);
    if (system(cmd) != 0) fail_msg("cannot run %s", cmd);
    snprintf(cmd, sizeof(cmd), "cat '%s/bad.csv' | '%s' score --threads 1 --model '%s/m.iae' --stream > /dev/null", dir, cli, dir);
    assert_int_equal(run_shell(cmd, &text), 1);
    expect_in(text, "standard input, line 5", "stream error");
    expect_in(text, "'oops'", "stream error");
    snprintf(args, sizeof(args), "score --threads 1 --model '%s/m.iae' '%s/bad.csv'", dir, dir);
    expect(args, 1, NEEDLES("bad.csv", "line 5", "'oops'"));
    snprintf(args, sizeof(args), "eval --model '%s/m.iae' --data '%s/bad.csv'", dir, dir);
    expect(args, 1, NEEDLES("bad.csv", "line 5"));

    /* A header without a trained column. */
    snprintf(cmd, sizeof(cmd), "sed '1s/f3/g3/' '%s' | '%s' score --threads 1 --model '%s/m.iae' --stream > /dev/null", part, cli,
             dir);
    assert_int_equal(run_shell(cmd, &text), 1);
    expect_in(text, "'f3'", "stream header error");

    /* An image given to a CSV model is named as such, not parsed as CSV. */
    const uint8_t gray[4] = {0, 64, 128, 255};
    char png[1024];
    snprintf(png, sizeof(png), "%s/image.png", dir);
    synth_write_png(png, 2, 2, 8, PNG_COLOR_TYPE_GRAY, gray, NULL, 0);
    snprintf(args, sizeof(args), "score --threads 1 --model '%s/m.iae' '%s'", dir, png);
    expect(args, 1, NEEDLES("image.png", "PNG or PGM image", "CSV"));
}

/* Read one line from fd within timeout_ms into buf; 0 on timeout. */
static int read_line_within(int fd, char *buf, size_t size, int timeout_ms) {
    size_t n = 0;
    while (n + 1 < size) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0) return 0;
        ssize_t k = read(fd, buf + n, 1);
        if (k <= 0) return 0;
        if (buf[n++] == '\n') break;
    }
    buf[n] = 0;
    return 1;
}

/* The stream writes the score of each row while its input is still open. */
static void csv_stream_flushes_each_line(void **state) {
    const char *dir = tu_tmpdir("ds-csv-live");
    const char *csv = tu_path(dir, "wtbi.csv");
    synth_write_wtbi_csv(csv, CSV_NORMAL, CSV_ANOMALOUS, CSV_FEATURES);
    char args[4096];
    snprintf(args, sizeof(args),
             "train --dataset csv-windows --data '%s' --drop-columns time,group --model dcae-svdd --batch-size 16 "
             "--pretrain-epochs 0 --epochs 0 --threads 1 --out '%s/m.iae' --quiet",
             csv, dir);
    expect(args, 0, NULL);
    char model[1024];
    snprintf(model, sizeof(model), "%s/m.iae", dir);

    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0), dup2(out[1], 1);
        close(in[1]), close(out[0]);
        execl(cli, "iae", "score", "--threads", "1", "--model", model, "--stream", (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    FILE *rows = fopen(csv, "r");
    char line[1024], answer[1024];
    /* Header and the rows of the first window, then one row at a time. */
    for (int i = 0; i <= CSV_FEATURES; i++) {
        assert_non_null(fgets(line, sizeof(line), rows));
        assert_true(write(in[1], line, strlen(line)) == (ssize_t)strlen(line));
    }
    assert_true(read_line_within(out[0], answer, sizeof(answer), 20000)); /* the output header */
    assert_true(read_line_within(out[0], answer, sizeof(answer), 20000));
    assert_int_equal(strncmp(answer, "8,", 2), 0);
    assert_non_null(fgets(line, sizeof(line), rows));
    assert_true(write(in[1], line, strlen(line)) == (ssize_t)strlen(line));
    assert_true(read_line_within(out[0], answer, sizeof(answer), 20000));
    assert_int_equal(strncmp(answer, "9,", 2), 0);
    fclose(rows);
    close(in[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    close(out[0]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ------------------------------------------------------------------------ */

static void folder_train_eval_score(void **state) {
    const char *dir = tu_tmpdir("ds-folder");
    char train[1024], normal[1024], anomalous[1024];
    snprintf(train, sizeof(train), "%s/train", dir);
    snprintf(normal, sizeof(normal), "%s/normal", dir);
    snprintf(anomalous, sizeof(anomalous), "%s/anomalous", dir);
    synth_write_png_folder(train, 20, 0, 30, 40, 0);
    synth_write_png_folder(normal, 6, 0, 30, 40, 50);
    synth_write_png_folder(anomalous, 6, 1, 30, 40, 70);
    char args[4096];
    snprintf(args, sizeof(args),
             "--dataset folder --train '%s' --test-normal '%s' --test-anomalous '%s' --image-size 32 --channels 3 "
             "--batch-size 8",
             train, normal, anomalous);
    char *json = train_then_eval(dir, args, "");
    expect_in(json, "\"dataset\": \"folder\"", "train metrics");
    expect_in(json, "\"test_samples\": 12", "train metrics");
    expect_in(json, "\"test_anomalous\": 6", "train metrics");
    free(json);

    /* eval on other test folders given on the command line. */
    snprintf(args, sizeof(args), "eval --model '%s/m.iae' --test-normal '%s' --test-anomalous '%s' --threads 1 --quiet", dir,
             train, anomalous);
    expect(args, 0, NULL);
    snprintf(args, sizeof(args), "eval --model '%s/m.iae' --data '%s'", dir, train);
    expect(args, 2, NEEDLES("--test-normal"));

    char cmd[4096];
    const char *text;
    snprintf(cmd, sizeof(cmd), "'%s' score --threads 1 --model '%s/m.iae' '%s/img001.png' - < '%s/img002.png'", cli, dir,
             anomalous, anomalous);
    if (run_shell(cmd, &text) != 0) fail_msg("score failed: %s", text);
    expect_in(text, "img001.png,0,", "score output");
    expect_in(text, "\n-,0,", "score output");
}

/* ------------------------------------------------------------------------ */

static void option_errors(void **state) {
    const char *d = tu_tmpdir("ds-options");
    char args[4096];
    expect("train --dataset folder --test-normal a --test-anomalous b", 2, NEEDLES("--train"));
    expect("train --dataset folder --train a --test-anomalous b", 2, NEEDLES("--test-normal"));
    expect("train --dataset cifar10 --normal-class 1", 2, NEEDLES("--data"));
    expect("train --dataset cifar10 --data x", 2, NEEDLES("--normal-class is required"));
    expect("train --dataset csv-windows", 2, NEEDLES("--data", "CSV"));
    expect("train --dataset imagenet", 2, NEEDLES("'imagenet'", "csv-windows", "folder"));
    expect("train --dataset cifar10 --data x --normal-class 1 --window 4", 2, NEEDLES("--window", "csv-windows"));
    expect("train --dataset csv-windows --data x --normal-class 1", 2, NEEDLES("--normal-class"));
    expect("train --normal-class 1 --category bottle", 2, NEEDLES("--category", "mvtec"));
    expect("train --dataset folder --train a --test-normal b --test-anomalous c --image-size 48", 2,
           NEEDLES("'48'", "--image-size"));
    expect("train --dataset folder --train a --test-normal b --test-anomalous c --image-size 64 --channels 1", 2,
           NEEDLES("--channels 3"));
    expect("train --dataset folder --train a --test-normal b --test-anomalous c --data d", 2, NEEDLES("--data"));
    expect("train --dataset csv-windows --data x --window 40", 2, NEEDLES("'40'", "--window"));
    expect("train --dataset csv-windows --data x --contamination 0.1", 2, NEEDLES("--contamination"));
    snprintf(args, sizeof(args), "train --dataset cifar10 --data '%s' --normal-class 1 --maps '%s/m'", d, d);
    expect(args, 2, NEEDLES("--maps", "mvtec"));
    expect("train --dataset folder --train /nonexistent/t --test-normal b --test-anomalous c", 1,
           NEEDLES("/nonexistent/t"));
}

/* Break a copy of a generated data set with a shell edit, then train. */
static void expect_broken(const char *name, const char *setup, const char *train_args, const char *const *needles) {
    const char *dir = tu_tmpdir(name);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "cd '%s' && %s", dir, setup);
    if (system(cmd) != 0) fail_msg("setup failed: %s", cmd);
    char args[4096];
    snprintf(args, sizeof(args), "train %s --batch-size 4 --pretrain-epochs 0 --epochs 0 --threads 1 --quiet", train_args);
    char with_dir[8192];
    /* train_args name files relative to dir. */
    snprintf(with_dir, sizeof(with_dir), "cd '%s' && '%s' %s", dir, cli, args);
    const char *text;
    int rc = run_shell(with_dir, &text);
    if (rc != 1) fail_msg("'%s' exited %d, expected 1: %s", with_dir, rc, text);
    for (int i = 0; needles[i]; i++)
        if (strstr(text, needles[i]) == NULL) fail_msg("'%s': output lacks '%s': %s", with_dir, needles[i], text);
}

static void malformed_files(void **state) {
    /* CIFAR-10: a batch cut mid-record. */
    const char *cifar = tu_tmpdir("ds-bad-cifar-src");
    synth_write_cifar10(cifar, 4, 20);
    char setup[4096];
    snprintf(setup, sizeof(setup), "cp '%s'/* . && truncate -s 5000 data_batch_2.bin", cifar);
    expect_broken("ds-bad-cifar", setup, "--dataset cifar10 --data . --normal-class 0",
                  NEEDLES("data_batch_2.bin", "3073"));

    /* MVTec AD: a training image that is not a PNG. */
    const char *mvtec = tu_tmpdir("ds-bad-mvtec-src");
    synth_write_mvtec(mvtec, "grid", 4, 2, 2, 20, 20);
    snprintf(setup, sizeof(setup), "cp -r '%s'/grid . && echo garbage > grid/train/good/001.png", mvtec);
    expect_broken("ds-bad-mvtec", setup, "--dataset mvtec --data . --category grid --model cae",
                  NEEDLES("001.png"));

    /* CSV: a row with a missing field. */
    snprintf(setup, sizeof(setup), "printf 'a,b,frozen\\n1,2,0\\n3,0\\n' > w.csv");
    expect_broken("ds-bad-csv", setup, "--dataset csv-windows --data w.csv", NEEDLES("w.csv", "line 3"));

    /* Folder: an empty training folder. */
    const char *png = tu_tmpdir("ds-bad-folder-src");
    synth_write_png_folder(png, 3, 0, 10, 10, 0);
    snprintf(setup, sizeof(setup), "mkdir -p empty && cp -r '%s' normal && cp -r '%s' anomalous", png, png);
    expect_broken("ds-bad-folder", setup, "--dataset folder --train empty --test-normal normal --test-anomalous "
                                          "anomalous",
                  NEEDLES("empty"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(option_errors),
        cmocka_unit_test(malformed_files),
        cmocka_unit_test(cifar10_train_eval_score),
        cmocka_unit_test(mvtec_train_eval_maps),
        cmocka_unit_test(csv_train_eval_score),
        cmocka_unit_test(csv_stream_flushes_each_line),
        cmocka_unit_test(folder_train_eval_score),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
