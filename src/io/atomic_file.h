/*
 * Crash-safe file writes: data goes to "<path>.tmp-<pid>", which is flushed,
 * fsync'd and renamed over path only when complete, so a crash, a full disk
 * or a kill during a write never leaves a partial file at path. A symbolic
 * link at path is followed: the file it points to is replaced, the link stays.
 */
#ifndef IAE_ATOMIC_FILE_H
#define IAE_ATOMIC_FILE_H

#include <stdio.h>

#include "core/core.h"

#define IAE_PATH_BYTES 4096

typedef struct {
    FILE *f;
    char path[IAE_PATH_BYTES];     /* final path, symbolic links resolved */
    char tmp_path[IAE_PATH_BYTES + 64];
    int failed; /* errno of the first failed write, 0 if none */
} iae_atomic_file;

/* Check, before any long work, that path can receive an output file: it is
 * not empty, its folder exists and is writable, and it is either absent or a
 * regular file (after following symbolic links), never a directory, device
 * or FIFO. what names the output in messages ("--out"). */
iae_status iae_output_path_check(iae_ctx *ctx, const char *path, const char *what);

/* Canonical absolute form of path for comparisons: symbolic links and "."/".."
 * resolved for the part that exists. Returns 0 when it cannot be resolved. */
int iae_canonical_path(const char *path, char *out, size_t size);

iae_status iae_atomic_open(iae_ctx *ctx, iae_atomic_file *af, const char *path);

/* Write bytes; errors are remembered and reported by iae_atomic_commit. */
void iae_atomic_write(iae_atomic_file *af, const void *data, size_t bytes);

/* Flush, fsync and rename into place. On failure the temporary file is
 * removed, the previous file at path is untouched, and an error names path. */
iae_status iae_atomic_commit(iae_ctx *ctx, iae_atomic_file *af);

/* Discard the temporary file. */
void iae_atomic_abort(iae_atomic_file *af);

/* Remove the temporary file of a write in progress when the process gets
 * SIGINT, SIGTERM or SIGHUP, then die of the signal as before. Call once from
 * main. This keeps the one piece of process-wide state in iae: the name of
 * the temporary file being written, which the signal handler must reach. */
void iae_atomic_install_signal_cleanup(void);

#endif
