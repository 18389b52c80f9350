#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary file of the write in progress, for the signal handler. */
static char pending_tmp[IAE_PATH_BYTES + 64];
static volatile sig_atomic_t pending_active = 0;

static void cleanup_on_signal(int sig) {
    if (pending_active) unlink(pending_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

void iae_atomic_install_signal_cleanup(void) {
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = cleanup_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

int iae_canonical_path(const char *path, char *out, size_t size) {
    char resolved[PATH_MAX];
    if (realpath(path, resolved) != NULL) {
        snprintf(out, size, "%s", resolved);
        return 1;
    }
    /* Absent file: resolve its folder and append the name. */
    char dir_copy[IAE_PATH_BYTES], base_copy[IAE_PATH_BYTES];
    snprintf(dir_copy, sizeof(dir_copy), "%s", path);
    snprintf(base_copy, sizeof(base_copy), "%s", path);
    if (realpath(dirname(dir_copy), resolved) == NULL) return 0;
    snprintf(out, size, "%s/%s", resolved, basename(base_copy));
    return 1;
}

iae_status iae_output_path_check(iae_ctx *ctx, const char *path, const char *what) {
    if (path[0] == 0) return iae_fail(ctx, IAE_ERR_ARGUMENT, "%s needs a file name, got an empty string", what);
    if (strlen(path) >= IAE_PATH_BYTES)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "%s path is too long (%zu characters)", what, strlen(path));
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "%s '%s' is %s; give the path of a regular file", what, path,
                        file_kind(sb.st_mode));
    char copy[IAE_PATH_BYTES];
    snprintf(copy, sizeof(copy), "%s", path);
    const char *dir = dirname(copy);
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return iae_fail(ctx, IAE_ERR_IO, "folder '%s' of %s '%s' does not exist; create it first", dir, what, path);
    if (access(dir, W_OK | X_OK) != 0)
        return iae_fail(ctx, IAE_ERR_IO, "folder '%s' of %s '%s' is not writable: %s", dir, what, path,
                        strerror(errno));
    return IAE_OK;
}

iae_status iae_atomic_open(iae_ctx *ctx, iae_atomic_file *af, const char *path) {
    memset(af, 0, sizeof(*af));
    iae_status st = iae_output_path_check(ctx, path, "output");
    if (st != IAE_OK) return st;

    /* Follow a symbolic link so that its target is replaced, not the link. */
    struct stat sb;
    char resolved[PATH_MAX];
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        if (realpath(path, resolved) == NULL)
            return iae_fail(ctx, IAE_ERR_IO, "output '%s' is a symbolic link that cannot be followed: %s", path,
                            strerror(errno));
        path = resolved;
    }
    snprintf(af->path, sizeof(af->path), "%s", path);
    snprintf(af->tmp_path, sizeof(af->tmp_path), "%s.tmp-%ld", path, (long)getpid());

    pending_active = 0;
    memcpy(pending_tmp, af->tmp_path, sizeof(pending_tmp));
    pending_active = 1;
    af->f = fopen(af->tmp_path, "wb");
    if (af->f == NULL) {
        pending_active = 0;
        return iae_fail(ctx, IAE_ERR_IO, "cannot create '%s': %s; check that the folder exists and is writable",
                        af->tmp_path, strerror(errno));
    }
    return IAE_OK;
}

void iae_atomic_write(iae_atomic_file *af, const void *data, size_t bytes) {
    if (af->failed || bytes == 0) return;
    if (fwrite(data, 1, bytes, af->f) != bytes) af->failed = errno ? errno : EIO;
}

static void sync_parent_dir(const char *path) {
    char copy[IAE_PATH_BYTES];
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
    if (err) unlink(af->tmp_path);
    pending_active = 0;
    if (err)
        return iae_fail(ctx, IAE_ERR_IO, "writing '%s' failed: %s; the previous file, if any, is unchanged",
                        af->path, strerror(err));
    sync_parent_dir(af->path);
    return IAE_OK;
}

void iae_atomic_abort(iae_atomic_file *af) {
    if (af->f != NULL) fclose(af->f);
    af->f = NULL;
    unlink(af->tmp_path);
    pending_active = 0;
}
