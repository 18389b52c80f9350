/*
 * Model file writer and validating reader (format in model_file.h).
 * The reader loads the whole file, checks magic, version and CRC-32 before
 * parsing anything, bounds-checks every record against the file size, then
 * checks that every tensor the configuration implies is present exactly once
 * with the right shape and finite values.
 */
#include "io/model_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "io/atomic_file.h"

#define MAGIC "IAEMODEL"
#define REC_TENSOR 1
#define REC_TEXT 2
#define MAX_NAME 63
#define MAX_FILE_BYTES (8ull << 30)

/* ---------------- writing ---------------- */

typedef struct {
    iae_atomic_file af;
    uLong crc;
} writer;

static void put(writer *w, const void *data, size_t bytes) {
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

static void put_u32(writer *w, uint32_t v) {
    unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
    put(w, b, 4);
}

static void put_header(writer *w, int type, const char *name, int ndim, const int *dims) {
    unsigned char h[4] = {(unsigned char)type, (unsigned char)strlen(name), (unsigned char)ndim, 0};
    put(w, h, 4);
    put(w, name, strlen(name));
    for (int i = 0; i < ndim; i++) put_u32(w, (uint32_t)dims[i]);
}

static void put_tensor(writer *w, const char *name, int ndim, const int *dims, const float *data,
                       long count) {
    put_header(w, REC_TENSOR, name, ndim, dims);
    /* x86-64 and every platform iae targets are little-endian. */
    put(w, data, sizeof(float) * count);
}

static const char *objective_name(iae_objective o) {
    return o == IAE_OBJECTIVE_SOFT_BOUNDARY ? "soft-boundary" : "one-class";
}

static int format_config(const iae_detector_info *in, char *buf, size_t size) {
    const iae_net_config *n = &in->net;
    return snprintf(buf, size,
                    "arch=lenet\nin_c=%d\nin_h=%d\nin_w=%d\nrep_dim=%d\nuse_lstm=%d\nuse_decoder=%d\n"
                    "leaky_slope=%.9g\nbn_eps=%.9g\nbn_momentum=%.9g\n"
                    "dataset=%s\nnormal_class=%d\nreference_normalization=%d\nnorm_min=%.9g\nnorm_max=%.9g\n"
                    "objective=%s\nnu=%.9g\nradius=%.9g\nw_mse=%.9g\nw_kl=%.9g\nkl_form=%s\n"
                    "seed=%llu\nbatch_size=%d\nepochs=%d\npretrain_epochs=%d\nlr=%.9g\nweight_decay=%.9g\n"
                    "bn_train_mode=%d\ntrain_samples=%d\nvalidation_fraction=%.9g\nvalidation_samples=%d\n"
                    "threshold=%.9g\nthreshold_fpr=%.9g\nscore_context=%s\n",
                    n->in_c, n->in_h, n->in_w, n->rep_dim, n->use_lstm, n->use_decoder, n->leaky_slope,
                    n->bn_eps, n->bn_momentum, in->dataset, in->normal_class, in->reference_normalization,
                    in->norm_min, in->norm_max, objective_name(in->objective), in->nu, in->radius, in->w_mse,
                    in->w_kl, in->kl_form == IAE_KL_LOG_SOFTMAX ? "log-softmax" : "reference",
                    (unsigned long long)in->seed, in->batch_size, in->epochs, in->pretrain_epochs, in->lr,
                    in->weight_decay, in->bn_train_mode, in->train_samples, in->validation_fraction,
                    in->validation_samples, in->threshold, in->threshold_fpr, iae_context_name(in->score_context));
}

iae_status iae_model_save(iae_ctx *ctx, const iae_detector *d, const char *path) {
    writer w = {.crc = crc32(0L, Z_NULL, 0)};
    iae_status st = iae_atomic_open(ctx, &w.af, path);
    if (st != IAE_OK) return st;

    const iae_net *net = d->net;
    char config[4096];
    int config_len = format_config(&d->info, config, sizeof(config));
    IAE_ASSERT(config_len > 0 && (size_t)config_len < sizeof(config));

    const int hid = iae_net_lstm_hidden(net);
    const int with_memory = hid > 0 && net->has_memory, with_stats = d->stats.n > 0;
    put(&w, MAGIC, 8);
    put_u32(&w, IAE_MODEL_VERSION);
    put_u32(&w, (uint32_t)(2 + net->n_params + net->n_buffers + 2 * with_memory + with_stats));

    put_header(&w, REC_TEXT, "config", 1, &config_len);
    put(&w, config, (size_t)config_len);
    const int dim = iae_net_z_size(net);
    put_tensor(&w, "center", 1, &dim, d->center, dim);
    for (int i = 0; i < net->n_params; i++) {
        const iae_tensor_info *t = &net->params[i];
        put_tensor(&w, t->name, t->ndim, t->dims, net->param + t->offset, t->count);
    }
    for (int i = 0; i < net->n_buffers; i++) {
        const iae_tensor_info *t = &net->buffers[i];
        put_tensor(&w, t->name, t->ndim, t->dims, net->buffer + t->offset, t->count);
    }
    if (with_memory) {
        put_tensor(&w, "memory_h", 1, &hid, net->memory_state, hid);
        put_tensor(&w, "memory_c", 1, &hid, net->memory_state + hid, hid);
    }
    if (with_stats) {
        float table[IAE_N_STAT_SCORES][2 + IAE_N_QUANTILES];
        for (int k = 0; k < IAE_N_STAT_SCORES; k++) {
            table[k][0] = d->stats.mean[k];
            table[k][1] = d->stats.std[k];
            memcpy(&table[k][2], d->stats.quantile[k], sizeof(float) * IAE_N_QUANTILES);
        }
        const int dims[2] = {IAE_N_STAT_SCORES, 2 + IAE_N_QUANTILES};
        put_tensor(&w, "score_stats", 2, dims, &table[0][0], IAE_N_STAT_SCORES * (2 + IAE_N_QUANTILES));
    }
    uint32_t crc = (uint32_t)w.crc;
    iae_atomic_write(&w.af, (unsigned char[4]){crc & 0xff, (crc >> 8) & 0xff, (crc >> 16) & 0xff, crc >> 24}, 4);
    return iae_atomic_commit(ctx, &w.af);
}

/* ---------------- reading ---------------- */

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read all of path into memory, with size limits checked first. */
static iae_status read_whole(iae_ctx *ctx, const char *path, unsigned char **data, size_t *size) {
    *data = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT
                   ? iae_fail(ctx, IAE_ERR_IO, "model file '%s' not found; pass the file written by 'iae train --out'",
                              path)
                   : iae_fail(ctx, IAE_ERR_IO, "cannot read model file '%s': %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return iae_fail(ctx, IAE_ERR_IO, "'%s' is a directory, not a model file", path);
    if (!S_ISREG(sb.st_mode))
        return iae_fail(ctx, IAE_ERR_IO, "'%s' is not a regular file; pass a model file written by 'iae train --out'",
                        path);
    if ((unsigned long long)sb.st_size > MAX_FILE_BYTES)
        return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' is %lld bytes, larger than any iae model (8 GiB)",
                        path, (long long)sb.st_size);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return iae_fail(ctx, IAE_ERR_IO, "cannot open model file '%s': %s", path, strerror(errno));
    size_t n = (size_t)sb.st_size;
    unsigned char *buf = iae_alloc(ctx, n + 1, "model file contents");
    if (buf == NULL) {
        fclose(f);
        return IAE_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != n) {
        iae_free(buf);
        return iae_fail(ctx, IAE_ERR_IO, "reading model file '%s' failed after %zu of %zu bytes", path, got, n);
    }
    *data = buf;
    *size = n;
    return IAE_OK;
}

/* Parse "key=value" lines into info; rejects missing or invalid settings. */
static iae_status parse_config(iae_ctx *ctx, const char *path, const char *text, size_t len,
                               iae_detector_info *info) {
    enum { N_REQUIRED = 12 };
    static const char *required[N_REQUIRED] = {"arch", "in_c", "in_h", "in_w", "rep_dim", "use_lstm",
                                               "use_decoder", "leaky_slope", "bn_eps", "norm_min",
                                               "norm_max", "batch_size"};
    int seen[N_REQUIRED] = {0};
    memset(info, 0, sizeof(*info));
    info->net.arch = IAE_ARCH_LENET;
    info->net.bn_momentum = 0.1f;
    info->nu = 0.1f;
    info->bn_train_mode = 1;
    snprintf(info->dataset, sizeof(info->dataset), "fashion-mnist");

    char line[512];
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        size_t l = end - pos;
        if (l >= sizeof(line)) return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': configuration line too long", path);
        memcpy(line, text + pos, l);
        line[l] = 0;
        pos = end + 1;
        if (l == 0) continue;
        char *eq = strchr(line, '=');
        if (eq == NULL)
            return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': configuration line '%s' has no '='", path, line);
        *eq = 0;
        const char *key = line, *val = eq + 1;
        for (int i = 0; i < N_REQUIRED; i++)
            if (strcmp(key, required[i]) == 0) seen[i] = 1;
        char *rest = NULL;
        double num = strtod(val, &rest);
        int numeric = rest != val && *rest == 0 && isfinite(num);
#define NUM(k, field, cast)                                                                          \
    else if (strcmp(key, k) == 0) {                                                                  \
        if (!numeric)                                                                                \
            return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': setting %s has the invalid value '%s'", \
                            path, key, val);                                                         \
        field = (cast)num;                                                                           \
    }
        if (strcmp(key, "arch") == 0) {
            if (strcmp(val, "lenet") != 0)
                return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': unknown architecture '%s'", path, val);
        } else if (strcmp(key, "dataset") == 0) {
            snprintf(info->dataset, sizeof(info->dataset), "%s", val);
        } else if (strcmp(key, "objective") == 0) {
            if (strcmp(val, "one-class") == 0)
                info->objective = IAE_OBJECTIVE_ONE_CLASS;
            else if (strcmp(val, "soft-boundary") == 0)
                info->objective = IAE_OBJECTIVE_SOFT_BOUNDARY;
            else
                return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': unknown objective '%s'", path, val);
        } else if (strcmp(key, "kl_form") == 0) {
            if (strcmp(val, "log-softmax") == 0)
                info->kl_form = IAE_KL_LOG_SOFTMAX;
            else if (strcmp(val, "reference") == 0)
                info->kl_form = IAE_KL_REFERENCE;
            else
                return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': unknown KL form '%s'", path, val);
        } else if (strcmp(key, "score_context") == 0) {
            int c = iae_context_parse(val);
            if (c < 0) return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': unknown LSTM context '%s'", path, val);
            info->score_context = (iae_lstm_context)c;
        } else if (strcmp(key, "seed") == 0) {
            char *seed_end = NULL;
            errno = 0;
            unsigned long long seed = strtoull(val, &seed_end, 10);
            if (val[0] < '0' || val[0] > '9' || *seed_end != 0 || errno == ERANGE)
                return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': setting seed has the invalid value '%s'",
                                path, val);
            info->seed = seed;
        }
        NUM("in_c", info->net.in_c, int)
        NUM("in_h", info->net.in_h, int)
        NUM("in_w", info->net.in_w, int)
        NUM("rep_dim", info->net.rep_dim, int)
        NUM("use_lstm", info->net.use_lstm, int)
        NUM("use_decoder", info->net.use_decoder, int)
        NUM("leaky_slope", info->net.leaky_slope, float)
        NUM("bn_eps", info->net.bn_eps, float)
        NUM("bn_momentum", info->net.bn_momentum, float)
        NUM("normal_class", info->normal_class, int)
        NUM("reference_normalization", info->reference_normalization, int)
        NUM("norm_min", info->norm_min, float)
        NUM("norm_max", info->norm_max, float)
        NUM("nu", info->nu, float)
        NUM("radius", info->radius, float)
        NUM("w_mse", info->w_mse, float)
        NUM("w_kl", info->w_kl, float)
        NUM("batch_size", info->batch_size, int)
        NUM("epochs", info->epochs, int)
        NUM("pretrain_epochs", info->pretrain_epochs, int)
        NUM("lr", info->lr, float)
        NUM("weight_decay", info->weight_decay, float)
        NUM("bn_train_mode", info->bn_train_mode, int)
        NUM("train_samples", info->train_samples, int)
        NUM("validation_fraction", info->validation_fraction, float)
        NUM("validation_samples", info->validation_samples, int)
        NUM("threshold", info->threshold, float)
        NUM("threshold_fpr", info->threshold_fpr, float)
#undef NUM
        /* Unknown keys are ignored so newer files with extra settings still load. */
    }
    for (int i = 0; i < N_REQUIRED; i++)
        if (!seen[i])
            return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': configuration lacks the setting '%s'", path,
                            required[i]);
    const iae_net_config *n = &info->net;
    if (n->in_c < 1 || n->in_c > 4 || n->in_h != 32 || n->in_w != 32 || n->rep_dim != 128 ||
        (n->use_lstm & ~1) || (n->use_decoder & ~1) || !(n->bn_eps > 0) || info->batch_size < 2 ||
        info->batch_size > 65536 || !(info->norm_max > info->norm_min))
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "model file '%s': impossible configuration (input %dx%dx%d, rep_dim %d, batch size %d, "
                        "normalisation range %g..%g)",
                        path, n->in_c, n->in_h, n->in_w, n->rep_dim, info->batch_size, info->norm_min,
                        info->norm_max);
    return IAE_OK;
}

/* Locate the destination of a tensor record: center, parameter or buffer. */
static float *tensor_target(iae_detector *d, const char *name, const iae_tensor_info **info_out, int *slot) {
    iae_net *net = d->net;
    static iae_tensor_info center_info;
    if (strcmp(name, "center") == 0) {
        center_info = (iae_tensor_info){.name = "center", .ndim = 1, .dims = {iae_net_z_size(net)},
                                        .count = iae_net_z_size(net)};
        *info_out = &center_info;
        *slot = 0;
        return d->center;
    }
    int i = iae_net_find_param(net, name);
    if (i >= 0) {
        *info_out = &net->params[i];
        *slot = 1 + i;
        return net->param + net->params[i].offset;
    }
    i = iae_net_find_buffer(net, name);
    if (i >= 0) {
        *info_out = &net->buffers[i];
        *slot = 1 + net->n_params + i;
        return net->buffer + net->buffers[i].offset;
    }
    return NULL;
}

static iae_status parse_records(iae_ctx *ctx, const char *path, const unsigned char *data, size_t size,
                                int max_batch, iae_detector **out) {
    const size_t body_end = size - 4; /* the CRC follows */
    uint32_t n_records = get_u32(data + 12);
    size_t pos = 16;
    iae_detector *d = NULL;
    unsigned char seen[1 + 2 * IAE_MAX_TENSORS] = {0};
    int optional_seen = 0; /* bits: 1 memory_h, 2 memory_c, 4 score_stats */
    iae_status st = IAE_OK;

    for (uint32_t r = 0; r < n_records; r++) {
        if (pos + 4 > body_end) {
            st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': record %u of %u starts past the end of the data",
                          path, r + 1, n_records);
            goto fail;
        }
        int type = data[pos], name_len = data[pos + 1], ndim = data[pos + 2], zero = data[pos + 3];
        pos += 4;
        if ((type != REC_TENSOR && type != REC_TEXT) || name_len < 1 || name_len > MAX_NAME || ndim > 4 ||
            zero != 0 || (type == REC_TEXT && ndim != 1) || pos + name_len + 4u * ndim > body_end) {
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "model file '%s': record %u has an invalid header; the file is damaged, copy it again "
                          "or retrain",
                          path, r + 1);
            goto fail;
        }
        char name[MAX_NAME + 1];
        memcpy(name, data + pos, name_len);
        name[name_len] = 0;
        pos += name_len;
        int dims[4] = {0};
        unsigned long long count = 1;
        int absurd = 0;
        for (int i = 0; i < ndim; i++) {
            uint32_t v = get_u32(data + pos + 4 * i);
            dims[i] = (int)(v > (1u << 30) ? 0 : v);
            if (v > (1u << 30)) absurd = 1;
            if (!absurd) count *= v;
            if (count > size) absurd = 1;
        }
        pos += 4u * ndim;
        unsigned long long bytes = type == REC_TEXT ? count : count * 4;
        if (absurd || bytes > body_end - pos) {
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "model file '%s': record '%s' is larger than the %zu bytes that remain; the file is "
                          "damaged, copy it again or retrain",
                          path, name, body_end - pos);
            goto fail;
        }
        const unsigned char *payload = data + pos;
        pos += bytes;

        if (type == REC_TEXT) {
            if (strcmp(name, "config") != 0) continue;
            if (d != NULL) {
                st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': two configuration records", path);
                goto fail;
            }
            iae_detector_info info;
            if ((st = parse_config(ctx, path, (const char *)payload, (size_t)bytes, &info)) != IAE_OK) goto fail;
            if ((st = iae_detector_create(ctx, &info, max_batch > 0 ? max_batch : info.batch_size, &d)) != IAE_OK)
                goto fail;
            continue;
        }
        if (d == NULL) {
            st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': tensor '%s' comes before the configuration", path,
                          name);
            goto fail;
        }
        /* Optional records of version 2. */
        const int hid = iae_net_lstm_hidden(d->net);
        const int is_memory = strcmp(name, "memory_h") == 0 || strcmp(name, "memory_c") == 0;
        if (is_memory || strcmp(name, "score_stats") == 0) {
            const int want0 = is_memory ? hid : IAE_N_STAT_SCORES, want1 = is_memory ? 0 : 2 + IAE_N_QUANTILES;
            const int ok_shape = is_memory ? (ndim == 1 && dims[0] == want0 && hid > 0)
                                           : (ndim == 2 && dims[0] == want0 && dims[1] == want1);
            const int bit = strcmp(name, "memory_h") == 0 ? 1 : (is_memory ? 2 : 4);
            if (!ok_shape || (optional_seen & bit)) {
                st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': record '%s' %s", path, name,
                              (optional_seen & bit) ? "appears twice" : "has the wrong shape");
                goto fail;
            }
            optional_seen |= bit;
            float *buf = malloc((size_t)bytes);
            if (buf == NULL) {
                st = iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading '%s'", path);
                goto fail;
            }
            memcpy(buf, payload, (size_t)bytes);
            for (unsigned long long i = 0; i < count; i++)
                if (!isfinite(buf[i])) {
                    free(buf);
                    st = iae_fail(ctx, IAE_ERR_NUMERIC, "model file '%s': record '%s' contains NaN or infinity",
                                  path, name);
                    goto fail;
                }
            if (bit == 1)
                memcpy(d->net->memory_state, buf, sizeof(float) * hid);
            else if (bit == 2)
                memcpy(d->net->memory_state + hid, buf, sizeof(float) * hid);
            else
                for (int k = 0; k < IAE_N_STAT_SCORES; k++) {
                    d->stats.mean[k] = buf[k * want1];
                    d->stats.std[k] = buf[k * want1 + 1];
                    memcpy(d->stats.quantile[k], buf + k * want1 + 2, sizeof(float) * IAE_N_QUANTILES);
                }
            free(buf);
            continue;
        }
        const iae_tensor_info *ti = NULL;
        int slot = 0;
        float *dst = tensor_target(d, name, &ti, &slot);
        if (dst == NULL) {
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "model file '%s': tensor '%s' does not belong to the configured network", path, name);
            goto fail;
        }
        int shape_ok = ndim == ti->ndim;
        for (int i = 0; shape_ok && i < ndim; i++) shape_ok = dims[i] == ti->dims[i];
        if (!shape_ok || seen[slot]) {
            st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': tensor '%s' %s", path, name,
                          seen[slot] ? "appears twice" : "has the wrong shape for the configured network");
            goto fail;
        }
        seen[slot] = 1;
        memcpy(dst, payload, (size_t)bytes);
        for (long i = 0; i < ti->count; i++)
            if (!isfinite(dst[i])) {
                st = iae_fail(ctx, IAE_ERR_NUMERIC,
                              "model file '%s': tensor '%s' contains NaN or infinity at element %ld", path, name, i);
                goto fail;
            }
    }
    if (d == NULL) {
        st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' has no configuration record", path);
        goto fail;
    }
    if (pos != body_end) {
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "model file '%s' has %zu unexpected bytes after its records; the file is damaged, copy it "
                      "again or retrain",
                      path, body_end - pos);
        goto fail;
    }
    const int total = 1 + d->net->n_params + d->net->n_buffers;
    for (int s = 0; s < total; s++)
        if (!seen[s]) {
            const char *missing = s == 0 ? "center"
                                  : s <= d->net->n_params ? d->net->params[s - 1].name
                                                          : d->net->buffers[s - 1 - d->net->n_params].name;
            st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' lacks the tensor '%s'", path, missing);
            goto fail;
        }
    if ((optional_seen & 3) == 1 || (optional_seen & 3) == 2) {
        st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' has only half of the LSTM memory state", path);
        goto fail;
    }
    d->net->has_memory = (optional_seen & 3) == 3;
    d->stats.n = (optional_seen & 4) ? d->info.validation_samples : 0;
    if ((optional_seen & 4) && d->stats.n < 1) {
        st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' has score statistics but no validation sample count",
                      path);
        goto fail;
    }
    if (d->info.score_context == IAE_CONTEXT_MEMORY && !d->net->has_memory) d->info.score_context = IAE_CONTEXT_BATCH;
    iae_net_params_changed(d->net);
    *out = d;
    return IAE_OK;

fail:
    iae_detector_free(d);
    return st;
}

iae_status iae_model_load(iae_ctx *ctx, const char *path, int max_batch, iae_detector **out) {
    *out = NULL;
    unsigned char *data = NULL;
    size_t size = 0;
    iae_status st = read_whole(ctx, path, &data, &size);
    if (st != IAE_OK) return st;

    if (size < 8 || memcmp(data, MAGIC, 8) != 0) {
        st = size < 8 && memcmp(data, MAGIC, size) == 0
                 ? iae_fail(ctx, IAE_ERR_FORMAT,
                            "model file '%s' is truncated (%zu bytes); copy it again or retrain", path, size)
                 : iae_fail(ctx, IAE_ERR_FORMAT,
                            "'%s' is not an iae model file (wrong magic number); pass a file written by "
                            "'iae train --out'",
                            path);
        goto done;
    }
    if (size < 20) {
        st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' is truncated (%zu bytes); copy it again or retrain",
                      path, size);
        goto done;
    }
    uint32_t version = get_u32(data + 8);
    if (version == 0) {
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "model file '%s' has format version 0, which iae never writes; the file is damaged", path);
        goto done;
    }
    if (version > IAE_MODEL_VERSION) {
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "model file '%s' has format version %u; this iae reads versions 1 to %d: upgrade iae", path,
                      version, IAE_MODEL_VERSION);
        goto done;
    }
    uint32_t stored = get_u32(data + size - 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < size - 4;) {
        uInt chunk = size - 4 - off > (1u << 30) ? (1u << 30) : (uInt)(size - 4 - off);
        crc = crc32(crc, data + off, chunk);
        off += chunk;
    }
    if ((uint32_t)crc != stored) {
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "model file '%s' is corrupted or truncated: CRC-32 mismatch (stored %08x, computed %08x); "
                      "copy the file again or retrain",
                      path, stored, (unsigned)crc);
        goto done;
    }
    st = parse_records(ctx, path, data, size, max_batch, out);
done:
    iae_free(data);
    return st;
}
