/*
 * Folder listing, image loading with resizing, and the three-folder data
 * set. See folder.h for the listing rules and the pixel conventions.
 *
 * A folder is read twice, once to count and size its entries and once to
 * store them, so the list is allocated once. Entries that appear between
 * the two passes are ignored.
 */
#include "data/folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image.h"
#include "data/resize.h"

#define FOLDER_PATH_BYTES 4096

enum { LIST_IMAGES, LIST_SUBDIRS };

void iae_dir_list_free(iae_dir_list *list) {
    iae_free(list->entries);
    iae_free(list->block);
    memset(list, 0, sizeof(*list));
}

/* Return 1 when name ends in .png or .pgm, in any case. */
static int has_image_extension(const char *name) {
    size_t len = strlen(name);
    if (len < 4 || name[len - 4] != '.') return 0;
    char ext[4];
    for (int i = 0; i < 3; i++) {
        char ch = name[len - 3 + i];
        ext[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    ext[3] = 0;
    return strcmp(ext, "png") == 0 || strcmp(ext, "pgm") == 0;
}

/* Return 1 when dir/name is a directory (following symbolic links). */
static int is_subdir(const char *dir, const char *name) {
    char path[FOLDER_PATH_BYTES];
    int len = snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat info;
    return len > 0 && len < (int)sizeof(path) && stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

/* Return 1 when entry name of dir belongs in a list of this kind. */
static int keeps_entry(const char *dir, const char *name, int kind) {
    if (name[0] == '.') return 0;
    if (kind == LIST_SUBDIRS) return is_subdir(dir, name);
    return has_image_extension(name) && !is_subdir(dir, name);
}

static int is_dot_entry(const char *name) {
    return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Check that dir is a readable folder and open it. */
static iae_status open_folder(iae_ctx *ctx, const char *dir, DIR **out) {
    *out = NULL;
    struct stat info;
    if (stat(dir, &info) != 0) {
        if (errno == ENOENT)
            return iae_fail(ctx, IAE_ERR_IO, "folder '%s' not found; check the path", dir);
        return iae_fail(ctx, IAE_ERR_IO, "cannot read folder '%s': %s", dir, strerror(errno));
    }
    if (!S_ISDIR(info.st_mode))
        return iae_fail(ctx, IAE_ERR_IO, "'%s' is not a directory; expected a folder", dir);
    *out = opendir(dir);
    if (*out == NULL)
        return iae_fail(ctx, IAE_ERR_IO, "cannot read folder '%s': %s; check its permissions", dir,
                        strerror(errno));
    return IAE_OK;
}

/* First pass: count the kept entries and the bytes they need, and the
 * skipped ones. */
static iae_status count_entries(iae_ctx *ctx, const char *dir, DIR *d, int kind, int *n,
                                size_t *bytes, iae_dir_list *out) {
    const size_t prefix = kind == LIST_IMAGES ? strlen(dir) + 1 : 0;
    *n = 0;
    *bytes = 0;
    errno = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (is_dot_entry(e->d_name)) continue;
        if (keeps_entry(dir, e->d_name, kind)) {
            if (*n == INT32_MAX - 1)
                return iae_fail(ctx, IAE_ERR_IO, "folder '%s' has too many entries", dir);
            (*n)++;
            *bytes += prefix + strlen(e->d_name) + 1;
        } else {
            out->n_skipped++;
            if (out->first_skipped[0] == 0 || strcmp(e->d_name, out->first_skipped) < 0)
                snprintf(out->first_skipped, sizeof(out->first_skipped), "%s", e->d_name);
        }
        errno = 0;
    }
    if (errno != 0)
        return iae_fail(ctx, IAE_ERR_IO, "cannot read folder '%s': %s", dir, strerror(errno));
    return IAE_OK;
}

/* Second pass: store at most n kept entries in at most bytes bytes. */
static void store_entries(const char *dir, DIR *d, int kind, int n, size_t bytes,
                          iae_dir_list *out) {
    char *at = out->block;
    const char *end = out->block + bytes;
    rewinddir(d);
    for (struct dirent *e = readdir(d); e != NULL && out->n < n; e = readdir(d)) {
        if (is_dot_entry(e->d_name) || !keeps_entry(dir, e->d_name, kind)) continue;
        int len = kind == LIST_IMAGES ? snprintf(at, (size_t)(end - at), "%s/%s", dir, e->d_name)
                                      : snprintf(at, (size_t)(end - at), "%s", e->d_name);
        if (len < 0 || len >= end - at) break;
        out->entries[out->n++] = at;
        at += len + 1;
    }
}

static iae_status list_folder(iae_ctx *ctx, const char *dir, int kind, iae_dir_list *out) {
    memset(out, 0, sizeof(*out));
    DIR *d = NULL;
    iae_status st = open_folder(ctx, dir, &d);
    if (st != IAE_OK) return st;

    int n = 0;
    size_t bytes = 0;
    st = count_entries(ctx, dir, d, kind, &n, &bytes, out);
    if (st == IAE_OK) {
        out->entries = iae_alloc(ctx, sizeof(char *) * ((size_t)n + 1), "folder entries");
        out->block = iae_alloc(ctx, bytes + 1, "folder entry names");
        if (out->entries == NULL || out->block == NULL) st = IAE_ERR_NOMEM;
    }
    if (st == IAE_OK) store_entries(dir, d, kind, n, bytes, out);
    closedir(d);
    if (st != IAE_OK) {
        iae_dir_list_free(out);
        return st;
    }
    qsort(out->entries, (size_t)out->n, sizeof(char *), compare_strings);
    return IAE_OK;
}

iae_status iae_dir_list_images(iae_ctx *ctx, const char *dir, iae_dir_list *out) {
    return list_folder(ctx, dir, LIST_IMAGES, out);
}

iae_status iae_dir_list_subdirs(iae_ctx *ctx, const char *dir, iae_dir_list *out) {
    return list_folder(ctx, dir, LIST_SUBDIRS, out);
}

/* ------------------------------------------------------------------------ */
/* Loading images                                                            */
/* ------------------------------------------------------------------------ */

/* Check an output image shape: c in {1, 3}, sides from 1 to
 * IAE_IMAGE_MAX_SIDE. */
static iae_status check_shape(iae_ctx *ctx, int c, int h, int w) {
    if (c != 1 && c != 3)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid channel count %d; expected 1 (gray) or 3 (RGB)", c);
    if (h < 1 || w < 1 || h > IAE_IMAGE_MAX_SIDE || w > IAE_IMAGE_MAX_SIDE)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid image size %d x %d (height x width); expected 1 to %d per side",
                        h, w, IAE_IMAGE_MAX_SIDE);
    return IAE_OK;
}

/* Scale img's bytes, (H, W, C) interleaved, to [0, 1] floats in planar
 * (C, H, W) order. */
static void to_planar(const iae_image *img, float *out) {
    const size_t plane = (size_t)img->h * img->w;
    for (size_t i = 0; i < plane; i++)
        for (int ch = 0; ch < img->c; ch++)
            out[(size_t)ch * plane + i] = (float)img->data[i * img->c + ch] / 255.0f;
}

iae_status iae_images_load(iae_ctx *ctx, const char *const *paths, int n, int c, int h, int w,
                           iae_pixel_scaling scaling, float *x, int *orig_h, int *orig_w) {
    iae_status st = check_shape(ctx, c, h, w);
    if (st != IAE_OK) return st;
    if (scaling != IAE_PIXELS_UNIT && scaling != IAE_PIXELS_SYMMETRIC)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "invalid pixel scaling %d", (int)scaling);

    const size_t out_values = (size_t)c * h * w;
    iae_resize_plan plan;
    memset(&plan, 0, sizeof(plan));
    float *planar = NULL;
    size_t planar_values = 0;

    for (int k = 0; k < n && st == IAE_OK; k++) {
        iae_image img;
        st = iae_image_read(ctx, paths[k], c, &img);
        if (st != IAE_OK) break;

        /* The planar buffer and the plan grow or change with the size. */
        const size_t values = (size_t)c * img.h * img.w;
        if (values > planar_values) {
            iae_free(planar);
            planar = iae_alloc(ctx, sizeof(float) * values, "image pixels as floats");
            planar_values = planar == NULL ? 0 : values;
            if (planar == NULL) st = IAE_ERR_NOMEM;
        }
        if (st == IAE_OK && (plan.in_h != img.h || plan.in_w != img.w)) {
            iae_resize_plan_free(&plan);
            st = iae_resize_plan_init(ctx, &plan, c, img.h, img.w, h, w);
        }
        if (st == IAE_OK) {
            float *out = x + (size_t)k * out_values;
            to_planar(&img, planar);
            iae_resize_apply(&plan, planar, out);
            if (scaling == IAE_PIXELS_SYMMETRIC)
                for (size_t i = 0; i < out_values; i++) out[i] = (out[i] - 0.5f) / 0.5f;
            if (orig_h != NULL) orig_h[k] = img.h;
            if (orig_w != NULL) orig_w[k] = img.w;
        }
        iae_image_free(&img);
    }

    iae_free(planar);
    iae_resize_plan_free(&plan);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Three-folder data set                                                     */
/* ------------------------------------------------------------------------ */

void iae_folder_info_free(iae_folder_info *info) {
    iae_dir_list_free(&info->train);
    iae_dir_list_free(&info->test_normal);
    iae_dir_list_free(&info->test_anomalous);
}

/* List the images of dir (what names the folder's role in messages), and
 * fail when it has none. */
static iae_status list_nonempty(iae_ctx *ctx, const char *dir, const char *what,
                                iae_dir_list *list) {
    if (dir == NULL || dir[0] == 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "no %s folder given", what);
    iae_status st = iae_dir_list_images(ctx, dir, list);
    if (st != IAE_OK || list->n > 0) return st;

    if (list->n_skipped == 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "%s folder '%s' is empty; expected PNG or PGM images",
                      what, dir);
    else
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "%s folder '%s' has no PNG or PGM image: %d other entr%s skipped, such as "
                      "'%s'; image names must end in .png or .pgm",
                      what, dir, list->n_skipped, list->n_skipped == 1 ? "y was" : "ies were",
                      list->first_skipped);
    iae_dir_list_free(list);
    return st;
}

/* Allocate d for n images of shape (c, h, w). */
static iae_status alloc_set(iae_ctx *ctx, int n, int c, int h, int w, iae_dataset *d) {
    *d = (iae_dataset){.n = n, .c = c, .h = h, .w = w};
    d->x = iae_alloc(ctx, sizeof(float) * (size_t)n * c * h * w, "images");
    d->label = iae_alloc(ctx, (size_t)n, "image labels");
    d->cls = iae_alloc(ctx, (size_t)n, "image classes");
    if (d->x == NULL || d->label == NULL || d->cls == NULL) {
        iae_dataset_free(d);
        return IAE_ERR_NOMEM;
    }
    return IAE_OK;
}

/* Load the listed images into d from image first on, labelled label. */
static iae_status load_into(iae_ctx *ctx, const iae_folder_options *opt, const iae_dir_list *list,
                            int first, int label, iae_dataset *d) {
    float *x = d->x + (size_t)first * opt->c * opt->h * opt->w;
    memset(d->label + first, label, (size_t)list->n);
    memset(d->cls + first, label, (size_t)list->n);
    return iae_images_load(ctx, (const char *const *)list->entries, list->n, opt->c, opt->h, opt->w,
                           opt->scaling, x, NULL, NULL);
}

iae_status iae_folder_load(iae_ctx *ctx, const iae_folder_options *opt, iae_dataset *train,
                           iae_dataset *test, iae_folder_info *info) {
    if (train != NULL) memset(train, 0, sizeof(*train));
    if (test != NULL) memset(test, 0, sizeof(*test));
    if (info != NULL) memset(info, 0, sizeof(*info));
    iae_status st = check_shape(ctx, opt->c, opt->h, opt->w);
    if (st != IAE_OK) return st;

    iae_folder_info lists;
    memset(&lists, 0, sizeof(lists));
    if (train != NULL) st = list_nonempty(ctx, opt->train_dir, "training", &lists.train);
    if (st == IAE_OK && test != NULL)
        st = list_nonempty(ctx, opt->test_normal_dir, "normal test", &lists.test_normal);
    if (st == IAE_OK && test != NULL)
        st = list_nonempty(ctx, opt->test_anomalous_dir, "anomalous test",
                           &lists.test_anomalous);

    if (st == IAE_OK && train != NULL) {
        st = alloc_set(ctx, lists.train.n, opt->c, opt->h, opt->w, train);
        if (st == IAE_OK) st = load_into(ctx, opt, &lists.train, 0, 0, train);
    }
    if (st == IAE_OK && test != NULL) {
        const long n = (long)lists.test_normal.n + lists.test_anomalous.n;
        if (n > INT32_MAX)
            st = iae_fail(ctx, IAE_ERR_FORMAT, "the test folders hold %ld images, more than %d", n,
                          INT32_MAX);
        if (st == IAE_OK) st = alloc_set(ctx, (int)n, opt->c, opt->h, opt->w, test);
        if (st == IAE_OK) st = load_into(ctx, opt, &lists.test_normal, 0, 0, test);
        if (st == IAE_OK)
            st = load_into(ctx, opt, &lists.test_anomalous, lists.test_normal.n, 1, test);
    }

    if (st != IAE_OK) {
        if (train != NULL) iae_dataset_free(train);
        if (test != NULL) iae_dataset_free(test);
        iae_folder_info_free(&lists);
        return st;
    }
    if (info != NULL)
        *info = lists;
    else
        iae_folder_info_free(&lists);
    return IAE_OK;
}
