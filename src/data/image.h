/*
 * Reading PNG and PGM images into 8-bit gray or RGB pixels, and writing PNG.
 *
 * PNG goes through libpng's simplified API, which accepts every PNG color
 * type and bit depth. PGM (netpbm "P5" binary and "P2" plain text) is parsed
 * here. The format is detected from the first bytes, never from the file name.
 *
 * Pixel values:
 * - PGM samples are scaled to 0..255 as round(v * 255 / maxval), and 16-bit
 *   PNG samples as round(v * 255 / 65535), with halves rounded up.
 * - Alpha (an alpha channel, or a tRNS chunk) is composited onto black on the
 *   8-bit encoded values: out = round(v * a / 255). A half-transparent white
 *   pixel therefore becomes 128, not the 188 of compositing in linear light.
 * - RGB to gray is the Rec. 709 luminance in linear light with libpng's
 *   weights, Y = (6968 R + 23434 G + 2366 B) / 32768 on sRGB-decoded values,
 *   then sRGB-encoded and rounded. It is computed in double precision here,
 *   not by libpng, whose 8-bit version is off by up to 17 levels near black.
 *   Gray pixels keep their value. Alpha is composited before the conversion.
 * - Gray to RGB copies the gray value into all three channels.
 * - PNG values are taken as sRGB. libpng converts a PNG whose gAMA chunk
 *   declares another encoding to sRGB, for example the linear gAMA 1.0 that
 *   libpng's simplified writer gives 16-bit files. Such values are not
 *   v * 255 / 65535, and libpng 1.6.39 puts them up to 8 levels off the sRGB
 *   curve near black.
 */
#ifndef IAE_IMAGE_H
#define IAE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Largest width or height accepted, in pixels, for reading and writing. */
#define IAE_IMAGE_MAX_SIDE 65535

/* Largest pixel count (height * width) accepted: 2^28, so that an RGB image
 * needs at most 768 MiB. */
#define IAE_IMAGE_MAX_PIXELS (1L << 28)

/* Largest file iae_image_read reads into memory, in bytes (512 MiB). */
#define IAE_IMAGE_MAX_FILE_BYTES ((size_t)512 << 20)

typedef struct {
    int h, w, c;   /* height, width, channels (1 gray, 3 RGB) */
    uint8_t *data; /* (H, W, C) interleaved, 8 bits per value, iae_alloc'd */
} iae_image;

/* Read the PNG or PGM image at path into out, converted to channels
 * channels: 1 = gray, 3 = RGB, 0 = the file's own (1 for gray and gray+alpha,
 * 3 for RGB, RGBA and palette). path "-" reads standard input until its end.
 * Rejects directories, FIFOs and other non-regular files without waiting for
 * data, and files over IAE_IMAGE_MAX_FILE_BYTES before reading them. On
 * failure out is zeroed and ctx->error names the file and the problem. */
iae_status iae_image_read(iae_ctx *ctx, const char *path, int channels, iae_image *out);

/* Decode the PNG or PGM image in bytes[0..n) into out, as iae_image_read
 * does. name identifies the bytes in messages. */
iae_status iae_image_decode(iae_ctx *ctx, const char *name, const uint8_t *bytes, size_t n,
                            int channels, iae_image *out);

/* Free img->data and zero the struct. Safe on a zeroed struct. */
void iae_image_free(iae_image *img);

/* Write img (c = 1 gray or c = 3 RGB) as an 8-bit PNG. The bytes go to
 * "<path>.tmp-<pid>" first, which is renamed over path when complete, so a
 * failed write leaves any earlier file at path untouched and removes the
 * temporary file. */
iae_status iae_image_write_png(iae_ctx *ctx, const char *path, const iae_image *img);

/* Return 1 when bytes[0..n) start with the 8-byte PNG signature or with a
 * PGM magic number ("P5" or "P2") followed by whitespace or '#', else 0. */
int iae_image_sniff(const uint8_t *bytes, size_t n);

#endif
