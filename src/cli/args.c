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
