/*
 * Data sources: where a run's data come from and how they are preprocessed,
 * for every kind of data set iae reads, behind one load call.
 *
 * The kinds follow. The readers' headers give the details of each format.
 *   fashion-mnist  the four IDX files in a folder (fashion_mnist.h), LeNet 1 x 32 x 32
 *   cifar10        the six binary batches in a folder (cifar10.h), LeNet 3 x 32 x 32
 *   mvtec          one category of an MVTec AD root folder (mvtec.h), the MVTec
 *                  network on 3 x 64 x 64 in [-1, 1]
 *   csv-windows    windows of a CSV time series (csv_windows.h), LeNet 1 x 32 x 32
 *   folder         three folders of PNG or PGM images (folder.h): 32 x 32 in [0, 1]
 *                  for LeNet with 1 or 3 channels, or 3 x 64 x 64 in [-1, 1] for the
 *                  MVTec network
 *
 * The preprocessing constants that training fixes (the min-max range of
 * Fashion-MNIST and CIFAR-10, the per-column scaling and window of a CSV
 * file, the image size and channels of a folder) are kept in the source and
 * stored in the model file as "data_*" lines of its configuration record
 * (iae_data_source_format), so that eval and score preprocess new data
 * exactly as training did.
 */
#ifndef IAE_SOURCE_H
#define IAE_SOURCE_H

#include <stdint.h>

#include "core/core.h"
#include "data/csv_windows.h"
#include "data/dataset.h"
#include "data/folder.h"
#include "data/mvtec.h"
#include "model/detector.h"

#define IAE_DEFAULT_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define IAE_SOURCE_PATH_BYTES 4096
#define IAE_SOURCE_NAME_BYTES 256

typedef enum {
    IAE_SOURCE_FASHION_MNIST = 0,
    IAE_SOURCE_CIFAR10 = 1,
    IAE_SOURCE_MVTEC = 2,
    IAE_SOURCE_CSV_WINDOWS = 3,
    IAE_SOURCE_FOLDER = 4,
} iae_source_kind;

#define IAE_N_SOURCE_KINDS 5

/* Kind names "fashion-mnist", "cifar10", "mvtec", "csv-windows" and
 * "folder", as --dataset takes them and the metrics report them. Parse
 * returns -1 for an unknown name. */
const char *iae_source_kind_name(iae_source_kind k);
int iae_source_kind_parse(const char *name);

typedef struct {
    iae_source_kind kind;

    /* Where the data are. Paths are absolute once iae_data_source_load has
     * run, so a model trained in one folder can be evaluated from another. */
    char data[IAE_SOURCE_PATH_BYTES];               /* IDX or CIFAR-10 folder, MVTec root or CSV
                                                       file; "" for the Fashion-MNIST default */
    char train_dir[IAE_SOURCE_PATH_BYTES];          /* folder: normal training images */
    char test_normal_dir[IAE_SOURCE_PATH_BYTES];    /* folder: normal test images */
    char test_anomalous_dir[IAE_SOURCE_PATH_BYTES]; /* folder: anomalous test images */

    /* The one-class task. */
    int normal_class;                    /* fashion-mnist, cifar10: 0..9; mvtec: the category's
                                            index among the root's sorted subfolders; else 0 */
    char category[IAE_SOURCE_NAME_BYTES]; /* mvtec: category name; "" selects normal_class */
    double contamination;                /* fashion-mnist, cifar10: share of anomalies mixed
                                            into the training set */
    uint64_t seed;                       /* contamination draw and CSV split */

    /* CSV windows. */
    char label_column[IAE_SOURCE_NAME_BYTES]; /* "" for "frozen" */
    char drop_columns[IAE_SOURCE_PATH_BYTES]; /* comma-separated names, "" for none */
    int window_rows;                          /* N rows per window; 0 for D until loaded */
    int stride;                               /* rows between window starts; 0 for 1 */

    /* Images of a folder: 32 or 64 pixels, 1 or 3 channels. */
    int image_size, channels;

    /* Constants fixed at training time. */
    int reference_normalization;  /* fashion-mnist, cifar10: the reference's range table */
    int have_minmax;              /* 1: norm_min and norm_max are fixed */
    float norm_min, norm_max;     /* min-max range after GCN (fashion-mnist, cifar10) */
    iae_csv_scaling csv;          /* csv-windows: per-column scaling; d = 0 until fixed */
} iae_data_source;

/* Set src to the defaults of kind: no paths, class 0, folder images of
 * 32 pixels with 3 channels, nothing fixed. */
void iae_data_source_init(iae_data_source *src, iae_source_kind kind);

/* Free the CSV scaling of src. The rest of src needs no freeing. */
void iae_data_source_free(iae_data_source *src);

/* Check the settings that do not need the data: the paths each kind needs,
 * the class, image size and channels, and that contamination and reference
 * normalisation are used only where they exist. ctx->error names the
 * setting and the option that sets it. */
iae_status iae_data_source_check(iae_ctx *ctx, const iae_data_source *src);

/* The network input (C, H, W) of src. */
void iae_data_source_input_shape(const iae_data_source *src, int *c, int *h, int *w);

/* The network of model k on src: LeNet with the input's channels on 32 x 32
 * inputs, the MVTec network on 64 x 64 ones. */
iae_net_config iae_data_source_net_config(const iae_data_source *src, iae_model_kind k);

/* The reference's default loss weights and nu (iae_default_weights) for
 * model k on src. CSV windows take the WTBI values. An MVTec category takes
 * the values of its name's position among the 15 categories of the
 * release, whatever its index in the root. A folder of images has no
 * reference values and gets the model defaults. */
void iae_data_source_default_weights(const iae_data_source *src, iae_model_kind k, float *w_mse,
                                     float *w_kl, float *nu);

/* What a load produced: the two sets and, per kind, what the reader found. */
typedef struct {
    iae_dataset train, test;
    iae_mvtec_info mvtec;   /* mvtec: category, test image paths, masks and sizes */
    iae_folder_info folder; /* folder: image paths */
    iae_csv_windows_info csv;
    char summary[512];      /* one line on what was loaded, for the progress output */
} iae_source_data;

/* Load the training set (when with_train is 1) and the test set of src.
 * The training set of a CSV file is always loaded, because the split needs
 * every window. Constants that src does not fix yet are taken from the
 * training data and stored in src: the min-max range, the CSV scaling and
 * window, the MVTec category name and index. Paths are made absolute.
 * On failure out is zeroed with nothing allocated and ctx->error names the
 * file or folder. */
iae_status iae_data_source_load(iae_ctx *ctx, iae_data_source *src, int with_train,
                                iae_source_data *out);

/* Free everything in data and zero it. Safe on a zeroed struct. */
void iae_source_data_free(iae_source_data *data);

/* Read the images at paths[0..n) (PNG or PGM of any size, "-" for standard
 * input) and preprocess them as src's training images were: channels,
 * resize to the input size, and for cifar10 L1 GCN and the stored min-max
 * range. x is (N, C, H, W). Not for fashion-mnist or csv-windows. */
iae_status iae_data_source_read_images(iae_ctx *ctx, const iae_data_source *src,
                                       const char *const *paths, int n, float *x);

/* Format src as "data_*" key=value lines for a model file's configuration
 * record. Returns an iae_alloc'd string, or NULL when out of memory. Values
 * are percent-encoded (%XX) where they contain a control character, space,
 * '%' or '='. */
char *iae_data_source_format(iae_ctx *ctx, const iae_data_source *src);

/* Rebuild the source of a trained model from its settings info and its
 * "data_*" lines text (NULL for files written before data sources, which
 * are Fashion-MNIST). Lines with other keys are ignored. origin names the
 * model file in messages. Every value is checked: an unknown kind, a bad
 * number, an out-of-range size or a malformed CSV column is an error naming
 * the line. */
iae_status iae_data_source_from_model(iae_ctx *ctx, const char *origin, const iae_detector_info *info,
                                      const char *text, iae_data_source *src);

#endif
