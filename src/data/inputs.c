#include "data/inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "data/idx.h"
#include "data/image.h"

#define STDIN_MAX_BYTES (1ull << 30)

static int looks_like_idx(const uint8_t *b, size_t n) {
    return (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) || (n >= 3 && b[0] == 0 && b[1] == 0 && b[2] == 0x08);
}

static iae_status from_idx(iae_ctx *ctx, const char *name, const iae_idx *idx, iae_gray_images *out) {
    if (idx->ndim != 2 && idx->ndim != 3)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "IDX input '%s' has rank %d; expected images (N, H, W) or one image (H, W)", name, idx->ndim);
    out->n = idx->ndim == 3 ? idx->dims[0] : 1;
    out->h = idx->dims[idx->ndim - 2];
    out->w = idx->dims[idx->ndim - 1];
    out->pixels = iae_alloc(ctx, idx->count, "input images");
    if (out->pixels == NULL) return IAE_ERR_NOMEM;
    memcpy(out->pixels, idx->data, idx->count);
    return IAE_OK;
}

static iae_status from_image(iae_ctx *ctx, const iae_image *img, iae_gray_images *out) {
    out->n = 1, out->h = img->h, out->w = img->w;
    out->pixels = iae_alloc(ctx, (size_t)img->h * img->w, "input image");
    if (out->pixels == NULL) return IAE_ERR_NOMEM;
    memcpy(out->pixels, img->data, (size_t)img->h * img->w);
    return IAE_OK;
}

/* Read standard input into memory, up to STDIN_MAX_BYTES. */
static iae_status slurp_stdin(iae_ctx *ctx, uint8_t **bytes, size_t *n) {
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = iae_alloc(ctx, cap, "standard input");
    if (buf == NULL) return IAE_ERR_NOMEM;
    for (;;) {
        if (len == cap) {
            if (cap >= STDIN_MAX_BYTES) {
                iae_free(buf);
                return iae_fail(ctx, IAE_ERR_FORMAT, "standard input holds more than %llu bytes; pass a file instead",
                                STDIN_MAX_BYTES);
            }
            uint8_t *grown = iae_alloc(ctx, cap * 2, "standard input");
            if (grown == NULL) {
                iae_free(buf);
                return IAE_ERR_NOMEM;
            }
            memcpy(grown, buf, len);
            iae_free(buf);
            buf = grown;
            cap *= 2;
        }
        ssize_t k = read(STDIN_FILENO, buf + len, cap - len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            iae_free(buf);
            return iae_fail(ctx, IAE_ERR_IO, "reading standard input failed: %s", strerror(errno));
        }
        if (k == 0) break;
        len += (size_t)k;
    }
    *bytes = buf;
    *n = len;
    return IAE_OK;
}

/* Replace every "from" in ctx->error by "to" (messages about a temporary
 * file should name standard input). */
static void rename_in_error(iae_ctx *ctx, const char *from, const char *to) {
    char out[IAE_ERROR_BYTES];
    size_t o = 0, flen = strlen(from), tlen = strlen(to);
    for (const char *p = ctx->error; *p && o + 1 < sizeof(out);) {
        if (strncmp(p, from, flen) == 0 && o + tlen + 1 < sizeof(out)) {
            memcpy(out + o, to, tlen);
            o += tlen, p += flen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
    memcpy(ctx->error, out, o + 1);
}

static iae_status load_stdin(iae_ctx *ctx, iae_gray_images *out) {
    uint8_t *bytes = NULL;
    size_t n = 0;
    iae_status st = slurp_stdin(ctx, &bytes, &n);
    if (st != IAE_OK) return st;
    if (n == 0) {
        iae_free(bytes);
        return iae_fail(ctx, IAE_ERR_FORMAT, "standard input is empty; expected an IDX, PNG or PGM file");
    }
    if (!looks_like_idx(bytes, n)) {
        iae_image img = {0};
        st = iae_image_decode(ctx, "standard input", bytes, n, 1, &img);
        if (st == IAE_OK) st = from_image(ctx, &img, out);
        iae_image_free(&img);
        iae_free(bytes);
        return st;
    }
    /* IDX (possibly gzip'd): hand it to the file reader through an unnamed
     * temporary file, so every check of the reader applies. */
    FILE *tmp = tmpfile();
    if (tmp == NULL || fwrite(bytes, 1, n, tmp) != n || fflush(tmp) != 0) {
        if (tmp) fclose(tmp);
        iae_free(bytes);
        return iae_fail(ctx, IAE_ERR_IO, "cannot buffer standard input in a temporary file: %s", strerror(errno));
    }
    iae_free(bytes);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(tmp));
    iae_idx idx = {0};
    st = iae_idx_read(ctx, path, &idx);
    if (st == IAE_OK) st = from_idx(ctx, "standard input", &idx, out);
    if (st != IAE_OK) rename_in_error(ctx, path, "standard input");
    iae_idx_free(&idx);
    fclose(tmp);
    return st;
}

iae_status iae_gray_images_load(iae_ctx *ctx, const char *path, iae_gray_images *out) {
    memset(out, 0, sizeof(*out));
    if (strcmp(path, "-") == 0) return load_stdin(ctx, out);

    /* Peek at the first bytes to choose the reader. */
    uint8_t head[8] = {0};
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t k = read(fd, head, sizeof(head));
        got = k > 0 ? (size_t)k : 0;
        close(fd);
    }
    iae_status st;
    if (fd >= 0 && looks_like_idx(head, got)) {
        iae_idx idx = {0};
        st = iae_idx_read(ctx, path, &idx);
        if (st == IAE_OK) st = from_idx(ctx, path, &idx, out);
        iae_idx_free(&idx);
    } else {
        /* The image reader reports missing files, directories and unknown
         * formats with the right message. */
        iae_image img = {0};
        st = iae_image_read(ctx, path, 1, &img);
        if (st == IAE_OK) st = from_image(ctx, &img, out);
        iae_image_free(&img);
    }
    if (st != IAE_OK) iae_gray_images_free(out);
    return st;
}

void iae_gray_images_free(iae_gray_images *g) {
    iae_free(g->pixels);
    memset(g, 0, sizeof(*g));
}
