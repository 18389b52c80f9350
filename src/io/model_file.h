/*
 * The model file: a versioned, checksummed binary holding a trained detector.
 *
 * Layout (integers little-endian):
 *   magic     8 bytes  "IAEMODEL"
 *   version   u32      IAE_MODEL_VERSION
 *   records   u32      number of records that follow
 *   record    u8 type (1 = float32 tensor, 2 = UTF-8 text), u8 name length
 *             (1..63), u8 rank (0..4; 1 for text), u8 zero, the name,
 *             u32 dims[rank], then the payload: 4 bytes per element for a
 *             tensor, dims[0] bytes for text
 *   crc       u32      CRC-32 (zlib) of every byte before it
 * Records: "config" (text, one key=value per line: architecture, data set,
 * normalisation, loss and training settings, threshold), "center" (rep_dim),
 * every network parameter and BatchNorm statistic under its PyTorch
 * state-dict name, and from version 2 on, when present: "memory_h" and
 * "memory_c" (Hd, the LSTM memory state) and "score_stats" (5, 103: for svdd,
 * mse, l1_svdd, l1_mse and combined, the held-out mean, standard deviation and
 * quantiles at 0%, 1%, ..., 100%). Version 1 files load without them.
 * The config record ends with the data source's "data_*" lines when the
 * detector has them (data/source.h: kind, paths, CSV column scaling, image
 * size). Files without them are Fashion-MNIST models.
 */
#ifndef IAE_MODEL_FILE_H
#define IAE_MODEL_FILE_H

#include "io/records.h"
#include "model/detector.h"

#define IAE_MODEL_VERSION 2

/* Largest size of the data source lines in a config record, in bytes. */
#define IAE_MODEL_DATA_CONFIG_MAX_BYTES (1 << 20)

/* Save d to path atomically (see atomic_file.h). */
iae_status iae_model_save(iae_ctx *ctx, const iae_detector *d, const char *path);

/* Load and validate a model file; the network is sized for batches of up to
 * max_batch samples (0: the batch size stored in the file). */
iae_status iae_model_load(iae_ctx *ctx, const char *path, int max_batch, iae_detector **out);

/* Pieces shared with training checkpoints (io/checkpoint.c). */

/* Write the configuration as key=value lines; returns the length. */
int iae_model_format_config(const iae_detector_info *info, char *buf, size_t size);
iae_status iae_model_parse_config(iae_ctx *ctx, const char *path, const char *text, size_t len,
                                  iae_detector_info *info);

/* Collect the "data_*" lines of a config record text[0..len) into *out
 * (iae_alloc'd, NULL when there are none) and check them against info with
 * iae_data_source_from_model, so a malformed value fails the load with a
 * message naming the line. */
iae_status iae_model_data_config(iae_ctx *ctx, const char *path, const char *text, size_t len,
                                 const iae_detector_info *info, char **out);

/* Write the center and every parameter and buffer of d as tensor records. */
iae_status iae_model_write_tensors(iae_record_writer *w, const iae_detector *d);

/* Place one tensor record into d (center, parameter, buffer, memory state or
 * score statistics), checking shape, duplicates and finiteness. seen has one
 * byte per required tensor; optional_seen collects bits of optional ones. */
iae_status iae_model_read_tensor(iae_ctx *ctx, const char *path, iae_detector *d, const iae_record *rec,
                                 unsigned char *seen, int *optional_seen);

/* Require every tensor of d to have been read, then finish loading. */
iae_status iae_model_check_complete(iae_ctx *ctx, const char *path, iae_detector *d, const unsigned char *seen,
                                    int optional_seen);

#endif
