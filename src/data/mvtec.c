/*
 * Loader of one MVTec AD category: category lookup, the listing of the
 * train and test folders, the mask paths, and the masks themselves. See
 * mvtec.h for the layout and the contract.
 */
#include "data/mvtec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image.h"

#define MVTEC_LIST_BYTES 480 /* room for a list of categories in a message */
#define MVTEC_GOOD "good"

/* Write "0 'a', 1 'b', ..." for the entries of list into out. */
static void list_categories(const iae_dir_list *list, char *out, size_t size) {
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < list->n; i++) {
        int len = snprintf(out + used, size - used, "%s%d '%s'", i ? ", " : "", i,
                           list->entries[i]);
        if (len < 0 || (size_t)len >= size - used) {
            out[used] = 0;
            snprintf(out + used, size - used, ", ... (%d categories)", list->n);
            return;
        }
        used += (size_t)len;
    }
}

iae_status iae_mvtec_categories(iae_ctx *ctx, const char *root, iae_dir_list *out) {
    if (root == NULL || root[0] == 0) {
        memset(out, 0, sizeof(*out));
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "no MVTec AD folder given: pass --data DIR");
    }
    iae_status st = iae_dir_list_subdirs(ctx, root, out);
    if (st != IAE_OK || out->n > 0) return st;
    iae_dir_list_free(out);
    return iae_fail(ctx, IAE_ERR_FORMAT,
                    "MVTec AD folder '%s' has no category subfolder; expected one folder per "
                    "category, such as bottle/ with train/ and test/ inside",
                    root);
}

iae_status iae_mvtec_find_category(iae_ctx *ctx, const char *root, const iae_dir_list *categories,
                                   const char *name, int *index) {
    for (int i = 0; i < categories->n; i++)
        if (strcmp(categories->entries[i], name) == 0) {
            *index = i;
            return IAE_OK;
        }
    char names[MVTEC_LIST_BYTES];
    list_categories(categories, names, sizeof(names));
    return iae_fail(ctx, IAE_ERR_ARGUMENT,
                    "MVTec AD category '%s' not found in '%s'; the categories found are %s", name,
                    root, names);
}

/* Resolve opt's category to its name and index in info. */
static iae_status resolve_category(iae_ctx *ctx, const iae_mvtec_options *opt,
                                   iae_mvtec_info *info) {
    iae_dir_list categories;
    iae_status st = iae_mvtec_categories(ctx, opt->root, &categories);
    if (st != IAE_OK) return st;

    int index = opt->category_index;
    if (opt->category != NULL) {
        st = iae_mvtec_find_category(ctx, opt->root, &categories, opt->category, &index);
    } else if (index < 0 || index >= categories.n) {
        char names[MVTEC_LIST_BYTES];
        list_categories(&categories, names, sizeof(names));
        st = iae_fail(ctx, IAE_ERR_ARGUMENT,
                      "MVTec AD category index %d is out of range; '%s' has %d categories: %s",
                      index, opt->root, categories.n, names);
    }
    if (st == IAE_OK) {
        snprintf(info->category, sizeof(info->category), "%s", categories.entries[index]);
        info->category_index = index;
        info->n_categories = categories.n;
    }
    iae_dir_list_free(&categories);
    return st;
}

void iae_mvtec_info_free(iae_mvtec_info *info) {
    iae_dir_list_free(&info->train);
    if (info->test_lists != NULL)
        for (int i = 0; i < info->test_folders.n; i++) iae_dir_list_free(&info->test_lists[i]);
    iae_free(info->test_lists);
    iae_dir_list_free(&info->test_folders);
    iae_free(info->test_paths);
    iae_free(info->defects);
    iae_free(info->mask_paths);
    iae_free(info->orig_h);
    iae_free(info->orig_w);
    iae_free(info->mask_block);
    memset(info, 0, sizeof(*info));
}

/* Join parts into path (IAE_MVTEC_PATH_BYTES) as "a/b/c". */
static iae_status join_path(iae_ctx *ctx, char *path, const char *a, const char *b,
                            const char *c) {
    int len = snprintf(path, IAE_MVTEC_PATH_BYTES, "%s/%s/%s", a, b, c);
    if (len < 0 || len >= IAE_MVTEC_PATH_BYTES)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "MVTec AD path '%s/%s/%s' is too long", a, b, c);
    return IAE_OK;
}

/* List the images of dir into list; none is an error naming what. */
static iae_status list_images(iae_ctx *ctx, const char *dir, const char *what,
                              iae_dir_list *list) {
    iae_status st = iae_dir_list_images(ctx, dir, list);
    if (st != IAE_OK || list->n > 0) return st;
    st = iae_fail(ctx, IAE_ERR_FORMAT,
                  "MVTec AD folder '%s' has no PNG or PGM image (%d other entr%s skipped); expected "
                  "the %s",
                  dir, list->n_skipped, list->n_skipped == 1 ? "y" : "ies", what);
    iae_dir_list_free(list);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Test folders and masks                                                    */
/* ------------------------------------------------------------------------ */

/* List the test subfolders with "good" first and the images of each. */
static iae_status list_test_folders(iae_ctx *ctx, const char *category_dir,
                                    iae_mvtec_info *info) {
    char test_dir[IAE_MVTEC_PATH_BYTES];
    int len = snprintf(test_dir, sizeof(test_dir), "%s/test", category_dir);
    if (len < 0 || len >= (int)sizeof(test_dir))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "MVTec AD path '%s/test' is too long",
                        category_dir);
    iae_status st = iae_dir_list_subdirs(ctx, test_dir, &info->test_folders);
    if (st != IAE_OK) return st;

    /* Move "good" to the front; the rest keep their sorted order. */
    iae_dir_list *folders = &info->test_folders;
    int good = -1;
    for (int i = 0; i < folders->n && good < 0; i++)
        if (strcmp(folders->entries[i], MVTEC_GOOD) == 0) good = i;
    if (good < 0)
        return iae_fail(ctx, IAE_ERR_IO,
                        "MVTec AD folder '%s/good' not found; expected the normal test images "
                        "there",
                        test_dir);
    char *good_name = folders->entries[good];
    memmove(folders->entries + 1, folders->entries, sizeof(char *) * (size_t)good);
    folders->entries[0] = good_name;

    info->test_lists = iae_alloc(ctx, sizeof(iae_dir_list) * (size_t)folders->n,
                                 "MVTec AD test folders");
    if (info->test_lists == NULL) return IAE_ERR_NOMEM;
    long defective = 0;
    for (int i = 0; i < folders->n; i++) {
        char dir[IAE_MVTEC_PATH_BYTES];
        st = join_path(ctx, dir, category_dir, "test", folders->entries[i]);
        if (st == IAE_OK && i == 0)
            st = list_images(ctx, dir, "normal test images", &info->test_lists[0]);
        else if (st == IAE_OK)
            st = iae_dir_list_images(ctx, dir, &info->test_lists[i]);
        if (st != IAE_OK) return st;
        info->n_skipped += info->test_lists[i].n_skipped;
        if (i > 0) defective += info->test_lists[i].n;
    }
    if (defective == 0)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "MVTec AD folder '%s' has no defective image; expected images in "
                        "subfolders other than good/, such as broken_large/",
                        test_dir);
    if (defective + info->test_lists[0].n > INT32_MAX)
        return iae_fail(ctx, IAE_ERR_FORMAT, "MVTec AD folder '%s' has too many images", test_dir);
    info->n_test_good = info->test_lists[0].n;
    info->n_test = info->n_test_good + (int)defective;
    return IAE_OK;
}

/* Write the mask path of image path (in defect folder defect) into out:
 * category_dir/ground_truth/defect/<stem>_mask.png. Returns the length, or
 * -1 when it does not fit in size bytes. */
static int mask_path(char *out, size_t size, const char *category_dir, const char *defect,
                     const char *path) {
    const char *name = strrchr(path, '/');
    name = name != NULL ? name + 1 : path;
    const char *dot = strrchr(name, '.');
    int stem = dot != NULL ? (int)(dot - name) : (int)strlen(name);
    int len = snprintf(out, size, "%s/ground_truth/%s/%.*s_mask.png", category_dir, defect, stem,
                       name);
    return len < 0 || (size_t)len >= size ? -1 : len;
}

/* Flatten the test lists into info's per-image arrays and find the mask
 * of every defective image. */
static iae_status index_test_images(iae_ctx *ctx, const char *category_dir,
                                    iae_mvtec_info *info) {
    const int n = info->n_test;
    info->test_paths = iae_alloc(ctx, sizeof(char *) * (size_t)n, "MVTec AD test paths");
    info->defects = iae_alloc(ctx, sizeof(char *) * (size_t)n, "MVTec AD defect names");
    info->mask_paths = iae_alloc(ctx, sizeof(char *) * (size_t)n, "MVTec AD mask paths");
    info->orig_h = iae_alloc(ctx, sizeof(int) * (size_t)n, "MVTec AD image heights");
    info->orig_w = iae_alloc(ctx, sizeof(int) * (size_t)n, "MVTec AD image widths");
    if (info->test_paths == NULL || info->defects == NULL || info->mask_paths == NULL ||
        info->orig_h == NULL || info->orig_w == NULL)
        return IAE_ERR_NOMEM;

    /* First the bytes that the mask paths need, then the paths. */
    char path[IAE_MVTEC_PATH_BYTES];
    size_t bytes = 1;
    for (int f = 1; f < info->test_folders.n; f++)
        for (int i = 0; i < info->test_lists[f].n; i++) {
            int len = mask_path(path, sizeof(path), category_dir, info->test_folders.entries[f],
                                info->test_lists[f].entries[i]);
            if (len < 0)
                return iae_fail(ctx, IAE_ERR_ARGUMENT, "the mask path of '%s' is too long",
                                info->test_lists[f].entries[i]);
            bytes += (size_t)len + 1;
        }
    info->mask_block = iae_alloc(ctx, bytes, "MVTec AD mask paths");
    if (info->mask_block == NULL) return IAE_ERR_NOMEM;

    char *at = info->mask_block;
    int k = 0;
    for (int f = 0; f < info->test_folders.n; f++)
        for (int i = 0; i < info->test_lists[f].n; i++, k++) {
            info->test_paths[k] = info->test_lists[f].entries[i];
            info->defects[k] = info->test_folders.entries[f];
            info->mask_paths[k] = NULL;
            if (f == 0) continue;

            int len = mask_path(at, bytes - (size_t)(at - info->mask_block), category_dir,
                                info->defects[k], info->test_paths[k]);
            struct stat file_info;
            if (stat(at, &file_info) == 0 && S_ISREG(file_info.st_mode)) {
                info->mask_paths[k] = at;
                at += len + 1;
                continue;
            }
            if (info->n_missing_masks++ == 0)
                snprintf(info->first_missing_mask, sizeof(info->first_missing_mask), "%s", at);
        }
    return IAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Loader                                                                    */
/* ------------------------------------------------------------------------ */

static iae_status alloc_set(iae_ctx *ctx, int n, int size, iae_dataset *d) {
    *d = (iae_dataset){.n = n, .c = 3, .h = size, .w = size};
    d->x = iae_alloc(ctx, sizeof(float) * (size_t)n * 3 * size * size, "MVTec AD images");
    d->label = iae_alloc(ctx, (size_t)n, "image labels");
    d->cls = iae_alloc(ctx, (size_t)n, "image classes");
    if (d->x == NULL || d->label == NULL || d->cls == NULL) {
        iae_dataset_free(d);
        return IAE_ERR_NOMEM;
    }
    return IAE_OK;
}

/* Build the training set from train/good. */
static iae_status load_train(iae_ctx *ctx, const char *category_dir, int size,
                             iae_pixel_scaling scaling, iae_mvtec_info *info, iae_dataset *set) {
    char dir[IAE_MVTEC_PATH_BYTES];
    iae_status st = join_path(ctx, dir, category_dir, "train", MVTEC_GOOD);
    if (st == IAE_OK) st = list_images(ctx, dir, "normal training images", &info->train);
    if (st != IAE_OK) return st;
    info->n_skipped += info->train.n_skipped;

    st = alloc_set(ctx, info->train.n, size, set);
    if (st == IAE_OK)
        st = iae_images_load(ctx, (const char *const *)info->train.entries, info->train.n, 3,
                             size, size, scaling, set->x, NULL, NULL);
    if (st != IAE_OK) iae_dataset_free(set);
    return st;
}

/* Build the test set: test/good, then the defect folders. */
static iae_status load_test(iae_ctx *ctx, const char *category_dir, int size,
                            iae_pixel_scaling scaling, iae_mvtec_info *info, iae_dataset *set) {
    iae_status st = list_test_folders(ctx, category_dir, info);
    if (st == IAE_OK) st = index_test_images(ctx, category_dir, info);
    if (st == IAE_OK) st = alloc_set(ctx, info->n_test, size, set);
    if (st != IAE_OK) return st;

    for (int k = 0; k < info->n_test; k++) {
        set->label[k] = k >= info->n_test_good;
        set->cls[k] = set->label[k];
    }
    st = iae_images_load(ctx, (const char *const *)info->test_paths, info->n_test, 3, size, size,
                         scaling, set->x, info->orig_h, info->orig_w);
    if (st != IAE_OK) iae_dataset_free(set);
    return st;
}

iae_status iae_mvtec_load(iae_ctx *ctx, const iae_mvtec_options *opt, iae_dataset *train,
                          iae_dataset *test, iae_mvtec_info *info) {
    if (train != NULL) memset(train, 0, sizeof(*train));
    if (test != NULL) memset(test, 0, sizeof(*test));
    if (info != NULL) memset(info, 0, sizeof(*info));
    const int size = opt->size > 0 ? opt->size : IAE_MVTEC_DEFAULT_SIZE;
    if (opt->size < 0 || size > IAE_IMAGE_MAX_SIDE)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid MVTec AD image size %d; expected 1 to %d, or 0 for 64",
                        opt->size, IAE_IMAGE_MAX_SIDE);
    const iae_pixel_scaling scaling =
        opt->skip_normalization ? IAE_PIXELS_UNIT : IAE_PIXELS_SYMMETRIC;

    iae_mvtec_info found;
    memset(&found, 0, sizeof(found));
    iae_status st = resolve_category(ctx, opt, &found);

    char category_dir[IAE_MVTEC_PATH_BYTES];
    if (st == IAE_OK) {
        int len = snprintf(category_dir, sizeof(category_dir), "%s/%s", opt->root, found.category);
        if (len < 0 || len >= (int)sizeof(category_dir))
            st = iae_fail(ctx, IAE_ERR_ARGUMENT, "MVTec AD path '%s/%s' is too long", opt->root,
                          found.category);
    }
    if (st == IAE_OK && train != NULL)
        st = load_train(ctx, category_dir, size, scaling, &found, train);
    if (st == IAE_OK && test != NULL) st = load_test(ctx, category_dir, size, scaling, &found, test);

    if (st != IAE_OK) {
        if (train != NULL) iae_dataset_free(train);
        if (test != NULL) iae_dataset_free(test);
        iae_mvtec_info_free(&found);
        return st;
    }
    if (info != NULL)
        *info = found;
    else
        iae_mvtec_info_free(&found);
    return IAE_OK;
}

iae_status iae_mvtec_load_mask(iae_ctx *ctx, const char *path, int h, int w, uint8_t *mask) {
    iae_image img;
    iae_status st = iae_image_read(ctx, path, 1, &img);
    if (st != IAE_OK) return st;
    if (img.h != h || img.w != w) {
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "mask '%s' is %d x %d pixels (height x width) but its image is %d x %d; "
                      "a mask must have its image's size",
                      path, img.h, img.w, h, w);
        iae_image_free(&img);
        return st;
    }
    for (size_t i = 0; i < (size_t)h * w; i++) mask[i] = img.data[i] >= 128;
    iae_image_free(&img);
    return IAE_OK;
}
