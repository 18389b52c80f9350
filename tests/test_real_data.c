/*
 * The main job on the installed Fashion-MNIST (dataset-fashion-mnist): one
 * pre-training and one training epoch of class 0 through the command line,
 * checking the split sizes and metrics keys and that the model learned
 * something. Skipped when the data set is not installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#define REAL_DIR "/usr/share/datasets/fashion-mnist"

static double json_number(const char *json, const char *key) {
    const char *p = strstr(json, key);
    if (p == NULL) fail_msg("metrics lack %s:\n%s", key, json);
    p = strchr(p + strlen(key), ':');
    assert_non_null(p);
    return atof(p + 1);
}

static void test_class0_one_epoch(void **state) {
    struct stat sb;
    if (stat(REAL_DIR "/train-images-idx3-ubyte.gz", &sb) != 0) {
        print_message("Fashion-MNIST not installed under " REAL_DIR "; skipping\n");
        skip();
    }
    const char *out = tu_tmpdir("real-data");
    char args[2048];
    snprintf(args, sizeof(args),
             "train --dataset fashion-mnist --normal-class 0 --pretrain-epochs 1 --epochs 1 --metrics '%s/m.json' "
             "--quiet",
             out);
    const char *err = NULL;
    int rc = tu_run_cli(args, &err);
    if (rc != 0) fail_msg("iae %s exited %d: %s", args, rc, err);

    FILE *f = fopen(tu_path(out, "m.json"), "r");
    assert_non_null(f);
    static char json[1 << 16];
    json[fread(json, 1, sizeof(json) - 1, f)] = 0;
    fclose(f);
    assert_int_equal((int)json_number(json, "\"train_samples\""), 6000);
    assert_int_equal((int)json_number(json, "\"test_samples\""), 10000);
    assert_int_equal((int)json_number(json, "\"test_anomalous\""), 9000);
    assert_int_equal((int)json_number(json, "\"normal_class\""), 0);
    assert_int_equal((int)json_number(json, "\"epochs\""), 1);
    assert_int_equal((int)json_number(json, "\"pretrain_epochs\""), 1);
    assert_int_equal((int)json_number(json, "\"batch_size\""), 64);
    assert_true(json_number(json, "\"seconds\"") > 0);
    /* After one epoch of each phase class 0 reaches about 0.8; chance is 0.5. */
    const char *auroc = strstr(json, "\"auroc\"");
    assert_non_null(auroc);
    assert_true(json_number(auroc, "\"svdd\"") > 0.65);
    assert_true(json_number(auroc, "\"mse\"") > 0.65);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class0_one_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
