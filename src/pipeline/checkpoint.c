/* Training checkpoints (format in checkpoint.h). */
#include "pipeline/checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "io/records.h"

static const char MAGIC[8] = {'I', 'A', 'E', 'C', 'H', 'K', 'P', 'T'};
static const char *const HINT = "pass a file written by 'iae train --checkpoint-every N'";

struct iae_checkpoint {
    iae_record_reader reader;
    iae_detector_info info;
    int phase, epochs_done;
    long adam_step;
    float radius;
    uint64_t order_rng[4], kl_rng[4];
    int n_history, cap_history;
    iae_epoch_record *history;
    char *data_config; /* the data source's lines, NULL in Fashion-MNIST checkpoints */
};

/* ---------------- saving ---------------- */

iae_status iae_checkpoint_save(iae_ctx *ctx, const char *path, const iae_detector_info *info,
                               const char *data_config, int phase, int epochs_done, const iae_net *net,
                               const float *center, const iae_trainer *tr, const iae_rng *order_rng,
                               const iae_train_history *history) {
    /* The settings and the data source's lines, as in a model file. */
    const size_t data_len = data_config != NULL ? strlen(data_config) : 0;
    char *config = malloc(4096 + data_len);
    if (config == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory writing checkpoint '%s'", path);
    int config_len = iae_model_format_config(info, config, 4096);
    IAE_ASSERT(config_len > 0 && config_len < 4096);
    memcpy(config + config_len, data_config ? data_config : "", data_len);
    config_len += (int)data_len;

    const float *m, *v, *vmax;
    long adam_step;
    const iae_rng *kl;
    iae_trainer_state(tr, &m, &v, &vmax, &adam_step, &kl);
    size_t cap = 1024 + (size_t)history->n * 200, len = 0;
    char *state = malloc(cap);
    if (state == NULL) {
        free(config);
        return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory writing checkpoint '%s'", path);
    }
    len += (size_t)snprintf(state + len, cap - len, "phase=%s\nepochs_done=%d\nadam_step=%ld\nradius=%.9g\n",
                            phase ? "train" : "pretrain", epochs_done, adam_step, iae_trainer_radius(tr));
    len += (size_t)snprintf(state + len, cap - len, "order_rng=%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "\n",
                            order_rng->s[0], order_rng->s[1], order_rng->s[2], order_rng->s[3]);
    len += (size_t)snprintf(state + len, cap - len, "kl_rng=%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "\n",
                            kl->s[0], kl->s[1], kl->s[2], kl->s[3]);
    for (int i = 0; i < history->n; i++) {
        const iae_epoch_record *r = &history->epochs[i];
        len += (size_t)snprintf(state + len, cap - len, "epoch=%d %d %.17g %.17g %.17g %.17g %.17g\n", r->pretrain,
                                r->epoch, r->loss, r->svdd, r->mse, r->kl, r->seconds);
    }

    const int with_center = center != NULL;
    iae_record_writer w;
    iae_status st = iae_records_create(ctx, &w, path, MAGIC, IAE_CHECKPOINT_VERSION,
                                       (uint32_t)(2 + with_center + net->n_params + net->n_buffers + 3));
    if (st != IAE_OK) {
        free(state);
        free(config);
        return st;
    }
    iae_records_put_text(&w, "config", config, config_len);
    iae_records_put_text(&w, "state", state, (int)len);
    free(state);
    free(config);
    if (with_center) {
        const int dim = iae_net_z_size(net);
        iae_records_put_tensor(&w, "center", 1, &dim, center, dim);
    }
    for (int i = 0; i < net->n_params; i++) {
        const iae_tensor_info *t = &net->params[i];
        iae_records_put_tensor(&w, t->name, t->ndim, t->dims, net->param + t->offset, t->count);
    }
    for (int i = 0; i < net->n_buffers; i++) {
        const iae_tensor_info *t = &net->buffers[i];
        iae_records_put_tensor(&w, t->name, t->ndim, t->dims, net->buffer + t->offset, t->count);
    }
    const int count = (int)net->n_param_floats;
    iae_records_put_tensor(&w, "adam.m", 1, &count, m, count);
    iae_records_put_tensor(&w, "adam.v", 1, &count, v, count);
    iae_records_put_tensor(&w, "adam.vmax", 1, &count, vmax, count);
    return iae_records_commit(ctx, &w);
}

/* ---------------- loading ---------------- */

static int parse_rng(const char *hex, uint64_t s[4]) {
    if (strlen(hex) != 64) return 0;
    for (int i = 0; i < 4; i++) {
        char part[17];
        memcpy(part, hex + 16 * i, 16);
        part[16] = 0;
        char *end = NULL;
        s[i] = strtoull(part, &end, 16);
        if (*end != 0) return 0;
    }
    return 1;
}

static iae_status parse_state(iae_ctx *ctx, iae_checkpoint *c, const char *text, size_t len) {
    const char *path = c->reader.path;
    int have = 0; /* bits: phase, epochs_done, adam_step, order_rng, kl_rng */
    size_t pos = 0;
    char line[512];
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        if (end - pos >= sizeof(line))
            return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s': state line too long", path);
        memcpy(line, text + pos, end - pos);
        line[end - pos] = 0;
        pos = end + 1;
        char *val = strchr(line, '=');
        if (val == NULL) continue;
        *val++ = 0;
        int ok = 1;
        if (strcmp(line, "phase") == 0) {
            ok = strcmp(val, "pretrain") == 0 || strcmp(val, "train") == 0;
            c->phase = strcmp(val, "train") == 0;
            have |= 1;
        } else if (strcmp(line, "epochs_done") == 0) {
            ok = sscanf(val, "%d", &c->epochs_done) == 1 && c->epochs_done >= 0;
            have |= 2;
        } else if (strcmp(line, "adam_step") == 0) {
            ok = sscanf(val, "%ld", &c->adam_step) == 1 && c->adam_step >= 0;
            have |= 4;
        } else if (strcmp(line, "radius") == 0) {
            ok = sscanf(val, "%f", &c->radius) == 1 && c->radius >= 0;
        } else if (strcmp(line, "order_rng") == 0) {
            ok = parse_rng(val, c->order_rng);
            have |= 8;
        } else if (strcmp(line, "kl_rng") == 0) {
            ok = parse_rng(val, c->kl_rng);
            have |= 16;
        } else if (strcmp(line, "epoch") == 0) {
            if (c->n_history == c->cap_history) {
                int cap = c->cap_history ? 2 * c->cap_history : 64;
                iae_epoch_record *grown = realloc(c->history, sizeof(*grown) * cap);
                if (grown == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory reading checkpoint '%s'", path);
                c->history = grown;
                c->cap_history = cap;
            }
            iae_epoch_record *r = &c->history[c->n_history];
            ok = sscanf(val, "%d %d %lf %lf %lf %lf %lf", &r->pretrain, &r->epoch, &r->loss, &r->svdd, &r->mse, &r->kl,
                        &r->seconds) == 7;
            c->n_history += ok;
        }
        if (!ok) return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s': invalid state entry '%s=%s'", path, line, val);
    }
    if (have != 31) return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s': the state record is incomplete", path);
    return IAE_OK;
}

iae_status iae_checkpoint_load(iae_ctx *ctx, const char *path, iae_checkpoint **out) {
    *out = NULL;
    iae_checkpoint *c = calloc(1, sizeof(*c));
    if (c == NULL) return iae_fail(ctx, IAE_ERR_NOMEM, "out of memory loading checkpoint '%s'", path);
    iae_status st = iae_records_open(ctx, &c->reader, path, "checkpoint", MAGIC, IAE_CHECKPOINT_VERSION, HINT);
    if (st != IAE_OK) {
        free(c);
        return st;
    }
    int have_config = 0, have_state = 0;
    iae_record rec;
    while ((st = iae_records_next(ctx, &c->reader, &rec)) == IAE_OK && rec.type != 0) {
        if (rec.type != IAE_RECORD_TEXT) continue;
        if (strcmp(rec.name, "config") == 0) {
            st = iae_model_parse_config(ctx, path, (const char *)rec.payload, rec.bytes, &c->info);
            if (st == IAE_OK)
                st = iae_model_data_config(ctx, path, (const char *)rec.payload, rec.bytes, &c->info,
                                           &c->data_config);
            have_config = 1;
        } else if (strcmp(rec.name, "state") == 0) {
            st = parse_state(ctx, c, (const char *)rec.payload, rec.bytes);
            have_state = 1;
        }
        if (st != IAE_OK) break;
    }
    if (st == IAE_OK && (!have_config || !have_state))
        st = iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s' lacks its %s record", path, have_config ? "state" : "config");
    if (st != IAE_OK) {
        iae_checkpoint_free(c);
        return st;
    }
    *out = c;
    return IAE_OK;
}

void iae_checkpoint_free(iae_checkpoint *c) {
    if (c == NULL) return;
    iae_records_close(&c->reader);
    free(c->history);
    iae_free(c->data_config);
    free(c);
}

const iae_detector_info *iae_checkpoint_info(const iae_checkpoint *c) { return &c->info; }
const char *iae_checkpoint_data_config(const iae_checkpoint *c) { return c->data_config; }
int iae_checkpoint_phase(const iae_checkpoint *c) { return c->phase; }
int iae_checkpoint_epochs_done(const iae_checkpoint *c) { return c->epochs_done; }

/* Walk the tensor records again; fn places each one. */
typedef iae_status (*record_fn)(iae_ctx *ctx, const iae_checkpoint *c, const iae_record *rec, void *user);

static iae_status for_each_tensor(iae_ctx *ctx, const iae_checkpoint *c, record_fn fn, void *user) {
    iae_record_reader r = c->reader; /* a copy: restart at the first record */
    r.pos = 16;
    r.next = 0;
    iae_record rec;
    iae_status st;
    while ((st = iae_records_next(ctx, &r, &rec)) == IAE_OK && rec.type != 0)
        if (rec.type == IAE_RECORD_TENSOR && (st = fn(ctx, c, &rec, user)) != IAE_OK) return st;
    return st;
}

typedef struct {
    iae_net *net;
    float *center;
    int found;
} net_target;

static iae_status place_net_tensor(iae_ctx *ctx, const iae_checkpoint *c, const iae_record *rec, void *user) {
    net_target *t = user;
    float *dst = NULL;
    long count = 0;
    if (strcmp(rec->name, "center") == 0 && t->center != NULL) {
        dst = t->center;
        count = iae_net_z_size(t->net);
    } else {
        int i = iae_net_find_param(t->net, rec->name);
        if (i >= 0) dst = t->net->param + t->net->params[i].offset, count = t->net->params[i].count;
        i = iae_net_find_buffer(t->net, rec->name);
        if (i >= 0) dst = t->net->buffer + t->net->buffers[i].offset, count = t->net->buffers[i].count;
    }
    if (dst == NULL) return IAE_OK; /* Adam moments and the like */
    if (rec->count != count)
        return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s': tensor '%s' has %ld values, expected %ld",
                        c->reader.path, rec->name, rec->count, count);
    memcpy(dst, rec->payload, rec->bytes);
    t->found++;
    return IAE_OK;
}

iae_status iae_checkpoint_restore_net(iae_ctx *ctx, const iae_checkpoint *c, iae_net *net, float *center) {
    net_target t = {net, center, 0};
    iae_status st = for_each_tensor(ctx, c, place_net_tensor, &t);
    if (st != IAE_OK) return st;
    const int want = net->n_params + net->n_buffers + (center != NULL);
    if (t.found != want)
        return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s' holds %d of the %d tensors of its network", c->reader.path,
                        t.found, want);
    iae_net_params_changed(net);
    return IAE_OK;
}

typedef struct {
    float *m, *v, *vmax;
    long count;
    int found;
} adam_target;

static iae_status place_adam_tensor(iae_ctx *ctx, const iae_checkpoint *c, const iae_record *rec, void *user) {
    adam_target *t = user;
    float *dst = strcmp(rec->name, "adam.m") == 0      ? t->m
                 : strcmp(rec->name, "adam.v") == 0    ? t->v
                 : strcmp(rec->name, "adam.vmax") == 0 ? t->vmax
                                                       : NULL;
    if (dst == NULL) return IAE_OK;
    if (rec->count != t->count)
        return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s': '%s' has %ld values, expected %ld", c->reader.path,
                        rec->name, rec->count, t->count);
    memcpy(dst, rec->payload, rec->bytes);
    t->found++;
    return IAE_OK;
}

iae_status iae_checkpoint_restore_run(iae_ctx *ctx, const iae_checkpoint *c, iae_trainer *tr, iae_rng *order_rng,
                                      iae_train_history *history) {
    float *m, *v, *vmax;
    long *step;
    iae_rng *kl;
    long count = iae_trainer_mutable_state(tr, &m, &v, &vmax, &step, &kl);
    adam_target t = {m, v, vmax, count, 0};
    iae_status st = for_each_tensor(ctx, c, place_adam_tensor, &t);
    if (st != IAE_OK) return st;
    if (t.found != 3)
        return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s' lacks the optimiser state", c->reader.path);
    if (c->n_history > history->capacity)
        return iae_fail(ctx, IAE_ERR_FORMAT, "checkpoint '%s' has %d epochs of history, more than the run's %d",
                        c->reader.path, c->n_history, history->capacity);
    *step = c->adam_step;
    iae_trainer_set_radius(tr, c->radius);
    memcpy(kl->s, c->kl_rng, sizeof(kl->s));
    memcpy(order_rng->s, c->order_rng, sizeof(order_rng->s));
    history->n = c->n_history;
    memcpy(history->epochs, c->history, sizeof(iae_epoch_record) * c->n_history);
    return IAE_OK;
}
