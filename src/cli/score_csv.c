/* Scoring CSV windows from files and from a live stream (see score_csv.h). */
#include "cli/score_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image.h"

const int cli_out_scores[CLI_N_OUT_SCORES] = {0, 1, 3, 4, 5}; /* svdd, mse, l1_svdd, l1_mse, combined */

/* One CSV record read from a stream of lines. */
typedef struct {
    char *text;      /* the record, with its line breaks */
    size_t len, cap;
    char *line;      /* getline's buffer */
    size_t line_cap;
    long line_no;    /* physical lines read so far */
} record_reader;

static void record_reader_free(record_reader *r) {
    free(r->text);
    free(r->line);
}

/* Read the next record into r->text: one line, extended by the next ones
 * while a double-quoted field is open (an odd number of quotes so far).
 * *first_line receives the record's first line number. Returns 0 at the end
 * of the input, -1 when out of memory, else 1. */
static int next_record(record_reader *r, FILE *in, long *first_line) {
    r->len = 0;
    int quotes_open = 0;
    for (;;) {
        ssize_t got = getline(&r->line, &r->line_cap, in);
        if (got < 0) return r->len > 0 ? 1 : 0;
        r->line_no++;
        if (r->len == 0) *first_line = r->line_no;
        if (r->len + (size_t)got + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (r->len + (size_t)got + 1 > cap) cap *= 2;
            char *grown = realloc(r->text, cap);
            if (grown == NULL) return -1;
            r->text = grown;
            r->cap = cap;
        }
        memcpy(r->text + r->len, r->line, (size_t)got);
        r->len += (size_t)got;
        r->text[r->len] = 0;
        for (ssize_t i = 0; i < got; i++) quotes_open ^= r->line[i] == '"';
        if (!quotes_open) return 1;
    }
}

/* Replace "CSV input" at the start of ctx->error by name. */
static void name_input(iae_ctx *ctx, const char *name) {
    static const char prefix[] = "CSV input";
    if (strncmp(ctx->error, prefix, sizeof(prefix) - 1) != 0) return;
    char rest[IAE_ERROR_BYTES];
    snprintf(rest, sizeof(rest), "%s", ctx->error + sizeof(prefix) - 1);
    snprintf(ctx->error, sizeof(ctx->error), "%.400s%.600s", name, rest);
}

static iae_status stream_init(iae_ctx *ctx, const iae_data_source *src, iae_csv_stream *s) {
    if (src->kind != IAE_SOURCE_CSV_WINDOWS || src->csv.d < 1)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "the model was not trained on CSV windows");
    return iae_csv_stream_init(ctx, s, &src->csv, src->window_rows, IAE_CSV_DEFAULT_SIDE, IAE_CSV_DEFAULT_SIDE, 0);
}

iae_status cli_csv_file_windows(iae_ctx *ctx, const iae_data_source *src, const char *path, float **x, long **rows,
                                long *n) {
    *x = NULL, *rows = NULL, *n = 0;
    char name[IAE_SOURCE_PATH_BYTES + 16];
    snprintf(name, sizeof(name), "CSV file '%s'", path);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return iae_fail(ctx, IAE_ERR_IO, "cannot open CSV file '%s': %s; check the path", path, strerror(errno));
    /* Reject an image given to a CSV model with a message that names it,
     * instead of parsing its bytes. Only a regular file can be rewound. */
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
        uint8_t head[16];
        const size_t got = fread(head, 1, sizeof(head), f);
        if (iae_image_sniff(head, got)) {
            fclose(f);
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "'%s' is a PNG or PGM image, but the model was trained on CSV windows; pass CSV files",
                            path);
        }
        rewind(f);
    }
    iae_csv_stream s;
    iae_status st = stream_init(ctx, src, &s);
    if (st != IAE_OK) {
        fclose(f);
        return st;
    }
    const long image = (long)IAE_CSV_DEFAULT_SIDE * IAE_CSV_DEFAULT_SIDE;
    long cap = 0, count = 0;
    float *windows = NULL;
    long *ends = NULL;
    record_reader r = {0};
    long line = 0;
    int more;
    while (st == IAE_OK && (more = next_record(&r, f, &line)) != 0) {
        if (more < 0) {
            st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading %s", name);
            break;
        }
        if (count == cap) {
            long grown = cap ? 2 * cap : 256;
            float *wx = realloc(windows, sizeof(float) * (size_t)(grown * image));
            long *wr = wx ? realloc(ends, sizeof(long) * (size_t)grown) : NULL;
            if (wx) windows = wx;
            if (wr) ends = wr;
            if (wx == NULL || wr == NULL) {
                st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory holding the windows of %s", name);
                break;
            }
            cap = grown;
        }
        int ready = 0;
        st = iae_csv_stream_push_line(ctx, &s, r.text, r.len, line, windows + count * image, &ready);
        if (st != IAE_OK) name_input(ctx, name);
        if (ready) ends[count++] = s.rows_seen;
    }
    if (st == IAE_OK && ferror(f)) st = iae_fail(ctx, IAE_ERR_IO, "reading %s failed: %s", name, strerror(errno));
    if (st == IAE_OK && !s.have_header)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "%s is empty; expected a header row and data rows", name);
    if (st == IAE_OK && count == 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "%s has %ld data rows, fewer than one window of %d rows; nothing to score",
                      name, s.rows_seen, s.window_rows);
    fclose(f);
    record_reader_free(&r);
    iae_csv_stream_free(&s);

    /* Hand the windows over in iae_alloc'd buffers, as the other inputs are. */
    if (st == IAE_OK) {
        *x = iae_alloc(ctx, sizeof(float) * (size_t)(count * image), "CSV windows");
        *rows = iae_alloc(ctx, sizeof(long) * (size_t)count, "CSV window rows");
        if (*x == NULL || *rows == NULL) {
            iae_free(*x), iae_free(*rows);
            *x = NULL, *rows = NULL;
            st = IAE_ERR_NOMEM;
        } else {
            memcpy(*x, windows, sizeof(float) * (size_t)(count * image));
            memcpy(*rows, ends, sizeof(long) * (size_t)count);
            *n = count;
        }
    }
    free(windows);
    free(ends);
    return st;
}

static void put_number(FILE *out, float v, int json) {
    if (isfinite(v))
        fprintf(out, "%.9g", v);
    else if (json)
        fputs("null", out);
}

/* Write the line of one scored window. */
static void write_stream_line(FILE *out, long row, const iae_scores *sc, int json, const cli_decision *d) {
    if (json) fprintf(out, "{\"row\": %ld", row);
    else fprintf(out, "%ld", row);
    for (int k = 0; k < CLI_N_OUT_SCORES; k++) {
        if (json) fprintf(out, ", \"%s\": ", iae_score_names[cli_out_scores[k]]);
        else fputc(',', out);
        put_number(out, iae_scores_get(sc, cli_out_scores[k])[0], json);
    }
    if (d->decide) {
        const int flagged = iae_scores_get(sc, d->score)[0] > d->threshold;
        if (json) fprintf(out, ", \"anomalous\": %s", flagged ? "true" : "false");
        else fprintf(out, ",%d", flagged);
    }
    fputs(json ? "}\n" : "\n", out);
}

iae_status cli_score_csv_stream(iae_ctx *ctx, iae_detector *det, const iae_data_source *src, FILE *in, FILE *out,
                                iae_lstm_context context, int json, const cli_decision *decision) {
    if (context == IAE_CONTEXT_BATCH && iae_net_lstm_hidden(det->net) > 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "--stream scores each window as it arrives, so it cannot form batch sequences; use "
                        "--lstm-context memory or none");
    iae_csv_stream s;
    iae_status st = stream_init(ctx, src, &s);
    if (st != IAE_OK) return st;
    float *window = iae_alloc(ctx, sizeof(float) * IAE_CSV_DEFAULT_SIDE * IAE_CSV_DEFAULT_SIDE, "CSV window");
    if (window == NULL) {
        iae_csv_stream_free(&s);
        return IAE_ERR_NOMEM;
    }
    record_reader r = {0};
    int header_written = json; /* JSON lines have no header */
    long line = 0;
    int more;
    while (st == IAE_OK && (more = next_record(&r, in, &line)) != 0) {
        if (more < 0) {
            st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading standard input");
            break;
        }
        int ready = 0;
        st = iae_csv_stream_push_line(ctx, &s, r.text, r.len, line, window, &ready);
        if (st != IAE_OK) {
            name_input(ctx, "standard input");
            break;
        }
        /* The output header follows an accepted input header, so a bad or
         * empty input leaves standard output empty. */
        if (!header_written && s.have_header) {
            fputs("row", out);
            for (int k = 0; k < CLI_N_OUT_SCORES; k++) fprintf(out, ",%s", iae_score_names[cli_out_scores[k]]);
            fputs(decision->decide ? ",anomalous\n" : "\n", out);
            fflush(out);
            header_written = 1;
        }
        if (!ready) continue;
        iae_scores sc;
        if ((st = iae_score(ctx, det, window, 1, 1, context, &sc)) != IAE_OK) break;
        write_stream_line(out, s.rows_seen, &sc, json, decision);
        iae_scores_free(&sc);
        if (fflush(out) != 0 || ferror(out))
            st = iae_fail(ctx, IAE_ERR_IO, "writing the scores failed: %s", strerror(errno));
    }
    if (st == IAE_OK && ferror(in))
        st = iae_fail(ctx, IAE_ERR_IO, "reading standard input failed: %s", strerror(errno));
    if (st == IAE_OK && !s.have_header)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "standard input is empty; expected a CSV header row and data rows");
    if (st == IAE_OK && s.rows_seen < s.window_rows)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "standard input ended after %ld data rows, fewer than one window of %d rows; nothing was scored",
                      s.rows_seen, s.window_rows);
    record_reader_free(&r);
    iae_free(window);
    iae_csv_stream_free(&s);
    return st;
}
