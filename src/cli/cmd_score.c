/* iae score: anomaly scores of new images or CSV windows with a saved model. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/score_csv.h"
#include "data/inputs.h"
#include "data/preprocess.h"
#include "io/atomic_file.h"
#include "io/model_file.h"
#include "pipeline/pipeline.h"

static void score_usage(FILE *out) {
    fputs("usage: iae score --model FILE [OPTIONS] INPUT...\n"
          "       iae score --model FILE --stream [OPTIONS] < rows.csv\n"
          "\n"
          "Score new data with a model written by 'iae train --out', preprocessed exactly as in\n"
          "training, and write one row per sample: input, index (or row), the scores svdd,\n"
          "mse, l1_svdd, l1_mse and combined (higher means more anomalous), and the decision\n"
          "when a threshold is stored or given.\n"
          "\n"
          "INPUT, by the data set the model was trained on:\n"
          "  fashion-mnist  an IDX file of 28x28 images (gzip or plain), a 28x28 PNG or PGM\n"
          "                 image (colour is converted to gray), or - for one such file on\n"
          "                 standard input\n"
          "  cifar10, mvtec, folder\n"
          "                 PNG or PGM images of any size, or - for one on standard input;\n"
          "                 each is converted to the model's channels (gray replicated, RGB to\n"
          "                 luminance) and resized with antialiasing to its input size, then\n"
          "                 scaled as in training (cifar10: L1 GCN and the stored min-max range;\n"
          "                 mvtec and 64-pixel folders: [-1, 1]; 32-pixel folders: [0, 1])\n"
          "  csv-windows    CSV files with a header row naming the columns the model was\n"
          "                 trained on (others, such as the label, are ignored); every data row\n"
          "                 from the N-th on ends one window of the last N rows, so R rows give\n"
          "                 R - N + 1 windows, each named by its last row (1-based, header not\n"
          "                 counted); values use the stored per-column min-max scaling,\n"
          "                 clipped to the trained range\n"
          "\n"
          "  --model FILE        model file (required)\n"
          "  --stream            csv-windows models: read CSV rows from standard input, header\n"
          "                      first, and write one line per row as soon as its window is full\n"
          "                      (row, scores, decision), flushing after each line; every window\n"
          "                      is scored alone (memory or none context); no INPUT\n"
          "  --format FMT        csv or json (default csv); with --stream, json writes one object\n"
          "                      per line\n"
          "  --lstm-context CTX  memory: every sample is one LSTM step from the state stored at\n"
          "                      the end of training, so its score does not depend on other\n"
          "                      samples (the model's default); none: from the zero state;\n"
          "                      batch: samples form LSTM sequences of --batch-size in input\n"
          "                      order, as the reference code scores (not with --stream)\n"
          "  --batch-size N      samples per forward pass, 1-4096 (default: the training batch\n"
          "                      size); only the batch context's scores depend on it\n"
          "  --threshold X       flag samples whose score exceeds X (default: the threshold\n"
          "                      stored with the model, on the combined score)\n"
          "  --threshold-score S score the threshold applies to: svdd, mse, l1_svdd, l1_mse or\n"
          "                      combined (default combined)\n"
          "  --out FILE          write the rows to FILE instead of standard output (not with\n"
          "                      --stream)\n"
          "  --threads N         CPU threads, 1-1024 (default: all online cores)\n"
          "  --help              show this message\n",
          out);
}

enum { OPT_MODEL = 256, OPT_FORMAT, OPT_CONTEXT, OPT_BATCH, OPT_THRESHOLD, OPT_TSCORE, OPT_OUT, OPT_THREADS, OPT_HELP,
       OPT_STREAM, OPT_LAST };

static const struct option score_options[] = {
    {"model", required_argument, 0, OPT_MODEL},
    {"format", required_argument, 0, OPT_FORMAT},
    {"lstm-context", required_argument, 0, OPT_CONTEXT},
    {"batch-size", required_argument, 0, OPT_BATCH},
    {"threshold", required_argument, 0, OPT_THRESHOLD},
    {"threshold-score", required_argument, 0, OPT_TSCORE},
    {"out", required_argument, 0, OPT_OUT},
    {"threads", required_argument, 0, OPT_THREADS},
    {"help", no_argument, 0, OPT_HELP},
    {"stream", no_argument, 0, OPT_STREAM},
    {0, 0, 0, 0},
};

/* Samples from every input, preprocessed, with their origin. */
typedef struct {
    long n;
    float *x;         /* (N, C, H, W) */
    int *input;       /* (N) index into argv of the input */
    long *index;      /* (N) index within that input: image index, or the last row of a CSV window */
} sample_set;

/* Fashion-MNIST inputs: 28x28 gray images, padded and normalised. */
static iae_status load_fmnist_inputs(iae_ctx *ctx, const iae_detector *d, char **inputs, int n_inputs,
                                     sample_set *s) {
    memset(s, 0, sizeof(*s));
    iae_gray_images *all = calloc((size_t)n_inputs, sizeof(iae_gray_images));
    if (all == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory");
    iae_status st = IAE_OK;
    long total = 0;
    for (int i = 0; i < n_inputs && st == IAE_OK; i++) {
        if ((st = iae_gray_images_load(ctx, inputs[i], &all[i])) != IAE_OK) break;
        if (all[i].h != 28 || all[i].w != 28)
            st = iae_fail(ctx, IAE_ERR_FORMAT, "input '%s' has %dx%d images; the model expects 28x28 (Fashion-MNIST)",
                          inputs[i], all[i].h, all[i].w);
        total += all[i].n;
    }
    const long size = 32 * 32;
    if (st == IAE_OK) {
        s->x = iae_alloc(ctx, sizeof(float) * size * total, "input samples");
        s->input = iae_alloc(ctx, sizeof(int) * total, "input samples");
        s->index = iae_alloc(ctx, sizeof(long) * total, "input samples");
        if (!s->x || !s->input || !s->index) st = IAE_ERR_NOMEM;
    }
    for (int i = 0; i < n_inputs && st == IAE_OK; i++) {
        /* Preprocessing of training: pad, scale, L1 GCN, stored min-max. */
        float *dst = s->x + (long)s->n * size;
        iae_pad_scale_gcn(all[i].pixels, all[i].n, 28, 28, 2, dst);
        iae_minmax_apply(dst, (long)all[i].n * size, d->info.norm_min, d->info.norm_max);
        for (int k = 0; k < all[i].n; k++) {
            s->input[s->n + k] = i;
            s->index[s->n + k] = k;
        }
        s->n += all[i].n;
    }
    for (int i = 0; i < n_inputs; i++) iae_gray_images_free(&all[i]);
    free(all);
    return st;
}

/* Image inputs of cifar10, mvtec and folder models: one image per input. */
static iae_status load_image_inputs(iae_ctx *ctx, const iae_data_source *src, char **inputs, int n_inputs,
                                    sample_set *s) {
    memset(s, 0, sizeof(*s));
    int c, h, w;
    iae_data_source_input_shape(src, &c, &h, &w);
    const long size = (long)c * h * w;
    s->x = iae_alloc(ctx, sizeof(float) * size * n_inputs, "input samples");
    s->input = iae_alloc(ctx, sizeof(int) * n_inputs, "input samples");
    s->index = iae_alloc(ctx, sizeof(long) * n_inputs, "input samples");
    if (!s->x || !s->input || !s->index) return IAE_ERR_NOMEM;
    for (int i = 0; i < n_inputs; i++) s->input[i] = i, s->index[i] = 0;
    s->n = n_inputs;
    return iae_data_source_read_images(ctx, src, (const char *const *)inputs, n_inputs, s->x);
}

/* CSV inputs of csv-windows models: every window of every file. */
static iae_status load_csv_inputs(iae_ctx *ctx, const iae_data_source *src, char **inputs, int n_inputs,
                                  sample_set *s) {
    memset(s, 0, sizeof(*s));
    const long size = (long)IAE_CSV_DEFAULT_SIDE * IAE_CSV_DEFAULT_SIDE;
    iae_status st = IAE_OK;
    for (int i = 0; i < n_inputs && st == IAE_OK; i++) {
        if (strcmp(inputs[i], "-") == 0)
            return iae_fail(ctx, IAE_ERR_ARGUMENT, "read CSV rows from standard input with --stream in place of -");
        float *x = NULL;
        long *rows = NULL, n = 0;
        if ((st = cli_csv_file_windows(ctx, src, inputs[i], &x, &rows, &n)) != IAE_OK) break;
        float *all_x = iae_alloc(ctx, sizeof(float) * size * (s->n + n), "CSV windows");
        int *all_input = iae_alloc(ctx, sizeof(int) * (s->n + n), "CSV windows");
        long *all_index = iae_alloc(ctx, sizeof(long) * (s->n + n), "CSV windows");
        if (!all_x || !all_input || !all_index) {
            iae_free(all_x), iae_free(all_input), iae_free(all_index);
            st = IAE_ERR_NOMEM;
        } else {
            if (s->n > 0) {
                memcpy(all_x, s->x, sizeof(float) * size * s->n);
                memcpy(all_input, s->input, sizeof(int) * s->n);
                memcpy(all_index, s->index, sizeof(long) * s->n);
            }
            memcpy(all_x + size * s->n, x, sizeof(float) * size * n);
            for (long k = 0; k < n; k++) all_input[s->n + k] = i, all_index[s->n + k] = rows[k];
            iae_free(s->x), iae_free(s->input), iae_free(s->index);
            s->x = all_x, s->input = all_input, s->index = all_index;
            s->n += n;
        }
        iae_free(x);
        iae_free(rows);
    }
    return st;
}

static void sample_set_free(sample_set *s) {
    iae_free(s->x), iae_free(s->input), iae_free(s->index);
    memset(s, 0, sizeof(*s));
}

/* Write one value as CSV or JSON; NaN becomes an empty field or null. */
static void put_value(FILE *f, float v, int json) {
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else if (json)
        fputs("null", f);
}

static void put_csv_string(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void write_rows(FILE *f, int json, char **inputs, const sample_set *s, const char *index_name,
                       const iae_scores *sc, int decide, const float *decision_score, float threshold) {
    if (json)
        fputs("[\n", f);
    else {
        fprintf(f, "input,%s", index_name);
        for (int k = 0; k < CLI_N_OUT_SCORES; k++) fprintf(f, ",%s", iae_score_names[cli_out_scores[k]]);
        fputs(decide ? ",anomalous\n" : "\n", f);
    }
    for (long i = 0; i < s->n; i++) {
        const char *name = inputs[s->input[i]];
        if (json) {
            fputs("  {\"input\": ", f);
            put_json_string(f, name);
            fprintf(f, ", \"%s\": %ld", index_name, s->index[i]);
            for (int k = 0; k < CLI_N_OUT_SCORES; k++) {
                fprintf(f, ", \"%s\": ", iae_score_names[cli_out_scores[k]]);
                put_value(f, iae_scores_get(sc, cli_out_scores[k])[i], 1);
            }
            if (decide) fprintf(f, ", \"anomalous\": %s", decision_score[i] > threshold ? "true" : "false");
            fprintf(f, "}%s\n", i + 1 < s->n ? "," : "");
        } else {
            put_csv_string(f, name);
            fprintf(f, ",%ld", s->index[i]);
            for (int k = 0; k < CLI_N_OUT_SCORES; k++) {
                fputc(',', f);
                put_value(f, iae_scores_get(sc, cli_out_scores[k])[i], 0);
            }
            if (decide) fprintf(f, ",%d", decision_score[i] > threshold);
            fputc('\n', f);
        }
    }
    if (json) fputs("]\n", f);
}

int cmd_score(int argc, char **argv) {
    const char *model_path = NULL, *out_path = NULL;
    int json = 0, context = -1, stream = 0, threshold_score = 4; /* index into cli_out_scores */
    long batch = 0, threads = 0;
    double user_threshold = NAN;
    unsigned char seen[OPT_LAST - OPT_MODEL] = {0};

    opterr = 0;
    optind = 1;
    int c, index = 0;
    while ((c = getopt_long(argc, argv, ":", score_options, &index)) != -1) {
        int ok = 1;
        if (c >= OPT_MODEL && c < OPT_LAST && !cli_first_use(seen, c - OPT_MODEL, score_options[index].name))
            return IAE_EXIT_USAGE;
        switch (c) {
        case OPT_MODEL: model_path = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "csv") == 0 || strcmp(optarg, "json") == 0)
                json = strcmp(optarg, "json") == 0;
            else {
                cli_error("invalid value '%s' for --format: expected csv or json", optarg);
                ok = 0;
            }
            break;
        case OPT_CONTEXT:
            if ((context = iae_context_parse(optarg)) < 0) {
                cli_error("invalid value '%s' for --lstm-context: expected memory, none or batch", optarg);
                ok = 0;
            }
            break;
        case OPT_BATCH: ok = cli_parse_int("--batch-size", optarg, 1, 4096, &batch); break;
        case OPT_THRESHOLD: ok = cli_parse_float("--threshold", optarg, -1e30, 1e30, &user_threshold); break;
        case OPT_TSCORE:
            threshold_score = -1;
            for (int k = 0; k < CLI_N_OUT_SCORES; k++)
                if (strcmp(optarg, iae_score_names[cli_out_scores[k]]) == 0) threshold_score = k;
            if (threshold_score < 0) {
                cli_error("invalid value '%s' for --threshold-score: expected svdd, mse, l1_svdd, l1_mse or combined",
                          optarg);
                ok = 0;
            }
            break;
        case OPT_OUT: out_path = optarg; break;
        case OPT_THREADS: ok = cli_parse_int("--threads", optarg, 1, 1024, &threads); break;
        case OPT_STREAM: stream = 1; break;
        case OPT_HELP: score_usage(stdout); return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
        case ':':
            cli_error("option %s needs a value; run 'iae score --help'", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        default:
            cli_error("unknown option '%s'; run 'iae score --help' for the list of options", argv[optind - 1]);
            return IAE_EXIT_USAGE;
        }
        if (!ok) return IAE_EXIT_USAGE;
    }
    if (model_path == NULL || model_path[0] == 0) {
        cli_error("--model is required: pass a file written by 'iae train --out FILE'");
        return IAE_EXIT_USAGE;
    }
    if (stream && optind < argc) {
        cli_error("--stream reads CSV rows from standard input; drop the input '%s'", argv[optind]);
        return IAE_EXIT_USAGE;
    }
    if (stream && out_path != NULL) {
        cli_error("--stream writes each line to standard output as it is scored; redirect it in place of --out");
        return IAE_EXIT_USAGE;
    }
    if (!stream && optind >= argc) {
        cli_error("no input to score: pass IDX, PNG, PGM or CSV files, - for an image on standard input, or "
                  "--stream for CSV rows on standard input");
        return IAE_EXIT_USAGE;
    }
    int stdin_uses = 0;
    for (int i = optind; i < argc; i++) stdin_uses += strcmp(argv[i], "-") == 0;
    if (stdin_uses > 1) {
        cli_error("standard input (-) can be given only once");
        return IAE_EXIT_USAGE;
    }
    if (seen[OPT_TSCORE - OPT_MODEL] && isnan(user_threshold)) {
        cli_error("--threshold-score needs --threshold X, the threshold on that score");
        return IAE_EXIT_USAGE;
    }

    iae_ctx ctx;
    iae_ctx_init(&ctx, (int)threads);
    if (out_path != NULL && iae_output_path_check(&ctx, out_path, "--out") != IAE_OK) {
        cli_error("%s", ctx.error);
        return IAE_EXIT_USAGE;
    }
    int rc = IAE_EXIT_FAILURE;
    iae_detector *det = NULL;
    iae_data_source src;
    iae_data_source_init(&src, IAE_SOURCE_FASHION_MNIST);
    sample_set samples = {0};
    iae_scores scores = {0};
    if (iae_model_load(&ctx, model_path, (int)batch, &det) != IAE_OK) goto fail;
    /* As in training: the batch context reads a bf16 copy of W_hh. */
    if (iae_net_set_lstm_kernel(&ctx, det->net, IAE_LSTM_FUSED, 1) != IAE_OK) goto fail;
    if (iae_data_source_from_model(&ctx, model_path, &det->info, det->data_config, &src) != IAE_OK) goto fail;
    const iae_lstm_context ctx_mode = context >= 0 ? (iae_lstm_context)context : det->info.score_context;
    if (stream && src.kind != IAE_SOURCE_CSV_WINDOWS) {
        cli_error("--stream scores CSV rows with csv-windows models; model '%s' was trained on %s, so pass image "
                  "files",
                  model_path, iae_source_kind_name(src.kind));
        rc = IAE_EXIT_USAGE;
        goto done;
    }

    /* The decision: a user threshold on the chosen score, else the stored
     * one on the combined score. */
    cli_decision decision = {0};
    if (!isnan(user_threshold)) {
        decision = (cli_decision){1, cli_out_scores[threshold_score], (float)user_threshold};
        if (cli_out_scores[threshold_score] == 5 && det->stats.n == 0) {
            iae_fail(&ctx, IAE_ERR_ARGUMENT,
                     "model '%s' has no held-out statistics, so no combined score; pick --threshold-score svdd or mse",
                     model_path);
            goto fail;
        }
    } else if (det->stats.n > 0) {
        decision = (cli_decision){1, 5, det->info.threshold};
    }

    if (stream) {
        if (cli_score_csv_stream(&ctx, det, &src, stdin, stdout, ctx_mode, json, &decision) != IAE_OK) goto fail;
        rc = cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
        goto done;
    }
    iae_status st;
    char **inputs = argv + optind;
    const int n_inputs = argc - optind;
    switch (src.kind) {
    case IAE_SOURCE_FASHION_MNIST: st = load_fmnist_inputs(&ctx, det, inputs, n_inputs, &samples); break;
    case IAE_SOURCE_CSV_WINDOWS: st = load_csv_inputs(&ctx, &src, inputs, n_inputs, &samples); break;
    default: st = load_image_inputs(&ctx, &src, inputs, n_inputs, &samples); break;
    }
    if (st != IAE_OK) goto fail;
    const int bs = batch > 0 ? (int)batch : det->info.batch_size;
    if (iae_score(&ctx, det, samples.x, samples.n, bs, ctx_mode, &scores) != IAE_OK) goto fail;
    const float *decided = decision.decide ? iae_scores_get(&scores, decision.score) : NULL;
    const char *index_name = src.kind == IAE_SOURCE_CSV_WINDOWS ? "row" : "index";

    if (out_path != NULL) {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (mem == NULL) {
            iae_fail(&ctx, IAE_ERR_NOMEM, "out of memory formatting the scores");
            goto fail;
        }
        write_rows(mem, json, inputs, &samples, index_name, &scores, decision.decide, decided, decision.threshold);
        fclose(mem);
        iae_atomic_file af;
        st = iae_atomic_open(&ctx, &af, out_path);
        if (st == IAE_OK) {
            iae_atomic_write(&af, text, len);
            st = iae_atomic_commit(&ctx, &af);
        }
        free(text);
        if (st != IAE_OK) goto fail;
    } else {
        write_rows(stdout, json, inputs, &samples, index_name, &scores, decision.decide, decided, decision.threshold);
    }
    rc = cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
    goto done;
fail:
    cli_error("%s", ctx.error);
done:
    iae_scores_free(&scores);
    sample_set_free(&samples);
    iae_data_source_free(&src);
    iae_detector_free(det);
    return rc;
}
