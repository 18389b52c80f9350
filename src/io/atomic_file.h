/*
 * Crash-safe file writes: data goes to "<path>.tmp-<pid>", which is flushed,
 * fsync'd and renamed over path only when complete, so a crash, a full disk
 * or a kill during a write never leaves a partial file at path.
 */
#ifndef IAE_ATOMIC_FILE_H
#define IAE_ATOMIC_FILE_H

#include <stdio.h>

#include "core/core.h"

typedef struct {
    FILE *f;
    char path[4096];
    char tmp_path[4160];
    int failed; /* a write error was seen */
} iae_atomic_file;

iae_status iae_atomic_open(iae_ctx *ctx, iae_atomic_file *af, const char *path);

/* Write bytes; errors are remembered and reported by iae_atomic_commit. */
void iae_atomic_write(iae_atomic_file *af, const void *data, size_t bytes);

/* Flush, fsync and rename into place. On failure the temporary file is
 * removed, the previous file at path is untouched, and an error names path. */
iae_status iae_atomic_commit(iae_ctx *ctx, iae_atomic_file *af);

/* Discard the temporary file. */
void iae_atomic_abort(iae_atomic_file *af);

#endif
