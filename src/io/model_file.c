/*
 * Model file writer and validating reader (format in model_file.h, container
 * in records.h). After the container checks, the reader requires every
 * tensor the configuration implies exactly once, with the right shape and
 * finite values.
 */
#include "io/model_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/source.h"
#include "io/records.h"

static const char MAGIC[8] = {'I', 'A', 'E', 'M', 'O', 'D', 'E', 'L'};
static const char *const HINT = "pass a file written by 'iae train --out'";

static const char *objective_name(iae_objective o) {
    return o == IAE_OBJECTIVE_SOFT_BOUNDARY ? "soft-boundary" : "one-class";
}

static int format_config(const iae_detector_info *in, char *buf, size_t size) {
    const iae_net_config *n = &in->net;
    return snprintf(buf, size,
                    "model=%s\narch=%s\nin_c=%d\nin_h=%d\nin_w=%d\nrep_dim=%d\nuse_lstm=%d\nuse_decoder=%d\n"
                    "leaky_slope=%.9g\nbn_eps=%.9g\nbn_momentum=%.9g\n"
                    "dataset=%s\nnormal_class=%d\nreference_normalization=%d\nnorm_min=%.9g\nnorm_max=%.9g\n"
                    "objective=%s\nnu=%.9g\nradius=%.9g\nw_mse=%.9g\nw_kl=%.9g\nkl_form=%s\n"
                    "seed=%llu\nbatch_size=%d\nepochs=%d\npretrain_epochs=%d\nlr=%.9g\nweight_decay=%.9g\n"
                    "bn_train_mode=%d\ntrain_samples=%d\nvalidation_fraction=%.9g\nvalidation_samples=%d\n"
                    "threshold=%.9g\nthreshold_fpr=%.9g\nscore_context=%s\nradius_from_distance=%d\n"
                    "contamination=%.17g\n",
                    iae_model_name(in->model), iae_arch_name(n->arch), n->in_c, n->in_h, n->in_w, n->rep_dim,
                    n->use_lstm, n->use_decoder, n->leaky_slope, n->bn_eps, n->bn_momentum, in->dataset,
                    in->normal_class, in->reference_normalization, in->norm_min, in->norm_max,
                    objective_name(in->objective), in->nu, in->radius, in->w_mse, in->w_kl,
                    in->kl_form == IAE_KL_LOG_SOFTMAX ? "log-softmax" : "reference",
                    (unsigned long long)in->seed, in->batch_size, in->epochs, in->pretrain_epochs, in->lr,
                    in->weight_decay, in->bn_train_mode, in->train_samples, in->validation_fraction,
                    in->validation_samples, in->threshold, in->threshold_fpr, iae_context_name(in->score_context),
                    in->radius_from_distance, in->contamination);
}

int iae_model_format_config(const iae_detector_info *info, char *buf, size_t size) {
    return format_config(info, buf, size);
}

iae_status iae_model_write_tensors(iae_record_writer *w, const iae_detector *d) {
    const iae_net *net = d->net;
    const int dim = iae_net_z_size(net);
    iae_records_put_tensor(w, "center", 1, &dim, d->center, dim);
    for (int i = 0; i < net->n_params; i++) {
        const iae_tensor_info *t = &net->params[i];
        iae_records_put_tensor(w, t->name, t->ndim, t->dims, net->param + t->offset, t->count);
    }
    for (int i = 0; i < net->n_buffers; i++) {
        const iae_tensor_info *t = &net->buffers[i];
        iae_records_put_tensor(w, t->name, t->ndim, t->dims, net->buffer + t->offset, t->count);
    }
    return IAE_OK;
}

iae_status iae_model_save(iae_ctx *ctx, const iae_detector *d, const char *path) {
    const iae_net *net = d->net;

    /* The settings, then the data source's lines. */
    const size_t data_len = d->data_config != NULL ? strlen(d->data_config) : 0;
    if (data_len > IAE_MODEL_DATA_CONFIG_MAX_BYTES)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "the data source settings take %zu bytes, more than the %d a model file holds; use shorter "
                        "paths or fewer CSV columns",
                        data_len, IAE_MODEL_DATA_CONFIG_MAX_BYTES);
    char *config = iae_alloc(ctx, 4096 + data_len, "model configuration");
    if (config == NULL) return IAE_ERR_NOMEM;
    int config_len = format_config(&d->info, config, 4096);
    IAE_ASSERT(config_len > 0 && config_len < 4096);
    memcpy(config + config_len, d->data_config ? d->data_config : "", data_len);
    config_len += (int)data_len;

    const int hid = iae_net_lstm_hidden(net);
    const int with_memory = hid > 0 && net->has_memory, with_stats = d->stats.n > 0;
    iae_record_writer w;
    iae_status st = iae_records_create(ctx, &w, path, MAGIC, IAE_MODEL_VERSION,
                                       (uint32_t)(2 + net->n_params + net->n_buffers + 2 * with_memory + with_stats));
    if (st != IAE_OK) {
        iae_free(config);
        return st;
    }
    iae_records_put_text(&w, "config", config, config_len);
    iae_free(config);
    iae_model_write_tensors(&w, d);
    if (with_memory) {
        iae_records_put_tensor(&w, "memory_h", 1, &hid, net->memory_state, hid);
        iae_records_put_tensor(&w, "memory_c", 1, &hid, net->memory_state + hid, hid);
    }
    if (with_stats) {
        float table[IAE_N_STAT_SCORES][2 + IAE_N_QUANTILES];
        for (int k = 0; k < IAE_N_STAT_SCORES; k++) {
            table[k][0] = d->stats.mean[k];
            table[k][1] = d->stats.std[k];
            memcpy(&table[k][2], d->stats.quantile[k], sizeof(float) * IAE_N_QUANTILES);
        }
        const int dims[2] = {IAE_N_STAT_SCORES, 2 + IAE_N_QUANTILES};
        iae_records_put_tensor(&w, "score_stats", 2, dims, &table[0][0], IAE_N_STAT_SCORES * (2 + IAE_N_QUANTILES));
    }
    return iae_records_commit(ctx, &w);
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
        if (l >= 5 && memcmp(text + pos, "data_", 5) == 0) {
            /* Data source lines, read by iae_model_data_config. */
            pos = end + 1;
            continue;
        }
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
            int a = iae_arch_parse(val);
            if (a < 0)
                return iae_fail(ctx, IAE_ERR_FORMAT,
                                "model file '%s': unknown architecture '%s', expected lenet or mvtec (a newer iae "
                                "may have written it)",
                                path, val);
            info->net.arch = (iae_arch)a;
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
        } else if (strcmp(key, "model") == 0) {
            int k = iae_model_parse(val);
            if (k < 0) return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': unknown model '%s'", path, val);
            info->model = (iae_model_kind)k;
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
        NUM("radius_from_distance", info->radius_from_distance, int)
        NUM("contamination", info->contamination, double)
#undef NUM
        /* Unknown keys are ignored so newer files with extra settings still load. */
    }
    for (int i = 0; i < N_REQUIRED; i++)
        if (!seen[i])
            return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': configuration lacks the setting '%s'", path,
                            required[i]);
    const iae_net_config *n = &info->net;
    if (n->use_lstm != iae_model_has_lstm(info->model) || n->use_decoder != iae_model_has_decoder(info->model))
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "model file '%s': impossible configuration (model %s with use_lstm=%d, use_decoder=%d)", path,
                        iae_model_name(info->model), n->use_lstm, n->use_decoder);
    /* The input size and rep_dim each architecture is built for (see net.c). */
    const int lenet = n->arch == IAE_ARCH_LENET;
    const int want_hw = lenet ? 32 : 64, want_rep_dim = lenet ? 128 : 4096;
    if (n->in_c < 1 || n->in_c > 4 || n->in_h != want_hw || n->in_w != want_hw || n->rep_dim != want_rep_dim ||
        (n->use_lstm & ~1) || (n->use_decoder & ~1) || !(n->bn_eps > 0) || info->batch_size < 2 ||
        info->batch_size > 65536 || !(info->norm_max > info->norm_min))
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "model file '%s': impossible configuration (%s architecture, input %dx%dx%d, rep_dim %d, "
                        "batch size %d, normalisation range %g..%g)",
                        path, iae_arch_name(n->arch), n->in_c, n->in_h, n->in_w, n->rep_dim, info->batch_size,
                        info->norm_min, info->norm_max);
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

/* Copy a tensor record's payload into dst (count floats) and reject NaN or
 * infinity. */
static iae_status copy_finite(iae_ctx *ctx, const char *path, const iae_record *rec, float *dst) {
    memcpy(dst, rec->payload, rec->bytes);
    for (long i = 0; i < rec->count; i++)
        if (!isfinite(dst[i]))
            return iae_fail(ctx, IAE_ERR_NUMERIC, "model file '%s': tensor '%s' contains NaN or infinity at element %ld",
                            path, rec->name, i);
    return IAE_OK;
}

static int shape_is(const iae_record *rec, int ndim, int d0, int d1) {
    return rec->ndim == ndim && rec->dims[0] == d0 && (ndim < 2 || rec->dims[1] == d1);
}

iae_status iae_model_read_tensor(iae_ctx *ctx, const char *path, iae_detector *d, const iae_record *rec,
                                 unsigned char *seen, int *optional_seen) {
    const int hid = iae_net_lstm_hidden(d->net);
    const int is_memory = strcmp(rec->name, "memory_h") == 0 || strcmp(rec->name, "memory_c") == 0;

    /* Optional records of version 2. */
    if (is_memory || strcmp(rec->name, "score_stats") == 0) {
        const int ok_shape = is_memory ? hid > 0 && shape_is(rec, 1, hid, 0)
                                       : shape_is(rec, 2, IAE_N_STAT_SCORES, 2 + IAE_N_QUANTILES);
        const int bit = strcmp(rec->name, "memory_h") == 0 ? 1 : (is_memory ? 2 : 4);
        if (!ok_shape || (*optional_seen & bit))
            return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': record '%s' %s", path, rec->name,
                            (*optional_seen & bit) ? "appears twice" : "has the wrong shape");
        *optional_seen |= bit;
        float *buf = malloc(rec->bytes + 4);
        if (buf == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading '%s'", path);
        iae_status st = copy_finite(ctx, path, rec, buf);
        if (st == IAE_OK) {
            if (bit == 1)
                memcpy(d->net->memory_state, buf, sizeof(float) * hid);
            else if (bit == 2)
                memcpy(d->net->memory_state + hid, buf, sizeof(float) * hid);
            else
                for (int k = 0; k < IAE_N_STAT_SCORES; k++) {
                    const float *row = buf + k * (2 + IAE_N_QUANTILES);
                    d->stats.mean[k] = row[0];
                    d->stats.std[k] = row[1];
                    memcpy(d->stats.quantile[k], row + 2, sizeof(float) * IAE_N_QUANTILES);
                }
        }
        free(buf);
        return st;
    }

    const iae_tensor_info *ti = NULL;
    int slot = 0;
    float *dst = tensor_target(d, rec->name, &ti, &slot);
    if (dst == NULL)
        return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': tensor '%s' does not belong to the configured network",
                        path, rec->name);
    int shape_ok = rec->ndim == ti->ndim;
    for (int i = 0; shape_ok && i < rec->ndim; i++) shape_ok = rec->dims[i] == ti->dims[i];
    if (!shape_ok || seen[slot])
        return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': tensor '%s' %s", path, rec->name,
                        seen[slot] ? "appears twice" : "has the wrong shape for the configured network");
    seen[slot] = 1;
    return copy_finite(ctx, path, rec, dst);
}

iae_status iae_model_check_complete(iae_ctx *ctx, const char *path, iae_detector *d, const unsigned char *seen,
                                    int optional_seen) {
    const int total = 1 + d->net->n_params + d->net->n_buffers;
    for (int s = 0; s < total; s++)
        if (!seen[s]) {
            const char *missing = s == 0 ? "center"
                                  : s <= d->net->n_params ? d->net->params[s - 1].name
                                                          : d->net->buffers[s - 1 - d->net->n_params].name;
            return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' lacks the tensor '%s'", path, missing);
        }
    if ((optional_seen & 3) == 1 || (optional_seen & 3) == 2)
        return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' has only half of the LSTM memory state", path);
    d->net->has_memory = (optional_seen & 3) == 3;
    d->stats.n = (optional_seen & 4) ? d->info.validation_samples : 0;
    if ((optional_seen & 4) && d->stats.n < 1)
        return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' has score statistics but no validation sample count", path);
    if (d->info.score_context == IAE_CONTEXT_MEMORY && !d->net->has_memory) d->info.score_context = IAE_CONTEXT_BATCH;
    iae_net_params_changed(d->net);
    return IAE_OK;
}

iae_status iae_model_parse_config(iae_ctx *ctx, const char *path, const char *text, size_t len,
                                  iae_detector_info *info) {
    return parse_config(ctx, path, text, len, info);
}

iae_status iae_model_data_config(iae_ctx *ctx, const char *path, const char *text, size_t len,
                                 const iae_detector_info *info, char **out) {
    *out = NULL;
    size_t total = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        const size_t end = nl ? (size_t)(nl - text) : len;
        if (end - pos >= 5 && memcmp(text + pos, "data_", 5) == 0) total += end - pos + 1;
        pos = end + 1;
    }
    if (total == 0) return IAE_OK;
    if (total > IAE_MODEL_DATA_CONFIG_MAX_BYTES)
        return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': the data source settings take %zu bytes, more than %d",
                        path, total, IAE_MODEL_DATA_CONFIG_MAX_BYTES);
    char *lines = iae_alloc(ctx, total + 1, "data source settings");
    if (lines == NULL) return IAE_ERR_NOMEM;
    size_t used = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        const size_t end = nl ? (size_t)(nl - text) : len;
        if (end - pos >= 5 && memcmp(text + pos, "data_", 5) == 0) {
            memcpy(lines + used, text + pos, end - pos);
            used += end - pos;
            lines[used++] = '\n';
        }
        pos = end + 1;
    }
    lines[used] = 0;
    if (memchr(lines, 0, used) != NULL) {
        iae_free(lines);
        return iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': the data source settings contain a NUL byte", path);
    }

    /* Reject malformed values now, not when eval or score first needs them. */
    iae_data_source check;
    iae_status st = iae_data_source_from_model(ctx, path, info, lines, &check);
    iae_data_source_free(&check);
    if (st != IAE_OK) {
        iae_free(lines);
        return st;
    }
    *out = lines;
    return IAE_OK;
}

iae_status iae_model_load(iae_ctx *ctx, const char *path, int max_batch, iae_detector **out) {
    *out = NULL;
    iae_record_reader r;
    iae_status st = iae_records_open(ctx, &r, path, "model file", MAGIC, IAE_MODEL_VERSION, HINT);
    if (st != IAE_OK) return st;
    iae_detector *d = NULL;
    unsigned char seen[1 + 2 * IAE_MAX_TENSORS] = {0};
    int optional_seen = 0; /* bits: 1 memory_h, 2 memory_c, 4 score_stats */
    iae_record rec;
    while ((st = iae_records_next(ctx, &r, &rec)) == IAE_OK && rec.type != 0) {
        if (rec.type == IAE_RECORD_TEXT) {
            if (strcmp(rec.name, "config") != 0) continue;
            if (d != NULL) {
                st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': two configuration records", path);
                break;
            }
            iae_detector_info info;
            if ((st = parse_config(ctx, path, (const char *)rec.payload, rec.bytes, &info)) != IAE_OK) break;
            char *data_config = NULL;
            if ((st = iae_model_data_config(ctx, path, (const char *)rec.payload, rec.bytes, &info, &data_config)) !=
                IAE_OK)
                break;
            if ((st = iae_detector_create(ctx, &info, max_batch > 0 ? max_batch : info.batch_size, &d)) != IAE_OK) {
                iae_free(data_config);
                break;
            }
            d->data_config = data_config;
            continue;
        }
        if (d == NULL) {
            st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s': tensor '%s' comes before the configuration", path,
                          rec.name);
            break;
        }
        if ((st = iae_model_read_tensor(ctx, path, d, &rec, seen, &optional_seen)) != IAE_OK) break;
    }
    if (st == IAE_OK && d == NULL) st = iae_fail(ctx, IAE_ERR_FORMAT, "model file '%s' has no configuration record", path);
    if (st == IAE_OK) st = iae_model_check_complete(ctx, path, d, seen, optional_seen);
    iae_records_close(&r);
    if (st != IAE_OK) {
        iae_detector_free(d);
        return st;
    }
    *out = d;
    return IAE_OK;
}
