/*
 * Command-line tests. Every bad input gives one message naming the value and
 * the fix, a non-zero exit and no crash. A small run writes metrics and a
 * model that 'iae eval' reads back to the same AUROCs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "synthetic.h"
#include "testutil.h"

static const char *data_dir;

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Run iae with args and check the exit code and that stderr contains each
 * needle (NULL-terminated list). */
static void expect(const char *args, int want_rc, const char *const *needles) {
    const char *err = NULL;
    int rc = tu_run_cli(args, &err);
    if (rc >= 128) fail_msg("'iae %s' crashed (status %d): %s", args, rc, err);
    if (rc != want_rc) fail_msg("'iae %s' exited %d, expected %d; stderr: %s", args, rc, want_rc, err);
    for (int i = 0; needles && needles[i]; i++)
        if (strstr(err, needles[i]) == NULL) fail_msg("'iae %s': stderr lacks '%s': %s", args, needles[i], err);
}

#define NEEDLES(...) ((const char *const[]){__VA_ARGS__, NULL})

static int setup(void **state) {
    data_dir = tu_tmpdir("cli-data");
    synth_write_fmnist(data_dir, 16, 40, 0);
    return 0;
}

static void test_bad_option_values(void **state) {
    expect("train --normal-class 0 --epochs -1", 2, NEEDLES("'-1'", "--epochs", "0 to"));
    expect("train --normal-class 0 --lr abc", 2, NEEDLES("'abc'", "--lr"));
    expect("train --normal-class 0 --batch-size 1", 2, NEEDLES("--batch-size", "2 to"));
    expect("train --normal-class 10", 2, NEEDLES("'10'", "--normal-class", "0 to 9"));
    expect("train --normal-class x", 2, NEEDLES("'x'", "--normal-class"));
    expect("train --normal-class 0 --seed -3", 2, NEEDLES("'-3'", "--seed"));
    expect("train --normal-class 0 --threads 0", 2, NEEDLES("--threads"));
    expect("train --normal-class 0 --kl-weight 1e400", 2, NEEDLES("--kl-weight"));
    expect("train --normal-class 0 --kl-form weird", 2, NEEDLES("'weird'", "log-softmax"));
    expect("train --normal-class 0 --dataset cifar", 2, NEEDLES("'cifar'", "fashion-mnist"));
    expect("train --normal-class 0 --bogus", 2, NEEDLES("unknown option '--bogus'", "--help"));
    expect("train --normal-class 0 --epochs", 2, NEEDLES("--epochs", "needs a value"));
    expect("train", 2, NEEDLES("--normal-class is required"));
    expect("train --normal-class 0 stray", 2, NEEDLES("unexpected argument 'stray'"));
    expect("frobnicate", 2, NEEDLES("unknown command 'frobnicate'"));
    expect("eval", 2, NEEDLES("--model is required"));
}

/* Copy the synthetic set to a new folder and apply a shell edit to it. */
static const char *broken_copy(const char *name, const char *edit) {
    const char *dir = tu_tmpdir(name);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "cp '%s'/* '%s'/ && cd '%s' && %s", data_dir, dir, dir, edit);
    if (system(cmd) != 0) fail_msg("setup command failed: %s", cmd);
    return dir;
}

/* Run a shell command line and return its exit status (128 + signal when
 * killed), with its stderr in *err. */
static int run_shell(const char *cmd, const char **err) {
    static char out[16384];
    char full[8192];
    snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (p == NULL) fail_msg("cannot run %s", cmd);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    int status = pclose(p);
    *err = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_repeated_and_stray_arguments(void **state) {
    expect("train --normal-class 0 --normal-class 1", 2, NEEDLES("--normal-class", "more than once"));
    expect("train --normal-class 0 --seed 1 --seed 2", 2, NEEDLES("--seed", "more than once"));
    expect("eval --model a --model b", 2, NEEDLES("--model", "more than once"));
    expect("", 2, NEEDLES("missing command"));
    expect("--version extra", 2, NEEDLES("'extra'"));
    expect("train --normal-class 0 --data ''", 2, NEEDLES("--data", "empty"));
    expect("train --normal-class 0 --epochs ' 3'", 2, NEEDLES("--epochs"));
    expect("train --normal-class 0 --mse-weight 0x10", 2, NEEDLES("'0x10'", "--mse-weight"));
}

/* Bad output paths fail at once, before any training. */
static void test_bad_outputs_rejected_before_training(void **state) {
    const char *dir = tu_tmpdir("cli-outputs");
    char args[4096], fifo[1024];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    const struct {
        const char *opts;
        const char *needle;
    } cases[] = {
        {"--out '%s'", "is a directory"},
        {"--out '%s/missing/m.iae'", "does not exist"},
        {"--out '%s/fifo'", "FIFO"},
        {"--metrics '%s/fifo'", "FIFO"},
        {"--out '%s/same' --metrics '%s/same'", "same file"},
        {"--out ''%s", "empty"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char opts[2048];
        snprintf(opts, sizeof(opts), cases[i].opts, dir, dir);
        if (strstr(cases[i].opts, "''")) snprintf(opts, sizeof(opts), "--out ''");
        snprintf(args, sizeof(args), "train --normal-class 1 --batch-size 4 --data '%s' %s --quiet", data_dir, opts);
        double t0 = iae_now_s();
        expect(args, 2, NEEDLES(cases[i].needle));
        assert_true(iae_now_s() - t0 < 5.0); /* no training happened */
    }
    snprintf(args, sizeof(args), "train --normal-class 1 --data '%s' --metrics '%s/t10k-labels-idx1-ubyte' --quiet",
             data_dir, data_dir);
    expect(args, 2, NEEDLES("input data file"));
}

static void test_symlink_output_followed(void **state) {
    const char *dir = tu_tmpdir("cli-symlink");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && echo old > real.json && ln -s real.json link.json && '%s' train --data '%s' --normal-class 1 "
             "--pretrain-epochs 0 --epochs 0 --batch-size 8 --metrics link.json --quiet --threads 1 && test -L "
             "link.json && grep -q auroc real.json",
             dir, getenv("IAE_CLI"), data_dir);
    const char *err;
    int rc = run_shell(cmd, &err);
    if (rc != 0) fail_msg("symlink output: %s", err);
}

static void test_single_class_test_set(void **state) {
    const char *dir = broken_copy("cli-oneclass", "printf '\\000\\000\\010\\001\\000\\000\\000\\050' > "
                                                 "t10k-labels-idx1-ubyte && head -c 40 /dev/zero >> "
                                                 "t10k-labels-idx1-ubyte");
    char args[2048];
    snprintf(args, sizeof(args), "train --normal-class 0 --batch-size 4 --data '%s' --quiet", dir);
    expect(args, 1, NEEDLES("AUROC needs both"));
}

static void test_stdout_failure_reported(void **state) {
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' --help > /dev/full", getenv("IAE_CLI"));
    const char *err;
    int rc = run_shell(cmd, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "standard output"));
}

/* SIGTERM during a model save removes the temporary file. */
static void test_interrupted_save_cleans_up(void **state) {
    const char *dir = tu_tmpdir("cli-sigterm");
    for (int attempt = 0; attempt < 5; attempt++) {
        char out[1024];
        snprintf(out, sizeof(out), "%s/m.iae", dir);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1), dup2(null, 2);
            execl(getenv("IAE_CLI"), "iae", "train", "--data", data_dir, "--normal-class", "1", "--pretrain-epochs",
                  "0", "--epochs", "0", "--batch-size", "8", "--quiet", "--out", out, (char *)NULL);
            _exit(127);
        }
        char tmp[1100];
        snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", out, (long)pid);
        int caught = 0;
        struct stat sb;
        for (int i = 0; i < 200000 && !caught; i++) {
            if (stat(tmp, &sb) == 0 && sb.st_size > 0) caught = 1;
            else nanosleep(&(struct timespec){0, 100000}, NULL);
            if (waitpid(pid, NULL, WNOHANG) == pid) break;
        }
        if (!caught) continue; /* the save finished first; try again */
        kill(pid, SIGTERM);
        int status = 0;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGTERM);
        assert_int_equal(stat(tmp, &sb), -1);
        return;
    }
    fail_msg("never caught the save in progress in 5 attempts");
}

static void test_missing_data_directory(void **state) {
    expect("train --normal-class 0 --data /nonexistent/fmnist --quiet", 1,
           NEEDLES("/nonexistent/fmnist", "not found", "--data"));
}

static void run_broken(const char *name, const char *edit, const char *const *needles) {
    const char *dir = broken_copy(name, edit);
    char args[2048];
    snprintf(args, sizeof(args), "train --normal-class 1 --batch-size 4 --data '%s' --quiet", dir);
    expect(args, 1, needles);
}

static void test_malformed_data_files(void **state) {
    run_broken("cli-truncated", "truncate -s 5000 train-images-idx3-ubyte",
               NEEDLES("train-images-idx3-ubyte", "truncated"));
    run_broken("cli-magic", "printf '\\001' | dd of=train-images-idx3-ubyte bs=1 seek=0 conv=notrunc 2>/dev/null",
               NEEDLES("train-images-idx3-ubyte"));
    run_broken("cli-count", "truncate -s 38 t10k-labels-idx1-ubyte && printf '\\000\\000\\000\\036' | "
                            "dd of=t10k-labels-idx1-ubyte bs=1 seek=4 conv=notrunc 2>/dev/null",
               NEEDLES("t10k-labels-idx1-ubyte", "30", "40"));
    run_broken("cli-missing", "rm t10k-images-idx3-ubyte", NEEDLES("t10k-images-idx3-ubyte"));
}

static void test_train_then_eval(void **state) {
    const char *out = tu_tmpdir("cli-run");
    char args[4096];
    snprintf(args, sizeof(args),
             "train --data '%s' --normal-class 2 --pretrain-epochs 1 --epochs 1 --batch-size 8 --seed 3 "
             "--metrics '%s/m.json' --out '%s/m.iae' --quiet",
             data_dir, out, out);
    expect(args, 0, NULL);
    char *json = strdup(read_text(tu_path(out, "m.json")));
    const char *keys[] = {"\"dataset\": \"fashion-mnist\"", "\"normal_class\": 2", "\"model\": \"iae-lstm-kl\"",
                          "\"seed\": 3", "\"epochs\": 1", "\"pretrain_epochs\": 1", "\"batch_size\": 8",
                          "\"train_samples\": 16", "\"test_samples\": 40", "\"seconds\"", "\"auroc\"",
                          "\"svdd\"", "\"mse\"", "\"svdd_mse\"", "\"l1_svdd\"", "\"l1_mse\"", "\"history\""};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strstr(json, keys[i]) == NULL) fail_msg("m.json lacks %s:\n%s", keys[i], json);

    snprintf(args, sizeof(args), "eval --model '%s/m.iae' --data '%s' --metrics '%s/e.json' --quiet", out, data_dir,
             out);
    expect(args, 0, NULL);
    const char *eval_json = read_text(tu_path(out, "e.json"));
    /* Batch context with the training batch size reproduces train's scores
     * (the top-level "auroc" object, the last line of both files). */
    const char *a = strstr(json, "\n  \"auroc\""), *b = strstr(eval_json, "\n  \"auroc\"");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(json);

    snprintf(args, sizeof(args), "eval --model '%s/m.json' --data '%s'", out, data_dir);
    expect(args, 1, NEEDLES("m.json", "not an iae model file"));
    snprintf(args, sizeof(args), "eval --model '%s/none.iae' --data '%s'", out, data_dir);
    expect(args, 1, NEEDLES("none.iae", "not found"));
}

/* Write image k of the synthetic test set as a binary PGM. */
static void write_pgm_from_idx(const char *idx_path, int k, const char *pgm_path, int width) {
    FILE *f = fopen(idx_path, "rb");
    assert_non_null(f);
    unsigned char img[784];
    fseek(f, 16 + 784L * k, SEEK_SET);
    assert_int_equal(fread(img, 1, 784, f), 784);
    fclose(f);
    FILE *o = fopen(pgm_path, "wb");
    fprintf(o, "P5\n# test image\n%d 28\n255\n", width);
    for (int y = 0; y < 28; y++) fwrite(img + y * 28, 1, (size_t)width, o);
    fclose(o);
}

static void test_score_command(void **state) {
    const char *out = tu_tmpdir("cli-score");
    const char *cli = getenv("IAE_CLI");
    char cmd[8192];
    const char *err;
    snprintf(cmd, sizeof(cmd),
             "'%s' train --data '%s' --normal-class 2 --pretrain-epochs 1 --epochs 1 --batch-size 8 "
             "--validation-fraction 0.25 --out '%s/m.iae' --quiet",
             cli, data_dir, out);
    if (run_shell(cmd, &err) != 0) fail_msg("training failed: %s", err);
    char idx[1024], pgm[1024];
    snprintf(idx, sizeof(idx), "%s/t10k-images-idx3-ubyte", data_dir);
    snprintf(pgm, sizeof(pgm), "%s/img5.pgm", out);
    write_pgm_from_idx(idx, 5, pgm, 28);

    /* The whole IDX file: a header and 40 rows, with decisions. */
    snprintf(cmd, sizeof(cmd), "'%s' score --model '%s/m.iae' '%s' --out '%s/all.csv'", cli, out, idx, out);
    if (run_shell(cmd, &err) != 0) fail_msg("score failed: %s", err);
    char *csv = strdup(read_text(tu_path(out, "all.csv")));
    assert_non_null(strstr(csv, "input,index,svdd,mse,l1_svdd,l1_mse,combined,anomalous\n"));
    int lines = 0;
    for (char *p = csv; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 41);

    /* Row 5 equals the score of the same image alone (memory context), read
     * from a PGM file and from standard input. */
    char *row5 = strstr(csv, ",5,");
    assert_non_null(row5);
    char *end5 = strchr(row5, '\n');
    *end5 = 0;
    snprintf(cmd, sizeof(cmd), "'%s' score --model '%s/m.iae' '%s' > '%s/one.csv' && cat '%s' | '%s' score --model "
             "'%s/m.iae' - > '%s/stdin.csv'", cli, out, pgm, out, pgm, cli, out, out);
    if (run_shell(cmd, &err) != 0) fail_msg("scoring one image failed: %s", err);
    const char *one = read_text(tu_path(out, "one.csv"));
    const char *row = strstr(one, ",0,");
    assert_non_null(row);
    assert_int_equal(strncmp(row + 3, row5 + 3, strlen(row5 + 3)), 0);
    const char *in = read_text(tu_path(out, "stdin.csv"));
    assert_non_null(strstr(in, "\n-,0,"));
    assert_non_null(strstr(in, row5 + 3));

    /* JSON output. */
    snprintf(cmd, sizeof(cmd), "'%s' score --model '%s/m.iae' --format json --lstm-context none '%s'", cli, out, pgm);
    if (run_shell(cmd, &err) != 0) fail_msg("json: %s", err);
    assert_non_null(strstr(err, "\"index\": 0, \"svdd\": "));
    assert_non_null(strstr(err, "\"anomalous\": "));
    free(csv);

    /* Bad inputs. */
    char args[4096];
    snprintf(pgm, sizeof(pgm), "%s/narrow.pgm", out);
    write_pgm_from_idx(idx, 0, pgm, 27);
    snprintf(args, sizeof(args), "score --model '%s/m.iae' '%s'", out, pgm);
    expect(args, 1, NEEDLES("narrow.pgm", "28x28"));
    snprintf(args, sizeof(args), "score --model '%s/m.iae' '%s/m.iae'", out, out);
    expect(args, 1, NEEDLES("m.iae"));
    snprintf(args, sizeof(args), "score --model '%s/m.iae'", out);
    expect(args, 2, NEEDLES("no input"));
    snprintf(args, sizeof(args), "score --model '%s/m.iae' - -", out);
    expect(args, 2, NEEDLES("only once"));
    snprintf(args, sizeof(args), "score --model '%s/m.iae' --lstm-context sideways x", out);
    expect(args, 2, NEEDLES("'sideways'"));
}

/* Kill a run once its first checkpoint exists, resume it, and compare the
 * final model with an uninterrupted run's, byte for byte. */
static void test_resume_after_kill(void **state) {
    const char *out = tu_tmpdir("cli-resume");
    const char *cli = getenv("IAE_CLI");
    char cmd[8192], ckpt[1024], b_path[1024];
    const char *err;
    const char *common = "--normal-class 3 --pretrain-epochs 2 --epochs 3 --batch-size 8 --seed 9 --threads 2 --quiet";
    snprintf(cmd, sizeof(cmd), "'%s' train --data '%s' %s --out '%s/a.iae'", cli, data_dir, common, out);
    if (run_shell(cmd, &err) != 0) fail_msg("uninterrupted run failed: %s", err);

    snprintf(b_path, sizeof(b_path), "%s/b.iae", out);
    snprintf(ckpt, sizeof(ckpt), "%s/b.iae.ckpt", out);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1), dup2(null, 2);
        execl(cli, "iae", "train", "--data", data_dir, "--normal-class", "3", "--pretrain-epochs", "2", "--epochs", "3",
              "--batch-size", "8", "--seed", "9", "--threads", "2", "--quiet", "--checkpoint-every", "1", "--out",
              b_path, (char *)NULL);
        _exit(127);
    }
    struct stat sb;
    for (int i = 0; i < 600000 && stat(ckpt, &sb) != 0; i++) nanosleep(&(struct timespec){0, 100000}, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(stat(ckpt, &sb), 0);

    snprintf(cmd, sizeof(cmd), "'%s' train --data '%s' --resume '%s' --threads 2 --quiet --out '%s' && cmp '%s/a.iae' '%s'",
             cli, data_dir, ckpt, b_path, out, b_path);
    if (run_shell(cmd, &err) != 0) fail_msg("resumed model differs or resume failed: %s", err);

    /* Settings are fixed by the checkpoint. */
    char args[4096];
    snprintf(args, sizeof(args), "train --data '%s' --resume '%s' --epochs 5", data_dir, ckpt);
    expect(args, 2, NEEDLES("--resume", "--epochs"));
    snprintf(args, sizeof(args), "train --data '%s' --resume '%s/a.iae'", data_dir, out);
    expect(args, 1, NEEDLES("not an iae checkpoint"));
}

static void test_help_lists_every_option(void **state) {
    const char *cli = getenv("IAE_CLI");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' train --help", cli);
    FILE *p = popen(cmd, "r");
    static char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, p);
    text[n] = 0;
    assert_int_equal(pclose(p), 0);
    const char *opts[] = {"--dataset", "--data", "--normal-class", "--pretrain-epochs", "--epochs",
                          "--batch-size", "--lr", "--weight-decay", "--mse-weight", "--kl-weight",
                          "--seed", "--threads", "--out", "--metrics", "--quiet", "--reference-normalization"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strstr(text, opts[i]) == NULL) fail_msg("train --help lacks %s", opts[i]);
    assert_non_null(strstr(text, "default"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_option_values),
        cmocka_unit_test(test_missing_data_directory),
        cmocka_unit_test(test_repeated_and_stray_arguments),
        cmocka_unit_test(test_bad_outputs_rejected_before_training),
        cmocka_unit_test(test_symlink_output_followed),
        cmocka_unit_test(test_single_class_test_set),
        cmocka_unit_test(test_stdout_failure_reported),
        cmocka_unit_test(test_interrupted_save_cleans_up),
        cmocka_unit_test(test_malformed_data_files),
        cmocka_unit_test(test_train_then_eval),
        cmocka_unit_test(test_help_lists_every_option),
        cmocka_unit_test(test_score_command),
        cmocka_unit_test(test_resume_after_kill),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
