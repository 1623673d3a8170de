/* Kernel launches on the host (see cuda_runtime.h): the threads of one
 * block at a time as ucontext fibers, run in turn until each finishes or
 * reaches a barrier, which yields back to the scheduler. */
#include "cuda_runtime.h"
#include <ucontext.h>
dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
double mg_emu_xch[1024];
static ucontext_t sched;
static ucontext_t fib[1024];
static int done[1024];
static unsigned cur;
static std::function<void()> *body;
static char *stacks;
#define STACK (256 * 1024)
void mg_emu_barrier() { swapcontext(&fib[cur], &sched); }
static void entry() { (*body)(); done[cur] = 1; }
void mg_fake_launch(mg_cfg c, std::function<void()> fn)
{
	blockDim = c.b, gridDim = c.g;
	unsigned nt = c.b.x;
	body = &fn;
	if (!stacks) stacks = (char *)malloc((size_t)1024 * STACK);
	for (unsigned by = 0; by < c.g.y; by++)
		for (unsigned bx = 0; bx < c.g.x; bx++) {
			blockIdx = dim3(bx, by);
			for (unsigned t = 0; t < nt; t++) {
				getcontext(&fib[t]);
				fib[t].uc_stack.ss_sp = stacks + (size_t)t * STACK;
				fib[t].uc_stack.ss_size = STACK;
				fib[t].uc_link = &sched;
				makecontext(&fib[t], entry, 0);
				done[t] = 0;
			}
			for (;;) {
				unsigned left = 0;
				for (unsigned t = 0; t < nt; t++) {
					if (done[t]) continue;
					cur = t;
					threadIdx = dim3(t);
					swapcontext(&sched, &fib[t]);
					left += !done[t];
				}
				if (!left) break;
				if (left != nt && left) {
					/* some finished while others wait at a barrier: divergent barrier */
					unsigned d = 0; for (unsigned t = 0; t < nt; t++) d += done[t];
					if (d) { fprintf(stderr, "EMU: divergent barrier (%u of %u threads done)\n", d, nt); abort(); }
				}
			}
		}
}
