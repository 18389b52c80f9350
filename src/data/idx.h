/*
 * IDX files, the container format of MNIST and Fashion-MNIST.
 *
 * Layout: two zero bytes, a type byte, a rank byte, then one big-endian u32
 * per dimension and the values in row-major order. Only the unsigned byte type
 * (0x08) and ranks 1 to 4 are supported, which covers every MNIST-style image
 * and label file. Files are read and written through zlib, so a gzip-compressed
 * file and a plain one are read the same way.
 */
#ifndef IAE_IDX_H
#define IAE_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Largest payload iae_idx_read accepts, in bytes (2 GiB - 1). A header whose
 * dimensions multiply to more is rejected before anything is allocated. */
#define IAE_IDX_MAX_BYTES 2147483647u

typedef struct {
    int ndim;      /* rank, 1..4 */
    int dims[4];   /* dims[0..ndim), outermost first */
    size_t count;  /* product of dims */
    uint8_t *data; /* (dims[0], ..., dims[ndim-1]) row-major, count bytes, iae_alloc'd */
} iae_idx;

/* Read the unsigned-byte IDX file at path, gzip-compressed or plain, into out.
 * Rejects paths that are not regular files (directories, FIFOs, devices,
 * sockets) without waiting for data, other value types, ranks outside 1..4,
 * zero dimensions, payloads over IAE_IDX_MAX_BYTES, truncated files, bytes
 * after the payload and corrupt gzip streams. A header that declares more
 * payload than a plain file contains is rejected before allocating. For a
 * gzip file the buffer grows with the decompressed data, so a lying header
 * costs at most the larger of 16 MiB and three times the real payload. On
 * failure out is zeroed, nothing stays allocated and ctx->error names the
 * path and the problem. */
iae_status iae_idx_read(iae_ctx *ctx, const char *path, iae_idx *out);

/* Free idx->data and zero the struct. Safe on a zeroed struct. */
void iae_idx_free(iae_idx *idx);

/* Write idx to path, gzip-compressed when gzip is nonzero. The bytes go to
 * "<path>.tmp-<pid>" first, which is then renamed over path, so a failed
 * write leaves any earlier file at path untouched. */
iae_status iae_idx_write(iae_ctx *ctx, const char *path, const iae_idx *idx, int gzip);

#endif
