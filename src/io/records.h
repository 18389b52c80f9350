/*
 * The record container shared by model files and training checkpoints:
 *   magic     8 bytes, identifying the kind of file
 *   version   u32
 *   records   u32, the number of records that follow
 *   record    u8 type (1 = float32 tensor, 2 = UTF-8 text), u8 name length
 *             (1..63), u8 rank (0..4; 1 for text), u8 zero, the name,
 *             u32 dims[rank], then the payload: 4 bytes per element for a
 *             tensor, dims[0] bytes for text
 *   crc       u32, CRC-32 (zlib) of every byte before it
 * Integers are little-endian. Writes are atomic (see atomic_file.h). The
 * reader loads the whole file and checks magic, version and CRC before it
 * hands out any record, and bounds-checks every record.
 */
#ifndef IAE_RECORDS_H
#define IAE_RECORDS_H

#include <stdint.h>

#include "io/atomic_file.h"

#define IAE_RECORD_TENSOR 1
#define IAE_RECORD_TEXT 2
#define IAE_RECORD_NAME_MAX 63

typedef struct {
    iae_atomic_file af;
    unsigned long crc;
} iae_record_writer;

iae_status iae_records_create(iae_ctx *ctx, iae_record_writer *w, const char *path, const char magic[8],
                              uint32_t version, uint32_t n_records);
void iae_records_put_text(iae_record_writer *w, const char *name, const char *text, int len);
void iae_records_put_tensor(iae_record_writer *w, const char *name, int ndim, const int *dims, const float *data,
                            long count);
/* Append the CRC, flush, fsync and rename into place. */
iae_status iae_records_commit(iae_ctx *ctx, iae_record_writer *w);

typedef struct {
    int type; /* IAE_RECORD_TENSOR or IAE_RECORD_TEXT; 0 after the last record */
    char name[IAE_RECORD_NAME_MAX + 1];
    int ndim;
    int dims[4];
    long count;                   /* elements (tensor) or bytes (text) */
    const unsigned char *payload; /* little-endian floats or text, unaligned */
    size_t bytes;
} iae_record;

typedef struct {
    char path[IAE_PATH_BYTES];
    const char *what; /* "model file" or "checkpoint", for messages */
    unsigned char *data;
    size_t size, pos;
    uint32_t version, n_records, next;
} iae_record_reader;

/* Load and check a file: magic (else "'PATH' is not an iae WHAT"), version
 * 1..max_version, CRC. hint tells the user which file to pass instead. */
iae_status iae_records_open(iae_ctx *ctx, iae_record_reader *r, const char *path, const char *what,
                            const char magic[8], uint32_t max_version, const char *hint);

/* Next record, or rec->type == 0 after the last one (then the file must end). */
iae_status iae_records_next(iae_ctx *ctx, iae_record_reader *r, iae_record *rec);

void iae_records_close(iae_record_reader *r);

#endif
