/*
 * Training checkpoints: everything a run needs to continue exactly where it
 * stopped, so that an interrupted and resumed run ends with a model file
 * bit-identical to an uninterrupted one (same seed and thread count).
 *
 * A checkpoint is a record container (io/records.h) with magic "IAECHKPT":
 * "config" (the run's settings and data source, as in a model file), "state" (phase, epochs
 * done, Adam step, random-stream states, loss history), the network of the
 * current phase (the autoencoder while pre-training, else the IAE network and
 * the center) and the Adam moments "adam.m", "adam.v", "adam.vmax".
 */
#ifndef IAE_CHECKPOINT_H
#define IAE_CHECKPOINT_H

#include "pipeline/pipeline.h"

#define IAE_CHECKPOINT_VERSION 1

/* What a run saved: its settings and where it stood. The tensors stay in the
 * loaded file until iae_checkpoint_restore_* copies them. */
typedef struct iae_checkpoint iae_checkpoint;

iae_status iae_checkpoint_load(iae_ctx *ctx, const char *path, iae_checkpoint **out);
void iae_checkpoint_free(iae_checkpoint *c);

const iae_detector_info *iae_checkpoint_info(const iae_checkpoint *c);
/* The data source's "data_*" lines (data/source.h), NULL when the run was
 * on Fashion-MNIST by a version without data sources. */
const char *iae_checkpoint_data_config(const iae_checkpoint *c);
int iae_checkpoint_phase(const iae_checkpoint *c);       /* 0 pre-training, 1 joint training */
int iae_checkpoint_epochs_done(const iae_checkpoint *c); /* within that phase */

/* Copy the saved network (and center) of the checkpoint's phase into net
 * and, when center is not NULL, into center. */
iae_status iae_checkpoint_restore_net(iae_ctx *ctx, const iae_checkpoint *c, iae_net *net, float *center);

/* The rest of the run's state. */
iae_status iae_checkpoint_restore_run(iae_ctx *ctx, const iae_checkpoint *c, iae_trainer *tr, iae_rng *order_rng,
                                      iae_train_history *history);

/* Save a checkpoint after epochs_done epochs of phase (0 or 1). center is
 * NULL while pre-training. data_config, which may be NULL, is stored after
 * the settings as in a model file. */
iae_status iae_checkpoint_save(iae_ctx *ctx, const char *path, const iae_detector_info *info,
                               const char *data_config, int phase, int epochs_done, const iae_net *net,
                               const float *center, const iae_trainer *tr, const iae_rng *order_rng,
                               const iae_train_history *history);

#endif
