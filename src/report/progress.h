/*
 * Training progress on stderr. On a terminal one status line is redrawn in
 * place (phase, epoch, batch, loss terms, images/s, ETA of the phase), at
 * most ten times a second; otherwise one line is printed per epoch, which
 * suits log files and CI. Quiet mode prints nothing.
 */
#ifndef IAE_PROGRESS_H
#define IAE_PROGRESS_H

#include <stdio.h>

#define IAE_MAX_TERMS 6

typedef struct {
    FILE *out;
    int quiet;
    int tty;
    const char *phase;
    int epochs, steps_per_epoch, batch_size;
    double phase_start_s, last_draw_s, epoch_start_s;
    long steps_done;    /* in this phase, by this process */
    long steps_skipped; /* in this phase, before this process (resumed runs) */
    int n_terms;
    const char *term_names[IAE_MAX_TERMS];
    double term_sums[IAE_MAX_TERMS]; /* over the current epoch */
    int epoch_steps;
} iae_progress;

void iae_progress_init(iae_progress *p, FILE *out, int quiet);

/* Start a phase ("pretrain", "train") with named loss terms. */
void iae_progress_phase(iae_progress *p, const char *phase, int epochs, int steps_per_epoch,
                        int batch_size, int n_terms, const char *const *term_names);

void iae_progress_epoch_start(iae_progress *p);

/* Count steps done before this process (a resumed run) toward the phase's
 * progress, without letting them shorten the time per step. */
void iae_progress_skip(iae_progress *p, long steps);

/* Record one step of epoch (0-based) with the values of the loss terms. */
void iae_progress_step(iae_progress *p, int epoch, int step, const double *terms);

/* Finish an epoch: prints the epoch's mean terms, its time and throughput. */
void iae_progress_epoch_end(iae_progress *p, int epoch);

/* Print a one-off message line (not in quiet mode). */
void iae_progress_note(iae_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
