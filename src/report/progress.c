#include "report/progress.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

void iae_progress_init(iae_progress *p, FILE *out, int quiet) {
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->quiet = quiet;
    p->tty = isatty(fileno(out));
}

void iae_progress_phase(iae_progress *p, const char *phase, int epochs, int steps_per_epoch,
                        int batch_size, int n_terms, const char *const *term_names) {
    p->phase = phase;
    p->epochs = epochs;
    p->steps_per_epoch = steps_per_epoch;
    p->batch_size = batch_size;
    p->phase_start_s = iae_now_s();
    p->last_draw_s = 0.0;
    p->steps_done = 0;
    p->steps_skipped = 0;
    p->n_terms = n_terms < IAE_MAX_TERMS ? n_terms : IAE_MAX_TERMS;
    for (int i = 0; i < p->n_terms; i++) p->term_names[i] = term_names[i];
}

void iae_progress_skip(iae_progress *p, long steps) { p->steps_skipped = steps; }

void iae_progress_epoch_start(iae_progress *p) {
    p->epoch_start_s = iae_now_s();
    p->epoch_steps = 0;
    memset(p->term_sums, 0, sizeof(p->term_sums));
}

static void format_duration(char *buf, size_t size, double s) {
    if (s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%lds", t);
}

static int format_terms(const iae_progress *p, const double *values, char *buf, size_t size) {
    int len = 0;
    for (int i = 0; i < p->n_terms && (size_t)len < size; i++)
        len += snprintf(buf + len, size - len, " %s %.5g", p->term_names[i], values[i]);
    return len;
}

void iae_progress_step(iae_progress *p, int epoch, int step, const double *terms) {
    for (int i = 0; i < p->n_terms; i++) p->term_sums[i] += terms[i];
    p->epoch_steps++;
    p->steps_done++;
    if (p->quiet || !p->tty) return;

    double now = iae_now_s();
    if (now - p->last_draw_s < 0.1 && step + 1 < p->steps_per_epoch) return;
    p->last_draw_s = now;

    double elapsed = now - p->phase_start_s;
    double per_step = elapsed / (double)p->steps_done;
    long remaining = (long)p->epochs * p->steps_per_epoch - p->steps_skipped - p->steps_done;
    char eta[32], text[256];
    format_duration(eta, sizeof(eta), per_step * remaining);
    format_terms(p, terms, text, sizeof(text));
    fprintf(p->out, "\r\033[K%s epoch %d/%d batch %d/%d%s | %.0f img/s | phase ETA %s", p->phase,
            epoch + 1, p->epochs, step + 1, p->steps_per_epoch, text,
            p->batch_size / (per_step > 0 ? per_step : 1e-9), eta);
    fflush(p->out);
}

void iae_progress_epoch_end(iae_progress *p, int epoch) {
    if (p->quiet) return;
    double now = iae_now_s();
    double secs = now - p->epoch_start_s;
    double mean[IAE_MAX_TERMS] = {0};
    for (int i = 0; i < p->n_terms; i++) mean[i] = p->epoch_steps ? p->term_sums[i] / p->epoch_steps : 0;
    char text[256], eta[32];
    format_terms(p, mean, text, sizeof(text));
    double per_step = (now - p->phase_start_s) / (p->steps_done ? p->steps_done : 1);
    format_duration(eta, sizeof(eta),
                    per_step * ((long)p->epochs * p->steps_per_epoch - p->steps_skipped - p->steps_done));
    double rate = secs > 0 ? p->epoch_steps * (double)p->batch_size / secs : 0;
    fprintf(p->out, "%s%s epoch %d/%d:%s | %.1f s, %.0f img/s | phase ETA %s\n", p->tty ? "\r\033[K" : "",
            p->phase, epoch + 1, p->epochs, text, secs, rate, eta);
    fflush(p->out);
}

void iae_progress_note(iae_progress *p, const char *fmt, ...) {
    if (p->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    if (p->tty) fputs("\r\033[K", p->out);
    vfprintf(p->out, fmt, ap);
    fputc('\n', p->out);
    va_end(ap);
    fflush(p->out);
}
