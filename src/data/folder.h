/*
 * Image folders: a training folder of normal images and two test folders,
 * one of normal and one of anomalous images, in PNG or PGM of any size.
 *
 * Listing: a folder's images are its files whose names end in .png or .pgm
 * (any case), sorted by name in byte order, which for UTF-8 names is the
 * order of Python's sorted(). Every other entry, hidden files (names
 * starting with '.') and subfolders included, is skipped and counted. The
 * format of an image is then detected from its content (see image.h), so a
 * file named .png that is not a PNG or PGM image is an error, not skipped.
 *
 * Pixels: each image is read with iae_image_read into C = 1 (gray) or
 * C = 3 (RGB) channels, with image.h's conversions: gray is replicated to
 * RGB, RGB to gray is the Rec. 709 luminance in linear light (not PIL's
 * convert("L"), which weights the encoded values 0.299, 0.587, 0.114), and
 * alpha is composited onto black. Values are divided by 255, resized to
 * H x W with the antialiased bilinear resize of resize.h, and optionally
 * mapped to [-1, 1] by (x - 0.5) / 0.5.
 *
 * Shapes: data sets are (N, C, H, W) floats.
 */
#ifndef IAE_FOLDER_H
#define IAE_FOLDER_H

#include "core/core.h"
#include "data/dataset.h"

#define IAE_DIR_NAME_BYTES 256

/* The scaling applied to [0, 1] pixel values after resizing. */
typedef enum {
    IAE_PIXELS_UNIT = 0,      /* keep [0, 1] */
    IAE_PIXELS_SYMMETRIC = 1, /* (x - 0.5) / 0.5, in [-1, 1], as the MVTec AD scripts do */
} iae_pixel_scaling;

/* The sorted entries of a folder, and what was skipped. */
typedef struct {
    int n;
    char **entries;                        /* (N) strings in one iae_alloc'd block */
    char *block;
    int n_skipped;                         /* entries that did not match */
    char first_skipped[IAE_DIR_NAME_BYTES]; /* the smallest skipped name, "" when none */
} iae_dir_list;

/* List the images of dir (see the file comment) into out, as paths
 * "dir/name". Zero images is not an error here. On failure out is zeroed
 * and ctx->error names the folder: not found, not a directory, or
 * unreadable with the system's message. */
iae_status iae_dir_list_images(iae_ctx *ctx, const char *dir, iae_dir_list *out);

/* List the subfolders of dir into out, as names, sorted in byte order.
 * Hidden entries and files are skipped and counted. Errors as for
 * iae_dir_list_images. */
iae_status iae_dir_list_subdirs(iae_ctx *ctx, const char *dir, iae_dir_list *out);

/* Free the buffers of list and zero it. Safe on a zeroed struct. */
void iae_dir_list_free(iae_dir_list *list);

/* Read the images at paths[0..n), convert each to c channels, divide by 255,
 * resize to h x w and scale, into x (N, C, H, W). orig_h and orig_w (N),
 * either of which may be NULL, receive each image's size as stored. A
 * resize plan is reused while consecutive images have the same size. On
 * failure ctx->error names the image. */
iae_status iae_images_load(iae_ctx *ctx, const char *const *paths, int n, int c, int h, int w,
                           iae_pixel_scaling scaling, float *x, int *orig_h, int *orig_w);

typedef struct {
    const char *train_dir;          /* normal training images; needed when train != NULL */
    const char *test_normal_dir;    /* normal test images; needed when test != NULL */
    const char *test_anomalous_dir; /* anomalous test images; needed when test != NULL */
    int c, h, w;                    /* output channels (1 or 3) and size in pixels */
    iae_pixel_scaling scaling;
} iae_folder_options;

/* The image paths of each set, in data set order, for reports and scores. */
typedef struct {
    iae_dir_list train, test_normal, test_anomalous;
} iae_folder_info;

/* Load the training set (train_dir, label 0) and the test set (the images
 * of test_normal_dir, label 0, then those of test_anomalous_dir, label 1).
 * cls equals label. train, test and info may each be NULL. A folder
 * without images is an error whose message gives the number of other
 * entries skipped.
 * On failure train, test and info are zeroed with nothing allocated. */
iae_status iae_folder_load(iae_ctx *ctx, const iae_folder_options *opt, iae_dataset *train,
                           iae_dataset *test, iae_folder_info *info);

/* Free the lists of info and zero it. Safe on a zeroed struct. */
void iae_folder_info_free(iae_folder_info *info);

#endif
