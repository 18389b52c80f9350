/* iae search: tune w_mse, w_kl and nu without looking at the test set. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "data/fashion_mnist.h"
#include "data/idx.h"
#include "data/preprocess.h"
#include "io/atomic_file.h"
#include "pipeline/search.h"

static void search_usage(FILE *out) {
    fprintf(out,
            "usage: iae search --normal-class N --out FILE.csv [OPTIONS]\n"
            "\n"
            "Tune the loss weights (and nu for soft-boundary SVDD) by random or grid search.\n"
            "Every candidate is a full training run on the normal training images (the\n"
            "pre-trained autoencoder is shared); candidates are ranked by the AUROC of a score\n"
            "on a labelled validation set when one is given, else on the held-out normal\n"
            "images against corrupted copies of them (a proxy for anomalies). The test set\n"
            "is never used. (The reference code tuned its per-class weights on the test\n"
            "AUROC, which makes its reported numbers optimistic.)\n"
            "\n"
            "  --normal-class N         class treated as normal, 0-9 (required)\n"
            "  --out FILE               CSV of all trials, rewritten after each (required)\n"
            "  --model NAME             as iae train (default iae-lstm-kl)\n"
            "  --method NAME            random (default) or grid\n"
            "  --trials N               candidates, 1-1000 (grid: at most this many) (default 10)\n"
            "  --w-mse LO:HI            search w_mse log-uniformly in [LO, HI] (default 1e-4:1e2)\n"
            "  --w-kl LO:HI             search w_kl log-uniformly in [LO, HI] (default 1e-5:1e1)\n"
            "  --nu LO:HI               search nu uniformly in [LO, HI] (only with soft-boundary;\n"
            "                           default 0.01:0.5)\n"
            "  --objective NAME         one-class (default) or soft-boundary\n"
            "  --score NAME             criterion score: svdd, mse, svdd_mse, l1_svdd, l1_mse or\n"
            "                           combined (default combined)\n"
            "  --validation-images FILE labelled validation images (IDX, 28x28) ...\n"
            "  --validation-labels FILE ... and their class labels (IDX); other classes are anomalies\n"
            "  --validation-fraction X  held-out share of the normal images (default 0.1)\n"
            "  --pretrain-epochs N, --epochs N, --batch-size N, --seed N, --threads N\n"
            "                           as iae train (defaults 10, 10, 64, 0, all cores)\n"
            "  --data DIR               Fashion-MNIST folder (default %s)\n"
            "  --quiet                  no progress output\n"
            "  --help                   show this message\n",
            IAE_DEFAULT_FMNIST_DIR);
}

enum { OPT_CLASS = 256, OPT_OUT, OPT_MODEL, OPT_METHOD, OPT_TRIALS, OPT_WMSE, OPT_WKL, OPT_NU, OPT_OBJECTIVE,
       OPT_SCORE, OPT_VIMAGES, OPT_VLABELS, OPT_VALFRAC, OPT_PRE, OPT_EPOCHS, OPT_BATCH, OPT_SEED, OPT_THREADS,
       OPT_DATA, OPT_QUIET, OPT_HELP, OPT_LAST };

static const struct option search_options[] = {
    {"normal-class", required_argument, 0, OPT_CLASS},   {"out", required_argument, 0, OPT_OUT},
    {"model", required_argument, 0, OPT_MODEL},          {"method", required_argument, 0, OPT_METHOD},
    {"trials", required_argument, 0, OPT_TRIALS},        {"w-mse", required_argument, 0, OPT_WMSE},
    {"w-kl", required_argument, 0, OPT_WKL},             {"nu", required_argument, 0, OPT_NU},
    {"objective", required_argument, 0, OPT_OBJECTIVE},  {"score", required_argument, 0, OPT_SCORE},
    {"validation-images", required_argument, 0, OPT_VIMAGES},
    {"validation-labels", required_argument, 0, OPT_VLABELS},
    {"validation-fraction", required_argument, 0, OPT_VALFRAC},
    {"pretrain-epochs", required_argument, 0, OPT_PRE}, {"epochs", required_argument, 0, OPT_EPOCHS},
    {"batch-size", required_argument, 0, OPT_BATCH},    {"seed", required_argument, 0, OPT_SEED},
    {"threads", required_argument, 0, OPT_THREADS},     {"data", required_argument, 0, OPT_DATA},
    {"quiet", no_argument, 0, OPT_QUIET},                {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

/* Parse "LO:HI" with 0 < LO <= HI (log ranges) or 0 <= LO <= HI <= 1. */
static int parse_range(const char *option, const char *text, int log_scale, double *lo, double *hi) {
    const char *colon = strchr(text, ':');
    char a[64];
    if (colon == NULL || (size_t)(colon - text) >= sizeof(a)) {
        cli_error("invalid value '%s' for %s: expected LO:HI, e.g. 1e-4:1e2", text, option);
        return 0;
    }
    memcpy(a, text, (size_t)(colon - text));
    a[colon - text] = 0;
    if (!cli_parse_float(option, a, log_scale ? 1e-12 : 0, log_scale ? 1e9 : 1, lo) ||
        !cli_parse_float(option, colon + 1, log_scale ? 1e-12 : 0, log_scale ? 1e9 : 1, hi))
        return 0;
    if (*hi < *lo) {
        cli_error("invalid range '%s' for %s: HI is below LO", text, option);
        return 0;
    }
    return 1;
}

/* Load a labelled validation set: IDX images and labels, preprocessed with
 * the training run's range; label 1 for classes other than normal. */
static iae_status load_labelled(iae_ctx *ctx, const char *images_path, const char *labels_path, int normal, float lo,
                                float hi, iae_dataset *out) {
    iae_idx images = {0}, labels = {0};
    iae_status st = iae_idx_read(ctx, images_path, &images);
    if (st == IAE_OK) st = iae_idx_read(ctx, labels_path, &labels);
    if (st == IAE_OK && (images.ndim != 3 || images.dims[1] != 28 || images.dims[2] != 28))
        st = iae_fail(ctx, IAE_ERR_FORMAT, "validation images '%s' are not (N, 28, 28)", images_path);
    if (st == IAE_OK && (labels.ndim != 1 || labels.dims[0] != images.dims[0]))
        st = iae_fail(ctx, IAE_ERR_FORMAT, "validation labels '%s' do not match the %d images of '%s'", labels_path,
                      images.dims[0], images_path);
    if (st == IAE_OK) {
        const int n = images.dims[0];
        *out = (iae_dataset){.n = n, .c = 1, .h = 32, .w = 32};
        out->x = iae_alloc(ctx, sizeof(float) * 1024 * n, "validation images");
        out->label = iae_alloc(ctx, (size_t)n, "validation labels");
        out->cls = iae_alloc(ctx, (size_t)n, "validation labels");
        if (!out->x || !out->label || !out->cls) st = IAE_ERR_NOMEM;
        if (st == IAE_OK) {
            iae_pad_scale_gcn(images.data, n, 28, 28, 2, out->x);
            iae_minmax_apply(out->x, 1024L * n, lo, hi);
            long anomalous = 0;
            for (int i = 0; i < n; i++) {
                out->cls[i] = labels.data[i];
                out->label[i] = labels.data[i] != normal;
                anomalous += out->label[i];
            }
            if (anomalous == 0 || anomalous == n)
                st = iae_fail(ctx, IAE_ERR_ARGUMENT,
                              "the labelled validation set needs normal and anomalous images; '%s' has %ld of %d "
                              "anomalous",
                              labels_path, anomalous, n);
        }
        if (st != IAE_OK) iae_dataset_free(out);
    }
    iae_idx_free(&images);
    iae_idx_free(&labels);
    return st;
}

int cmd_search(int argc, char **argv) {
    const char *out = NULL, *data_dir = IAE_DEFAULT_FMNIST_DIR, *vimages = NULL, *vlabels = NULL;
    long normal = -1, trials = 10, pre = 10, epochs = 10, batch = 64, threads = 0;
    uint64_t seed = 0;
    int model = IAE_MODEL_IAE_LSTM_KL, grid = 0, quiet = 0, score = 5, data_given = 0;
    int objective = IAE_OBJECTIVE_ONE_CLASS;
    double ranges[3][2] = {{1e-4, 1e2}, {1e-5, 1e1}, {0.01, 0.5}}, val_fraction = 0.1;
    int tune_given[3] = {0, 0, 0};
    unsigned char seen[OPT_LAST - OPT_CLASS] = {0};

    opterr = 0;
    optind = 1;
    int c, index = 0;
    while ((c = getopt_long(argc, argv, ":", search_options, &index)) != -1) {
        int ok = 1;
        if (c >= OPT_CLASS && c < OPT_LAST && !cli_first_use(seen, c - OPT_CLASS, search_options[index].name))
            return IAE_EXIT_USAGE;
        switch (c) {
        case OPT_CLASS: ok = cli_parse_int("--normal-class", optarg, 0, 9, &normal); break;
        case OPT_OUT: out = optarg; break;
        case OPT_MODEL:
            if ((model = iae_model_parse(optarg)) < 0) {
                cli_error("invalid value '%s' for --model: expected iae-lstm-kl, cae, deep-svdd, dcae-svdd, iae-lstm or "
                          "iae-kl",
                          optarg);
                ok = 0;
            }
            break;
        case OPT_METHOD:
            if (strcmp(optarg, "random") == 0 || strcmp(optarg, "grid") == 0)
                grid = strcmp(optarg, "grid") == 0;
            else {
                cli_error("invalid value '%s' for --method: expected random or grid", optarg);
                ok = 0;
            }
            break;
        case OPT_TRIALS: ok = cli_parse_int("--trials", optarg, 1, 1000, &trials); break;
        case OPT_WMSE: ok = parse_range("--w-mse", optarg, 1, &ranges[0][0], &ranges[0][1]), tune_given[0] = 1; break;
        case OPT_WKL: ok = parse_range("--w-kl", optarg, 1, &ranges[1][0], &ranges[1][1]), tune_given[1] = 1; break;
        case OPT_NU: ok = parse_range("--nu", optarg, 0, &ranges[2][0], &ranges[2][1]), tune_given[2] = 1; break;
        case OPT_OBJECTIVE:
            if (strcmp(optarg, "one-class") == 0 || strcmp(optarg, "soft-boundary") == 0)
                objective = strcmp(optarg, "one-class") == 0 ? IAE_OBJECTIVE_ONE_CLASS : IAE_OBJECTIVE_SOFT_BOUNDARY;
            else {
                cli_error("invalid value '%s' for --objective: expected one-class or soft-boundary", optarg);
                ok = 0;
            }
            break;
        case OPT_SCORE:
            score = -1;
            for (int k = 0; k < IAE_N_SCORES; k++)
                if (strcmp(optarg, iae_score_names[k]) == 0) score = k;
            if (score < 0) {
                cli_error("invalid value '%s' for --score: expected svdd, mse, svdd_mse, l1_svdd, l1_mse or combined",
                          optarg);
                ok = 0;
            }
            break;
        case OPT_VIMAGES: vimages = optarg; break;
        case OPT_VLABELS: vlabels = optarg; break;
        case OPT_VALFRAC: ok = cli_parse_float("--validation-fraction", optarg, 0, 0.9, &val_fraction); break;
        case OPT_PRE: ok = cli_parse_int("--pretrain-epochs", optarg, 0, 100000, &pre); break;
        case OPT_EPOCHS: ok = cli_parse_int("--epochs", optarg, 0, 100000, &epochs); break;
        case OPT_BATCH: ok = cli_parse_int("--batch-size", optarg, 2, 4096, &batch); break;
        case OPT_SEED: ok = cli_parse_u64("--seed", optarg, &seed); break;
        case OPT_THREADS: ok = cli_parse_int("--threads", optarg, 1, 1024, &threads); break;
        case OPT_DATA: data_dir = optarg, data_given = 1; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_HELP: search_usage(stdout); return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
        case ':':
            cli_error("option %s needs a value; run 'iae search --help'", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        default:
            cli_error("unknown option '%s'; run 'iae search --help' for the list of options", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        }
        if (!ok) return IAE_EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'; run 'iae search --help'", argv[optind]);
        return IAE_EXIT_USAGE;
    }
    if (normal < 0 || out == NULL) {
        cli_error("%s is required; run 'iae search --help'", normal < 0 ? "--normal-class" : "--out");
        return IAE_EXIT_USAGE;
    }
    if ((vimages == NULL) != (vlabels == NULL)) {
        cli_error("--validation-images and --validation-labels go together; pass both");
        return IAE_EXIT_USAGE;
    }
    iae_search_options so = {.grid = grid, .trials = (int)trials, .score = score, .out_csv = out};
    const iae_model_kind kind = (iae_model_kind)model;
    /* Search only the weights the model uses: w_mse with a decoder and SVDD,
     * w_kl with KL, nu with soft-boundary. A range on the command line forces
     * its weight into the search. */
    so.tune[0] = tune_given[0] || (iae_model_has_decoder(kind) && iae_model_has_svdd(kind));
    so.tune[1] = tune_given[1] || iae_model_has_kl(kind);
    so.tune[2] = tune_given[2] || objective == IAE_OBJECTIVE_SOFT_BOUNDARY;
    for (int p = 0; p < 3; p++) so.lo[p] = ranges[p][0], so.hi[p] = ranges[p][1];

    iae_ctx ctx;
    iae_ctx_init(&ctx, (int)threads);
    if (iae_output_path_check(&ctx, out, "--out") != IAE_OK) {
        cli_error("%s", ctx.error);
        return IAE_EXIT_USAGE;
    }
    iae_progress progress;
    iae_progress_init(&progress, stderr, quiet);
    iae_fmnist_options fo = {.dir = data_dir, .normal_class = (int)normal, .dir_is_default = !data_given};
    iae_dataset train = {0}, labelled = {0};
    float lo = 0, hi = 0;
    int rc = IAE_EXIT_FAILURE;
    if (iae_fmnist_load(&ctx, &fo, &train, NULL, &lo, &hi) != IAE_OK) goto fail;
    if (vimages && load_labelled(&ctx, vimages, vlabels, (int)normal, lo, hi, &labelled) != IAE_OK) goto fail;

    iae_detector_info *b = &so.base;
    b->model = kind;
    b->net = iae_lenet_config(1, iae_model_has_lstm(kind), iae_model_has_decoder(kind));
    snprintf(b->dataset, sizeof(b->dataset), "fashion-mnist");
    b->normal_class = (int)normal;
    b->norm_min = lo, b->norm_max = hi;
    b->objective = (iae_objective)objective;
    b->nu = 0.1f;
    iae_fmnist_default_weights(kind, (int)normal, &b->w_mse, &b->w_kl);
    b->seed = seed;
    b->batch_size = (int)batch;
    b->epochs = (int)epochs, b->pretrain_epochs = (int)pre;
    b->lr = 1e-4f, b->weight_decay = 0.5e-6f;
    b->bn_train_mode = 1;
    b->train_samples = train.n;
    b->validation_fraction = (float)val_fraction;
    b->threshold_fpr = 0.05f;
    b->lstm_impl = IAE_LSTM_FUSED, b->lstm_bf16 = 1;
    so.labelled = vimages ? &labelled : NULL;

    iae_trial best;
    if (iae_search(&ctx, &so, &train, &progress, &best) != IAE_OK) goto fail;
    printf("best of the search (%s AUROC %.4f on %s): --mse-weight %.6g --kl-weight %.6g%s", iae_score_names[score],
           best.auroc, vimages ? "the labelled validation set" : "proxy anomalies", best.value[0], best.value[1],
           objective == IAE_OBJECTIVE_SOFT_BOUNDARY ? "" : "\n");
    if (objective == IAE_OBJECTIVE_SOFT_BOUNDARY) printf(" --nu %.6g\n", best.value[2]);
    printf("all trials: %s\n", out);
    rc = cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
    goto done;
fail:
    cli_error("%s", ctx.error);
done:
    iae_dataset_free(&train);
    iae_dataset_free(&labelled);
    return rc;
}
