/* The CUDA backend: device selection, memory, the error record, the scratch
 * buffers and the table of lib/backend/backend.h over the kernels of cuda_*.cu,
 * returned by the module's one exported function (mygpt-cuda.so).
 * Everything runs on the default stream, so ops are ordered, and copies to
 * the host wait for the ops before them. */
#include <stdio.h>
#include <string.h>

#include "cuda_common.cuh"

static int ready;                 /* CUDA and cuBLAS initialised */
static cublasHandle_t blas;
static char err_msg[MG_ERR_MSG];  /* the first error, "" when none */
static float *scratch[MG_CU_SCRATCH_COUNT];
static size_t scratch_n[MG_CU_SCRATCH_COUNT];

void mg_cu_fail(const char *what, const char *msg)
{
	if (!err_msg[0])
		snprintf(err_msg, sizeof err_msg, "%s: %s", what, msg);
}

int mg_cu_ok(cudaError_t r, const char *what)
{
	if (r == cudaSuccess)
		return 1;
	mg_cu_fail(what, cudaGetErrorString(r));
	return 0;
}

int mg_cu_blas_ok(cublasStatus_t s, const char *what)
{
	if (s == CUBLAS_STATUS_SUCCESS)
		return 1;
	mg_cu_fail(what, cublasGetStatusString(s));
	return 0;
}

int mg_cu_failed(void) { return err_msg[0] != 0; }
cublasHandle_t mg_cu_blas(void) { return blas; }

float *mg_cu_scratch(int slot, size_t n)
{
	if (scratch_n[slot] >= n)
		return scratch[slot];
	cudaFree(scratch[slot]);
	scratch[slot] = NULL;
	scratch_n[slot] = 0;
	n = n < 1024 ? 1024 : n + n / 4; /* some headroom against regrowing */
	if (!mg_cu_ok(cudaMalloc((void **)&scratch[slot], n * sizeof(float)), "scratch")) {
		scratch[slot] = NULL;
		return NULL;
	}
	scratch_n[slot] = n;
	return scratch[slot];
}

static const char *cu_error(void) { return err_msg[0] ? err_msg : NULL; }

/* An allocation that fails is not a device error: the caller reports it. */
static void *cu_alloc(size_t bytes)
{
	void *p = NULL;

	if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
		cudaGetLastError(); /* not sticky: clear it */
		return NULL;
	}
	if (!mg_cu_ok(cudaMemset(p, 0, bytes), "cudaMemset")) {
		cudaFree(p);
		return NULL;
	}
	return p;
}

static void cu_free(void *p)
{
	if (p)
		mg_cu_ok(cudaFree(p), "cudaFree");
}

static void cu_upload(void *dst, const void *src, size_t bytes)
{
	if (bytes)
		mg_cu_ok(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "upload");
}

static void cu_download(void *dst, const void *src, size_t bytes)
{
	if (bytes && !mg_cu_ok(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "download"))
		memset(dst, 0xff, bytes); /* NaN, never stale values that look right */
}

/* No context (ctx_create is NULL): the model passes ctx NULL, and the
 * kernels keep their scratch in mg_cu_scratch. */
static void cu_attention_forward(mg_backend_ctx *ctx, float *out, float *probs, const float *qkv, const mg_backend_attn *a)
{
	mg_cu_attention_forward(out, probs, qkv, a);
}
static void cu_attention_backward(mg_backend_ctx *ctx, float *dqkv, float *dtw, float *dtw_w, float *dtw_b,
				  float *datt, const float *dout, const float *qkv, const float *probs, const mg_backend_attn *a)
{
	mg_cu_attention_backward(dqkv, dtw, dtw_w, dtw_b, datt, dout, qkv, probs, a);
}

static mg_backend cuda_backend;

/* The KV-cache inference entries (infer_*) stay NULL until they are written
 * (device memory from alloc, queued like the other ops): mg_infer_init
 * answers MG_E_UNSUPPORTED for a model on this backend. */
static void fill_table(mg_backend *t)
{
	t->name = "cuda";
	t->device = 1;
	t->error = cu_error;
	t->alloc = cu_alloc;
	t->free = cu_free;
	t->upload = cu_upload;
	t->download = cu_download;
	t->zero = mg_cu_zero;
	t->scale = mg_cu_scale;
	t->sum_squares = mg_cu_sum_squares;
	t->embed_forward = mg_cu_embed_forward;
	t->embed_backward = mg_cu_embed_backward;
	t->layernorm_forward = mg_cu_layernorm_forward;
	t->layernorm_backward = mg_cu_layernorm_backward;
	t->shift_forward = mg_cu_shift_forward;
	t->shift_backward = mg_cu_shift_backward;
	t->matmul_forward = mg_cu_matmul_forward;
	t->matmul_backward = mg_cu_matmul_backward;
	t->attention_forward = cu_attention_forward;
	t->attention_backward = cu_attention_backward;
	t->gelu_forward = mg_cu_gelu_forward;
	t->gelu_backward = mg_cu_gelu_backward;
	t->residual_forward = mg_cu_residual_forward;
	t->dropout_backward = mg_cu_dropout_backward;
	t->crossentropy_forward = mg_cu_crossentropy_forward;
	t->crossentropy_backward = mg_cu_crossentropy_backward;
	t->adamw_update = mg_cu_adamw_update;
}

/* The module's entry (MG_BACKEND_CUDA_ENTRY in lib/backend/backend.h),
 * called by mg_backend_cuda; the only symbol the module exports (it is
 * compiled with hidden visibility). */
extern "C" __attribute__((visibility("default"))) mg_backend_cuda_module_fn mg_backend_cuda_module;
extern "C" const mg_backend *mg_backend_cuda_module(size_t table_bytes, mg_err *e)
{
	int n = 0;
	cudaError_t r;
	cublasStatus_t s;

	if (table_bytes != sizeof(mg_backend)) {
		mg_err_set(e, MG_E_UNSUPPORTED,
			   "the CUDA module was built for another version of mygpt (table of %zu bytes, not %zu)",
			   sizeof(mg_backend), table_bytes);
		return NULL;
	}
	if (ready)
		return &cuda_backend;
	r = cudaGetDeviceCount(&n);
	if (r == cudaErrorNoDevice || r == cudaErrorInsufficientDriver || (r == cudaSuccess && n == 0)) {
		cudaGetLastError();
		mg_err_set(e, MG_E_UNSUPPORTED, "no CUDA device available");
		return NULL;
	}
	if (r != cudaSuccess) {
		cudaGetLastError();
		mg_err_set(e, MG_E_UNSUPPORTED, "no CUDA device available: %s", cudaGetErrorString(r));
		return NULL;
	}
	/* the runtime's current device (0 unless the program chose another) */
	if ((r = cudaFree(NULL)) != cudaSuccess) {
		mg_err_set(e, MG_E_UNSUPPORTED, "no CUDA device available: %s", cudaGetErrorString(r));
		return NULL;
	}
	if ((s = cublasCreate(&blas)) != CUBLAS_STATUS_SUCCESS) {
		mg_err_set(e, MG_E_UNSUPPORTED, "cublasCreate: %s", cublasGetStatusString(s));
		return NULL;
	}
	/* fp32 products: no TF32 (CUBLAS_DEFAULT_MATH computes sgemm in fp32
	 * unless NVIDIA_TF32_OVERRIDE asks otherwise), no atomics */
	cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH);
	cublasSetAtomicsMode(blas, CUBLAS_ATOMICS_NOT_ALLOWED);
	cublasSetPointerMode(blas, CUBLAS_POINTER_MODE_HOST);
	fill_table(&cuda_backend);
	ready = 1;
	return &cuda_backend;
}
