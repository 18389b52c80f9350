/* iae eval: score a test set with a saved model and report AUROC. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "io/atomic_file.h"
#include "io/model_file.h"
#include "pipeline/experiment.h"
#include "report/figures.h"
#include "report/metrics.h"

static void eval_usage(FILE *out) {
    fputs("usage: iae eval --model FILE [OPTIONS]\n"
          "\n"
          "Load a model written by 'iae train --out', read the test set of the data it was\n"
          "trained on (the paths stored in the model, unless given below), preprocess it\n"
          "exactly as in training (the stored min-max range, CSV column scaling and window,\n"
          "image size), score every test sample and print the AUROC of each score.\n"
          "\n"
          "  --model FILE       model file (required)\n",
          out);
    cli_data_usage(out, 0);
    fputs("  --batch-size N     scoring batch size, also the LSTM sequence length, 1-4096\n"
          "                     (default: the training batch size, which reproduces train's scores)\n"
          "  --threads N        CPU threads, 1-1024 (default: all online cores)\n"
          "  --lstm-precision P bf16 (default) or fp32 for the batch context's recurrent\n"
          "                     products (see iae train --help)\n"
          "  --metrics FILE     write the AUROCs and settings as JSON (default: not written)\n"
          "  --plots DIR        write roc.png, histogram.png and reconstructions.png into DIR\n"
          "                     (created when missing; default: no figures)\n"
          "  --maps DIR         mvtec models: write one anomaly map per test image into DIR\n"
          "                     (created when missing) as an 8-bit gray PNG at the image's own\n"
          "                     size, black = lowest and white = highest squared reconstruction\n"
          "                     error over the test set, and report the pixel AUROC against the\n"
          "                     ground-truth masks (at the stored size up to 256 pixels a side,\n"
          "                     scaled down to 256 beyond; default: no maps)\n"
          "  --quiet            no progress output on stderr\n"
          "  --help             show this message\n",
          out);
}

enum { OPT_MODEL = 256, OPT_DATA, OPT_BATCH, OPT_THREADS, OPT_METRICS, OPT_QUIET, OPT_HELP, OPT_BF16, OPT_PLOTS,
       OPT_TEST_NORMAL, OPT_TEST_ANOMALOUS, OPT_MAPS, OPT_LAST };

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
    {"test-normal", required_argument, 0, OPT_TEST_NORMAL},
    {"test-anomalous", required_argument, 0, OPT_TEST_ANOMALOUS},
    {"maps", required_argument, 0, OPT_MAPS},
    {0, 0, 0, 0},
};

int cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *metrics_path = NULL;
    long batch = 0, threads = 0;
    int quiet = 0, bf16 = 1;
    const char *plots_dir = NULL, *maps_dir = NULL;
    cli_data_args dargs;
    cli_data_args_init(&dargs);
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
            dargs.data = optarg;
            if (optarg[0] == 0) {
                cli_error("--data needs a folder or file, got an empty string");
                ok = 0;
            }
            break;
        case OPT_TEST_NORMAL: dargs.test_normal_dir = optarg; break;
        case OPT_TEST_ANOMALOUS: dargs.test_anomalous_dir = optarg; break;
        case OPT_PLOTS: plots_dir = optarg; break;
        case OPT_MAPS:
            maps_dir = optarg;
            if (optarg[0] == 0) {
                cli_error("--maps needs a folder, got an empty string");
                ok = 0;
            }
            break;
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
    iae_data_source src;
    iae_data_source_init(&src, IAE_SOURCE_FASHION_MNIST);
    iae_source_data data = {0};

    if (iae_model_load(&ctx, model_path, (int)batch, &det) != IAE_OK) goto fail;
    if (iae_net_set_lstm_kernel(&ctx, det->net, IAE_LSTM_FUSED, bf16) != IAE_OK) goto fail;
    det->info.lstm_impl = IAE_LSTM_FUSED;
    det->info.lstm_bf16 = bf16;
    const iae_detector_info *info = &det->info;

    /* The data of training, preprocessed with the stored constants. */
    if (iae_data_source_from_model(&ctx, model_path, info, det->data_config, &src) != IAE_OK) goto fail;
    if (!cli_data_source_override(&dargs, model_path, &src)) {
        rc = IAE_EXIT_USAGE;
        goto done;
    }
    if (maps_dir != NULL && src.kind != IAE_SOURCE_MVTEC) {
        cli_error("--maps draws pixel anomaly maps of MVTec AD test images; model '%s' was trained on %s", model_path,
                  iae_source_kind_name(src.kind));
        rc = IAE_EXIT_USAGE;
        goto done;
    }
    if (!cli_check_output_not_input("--metrics", metrics_path, &src) ||
        !cli_check_output_not_input("--maps", maps_dir, &src) ||
        !cli_check_output_not_input("--plots", plots_dir, &src)) {
        rc = IAE_EXIT_USAGE;
        goto done;
    }
    if (maps_dir != NULL && iae_make_dirs(&ctx, maps_dir) != IAE_OK) goto fail;
    if (iae_data_source_load(&ctx, &src, 0, &data) != IAE_OK) goto fail;
    const iae_dataset *test_set = &data.test;
    long anomalous = 0;
    for (int i = 0; i < test_set->n; i++) anomalous += test_set->label[i];
    if (anomalous == 0 || anomalous == test_set->n) {
        iae_fail(&ctx, IAE_ERR_ARGUMENT, "the %s test set has %d samples, %s; AUROC needs both normal and anomalous ones",
                 iae_source_kind_name(src.kind), test_set->n,
                 anomalous == 0 ? "none of them anomalous" : "none of them normal");
        goto fail;
    }
    iae_progress_note(&progress, "%s: %d test samples (%ld anomalous)", data.summary, test_set->n, anomalous);
    const int bs = batch > 0 ? (int)batch : info->batch_size;
    iae_evaluation eval;
    iae_scores kept = {0};
    if (iae_evaluate(&ctx, det, test_set, bs, &progress, &eval, plots_dir ? &kept : NULL) != IAE_OK) goto fail;
    char task[IAE_SOURCE_NAME_BYTES + 32];
    cli_task_name(&src, task, sizeof(task));
    if (plots_dir != NULL) {
        char path[IAE_PATH_BYTES + 32], title[160];
        const int k = iae_figure_main_score(&kept);
        iae_status st = iae_make_dirs(&ctx, plots_dir);
        snprintf(title, sizeof(title), "%s, %.80s: ROC (%s context)", iae_model_name(info->model), task,
                 iae_context_name(info->score_context));
        snprintf(path, sizeof(path), "%s/roc.png", plots_dir);
        if (st == IAE_OK) st = iae_figure_roc(&ctx, path, title, &kept, test_set->label);
        snprintf(title, sizeof(title), "%s, %.80s: %s scores", iae_model_name(info->model), task, iae_score_names[k]);
        snprintf(path, sizeof(path), "%s/histogram.png", plots_dir);
        if (st == IAE_OK) st = iae_figure_histogram(&ctx, path, title, &kept, k, test_set->label);
        snprintf(path, sizeof(path), "%s/reconstructions.png", plots_dir);
        if (st == IAE_OK) st = iae_figure_reconstructions(&ctx, path, det, test_set, &kept, k, 4);
        iae_scores_free(&kept);
        if (st != IAE_OK) goto fail;
        iae_progress_note(&progress, "wrote figures to %s", plots_dir);
    }

    iae_metrics m = {.command = "eval", .model = iae_model_name(info->model), .info = info,
                     .train_samples = info->train_samples, .test_samples = test_set->n,
                     .test_anomalous = (int)anomalous, .threads = ctx.threads, .eval = &eval,
                     .model_file = model_path, .task = task};
    cli_fill_data_metrics(&src, &m);
    if (maps_dir != NULL && !cli_write_maps(&ctx, det, &data, bs, maps_dir, &progress, &m)) goto fail;
    m.seconds = iae_now_s() - t_start;
    iae_metrics_print(stdout, &m);
    if (metrics_path != NULL && iae_metrics_write_json(&ctx, metrics_path, &m) != IAE_OK) goto fail;
    rc = cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
    goto done;
fail:
    cli_error("%s", ctx.error);
done:
    iae_source_data_free(&data);
    iae_data_source_free(&src);
    iae_detector_free(det);
    return rc;
}
