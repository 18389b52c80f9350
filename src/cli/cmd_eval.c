/* iae eval: score a test set with a saved model and report AUROC. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "data/fashion_mnist.h"
#include "io/atomic_file.h"
#include "io/model_file.h"
#include "pipeline/experiment.h"
#include "report/figures.h"
#include "report/metrics.h"

static void eval_usage(FILE *out) {
    fprintf(out,
            "usage: iae eval --model FILE [OPTIONS]\n"
            "\n"
            "Load a model written by 'iae train --out', preprocess the test set exactly as in\n"
            "training (the stored min-max range), score every test image and print the\n"
            "AUROC of each score.\n"
            "\n"
            "  --model FILE       model file (required)\n"
            "  --data DIR         folder with the IDX files (default %s)\n"
            "  --batch-size N     scoring batch size, also the LSTM sequence length, 1-4096\n"
            "                     (default: the training batch size, which reproduces train's scores)\n"
            "  --threads N        CPU threads, 1-1024 (default: all online cores)\n"
            "  --lstm-precision P bf16 (default) or fp32 for the batch context's recurrent\n"
            "                     products (see iae train --help)\n"
            "  --metrics FILE     write the AUROCs and settings as JSON (default: not written)\n"
            "  --plots DIR        write roc.png, histogram.png and reconstructions.png into DIR\n"
            "                     (created when missing; default: no figures)\n"
            "  --quiet            no progress output on stderr\n"
            "  --help             show this message\n",
            IAE_DEFAULT_FMNIST_DIR);
}

enum { OPT_MODEL = 256, OPT_DATA, OPT_BATCH, OPT_THREADS, OPT_METRICS, OPT_QUIET, OPT_HELP, OPT_BF16, OPT_PLOTS,
       OPT_LAST };

static const struct option eval_options[] = {
    {"model", required_argument, 0, OPT_MODEL},
    {"data", required_argument, 0, OPT_DATA},
    {"batch-size", required_argument, 0, OPT_BATCH},
    {"threads", required_argument, 0, OPT_THREADS},
    {"metrics", required_argument, 0, OPT_METRICS},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, OPT_HELP},
    {"lstm-precision", required_argument, 0, OPT_BF16},
    {"plots", required_argument, 0, OPT_PLOTS},
    {0, 0, 0, 0},
};

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *data_dir = IAE_DEFAULT_FMNIST_DIR, *metrics_path = NULL;
    long batch = 0, threads = 0;
    int quiet = 0, bf16 = 1, data_given = 0;
    const char *plots_dir = NULL;
    unsigned char seen[OPT_LAST - OPT_MODEL] = {0};

    opterr = 0;
    optind = 1;
    int c, index = 0;
    while ((c = getopt_long(argc, argv, ":", eval_options, &index)) != -1) {
        int ok = 1;
        if (c >= OPT_MODEL && c < OPT_LAST && !cli_first_use(seen, c - OPT_MODEL, eval_options[index].name))
            return IAE_EXIT_USAGE;
        switch (c) {
        case OPT_MODEL:
            model_path = optarg;
            if (optarg[0] == 0) {
                cli_error("--model needs a file, got an empty string");
                ok = 0;
            }
            break;
        case OPT_DATA:
            data_dir = optarg;
            data_given = 1;
            if (optarg[0] == 0) {
                cli_error("--data needs a folder, got an empty string");
                ok = 0;
            }
            break;
        case OPT_PLOTS: plots_dir = optarg; break;
        case OPT_BF16:
            if (strcmp(optarg, "bf16") == 0 || strcmp(optarg, "fp32") == 0)
                bf16 = strcmp(optarg, "bf16") == 0;
            else {
                cli_error("invalid value '%s' for --lstm-precision: expected bf16 or fp32", optarg);
                ok = 0;
            }
            break;
        case OPT_BATCH: ok = cli_parse_int("--batch-size", optarg, 1, 4096, &batch); break;
        case OPT_THREADS: ok = cli_parse_int("--threads", optarg, 1, 1024, &threads); break;
        case OPT_METRICS: metrics_path = optarg; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_HELP: eval_usage(stdout); return 0;
        case ':':
            cli_error("option %s needs a value; run 'iae eval --help'", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        default:
            cli_error("unknown option '%s'; run 'iae eval --help' for the list of options", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        }
        if (!ok) return IAE_EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'; run 'iae eval --help'", argv[optind]);
        return IAE_EXIT_USAGE;
    }
    if (model_path == NULL) {
        cli_error("--model is required: pass a file written by 'iae train --out FILE'");
        return IAE_EXIT_USAGE;
    }

    const double t_start = iae_now_s();
    iae_ctx ctx;
    iae_ctx_init(&ctx, (int)threads);
    if (metrics_path != NULL) {
        char a[IAE_PATH_BYTES], b[IAE_PATH_BYTES];
        if (iae_output_path_check(&ctx, metrics_path, "--metrics") != IAE_OK) {
            cli_error("%s", ctx.error);
            return IAE_EXIT_USAGE;
        }
        if (iae_canonical_path(metrics_path, a, sizeof(a)) && iae_canonical_path(model_path, b, sizeof(b)) &&
            strcmp(a, b) == 0) {
            cli_error("--metrics '%s' is the model file; choose another output path", metrics_path);
            return IAE_EXIT_USAGE;
        }
    }
    iae_progress progress;
    iae_progress_init(&progress, stderr, quiet);
    int rc = IAE_EXIT_FAILURE;
    iae_detector *det = NULL;
    iae_dataset test = {0};

    if (iae_model_load(&ctx, model_path, (int)batch, &det) != IAE_OK) goto fail;
    if (iae_net_set_lstm_kernel(&ctx, det->net, IAE_LSTM_FUSED, bf16) != IAE_OK) goto fail;
    det->info.lstm_impl = IAE_LSTM_FUSED;
    det->info.lstm_bf16 = bf16;
    const iae_detector_info *info = &det->info;
    if (strcmp(info->dataset, "fashion-mnist") != 0) {
        iae_fail(&ctx, IAE_ERR_ARGUMENT, "model '%s' was trained on '%s'; eval supports fashion-mnist", model_path,
                 info->dataset);
        goto fail;
    }
    iae_fmnist_options fo = {.dir = data_dir, .normal_class = info->normal_class, .have_minmax = 1,
                             .min = info->norm_min, .max = info->norm_max, .dir_is_default = !data_given};
    if (iae_fmnist_load(&ctx, &fo, NULL, &test, NULL, NULL) != IAE_OK) goto fail;
    long anomalous = 0;
    for (int i = 0; i < test.n; i++) anomalous += test.label[i];
    if (anomalous == 0 || anomalous == test.n) {
        iae_fail(&ctx, IAE_ERR_ARGUMENT, "the test set in '%s' has %d images, %s; AUROC needs both normal and "
                 "anomalous images", data_dir, test.n,
                 anomalous == 0 ? "none of another class than the normal one" : "none of the normal class");
        goto fail;
    }
    const int bs = batch > 0 ? (int)batch : info->batch_size;
    iae_evaluation eval;
    iae_scores kept = {0};
    if (iae_evaluate(&ctx, det, &test, bs, &progress, &eval, plots_dir ? &kept : NULL) != IAE_OK) goto fail;
    if (plots_dir != NULL) {
        char path[IAE_PATH_BYTES + 32], title[160];
        const int k = iae_figure_main_score(&kept);
        iae_status st = iae_make_dirs(&ctx, plots_dir);
        snprintf(title, sizeof(title), "%s, normal class %d: ROC (%s context)", iae_model_name(info->model),
                 info->normal_class, iae_context_name(info->score_context));
        snprintf(path, sizeof(path), "%s/roc.png", plots_dir);
        if (st == IAE_OK) st = iae_figure_roc(&ctx, path, title, &kept, test.label);
        snprintf(title, sizeof(title), "%s, normal class %d: %s scores", iae_model_name(info->model),
                 info->normal_class, iae_score_names[k]);
        snprintf(path, sizeof(path), "%s/histogram.png", plots_dir);
        if (st == IAE_OK) st = iae_figure_histogram(&ctx, path, title, &kept, k, test.label);
        snprintf(path, sizeof(path), "%s/reconstructions.png", plots_dir);
        if (st == IAE_OK) st = iae_figure_reconstructions(&ctx, path, det, &test, &kept, k, 4);
        iae_scores_free(&kept);
        if (st != IAE_OK) goto fail;
        iae_progress_note(&progress, "wrote figures to %s", plots_dir);
    }

    iae_metrics m = {.command = "eval", .model = iae_model_name(info->model), .info = info, .train_samples = info->train_samples,
                     .test_samples = test.n, .test_anomalous = (int)anomalous, .threads = ctx.threads,
                     .eval = &eval, .data_dir = data_dir, .model_file = model_path};
    m.seconds = iae_now_s() - t_start;
    iae_metrics_print(stdout, &m);
    if (metrics_path != NULL && iae_metrics_write_json(&ctx, metrics_path, &m) != IAE_OK) goto fail;
    rc = cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
    goto done;
fail:
    cli_error("%s", ctx.error);
done:
    iae_dataset_free(&test);
    iae_detector_free(det);
    return rc;
}
