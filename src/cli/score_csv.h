/*
 * 'iae score' for csv-windows models: the windows of CSV files, and the
 * live stream of rows from standard input.
 *
 * Both read records one at a time (a record may span lines inside double
 * quotes), header first, and preprocess them with the model's stored
 * column scaling and window length through iae_csv_stream. Every data row
 * from the N-th on completes one window of the last N rows, so R data rows
 * give R - N + 1 windows, each named by the 1-based number of its last data
 * row.
 */
#ifndef IAE_CLI_SCORE_CSV_H
#define IAE_CLI_SCORE_CSV_H

#include <stdio.h>

#include "data/source.h"
#include "pipeline/pipeline.h"

/* The scores written per sample: svdd, mse, l1_svdd, l1_mse and combined
 * (indexes into iae_score_names). svdd_mse is left out because it is
 * normalised over the scored set and means nothing for one sample. */
#define CLI_N_OUT_SCORES 5
extern const int cli_out_scores[CLI_N_OUT_SCORES];

/* Whether and how each sample is flagged anomalous. */
typedef struct {
    int decide;      /* 1: write the anomalous column */
    int score;       /* index into iae_score_names of the score compared */
    float threshold; /* anomalous when the score exceeds it */
} cli_decision;

/* Read the CSV file at path and return its windows in *x, (N, 1, 32, 32)
 * iae_alloc'd, and the data row each ends at in *rows (N, iae_alloc'd).
 * Errors name the file and the line: a missing model column in the header,
 * a bad cell, a wrong field count, or fewer data rows than one window. */
iae_status cli_csv_file_windows(iae_ctx *ctx, const iae_data_source *src, const char *path, float **x, long **rows,
                                long *n);

/* Read CSV rows from in (header first) until its end, and write one line to
 * out per window as soon as the window is complete, flushing out after each
 * line. Lines are CSV "row,svdd,mse,l1_svdd,l1_mse,combined[,anomalous]"
 * after a header line, or one JSON object per line. Each window is scored
 * alone in context, which must not be batch for a model with an LSTM.
 * Returns IAE_OK at the end of the input. ctx->error names the line of a
 * bad row, and an input shorter than one window is an error. */
iae_status cli_score_csv_stream(iae_ctx *ctx, iae_detector *det, const iae_data_source *src, FILE *in, FILE *out,
                                iae_lstm_context context, int json, const cli_decision *decision);

#endif
