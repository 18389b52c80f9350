#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

iae_status iae_atomic_open(iae_ctx *ctx, iae_atomic_file *af, const char *path) {
    memset(af, 0, sizeof(*af));
    if (strlen(path) >= sizeof(af->path))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "output path is too long (%zu characters)", strlen(path));
    snprintf(af->path, sizeof(af->path), "%s", path);
    snprintf(af->tmp_path, sizeof(af->tmp_path), "%s.tmp-%ld", path, (long)getpid());
    af->f = fopen(af->tmp_path, "wb");
    if (af->f == NULL)
        return iae_fail(ctx, IAE_ERR_IO, "cannot create '%s': %s; check that the folder exists and is writable",
                        af->tmp_path, strerror(errno));
    return IAE_OK;
}

void iae_atomic_write(iae_atomic_file *af, const void *data, size_t bytes) {
    if (af->failed || bytes == 0) return;
    if (fwrite(data, 1, bytes, af->f) != bytes) af->failed = errno ? errno : EIO;
}

static void sync_parent_dir(const char *path) {
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

iae_status iae_atomic_commit(iae_ctx *ctx, iae_atomic_file *af) {
    int err = af->failed;
    if (!err && fflush(af->f) != 0) err = errno;
    if (!err && fsync(fileno(af->f)) != 0) err = errno;
    if (fclose(af->f) != 0 && !err) err = errno;
    af->f = NULL;
    if (!err && rename(af->tmp_path, af->path) != 0) err = errno;
    if (err) {
        unlink(af->tmp_path);
        return iae_fail(ctx, IAE_ERR_IO, "writing '%s' failed: %s; the previous file, if any, is unchanged",
                        af->path, strerror(err));
    }
    sync_parent_dir(af->path);
    return IAE_OK;
}

void iae_atomic_abort(iae_atomic_file *af) {
    if (af->f != NULL) fclose(af->f);
    af->f = NULL;
    unlink(af->tmp_path);
}
