#include "report/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "io/atomic_file.h"

static void print_value(FILE *out, double v) {
    if (isfinite(v))
        fprintf(out, " %8.4f", v);
    else
        fprintf(out, " %8s", "n/a");
}

void iae_metrics_print(FILE *out, const iae_metrics *m) {
    const iae_evaluation *e = m->eval;
    char task[64];
    if (m->task != NULL)
        snprintf(task, sizeof(task), "%s", m->task);
    else
        snprintf(task, sizeof(task), "normal class %d", m->info->normal_class);
    fprintf(out, "test AUROC, %s (%d images, %d anomalous), by LSTM context:\n", task, m->test_samples,
            m->test_anomalous);
    fprintf(out, "  %-9s", "score");
    for (int c = 0; c < e->n_contexts; c++) fprintf(out, " %8s", iae_context_name(e->contexts[c]));
    fputc('\n', out);
    for (int k = 0; k < IAE_N_SCORES; k++) {
        fprintf(out, "  %-9s", iae_score_names[k]);
        for (int c = 0; c < e->n_contexts; c++) print_value(out, e->auroc[c][k]);
        fputc('\n', out);
    }
    if (e->has_threshold)
        fprintf(out,
                "threshold %.4g on the combined score (%s context, %.1f%% false positives on held-out normals): "
                "precision %.4f, recall %.4f, F1 %.4f\n",
                e->threshold, iae_context_name(e->threshold_context), 100.0 * e->threshold_fpr, e->precision, e->recall,
                e->f1);
    if (m->has_pixel_auroc) {
        fprintf(out, "pixel AUROC of the anomaly maps: ");
        if (isfinite(m->pixel_auroc))
            fprintf(out, "%.4f\n", m->pixel_auroc);
        else
            fprintf(out, "n/a (no anomalous or no normal pixel)\n");
    }
}

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void add(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(sbuf *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n > 0) s->len += (size_t)n < s->cap - s->len ? (size_t)n : s->cap - s->len - 1;
}

static void add_num(sbuf *s, const char *key, double v, int last) {
    if (isfinite(v))
        add(s, "  \"%s\": %.10g%s\n", key, v, last ? "" : ",");
    else
        add(s, "  \"%s\": null%s\n", key, last ? "" : ",");
}

/* "key": "value" with JSON escapes, or null for NULL. */
static void add_string(sbuf *s, const char *key, const char *value) {
    add(s, "  \"%s\": ", key);
    if (value == NULL) {
        add(s, "null,\n");
        return;
    }
    add(s, "\"");
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\')
            add(s, "\\%c", *p);
        else if (*p < 0x20)
            add(s, "\\u%04x", *p);
        else
            add(s, "%c", *p);
    }
    add(s, "\",\n");
}

static void json_number(sbuf *s, double v) {
    if (isfinite(v))
        add(s, "%.10g", v);
    else
        add(s, "null");
}

iae_status iae_metrics_write_json(iae_ctx *ctx, const char *path, const iae_metrics *m) {
    const iae_detector_info *in = m->info;
    size_t cap = 65536 + (m->history ? (size_t)m->history->n * 256 : 0);
    sbuf s = {iae_alloc(ctx, cap, "metrics JSON"), 0, cap};
    if (s.buf == NULL) return IAE_ERR_NOMEM;

    add(&s, "{\n  \"command\": \"%s\",\n  \"dataset\": \"%s\",\n  \"normal_class\": %d,\n  \"model\": \"%s\",\n",
        m->command, in->dataset, in->normal_class, m->model);
    add(&s, "  \"seed\": %llu,\n  \"epochs\": %d,\n  \"pretrain_epochs\": %d,\n  \"batch_size\": %d,\n",
        (unsigned long long)in->seed, in->epochs, in->pretrain_epochs, in->batch_size);
    add(&s, "  \"train_samples\": %d,\n  \"test_samples\": %d,\n  \"test_anomalous\": %d,\n  \"threads\": %d,\n",
        m->train_samples, m->test_samples, m->test_anomalous, m->threads);
    add_num(&s, "seconds", m->seconds, 0);
    add_num(&s, "lr", in->lr, 0);
    add_num(&s, "weight_decay", in->weight_decay, 0);
    add_num(&s, "mse_weight", in->w_mse, 0);
    add_num(&s, "kl_weight", in->w_kl, 0);
    add(&s, "  \"kl_form\": \"%s\",\n", in->kl_form == IAE_KL_LOG_SOFTMAX ? "log-softmax" : "reference");
    add(&s, "  \"objective\": \"%s\",\n",
        in->objective == IAE_OBJECTIVE_SOFT_BOUNDARY ? "soft-boundary" : "one-class");
    add_num(&s, "nu", in->nu, 0);
    add_num(&s, "radius", in->radius, 0);
    add_num(&s, "contamination", in->contamination, 0);
    add(&s, "  \"joint_batchnorm\": \"%s\",\n", in->bn_train_mode ? "train" : "eval");
    add(&s, "  \"lstm_kernel\": \"%s\",\n",
        in->lstm_impl == IAE_LSTM_GEMV ? "gemv fp32" : (in->lstm_bf16 ? "fused bf16" : "fused fp32"));
    if (m->category != NULL) add_string(&s, "category", m->category);
    if (m->has_pixel_auroc) add_num(&s, "pixel_auroc", m->pixel_auroc, 0);
    add_string(&s, "data_dir", m->data_dir);
    add_string(&s, "model_file", m->model_file);
    /* Only Fashion-MNIST and CIFAR-10 have a min-max range after GCN. */
    const int ranged = strcmp(in->dataset, "fashion-mnist") == 0 || strcmp(in->dataset, "cifar10") == 0;
    if (ranged)
        add(&s, "  \"normalization\": {\"source\": \"%s\", \"min\": %.9g, \"max\": %.9g},\n",
            in->reference_normalization ? "reference" : "normal-class", in->norm_min, in->norm_max);
    else
        add(&s, "  \"normalization\": {\"source\": \"none\"},\n");

    if (m->history != NULL) {
        const iae_train_history *h = m->history;
        add(&s,
            "  \"timing\": {\"pretrain_seconds\": %.3f, \"center_seconds\": %.3f, \"train_seconds\": %.3f, "
            "\"validation_seconds\": %.3f},\n",
            h->pretrain_seconds, h->center_seconds, h->train_seconds, h->validation_seconds);
        add(&s, "  \"history\": [\n");
        for (int i = 0; i < h->n; i++) {
            const iae_epoch_record *r = &h->epochs[i];
            add(&s, "    {\"phase\": \"%s\", \"epoch\": %d, \"loss\": ", r->pretrain ? "pretrain" : "train", r->epoch);
            json_number(&s, r->loss);
            add(&s, ", \"svdd\": ");
            json_number(&s, r->svdd);
            add(&s, ", \"mse\": ");
            json_number(&s, r->mse);
            add(&s, ", \"kl\": ");
            json_number(&s, r->kl);
            add(&s, ", \"seconds\": %.3f}%s\n", r->seconds, i + 1 < h->n ? "," : "");
        }
        add(&s, "  ],\n");
    }
    const iae_evaluation *e = m->eval;
    if (e->has_threshold) {
        add(&s, "  \"threshold\": {\"score\": \"combined\", \"context\": \"%s\", \"value\": ",
            iae_context_name(e->threshold_context));
        json_number(&s, e->threshold);
        add(&s, ", \"target_fpr\": %.6g, \"tp\": %ld, \"fp\": %ld, \"tn\": %ld, \"fn\": %ld, \"precision\": ",
            e->threshold_fpr, e->tp, e->fp, e->tn, e->fn);
        json_number(&s, e->precision);
        add(&s, ", \"recall\": ");
        json_number(&s, e->recall);
        add(&s, ", \"f1\": ");
        json_number(&s, e->f1);
        add(&s, "},\n");
    }
    add(&s, "  \"validation_samples\": %d,\n", in->validation_samples);
    add(&s, "  \"contexts\": {");
    for (int c = 0; c < e->n_contexts; c++) {
        add(&s, "%s\n    \"%s\": {\"seconds\": %.3f, \"auroc\": {", c ? "," : "", iae_context_name(e->contexts[c]),
            e->seconds[c]);
        for (int k = 0; k < IAE_N_SCORES; k++) {
            add(&s, "%s\"%s\": ", k ? ", " : "", iae_score_names[k]);
            json_number(&s, e->auroc[c][k]);
        }
        add(&s, "}, \"auprc\": {");
        for (int k = 0; k < IAE_N_SCORES; k++) {
            add(&s, "%s\"%s\": ", k ? ", " : "", iae_score_names[k]);
            json_number(&s, e->auprc[c][k]);
        }
        add(&s, "}}");
    }
    add(&s, "\n  },\n");
    add(&s, "  \"auroc\": {");
    for (int k = 0; k < IAE_N_SCORES; k++) {
        add(&s, "\"%s\": ", iae_score_names[k]);
        json_number(&s, e->auroc[0][k]);
        add(&s, "%s", k + 1 < IAE_N_SCORES ? ", " : "}\n}\n");
    }

    iae_atomic_file af;
    iae_status st = iae_atomic_open(ctx, &af, path);
    if (st == IAE_OK) {
        iae_atomic_write(&af, s.buf, s.len);
        st = iae_atomic_commit(ctx, &af);
    }
    iae_free(s.buf);
    return st;
}
