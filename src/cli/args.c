#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
    if (end == text || *end != 0 || errno == ERANGE || v < lo || v > hi) {
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
    if (end == text || *end != 0 || errno == ERANGE || !isfinite(v) || v < lo || v > hi) {
        cli_error("invalid value '%s' for %s: expected a number from %g to %g", text, option, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_u64(const char *option, const char *text, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    if (text[0] == '-' || text[0] == 0) goto bad;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != 0 || errno == ERANGE) goto bad;
    *out = v;
    return 1;
bad:
    cli_error("invalid value '%s' for %s: expected a non-negative integer", text, option);
    return 0;
}
