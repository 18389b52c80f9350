/*
 * The data-set options of 'iae train' and 'iae eval': the values as given on
 * the command line, the checks that need no data, and the data source they
 * describe (data/source.h).
 */
#ifndef IAE_CLI_DATA_OPTIONS_H
#define IAE_CLI_DATA_OPTIONS_H

#include <stdio.h>

#include "data/source.h"
#include "report/metrics.h"
#include "report/progress.h"

/* Data-set options as given; NULL or -1 when absent. */
typedef struct {
    int kind;                 /* iae_source_kind; -1: --dataset not given */
    const char *data;         /* --data */
    long normal_class;        /* --normal-class */
    const char *category;     /* --category NAME or index */
    int reference_normalization;
    const char *label_column, *drop_columns; /* --label-column, --drop-columns */
    long window, stride;                     /* --window, --stride */
    const char *train_dir, *test_normal_dir, *test_anomalous_dir;
    long image_size, channels;               /* --image-size, --channels */
} cli_data_args;

void cli_data_args_init(cli_data_args *a);

/* Parse the value of --dataset into a->kind; print an error listing the
 * kinds and return 0 for an unknown one. */
int cli_parse_dataset(const char *text, cli_data_args *a);

/* Build the source of a training run from a, with the run's contamination
 * and seed. Print an error that names the option at fault and return 0 when
 * an option does not belong to the kind or a required one is missing. */
int cli_data_source_for_training(const cli_data_args *a, double contamination, uint64_t seed,
                                 iae_data_source *src);

/* Apply the location options of 'iae eval' (--data, --test-normal,
 * --test-anomalous) to a model's stored source. Print an error and return 0
 * when one does not apply to the model's kind. */
int cli_data_source_override(const cli_data_args *a, const char *model_path, iae_data_source *src);

/* Return 0 and print an error when output, the value of option, is one of
 * src's input files or lies inside one of its image folders. Else return 1. */
int cli_check_output_not_input(const char *option, const char *output, const iae_data_source *src);

/* A one-line description of the task for the printed results, such as
 * "normal class 3" or "category bottle", into out. */
void cli_task_name(const iae_data_source *src, char *out, size_t size);

/* Point m->data_dir and m->category at src's values. */
void cli_fill_data_metrics(const iae_data_source *src, iae_metrics *m);

/* Write the anomaly maps of data's MVTec test set into dir (which exists)
 * and store the pixel AUROC in m. Returns 0 with ctx->error set on
 * failure. */
int cli_write_maps(iae_ctx *ctx, iae_detector *d, const iae_source_data *data, int batch_size, const char *dir,
                   iae_progress *progress, iae_metrics *m);

/* The help text of the data-set options of train (for_train 1) or eval. */
void cli_data_usage(FILE *out, int for_train);

#endif
