/* A host stand-in for the few parts of the CUDA runtime that cuda/*.cu use,
 * so that the kernels run on a machine without a GPU (tests/cuda/emu/run.sh):
 * memory is host memory, a launch runs the blocks one after another and the
 * threads of a block as fibers (emu.cpp), __syncthreads and warp shuffles
 * switch between them. For checking the kernels' logic and indexing against
 * the CPU backend only: it says nothing about speed, the GPU's rounding or
 * its limits. */
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <functional>
#include <vector>
#include <memory>
struct dim3 { unsigned x, y, z; dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {} };
typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorNoDevice = 100, cudaErrorInsufficientDriver = 35, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost };
#define __global__
#define __device__
#define __shared__ static
extern dim3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
void mg_emu_barrier();
extern double mg_emu_xch[1024];
inline void __syncthreads() { mg_emu_barrier(); }
template <typename F> inline F __shfl_xor_sync(unsigned, F v, int o)
{
	mg_emu_xch[threadIdx.x] = (double)v;
	mg_emu_barrier();
	F r = (F)mg_emu_xch[threadIdx.x ^ o];
	mg_emu_barrier();
	return r;
}
struct mg_cfg { dim3 g, b; mg_cfg(dim3 a, dim3 c) : g(a), b(c) {} };
void mg_fake_launch(mg_cfg c, std::function<void()> fn);
inline cudaError_t cudaMalloc(void **p, size_t n) { *p = aligned_alloc(256, (n + 255) / 256 * 256); return *p ? 0 : 2; }
inline cudaError_t cudaFree(void *p) { free(p); return 0; }
inline cudaError_t cudaMemset(void *p, int v, size_t n) { memset(p, v, n); return 0; }
inline cudaError_t cudaMemsetAsync(void *p, int v, size_t n, int) { memset(p, v, n); return 0; }
inline cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind) { memcpy(d, s, n); return 0; }
inline cudaError_t cudaGetLastError() { return 0; }
inline const char *cudaGetErrorString(cudaError_t) { return "emulated error"; }
inline cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return 0; }
