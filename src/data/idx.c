/*
 * IDX reader and writer on top of zlib. gzread decompresses gzip input and
 * passes any other input through unchanged, so one code path reads both .gz
 * and plain files.
 *
 * The reader validates the whole header before it allocates, reads exactly
 * the declared payload, and then reads on to the end of the stream. That last
 * read rejects trailing bytes and makes zlib check the gzip trailer (CRC-32
 * and length), which catches corruption that inflate alone lets through.
 *
 * A header can declare up to IAE_IDX_MAX_BYTES of payload whatever the file's
 * real size, so the payload buffer is sized from evidence. A plain file's
 * size is compared with the declared size before anything is allocated. A
 * gzip file's decompressed size is unknown until its end, so its buffer
 * starts at IDX_FIRST_ALLOC_BYTES and doubles only while data keeps coming.
 */
#include "data/idx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08

/* gzread and gzwrite take an unsigned length and return an int, so large
 * payloads move in chunks of this many bytes. */
#define IDX_CHUNK_BYTES (1u << 20)

/* First payload buffer for a gzip file, in bytes (16 MiB). A header that
 * declares more than the stream contains then allocates at most the larger of
 * this and three times the real payload (the old and the doubled buffer
 * during a copy) before the reader reports the truncation. */
#define IDX_FIRST_ALLOC_BYTES ((size_t)16 << 20)

static const char *idx_type_name(int type) {
    switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
    }
}

/* Format dims[0..ndim) as "(a, b, c)" into buf. */
static void format_dims(char *buf, size_t size, int ndim, const uint32_t *dims) {
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %u" : "%u", (unsigned)dims[i]);
    if (used < size) snprintf(buf + used, size - used, ")");
}

/* Store a message for a failed gzread/gzwrite on path and return its status. */
static iae_status fail_zlib(iae_ctx *ctx, gzFile gz, const char *verb, const char *path) {
    int errnum = Z_OK;
    const char *msg = gzerror(gz, &errnum);

    /* zlib prefixes its message with the stream's name, "<fd:N>" after gzdopen. */
    const char *colon = strstr(msg, ": ");
    if (strncmp(msg, "<fd:", 4) == 0 && colon != NULL) msg = colon + 2;

    if (errnum == Z_ERRNO)
        return iae_fail(ctx, IAE_ERR_IO, "cannot %s '%s': %s", verb, path, strerror(errno));
    if (errnum == Z_MEM_ERROR)
        return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory in zlib while trying to %s '%s'", verb,
                        path);
    return iae_fail(ctx, IAE_ERR_FORMAT,
                    "cannot %s '%s': corrupt gzip stream (zlib: %s); download the file again", verb,
                    path, msg);
}

/* Read up to len bytes into buf, stopping early only at the end of the input.
 * Stores the count in *got. Returns -1 after a read error, 1 when the input is
 * a gzip stream that ended before its end-of-stream marker or trailer, else 0. */
static int read_up_to(gzFile gz, void *buf, size_t len, size_t *got) {
    uint8_t *p = buf;
    size_t total = 0;
    while (total < len) {
        size_t left = len - total;
        unsigned chunk = left < IDX_CHUNK_BYTES ? (unsigned)left : IDX_CHUNK_BYTES;
        int n = gzread(gz, p + total, chunk);
        if (n < 0) {
            *got = total;
            return -1;
        }
        if (n == 0) break;
        total += (size_t)n;
    }
    *got = total;

    int errnum = Z_OK;
    gzerror(gz, &errnum);
    if (errnum == Z_BUF_ERROR) return 1;
    return errnum == Z_OK ? 0 : -1;
}

/* Read exactly len bytes of the file part named part ("header", ...). */
static iae_status read_exact(iae_ctx *ctx, gzFile gz, const char *path, const char *part,
                             void *buf, size_t len) {
    size_t got = 0;
    int rc = read_up_to(gz, buf, len, &got);
    if (rc < 0) return fail_zlib(ctx, gz, "read", path);
    if (got < len)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "IDX file '%s' is truncated: expected %zu bytes of %s, found %zu%s; "
                        "download the file again",
                        path, len, part, got, rc == 1 ? " (the gzip stream ends early)" : "");
    return IAE_OK;
}

/* Read on to the end of the input, which must hold nothing after the payload. */
static iae_status check_end(iae_ctx *ctx, gzFile gz, const char *path, size_t payload_bytes) {
    uint8_t scratch[4096];
    size_t extra = 0;
    for (;;) {
        size_t got = 0;
        int rc = read_up_to(gz, scratch, sizeof(scratch), &got);
        if (rc < 0) return fail_zlib(ctx, gz, "read", path);
        if (rc == 1)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "IDX file '%s' is truncated or corrupt: the gzip stream ends "
                            "before its trailer; download the file again",
                            path);
        extra += got;
        if (got < sizeof(scratch)) break;
    }
    if (extra > 0)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "IDX file '%s' has %zu unexpected bytes after the payload of %zu bytes; "
                        "expected the file to end there",
                        path, extra, payload_bytes);
    return IAE_OK;
}

/* Parse and validate the header of the open file; fill out's shape fields. */
static iae_status read_header(iae_ctx *ctx, gzFile gz, const char *path, iae_idx *out) {
    uint8_t magic[4];
    iae_status st = read_exact(ctx, gz, path, "header", magic, sizeof(magic));
    if (st != IAE_OK) return st;

    if (magic[0] != 0 || magic[1] != 0)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "'%s' is not an IDX file: expected the first two bytes to be 0x00 0x00, "
                        "found 0x%02x 0x%02x",
                        path, magic[0], magic[1]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "IDX file '%s' has value type 0x%02x (%s); only type 0x08 "
                        "(unsigned byte) is supported",
                        path, magic[2], idx_type_name(magic[2]));
    int ndim = magic[3];
    if (ndim < 1 || ndim > 4)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "IDX file '%s' has rank %d; expected a rank from 1 to 4", path, ndim);

    uint8_t raw[16];
    st = read_exact(ctx, gz, path, "dimensions", raw, 4 * (size_t)ndim);
    if (st != IAE_OK) return st;

    /* Big-endian u32 per dimension. */
    uint32_t dims[4];
    for (int i = 0; i < ndim; i++) {
        const uint8_t *b = raw + 4 * i;
        dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }

    /* Multiply step by step so the product can never overflow. */
    char shape[80];
    format_dims(shape, sizeof(shape), ndim, dims);
    uint64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] == 0)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "IDX file '%s' has shape %s: dimension %d is 0; the header is corrupt",
                            path, shape, i);
        if (dims[i] > IAE_IDX_MAX_BYTES || count > IAE_IDX_MAX_BYTES / dims[i])
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "IDX file '%s' has shape %s, which exceeds the limit of %u bytes; "
                            "the header is corrupt",
                            path, shape, IAE_IDX_MAX_BYTES);
        count *= dims[i];
    }

    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) out->dims[i] = (int)dims[i];
    out->count = (size_t)count;
    return IAE_OK;
}

/* Article and name of the file type in mode, for messages. */
static const char *file_type_name(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "an unknown file type";
}

/* Open path for reading as a zlib stream and store its size in *file_bytes.
 * Rejects directories and every other file that is not a regular file. */
static iae_status open_for_read(iae_ctx *ctx, const char *path, gzFile *gz_out,
                                off_t *file_bytes) {
    /* Without O_NONBLOCK, open() on a FIFO waits until a writer opens it,
     * which may never happen. With it, open() returns at once and fstat can
     * reject the FIFO. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return iae_fail(ctx, IAE_ERR_IO, "IDX file '%s' not found; check the path", path);
        return iae_fail(ctx, IAE_ERR_IO, "cannot read IDX file '%s': %s", path, strerror(errno));
    }

    struct stat info;
    if (fstat(fd, &info) != 0) {
        int saved = errno;
        close(fd);
        return iae_fail(ctx, IAE_ERR_IO, "cannot stat IDX file '%s': %s", path, strerror(saved));
    }
    if (S_ISDIR(info.st_mode)) {
        close(fd);
        return iae_fail(ctx, IAE_ERR_IO, "'%s' is a directory; expected an IDX file", path);
    }
    if (!S_ISREG(info.st_mode)) {
        close(fd);
        return iae_fail(ctx, IAE_ERR_IO, "'%s' is not a regular file (%s); expected an IDX file",
                        path, file_type_name(info.st_mode));
    }

    /* Linux ignores O_NONBLOCK for reads from regular files. It is cleared
     * anyway, so that no read returns EAGAIN on a system that honours it. */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int saved = errno;
        close(fd);
        return iae_fail(ctx, IAE_ERR_IO, "cannot clear O_NONBLOCK on IDX file '%s': %s", path,
                        strerror(saved));
    }

    gzFile gz = gzdopen(fd, "rb");
    if (gz == NULL) {
        close(fd);
        return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory: zlib cannot open '%s'", path);
    }
    gzbuffer(gz, 1u << 17);
    *gz_out = gz;
    *file_bytes = info.st_size;
    return IAE_OK;
}

/* Read the payload of a plain (uncompressed) file into a new idx->data. The
 * file size is checked first, so a header that declares more than the file
 * contains allocates nothing. */
static iae_status read_plain_payload(iae_ctx *ctx, gzFile gz, const char *path,
                                     off_t file_bytes, iae_idx *idx) {
    off_t header_bytes = 4 + 4 * (off_t)idx->ndim;
    off_t available = file_bytes > header_bytes ? file_bytes - header_bytes : 0;
    if ((uint64_t)available < (uint64_t)idx->count)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "IDX file '%s' is truncated: the header declares %zu bytes of payload, "
                        "the file has %lld; download the file again",
                        path, idx->count, (long long)available);

    idx->data = iae_alloc(ctx, idx->count, "IDX payload");
    if (idx->data == NULL) return IAE_ERR_NOMEM;
    return read_exact(ctx, gz, path, "payload", idx->data, idx->count);
}

/* Read the payload of a gzip file into a new idx->data, which the caller
 * frees on failure. The buffer grows geometrically up to idx->count only
 * while decompressed data keeps arriving. It is copied on growth, not
 * realloc'd, because realloc does not keep iae_alloc's 64-byte alignment. */
static iae_status read_gzip_payload(iae_ctx *ctx, gzFile gz, const char *path, iae_idx *idx) {
    size_t capacity = idx->count < IDX_FIRST_ALLOC_BYTES ? idx->count : IDX_FIRST_ALLOC_BYTES;
    idx->data = iae_alloc(ctx, capacity, "IDX payload");
    if (idx->data == NULL) return IAE_ERR_NOMEM;

    size_t filled = 0;
    for (;;) {
        size_t got = 0;
        int rc = read_up_to(gz, idx->data + filled, capacity - filled, &got);
        filled += got;
        if (rc < 0) return fail_zlib(ctx, gz, "read", path);
        if (filled == idx->count) return IAE_OK;
        if (filled < capacity)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "IDX file '%s' is truncated: the header declares %zu bytes of "
                            "payload, the file has %zu after decompression%s; download the file "
                            "again",
                            path, idx->count, filled,
                            rc == 1 ? " (the gzip stream ends early)" : "");

        /* The buffer is full and more payload is due, so double it, up to
         * the declared size. */
        size_t grown = capacity > idx->count / 2 ? idx->count : 2 * capacity;
        uint8_t *bigger = iae_alloc(ctx, grown, "IDX payload");
        if (bigger == NULL) return IAE_ERR_NOMEM;
        memcpy(bigger, idx->data, filled);
        iae_free(idx->data);
        idx->data = bigger;
        capacity = grown;
    }
}

iae_status iae_idx_read(iae_ctx *ctx, const char *path, iae_idx *out) {
    memset(out, 0, sizeof(*out));

    gzFile gz = NULL;
    off_t file_bytes = 0;
    iae_status st = open_for_read(ctx, path, &gz, &file_bytes);
    if (st != IAE_OK) return st;

    /* gzdirect is 1 when zlib passes the bytes through, i.e. the file does
     * not start with the gzip magic bytes 1f 8b. */
    int plain = gzdirect(gz);

    iae_idx idx = {0};
    st = read_header(ctx, gz, path, &idx);
    if (st == IAE_OK)
        st = plain ? read_plain_payload(ctx, gz, path, file_bytes, &idx)
                   : read_gzip_payload(ctx, gz, path, &idx);
    if (st == IAE_OK) st = check_end(ctx, gz, path, idx.count);

    gzclose(gz);
    if (st != IAE_OK) {
        iae_idx_free(&idx);
        return st;
    }
    *out = idx;
    return IAE_OK;
}

void iae_idx_free(iae_idx *idx) {
    iae_free(idx->data);
    memset(idx, 0, sizeof(*idx));
}

/* Check that idx describes a shape the format can hold and a payload to write. */
static iae_status validate_for_write(iae_ctx *ctx, const char *path, const iae_idx *idx) {
    if (idx->ndim < 1 || idx->ndim > 4)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot write IDX file '%s': rank %d is not in 1..4",
                        path, idx->ndim);
    size_t count = 1;
    for (int i = 0; i < idx->ndim; i++) {
        if (idx->dims[i] <= 0)
            return iae_fail(ctx, IAE_ERR_ARGUMENT,
                            "cannot write IDX file '%s': dimension %d is %d; expected > 0", path, i,
                            idx->dims[i]);
        if (count > SIZE_MAX / (size_t)idx->dims[i])
            return iae_fail(ctx, IAE_ERR_ARGUMENT,
                            "cannot write IDX file '%s': the dimensions multiply past SIZE_MAX",
                            path);
        count *= (size_t)idx->dims[i];
    }
    if (count != idx->count)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "cannot write IDX file '%s': count is %zu but the dimensions multiply to %zu",
                        path, idx->count, count);
    if (idx->data == NULL)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot write IDX file '%s': data is NULL", path);
    return IAE_OK;
}

/* Write the header and payload of idx to the open stream. */
static iae_status write_body(iae_ctx *ctx, gzFile gz, const char *tmp, const iae_idx *idx) {
    uint8_t header[20] = {0, 0, IDX_TYPE_UBYTE, (uint8_t)idx->ndim};
    for (int i = 0; i < idx->ndim; i++) {
        uint32_t d = (uint32_t)idx->dims[i];
        uint8_t *b = header + 4 + 4 * i;
        b[0] = (uint8_t)(d >> 24);
        b[1] = (uint8_t)(d >> 16);
        b[2] = (uint8_t)(d >> 8);
        b[3] = (uint8_t)d;
    }
    unsigned header_bytes = 4 + 4 * (unsigned)idx->ndim;
    if (gzwrite(gz, header, header_bytes) != (int)header_bytes)
        return fail_zlib(ctx, gz, "write", tmp);

    for (size_t done = 0; done < idx->count;) {
        size_t left = idx->count - done;
        unsigned chunk = left < IDX_CHUNK_BYTES ? (unsigned)left : IDX_CHUNK_BYTES;
        if (gzwrite(gz, idx->data + done, chunk) != (int)chunk)
            return fail_zlib(ctx, gz, "write", tmp);
        done += chunk;
    }
    return IAE_OK;
}

iae_status iae_idx_write(iae_ctx *ctx, const char *path, const iae_idx *idx, int gzip) {
    iae_status st = validate_for_write(ctx, path, idx);
    if (st != IAE_OK) return st;

    char tmp[4096];
    int len = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof(tmp))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "cannot write IDX file: path '%s' is too long", path);

    /* "T" makes zlib write the bytes unchanged, without gzip framing. */
    gzFile gz = gzopen(tmp, gzip ? "wb6" : "wbT");
    if (gz == NULL)
        return iae_fail(ctx, IAE_ERR_IO, "cannot create '%s' to write IDX file '%s': %s", tmp, path,
                        strerror(errno));

    st = write_body(ctx, gz, tmp, idx);

    /* gzclose flushes the last block, so a full disk can surface only here. */
    int rc = gzclose(gz);
    if (st == IAE_OK && rc != Z_OK)
        st = iae_fail(ctx, IAE_ERR_IO, "cannot finish writing '%s': %s", tmp,
                      rc == Z_ERRNO ? strerror(errno) : "zlib error on close");
    if (st == IAE_OK && rename(tmp, path) != 0)
        st = iae_fail(ctx, IAE_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                      strerror(errno));

    if (st != IAE_OK) unlink(tmp);
    return st;
}
