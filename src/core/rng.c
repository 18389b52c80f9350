/* xoshiro256** (Blackman and Vigna, 2018) with splitmix64 seeding. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void iae_rng_seed(iae_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t state = seed ^ (0xD1B54A32D192ED03ull * (stream + 1));
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&state);
}

uint64_t iae_rng_u64(iae_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double iae_rng_uniform(iae_rng *r) { return (double)(iae_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t iae_rng_below(iae_rng *r, uint64_t n) {
    /* Reject the top partial block of 2^64 so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = iae_rng_u64(r);
    } while (x >= limit);
    return x % n;
}

double iae_rng_normal(iae_rng *r) {
    double u1 = 1.0 - iae_rng_uniform(r); /* (0, 1], so log(u1) is finite */
    double u2 = iae_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void iae_rng_fill_uniform(iae_rng *r, float *x, long n, float lo, float hi) {
    for (long i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * iae_rng_uniform(r));
}

void iae_rng_fill_normal(iae_rng *r, float *x, long n) {
    for (long i = 0; i < n; i++) x[i] = (float)iae_rng_normal(r);
}

void iae_rng_permutation(iae_rng *r, int *perm, int n) {
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)iae_rng_below(r, (uint64_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
