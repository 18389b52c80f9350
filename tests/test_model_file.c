/*
 * Model file tests: round trip, and rejection of truncated, corrupted,
 * newer-version, foreign and NaN-carrying files, each with its message.
 * A save killed halfway must leave the previous file intact.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "io/model_file.h"
#include "testutil.h"

static iae_detector *make_detector(iae_ctx *ctx, int lstm, uint64_t seed) {
    iae_detector_info info = {0};
    info.net = iae_lenet_config(1, lstm, 1);
    info.model = lstm ? IAE_MODEL_IAE_LSTM_KL : IAE_MODEL_DCAE_SVDD;
    snprintf(info.dataset, sizeof(info.dataset), "fashion-mnist");
    info.normal_class = 4;
    info.norm_min = -1.5f, info.norm_max = 20.25f;
    info.nu = 0.1f, info.w_mse = 4.066855f, info.w_kl = 0.001733f;
    info.seed = seed, info.batch_size = 16, info.epochs = 3, info.pretrain_epochs = 2;
    info.lr = 1e-4f, info.weight_decay = 5e-7f, info.bn_train_mode = 1, info.train_samples = 6000;
    iae_detector *d = NULL;
    assert_int_equal(iae_detector_create(ctx, &info, 16, &d), IAE_OK);
    iae_rng rng;
    iae_rng_seed(&rng, seed, 2);
    assert_int_equal(iae_net_init_params(ctx, d->net, &rng), IAE_OK);
    for (long i = 0; i < d->net->n_buffer_floats; i++) d->net->buffer[i] = 0.25f * (float)(i % 5);
    for (int j = 0; j < 128; j++) d->center[j] = 0.1f * (float)(j % 7) - 0.3f;
    return d;
}

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*size);
    assert_int_equal(fread(buf, 1, *size, f), *size);
    fclose(f);
    return buf;
}

/* Store the CRC of everything before the last four bytes. */
static void fix_crc(unsigned char *buf, size_t size) {
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(size - 4));
    for (int i = 0; i < 4; i++) buf[size - 4 + i] = (unsigned char)(crc >> (8 * i));
}

static void expect_reject(iae_ctx *ctx, const char *path, const char *needle) {
    iae_detector *d = NULL;
    iae_status st = iae_model_load(ctx, path, 0, &d);
    if (st == IAE_OK) fail_msg("loading %s succeeded; expected an error containing '%s'", path, needle);
    assert_null(d);
    if (strstr(ctx->error, needle) == NULL) fail_msg("message '%s' lacks '%s'", ctx->error, needle);
    if (strstr(ctx->error, path) == NULL) fail_msg("message '%s' does not name the file", ctx->error);
}

static const char *saved_model(iae_ctx *ctx, const char *name, iae_detector **keep) {
    const char *path = tu_path(tu_tmpdir(name), "model.iae");
    iae_detector *d = make_detector(ctx, 0, 7);
    assert_int_equal(iae_model_save(ctx, d, path), IAE_OK);
    if (keep)
        *keep = d;
    else
        iae_detector_free(d);
    return path;
}

static void test_round_trip(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    iae_detector *d = NULL;
    const char *path = saved_model(&ctx, "mf-roundtrip", &d);
    iae_detector *e = NULL;
    if (iae_model_load(&ctx, path, 0, &e) != IAE_OK) fail_msg("%s", ctx.error);
    assert_memory_equal(d->net->param, e->net->param, sizeof(float) * d->net->n_param_floats);
    assert_memory_equal(d->net->buffer, e->net->buffer, sizeof(float) * d->net->n_buffer_floats);
    assert_memory_equal(d->center, e->center, sizeof(float) * 128);
    assert_int_equal(e->info.normal_class, 4);
    assert_int_equal(e->info.net.use_lstm, 0);
    assert_int_equal(e->info.batch_size, 16);
    assert_int_equal(e->info.train_samples, 6000);
    assert_float_equal(e->info.w_mse, 4.066855f, 0);
    assert_float_equal(e->info.norm_max, 20.25f, 0);
    assert_string_equal(e->info.dataset, "fashion-mnist");
    iae_detector_free(d), iae_detector_free(e);
}

static void test_truncated_files_rejected(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    const char *path = saved_model(&ctx, "mf-truncated", NULL);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    const size_t cuts[] = {0, 5, 8, 12, 19, 40, 300, size / 2, size - 5, size - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        tu_write_file(path, buf, cuts[i]);
        expect_reject(&ctx, path, "truncated");
    }
    free(buf);
}

static void test_flipped_byte_rejected(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    const char *path = saved_model(&ctx, "mf-flip", NULL);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    const size_t at[] = {30, size / 3, size - 6};
    for (int i = 0; i < 3; i++) {
        buf[at[i]] ^= 0x10;
        tu_write_file(path, buf, size);
        expect_reject(&ctx, path, "CRC-32 mismatch");
        buf[at[i]] ^= 0x10;
    }
    free(buf);
}

static void test_newer_version_rejected(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    const char *path = saved_model(&ctx, "mf-version", NULL);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    buf[8] = 99;
    fix_crc(buf, size);
    tu_write_file(path, buf, size);
    expect_reject(&ctx, path, "format version 99");
    assert_non_null(strstr(ctx.error, "upgrade iae"));
    free(buf);
}

static void test_foreign_file_rejected(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    const char *dir = tu_tmpdir("mf-foreign");
    const char *path = tu_path(dir, "notes.txt");
    const char text[] = "this is not a model file at all\n";
    tu_write_file(path, text, sizeof(text));
    expect_reject(&ctx, path, "not an iae model file");
    expect_reject(&ctx, dir, "is a directory");
    expect_reject(&ctx, tu_path(dir, "missing.iae"), "not found");
}

static void test_nan_weight_rejected(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    const char *path = tu_path(tu_tmpdir("mf-nan"), "model.iae");
    iae_detector *d = make_detector(&ctx, 0, 7);
    int i = iae_net_find_param(d->net, "deconv2.weight");
    d->net->param[d->net->params[i].offset + 17] = NAN;
    assert_int_equal(iae_model_save(&ctx, d, path), IAE_OK);
    expect_reject(&ctx, path, "deconv2.weight");
    assert_non_null(strstr(ctx.error, "NaN"));
    iae_detector_free(d);
}

static void replace_and_fix(unsigned char *buf, size_t size, const char *from, const char *to) {
    size_t n = strlen(from);
    assert_int_equal(n, strlen(to));
    for (size_t i = 0; i + n < size; i++)
        if (memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            fix_crc(buf, size);
            return;
        }
    fail_msg("'%s' not found in the file", from);
}

static void test_impossible_config_rejected(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    const char *path = saved_model(&ctx, "mf-config", NULL);
    size_t size;
    unsigned char *orig = slurp(path, &size), *buf = malloc(size);

    memcpy(buf, orig, size);
    replace_and_fix(buf, size, "in_h=32", "in_h=64");
    tu_write_file(path, buf, size);
    expect_reject(&ctx, path, "impossible configuration");

    memcpy(buf, orig, size);
    replace_and_fix(buf, size, "batch_size=16", "batch_size=-6");
    tu_write_file(path, buf, size);
    expect_reject(&ctx, path, "impossible configuration");

    /* A tensor record whose shape disagrees with the configuration. */
    memcpy(buf, orig, size);
    replace_and_fix(buf, size, "use_decoder=1", "use_decoder=0");
    replace_and_fix(buf, size, "model=dcae-svdd", "model=deep-svdd");
    tu_write_file(path, buf, size);
    expect_reject(&ctx, path, "does not belong");
    free(orig), free(buf);
}

/* A process killed while saving leaves the previous file untouched. */
static void test_killed_save_keeps_previous(void **state) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 2);
    const char *dir = tu_tmpdir("mf-kill");
    char path[1024];
    snprintf(path, sizeof(path), "%s/model.iae", dir);
    iae_detector *old = make_detector(&ctx, 0, 7);
    assert_int_equal(iae_model_save(&ctx, old, path), IAE_OK);
    size_t old_size;
    unsigned char *old_bytes = slurp(path, &old_size);

    iae_detector *big = make_detector(&ctx, 1, 8); /* 137 MB with the LSTM */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;) iae_model_save(&ctx, big, path); /* killed while writing */
    }
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)pid);
    struct stat sb;
    for (int i = 0; i < 20000; i++) {
        if (stat(tmp, &sb) == 0 && sb.st_size > (1 << 20)) break;
        nanosleep(&(struct timespec){0, 500000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    size_t size;
    unsigned char *now = slurp(path, &size);
    /* Either the old file or a complete new one; never a partial file. */
    iae_detector *e = NULL;
    if (iae_model_load(&ctx, path, 0, &e) != IAE_OK) fail_msg("after the kill: %s", ctx.error);
    if (size == old_size) assert_memory_equal(now, old_bytes, size);
    iae_detector_free(e), iae_detector_free(old), iae_detector_free(big);
    unlink(tmp);
    free(now), free(old_bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated_files_rejected),
        cmocka_unit_test(test_flipped_byte_rejected),
        cmocka_unit_test(test_newer_version_rejected),
        cmocka_unit_test(test_foreign_file_rejected),
        cmocka_unit_test(test_nan_weight_rejected),
        cmocka_unit_test(test_impossible_config_rejected),
        cmocka_unit_test(test_killed_save_keeps_previous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
