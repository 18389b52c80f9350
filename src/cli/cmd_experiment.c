/* iae experiment and iae plot: comparison grids, their tables and figures. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "io/atomic_file.h"
#include "pipeline/experiment.h"
#include "report/figures.h"
#include "report/results.h"

static void experiment_usage(FILE *out) {
    fprintf(out,
            "usage: iae experiment --out-dir DIR [OPTIONS]\n"
            "\n"
            "Run every combination of models, normal classes, seeds and contamination ratios\n"
            "on Fashion-MNIST (one-class protocol), each a full training run with the\n"
            "reference's per-class weights. Each run writes DIR/runs/<run>/metrics.json,\n"
            "figures (ROC curves, score histogram, loss curves, reconstructions) and row.csv;\n"
            "a run whose row.csv exists is skipped, so an interrupted grid resumes. At the end\n"
            "DIR holds results.csv (one row per run), results.md (mean +- std AUROC per class\n"
            "and model, best in bold, mean over classes) and summary figures.\n"
            "\n"
            "  --out-dir DIR        output folder (required; created when missing)\n"
            "  --models LIST        comma-separated: cae, deep-svdd, dcae-svdd, iae-lstm, iae-kl,\n"
            "                       iae-lstm-kl (default: all six)\n"
            "  --classes LIST       normal classes, e.g. 0-9 or 0,3 (default 0-9)\n"
            "  --seeds LIST         seeds, e.g. 0,1,2 or 0-4 (default 0)\n"
            "  --contamination LIST training-set contamination ratios, 0 to 0.5, e.g. 0,0.05,0.1\n"
            "                       (default 0)\n"
            "  --pretrain-epochs N  autoencoder pre-training epochs per run (default 10)\n"
            "  --epochs N           training epochs per run (default 10)\n"
            "  --batch-size N       2-4096 (default 64)\n"
            "  --validation-fraction X  held-out share of the normal training images (default 0.1)\n"
            "  --lstm-precision P   bf16 (default) or fp32, see iae train --help\n"
            "  --table-score NAME   score of results.md and the summary figures: svdd, mse,\n"
            "                       svdd_mse, l1_svdd, l1_mse or combined (default svdd_mse)\n"
            "  --table-context CTX  batch (default, the reference protocol), memory or none\n"
            "  --data DIR           Fashion-MNIST folder (default %s)\n"
            "  --no-plots           write no figures\n"
            "  --threads N          CPU threads (default: all online cores)\n"
            "  --quiet              no progress output\n"
            "  --help               show this message\n"
            "\n"
            "example: iae experiment --out-dir grid --models cae,deep-svdd,dcae-svdd,iae-lstm-kl \\\n"
            "             --classes 0-9 --seeds 0,1,2\n",
            IAE_DEFAULT_FMNIST_DIR);
}

enum { OPT_OUT = 256, OPT_MODELS, OPT_CLASSES, OPT_SEEDS, OPT_RATIOS, OPT_PRE, OPT_EPOCHS, OPT_BATCH, OPT_VALFRAC,
       OPT_PRECISION, OPT_TSCORE, OPT_TCONTEXT, OPT_DATA, OPT_NOPLOTS, OPT_THREADS, OPT_QUIET, OPT_HELP, OPT_LAST };

static const struct option experiment_options[] = {
    {"out-dir", required_argument, 0, OPT_OUT},
    {"models", required_argument, 0, OPT_MODELS},
    {"classes", required_argument, 0, OPT_CLASSES},
    {"seeds", required_argument, 0, OPT_SEEDS},
    {"contamination", required_argument, 0, OPT_RATIOS},
    {"pretrain-epochs", required_argument, 0, OPT_PRE},
    {"epochs", required_argument, 0, OPT_EPOCHS},
    {"batch-size", required_argument, 0, OPT_BATCH},
    {"validation-fraction", required_argument, 0, OPT_VALFRAC},
    {"lstm-precision", required_argument, 0, OPT_PRECISION},
    {"table-score", required_argument, 0, OPT_TSCORE},
    {"table-context", required_argument, 0, OPT_TCONTEXT},
    {"data", required_argument, 0, OPT_DATA},
    {"no-plots", no_argument, 0, OPT_NOPLOTS},
    {"threads", required_argument, 0, OPT_THREADS},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

static int parse_score_name(const char *option, const char *text, int *out) {
    for (int k = 0; k < IAE_N_SCORES; k++)
        if (strcmp(text, iae_score_names[k]) == 0) {
            *out = k;
            return 1;
        }
    cli_error("invalid value '%s' for %s: expected svdd, mse, svdd_mse, l1_svdd, l1_mse or combined", text, option);
    return 0;
}

static int parse_models(const char *text, iae_experiment_options *o) {
    char *copy = strdup(text), *save = NULL;
    int ok = copy != NULL;
    o->n_models = 0;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && ok; tok = strtok_r(NULL, ",", &save)) {
        int k = iae_model_parse(tok);
        if (k < 0) {
            cli_error("unknown model '%s' in --models: expected cae, deep-svdd, dcae-svdd, iae-lstm, iae-kl or "
                      "iae-lstm-kl",
                      tok);
            ok = 0;
        } else if (o->n_models == IAE_N_MODELS) {
            cli_error("--models lists a model twice");
            ok = 0;
        } else {
            for (int i = 0; i < o->n_models; i++)
                if (o->models[i] == k) {
                    cli_error("--models lists '%s' twice", tok);
                    ok = 0;
                }
            o->models[o->n_models++] = k;
        }
    }
    free(copy);
    return ok && o->n_models > 0;
}

int cmd_experiment(int argc, char **argv) {
    iae_experiment_options o = {.data_dir = IAE_DEFAULT_FMNIST_DIR, .data_dir_is_default = 1, .pretrain_epochs = 10,
                                .epochs = 10, .batch_size = 64, .validation_fraction = 0.1f, .lstm_bf16 = 1,
                                .plots = 1, .table_score = 2, .table_context = IAE_CONTEXT_BATCH};
    for (int k = 0; k < IAE_N_MODELS; k++) o.models[k] = k;
    o.n_models = IAE_N_MODELS;
    for (int k = 0; k < 10; k++) o.classes[k] = k;
    o.n_classes = 10;
    o.n_seeds = 1;
    o.n_ratios = 1;
    long threads = 0, v = 0;
    int quiet = 0;
    unsigned char seen[OPT_LAST - OPT_OUT] = {0};

    opterr = 0;
    optind = 1;
    int c, index = 0;
    while ((c = getopt_long(argc, argv, ":", experiment_options, &index)) != -1) {
        int ok = 1;
        if (c >= OPT_OUT && c < OPT_LAST && !cli_first_use(seen, c - OPT_OUT, experiment_options[index].name))
            return IAE_EXIT_USAGE;
        long list[IAE_GRID_MAX];
        switch (c) {
        case OPT_OUT: o.out_dir = optarg; break;
        case OPT_MODELS: ok = parse_models(optarg, &o); break;
        case OPT_CLASSES:
            ok = cli_parse_int_list("--classes", optarg, 0, 9, list, IAE_GRID_MAX, &o.n_classes);
            for (int i = 0; ok && i < o.n_classes; i++) o.classes[i] = (int)list[i];
            break;
        case OPT_SEEDS:
            ok = cli_parse_int_list("--seeds", optarg, 0, 2147483647L, list, IAE_GRID_MAX, &o.n_seeds);
            for (int i = 0; ok && i < o.n_seeds; i++) o.seeds[i] = (uint64_t)list[i];
            break;
        case OPT_RATIOS: ok = cli_parse_float_list("--contamination", optarg, 0, 0.5, o.ratios, IAE_GRID_MAX, &o.n_ratios); break;
        case OPT_PRE: ok = cli_parse_int("--pretrain-epochs", optarg, 0, 100000, &v), o.pretrain_epochs = (int)v; break;
        case OPT_EPOCHS: ok = cli_parse_int("--epochs", optarg, 0, 100000, &v), o.epochs = (int)v; break;
        case OPT_BATCH: ok = cli_parse_int("--batch-size", optarg, 2, 4096, &v), o.batch_size = (int)v; break;
        case OPT_VALFRAC: {
            double f;
            ok = cli_parse_float("--validation-fraction", optarg, 0, 0.9, &f);
            o.validation_fraction = (float)f;
            break;
        }
        case OPT_PRECISION:
            if (strcmp(optarg, "bf16") == 0 || strcmp(optarg, "fp32") == 0)
                o.lstm_bf16 = strcmp(optarg, "bf16") == 0;
            else {
                cli_error("invalid value '%s' for --lstm-precision: expected bf16 or fp32", optarg);
                ok = 0;
            }
            break;
        case OPT_TSCORE: ok = parse_score_name("--table-score", optarg, &o.table_score); break;
        case OPT_TCONTEXT: {
            int k = iae_context_parse(optarg);
            if (k < 0) {
                cli_error("invalid value '%s' for --table-context: expected batch, memory or none", optarg);
                ok = 0;
            }
            o.table_context = (iae_lstm_context)k;
            break;
        }
        case OPT_DATA: o.data_dir = optarg, o.data_dir_is_default = 0; break;
        case OPT_NOPLOTS: o.plots = 0; break;
        case OPT_THREADS: ok = cli_parse_int("--threads", optarg, 1, 1024, &threads); break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_HELP: experiment_usage(stdout); return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
        case ':':
            cli_error("option %s needs a value; run 'iae experiment --help'", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        default:
            cli_error("unknown option '%s'; run 'iae experiment --help' for the list of options", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        }
        if (!ok) return IAE_EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'; run 'iae experiment --help'", argv[optind]);
        return IAE_EXIT_USAGE;
    }
    if (o.out_dir == NULL || o.out_dir[0] == 0) {
        cli_error("--out-dir is required: the folder for runs, tables and figures");
        return IAE_EXIT_USAGE;
    }
    iae_ctx ctx;
    iae_ctx_init(&ctx, (int)threads);
    iae_progress progress;
    iae_progress_init(&progress, stderr, quiet);
    iae_progress_note(&progress, "experiment grid: %d models x %d classes x %d seeds x %d contamination ratios = %d runs",
                      o.n_models, o.n_classes, o.n_seeds, o.n_ratios, o.n_models * o.n_classes * o.n_seeds * o.n_ratios);
    if (iae_run_experiment(&ctx, &o, &progress) != IAE_OK) {
        cli_error("%s", ctx.error);
        return IAE_EXIT_FAILURE;
    }
    printf("wrote %s/results.csv and %s/results.md\n", o.out_dir, o.out_dir);
    return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
}

/* ---------------- iae plot ---------------- */

static void plot_usage(FILE *out) {
    fputs("usage: iae plot RESULTS.CSV [OPTIONS]\n"
          "\n"
          "Draw the summary figures of an experiment's results.csv: auroc_per_class.png (mean\n"
          "AUROC per normal class and model, error bars one standard deviation over seeds) and,\n"
          "with several contamination ratios, auroc_vs_contamination.png; and write results.md.\n"
          "\n"
          "  --out-dir DIR        where to write them (default: the folder of RESULTS.CSV)\n"
          "  --table-score NAME   svdd, mse, svdd_mse, l1_svdd, l1_mse or combined (default svdd_mse)\n"
          "  --table-context CTX  batch (default), memory or none\n"
          "  --help               show this message\n",
          out);
}

int cmd_plot(int argc, char **argv) {
    static const struct option options[] = {
        {"out-dir", required_argument, 0, 'o'}, {"table-score", required_argument, 0, 's'},
        {"table-context", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *out_dir = NULL;
    int score = 2, context = IAE_CONTEXT_BATCH;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 's': ok = parse_score_name("--table-score", optarg, &score); break;
        case 'c':
            if ((context = iae_context_parse(optarg)) < 0) {
                cli_error("invalid value '%s' for --table-context: expected batch, memory or none", optarg);
                ok = 0;
            }
            break;
        case 'h': plot_usage(stdout); return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
        case ':':
            cli_error("option %s needs a value; run 'iae plot --help'", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        default:
            cli_error("unknown option '%s'; run 'iae plot --help' for the list of options", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        }
        if (!ok) return IAE_EXIT_USAGE;
    }
    if (optind + 1 != argc) {
        cli_error("pass exactly one results.csv written by iae experiment");
        return IAE_EXIT_USAGE;
    }
    const char *csv = argv[optind];
    char dir[IAE_PATH_BYTES];
    if (out_dir == NULL) {
        snprintf(dir, sizeof(dir), "%s", csv);
        char *slash = strrchr(dir, '/');
        if (slash != NULL)
            *slash = 0;
        else
            snprintf(dir, sizeof(dir), ".");
        out_dir = dir;
    }
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_result_row *rows = NULL;
    int n = 0;
    char path[IAE_PATH_BYTES + 32];
    snprintf(path, sizeof(path), "%s/results.md", out_dir);
    if (iae_results_read_csv(&ctx, csv, &rows, &n) != IAE_OK || iae_make_dirs(&ctx, out_dir) != IAE_OK ||
        (n > 0 && iae_results_write_markdown(&ctx, path, rows, n, score, context, "Fashion-MNIST, one class normal") !=
                      IAE_OK) ||
        (n > 0 && iae_figure_results(&ctx, out_dir, rows, n, score, context) != IAE_OK)) {
        free(rows);
        cli_error("%s", ctx.error);
        return IAE_EXIT_FAILURE;
    }
    free(rows);
    if (n == 0) {
        cli_error("'%s' holds no runs", csv);
        return IAE_EXIT_FAILURE;
    }
    printf("wrote %s/results.md and figures from %d runs\n", out_dir, n);
    return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
}
