/* The data-set options of train and eval (see data_options.h). */
#include "cli/data_options.h"

#include <string.h>

#include "cli/args.h"
#include "io/atomic_file.h"
#include "report/maps.h"

void cli_data_args_init(cli_data_args *a) {
    memset(a, 0, sizeof(*a));
    a->kind = -1;
    a->normal_class = -1;
    a->window = -1;
    a->stride = -1;
    a->image_size = -1;
    a->channels = -1;
}

int cli_parse_dataset(const char *text, cli_data_args *a) {
    a->kind = iae_source_kind_parse(text);
    if (a->kind < 0) {
        cli_error("unknown data set '%s' for --dataset: expected fashion-mnist, cifar10, mvtec, csv-windows or folder",
                  text);
        return 0;
    }
    return 1;
}

/* Copy text into a field of IAE_SOURCE_PATH_BYTES or IAE_SOURCE_NAME_BYTES. */
static int copy_value(const char *option, const char *text, char *field, size_t size) {
    if (text[0] == 0) {
        cli_error("%s needs a value, got an empty string", option);
        return 0;
    }
    if (strlen(text) >= size) {
        cli_error("the value of %s is %zu bytes long; the limit is %zu", option, strlen(text), size - 1);
        return 0;
    }
    strcpy(field, text);
    return 1;
}

/* Print "--option applies to --dataset KINDS; drop it" and return 0 when
 * the option was given for another kind. */
static int only_for(int given, const char *option, int kind, int allowed_a, int allowed_b, const char *kinds) {
    if (!given || kind == allowed_a || kind == allowed_b) return 1;
    cli_error("%s applies to --dataset %s, not %s; drop it", option, kinds, iae_source_kind_name((iae_source_kind)kind));
    return 0;
}

/* List the categories under root into a message when it can be read. */
static void missing_category(const char *root) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_dir_list list = {0};
    if (root == NULL || iae_mvtec_categories(&ctx, root, &list) != IAE_OK || list.n == 0) {
        cli_error("--dataset mvtec needs --category NAME or an index into the categories (the subfolders of --data "
                  "ROOT sorted by name)");
        iae_dir_list_free(&list);
        return;
    }
    char names[600] = "";
    size_t used = 0;
    for (int i = 0; i < list.n && used + 1 < sizeof(names); i++) {
        int n = snprintf(names + used, sizeof(names) - used, "%s%d %s", i ? ", " : "", i, list.entries[i]);
        if (n < 0 || (size_t)n >= sizeof(names) - used) break;
        used += (size_t)n;
    }
    cli_error("--dataset mvtec needs --category NAME or index; the categories in '%s' are %s", root, names);
    iae_dir_list_free(&list);
}

int cli_data_source_for_training(const cli_data_args *a, double contamination, uint64_t seed, iae_data_source *src) {
    const int kind = a->kind >= 0 ? a->kind : IAE_SOURCE_FASHION_MNIST;
    iae_data_source_init(src, (iae_source_kind)kind);
    src->contamination = contamination;
    src->seed = seed;
    src->reference_normalization = a->reference_normalization;

    /* Options that belong to other kinds. */
    const int mn = IAE_SOURCE_FASHION_MNIST, cf = IAE_SOURCE_CIFAR10, mv = IAE_SOURCE_MVTEC;
    const int csv = IAE_SOURCE_CSV_WINDOWS, fo = IAE_SOURCE_FOLDER;
    if (!only_for(a->normal_class >= 0, "--normal-class", kind, mn, cf, "fashion-mnist and cifar10") ||
        !only_for(a->category != NULL, "--category", kind, mv, mv, "mvtec") ||
        !only_for(a->label_column != NULL, "--label-column", kind, csv, csv, "csv-windows") ||
        !only_for(a->drop_columns != NULL, "--drop-columns", kind, csv, csv, "csv-windows") ||
        !only_for(a->window >= 0, "--window", kind, csv, csv, "csv-windows") ||
        !only_for(a->stride >= 0, "--stride", kind, csv, csv, "csv-windows") ||
        !only_for(a->train_dir != NULL, "--train", kind, fo, fo, "folder") ||
        !only_for(a->test_normal_dir != NULL, "--test-normal", kind, fo, fo, "folder") ||
        !only_for(a->test_anomalous_dir != NULL, "--test-anomalous", kind, fo, fo, "folder") ||
        !only_for(a->image_size >= 0, "--image-size", kind, fo, fo, "folder") ||
        !only_for(a->channels >= 0, "--channels", kind, fo, fo, "folder"))
        return 0;
    if (kind == fo && a->data != NULL) {
        cli_error("--dataset folder reads --train, --test-normal and --test-anomalous; drop --data");
        return 0;
    }

    /* Values. */
    if (a->data != NULL && !copy_value("--data", a->data, src->data, sizeof(src->data))) return 0;
    if ((kind == mn || kind == cf) && a->normal_class < 0) {
        cli_error("--normal-class is required: pass the class (0-9) to treat as normal");
        return 0;
    }
    if (a->normal_class >= 0) src->normal_class = (int)a->normal_class;
    if (kind == mv) {
        if (a->category == NULL) {
            missing_category(a->data);
            return 0;
        }
        long index = -1;
        const char *p = a->category;
        while (*p >= '0' && *p <= '9') p++;
        if (*p == 0 && p != a->category) {
            if (!cli_parse_int("--category", a->category, 0, 100000, &index)) return 0;
            src->normal_class = (int)index;
        } else if (!copy_value("--category", a->category, src->category, sizeof(src->category))) {
            return 0;
        }
    }
    if (a->label_column != NULL &&
        !copy_value("--label-column", a->label_column, src->label_column, sizeof(src->label_column)))
        return 0;
    if (a->drop_columns != NULL &&
        !copy_value("--drop-columns", a->drop_columns, src->drop_columns, sizeof(src->drop_columns)))
        return 0;
    if (a->window >= 0) src->window_rows = (int)a->window;
    if (a->stride >= 0) src->stride = (int)a->stride;
    if ((a->train_dir && !copy_value("--train", a->train_dir, src->train_dir, sizeof(src->train_dir))) ||
        (a->test_normal_dir &&
         !copy_value("--test-normal", a->test_normal_dir, src->test_normal_dir, sizeof(src->test_normal_dir))) ||
        (a->test_anomalous_dir && !copy_value("--test-anomalous", a->test_anomalous_dir, src->test_anomalous_dir,
                                              sizeof(src->test_anomalous_dir))))
        return 0;
    if (a->image_size >= 0) src->image_size = (int)a->image_size;
    if (a->channels >= 0) src->channels = (int)a->channels;

    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    if (iae_data_source_check(&ctx, src) != IAE_OK) {
        cli_error("%s", ctx.error);
        return 0;
    }
    return 1;
}

int cli_data_source_override(const cli_data_args *a, const char *model_path, iae_data_source *src) {
    const char *kind = iae_source_kind_name(src->kind);
    if (a->data != NULL) {
        if (src->kind == IAE_SOURCE_FOLDER) {
            cli_error("model '%s' was trained on image folders; pass --test-normal and --test-anomalous in place of "
                      "--data",
                      model_path);
            return 0;
        }
        if (!copy_value("--data", a->data, src->data, sizeof(src->data))) return 0;
    }
    if ((a->test_normal_dir || a->test_anomalous_dir) && src->kind != IAE_SOURCE_FOLDER) {
        cli_error("--test-normal and --test-anomalous apply to models trained on image folders; model '%s' was "
                  "trained on %s, so pass --data",
                  model_path, kind);
        return 0;
    }
    if ((a->test_normal_dir &&
         !copy_value("--test-normal", a->test_normal_dir, src->test_normal_dir, sizeof(src->test_normal_dir))) ||
        (a->test_anomalous_dir && !copy_value("--test-anomalous", a->test_anomalous_dir, src->test_anomalous_dir,
                                              sizeof(src->test_anomalous_dir))))
        return 0;
    return 1;
}

/* 1 when canonical path a is b or lies inside folder b. */
static int same_or_inside(const char *a, const char *b) {
    const size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == 0 || a[n] == '/' || (n > 0 && b[n - 1] == '/'));
}

int cli_check_output_not_input(const char *option, const char *output, const iae_data_source *src) {
    char out[IAE_PATH_BYTES], in[IAE_PATH_BYTES], path[IAE_PATH_BYTES + 64];
    if (output == NULL || !iae_canonical_path(output, out, sizeof(out))) return 1;

    /* Input files. */
    static const char *const fmnist[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    static const char *const cifar[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    const char *dir = src->data[0] ? src->data : IAE_DEFAULT_FMNIST_DIR;
    int n_files = 0;
    char files[8][IAE_PATH_BYTES + 64];
    if (src->kind == IAE_SOURCE_FASHION_MNIST)
        for (int i = 0; i < 8; i++, n_files++)
            snprintf(files[n_files], sizeof(files[0]), "%s/%s%s", dir, fmnist[i / 2], i % 2 ? ".gz" : "");
    else if (src->kind == IAE_SOURCE_CIFAR10)
        for (int i = 0; i < 6; i++, n_files++) snprintf(files[n_files], sizeof(files[0]), "%s/%s", dir, cifar[i]);
    else if (src->kind == IAE_SOURCE_CSV_WINDOWS)
        snprintf(files[n_files++], sizeof(files[0]), "%s", src->data);
    for (int i = 0; i < n_files; i++)
        if (iae_canonical_path(files[i], in, sizeof(in)) && strcmp(out, in) == 0) {
            cli_error("%s '%s' is an input data file; choose another output path", option, output);
            return 0;
        }

    /* Image folders: nothing may be written into them. */
    const char *folders[3] = {NULL, NULL, NULL};
    if (src->kind == IAE_SOURCE_MVTEC) folders[0] = src->data;
    if (src->kind == IAE_SOURCE_FOLDER)
        folders[0] = src->train_dir, folders[1] = src->test_normal_dir, folders[2] = src->test_anomalous_dir;
    for (int i = 0; i < 3; i++) {
        if (folders[i] == NULL || folders[i][0] == 0) continue;
        snprintf(path, sizeof(path), "%s", folders[i]);
        if (iae_canonical_path(path, in, sizeof(in)) && same_or_inside(out, in)) {
            cli_error("%s '%s' lies in the input folder '%s'; choose an output outside the data", option, output,
                      folders[i]);
            return 0;
        }
    }
    return 1;
}

void cli_task_name(const iae_data_source *src, char *out, size_t size) {
    switch (src->kind) {
    case IAE_SOURCE_FASHION_MNIST:
    case IAE_SOURCE_CIFAR10: snprintf(out, size, "normal class %d", src->normal_class); break;
    case IAE_SOURCE_MVTEC: snprintf(out, size, "category %s", src->category); break;
    case IAE_SOURCE_CSV_WINDOWS: snprintf(out, size, "CSV windows"); break;
    default: snprintf(out, size, "image folders"); break;
    }
}

void cli_fill_data_metrics(const iae_data_source *src, iae_metrics *m) {
    switch (src->kind) {
    case IAE_SOURCE_FASHION_MNIST: m->data_dir = src->data[0] ? src->data : IAE_DEFAULT_FMNIST_DIR; break;
    case IAE_SOURCE_FOLDER: m->data_dir = src->test_normal_dir; break;
    default: m->data_dir = src->data; break;
    }
    m->category = src->kind == IAE_SOURCE_MVTEC ? src->category : NULL;
}

int cli_write_maps(iae_ctx *ctx, iae_detector *d, const iae_source_data *data, int batch_size, const char *dir,
                   iae_progress *progress, iae_metrics *m) {
    iae_map_result r;
    if (iae_mvtec_maps(ctx, d, &data->test, &data->mvtec, batch_size, dir, &r) != IAE_OK) return 0;
    m->has_pixel_auroc = 1;
    m->pixel_auroc = r.pixel_auroc;
    iae_progress_note(progress,
                      "wrote %d anomaly maps to %s (gray levels 0..255 = squared error %.4g..%.4g); pixel AUROC over "
                      "%ld pixels of %d images%s",
                      r.maps_written, dir, r.min, r.max, r.pixels, r.images,
                      r.missing_masks > 0 ? ", defective images without a mask left out" : "");
    return 1;
}

void cli_data_usage(FILE *out, int for_train) {
    if (!for_train) {
        fputs("data (default: the paths stored in the model, whose kind and preprocessing stay fixed):\n"
              "  --data PATH        the Fashion-MNIST or CIFAR-10 folder, MVTec AD root or CSV file\n"
              "                     to read in place of the stored one\n"
              "  --test-normal DIR  folder models: normal test images in place of the stored folder\n"
              "  --test-anomalous DIR\n"
              "                     folder models: anomalous test images in place of the stored folder\n",
              out);
        return;
    }
    fprintf(out,
            "data:\n"
            "  --dataset NAME          data set kind: fashion-mnist (default), cifar10, mvtec,\n"
            "                          csv-windows or folder\n"
            "  --data PATH             fashion-mnist: folder with the four IDX files, each .gz or\n"
            "                          plain, .gz read when both exist (default\n"
            "                          %s);\n"
            "                          cifar10: folder with data_batch_1.bin .. data_batch_5.bin and\n"
            "                          test_batch.bin; mvtec: root folder with one subfolder per\n"
            "                          category; csv-windows: the CSV file. Required for cifar10,\n"
            "                          mvtec and csv-windows; folder takes the three folders below\n"
            "  --normal-class N        fashion-mnist, cifar10: class treated as normal, 0-9 (required)\n"
            "  --category NAME|K       mvtec: the category, by name (such as bottle) or by index K\n"
            "                          into the root's subfolders sorted by name (required)\n"
            "  --reference-normalization\n"
            "                          fashion-mnist, cifar10: min-max scale with the reference code's\n"
            "                          constant table instead of the normal class's own training min\n"
            "                          and max\n"
            "  --contamination R       fashion-mnist, cifar10: share of anomalies (other classes'\n"
            "                          training images, drawn with the seed) mixed into the training\n"
            "                          set, 0 to 0.5 (default 0)\n"
            "csv-windows (header row, numeric cells, label 0 normal / 1 anomalous; windows of N rows\n"
            "x D feature columns placed in 32x32 images for LeNet with 1 channel, so N and D are at\n"
            "most 32; 30%% of the normal windows, drawn with the seed, are test windows):\n"
            "  --label-column NAME     the label column (default frozen)\n"
            "  --drop-columns A,B      comma-separated columns to ignore, such as time,group\n"
            "                          (default: none)\n"
            "  --window N              rows per window, 1-32 (default: D, square windows as in the\n"
            "                          reference's WTBI experiment)\n"
            "  --stride S              rows between window starts, 1-100000 (default 1)\n"
            "folder (PNG or PGM images of any size, resized with antialiasing to the input size):\n"
            "  --train DIR             normal training images (required)\n"
            "  --test-normal DIR       normal test images (required)\n"
            "  --test-anomalous DIR    anomalous test images (required)\n"
            "  --image-size N          32: LeNet on pixels in [0, 1] (default); 64: the MVTec network\n"
            "                          on pixels in [-1, 1]\n"
            "  --channels N            1 (gray) or 3 (RGB, default); --image-size 64 needs 3\n",
            IAE_DEFAULT_FMNIST_DIR);
}
