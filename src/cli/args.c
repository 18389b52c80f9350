#include "cli/args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("iae: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_parse_int(const char *option, const char *text, long lo, long hi, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (isspace((unsigned char)text[0]) || end == text || *end != 0 || errno == ERANGE || v < lo || v > hi) {
        cli_error("invalid value '%s' for %s: expected an integer from %ld to %ld", text, option, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_float(const char *option, const char *text, double lo, double hi, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    /* strtod also reads hexadecimal floats; accept decimal notation only. */
    int hex = strchr(text, 'x') != NULL || strchr(text, 'X') != NULL;
    if (isspace((unsigned char)text[0]) || hex || end == text || *end != 0 || errno == ERANGE || !isfinite(v) ||
        v < lo || v > hi) {
        cli_error("invalid value '%s' for %s: expected a number from %g to %g", text, option, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_u64(const char *option, const char *text, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    if (text[0] < '0' || text[0] > '9') goto bad;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != 0 || errno == ERANGE) goto bad;
    *out = v;
    return 1;
bad:
    cli_error("invalid value '%s' for %s: expected an integer from 0 to %llu", text, option,
              (unsigned long long)UINT64_MAX);
    return 0;
}

int cli_first_use(unsigned char *seen, int index, const char *option) {
    if (seen[index]) {
        cli_error("option --%s is given more than once; give it once", option);
        return 0;
    }
    seen[index] = 1;
    return 1;
}

int cli_check_stdout(void) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("writing the results to standard output failed: %s", strerror(errno));
        return 0;
    }
    return 1;
}

int cli_parse_int_list(const char *option, const char *text, long lo, long hi, long *out, int max, int *n) {
    *n = 0;
    char *copy = strdup(text), *save = NULL;
    if (copy == NULL) return 0;
    int ok = 1;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        long a, b;
        char *dash = strchr(tok + 1, '-'); /* a range "a-b"; a leading '-' is a sign */
        if (dash != NULL) {
            *dash = 0;
            ok = cli_parse_int(option, tok, lo, hi, &a) && cli_parse_int(option, dash + 1, lo, hi, &b);
            if (ok && b < a) {
                cli_error("invalid range '%s-%s' for %s: the end is below the start", tok, dash + 1, option);
                ok = 0;
            }
        } else {
            ok = cli_parse_int(option, tok, lo, hi, &a);
            b = a;
        }
        for (long v = a; ok && v <= b; v++) {
            if (*n == max) {
                cli_error("%s lists more than %d values", option, max);
                ok = 0;
                break;
            }
            out[(*n)++] = v;
        }
    }
    free(copy);
    if (ok && *n == 0) {
        cli_error("%s needs at least one value", option);
        ok = 0;
    }
    for (int i = 0; ok && i < *n; i++)
        for (int j = 0; j < i; j++)
            if (out[i] == out[j]) {
                cli_error("%s lists %ld twice; give each value once", option, out[i]);
                ok = 0;
                break;
            }
    return ok;
}

int cli_parse_float_list(const char *option, const char *text, double lo, double hi, double *out, int max, int *n) {
    *n = 0;
    char *copy = strdup(text), *save = NULL;
    if (copy == NULL) return 0;
    int ok = 1;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == max) {
            cli_error("%s lists more than %d values", option, max);
            ok = 0;
            break;
        }
        ok = cli_parse_float(option, tok, lo, hi, &out[*n]);
        *n += ok;
    }
    free(copy);
    if (ok && *n == 0) {
        cli_error("%s needs at least one value", option);
        ok = 0;
    }
    for (int i = 0; ok && i < *n; i++)
        for (int j = 0; j < i; j++)
            if (out[i] == out[j]) {
                cli_error("%s lists %g twice; give each value once", option, out[i]);
                ok = 0;
                break;
            }
    return ok;
}
