/* iae train: the main job, end to end on one data set. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "io/atomic_file.h"
#include "io/model_file.h"
#include "pipeline/checkpoint.h"
#include "pipeline/experiment.h"
#include "report/metrics.h"

#define DEFAULT_PRETRAIN_EPOCHS 10
#define DEFAULT_EPOCHS 10
#define DEFAULT_BATCH 64

static void train_usage(FILE *out) {
    fputs("usage: iae train [--dataset NAME] DATA OPTIONS [OPTIONS]\n"
          "\n"
          "Pre-train the autoencoder with the reconstruction loss, copy its weights and\n"
          "BatchNorm statistics into IAE-LSTM-KL, place the SVDD center, train, then score\n"
          "the whole test set and print the AUROC of each score.\n"
          "\n"
          "examples:\n"
          "  iae train --normal-class 0\n"
          "  iae train --dataset cifar10 --data cifar-10-batches-bin --normal-class 3\n"
          "  iae train --dataset mvtec --data mvtec_anomaly_detection --category bottle --maps maps\n"
          "  iae train --dataset csv-windows --data wtbi.csv --label-column frozen --drop-columns time,group\n"
          "  iae train --dataset folder --train good --test-normal ok --test-anomalous bad\n"
          "\n",
          out);
    cli_data_usage(out, 1);
    fprintf(out,
            "model (the network follows the data: LeNet on 32x32 inputs with their channels, the\n"
            "MVTec network on 3x64x64 ones, whose LSTM alone has 134 M parameters):\n"
            "  --model NAME            iae-lstm-kl (default), cae (autoencoder, reconstruction\n"
            "                          scores), deep-svdd (encoder and SVDD, pre-trained from the\n"
            "                          autoencoder), dcae-svdd (autoencoder and SVDD jointly),\n"
            "                          iae-lstm (no KL term), iae-kl (no LSTM)\n"
            "  --objective NAME        one-class (default) or soft-boundary (SVDD with radius R)\n"
            "  --nu X                  soft-boundary share of samples allowed outside the radius,\n"
            "                          0 to 1 (default 0.1; csv-windows iae-lstm-kl: the reference's\n"
            "                          WTBI value 0.898364)\n"
            "  --radius-rule NAME      soft-boundary R after each step past epoch 10, as the\n"
            "                          (1 - nu) quantile of: reference (the per-sample loss values,\n"
            "                          as the reference's autoencoder models do; default) or\n"
            "                          distance (the distances, as Deep SVDD defines it)\n"
            "training:\n"
            "  --pretrain-epochs N     autoencoder pre-training epochs, 0-100000 (default %d)\n"
            "  --epochs N              IAE-LSTM-KL training epochs, 0-100000 (default %d)\n"
            "  --batch-size N          mini-batch size, also the LSTM sequence length, 2-4096\n"
            "                          (default %d)\n"
            "  --lr X                  Adam learning rate, 1e-12 to 10 (default 1e-4)\n"
            "  --weight-decay X        L2 penalty added to the gradient, 0 to 10 (default 5e-7)\n"
            "  --mse-weight X          weight of the reconstruction MSE, 0 to 1e9 (default: the\n"
            "                          reference's value for the model, data set and class, such as\n"
            "                          5.112069 for iae-lstm-kl on Fashion-MNIST class 0, 1 on MVTec\n"
            "                          AD, 0.000158 on csv-windows (WTBI); 1 where the reference has\n"
            "                          none, as for folder)\n"
            "  --kl-weight X           weight of the KL term, 0 to 1e9 (default: the reference's\n"
            "                          value, such as 0.000998 for iae-lstm-kl on Fashion-MNIST\n"
            "                          class 0; 0 where the reference has none)\n"
            "  --kl-form FORM          reference: KL on the raw features as the reference code\n"
            "                          (default); log-softmax: KL(target || softmax(z))\n"
            "  --joint-batchnorm MODE  BatchNorm during joint training: train (batch statistics,\n"
            "                          default) or eval (the autoencoder's running statistics)\n"
            "  --validation-fraction X share of the normal training images held out from gradient\n"
            "                          steps; their scores set the threshold and the combined\n"
            "                          score's statistics, 0 to 0.9 (default 0.1; 0 trains on all\n"
            "                          images as the reference code does)\n"
            "  --threshold-fpr X       false-positive rate on the held-out normals that sets the\n"
            "                          decision threshold, 0 to 1 (default 0.05)\n"
            "  --seed N                seed of initialisation, data order and KL targets,\n"
            "                          0 to 2^64-1 (default 0)\n"
            "  --threads N             CPU threads, 1-1024 (default: all online cores)\n"
            "  --lstm-kernel NAME      fused: iae's recurrent kernels (default); gemv: one OpenBLAS\n"
            "                          sgemv per step, the straightforward path, for checking\n"
            "  --lstm-precision P      bf16: the fused kernel's recurrent products read a bf16 copy\n"
            "                          of the recurrent weights, with fp32 master weights and fp32\n"
            "                          sums (default; class 0 AUROCs matched fp32 within 0.0003);\n"
            "                          fp32: full precision, about 1.3x slower per training step\n"
            "checkpoints:\n"
            "  --checkpoint-every N    save a checkpoint after every N epochs of either phase\n"
            "                          (default 0: none)\n"
            "  --checkpoint FILE       where to save it (default: the --out path plus .ckpt)\n"
            "  --resume FILE           continue the run saved in this checkpoint, with its own\n"
            "                          settings; with the same thread count the final model is\n"
            "                          bit-identical to an uninterrupted run\n"
            "output:\n"
            "  --out FILE              save the trained model, about 137 MB with the LeNet LSTM and\n"
            "                          545 MB with the MVTec one (default: not saved)\n"
            "  --maps DIR              mvtec: write one anomaly map per test image into DIR (created\n"
            "                          when missing) as an 8-bit gray PNG at the image's own size,\n"
            "                          black = lowest and white = highest squared reconstruction error\n"
            "                          over the test set, and report the pixel AUROC against the\n"
            "                          ground-truth masks (at the stored size up to 256 pixels a\n"
            "                          side, scaled down to 256 beyond; default: no maps)\n"
            "  --metrics FILE          write the run's settings, loss history and AUROCs as JSON\n"
            "                          (default: not written)\n"
            "  --quiet                 no progress output on stderr\n"
            "  --help                  show this message\n",
            DEFAULT_PRETRAIN_EPOCHS, DEFAULT_EPOCHS, DEFAULT_BATCH);
}

enum {
    OPT_DATASET = 256, OPT_DATA, OPT_CLASS, OPT_REFNORM, OPT_PRE_EPOCHS, OPT_EPOCHS, OPT_BATCH, OPT_LR,
    OPT_WD, OPT_MSE_W, OPT_KL_W, OPT_KL_FORM, OPT_JOINT_BN, OPT_SEED, OPT_THREADS, OPT_OUT, OPT_METRICS,
    OPT_QUIET, OPT_HELP, OPT_BF16, OPT_KERNEL, OPT_VALFRAC, OPT_FPR, OPT_CK_EVERY, OPT_CK_PATH, OPT_RESUME, OPT_MODEL,
    OPT_OBJECTIVE, OPT_NU, OPT_RADIUS_RULE, OPT_CONTAMINATION, OPT_CATEGORY, OPT_LABEL_COLUMN, OPT_DROP_COLUMNS,
    OPT_WINDOW, OPT_STRIDE, OPT_TRAIN_DIR, OPT_TEST_NORMAL, OPT_TEST_ANOMALOUS, OPT_IMAGE_SIZE, OPT_CHANNELS,
    OPT_MAPS, OPT_LAST
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
    {"lstm-precision", required_argument, 0, OPT_BF16},
    {"lstm-kernel", required_argument, 0, OPT_KERNEL},
    {"validation-fraction", required_argument, 0, OPT_VALFRAC},
    {"threshold-fpr", required_argument, 0, OPT_FPR},
    {"checkpoint-every", required_argument, 0, OPT_CK_EVERY},
    {"checkpoint", required_argument, 0, OPT_CK_PATH},
    {"resume", required_argument, 0, OPT_RESUME},
    {"model", required_argument, 0, OPT_MODEL},
    {"objective", required_argument, 0, OPT_OBJECTIVE},
    {"nu", required_argument, 0, OPT_NU},
    {"radius-rule", required_argument, 0, OPT_RADIUS_RULE},
    {"contamination", required_argument, 0, OPT_CONTAMINATION},
    {"category", required_argument, 0, OPT_CATEGORY},
    {"label-column", required_argument, 0, OPT_LABEL_COLUMN},
    {"drop-columns", required_argument, 0, OPT_DROP_COLUMNS},
    {"window", required_argument, 0, OPT_WINDOW},
    {"stride", required_argument, 0, OPT_STRIDE},
    {"train", required_argument, 0, OPT_TRAIN_DIR},
    {"test-normal", required_argument, 0, OPT_TEST_NORMAL},
    {"test-anomalous", required_argument, 0, OPT_TEST_ANOMALOUS},
    {"image-size", required_argument, 0, OPT_IMAGE_SIZE},
    {"channels", required_argument, 0, OPT_CHANNELS},
    {"maps", required_argument, 0, OPT_MAPS},
    {0, 0, 0, 0},
};

/* Reject an output path that names an input file or the other output. */
static int check_output_conflicts(const char *out, const char *metrics, const char *out_name,
                                  const char *metrics_name, const iae_data_source *src) {
    char a[IAE_PATH_BYTES], b[IAE_PATH_BYTES];
    if (out && metrics && iae_canonical_path(out, a, sizeof(a)) && iae_canonical_path(metrics, b, sizeof(b)) &&
        strcmp(a, b) == 0) {
        cli_error("%s and %s name the same file '%s'; give two different files", out_name, metrics_name, out);
        return 0;
    }
    return cli_check_output_not_input(out_name, out, src) && cli_check_output_not_input(metrics_name, metrics, src);
}

int cmd_train(int argc, char **argv) {
    const char *out_path = NULL, *metrics_path = NULL, *maps_dir = NULL;
    long pre_epochs = DEFAULT_PRETRAIN_EPOCHS, epochs = DEFAULT_EPOCHS;
    long batch = DEFAULT_BATCH, threads = 0;
    double lr = 1e-4, wd = 0.5e-6, w_mse = -1, w_kl = -1, val_fraction = 0.1, fpr = 0.05, nu = -1, contamination = 0;
    int model = IAE_MODEL_IAE_LSTM_KL, objective = IAE_OBJECTIVE_ONE_CLASS, radius_from_distance = 0;
    uint64_t seed = 0;
    int quiet = 0, kl_form = IAE_KL_REFERENCE, bn_train = 1, bf16 = 1;
    cli_data_args dargs;
    cli_data_args_init(&dargs);
    iae_lstm_impl lstm_impl = IAE_LSTM_FUSED;
    long ck_every = 0;
    const char *ck_path = NULL, *resume_path = NULL;
    char ck_default[IAE_PATH_BYTES + 8];
    unsigned char seen[OPT_LAST - OPT_DATASET] = {0};

    opterr = 0;
    optind = 1;
    int c, index = 0;
    while ((c = getopt_long(argc, argv, ":", train_options, &index)) != -1) {
        int ok = 1;
        if (c >= OPT_DATASET && c < OPT_LAST && !cli_first_use(seen, c - OPT_DATASET, train_options[index].name))
            return IAE_EXIT_USAGE;
        switch (c) {
        case OPT_DATASET: ok = cli_parse_dataset(optarg, &dargs); break;
        case OPT_DATA:
            dargs.data = optarg;
            if (optarg[0] == 0) {
                cli_error("--data needs a folder or file, got an empty string");
                ok = 0;
            }
            break;
        case OPT_CLASS: ok = cli_parse_int("--normal-class", optarg, 0, 9, &dargs.normal_class); break;
        case OPT_REFNORM: dargs.reference_normalization = 1; break;
        case OPT_CATEGORY: dargs.category = optarg; break;
        case OPT_LABEL_COLUMN: dargs.label_column = optarg; break;
        case OPT_DROP_COLUMNS: dargs.drop_columns = optarg; break;
        case OPT_WINDOW: ok = cli_parse_int("--window", optarg, 1, IAE_CSV_DEFAULT_SIDE, &dargs.window); break;
        case OPT_STRIDE: ok = cli_parse_int("--stride", optarg, 1, 100000, &dargs.stride); break;
        case OPT_TRAIN_DIR: dargs.train_dir = optarg; break;
        case OPT_TEST_NORMAL: dargs.test_normal_dir = optarg; break;
        case OPT_TEST_ANOMALOUS: dargs.test_anomalous_dir = optarg; break;
        case OPT_IMAGE_SIZE:
            ok = cli_parse_int("--image-size", optarg, 32, 64, &dargs.image_size);
            if (ok && dargs.image_size != 32 && dargs.image_size != 64) {
                cli_error("invalid value '%s' for --image-size: expected 32 (LeNet) or 64 (MVTec network)", optarg);
                ok = 0;
            }
            break;
        case OPT_CHANNELS:
            ok = cli_parse_int("--channels", optarg, 1, 3, &dargs.channels);
            if (ok && dargs.channels == 2) {
                cli_error("invalid value '%s' for --channels: expected 1 (gray) or 3 (RGB)", optarg);
                ok = 0;
            }
            break;
        case OPT_MAPS:
            maps_dir = optarg;
            if (optarg[0] == 0) {
                cli_error("--maps needs a folder, got an empty string");
                ok = 0;
            }
            break;
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
        case OPT_BF16:
            if (strcmp(optarg, "bf16") == 0 || strcmp(optarg, "fp32") == 0)
                bf16 = strcmp(optarg, "bf16") == 0;
            else {
                cli_error("invalid value '%s' for --lstm-precision: expected bf16 or fp32", optarg);
                ok = 0;
            }
            break;
        case OPT_VALFRAC: ok = cli_parse_float("--validation-fraction", optarg, 0, 0.9, &val_fraction); break;
        case OPT_FPR: ok = cli_parse_float("--threshold-fpr", optarg, 0, 1, &fpr); break;
        case OPT_CK_EVERY: ok = cli_parse_int("--checkpoint-every", optarg, 0, 100000, &ck_every); break;
        case OPT_CK_PATH: ck_path = optarg; break;
        case OPT_RESUME: resume_path = optarg; break;
        case OPT_MODEL:
            if ((model = iae_model_parse(optarg)) < 0) {
                cli_error("invalid value '%s' for --model: expected iae-lstm-kl, cae, deep-svdd, dcae-svdd, iae-lstm or "
                          "iae-kl",
                          optarg);
                ok = 0;
            }
            break;
        case OPT_OBJECTIVE:
            if (strcmp(optarg, "one-class") == 0 || strcmp(optarg, "soft-boundary") == 0)
                objective = strcmp(optarg, "one-class") == 0 ? IAE_OBJECTIVE_ONE_CLASS : IAE_OBJECTIVE_SOFT_BOUNDARY;
            else {
                cli_error("invalid value '%s' for --objective: expected one-class or soft-boundary", optarg);
                ok = 0;
            }
            break;
        case OPT_NU: ok = cli_parse_float("--nu", optarg, 1e-6, 1, &nu); break;
        case OPT_RADIUS_RULE:
            if (strcmp(optarg, "reference") == 0 || strcmp(optarg, "distance") == 0)
                radius_from_distance = strcmp(optarg, "distance") == 0;
            else {
                cli_error("invalid value '%s' for --radius-rule: expected reference or distance", optarg);
                ok = 0;
            }
            break;
        case OPT_CONTAMINATION: ok = cli_parse_float("--contamination", optarg, 0, 0.5, &contamination); break;
        case OPT_KERNEL:
            if (strcmp(optarg, "fused") == 0 || strcmp(optarg, "gemv") == 0)
                lstm_impl = strcmp(optarg, "gemv") == 0 ? IAE_LSTM_GEMV : IAE_LSTM_FUSED;
            else {
                cli_error("invalid value '%s' for --lstm-kernel: expected fused or gemv", optarg);
                ok = 0;
            }
            break;
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
    if (lstm_impl == IAE_LSTM_GEMV) {
        if (seen[OPT_BF16 - OPT_DATASET] && bf16) {
            cli_error("--lstm-precision bf16 needs the fused kernel; drop --lstm-kernel gemv");
            return IAE_EXIT_USAGE;
        }
        bf16 = 0; /* the sgemv path reads the fp32 weights */
    }
    iae_data_source src;
    iae_data_source_init(&src, IAE_SOURCE_FASHION_MNIST);
    if (resume_path != NULL) {
        /* The checkpoint fixes the run's settings; refuse conflicting ones. */
        static const int fixed[] = {OPT_DATASET, OPT_CLASS, OPT_REFNORM, OPT_PRE_EPOCHS, OPT_EPOCHS, OPT_BATCH, OPT_LR,
                                    OPT_WD, OPT_MSE_W, OPT_KL_W, OPT_KL_FORM, OPT_JOINT_BN, OPT_SEED, OPT_VALFRAC,
                                    OPT_FPR, OPT_MODEL, OPT_OBJECTIVE, OPT_NU, OPT_RADIUS_RULE, OPT_CONTAMINATION,
                                    OPT_CATEGORY, OPT_LABEL_COLUMN, OPT_DROP_COLUMNS, OPT_WINDOW, OPT_STRIDE,
                                    OPT_IMAGE_SIZE, OPT_CHANNELS};
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
            if (seen[fixed[i] - OPT_DATASET]) {
                cli_error("--resume continues the run saved in '%s' with its own settings; drop --%s", resume_path,
                          train_options[fixed[i] - OPT_DATASET].name);
                return IAE_EXIT_USAGE;
            }
    } else if (!cli_data_source_for_training(&dargs, contamination, seed, &src)) {
        return IAE_EXIT_USAGE;
    }
    if (ck_every > 0 && ck_path == NULL) {
        if (out_path == NULL) {
            cli_error("--checkpoint-every needs a place for the checkpoint: pass --checkpoint FILE or --out FILE");
            return IAE_EXIT_USAGE;
        }
        snprintf(ck_default, sizeof(ck_default), "%s.ckpt", out_path);
        ck_path = ck_default;
    }

    /* Outputs are checked before the long work, so a bad path fails at once. */
    const double t_start = iae_now_s();
    iae_ctx ctx;
    iae_ctx_init(&ctx, (int)threads);
    if ((out_path && iae_output_path_check(&ctx, out_path, "--out") != IAE_OK) ||
        (metrics_path && iae_output_path_check(&ctx, metrics_path, "--metrics") != IAE_OK) ||
        (ck_path && ck_every > 0 && iae_output_path_check(&ctx, ck_path, "--checkpoint") != IAE_OK)) {
        cli_error("%s", ctx.error);
        return IAE_EXIT_USAGE;
    }
    iae_checkpoint *resume = NULL;
    if (resume_path != NULL) {
        if (iae_checkpoint_load(&ctx, resume_path, &resume) != IAE_OK ||
            iae_data_source_from_model(&ctx, resume_path, iae_checkpoint_info(resume),
                                       iae_checkpoint_data_config(resume), &src) != IAE_OK) {
            cli_error("%s", ctx.error);
            iae_checkpoint_free(resume);
            return IAE_EXIT_FAILURE;
        }
        /* Paths may be given again, for data that moved since. */
        if (!cli_data_source_override(&dargs, resume_path, &src)) {
            iae_checkpoint_free(resume);
            iae_data_source_free(&src);
            return IAE_EXIT_USAGE;
        }
    }
    int rc = IAE_EXIT_USAGE;
    iae_detector *det = NULL;
    iae_source_data data = {0};
    iae_train_history history = {0};
    char *data_config = NULL;
    if (maps_dir != NULL && src.kind != IAE_SOURCE_MVTEC) {
        cli_error("--maps draws pixel anomaly maps of MVTec AD test images; it needs --dataset mvtec");
        goto done;
    }
    if (!check_output_conflicts(out_path, metrics_path, "--out", "--metrics", &src) ||
        (ck_every > 0 && !check_output_conflicts(ck_path, metrics_path, "--checkpoint", "--metrics", &src)) ||
        (ck_every > 0 && !check_output_conflicts(ck_path, out_path, "--checkpoint", "--out", &src)) ||
        !cli_check_output_not_input("--maps", maps_dir, &src))
        goto done;
    if (maps_dir != NULL && iae_make_dirs(&ctx, maps_dir) != IAE_OK) {
        cli_error("%s", ctx.error);
        goto done;
    }
    rc = IAE_EXIT_FAILURE;
    iae_progress progress;
    iae_progress_init(&progress, stderr, quiet);

    /* Data. */
    if (iae_data_source_load(&ctx, &src, 1, &data) != IAE_OK) goto fail;
    const iae_dataset *train = &data.train, *test = &data.test;
    long anomalous = 0;
    for (int i = 0; i < test->n; i++) anomalous += test->label[i];
    if (anomalous == 0 || anomalous == test->n) {
        iae_fail(&ctx, IAE_ERR_FORMAT, "the %s test set has %d samples, %s; AUROC needs both normal and anomalous ones",
                 iae_source_kind_name(src.kind), test->n,
                 anomalous == 0 ? "none of them anomalous" : "none of them normal");
        goto fail;
    }
    iae_progress_note(&progress, "%s: %d training samples, %d test samples (%ld anomalous)", data.summary, train->n,
                      test->n, anomalous);
    if ((data_config = iae_data_source_format(&ctx, &src)) == NULL) goto fail;

    /* Settings. */
    iae_detector_info info = {0};
    info.model = (iae_model_kind)model;
    info.net = iae_data_source_net_config(&src, info.model);
    snprintf(info.dataset, sizeof(info.dataset), "%s", iae_source_kind_name(src.kind));
    info.normal_class = src.normal_class;
    info.reference_normalization = src.reference_normalization;
    /* Kinds without a range after GCN store the identity range 0..1. */
    info.norm_min = src.have_minmax ? src.norm_min : 0.0f;
    info.norm_max = src.have_minmax ? src.norm_max : 1.0f;
    info.objective = (iae_objective)objective;
    info.radius_from_distance = radius_from_distance;
    info.contamination = contamination;
    float default_mse, default_kl, default_nu;
    iae_data_source_default_weights(&src, info.model, &default_mse, &default_kl, &default_nu);
    info.w_mse = w_mse >= 0 ? (float)w_mse : default_mse;
    info.w_kl = w_kl >= 0 ? (float)w_kl : default_kl;
    info.nu = nu >= 0 ? (float)nu : default_nu;
    info.kl_form = kl_form;
    info.seed = seed;
    info.batch_size = (int)batch;
    info.epochs = (int)epochs;
    info.pretrain_epochs = (int)pre_epochs;
    info.lr = (float)lr;
    info.weight_decay = (float)wd;
    info.bn_train_mode = bn_train;
    info.train_samples = train->n;
    info.lstm_impl = lstm_impl;
    info.validation_fraction = (float)val_fraction;
    info.threshold_fpr = (float)fpr;
    info.lstm_bf16 = bf16;
    if (resume != NULL) {
        /* Everything but the runtime kernel choice comes from the checkpoint. */
        info = *iae_checkpoint_info(resume);
        info.lstm_impl = lstm_impl;
        info.lstm_bf16 = bf16;
        iae_progress_note(&progress, "resuming the run saved in %s", resume_path);
    }
    iae_progress_note(&progress,
                      "seed %llu, batch %d, %d pre-training + %d training epochs, lr %g, mse weight %g, "
                      "kl weight %g, %d threads",
                      (unsigned long long)info.seed, info.batch_size, info.pretrain_epochs, info.epochs, info.lr,
                      info.w_mse, info.w_kl, ctx.threads);

    /* Train, score, report. */
    iae_evaluation eval;
    iae_train_options topts = {.checkpoint_path = ck_path, .checkpoint_every = (int)ck_every, .resume = resume,
                               .data_config = data_config};
    if (iae_train_detector(&ctx, &info, train, &topts, &progress, &det, &history) != IAE_OK) goto fail;
    if (iae_evaluate(&ctx, det, test, info.batch_size, &progress, &eval, NULL) != IAE_OK) goto fail;

    char task[IAE_SOURCE_NAME_BYTES + 32];
    cli_task_name(&src, task, sizeof(task));
    iae_metrics m = {.command = "train", .model = iae_model_name(det->info.model), .info = &det->info,
                     .train_samples = train->n, .test_samples = test->n, .test_anomalous = (int)anomalous,
                     .threads = ctx.threads, .eval = &eval, .history = &history, .model_file = out_path, .task = task};
    cli_fill_data_metrics(&src, &m);
    if (maps_dir != NULL && !cli_write_maps(&ctx, det, &data, info.batch_size, maps_dir, &progress, &m)) goto fail;
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
    rc = cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
    goto done;
fail:
    cli_error("%s", ctx.error);
done:
    iae_train_history_free(&history);
    iae_checkpoint_free(resume);
    iae_detector_free(det);
    iae_source_data_free(&data);
    iae_data_source_free(&src);
    iae_free(data_config);
    return rc;
}
