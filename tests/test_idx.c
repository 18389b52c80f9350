/*
 * Tests of the IDX reader and writer. Expected files are built byte by byte
 * in the tests (and gzip-compressed with zlib directly), so the reader is
 * checked against the format itself, not only against iae_idx_write.
 */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/idx.h"

/* Build an IDX file in buf: magic (0, 0, type, ndim), big-endian dims, then
 * payload. Returns the number of bytes written. */
static size_t build_idx(uint8_t *buf, int type, int ndim, const uint32_t *dims,
                        const uint8_t *payload, size_t payload_bytes) {
    size_t at = 0;
    buf[at++] = 0;
    buf[at++] = 0;
    buf[at++] = (uint8_t)type;
    buf[at++] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[at++] = (uint8_t)(dims[i] >> 24);
        buf[at++] = (uint8_t)(dims[i] >> 16);
        buf[at++] = (uint8_t)(dims[i] >> 8);
        buf[at++] = (uint8_t)dims[i];
    }
    if (payload_bytes > 0) memcpy(buf + at, payload, payload_bytes);
    return at + payload_bytes;
}

/* Write bytes to path as one gzip member, with zlib and not the code under test. */
static void write_gz(const char *path, const uint8_t *bytes, size_t len) {
    gzFile gz = gzopen(path, "wb");
    if (gz == NULL) fail_msg("cannot create %s", path);
    if (len > 0 && gzwrite(gz, bytes, (unsigned)len) != (int)len) fail_msg("gzwrite %s failed", path);
    if (gzclose(gz) != Z_OK) fail_msg("gzclose %s failed", path);
}

/* Read the whole file at path into a malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)size + 1);
    if (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size) fail_msg("cannot read %s", path);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

/* Fail unless ctx->error contains needle. */
static void expect_in_message(const iae_ctx *ctx, const char *needle) {
    if (strstr(ctx->error, needle) == NULL)
        fail_msg("error message \"%s\" does not contain \"%s\"", ctx->error, needle);
}

/* Read path, expect status, an output left zeroed, and each needle (NULL
 * terminated) in the message, plus the path itself. */
static void expect_read_error(const char *path, iae_status status, ...) {
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_idx idx;
    memset(&idx, 0xAB, sizeof(idx));

    iae_status st = iae_idx_read(&ctx, path, &idx);
    if (st != status) fail_msg("reading %s: status %d, expected %d (%s)", path, st, status, ctx.error);
    assert_null(idx.data);
    assert_int_equal(idx.ndim, 0);
    expect_in_message(&ctx, path);

    va_list ap;
    va_start(ap, status);
    for (const char *needle = va_arg(ap, const char *); needle; needle = va_arg(ap, const char *))
        expect_in_message(&ctx, needle);
    va_end(ap);
}

static void fill_bytes(uint8_t *x, size_t n, uint64_t seed) {
    iae_rng r;
    iae_rng_seed(&r, seed, 1);
    for (size_t i = 0; i < n; i++) x[i] = (uint8_t)iae_rng_below(&r, 256);
}

static void test_roundtrip(int gzip) {
    const char *dir = tu_tmpdir(gzip ? "idx_roundtrip_gzip" : "idx_roundtrip_plain");
    const char *path = tu_path(dir, gzip ? "a.idx.gz" : "a.idx");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);

    uint8_t payload[3 * 4 * 5];
    fill_bytes(payload, sizeof(payload), 7);
    iae_idx idx = {.ndim = 3, .dims = {3, 4, 5}, .count = sizeof(payload), .data = payload};
    assert_int_equal(iae_idx_write(&ctx, path, &idx, gzip), IAE_OK);

    /* The file, decompressed if needed, must match the format byte for byte. */
    uint8_t expected[128];
    const uint32_t dims[3] = {3, 4, 5};
    size_t expected_len = build_idx(expected, 0x08, 3, dims, payload, sizeof(payload));
    size_t len = 0;
    uint8_t *raw = slurp(path, &len);
    if (gzip) {
        assert_true(len >= 2);
        assert_int_equal(raw[0], 0x1f);
        assert_int_equal(raw[1], 0x8b);
        uint8_t plain[128];
        uLongf plain_len = sizeof(plain);
        z_stream zs = {0};
        assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
        zs.next_in = raw;
        zs.avail_in = (uInt)len;
        zs.next_out = plain;
        zs.avail_out = (uInt)plain_len;
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(zs.total_out, expected_len);
        assert_memory_equal(plain, expected, expected_len);
        inflateEnd(&zs);
    } else {
        assert_int_equal(len, expected_len);
        assert_memory_equal(raw, expected, expected_len);
    }
    free(raw);

    iae_idx back;
    assert_int_equal(iae_idx_read(&ctx, path, &back), IAE_OK);
    assert_int_equal(back.ndim, 3);
    assert_int_equal(back.dims[0], 3);
    assert_int_equal(back.dims[1], 4);
    assert_int_equal(back.dims[2], 5);
    assert_int_equal(back.count, sizeof(payload));
    assert_memory_equal(back.data, payload, sizeof(payload));
    iae_idx_free(&back);
    assert_null(back.data);

    /* No temporary file stays behind. */
    char tmp[1200];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    struct stat info;
    assert_int_not_equal(stat(tmp, &info), 0);
}

static void idx_roundtrip_plain(void **state) { test_roundtrip(0); }
static void idx_roundtrip_gzip(void **state) { test_roundtrip(1); }

/* Handmade files of rank 1 and 4, with a dimension above 255 to check byte order. */
static void idx_read_handmade_ranks(void **state) {
    const char *dir = tu_tmpdir("idx_handmade");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    static uint8_t buf[2048];
    uint8_t payload[600];
    fill_bytes(payload, sizeof(payload), 3);

    const uint32_t dims1[1] = {258};
    size_t len = build_idx(buf, 0x08, 1, dims1, payload, 258);
    const char *path = tu_path(dir, "rank1");
    tu_write_file(path, buf, len);
    iae_idx idx;
    assert_int_equal(iae_idx_read(&ctx, path, &idx), IAE_OK);
    assert_int_equal(idx.ndim, 1);
    assert_int_equal(idx.dims[0], 258);
    assert_int_equal(idx.count, 258);
    assert_memory_equal(idx.data, payload, 258);
    iae_idx_free(&idx);

    const uint32_t dims4[4] = {2, 3, 10, 10};
    len = build_idx(buf, 0x08, 4, dims4, payload, 600);
    path = tu_path(dir, "rank4.gz");
    write_gz(path, buf, len);
    assert_int_equal(iae_idx_read(&ctx, path, &idx), IAE_OK);
    assert_int_equal(idx.ndim, 4);
    assert_int_equal(idx.dims[0], 2);
    assert_int_equal(idx.dims[1], 3);
    assert_int_equal(idx.dims[2], 10);
    assert_int_equal(idx.dims[3], 10);
    assert_int_equal(idx.count, 600);
    assert_memory_equal(idx.data, payload, 600);
    iae_idx_free(&idx);
}

/* A (2, 3, 4) file is 4 header + 12 dimension + 24 payload bytes. Cut it at
 * offsets inside each part, and store it plain and as a gzip of the cut bytes. */
static void idx_truncated_at_offsets(void **state) {
    const char *dir = tu_tmpdir("idx_truncated");
    uint8_t payload[24];
    fill_bytes(payload, sizeof(payload), 5);
    const uint32_t dims[3] = {2, 3, 4};
    uint8_t full[64];
    size_t full_len = build_idx(full, 0x08, 3, dims, payload, sizeof(payload));
    assert_int_equal(full_len, 40);

    const struct {
        size_t cut;
        const char *text;
    } cases[] = {
        {0, "expected 4 bytes of header, found 0"},
        {2, "expected 4 bytes of header, found 2"},
        {4, "expected 12 bytes of dimensions, found 0"},
        {9, "expected 12 bytes of dimensions, found 5"},
        {16, "the header declares 24 bytes of payload, the file has 0"},
        {30, "the header declares 24 bytes of payload, the file has 14"},
        {39, "the header declares 24 bytes of payload, the file has 23"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "cut%zu", cases[i].cut);
        const char *path = tu_path(dir, name);
        tu_write_file(path, full, cases[i].cut);
        expect_read_error(path, IAE_ERR_FORMAT, "truncated", cases[i].text, NULL);

        snprintf(name, sizeof(name), "cut%zu.gz", cases[i].cut);
        path = tu_path(dir, name);
        write_gz(path, full, cases[i].cut);
        expect_read_error(path, IAE_ERR_FORMAT, "truncated", cases[i].text, NULL);
    }
}

/* Cut the compressed bytes: inside the deflate data, and inside the trailer. */
static void idx_truncated_gzip_stream(void **state) {
    const char *dir = tu_tmpdir("idx_truncated_gz");
    static uint8_t payload[4000];
    static uint8_t full[4100];
    fill_bytes(payload, sizeof(payload), 9);
    const uint32_t dims[2] = {40, 100};
    size_t full_len = build_idx(full, 0x08, 2, dims, payload, sizeof(payload));
    const char *whole = tu_path(dir, "whole.gz");
    write_gz(whole, full, full_len);
    size_t gz_len = 0;
    uint8_t *gz = slurp(whole, &gz_len);
    assert_true(gz_len > 2000);

    const char *mid = tu_path(dir, "mid.gz");
    tu_write_file(mid, gz, gz_len / 2);
    expect_read_error(mid, IAE_ERR_FORMAT, "truncated", "declares 4000 bytes of payload",
                      "gzip stream ends early", NULL);

    /* The last 8 bytes are the CRC-32 and length; keep half of them. */
    const char *trailer = tu_path(dir, "trailer.gz");
    tu_write_file(trailer, gz, gz_len - 4);
    expect_read_error(trailer, IAE_ERR_FORMAT, "truncated", "trailer", NULL);
    free(gz);
}

static void idx_wrong_magic(void **state) {
    const char *dir = tu_tmpdir("idx_magic");
    uint8_t buf[64];
    const uint32_t dims[1] = {4};
    const uint8_t payload[4] = {1, 2, 3, 4};
    size_t len = build_idx(buf, 0x08, 1, dims, payload, 4);
    buf[0] = 0x01;
    const char *path = tu_path(dir, "magic");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "not an IDX file", "0x01 0x00", NULL);
}

static void idx_wrong_type(void **state) {
    const char *dir = tu_tmpdir("idx_type");
    uint8_t buf[64];
    const uint32_t dims[1] = {4};
    const uint8_t payload[16] = {0};
    size_t len = build_idx(buf, 0x0D, 1, dims, payload, 16);
    const char *path = tu_path(dir, "float.idx");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "type 0x0d", "float32", "0x08", NULL);
}

static void idx_rank_0_and_5(void **state) {
    const char *dir = tu_tmpdir("idx_rank");
    uint8_t buf[64];
    const uint32_t dims[5] = {1, 1, 1, 1, 1};
    const uint8_t payload[1] = {7};

    size_t len = build_idx(buf, 0x08, 0, dims, payload, 1);
    const char *path = tu_path(dir, "rank0");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "rank 0", "1 to 4", NULL);

    len = build_idx(buf, 0x08, 5, dims, payload, 1);
    path = tu_path(dir, "rank5");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "rank 5", "1 to 4", NULL);
}

static void idx_zero_dimension(void **state) {
    const char *dir = tu_tmpdir("idx_zero_dim");
    uint8_t buf[64];
    const uint32_t dims[3] = {3, 0, 2};
    size_t len = build_idx(buf, 0x08, 3, dims, NULL, 0);
    const char *path = tu_path(dir, "zero");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "(3, 0, 2)", "dimension 1 is 0", NULL);
}

/* Headers whose products need 2^48 bytes, overflow 64 bits, or pass the
 * 2^31 - 1 byte limit by a little. The files stop after the header, so an
 * attempted allocation or read would give NOMEM or a truncation message
 * instead of this one. */
static void idx_huge_dimensions(void **state) {
    const char *dir = tu_tmpdir("idx_huge");
    uint8_t buf[64];

    const uint32_t big3[3] = {65536, 65536, 65536};
    size_t len = build_idx(buf, 0x08, 3, big3, NULL, 0);
    const char *path = tu_path(dir, "big3");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "exceeds the limit of 2147483647 bytes",
                      "(65536, 65536, 65536)", NULL);

    const uint32_t max4[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
    len = build_idx(buf, 0x08, 4, max4, NULL, 0);
    path = tu_path(dir, "max4");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "exceeds the limit", NULL);

    /* 46341^2 = 2147488281, just over 2^31 - 1 = 2147483647. */
    const uint32_t over2[2] = {46341, 46341};
    len = build_idx(buf, 0x08, 2, over2, NULL, 0);
    path = tu_path(dir, "over2");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "exceeds the limit", NULL);
}

static void idx_trailing_bytes(void **state) {
    const char *dir = tu_tmpdir("idx_trailing");
    uint8_t buf[64];
    const uint32_t dims[2] = {2, 3};
    const uint8_t payload[9] = {1, 2, 3, 4, 5, 6, 0xEE, 0xEE, 0xEE};
    /* Declares 6 bytes, carries 9. */
    size_t len = build_idx(buf, 0x08, 2, dims, payload, 9);

    const char *path = tu_path(dir, "trailing");
    tu_write_file(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "3 unexpected bytes after the payload of 6 bytes",
                      NULL);

    path = tu_path(dir, "trailing.gz");
    write_gz(path, buf, len);
    expect_read_error(path, IAE_ERR_FORMAT, "3 unexpected bytes after the payload of 6 bytes",
                      NULL);
}

/* Flip bytes in the middle of gzip files: stored (random) data, caught by
 * the CRC-32 check, and compressible data, caught by inflate or the CRC. */
static void idx_corrupt_gzip(void **state) {
    const char *dir = tu_tmpdir("idx_corrupt");
    static uint8_t payload[8000];
    static uint8_t full[8100];
    const uint32_t dims[2] = {80, 100};

    for (int compressible = 0; compressible <= 1; compressible++) {
        if (compressible)
            for (size_t i = 0; i < sizeof(payload); i++) payload[i] = (uint8_t)((i * i / 7) % 23);
        else
            fill_bytes(payload, sizeof(payload), 11);
        size_t full_len = build_idx(full, 0x08, 2, dims, payload, sizeof(payload));
        const char *whole = tu_path(dir, "whole.gz");
        write_gz(whole, full, full_len);
        size_t gz_len = 0;
        uint8_t *gz = slurp(whole, &gz_len);

        /* Several positions between the 10-byte gzip header and the trailer. */
        for (int k = 1; k <= 5; k++) {
            size_t at = 10 + (gz_len - 18) * (size_t)k / 6;
            uint8_t *copy = malloc(gz_len);
            memcpy(copy, gz, gz_len);
            copy[at] ^= 0xFF;
            copy[at + 1] ^= 0x5A;
            char name[64];
            snprintf(name, sizeof(name), "corrupt-%d-%d.gz", compressible, k);
            const char *path = tu_path(dir, name);
            tu_write_file(path, copy, gz_len);
            free(copy);

            if (compressible) {
                /* Broken Huffman data can also decode to a wrong length,
                 * reported as truncated or trailing data: all are FORMAT. */
                expect_read_error(path, IAE_ERR_FORMAT, NULL);
            } else {
                expect_read_error(path, IAE_ERR_FORMAT, "corrupt gzip stream", NULL);
            }
        }
        free(gz);
    }
}

static void ignore_signal(int signum) { (void)signum; }

/* A FIFO that no writer ever opens. A blocking open() would wait forever, so
 * an alarm without SA_RESTART interrupts it after 5 s, and a regression fails
 * the checks below with EINTR instead of hanging the test. */
static void idx_fifo_rejected_promptly(void **state) {
    const char *dir = tu_tmpdir("idx_fifo");
    const char *path = tu_path(dir, "labels.idx");
    if (mkfifo(path, 0600) != 0) fail_msg("mkfifo %s failed", path);

    struct sigaction on_alarm = {0};
    struct sigaction saved;
    on_alarm.sa_handler = ignore_signal;
    sigemptyset(&on_alarm.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &on_alarm, &saved), 0);
    alarm(5);

    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_idx idx;
    memset(&idx, 0xAB, sizeof(idx));
    double start = iae_now_s();
    iae_status st = iae_idx_read(&ctx, path, &idx);
    double seconds = iae_now_s() - start;

    alarm(0);
    sigaction(SIGALRM, &saved, NULL);

    if (st != IAE_ERR_IO) fail_msg("status %d, expected IAE_ERR_IO (%s)", st, ctx.error);
    assert_null(idx.data);
    assert_int_equal(idx.ndim, 0);
    expect_in_message(&ctx, path);
    expect_in_message(&ctx, "is not a regular file (a FIFO)");
    expect_in_message(&ctx, "expected an IDX file");
    if (seconds > 1.0) fail_msg("reading the FIFO took %.2f s; expected an immediate error", seconds);
}

/* Peak resident set size of this process so far, in KiB on Linux. */
static long peak_rss_kib(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) fail_msg("getrusage failed");
    return usage.ru_maxrss;
}

/* A 316-byte label file whose header declares 2^31 - 1 labels, plain and
 * gzip-compressed. iae_alloc zero-fills, so allocating the declared 2 GiB
 * would raise the peak RSS by about 2 GiB. The check allows 256 MiB because
 * the gzip reader's first buffer is 16 MiB. No earlier test peaks near 2 GiB,
 * so the giant allocation cannot hide under an earlier peak. */
static void idx_lying_header_small_file(void **state) {
    const char *dir = tu_tmpdir("idx_lying_header");
    static uint8_t buf[316];
    uint8_t labels[308];
    fill_bytes(labels, sizeof(labels), 13);
    const uint32_t dims[1] = {2147483647u};
    size_t len = build_idx(buf, 0x08, 1, dims, labels, sizeof(labels));
    assert_int_equal(len, 316);

    const char *plain = tu_path(dir, "labels-idx1-ubyte");
    tu_write_file(plain, buf, len);
    const char *gz = tu_path(dir, "labels-idx1-ubyte.gz");
    write_gz(gz, buf, len);

    long before_kib = peak_rss_kib();
    expect_read_error(plain, IAE_ERR_FORMAT, "truncated",
                      "the header declares 2147483647 bytes of payload, the file has 308;", NULL);
    expect_read_error(gz, IAE_ERR_FORMAT, "truncated",
                      "the header declares 2147483647 bytes of payload, the file has 308 after "
                      "decompression",
                      NULL);
    long grown_kib = peak_rss_kib() - before_kib;
    if (grown_kib > 256 * 1024)
        fail_msg("peak RSS grew by %ld KiB while reading two 316-byte files", grown_kib);
}

/* 2 x 16 MiB + 5 bytes of gzip payload: the reader's buffer must grow from
 * 16 MiB to 32 MiB and then to the declared size, keeping every byte in
 * place. Cut at exactly 16 MiB, the stream ends right after a full buffer. */
static void idx_gzip_payload_over_first_buffer(void **state) {
    const char *dir = tu_tmpdir("idx_gzip_growth");
    const size_t payload_bytes = ((size_t)32 << 20) + 5;
    uint8_t *file = malloc(8 + payload_bytes);
    assert_non_null(file);
    const uint32_t dims[1] = {(uint32_t)payload_bytes};
    size_t len = build_idx(file, 0x08, 1, dims, NULL, 0);
    assert_int_equal(len, 8);
    fill_bytes(file + 8, payload_bytes, 17);

    const char *whole = tu_path(dir, "whole.gz");
    write_gz(whole, file, 8 + payload_bytes);
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    iae_idx idx;
    iae_status st = iae_idx_read(&ctx, whole, &idx);
    if (st != IAE_OK) fail_msg("%s", ctx.error);
    assert_int_equal(idx.count, payload_bytes);
    assert_int_equal(idx.dims[0], (int)payload_bytes);
    for (size_t i = 0; i < payload_bytes; i++)
        if (idx.data[i] != file[8 + i])
            fail_msg("payload byte %zu is %u, expected %u", i, idx.data[i], file[8 + i]);
    iae_idx_free(&idx);

    const char *cut = tu_path(dir, "cut-16MiB.gz");
    write_gz(cut, file, 8 + ((size_t)16 << 20));
    expect_read_error(cut, IAE_ERR_FORMAT, "truncated",
                      "the header declares 33554437 bytes of payload, the file has 16777216 after "
                      "decompression",
                      NULL);
    free(file);
}

static void idx_directory_as_path(void **state) {
    const char *dir = tu_tmpdir("idx_directory");
    expect_read_error(dir, IAE_ERR_IO, "is a directory", NULL);
}

static void idx_missing_file(void **state) {
    const char *dir = tu_tmpdir("idx_missing");
    const char *path = tu_path(dir, "no-such-file.gz");
    expect_read_error(path, IAE_ERR_IO, "not found", NULL);
}

/* A write into a missing folder fails with IO; a write over an existing file
 * replaces it. */
static void idx_write_errors_and_replace(void **state) {
    const char *dir = tu_tmpdir("idx_write");
    iae_ctx ctx;
    iae_ctx_init(&ctx, 1);
    uint8_t payload[4] = {9, 8, 7, 6};
    iae_idx idx = {.ndim = 1, .dims = {4}, .count = 4, .data = payload};

    const char *missing = tu_path(dir, "no-such-dir/out.idx");
    assert_int_equal(iae_idx_write(&ctx, missing, &idx, 0), IAE_ERR_IO);
    expect_in_message(&ctx, missing);

    iae_idx bad = {.ndim = 2, .dims = {2, 3}, .count = 5, .data = payload};
    assert_int_equal(iae_idx_write(&ctx, tu_path(dir, "bad.idx"), &bad, 0), IAE_ERR_ARGUMENT);
    expect_in_message(&ctx, "count is 5");

    const char *path = tu_path(dir, "out.idx");
    tu_write_file(path, "old contents, longer than the new file", 38);
    assert_int_equal(iae_idx_write(&ctx, path, &idx, 0), IAE_OK);
    iae_idx back;
    assert_int_equal(iae_idx_read(&ctx, path, &back), IAE_OK);
    assert_int_equal(back.count, 4);
    assert_memory_equal(back.data, payload, 4);
    iae_idx_free(&back);

    /* Freeing a zeroed struct is a no-op. */
    iae_idx zero = {0};
    iae_idx_free(&zero);
    assert_null(zero.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idx_roundtrip_plain),
        cmocka_unit_test(idx_roundtrip_gzip),
        cmocka_unit_test(idx_read_handmade_ranks),
        cmocka_unit_test(idx_truncated_at_offsets),
        cmocka_unit_test(idx_truncated_gzip_stream),
        cmocka_unit_test(idx_wrong_magic),
        cmocka_unit_test(idx_wrong_type),
        cmocka_unit_test(idx_rank_0_and_5),
        cmocka_unit_test(idx_zero_dimension),
        cmocka_unit_test(idx_huge_dimensions),
        cmocka_unit_test(idx_trailing_bytes),
        cmocka_unit_test(idx_corrupt_gzip),
        cmocka_unit_test(idx_directory_as_path),
        cmocka_unit_test(idx_fifo_rejected_promptly),
        cmocka_unit_test(idx_lying_header_small_file),
        cmocka_unit_test(idx_gzip_payload_over_first_buffer),
        cmocka_unit_test(idx_missing_file),
        cmocka_unit_test(idx_write_errors_and_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
