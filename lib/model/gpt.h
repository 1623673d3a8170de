/* The GPT model (formats/checkpoint.md, "The GPT model"): configuration,
 * minGPT initialisation, checkpoint input and output, and training: forward,
 * masked cross-entropy, backward, gradient clipping and AdamW, run by a
 * backend (lib/backend/backend.h; the CPU one is the reference). */
#ifndef MG_GPT_H
#define MG_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h" /* also MG_ATTN_* and MG_GELU_* */
#include "core/err.h"
#include "io/ckpt.h"
#include "io/kv.h"

/* Limits mg_gpt_config_check enforces (beyond the format's: every tensor at
 * most 2^36 elements). */
#define MG_GPT_LAYERS_MAX 1024u
#define MG_GPT_EMBD_MAX 65536u
#define MG_GPT_BLOCK_MAX 65536u

/* The HEAD keys of a checkpoint, one field each. */
typedef struct mg_gpt_config {
	uint32_t n_layer, n_head, n_embd; /* n_embd (C) divisible by n_head (H) */
	uint32_t block_size;              /* T: the longest context */
	uint32_t vocab_size;              /* V */
	uint32_t attention;               /* MG_ATTN_* */
	uint32_t time_shift;              /* 0 or 1 */
	uint32_t pos_emb;                 /* 0 or 1: learned positional embedding wpe */
	uint32_t gelu;                    /* MG_GELU_* */
	uint32_t tie_embeddings;          /* 0 or 1: the output head is wte (GPT-2's); no lm_head */
	double dropout_embd, dropout_attn, dropout_resid; /* in [0, 1) */
} mg_gpt_config;

/* MyGPT's configuration: 3 layers, 8 heads, 512 wide, block 128, vanilla
 * attention, positional embedding, GELU tanh, dropout 0.1; vocab_size is 0
 * (the caller must set it). */
void mg_gpt_config_default(mg_gpt_config *c);
/* MG_E_INVAL with a message naming the field ("n_embd 100 is not divisible
 * by n_head 8") when c is not a model this library can build. */
int mg_gpt_config_check(const mg_gpt_config *c, mg_err *e);
/* Reads the HEAD keys: every key of the table is required with its type,
 * except tie_embeddings (0 when absent); an unknown key, a missing one, a
 * wrong type or an invalid value is MG_E_CORRUPT naming the key. */
int mg_gpt_config_from_kv(const mg_kv *kv, mg_gpt_config *c, mg_err *e);
/* Sets the HEAD keys in the table's order, tie_embeddings only when it is 1
 * (so an untied model's HEAD is what it was before the key existed);
 * MG_E_NOMEM. */
int mg_gpt_config_to_kv(const mg_gpt_config *c, mg_kv *kv, mg_err *e);
/* Sets every dropout rate (dropout_embd, dropout_attn, dropout_resid) of
 * the HEAD keys kv to p, e.g. of a checkpoint before mg_gpt_load: MG_E_INVAL
 * when p is not in [0, 1), MG_E_NOMEM. */
int mg_gpt_config_set_dropout(mg_kv *kv, double p, mg_err *e);
/* Parameters of the model (elements of all role-0 tensors); c must pass
 * mg_gpt_config_check. */
uint64_t mg_gpt_n_params(const mg_gpt_config *c);
/* One parameter tensor of a configuration: its checkpoint name and shape. */
typedef struct mg_gpt_param {
	char name[MG_TENSOR_NAME_MAX + 1];
	uint32_t ndim, dims[3];
} mg_gpt_param;
/* The parameter tensors of c in the order of formats/checkpoint.md, in a new
 * array of *n (the caller frees it); MG_E_INVAL for a bad config,
 * MG_E_NOMEM. Allocates no parameters. */
int mg_gpt_params_list(const mg_gpt_config *c, mg_gpt_param **list, uint32_t *n, mg_err *e);
/* "vanilla", "time-weighting", "circulant"; "tanh", "erf"; "unknown". */
const char *mg_gpt_attention_name(uint32_t attention);
const char *mg_gpt_gelu_name(uint32_t gelu);

/* ------------------------------------------------------------- the model */

/* A model: its parameters, and once mg_gpt_alloc has run, the buffers of a
 * batch shape. Not thread-safe: one call at a time per model; the calls use
 * the library's threads (lib/core/threads.h), so run one model call at a time in
 * a process. Same inputs, seeds and thread count give bit-identical results. */
typedef struct mg_gpt mg_gpt;

/* A model with zeroed parameters (MG_E_INVAL for a bad config, MG_E_NOMEM)
 * on the CPU backend; _on: on backend be (lib/backend/backend.h). */
int mg_gpt_create(mg_gpt **g, const mg_gpt_config *c, mg_err *e);
int mg_gpt_create_on(mg_gpt **g, const mg_gpt_config *c, const mg_backend *be, mg_err *e);
void mg_gpt_free(mg_gpt *g);
const mg_gpt_config *mg_gpt_config_of(const mg_gpt *g);
const mg_backend *mg_gpt_backend(const mg_gpt *g);
/* MG_DTYPE_F32, or for a quantized model (one loaded from a checkpoint
 * whose Linear weights are f16, bf16 or q8; see mg_gpt_load) the dtype of
 * its first quantized weight. */
uint32_t mg_gpt_weight_dtype(const mg_gpt *g);
/* MG_OK, or for a quantized model MG_E_UNSUPPORTED with a message naming a
 * quantized weight and the way out (gpt-convert --dtype f32): such a model
 * runs forward passes and inference only, on the backend it was loaded on. */
int mg_gpt_trainable(const mg_gpt *g, mg_err *e);

/* Moves the model's parameters (and moments and gradients, when it has
 * them) to backend be, staged through host memory. Only before mg_gpt_alloc
 * (MG_E_INVAL after it); MG_E_NOMEM; MG_E_IO with the backend's error;
 * MG_E_UNSUPPORTED for a quantized model (mg_gpt_trainable). */
int mg_gpt_set_backend(mg_gpt *g, const mg_backend *be, mg_err *e);
/* MG_E_IO with the backend's message when it has met an error (a device
 * fault: the model's values are then undefined), else MG_OK. Cheap: call
 * after each step. */
int mg_gpt_check(const mg_gpt *g, mg_err *e);

/* minGPT's initialisation, a function of seed alone: Linear and embedding
 * weights N(0, 0.02), the residual projections attn.c_proj.weight and
 * mlp.c_proj.weight N(0, 0.02/sqrt(2 n_layer)), biases 0, LayerNorm weights 1
 * and biases 0, time weights 1. Each tensor draws from its own stream keyed
 * by the random seed and its name, so a tensor's values do not depend on which
 * other tensors the configuration has. Clears the AdamW moments. MG_E_NOMEM
 * (host staging for a device backend; never on the CPU); MG_E_UNSUPPORTED
 * for a quantized model. */
int mg_gpt_init_weights(mg_gpt *g, uint64_t seed);

/* A model from a checkpoint read by mg_ckpt_read: the configuration, every
 * parameter and, when the checkpoint has them, the AdamW moments (all or
 * none). A missing tensor, an unexpected one, a shape that differs from the
 * configuration's, or an embedded tokenizer larger than the vocabulary is
 * MG_E_CORRUPT naming it; so is a tensor whose stored values the format
 * forbids (mg_dtype_check).
 *
 * The Linear weights (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj,
 * lm_head) stored as f16, bf16 or q8 make a quantized model: they stay as
 * stored (no fp32 copy; the backend packs them once with infer_pack at
 * mg_gpt_alloc) and run through infer_matmul, each in its own dtype (they
 * may differ); a dtype the backend cannot run (infer_pack_bytes 0, or a
 * device backend) is MG_E_UNSUPPORTED naming the tensor. A quantized model
 * evaluates and samples but does not train (mg_gpt_trainable); its AdamW
 * moments, if the checkpoint has any, are not loaded. Every other tensor,
 * in any stored dtype, is decoded to fp32. */
int mg_gpt_load(mg_gpt **g, const mg_ckpt *ck, mg_err *e);
/* The same on backend be: the tensors are decoded into host staging and
 * uploaded (MG_E_IO with the backend's error). */
int mg_gpt_load_on(mg_gpt **g, const mg_ckpt *ck, const mg_backend *be, mg_err *e);
/* The checks of mg_gpt_load without building the model: MG_OK when ck holds
 * this model (configuration, tokenizer, tensors and shapes, moments all or
 * none, stored values valid), whatever the backend can run. */
int mg_gpt_check_ckpt(const mg_ckpt *ck, mg_err *e);
/* mg_gpt_trainable for the model ck holds, before loading it: MG_OK unless
 * a Linear weight is stored in a dtype other than f32 (a checkpoint that is
 * not a model passes: mg_gpt_load says what is wrong). */
int mg_gpt_ckpt_trainable(const mg_ckpt *ck, mg_err *e);

enum { MG_GPT_WRITE_MOMENTS = 1 }; /* mg_gpt_write flags */
/* Writes the parameters in the order of formats/checkpoint.md as dtype
 * (MG_DTYPE_*; q8 needs every last dimension divisible by 32; a quantized
 * weight asked for its own dtype is written as stored, byte for byte, and
 * in any other dtype decoded first), then with
 * MG_GPT_WRITE_MOMENTS the first and second moments as f32 when the model
 * has them. The caller opened w with the config from mg_gpt_config_to_kv and
 * closes it. With a device backend the buffers are downloaded first
 * (MG_E_NOMEM for the staging, MG_E_IO with the backend's error). */
int mg_gpt_write(const mg_gpt *g, mg_ckptw *w, uint32_t dtype, uint32_t flags, mg_err *e);
int mg_gpt_has_moments(const mg_gpt *g);

/* ------------------------------------------------------------- training */

enum { MG_GPT_ALLOC_TRAIN = 1 }; /* mg_gpt_alloc flags */

/* Allocates, once, everything a forward pass on up to B sequences of up to
 * T <= block_size positions needs (for a quantized model, the backend's
 * packing of its weights, kept across calls), and with MG_GPT_ALLOC_TRAIN
 * everything backward and AdamW need (gradients, zeroed; moments, kept if
 * the model has them, else zeroed). No later call allocates. May be called
 * again to change the shape: gradients and moments are kept. MG_E_INVAL,
 * MG_E_NOMEM; MG_E_UNSUPPORTED for MG_GPT_ALLOC_TRAIN on a quantized model. */
int mg_gpt_alloc(mg_gpt *g, uint32_t B, uint32_t T, uint32_t flags, mg_err *e);

/* Bytes the model holds, by kind. */
typedef struct mg_gpt_memory {
	uint64_t params, grads, moments, activations, scratch, total;
} mg_gpt_memory;
void mg_gpt_memory_get(const mg_gpt *g, mg_gpt_memory *m);

/* Loss of the last forward pass. */
typedef struct mg_gpt_loss {
	double mean;    /* sum / count; 0 when count is 0 */
	double sum;     /* sum of -log p(target) over the targets whose mask is 1 */
	uint64_t count; /* targets whose mask is 1 */
} mg_gpt_loss;

enum { MG_GPT_DROPOUT = 1 }; /* mg_gpt_forward flags: apply the config's dropout */

/* Forward pass on inputs (B,T) (row-major, each id < vocab_size), with
 * B, T at most the allocated shape. With targets (B,T) it computes the
 * cross-entropy loss into *loss (may be NULL): the mean of -log p(target)
 * over the positions whose mask byte is 1 (mask NULL: all), as PyTorch's
 * cross_entropy with ignore_index; a target must be < vocab_size where the
 * mask is 1. With MG_GPT_DROPOUT the config's dropout is applied with masks
 * drawn from dropout_seed by a counter-based hash (mg_hash64; the scheme is
 * in lib/backend/backend.h), so they do not depend on the thread count; the same
 * seed must not be reused for different steps. MG_E_INVAL naming the bad id
 * or shape. */
int mg_gpt_forward(mg_gpt *g, const uint32_t *inputs, const uint32_t *targets, const uint8_t *mask, uint32_t B,
		   uint32_t T, uint32_t flags, uint64_t dropout_seed, mg_gpt_loss *loss, mg_err *e);
/* The logits (B,T,V) of the last forward pass, row-major, in the backend's
 * memory (readable on the host for the CPU backend); valid until the next forward or backward (which overwrites them). */
const float *mg_gpt_logits(const mg_gpt *g);
/* -log p(target) of every position of the last forward pass with targets
 * (B,T); 0 where the mask is 0. Valid until the next forward. */
const float *mg_gpt_token_losses(const mg_gpt *g);

/* Adds scale * d(loss mean)/d(parameter) to the gradients, for the last
 * forward pass, which must have had targets and MG_GPT_ALLOC_TRAIN buffers;
 * once per forward (it turns the logits into their gradient). For
 * micro-batches with counts c_i whose sum is N, scale_i = c_i / N gives the
 * gradient of the loss mean over all of them exactly. With no target
 * counted the gradients are unchanged. Programmer errors assert. */
void mg_gpt_backward(mg_gpt *g, float scale);
void mg_gpt_zero_grad(mg_gpt *g);
/* The global L2 norm of all gradients. */
double mg_gpt_grad_norm(mg_gpt *g);
/* torch.nn.utils.clip_grad_norm_: when the norm exceeds max_norm, scales the
 * gradients by max_norm / (norm + 1e-6). Returns the norm before clipping. */
double mg_gpt_clip_grad_norm(mg_gpt *g, double max_norm);

typedef struct mg_gpt_adamw {
	double lr, beta1, beta2, eps, weight_decay;
} mg_gpt_adamw;
/* lr 3e-4, betas 0.9 and 0.95, eps 1e-8, weight decay 0.1 (minGPT). */
void mg_gpt_adamw_default(mg_gpt_adamw *o);
/* One AdamW step, step t = 1, 2, ... (for bias correction), as
 * torch.optim.AdamW: p -= lr wd p (only for the weight matrices of Linear
 * layers: attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj, lm_head; never
 * biases, LayerNorm, wte, wpe or time weights; with tie_embeddings the one
 * matrix is wte and keeps wte's rule, no decay), then the Adam update with
 * bias-corrected moments. Needs mg_gpt_alloc with MG_GPT_ALLOC_TRAIN. */
void mg_gpt_adamw_step(mg_gpt *g, const mg_gpt_adamw *o, uint64_t t);

#endif
