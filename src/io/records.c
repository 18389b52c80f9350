/* Record container writer and validating reader (format in records.h). */
#include "io/records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_FILE_BYTES (8ull << 30)

/* ---------------- writing ---------------- */

static void put(iae_record_writer *w, const void *data, size_t bytes) {
    /* zlib's crc32 takes a uInt length: feed large buffers in pieces. */
    const unsigned char *p = data;
    size_t left = bytes;
    while (left > 0) {
        uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        w->crc = crc32(w->crc, p, chunk);
        p += chunk;
        left -= chunk;
    }
    iae_atomic_write(&w->af, data, bytes);
}

static void put_u32(iae_record_writer *w, uint32_t v) {
    unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
    put(w, b, 4);
}

static void put_header(iae_record_writer *w, int type, const char *name, int ndim, const int *dims) {
    size_t len = strlen(name);
    IAE_ASSERT(len >= 1 && len <= IAE_RECORD_NAME_MAX && ndim >= 0 && ndim <= 4);
    unsigned char h[4] = {(unsigned char)type, (unsigned char)len, (unsigned char)ndim, 0};
    put(w, h, 4);
    put(w, name, len);
    for (int i = 0; i < ndim; i++) put_u32(w, (uint32_t)dims[i]);
}

iae_status iae_records_create(iae_ctx *ctx, iae_record_writer *w, const char *path, const char magic[8],
                              uint32_t version, uint32_t n_records) {
    w->crc = crc32(0L, Z_NULL, 0);
    iae_status st = iae_atomic_open(ctx, &w->af, path);
    if (st != IAE_OK) return st;
    put(w, magic, 8);
    put_u32(w, version);
    put_u32(w, n_records);
    return IAE_OK;
}

void iae_records_put_text(iae_record_writer *w, const char *name, const char *text, int len) {
    put_header(w, IAE_RECORD_TEXT, name, 1, &len);
    put(w, text, (size_t)len);
}

void iae_records_put_tensor(iae_record_writer *w, const char *name, int ndim, const int *dims, const float *data,
                            long count) {
    put_header(w, IAE_RECORD_TENSOR, name, ndim, dims);
    /* x86-64 and every platform iae targets are little-endian. */
    put(w, data, sizeof(float) * count);
}

iae_status iae_records_commit(iae_ctx *ctx, iae_record_writer *w) {
    uint32_t crc = (uint32_t)w->crc;
    const unsigned char b[4] = {crc & 0xff, (crc >> 8) & 0xff, (crc >> 16) & 0xff, crc >> 24};
    iae_atomic_write(&w->af, b, 4);
    return iae_atomic_commit(ctx, &w->af);
}

/* ---------------- reading ---------------- */

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read all of path into memory, with the kind and size checked first. */
static iae_status read_whole(iae_ctx *ctx, iae_record_reader *r, const char *hint) {
    const char *path = r->path;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? iae_fail(ctx, IAE_ERR_IO, "%s '%s' not found; %s", r->what, path, hint)
                               : iae_fail(ctx, IAE_ERR_IO, "cannot read %s '%s': %s", r->what, path, strerror(errno));
    struct stat sb;
    iae_status st = IAE_OK;
    if (fstat(fd, &sb) != 0)
        st = iae_fail(ctx, IAE_ERR_IO, "cannot read %s '%s': %s", r->what, path, strerror(errno));
    else if (S_ISDIR(sb.st_mode))
        st = iae_fail(ctx, IAE_ERR_IO, "'%s' is a directory, not a %s; %s", path, r->what, hint);
    else if (!S_ISREG(sb.st_mode))
        st = iae_fail(ctx, IAE_ERR_IO, "'%s' is not a regular file; %s", path, hint);
    else if ((unsigned long long)sb.st_size > MAX_FILE_BYTES)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "%s '%s' is %lld bytes, larger than any iae file (8 GiB)", r->what, path,
                      (long long)sb.st_size);
    if (st == IAE_OK) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    size_t n = st == IAE_OK ? (size_t)sb.st_size : 0;
    if (st == IAE_OK && (r->data = iae_alloc(ctx, n + 1, "file contents")) == NULL) st = IAE_ERR_NOMEM;
    size_t got = 0;
    while (st == IAE_OK && got < n) {
        ssize_t k = read(fd, r->data + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            st = iae_fail(ctx, IAE_ERR_IO, "reading %s '%s' failed after %zu of %zu bytes", r->what, path, got, n);
            break;
        }
        got += (size_t)k;
    }
    close(fd);
    r->size = n;
    return st;
}

iae_status iae_records_open(iae_ctx *ctx, iae_record_reader *r, const char *path, const char *what,
                            const char magic[8], uint32_t max_version, const char *hint) {
    memset(r, 0, sizeof(*r));
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->what = what;
    iae_status st = read_whole(ctx, r, hint);
    if (st != IAE_OK) {
        iae_records_close(r);
        return st;
    }
    const unsigned char *d = r->data;
    const size_t size = r->size;
    if (size < 8 || memcmp(d, magic, 8) != 0) {
        st = size < 8 && memcmp(d, magic, size) == 0
                 ? iae_fail(ctx, IAE_ERR_FORMAT, "%s '%s' is truncated (%zu bytes); copy it again or retrain", what,
                            path, size)
                 : iae_fail(ctx, IAE_ERR_FORMAT, "'%s' is not an iae %s (wrong magic number); %s", path, what, hint);
    } else if (size < 20) {
        st = iae_fail(ctx, IAE_ERR_FORMAT, "%s '%s' is truncated (%zu bytes); copy it again or retrain", what, path,
                      size);
    } else {
        r->version = get_u32(d + 8);
        r->n_records = get_u32(d + 12);
        uint32_t stored = get_u32(d + size - 4);
        uLong crc = crc32(0L, Z_NULL, 0);
        for (size_t off = 0; off < size - 4;) {
            uInt chunk = size - 4 - off > (1u << 30) ? (1u << 30) : (uInt)(size - 4 - off);
            crc = crc32(crc, d + off, chunk);
            off += chunk;
        }
        if (r->version == 0)
            st = iae_fail(ctx, IAE_ERR_FORMAT, "%s '%s' has format version 0, which iae never writes; the file is damaged",
                          what, path);
        else if (r->version > max_version)
            st = iae_fail(ctx, IAE_ERR_FORMAT, "%s '%s' has format version %u; this iae reads versions 1 to %u: upgrade iae",
                          what, path, r->version, max_version);
        else if ((uint32_t)crc != stored)
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "%s '%s' is corrupted or truncated: CRC-32 mismatch (stored %08x, computed %08x); copy the "
                          "file again or retrain",
                          what, path, stored, (unsigned)crc);
    }
    if (st != IAE_OK) {
        iae_records_close(r);
        return st;
    }
    r->pos = 16;
    return IAE_OK;
}

iae_status iae_records_next(iae_ctx *ctx, iae_record_reader *r, iae_record *rec) {
    memset(rec, 0, sizeof(*rec));
    const size_t body_end = r->size - 4;
    const unsigned char *d = r->data;
    if (r->next == r->n_records) {
        if (r->pos != body_end)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "%s '%s' has %zu unexpected bytes after its records; the file is damaged, copy it again "
                            "or retrain",
                            r->what, r->path, body_end - r->pos);
        return IAE_OK;
    }
    const uint32_t index = ++r->next;
    if (r->pos + 4 > body_end)
        return iae_fail(ctx, IAE_ERR_FORMAT, "%s '%s': record %u of %u starts past the end of the data", r->what,
                        r->path, index, r->n_records);
    int type = d[r->pos], name_len = d[r->pos + 1], ndim = d[r->pos + 2], zero = d[r->pos + 3];
    r->pos += 4;
    if ((type != IAE_RECORD_TENSOR && type != IAE_RECORD_TEXT) || name_len < 1 || name_len > IAE_RECORD_NAME_MAX ||
        ndim > 4 || zero != 0 || (type == IAE_RECORD_TEXT && ndim != 1) || r->pos + name_len + 4u * ndim > body_end)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s '%s': record %u has an invalid header; the file is damaged, copy it again or retrain",
                        r->what, r->path, index);
    memcpy(rec->name, d + r->pos, name_len);
    rec->name[name_len] = 0;
    r->pos += name_len;
    unsigned long long count = 1;
    int absurd = 0;
    for (int i = 0; i < ndim; i++) {
        uint32_t v = get_u32(d + r->pos + 4 * i);
        rec->dims[i] = (int)(v > (1u << 30) ? 0 : v);
        if (v > (1u << 30)) absurd = 1;
        if (!absurd) count *= v;
        if (count > r->size) absurd = 1;
    }
    r->pos += 4u * ndim;
    unsigned long long bytes = type == IAE_RECORD_TEXT ? count : count * 4;
    if (absurd || bytes > body_end - r->pos)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s '%s': record '%s' is larger than the %zu bytes that remain; the file is damaged, copy it "
                        "again or retrain",
                        r->what, r->path, rec->name, body_end - r->pos);
    rec->type = type;
    rec->ndim = ndim;
    rec->count = (long)count;
    rec->payload = d + r->pos;
    rec->bytes = (size_t)bytes;
    r->pos += bytes;
    return IAE_OK;
}

void iae_records_close(iae_record_reader *r) {
    iae_free(r->data);
    r->data = NULL;
}
