/*
 * Multivariate time series in a CSV file cut into windows that are scored
 * as 1-channel images, as the WTBI wind-turbine icing experiment of the
 * IAE-LSTM-KL authors' reference code does ("the reference" below).
 *
 * File format: RFC 4180 CSV with a header row. Fields are separated by
 * commas, records end in LF or CRLF, a field may be double-quoted (then it
 * may contain commas, line breaks and "" for one quote), and a UTF-8 byte
 * order mark before the header is skipped. Empty lines are skipped. Every
 * record must have as many fields as the header. Every cell of a used
 * column must be a decimal number, surrounding blanks allowed. An empty
 * cell, text, NaN or infinity is an error naming the line and the column.
 *
 * Columns: the label column (default "frozen") contains 0 for normal rows and
 * 1 for anomalous ones. Columns named in drop_columns are ignored. The other
 * D columns are the features, in file order.
 *
 * Preprocessing, in this order:
 *   1. every feature column is min-max scaled over all rows of the file,
 *      normal and anomalous: x' = (x - min) / (max - min). A constant column
 *      (max == min) maps to 0; it is not an error, and info->note names it.
 *   2. the rows are split by label into a normal part and an anomalous part,
 *      each in file order. Each part is cut into windows of N consecutive
 *      rows (all D columns) at stride S, so window i covers the part's rows
 *      i S .. i S + N - 1. A window can join rows that were not
 *      adjacent in the file, where rows of the other class lay between them.
 *      By default the windows are those of the reference code: starts
 *      0, S, 2 S, ... below M - N for a part of M rows, and then the last of
 *      them is discarded. With stride 1 that gives M - N - 1 windows, two
 *      fewer than the M - N + 1 that fit. all_windows keeps every window
 *      that fits.
 *   3. each value becomes an 8-bit gray level, truncated, and is divided by
 *      255 again: v = floor(x' * 255) / 255, as the reference stores its
 *      windows as 8-bit images. skip_quantization keeps x'.
 *   4. each N x D window (rows = time, columns = features) is placed in an
 *      out_h x out_w image of zeros, (out_h - N) / 2 rows from the top and
 *      (out_w - D) / 2 columns from the left, rounded down, so that
 *      N = D = 26 gets the reference's 3-pixel border in 32 x 32.
 *
 * Split: the normal windows are shuffled with the seed. The first
 * ceil(test_fraction * n) of them form the normal part of the test set and
 * the rest the training set, in shuffled order, as scikit-learn's
 * train_test_split lays them out. The test set is those normal windows
 * followed by every anomalous window in time order.
 * NOTE: the reference shuffles with scikit-learn's generator and a fixed
 * random_state of 2042. That permutation cannot be reproduced here, so the
 * same seed selects different windows than the reference; only the counts
 * match.
 *
 * Shapes: the data sets are (N_windows, 1, out_h, out_w). Memory: every
 * window is stored as out_h * out_w floats (4 KiB at 32 x 32), and with
 * stride 1 a file of R rows gives about R windows.
 */
#ifndef IAE_CSV_WINDOWS_H
#define IAE_CSV_WINDOWS_H

#include <stdint.h>

#include "core/core.h"
#include "data/dataset.h"

#define IAE_CSV_DEFAULT_LABEL "frozen"
#define IAE_CSV_DEFAULT_SIDE 32         /* output height and width: the LeNet input */
#define IAE_CSV_DEFAULT_TEST_FRACTION 0.3
#define IAE_CSV_NOTE_BYTES 512

/* The min-max scaling of the feature columns, which a model stores to
 * preprocess new rows the same way. */
typedef struct {
    int d;          /* D, number of feature columns */
    char **names;   /* (D) column names in file order; strings in one iae_alloc'd block */
    double *min;    /* (D) minimum over all rows */
    double *max;    /* (D) maximum over all rows */
    char *name_block;
} iae_csv_scaling;

typedef struct {
    const char *path;          /* the CSV file */
    const char *label_column;  /* NULL: "frozen" */
    const char *drop_columns;  /* comma-separated names, e.g. "time,group"; NULL or "": none */
    int window_rows;           /* N, rows per window; 0: D, the number of feature columns */
    int stride;                /* S, rows between window starts; 0: 1 */
    int out_h, out_w;          /* output image size, at most 4096 per side; 0: 32 */
    int all_windows;           /* 1: every window that fits; 0: the reference's windows */
    int skip_quantization;     /* 1: keep x' in place of floor(x' * 255) / 255 */
    double test_fraction;      /* share of normal windows in the test set, (0, 1); 0: 0.3 */
    uint64_t seed;             /* seed of the shuffle of the normal windows */
    const iae_csv_scaling *scaling; /* NULL: computed from the file; else a stored one
                                       (see iae_csv_windows_load) */
} iae_csv_windows_options;

/* What the loader found, for reports and for scoring new rows. */
typedef struct {
    iae_csv_scaling scaling;
    int window_rows, window_cols;   /* N and D */
    int stride;                     /* S */
    int n_constant;                 /* feature columns with max == min, mapped to 0 */
    char note[IAE_CSV_NOTE_BYTES];  /* names of the constant columns; "" when none */
    long n_rows;                    /* data rows in the file */
    long n_normal_rows, n_anomalous_rows;
    long n_normal_windows, n_anomalous_windows;
    long n_train, n_test_normal;    /* the split of the normal windows */
} iae_csv_windows_info;

/* Read the CSV file opt->path, cut it into windows and split them as the
 * file comment describes. train, test and info may each be NULL.
 *
 * With opt->scaling set, step 1 uses its per-column minimum and maximum in
 * place of the file's, as a trained model does on new data. The file's
 * feature columns must then be the scaling's columns, in any order; they
 * are placed in the scaling's order. A missing or extra feature column is
 * an error that names it.
 *
 * Errors, with ctx->error naming the file, and the line and column where
 * there is one: missing file, directory or other non-regular file,
 * unreadable file, empty file or a header without data rows, an
 * unterminated quoted field, a record with the wrong number of fields, an
 * empty or non-numeric cell, a label other than 0 or 1, a missing label
 * column or column to drop (the message lists the columns found), a
 * repeated column name, no feature column, a window larger than the output
 * image, and too few normal rows for one training window. A file without
 * anomalous rows is accepted and gives a test set of normal windows only.
 * On failure train, test and info are zeroed with nothing allocated. */
iae_status iae_csv_windows_load(iae_ctx *ctx, const iae_csv_windows_options *opt,
                                iae_dataset *train, iae_dataset *test,
                                iae_csv_windows_info *info);

/* Free the buffers of info and zero it. Safe on a zeroed struct. */
void iae_csv_windows_info_free(iae_csv_windows_info *info);

/* Copy src into dst, which gets its own buffers. */
iae_status iae_csv_scaling_copy(iae_ctx *ctx, const iae_csv_scaling *src, iae_csv_scaling *dst);

/* Free the buffers of s and zero it. Safe on a zeroed struct. */
void iae_csv_scaling_free(iae_csv_scaling *s);

/* ------------------------------------------------------------------------ */
/* Streaming: windows of live rows                                           */
/* ------------------------------------------------------------------------ */

/* Windows of rows that arrive one at a time, preprocessed with a stored
 * scaling. The header comes first and maps each scaling column to its
 * position by name; other columns, such as the label, are ignored. Every
 * row after it updates a ring of the last N rows, and from the N-th row on
 * each row completes a window of the last N rows, sliding by one row.
 * A value outside the stored [min, max] scales outside [0, 1]. With
 * quantization it is clamped to 0 or 255 first, as an 8-bit image cannot
 * hold it; without it, it is kept. */
typedef struct {
    iae_csv_scaling scaling;
    int window_rows;        /* N */
    int out_h, out_w;
    int skip_quantization;
    int have_header;
    int n_fields;           /* fields per record, from the header */
    int *field_of_column;   /* (D) position of each scaling column in a record */
    float *ring;            /* (N + 1, D) preprocessed rows: row (rows_seen - 1) % N is the
                               newest, row N is scratch for the row being parsed */
    long *ring_order;       /* (N) ring rows from oldest to newest, rebuilt per window */
    long rows_seen;         /* data rows pushed so far */
    char *line_buffer;      /* for iae_csv_stream_push_line */
    char **line_fields;
    int line_capacity, line_field_capacity;
} iae_csv_stream;

/* Prepare s for windows of window_rows rows (0: D), placed in out_h x out_w
 * images (0: 32) as the loader places them. The scaling is copied. Fails
 * when the window does not fit in the output. */
iae_status iae_csv_stream_init(iae_ctx *ctx, iae_csv_stream *s, const iae_csv_scaling *scaling,
                               int window_rows, int out_h, int out_w, int skip_quantization);

/* Push one parsed record of n_fields fields: the header first, then data
 * rows. *ready is set to 1 when window (1, out_h, out_w) was written, else
 * 0 (for the header and the first N - 1 rows). line numbers the record in
 * messages (1 for the header). On an error the row is not added and s
 * keeps its earlier rows. */
iae_status iae_csv_stream_push(iae_ctx *ctx, iae_csv_stream *s, const char *const *fields,
                               int n_fields, long line, float *window, int *ready);

/* Parse one line of CSV text text[0..len) (a final LF or CRLF is dropped)
 * into fields and push it as iae_csv_stream_push does. An empty line is
 * ignored, as in files, and a UTF-8 byte order mark before the header is
 * skipped. A quoted field cannot span lines here. */
iae_status iae_csv_stream_push_line(iae_ctx *ctx, iae_csv_stream *s, const char *text,
                                    size_t len, long line, float *window, int *ready);

/* Free the buffers of s and zero it. Safe on a zeroed struct. */
void iae_csv_stream_free(iae_csv_stream *s);

#endif
