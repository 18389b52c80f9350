/*
 * Command-line helpers: strict number parsing with messages that name the
 * option, the bad value and the accepted range.
 */
#ifndef IAE_CLI_ARGS_H
#define IAE_CLI_ARGS_H

#include <stdint.h>

#define IAE_EXIT_FAILURE 1 /* the job failed (bad file, diverged training, ...) */
#define IAE_EXIT_USAGE 2   /* invalid command line */

/* Print "iae: error: ..." to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse text as an integer in [lo, hi] for option; on failure print an error
 * and return 0. */
int cli_parse_int(const char *option, const char *text, long lo, long hi, long *out);

/* Parse text as a finite number in [lo, hi]. */
int cli_parse_float(const char *option, const char *text, double lo, double hi, double *out);

/* Parse text as an unsigned 64-bit integer (a seed). */
int cli_parse_u64(const char *option, const char *text, uint64_t *out);

/* Parse a list of integers in [lo, hi] such as "0-3,7" into out (at most
 * max values); *n receives the count. */
int cli_parse_int_list(const char *option, const char *text, long lo, long hi, long *out, int max, int *n);

/* Parse a comma-separated list of numbers in [lo, hi]. */
int cli_parse_float_list(const char *option, const char *text, double lo, double hi, double *out, int max, int *n);

/* Record that the option with this getopt_long index was seen; on a second
 * use print an error naming it and return 0. seen has one byte per option. */
int cli_first_use(unsigned char *seen, int index, const char *option);

/* Flush standard output; print an error and return 0 when writing failed
 * (a full disk or a closed pipe), so results are never lost silently. */
int cli_check_stdout(void);

#endif
