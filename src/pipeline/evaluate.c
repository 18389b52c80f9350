/*
 * Evaluation of a detector on a labelled test set: AUROC and average
 * precision of every score in every LSTM context the model supports, and
 * precision, recall and F1 of the stored threshold's decisions.
 */
#include <math.h>
#include <string.h>

#include "metrics/roc.h"
#include "pipeline/pipeline.h"

iae_status iae_evaluate(iae_ctx *ctx, iae_detector *d, const iae_dataset *test, int batch_size,
                        iae_progress *progress, iae_evaluation *out, iae_scores *keep) {
    memset(out, 0, sizeof(*out));
    if (keep != NULL) memset(keep, 0, sizeof(*keep));
    const int lstm = iae_net_lstm_hidden(d->net) > 0;
    out->contexts[out->n_contexts++] = IAE_CONTEXT_BATCH;
    if (lstm && d->net->has_memory) out->contexts[out->n_contexts++] = IAE_CONTEXT_MEMORY;
    if (lstm) out->contexts[out->n_contexts++] = IAE_CONTEXT_NONE;

    for (int k = 0; k < out->n_contexts; k++) {
        const iae_lstm_context c = out->contexts[k];
        iae_progress_note(progress, "scoring %d test images, %s context, batches of %d", test->n,
                          iae_context_name(c), batch_size);
        double t0 = iae_now_s();
        iae_scores s;
        iae_status st = iae_score(ctx, d, test->x, test->n, batch_size, c, &s);
        if (st != IAE_OK) return st;
        out->seconds[k] = iae_now_s() - t0;
        for (int j = 0; j < IAE_N_SCORES; j++) {
            out->auroc[k][j] = iae_auroc(iae_scores_get(&s, j), test->label, test->n);
            out->auprc[k][j] = iae_auprc(iae_scores_get(&s, j), test->label, test->n);
        }

        /* Decisions of the stored threshold on the combined score, in the
         * model's default scoring context. */
        if (c == d->info.score_context && d->stats.n > 0) {
            out->has_threshold = 1;
            out->threshold = d->info.threshold;
            out->threshold_fpr = d->info.threshold_fpr;
            out->threshold_context = c;
            for (long i = 0; i < s.n; i++) {
                const int flagged = s.combined[i] > d->info.threshold, anomalous = test->label[i] != 0;
                out->tp += flagged && anomalous;
                out->fp += flagged && !anomalous;
                out->fn += !flagged && anomalous;
                out->tn += !flagged && !anomalous;
            }
            out->precision = out->tp + out->fp > 0 ? (double)out->tp / (out->tp + out->fp) : NAN;
            out->recall = out->tp + out->fn > 0 ? (double)out->tp / (out->tp + out->fn) : NAN;
            out->f1 = out->precision + out->recall > 0 ? 2 * out->precision * out->recall /
                                                             (out->precision + out->recall)
                                                       : NAN;
        }
        if (keep != NULL && c == d->info.score_context)
            *keep = s;
        else
            iae_scores_free(&s);
    }
    return IAE_OK;
}
