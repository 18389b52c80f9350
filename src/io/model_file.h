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
 */
#ifndef IAE_MODEL_FILE_H
#define IAE_MODEL_FILE_H

#include "model/detector.h"

#define IAE_MODEL_VERSION 2

/* Save d to path atomically (see atomic_file.h). */
iae_status iae_model_save(iae_ctx *ctx, const iae_detector *d, const char *path);

/* Load and validate a model file; the network is sized for batches of up to
 * max_batch samples (0: the batch size stored in the file). */
iae_status iae_model_load(iae_ctx *ctx, const char *path, int max_batch, iae_detector **out);

#endif
