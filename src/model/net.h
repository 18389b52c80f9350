/*
 * One network description with switches, covering the autoencoder used for
 * pre-training, Deep SVDD (encoder only) and IAE-LSTM-KL (LSTM between the
 * convolutional features and the feature layer), for two architectures: the
 * LeNet-type 32x32 network and the MVTec AD 64x64 network.
 *
 * A network is a chain of ops. The output of op z_op is the feature z that the
 * SVDD and KL terms see; ops after it form the decoder. Every parameter lives
 * in one float block (net->param) with a parallel gradient block (net->grad)
 * and a table of named views; BatchNorm running statistics live in a second
 * block (net->buffer). Names follow the PyTorch state-dict keys of the
 * reference code, such as conv1.weight and bn2d1.running_mean (LeNet),
 * encoder.encoder.0.weight and decoder.decoder.1.running_var (MVTec) and
 * lstm.weight_ih_l0, so weights transfer by name between the autoencoder and
 * the IAE network.
 *
 * All activations and working memory are allocated once at creation for a
 * maximum batch size; forward and backward passes never allocate.
 */
#ifndef IAE_NET_H
#define IAE_NET_H

#include <stdint.h>

#include "core/core.h"
#include "core/rng.h"
#include "layers/layers.h"

typedef enum {
    IAE_ARCH_LENET = 0, /* LeNet-type 32x32 network (Fashion-MNIST, CIFAR-10, WTBI) */
    IAE_ARCH_MVTEC = 1, /* convolutional 64x64 autoencoder "aev2v2" (MVTec AD) */
} iae_arch;

#define IAE_N_ARCHS 2

/* Architecture names "lenet" and "mvtec". Parse returns -1 for an unknown
 * name. */
const char *iae_arch_name(iae_arch a);
int iae_arch_parse(const char *name);

typedef struct {
    iae_arch arch;
    int in_c, in_h, in_w; /* input (C, H, W): LeNet (C, 32, 32), MVTec (3, 64, 64) */
    int rep_dim;          /* size of z: LeNet 128, MVTec 4096 */
    int use_lstm;         /* 1: LSTM after the conv features (LeNet 2048 -> 2048 before fc1,
                             MVTec 4096 -> 4096, whose hidden state is z) */
    int use_decoder;      /* 1: decoder after z (autoencoder, IAE); 0: encoder only */
    float leaky_slope;    /* LeNet 0.01, MVTec 0.2 */
    float bn_eps;         /* LeNet 1e-4, MVTec 1e-5 */
    float bn_momentum;    /* 0.1 */
} iae_net_config;

/* How the LSTM treats the samples of a batch at evaluation time:
 * batch  - the batch is one sequence, state flows from sample to sample, as
 *          in the reference code (a score depends on the samples before it);
 * memory - every sample is one step from a stored state (h, c) computed at the
 *          end of training, so each score is independent of its companions;
 * none   - every sample is one step from the zero state.
 * Training always uses the batch context. */
typedef enum {
    IAE_CONTEXT_BATCH = 0,
    IAE_CONTEXT_MEMORY = 1,
    IAE_CONTEXT_NONE = 2,
} iae_lstm_context;

/* "batch", "memory", "none"; parse returns -1 for an unknown name. */
const char *iae_context_name(iae_lstm_context c);
int iae_context_parse(const char *name);

/* The reference LeNet configuration for in_c input channels: 1 for
 * Fashion-MNIST and WTBI, 3 for CIFAR-10. */
iae_net_config iae_lenet_config(int in_c, int use_lstm, int use_decoder);

/* The reference MVTec AD configuration: 3 x 64 x 64 input, rep_dim 4096. */
iae_net_config iae_mvtec_config(int use_lstm, int use_decoder);

typedef enum {
    IAE_OP_CONV2D,
    IAE_OP_CONV_TRANSPOSE2D,
    IAE_OP_BATCHNORM,
    IAE_OP_LEAKY_RELU,
    IAE_OP_MAXPOOL2D,
    IAE_OP_UPSAMPLE2X,
    IAE_OP_LINEAR,
    IAE_OP_LSTM,
    IAE_OP_SIGMOID,
} iae_op_kind;

#define IAE_NAME_BYTES 32
#define IAE_MAX_OPS 48
#define IAE_MAX_TENSORS 48

/* A named view into the parameter or buffer block. */
typedef struct {
    char name[IAE_NAME_BYTES];
    int ndim;
    int dims[4];
    long offset; /* in floats from the start of the block */
    long count;
} iae_tensor_info;

typedef struct {
    iae_op_kind kind;
    char name[IAE_NAME_BYTES];
    int in_c, in_h, in_w;    /* per-sample input shape */
    int out_c, out_h, out_w; /* per-sample output shape */
    iae_conv_geom conv;      /* convolutions */
    int param[4];            /* parameter indices; LSTM: w_ih, w_hh, b_ih, b_hh; -1 unused */
    int stat;                /* BatchNorm: buffer index of running_mean (running_var is next) */
    float *out;              /* (max_batch, out size) output activations */
    float *aux;              /* BatchNorm: rstd (C); LSTM: gates (T, 4Hd) then cs (T+1, Hd) */
    uint8_t *arg;            /* max pooling: argmax (max_batch, out size) */
} iae_op;

typedef struct {
    iae_net_config cfg;
    int max_batch;
    int threads; /* thread count the scratch space is sized for */

    int n_ops;
    iae_op ops[IAE_MAX_OPS];
    int z_op; /* index of the op whose output is z */

    int n_params;
    iae_tensor_info params[IAE_MAX_TENSORS];
    long n_param_floats;
    float *param; /* all trainable parameters */
    float *grad;  /* their gradients, same layout */

    int n_buffers;
    iae_tensor_info buffers[IAE_MAX_TENSORS];
    long n_buffer_floats;
    float *buffer; /* BatchNorm running statistics */

    float *act;        /* activations and saved data of every op */
    float *scratch;    /* working memory shared by the layer kernels */
    float *dbuf[2];    /* ping-pong buffers for activation gradients */
    long dbuf_floats;

    const float *lstm_h0, *lstm_c0; /* initial LSTM state, NULL = zeros */
    iae_lstm_options lstm_opt;      /* recurrent kernel; its bf16 copy lives in w_hh_bf16 */
    iae_lstm_context context;       /* LSTM context of evaluation-mode passes */
    float *memory_state;            /* (2, Hd) stored h then c, for IAE_CONTEXT_MEMORY */
    int has_memory;                 /* memory_state holds a state */
    float *step_bias;               /* (4Hd) b_ih + b_hh + W_hh h0 of the current context */
    uint16_t *w_hh_bf16;            /* (4Hd, Hd) bf16 copy of lstm.weight_hh_l0, or NULL */
    int train_mode;                 /* BatchNorm mode of the last forward pass */

    int profile;                        /* 1: accumulate the time of every op below */
    double op_forward_s[IAE_MAX_OPS];   /* seconds spent in each op's forward pass */
    double op_backward_s[IAE_MAX_OPS];  /* seconds spent in each op's backward pass */
} iae_net;

/* Build the network for batches of up to max_batch samples and allocate all of
 * its memory; parameters start at zero (call iae_net_init_params). */
iae_status iae_net_create(iae_ctx *ctx, const iae_net_config *cfg, int max_batch, iae_net **out);
void iae_net_free(iae_net *net);

/* Initialise parameters as the reference does. LeNet convolutions are
 * Xavier-uniform with the leaky ReLU gain. MVTec convolutions take PyTorch's
 * default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = dims[1] k k, which
 * is Cin k k for Conv2d and Cout k k for ConvTranspose2d. fc1 takes
 * PyTorch's default Linear init, the LSTM orthogonal weights and zero
 * biases, BatchNorm running mean 0 and variance 1. */
iae_status iae_net_init_params(iae_ctx *ctx, iae_net *net, iae_rng *rng);

/* Forward pass of n samples x (N, C, H, W). train = 1 uses batch statistics in
 * BatchNorm and updates the running statistics (needs n >= 2); train = 0 uses
 * the running statistics. */
void iae_net_forward(iae_net *net, int n, const float *x, int train);

/* z (N, rep_dim) and the reconstruction (N, C, H, W) of the last forward pass;
 * the reconstruction is NULL without a decoder. */
const float *iae_net_z(const iae_net *net);
const float *iae_net_output(const iae_net *net);
long iae_net_input_size(const iae_net *net);  /* C*H*W */
int iae_net_z_size(const iae_net *net);       /* rep_dim */

/* Layout of z as (N, channels, positions), row-major, for losses that act
 * per position. LeNet gives (128, 1). MVTec gives (256, 16), because the
 * reference views z as (256, 4, 4) and its KL softmax runs over the 256
 * channels at each of the 16 positions. MVTec encoder-only with the LSTM
 * gives (4096, 1), because there the reference keeps z as (N, 4096). */
void iae_net_z_layout(const iae_net *net, int *channels, int *positions);

/* Backward pass of the last forward pass. dz (N, rep_dim) is the loss gradient
 * w.r.t. z and dout (N, C, H, W) w.r.t. the reconstruction; either may be NULL.
 * Parameter gradients are written to net->grad (each parameter has one op). */
void iae_net_backward(iae_net *net, int n, const float *x, const float *dz, const float *dout);

/* iae_net_backward that also writes dL/dx (N, C, H, W) of the input into dx,
 * which iae_net_backward skips because training never needs it. */
void iae_net_backward_input(iae_net *net, int n, const float *x, const float *dz, const float *dout, float *dx);

void iae_net_zero_grad(iae_net *net);

/* Select the LSTM's recurrent kernel: impl, and bf16 = 1 to run the fused
 * kernel's recurrent products on a bf16 copy of W_hh (fp32 master weights,
 * fp32 accumulation). No effect on networks without an LSTM. */
iae_status iae_net_set_lstm_kernel(iae_ctx *ctx, iae_net *net, iae_lstm_impl impl, int bf16);

/* Select the LSTM context of evaluation-mode forward passes. Memory needs a
 * state (iae_net_set_memory). No effect without an LSTM. */
iae_status iae_net_set_context(iae_ctx *ctx, iae_net *net, iae_lstm_context context);

/* Store the memory state h, c (Hd each). */
void iae_net_set_memory(iae_net *net, const float *h, const float *c);

/* Copy the LSTM's state after the last step of the last batch-context
 * forward pass of n samples into h and c (Hd each). */
void iae_net_lstm_final_state(const iae_net *net, int n, float *h, float *c);

/* LSTM width Hd, 0 without an LSTM. */
int iae_net_lstm_hidden(const iae_net *net);

/* Refresh derived copies of the parameters (the bf16 W_hh); call after every
 * change to net->param, such as an optimiser step or loading a file. */
void iae_net_params_changed(iae_net *net);

/* Index of the named parameter or buffer, -1 when absent. */
int iae_net_find_param(const iae_net *net, const char *name);
int iae_net_find_buffer(const iae_net *net, const char *name);

/* Copy every parameter and buffer of src whose name and shape also exist in
 * dst, as the reference's weight transfer does. Returns the number copied. */
int iae_net_copy_matching(iae_net *dst, const iae_net *src);

#endif
