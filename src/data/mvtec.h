/*
 * MVTec AD: one category of the data set as a one-class problem.
 *
 * Layout under the root folder, one subfolder per category:
 *   <category>/train/good/<name>.png               normal training images
 *   <category>/test/good/<name>.png                normal test images
 *   <category>/test/<defect>/<name>.png            anomalous test images
 *   <category>/ground_truth/<defect>/<name>_mask.png  masks of the defects
 * where <name> is the test image's file name without its extension. Categories
 * are the subfolders of the root sorted by name in byte order (hidden ones
 * skipped), so an index k picks the k-th, as the reference scripts do:
 * 0 bottle, 1 cable, ... 14 zipper for the 15 folders of the release.
 *
 * Training set: the images of train/good in name order, label 0. Test set:
 * the images of test/good (label 0), then those of every other test
 * subfolder (label 1), folders in name order and images in name order.
 * cls equals label. Images are listed and converted as folder.h describes.
 * They become RGB (gray replicated), are divided by 255 and resized to
 * size x size with the antialiased bilinear resize (aspect ratio not kept).
 * Unless skip_normalization is set, (x - 0.5) / 0.5 then maps them to
 * [-1, 1].
 * NOTE: alpha is composited onto black (image.h), whereas the reference
 * scripts' convert("RGB") drops it (Pillow 9.4 turns RGBA (200, 100, 50, 10)
 * into (200, 100, 50)). The two agree on opaque images only.
 *
 * Shapes: data sets are (N, 3, size, size); masks are (H, W) bytes at the
 * image's stored size.
 */
#ifndef IAE_MVTEC_H
#define IAE_MVTEC_H

#include <stdint.h>

#include "core/core.h"
#include "data/dataset.h"
#include "data/folder.h"

#define IAE_MVTEC_DEFAULT_SIZE 64
#define IAE_MVTEC_PATH_BYTES 1024

typedef struct {
    const char *root;       /* folder with one subfolder per category */
    const char *category;   /* category name, such as "bottle"; NULL: use category_index */
    int category_index;     /* index into the sorted categories when category is NULL */
    int size;               /* output height and width in pixels; 0: 64 */
    int skip_normalization; /* 1: keep [0, 1]; 0: (x - 0.5) / 0.5 */
} iae_mvtec_options;

/* The category and, per test image, where it came from. */
typedef struct {
    char category[IAE_DIR_NAME_BYTES];
    int category_index;
    int n_categories;
    iae_dir_list train;          /* train/good image paths, in data set order */
    int n_test, n_test_good;     /* test images; the first n_test_good are normal */
    char **test_paths;           /* (N_test) image paths, in data set order */
    char **defects;              /* (N_test) test subfolder name, "good" for normal images */
    char **mask_paths;           /* (N_test) mask path; NULL for good images and missing masks */
    int *orig_h, *orig_w;        /* (N_test) stored size of each test image */
    int n_missing_masks;         /* defective images without a mask file */
    char first_missing_mask[IAE_MVTEC_PATH_BYTES]; /* the first such mask path, "" when none */
    int n_skipped;               /* entries of the image folders that are not images */

    /* Storage behind the pointers above. */
    iae_dir_list test_folders;   /* names of the test subfolders, "good" first */
    iae_dir_list *test_lists;    /* (folders) the images of each test subfolder */
    char *mask_block;
} iae_mvtec_info;

/* List the categories under root, sorted by name, into out. A root without
 * subfolders is an error. */
iae_status iae_mvtec_categories(iae_ctx *ctx, const char *root, iae_dir_list *out);

/* Set *index to the position of name in categories (from
 * iae_mvtec_categories(root)). An unknown name is an error that lists the
 * categories found. */
iae_status iae_mvtec_find_category(iae_ctx *ctx, const char *root, const iae_dir_list *categories,
                                   const char *name, int *index);

/* Load one category as the file comment describes. train, test and info
 * may each be NULL; the test set's per-image records need info. Errors,
 * with ctx->error naming the folder or file: a missing or unreadable root,
 * category or image folder, an unknown category name or an index out of
 * range (both listing the categories), a folder without images (train/good,
 * test/good, or no defective image at all), and any image that cannot be
 * read. A missing mask is not an error; it is counted in info. On failure
 * train, test and info are zeroed with nothing allocated. */
iae_status iae_mvtec_load(iae_ctx *ctx, const iae_mvtec_options *opt, iae_dataset *train,
                          iae_dataset *test, iae_mvtec_info *info);

/* Free the buffers of info and zero it. Safe on a zeroed struct. */
void iae_mvtec_info_free(iae_mvtec_info *info);

/* Read the mask at path into mask (H, W): 1 where the gray value is at
 * least 128, else 0. The mask must be h x w pixels, the size of its image
 * (orig_h and orig_w in iae_mvtec_info); another size is an error. mask
 * needs h * w bytes and is left unchanged on failure. */
iae_status iae_mvtec_load_mask(iae_ctx *ctx, const char *path, int h, int w, uint8_t *mask);

#endif
