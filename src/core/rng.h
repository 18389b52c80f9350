/*
 * Seeded pseudo-random numbers: xoshiro256** seeded through splitmix64.
 *
 * Every random stream (initialisation, data order, KL targets) is its own
 * iae_rng, derived from the user's seed and a stream number, so changing one
 * use of randomness (say, the number of epochs) never shifts another.
 */
#ifndef IAE_RNG_H
#define IAE_RNG_H

#include <stdint.h>

/* Random streams derived from the run's seed, one per use. */
enum {
    IAE_STREAM_AE_INIT = 1,
    IAE_STREAM_NET_INIT = 2,
    IAE_STREAM_DATA_ORDER = 3,
    IAE_STREAM_KL_TARGET = 4,
    IAE_STREAM_VALIDATION = 5,    /* which normal images are held out */
    IAE_STREAM_MEMORY = 6,        /* the sequence that sets the LSTM memory state */
    IAE_STREAM_CONTAMINATION = 7, /* which anomalies join the training set */
    IAE_STREAM_SEARCH = 8,        /* hyper-parameter candidates and proxy anomalies */
    IAE_STREAM_CSV_SPLIT = 9,     /* train/test split of normal CSV windows */
};

typedef struct {
    uint64_t s[4];
} iae_rng;

/* Seed r from (seed, stream); distinct streams give unrelated sequences. */
void iae_rng_seed(iae_rng *r, uint64_t seed, uint64_t stream);

uint64_t iae_rng_u64(iae_rng *r);

/* Uniform double in [0, 1) with 53 random bits. */
double iae_rng_uniform(iae_rng *r);

/* Uniform integer in [0, n), without modulo bias. n must be > 0. */
uint64_t iae_rng_below(iae_rng *r, uint64_t n);

/* Standard normal N(0, 1) by the Box-Muller transform. */
double iae_rng_normal(iae_rng *r);

/* Fill x[0..n) with U(lo, hi). */
void iae_rng_fill_uniform(iae_rng *r, float *x, long n, float lo, float hi);

/* Fill x[0..n) with N(0, 1). */
void iae_rng_fill_normal(iae_rng *r, float *x, long n);

/* Write a uniformly random permutation of 0..n-1 into perm (Fisher-Yates). */
void iae_rng_permutation(iae_rng *r, int *perm, int n);

#endif
