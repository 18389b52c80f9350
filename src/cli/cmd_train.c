/* iae train: the main job, end to end on one normal class. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "data/fashion_mnist.h"
#include "io/model_file.h"
#include "report/metrics.h"

#define DEFAULT_PRETRAIN_EPOCHS 10
#define DEFAULT_EPOCHS 10
#define DEFAULT_BATCH 64

static void train_usage(FILE *out) {
    fprintf(out,
            "usage: iae train --normal-class N [OPTIONS]\n"
            "\n"
            "Pre-train the autoencoder with the reconstruction loss, copy its weights and\n"
            "BatchNorm statistics into IAE-LSTM-KL, place the SVDD center, train, then score\n"
            "the whole test set and print the AUROC of each score.\n"
            "\n"
            "data:\n"
            "  --dataset NAME          data set kind: fashion-mnist (default fashion-mnist)\n"
            "  --data DIR              folder with the IDX files (default %s)\n"
            "  --normal-class N        class treated as normal, 0-9 (required)\n"
            "  --reference-normalization\n"
            "                          min-max scale with the reference code's constant table\n"
            "                          instead of the normal class's own training min and max\n"
            "training:\n"
            "  --pretrain-epochs N     autoencoder pre-training epochs (default %d)\n"
            "  --epochs N              IAE-LSTM-KL training epochs (default %d)\n"
            "  --batch-size N          mini-batch size, also the LSTM sequence length, >= 2\n"
            "                          (default %d)\n"
            "  --lr X                  Adam learning rate (default 1e-4)\n"
            "  --weight-decay X        L2 penalty added to the gradient (default 5e-7)\n"
            "  --mse-weight X          weight of the reconstruction MSE (default: the reference's\n"
            "                          value for the normal class, 5.112069 for class 0)\n"
            "  --kl-weight X           weight of the KL term (default: the reference's value for\n"
            "                          the normal class, 0.000998 for class 0)\n"
            "  --kl-form FORM          reference: KL on the raw features as the reference code\n"
            "                          (default); log-softmax: KL(target || softmax(z))\n"
            "  --joint-batchnorm MODE  BatchNorm during joint training: train (batch statistics,\n"
            "                          default) or eval (the autoencoder's running statistics)\n"
            "  --seed N                seed of initialisation, data order and KL targets (default 0)\n"
            "  --threads N             CPU threads (default: all online cores)\n"
            "output:\n"
            "  --out FILE              save the trained model\n"
            "  --metrics FILE          write the run's settings, loss history and AUROCs as JSON\n"
            "  --quiet                 no progress output on stderr\n"
            "  --help                  show this message\n",
            IAE_DEFAULT_FMNIST_DIR, DEFAULT_PRETRAIN_EPOCHS, DEFAULT_EPOCHS, DEFAULT_BATCH);
}

enum {
    OPT_DATASET = 256, OPT_DATA, OPT_CLASS, OPT_REFNORM, OPT_PRE_EPOCHS, OPT_EPOCHS, OPT_BATCH, OPT_LR,
    OPT_WD, OPT_MSE_W, OPT_KL_W, OPT_KL_FORM, OPT_JOINT_BN, OPT_SEED, OPT_THREADS, OPT_OUT, OPT_METRICS,
    OPT_QUIET, OPT_HELP,
};

static const struct option train_options[] = {
    {"dataset", required_argument, 0, OPT_DATASET},
    {"data", required_argument, 0, OPT_DATA},
    {"normal-class", required_argument, 0, OPT_CLASS},
    {"reference-normalization", no_argument, 0, OPT_REFNORM},
    {"pretrain-epochs", required_argument, 0, OPT_PRE_EPOCHS},
    {"epochs", required_argument, 0, OPT_EPOCHS},
    {"batch-size", required_argument, 0, OPT_BATCH},
    {"lr", required_argument, 0, OPT_LR},
    {"weight-decay", required_argument, 0, OPT_WD},
    {"mse-weight", required_argument, 0, OPT_MSE_W},
    {"kl-weight", required_argument, 0, OPT_KL_W},
    {"kl-form", required_argument, 0, OPT_KL_FORM},
    {"joint-batchnorm", required_argument, 0, OPT_JOINT_BN},
    {"seed", required_argument, 0, OPT_SEED},
    {"threads", required_argument, 0, OPT_THREADS},
    {"out", required_argument, 0, OPT_OUT},
    {"metrics", required_argument, 0, OPT_METRICS},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

int cmd_train(int argc, char **argv) {
    const char *data_dir = IAE_DEFAULT_FMNIST_DIR, *out_path = NULL, *metrics_path = NULL;
    long normal_class = -1, pre_epochs = DEFAULT_PRETRAIN_EPOCHS, epochs = DEFAULT_EPOCHS;
    long batch = DEFAULT_BATCH, threads = 0;
    double lr = 1e-4, wd = 0.5e-6, w_mse = -1, w_kl = -1;
    uint64_t seed = 0;
    int quiet = 0, refnorm = 0, kl_form = IAE_KL_REFERENCE, bn_train = 1;

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", train_options, NULL)) != -1) {
        int ok = 1;
        switch (c) {
        case OPT_DATASET:
            if (strcmp(optarg, "fashion-mnist") != 0) {
                cli_error("unknown data set '%s' for --dataset: supported is fashion-mnist", optarg);
                ok = 0;
            }
            break;
        case OPT_DATA: data_dir = optarg; break;
        case OPT_CLASS: ok = cli_parse_int("--normal-class", optarg, 0, 9, &normal_class); break;
        case OPT_REFNORM: refnorm = 1; break;
        case OPT_PRE_EPOCHS: ok = cli_parse_int("--pretrain-epochs", optarg, 0, 100000, &pre_epochs); break;
        case OPT_EPOCHS: ok = cli_parse_int("--epochs", optarg, 0, 100000, &epochs); break;
        case OPT_BATCH: ok = cli_parse_int("--batch-size", optarg, 2, 4096, &batch); break;
        case OPT_LR: ok = cli_parse_float("--lr", optarg, 1e-12, 10, &lr); break;
        case OPT_WD: ok = cli_parse_float("--weight-decay", optarg, 0, 10, &wd); break;
        case OPT_MSE_W: ok = cli_parse_float("--mse-weight", optarg, 0, 1e9, &w_mse); break;
        case OPT_KL_W: ok = cli_parse_float("--kl-weight", optarg, 0, 1e9, &w_kl); break;
        case OPT_KL_FORM:
            if (strcmp(optarg, "reference") == 0)
                kl_form = IAE_KL_REFERENCE;
            else if (strcmp(optarg, "log-softmax") == 0)
                kl_form = IAE_KL_LOG_SOFTMAX;
            else {
                cli_error("invalid value '%s' for --kl-form: expected reference or log-softmax", optarg);
                ok = 0;
            }
            break;
        case OPT_JOINT_BN:
            if (strcmp(optarg, "train") == 0 || strcmp(optarg, "eval") == 0)
                bn_train = strcmp(optarg, "train") == 0;
            else {
                cli_error("invalid value '%s' for --joint-batchnorm: expected train or eval", optarg);
                ok = 0;
            }
            break;
        case OPT_SEED: ok = cli_parse_u64("--seed", optarg, &seed); break;
        case OPT_THREADS: ok = cli_parse_int("--threads", optarg, 1, 1024, &threads); break;
        case OPT_OUT: out_path = optarg; break;
        case OPT_METRICS: metrics_path = optarg; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_HELP: train_usage(stdout); return 0;
        case ':':
            cli_error("option %s needs a value; run 'iae train --help'", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        default:
            cli_error("unknown option '%s'; run 'iae train --help' for the list of options", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        }
        if (!ok) return IAE_EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s'; run 'iae train --help'", argv[optind]);
        return IAE_EXIT_USAGE;
    }
    if (normal_class < 0) {
        cli_error("--normal-class is required: pass the class (0-9) to treat as normal");
        return IAE_EXIT_USAGE;
    }

    const double t_start = iae_now_s();
    iae_ctx ctx;
    iae_ctx_init(&ctx, (int)threads);
    iae_progress progress;
    iae_progress_init(&progress, stderr, quiet);

    /* Data. */
    iae_fmnist_options fo = {.dir = data_dir, .normal_class = (int)normal_class, .reference_normalization = refnorm};
    iae_dataset train = {0}, test = {0};
    float nmin = 0, nmax = 0;
    if (iae_fmnist_load(&ctx, &fo, &train, &test, &nmin, &nmax) != IAE_OK) {
        cli_error("%s", ctx.error);
        return IAE_EXIT_FAILURE;
    }
    long anomalous = 0;
    for (int i = 0; i < test.n; i++) anomalous += test.label[i];
    iae_progress_note(&progress,
                      "fashion-mnist, normal class %ld: %d training images, %d test images (%ld anomalous); "
                      "min-max %.6g..%.6g (%s)",
                      normal_class, train.n, test.n, anomalous, nmin, nmax,
                      refnorm ? "reference table" : "normal training images");

    /* Settings. */
    iae_detector_info info = {0};
    info.net = iae_lenet_config(1, 1, 1);
    snprintf(info.dataset, sizeof(info.dataset), "fashion-mnist");
    info.normal_class = (int)normal_class;
    info.reference_normalization = refnorm;
    info.norm_min = nmin;
    info.norm_max = nmax;
    info.objective = IAE_OBJECTIVE_ONE_CLASS;
    info.nu = 0.1f;
    info.w_mse = w_mse >= 0 ? (float)w_mse : iae_fmnist_reference_w_mse[normal_class];
    info.w_kl = w_kl >= 0 ? (float)w_kl : iae_fmnist_reference_w_kl[normal_class];
    info.kl_form = kl_form;
    info.seed = seed;
    info.batch_size = (int)batch;
    info.epochs = (int)epochs;
    info.pretrain_epochs = (int)pre_epochs;
    info.lr = (float)lr;
    info.weight_decay = (float)wd;
    info.bn_train_mode = bn_train;
    info.train_samples = train.n;
    iae_progress_note(&progress,
                      "seed %llu, batch %ld, %ld pre-training + %ld training epochs, lr %g, mse weight %g, "
                      "kl weight %g, %d threads",
                      (unsigned long long)seed, batch, pre_epochs, epochs, lr, info.w_mse, info.w_kl, ctx.threads);

    /* Train, score, report. */
    int rc = IAE_EXIT_FAILURE;
    iae_detector *det = NULL;
    iae_train_history history = {0};
    iae_scores scores = {0};
    if (iae_train_detector(&ctx, &info, &train, &progress, &det, &history) != IAE_OK) goto fail;
    iae_progress_note(&progress, "copied %d tensors from the autoencoder; scoring %d test images", history.transferred,
                      test.n);
    if (iae_score(&ctx, det, test.x, test.n, info.batch_size, &scores) != IAE_OK) goto fail;

    iae_metrics m = {.command = "train", .model = "iae-lstm-kl", .info = &det->info, .train_samples = train.n,
                     .test_samples = test.n, .test_anomalous = (int)anomalous, .threads = ctx.threads,
                     .history = &history};
    iae_scores_auroc(&scores, test.label, m.auroc);
    m.seconds = iae_now_s() - t_start;
    iae_metrics_print(stdout, &m);
    printf("total time %.1f s\n", m.seconds);
    if (out_path != NULL) {
        if (iae_model_save(&ctx, det, out_path) != IAE_OK) goto fail;
        iae_progress_note(&progress, "saved model to %s", out_path);
    }
    if (metrics_path != NULL) {
        if (iae_metrics_write_json(&ctx, metrics_path, &m) != IAE_OK) goto fail;
        iae_progress_note(&progress, "wrote metrics to %s", metrics_path);
    }
    rc = 0;
fail:
    if (rc != 0) cli_error("%s", ctx.error);
    iae_scores_free(&scores);
    iae_train_history_free(&history);
    iae_detector_free(det);
    iae_dataset_free(&train);
    iae_dataset_free(&test);
    return rc;
}
