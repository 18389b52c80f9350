/*
 * CSV windows: the RFC 4180 record parser, the column mapping, the per-row
 * preprocessing shared by the file loader and the stream, and the window
 * split. See csv_windows.h for the format and the contract.
 *
 * The file is read into memory once and parsed in place: quoted fields are
 * unescaped into the bytes they came from and every field ends in a NUL.
 * The feature values are held as doubles (rows x D) only until the per-row
 * preprocessing has turned them into floats.
 */
#include "data/csv_windows.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"

#define CSV_FIELDS_FIRST 32     /* first capacity of a field list */
#define CSV_SHOWN_BYTES 48      /* maximum bytes of cell text quoted in a message */
#define CSV_LIST_BYTES 480      /* room for a list of column names in a message */

/* ------------------------------------------------------------------------ */
/* Record parser                                                             */
/* ------------------------------------------------------------------------ */

/* A growable list of field pointers. */
typedef struct {
    char **items;
    int n, capacity;
} field_list;

static void fields_free(field_list *f) {
    iae_free(f->items);
    memset(f, 0, sizeof(*f));
}

static iae_status fields_push(iae_ctx *ctx, field_list *f, char *item) {
    if (f->n == f->capacity) {
        int grown = f->capacity == 0 ? CSV_FIELDS_FIRST : 2 * f->capacity;
        char **bigger = iae_alloc(ctx, sizeof(char *) * (size_t)grown, "CSV field list");
        if (bigger == NULL) return IAE_ERR_NOMEM;
        if (f->n > 0) memcpy(bigger, f->items, sizeof(char *) * (size_t)f->n);
        iae_free(f->items);
        f->items = bigger;
        f->capacity = grown;
    }
    f->items[f->n++] = item;
    return IAE_OK;
}

/* CSV text being parsed in place. buf[n] is a spare byte for the NUL that
 * ends the last field. */
typedef struct {
    char *buf;
    size_t n, pos;
    long line;        /* line number at pos, from 1 */
    const char *name; /* the input in messages, e.g. "CSV file 'x.csv'" */
} csv_reader;

/* Return 1 when a record ends at pos: LF, CRLF or the end of the text. */
static int at_record_end(const csv_reader *r, size_t pos) {
    if (pos >= r->n || r->buf[pos] == '\n') return 1;
    return r->buf[pos] == '\r' && pos + 1 < r->n && r->buf[pos + 1] == '\n';
}

/* Skip the line break at r->pos (LF or CRLF), if any. */
static void skip_line_break(csv_reader *r) {
    if (r->pos < r->n && r->buf[r->pos] == '\r') r->pos++;
    if (r->pos < r->n && r->buf[r->pos] == '\n') {
        r->pos++;
        r->line++;
    }
}

/* Unescape the quoted field whose opening quote is at r->pos, writing its
 * text from *w on. */
static iae_status read_quoted(iae_ctx *ctx, csv_reader *r, size_t *w, int field) {
    const long open_line = r->line;
    r->pos++;
    for (;;) {
        if (r->pos >= r->n)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "%s, line %ld: the quoted field %d is not closed before the end of "
                            "the input; add the closing '\"' (a '\"' inside a field is written "
                            "'\"\"')",
                            r->name, open_line, field);
        char c = r->buf[r->pos];
        if (c == '"') {
            if (r->pos + 1 < r->n && r->buf[r->pos + 1] == '"') {
                r->buf[(*w)++] = '"';
                r->pos += 2;
                continue;
            }
            r->pos++;
            break;
        }
        if (c == '\n') r->line++;
        r->buf[(*w)++] = c;
        r->pos++;
    }

    if (r->pos < r->n && r->buf[r->pos] != ',' && !at_record_end(r, r->pos))
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s, line %ld: unexpected character '%c' after the closing quote of "
                        "field %d; a quoted field must end at a comma or a line break",
                        r->name, r->line, r->buf[r->pos], field);
    return IAE_OK;
}

/* Parse the next record into f, its fields unescaped in place and ended by
 * NULs, and set *line_out to its first line. Empty lines are skipped. *end
 * is set to 1, with f empty, when no record is left. */
static iae_status read_record(iae_ctx *ctx, csv_reader *r, field_list *f, long *line_out,
                              int *end) {
    f->n = 0;
    while (r->pos < r->n && at_record_end(r, r->pos)) skip_line_break(r);
    *end = r->pos >= r->n;
    if (*end) return IAE_OK;
    *line_out = r->line;

    /* w never passes r->pos, so no unread byte is overwritten: each byte
     * read is written at most once, quotes are dropped, and a field's NUL
     * takes the place of its delimiter, which is read first. */
    size_t w = r->pos;
    for (;;) {
        char *start = r->buf + w;
        if (r->pos < r->n && r->buf[r->pos] == '"') {
            iae_status st = read_quoted(ctx, r, &w, f->n + 1);
            if (st != IAE_OK) return st;
        } else {
            while (r->pos < r->n && r->buf[r->pos] != ',' && !at_record_end(r, r->pos))
                r->buf[w++] = r->buf[r->pos++];
        }

        /* Read the delimiter (a comma, LF, CRLF or the end) before the NUL
         * may overwrite its first byte. */
        int comma = r->pos < r->n && r->buf[r->pos] == ',';
        int line_break = !comma && r->pos < r->n;
        size_t next = r->pos + (comma ? 1 : 0);
        if (line_break) next += r->buf[r->pos] == '\r' ? 2 : 1;
        r->buf[w++] = 0;
        iae_status st = fields_push(ctx, f, start);
        if (st != IAE_OK) return st;
        r->pos = next;
        r->line += line_break;
        if (!comma) return IAE_OK;
    }
}

/* ------------------------------------------------------------------------ */
/* Cells                                                                     */
/* ------------------------------------------------------------------------ */

enum { CELL_OK, CELL_EMPTY, CELL_TEXT, CELL_RANGE };

static int is_blank(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parse s as a finite decimal number: blanks, an optional sign, digits with
 * an optional decimal point, an optional exponent, blanks. Hexadecimal,
 * NaN and infinity are rejected. Returns one of CELL_*. */
static int parse_cell(const char *s, double *out) {
    const char *p = s;
    while (is_blank(*p)) p++;
    if (*p == 0) return CELL_EMPTY;

    const char *number = p;
    if (*p == '+' || *p == '-') p++;
    int digits = 0;
    while (is_digit(*p)) p++, digits++;
    if (*p == '.') {
        p++;
        while (is_digit(*p)) p++, digits++;
    }
    if (digits == 0) return CELL_TEXT;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        int exponent_digits = 0;
        while (is_digit(*p)) p++, exponent_digits++;
        if (exponent_digits == 0) return CELL_TEXT;
    }
    const char *number_end = p;
    while (is_blank(*p)) p++;
    if (*p != 0) return CELL_TEXT;

    char *end = NULL;
    double v = strtod(number, &end);
    if (end != number_end) return CELL_TEXT;
    if (!isfinite(v)) return CELL_RANGE;
    *out = v;
    return CELL_OK;
}

/* Report cell text of column (1-based) col named name at line, which
 * parse_cell rejected with code. */
static iae_status fail_cell(iae_ctx *ctx, const char *input, long line, int col, const char *name,
                            const char *text, int code) {
    if (code == CELL_EMPTY)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s, line %ld, column %d ('%s'): missing value (empty cell); every cell "
                        "of the feature and label columns needs a number",
                        input, line, col, name);
    const char *problem = code == CELL_RANGE ? "is outside the range of double precision"
                                             : "is not a decimal number";
    size_t len = strlen(text);
    return iae_fail(ctx, IAE_ERR_FORMAT, "%s, line %ld, column %d ('%s'): '%.*s'%s %s", input,
                    line, col, name, CSV_SHOWN_BYTES, text, len > CSV_SHOWN_BYTES ? "..." : "",
                    problem);
}

/* The preprocessing of one value, steps 1 and 3 of csv_windows.h: min-max
 * scaling in double, then the 8-bit level unless skip_quantization is set.
 * A constant column (max <= min) gives 0. */
static float preprocess_value(double x, double min, double max, int skip_quantization) {
    /* Halved terms: max - min and x - min cannot overflow even for values
     * near DBL_MAX of opposite signs. */
    double scaled = max > min ? (0.5 * x - 0.5 * min) / (0.5 * max - 0.5 * min) : 0.0;
    if (skip_quantization) return (float)scaled;

    /* Values of the file itself lie in [0, 1]; only stream rows need the
     * clamp, since an out-of-range conversion to uint8_t is undefined. */
    double level = scaled * 255.0;
    if (!(level > 0.0)) level = 0.0;
    if (level > 255.0) level = 255.0;
    return (float)(uint8_t)level / 255.0f;
}

/* Write the window of n rows, values + row[r] * d for r = 0..n-1, into img
 * (out_h, out_w): zeros with the window at the offsets of csv_windows.h. */
static void place_window(const float *values, const long *row, int n, int d, int out_h, int out_w,
                         float *img) {
    const int top = (out_h - n) / 2;
    const int left = (out_w - d) / 2;
    memset(img, 0, sizeof(float) * (size_t)out_h * out_w);
    for (int r = 0; r < n; r++)
        memcpy(img + (size_t)(top + r) * out_w + left, values + (size_t)row[r] * d,
               sizeof(float) * (size_t)d);
}

/* Write the names of fields[0..n) as "'a', 'b', ..." into out. */
static void list_names(char *const *fields, int n, char *out, size_t size) {
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        int len = snprintf(out + used, size - used, "%s'%s'", i ? ", " : "", fields[i]);
        if (len < 0 || (size_t)len >= size - used) {
            /* Cut at a whole name and say how many there are. */
            out[used] = 0;
            snprintf(out + used, size - used, ", ... (%d columns)", n);
            return;
        }
        used += (size_t)len;
    }
}

/* ------------------------------------------------------------------------ */
/* Scaling                                                                   */
/* ------------------------------------------------------------------------ */

void iae_csv_scaling_free(iae_csv_scaling *s) {
    iae_free(s->names);
    iae_free(s->min);
    iae_free(s->max);
    iae_free(s->name_block);
    memset(s, 0, sizeof(*s));
}

/* Allocate s for d columns whose names are names[0..d), copied. */
static iae_status scaling_alloc(iae_ctx *ctx, iae_csv_scaling *s, int d,
                                const char *const *names) {
    memset(s, 0, sizeof(*s));
    size_t block = 0;
    for (int j = 0; j < d; j++) block += strlen(names[j]) + 1;
    s->d = d;
    s->names = iae_alloc(ctx, sizeof(char *) * (size_t)d, "CSV column names");
    s->min = iae_alloc(ctx, sizeof(double) * (size_t)d, "CSV column minima");
    s->max = iae_alloc(ctx, sizeof(double) * (size_t)d, "CSV column maxima");
    s->name_block = iae_alloc(ctx, block, "CSV column names");
    if (s->names == NULL || s->min == NULL || s->max == NULL || s->name_block == NULL) {
        iae_csv_scaling_free(s);
        return IAE_ERR_NOMEM;
    }
    char *at = s->name_block;
    for (int j = 0; j < d; j++) {
        size_t len = strlen(names[j]) + 1;
        memcpy(at, names[j], len);
        s->names[j] = at;
        at += len;
    }
    return IAE_OK;
}

iae_status iae_csv_scaling_copy(iae_ctx *ctx, const iae_csv_scaling *src, iae_csv_scaling *dst) {
    iae_status st = scaling_alloc(ctx, dst, src->d, (const char *const *)src->names);
    if (st != IAE_OK) return st;
    memcpy(dst->min, src->min, sizeof(double) * (size_t)src->d);
    memcpy(dst->max, src->max, sizeof(double) * (size_t)src->d);
    return IAE_OK;
}

void iae_csv_windows_info_free(iae_csv_windows_info *info) {
    iae_csv_scaling_free(&info->scaling);
    memset(info, 0, sizeof(*info));
}

/* ------------------------------------------------------------------------ */
/* Reading the file                                                          */
/* ------------------------------------------------------------------------ */

/* Read the regular file at path into a new NUL-terminated buffer. */
static iae_status read_file(iae_ctx *ctx, const char *path, char **text, size_t *n) {
    *text = NULL;
    /* O_NONBLOCK keeps open() on a FIFO from waiting for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return iae_fail(ctx, IAE_ERR_IO, "CSV file '%s' not found; check the path", path);
        return iae_fail(ctx, IAE_ERR_IO,
                        "cannot read CSV file '%s': %s; check the file and its permissions", path,
                        strerror(errno));
    }

    struct stat info;
    iae_status st = IAE_OK;
    if (fstat(fd, &info) != 0)
        st = iae_fail(ctx, IAE_ERR_IO, "cannot stat CSV file '%s': %s", path, strerror(errno));
    else if (S_ISDIR(info.st_mode))
        st = iae_fail(ctx, IAE_ERR_IO, "'%s' is a directory; expected a CSV file", path);
    else if (!S_ISREG(info.st_mode))
        st = iae_fail(ctx, IAE_ERR_IO, "'%s' is not a regular file; expected a CSV file", path);
    else if (info.st_size == 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "CSV file '%s' is empty; expected a header row and data rows", path);
    int flags = st == IAE_OK ? fcntl(fd, F_GETFL) : 0;
    if (st == IAE_OK && (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0))
        st = iae_fail(ctx, IAE_ERR_IO, "cannot read CSV file '%s': %s", path, strerror(errno));
    if (st != IAE_OK) {
        close(fd);
        return st;
    }

    size_t size = (size_t)info.st_size;
    char *buf = iae_alloc(ctx, size + 1, "CSV file contents");
    if (buf == NULL) {
        close(fd);
        return IAE_ERR_NOMEM;
    }
    /* A file that shrank since fstat ends early and is parsed as it is. */
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            st = iae_fail(ctx, IAE_ERR_IO, "cannot read CSV file '%s': %s", path,
                          strerror(errno));
            break;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);

    /* Fields end in NULs once parsed, so a NUL in the text would cut a cell
     * short without an error. */
    const char *nul = st == IAE_OK ? memchr(buf, 0, got) : NULL;
    if (nul != NULL)
        st = iae_fail(ctx, IAE_ERR_FORMAT,
                      "CSV file '%s' contains a NUL byte at offset %zu; expected text (is it a "
                      "binary file?)",
                      path, (size_t)(nul - buf));
    if (st != IAE_OK) {
        iae_free(buf);
        return st;
    }
    buf[got] = 0;
    *text = buf;
    *n = got;
    return IAE_OK;
}

/* Skip a UTF-8 byte order mark at the start of r's text. */
static void skip_bom(csv_reader *r) {
    static const char bom[3] = {(char)0xEF, (char)0xBB, (char)0xBF};
    if (r->n - r->pos >= 3 && memcmp(r->buf + r->pos, bom, 3) == 0) r->pos += 3;
}

/* ------------------------------------------------------------------------ */
/* Columns                                                                   */
/* ------------------------------------------------------------------------ */

/* Where the label and feature columns are in a record. */
typedef struct {
    int n_fields;
    int label;    /* field index of the label column */
    int d;
    int *feature; /* (D) field index of each feature column, in file order */
} column_map;

/* Return the index of the header field equal to name, or -1. */
static int find_column(const field_list *header, const char *name, size_t len) {
    for (int i = 0; i < header->n; i++)
        if (strlen(header->items[i]) == len && memcmp(header->items[i], name, len) == 0) return i;
    return -1;
}

/* Mark the columns of the comma-separated list drop in dropped[]. */
static iae_status mark_dropped(iae_ctx *ctx, const char *input, const field_list *header,
                               const char *drop, uint8_t *dropped) {
    const char *p = drop;
    while (p != NULL && *p != 0) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *a = p;
        const char *b = end;
        while (a < b && is_blank(*a)) a++;
        while (b > a && is_blank(b[-1])) b--;
        if (b > a) {
            int col = find_column(header, a, (size_t)(b - a));
            if (col < 0) {
                char names[CSV_LIST_BYTES];
                list_names(header->items, header->n, names, sizeof(names));
                return iae_fail(ctx, IAE_ERR_FORMAT,
                                "%s has no column '%.*s' to drop; the columns found are %s",
                                input, (int)(b - a), a, names);
            }
            dropped[col] = 1;
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return IAE_OK;
}

/* Build map from the header: the label column, the dropped columns and the
 * feature columns. Column names must be unique. */
static iae_status map_columns(iae_ctx *ctx, const char *input, const field_list *header,
                              const char *label, const char *drop, column_map *map) {
    memset(map, 0, sizeof(*map));
    for (int i = 0; i < header->n; i++)
        for (int j = i + 1; j < header->n; j++)
            if (strcmp(header->items[i], header->items[j]) == 0)
                return iae_fail(ctx, IAE_ERR_FORMAT,
                                "%s: the header names column '%s' twice (columns %d and %d); "
                                "column names must be unique",
                                input, header->items[i], i + 1, j + 1);

    map->n_fields = header->n;
    map->label = find_column(header, label, strlen(label));
    if (map->label < 0) {
        char names[CSV_LIST_BYTES];
        list_names(header->items, header->n, names, sizeof(names));
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s has no label column '%s'; the columns found are %s; name the label "
                        "column (0 normal, 1 anomalous) with the label column option",
                        input, label, names);
    }

    uint8_t *dropped = iae_alloc(ctx, (size_t)header->n, "CSV dropped columns");
    map->feature = iae_alloc(ctx, sizeof(int) * (size_t)header->n, "CSV feature columns");
    if (dropped == NULL || map->feature == NULL) {
        iae_free(dropped);
        iae_free(map->feature);
        map->feature = NULL;
        return IAE_ERR_NOMEM;
    }
    iae_status st = mark_dropped(ctx, input, header, drop, dropped);
    if (st == IAE_OK && dropped[map->label])
        st = iae_fail(ctx, IAE_ERR_ARGUMENT,
                      "%s: the label column '%s' is also in the columns to drop", input, label);
    if (st == IAE_OK) {
        for (int i = 0; i < header->n; i++)
            if (i != map->label && !dropped[i]) map->feature[map->d++] = i;
        if (map->d == 0)
            st = iae_fail(ctx, IAE_ERR_FORMAT,
                          "%s has no feature column left once the label column '%s' and the "
                          "dropped columns are set aside",
                          input, label);
    }
    iae_free(dropped);
    if (st != IAE_OK) {
        iae_free(map->feature);
        map->feature = NULL;
    }
    return st;
}

/* Reorder map->feature so that feature j is the column named
 * stored->names[j]. The file's feature columns must be exactly the stored
 * ones. */
static iae_status match_stored_columns(iae_ctx *ctx, const char *input, const field_list *header,
                                       const iae_csv_scaling *stored, column_map *map) {
    for (int i = 0; i < map->d; i++) {
        const char *name = header->items[map->feature[i]];
        int known = 0;
        for (int j = 0; j < stored->d && !known; j++) known = strcmp(name, stored->names[j]) == 0;
        if (!known)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "%s has the feature column '%s', which the model was not trained on; "
                            "drop it with the drop-columns option",
                            input, name);
    }
    int *order = iae_alloc(ctx, sizeof(int) * (size_t)(stored->d > 0 ? stored->d : 1),
                           "CSV feature columns");
    if (order == NULL) return IAE_ERR_NOMEM;
    for (int j = 0; j < stored->d; j++) {
        order[j] = -1;
        for (int i = 0; i < map->d; i++)
            if (strcmp(header->items[map->feature[i]], stored->names[j]) == 0) order[j] = map->feature[i];
        if (order[j] < 0) {
            iae_free(order);
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "%s has no feature column '%s', which the model was trained on (is it "
                            "dropped or the label column?)",
                            input, stored->names[j]);
        }
    }
    iae_free(map->feature);
    map->feature = order;
    map->d = stored->d;
    return IAE_OK;
}

/* ------------------------------------------------------------------------ */
/* Rows                                                                      */
/* ------------------------------------------------------------------------ */

/* The data rows of the file: raw features and labels. */
typedef struct {
    long n;
    double *x;      /* (n, D) raw values */
    uint8_t *label; /* (n) 0 normal, 1 anomalous */
} csv_rows;

/* Parse every data record of r into rows, which has room for max_rows. */
static iae_status read_rows(iae_ctx *ctx, csv_reader *r, const field_list *header,
                            const column_map *map, long max_rows, field_list *f, csv_rows *rows) {
    for (;;) {
        long line = 0;
        int end = 0;
        iae_status st = read_record(ctx, r, f, &line, &end);
        if (st != IAE_OK) return st;
        if (end) return IAE_OK;
        IAE_ASSERT(rows->n < max_rows);
        if (f->n != map->n_fields)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "%s, line %ld: %d field%s, but the header has %d; every row needs "
                            "one field per column",
                            r->name, line, f->n, f->n == 1 ? "" : "s", map->n_fields);

        double v = 0.0;
        int code = parse_cell(f->items[map->label], &v);
        if (code != CELL_OK)
            return fail_cell(ctx, r->name, line, map->label + 1, header->items[map->label],
                             f->items[map->label], code);
        if (v != 0.0 && v != 1.0)
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "%s, line %ld, column %d: label '%s' is %s; expected 0 (normal) or "
                            "1 (anomalous)",
                            r->name, line, map->label + 1, header->items[map->label],
                            f->items[map->label]);
        rows->label[rows->n] = v == 1.0;

        double *x = rows->x + (size_t)rows->n * map->d;
        for (int j = 0; j < map->d; j++) {
            int col = map->feature[j];
            code = parse_cell(f->items[col], &x[j]);
            if (code != CELL_OK)
                return fail_cell(ctx, r->name, line, col + 1, header->items[col], f->items[col],
                                 code);
        }
        rows->n++;
    }
}

/* Upper bound of the records left in r: one per line break, plus one. */
static long count_lines(const csv_reader *r) {
    long lines = 1;
    for (size_t i = r->pos; i < r->n; i++) lines += r->buf[i] == '\n';
    return lines;
}

/* Store each feature column's minimum and maximum over all rows in s, and
 * list the constant columns in info. */
static void compute_scaling(const csv_rows *rows, iae_csv_scaling *s, iae_csv_windows_info *info) {
    const int d = s->d;
    for (int j = 0; j < d; j++) {
        s->min[j] = INFINITY;
        s->max[j] = -INFINITY;
    }
    for (long i = 0; i < rows->n; i++)
        for (int j = 0; j < d; j++) {
            double v = rows->x[(size_t)i * d + j];
            if (v < s->min[j]) s->min[j] = v;
            if (v > s->max[j]) s->max[j] = v;
        }

    size_t used = 0;
    info->n_constant = 0;
    info->note[0] = 0;
    for (int j = 0; j < d; j++) {
        if (s->max[j] > s->min[j]) continue;
        info->n_constant++;
        if (used < sizeof(info->note)) {
            int len = snprintf(info->note + used, sizeof(info->note) - used, "%s'%s'",
                               used == 0 ? "constant columns mapped to 0: " : ", ", s->names[j]);
            used = len < 0 ? sizeof(info->note) : used + (size_t)len;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Windows and split                                                         */
/* ------------------------------------------------------------------------ */

/* Number of windows of n rows at stride s in a part of m rows: every one
 * that fits when all is set, else the reference's, starts below m - n
 * without the last (see csv_windows.h). */
static long count_windows(long m, int n, int s, int all) {
    if (all) return m >= n ? (m - n) / s + 1 : 0;
    if (m - n <= 0) return 0;
    return (m - n + s - 1) / s - 1;
}

/* Rows of one class, in file order. */
typedef struct {
    long m;
    long *row; /* (m) row indices into the preprocessed values */
    long n_windows;
} csv_part;

/* The loader's state between the steps. */
typedef struct {
    const iae_csv_windows_options *opt;
    int n, d, stride, out_h, out_w;
    float *values; /* (rows, D) preprocessed */
    csv_part part[2];
} window_source;

/* Write window k of part p of src into img (out_h, out_w). */
static void write_window(const window_source *src, int p, long k, float *img) {
    const csv_part *part = &src->part[p];
    place_window(src->values, part->row + k * src->stride, src->n, src->d, src->out_h, src->out_w,
                 img);
}

static iae_status alloc_set(iae_ctx *ctx, const window_source *src, long n, iae_dataset *d) {
    *d = (iae_dataset){.n = (int)n, .c = 1, .h = src->out_h, .w = src->out_w};
    d->x = iae_alloc(ctx, sizeof(float) * (size_t)n * src->out_h * src->out_w + 1, "CSV windows");
    d->label = iae_alloc(ctx, (size_t)n + 1, "window labels");
    d->cls = iae_alloc(ctx, (size_t)n + 1, "window classes");
    if (d->x == NULL || d->label == NULL || d->cls == NULL) {
        iae_dataset_free(d);
        return IAE_ERR_NOMEM;
    }
    return IAE_OK;
}

/* Shuffle the normal windows, split them and fill train and test. */
static iae_status split_windows(iae_ctx *ctx, const window_source *src, iae_dataset *train,
                                iae_dataset *test, iae_csv_windows_info *info) {
    const long n_normal = src->part[0].n_windows;
    const long n_anomalous = src->part[1].n_windows;
    const double fraction = src->opt->test_fraction > 0.0 ? src->opt->test_fraction
                                                          : IAE_CSV_DEFAULT_TEST_FRACTION;
    /* train_test_split's sizes: ceil(test_size * n) for the test part. */
    const long n_test_normal = (long)ceil(fraction * (double)n_normal);
    const long n_train = n_normal - n_test_normal;
    info->n_test_normal = n_test_normal;
    info->n_train = n_train;
    if (n_train < 1)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "%s: the %ld normal rows give %ld normal window%s of %d rows, too few "
                        "for a training window once %.0f%% go to the test set; use a shorter "
                        "window or a longer file",
                        src->opt->path, src->part[0].m, n_normal, n_normal == 1 ? "" : "s",
                        src->n, 100.0 * fraction);
    if (n_normal + n_anomalous > INT32_MAX)
        return iae_fail(ctx, IAE_ERR_FORMAT, "%s gives %ld windows, more than %d",
                        src->opt->path, n_normal + n_anomalous, INT32_MAX);

    int *perm = iae_alloc(ctx, sizeof(int) * (size_t)n_normal, "window shuffle");
    if (perm == NULL) return IAE_ERR_NOMEM;
    iae_rng rng;
    iae_rng_seed(&rng, src->opt->seed, IAE_STREAM_CSV_SPLIT);
    iae_rng_permutation(&rng, perm, (int)n_normal);

    const size_t image = (size_t)src->out_h * src->out_w;
    iae_status st = IAE_OK;
    if (train != NULL) {
        st = alloc_set(ctx, src, n_train, train);
        for (long k = 0; st == IAE_OK && k < n_train; k++) {
            write_window(src, 0, perm[n_test_normal + k], train->x + (size_t)k * image);
            train->label[k] = 0;
            train->cls[k] = 0;
        }
    }
    if (st == IAE_OK && test != NULL) {
        st = alloc_set(ctx, src, n_test_normal + n_anomalous, test);
        for (long k = 0; st == IAE_OK && k < n_test_normal; k++) {
            write_window(src, 0, perm[k], test->x + (size_t)k * image);
            test->label[k] = 0;
            test->cls[k] = 0;
        }
        for (long k = 0; st == IAE_OK && k < n_anomalous; k++) {
            long at = n_test_normal + k;
            write_window(src, 1, k, test->x + (size_t)at * image);
            test->label[at] = 1;
            test->cls[at] = 1;
        }
    }
    iae_free(perm);
    if (st != IAE_OK && train != NULL) iae_dataset_free(train);
    return st;
}

/* Preprocess rows into src->values and list the rows of each class. */
static iae_status build_source(iae_ctx *ctx, const csv_rows *rows, const iae_csv_scaling *s,
                               window_source *src) {
    const int d = s->d;
    src->values = iae_alloc(ctx, sizeof(float) * (size_t)rows->n * d, "CSV preprocessed rows");
    src->part[0].row = iae_alloc(ctx, sizeof(long) * (size_t)rows->n, "CSV normal rows");
    src->part[1].row = iae_alloc(ctx, sizeof(long) * (size_t)rows->n, "CSV anomalous rows");
    if (src->values == NULL || src->part[0].row == NULL || src->part[1].row == NULL)
        return IAE_ERR_NOMEM;

    for (long i = 0; i < rows->n; i++) {
        for (int j = 0; j < d; j++)
            src->values[(size_t)i * d + j] = preprocess_value(
                rows->x[(size_t)i * d + j], s->min[j], s->max[j], src->opt->skip_quantization);
        csv_part *part = &src->part[rows->label[i]];
        part->row[part->m++] = i;
    }
    for (int p = 0; p < 2; p++)
        src->part[p].n_windows =
            count_windows(src->part[p].m, src->n, src->stride, src->opt->all_windows);
    return IAE_OK;
}

static void source_free(window_source *src) {
    iae_free(src->values);
    iae_free(src->part[0].row);
    iae_free(src->part[1].row);
}

/* ------------------------------------------------------------------------ */
/* Loader                                                                    */
/* ------------------------------------------------------------------------ */

/* Check the options that do not depend on the file. */
static iae_status check_options(iae_ctx *ctx, const iae_csv_windows_options *opt) {
    if (opt->path == NULL || opt->path[0] == 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "no CSV file given");
    if (opt->label_column != NULL && opt->label_column[0] == 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "the label column name is empty");
    if (opt->window_rows < 0 || opt->stride < 0 || opt->out_h < 0 || opt->out_w < 0)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid window settings: %d rows, stride %d, output %d x %d; expected "
                        "values >= 1, or 0 for the default",
                        opt->window_rows, opt->stride, opt->out_h, opt->out_w);
    if (opt->out_h > 4096 || opt->out_w > 4096)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "output image %d x %d is too large; the maximum is 4096 per side",
                        opt->out_h, opt->out_w);
    if (!(opt->test_fraction >= 0.0 && opt->test_fraction < 1.0))
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "test fraction %g is outside (0, 1); 0 selects the default 0.3",
                        opt->test_fraction);
    return IAE_OK;
}

/* Check that a window of n rows and d columns fits in out_h x out_w. */
static iae_status check_fit(iae_ctx *ctx, const char *input, int n, int d, int out_h,
                            int out_w) {
    if (n <= out_h && d <= out_w) return IAE_OK;
    return iae_fail(ctx, IAE_ERR_ARGUMENT,
                    "%s: a window of %d rows x %d feature columns does not fit in the %d x %d "
                    "output image; drop columns, shorten the window or enlarge the output",
                    input, n, d, out_h, out_w);
}

iae_status iae_csv_windows_load(iae_ctx *ctx, const iae_csv_windows_options *opt,
                                iae_dataset *train, iae_dataset *test,
                                iae_csv_windows_info *info) {
    if (train != NULL) memset(train, 0, sizeof(*train));
    if (test != NULL) memset(test, 0, sizeof(*test));
    if (info != NULL) memset(info, 0, sizeof(*info));
    iae_status st = check_options(ctx, opt);
    if (st != IAE_OK) return st;
    const char *label = opt->label_column != NULL ? opt->label_column : IAE_CSV_DEFAULT_LABEL;

    char name[IAE_ERROR_BYTES / 2];
    snprintf(name, sizeof(name), "CSV file '%s'", opt->path);
    csv_reader r = {.line = 1, .name = name};
    st = read_file(ctx, opt->path, &r.buf, &r.n);
    if (st != IAE_OK) return st;

    /* Header, columns and window size. */
    field_list header = {0};
    field_list fields = {0};
    column_map map = {0};
    csv_rows rows = {0};
    iae_csv_windows_info found = {0};
    window_source src = {.opt = opt};
    long line = 0;
    int end = 0;
    skip_bom(&r);
    st = read_record(ctx, &r, &header, &line, &end);
    if (st == IAE_OK && end)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "%s has no header row; expected column names first",
                      name);
    if (st == IAE_OK) st = map_columns(ctx, name, &header, label, opt->drop_columns, &map);
    if (st == IAE_OK && opt->scaling != NULL)
        st = match_stored_columns(ctx, name, &header, opt->scaling, &map);
    if (st == IAE_OK) {
        src.d = map.d;
        src.n = opt->window_rows > 0 ? opt->window_rows : map.d;
        src.stride = opt->stride > 0 ? opt->stride : 1;
        src.out_h = opt->out_h > 0 ? opt->out_h : IAE_CSV_DEFAULT_SIDE;
        src.out_w = opt->out_w > 0 ? opt->out_w : IAE_CSV_DEFAULT_SIDE;
        st = check_fit(ctx, name, src.n, src.d, src.out_h, src.out_w);
    }

    /* Data rows, with room for one per line. */
    long max_rows = 0;
    if (st == IAE_OK) {
        max_rows = count_lines(&r);
        rows.x = iae_alloc(ctx, sizeof(double) * (size_t)max_rows * map.d, "CSV values");
        rows.label = iae_alloc(ctx, (size_t)max_rows, "CSV labels");
        if (rows.x == NULL || rows.label == NULL) st = IAE_ERR_NOMEM;
    }
    if (st == IAE_OK) st = read_rows(ctx, &r, &header, &map, max_rows, &fields, &rows);
    if (st == IAE_OK && rows.n == 0)
        st = iae_fail(ctx, IAE_ERR_FORMAT, "%s has a header but no data rows", name);

    /* Scaling, preprocessing, windows. */
    if (st == IAE_OK) {
        /* The feature names in file order, listed in the spare field list. */
        fields.n = 0;
        for (int j = 0; j < map.d && st == IAE_OK; j++)
            st = fields_push(ctx, &fields, header.items[map.feature[j]]);
        if (st == IAE_OK)
            st = scaling_alloc(ctx, &found.scaling, map.d, (const char *const *)fields.items);
    }
    if (st == IAE_OK) {
        compute_scaling(&rows, &found.scaling, &found);
        if (opt->scaling != NULL) {
            /* Keep the file's constant-column note, but scale with the stored range. */
            memcpy(found.scaling.min, opt->scaling->min, sizeof(double) * (size_t)map.d);
            memcpy(found.scaling.max, opt->scaling->max, sizeof(double) * (size_t)map.d);
        }
        st = build_source(ctx, &rows, &found.scaling, &src);
    }
    iae_free(rows.x);
    rows.x = NULL;
    if (st == IAE_OK) st = split_windows(ctx, &src, train, test, &found);

    if (st == IAE_OK) {
        found.window_rows = src.n;
        found.window_cols = src.d;
        found.stride = src.stride;
        found.n_rows = rows.n;
        found.n_normal_rows = src.part[0].m;
        found.n_anomalous_rows = src.part[1].m;
        found.n_normal_windows = src.part[0].n_windows;
        found.n_anomalous_windows = src.part[1].n_windows;
        if (info != NULL)
            *info = found;
        else
            iae_csv_windows_info_free(&found);
    } else {
        iae_csv_windows_info_free(&found);
    }

    source_free(&src);
    iae_free(rows.label);
    iae_free(map.feature);
    fields_free(&header);
    fields_free(&fields);
    iae_free(r.buf);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Streaming                                                                 */
/* ------------------------------------------------------------------------ */

void iae_csv_stream_free(iae_csv_stream *s) {
    iae_csv_scaling_free(&s->scaling);
    iae_free(s->field_of_column);
    iae_free(s->ring);
    iae_free(s->ring_order);
    iae_free(s->line_buffer);
    iae_free(s->line_fields);
    memset(s, 0, sizeof(*s));
}

iae_status iae_csv_stream_init(iae_ctx *ctx, iae_csv_stream *s, const iae_csv_scaling *scaling,
                               int window_rows, int out_h, int out_w, int skip_quantization) {
    memset(s, 0, sizeof(*s));
    if (scaling->d < 1)
        return iae_fail(ctx, IAE_ERR_ARGUMENT, "the CSV scaling has no feature column");
    if (window_rows < 0 || out_h < 0 || out_w < 0 || out_h > 4096 || out_w > 4096)
        return iae_fail(ctx, IAE_ERR_ARGUMENT,
                        "invalid window settings: %d rows, output %d x %d; expected values from "
                        "1 to 4096, or 0 for the default",
                        window_rows, out_h, out_w);
    s->window_rows = window_rows > 0 ? window_rows : scaling->d;
    s->out_h = out_h > 0 ? out_h : IAE_CSV_DEFAULT_SIDE;
    s->out_w = out_w > 0 ? out_w : IAE_CSV_DEFAULT_SIDE;
    s->skip_quantization = skip_quantization;
    iae_status st = check_fit(ctx, "CSV stream", s->window_rows, scaling->d, s->out_h, s->out_w);
    if (st != IAE_OK) return st;

    st = iae_csv_scaling_copy(ctx, scaling, &s->scaling);
    if (st == IAE_OK) {
        const size_t d = (size_t)scaling->d;
        s->field_of_column = iae_alloc(ctx, sizeof(int) * d, "CSV stream columns");
        s->ring = iae_alloc(ctx, sizeof(float) * (size_t)(s->window_rows + 1) * d,
                            "CSV stream rows");
        s->ring_order = iae_alloc(ctx, sizeof(long) * (size_t)s->window_rows, "CSV stream order");
        if (s->field_of_column == NULL || s->ring == NULL || s->ring_order == NULL)
            st = IAE_ERR_NOMEM;
    }
    if (st != IAE_OK) iae_csv_stream_free(s);
    return st;
}

/* Map every scaling column to its position in the header fields. */
static iae_status stream_header(iae_ctx *ctx, iae_csv_stream *s, const char *const *fields,
                                int n_fields, long line) {
    field_list header = {.items = (char **)fields, .n = n_fields};
    for (int j = 0; j < s->scaling.d; j++) {
        const char *want = s->scaling.names[j];
        int found = -1;
        for (int i = 0; i < n_fields; i++) {
            if (strcmp(fields[i], want) != 0) continue;
            if (found >= 0)
                return iae_fail(ctx, IAE_ERR_FORMAT,
                                "CSV input, line %ld: the header names column '%s' twice "
                                "(columns %d and %d); column names must be unique",
                                line, want, found + 1, i + 1);
            found = i;
        }
        if (found < 0) {
            char names[CSV_LIST_BYTES];
            list_names(header.items, header.n, names, sizeof(names));
            return iae_fail(ctx, IAE_ERR_FORMAT,
                            "CSV input, line %ld: the header has no column '%s', which the "
                            "model was trained on; the columns found are %s",
                            line, want, names);
        }
        s->field_of_column[j] = found;
    }
    s->n_fields = n_fields;
    s->have_header = 1;
    return IAE_OK;
}

iae_status iae_csv_stream_push(iae_ctx *ctx, iae_csv_stream *s, const char *const *fields,
                               int n_fields, long line, float *window, int *ready) {
    *ready = 0;
    if (!s->have_header) return stream_header(ctx, s, fields, n_fields, line);
    if (n_fields != s->n_fields)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "CSV input, line %ld: %d field%s, but the header has %d; every row "
                        "needs one field per column",
                        line, n_fields, n_fields == 1 ? "" : "s", s->n_fields);

    /* Preprocess the row into the spare ring row first, so that a bad row
     * leaves the earlier rows in place. */
    const int d = s->scaling.d;
    const int n = s->window_rows;
    float *spare = s->ring + (size_t)n * d;
    for (int j = 0; j < d; j++) {
        int col = s->field_of_column[j];
        double value = 0.0;
        int code = parse_cell(fields[col], &value);
        if (code != CELL_OK)
            return fail_cell(ctx, "CSV input", line, col + 1, s->scaling.names[j], fields[col],
                             code);
        spare[j] = preprocess_value(value, s->scaling.min[j], s->scaling.max[j],
                                    s->skip_quantization);
    }
    memcpy(s->ring + (size_t)(s->rows_seen % n) * d, spare, sizeof(float) * (size_t)d);
    s->rows_seen++;
    if (s->rows_seen < n) return IAE_OK;

    for (int r = 0; r < n; r++) s->ring_order[r] = (s->rows_seen - n + r) % n;
    place_window(s->ring, s->ring_order, n, d, s->out_h, s->out_w, window);
    *ready = 1;
    return IAE_OK;
}

iae_status iae_csv_stream_push_line(iae_ctx *ctx, iae_csv_stream *s, const char *text,
                                    size_t len, long line, float *window, int *ready) {
    *ready = 0;
    if (memchr(text, 0, len) != NULL)
        return iae_fail(ctx, IAE_ERR_FORMAT, "CSV input, line %ld contains a NUL byte", line);
    if (len > 0 && text[len - 1] == '\n') len--;
    if (len > 0 && text[len - 1] == '\r') len--;
    if (len + 1 > (size_t)s->line_capacity) {
        if (len + 1 > (size_t)INT32_MAX)
            return iae_fail(ctx, IAE_ERR_FORMAT, "CSV input, line %ld is %zu bytes long", line,
                            len);
        char *bigger = iae_alloc(ctx, len + 1, "CSV input line");
        if (bigger == NULL) return IAE_ERR_NOMEM;
        iae_free(s->line_buffer);
        s->line_buffer = bigger;
        s->line_capacity = (int)(len + 1);
    }
    memcpy(s->line_buffer, text, len);
    s->line_buffer[len] = 0;

    csv_reader r = {.buf = s->line_buffer, .n = len, .line = line, .name = "CSV input"};
    if (!s->have_header) skip_bom(&r);
    field_list f = {.items = s->line_fields, .capacity = s->line_field_capacity};
    long record_line = line;
    int end = 0;
    iae_status st = read_record(ctx, &r, &f, &record_line, &end);
    s->line_fields = f.items;
    s->line_field_capacity = f.capacity;
    if (st != IAE_OK || end) return st;
    if (r.pos < r.n)
        return iae_fail(ctx, IAE_ERR_FORMAT,
                        "CSV input, line %ld contains a line break outside quotes; pass one record "
                        "per call",
                        line);
    return iae_csv_stream_push(ctx, s, (const char *const *)f.items, f.n, line, window, ready);
}
