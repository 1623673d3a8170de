/* How many threads the library's CPU kernels use. The CPU backend runs its
 * loops with OpenMP on this many threads and calls OpenBLAS single-threaded
 * on each thread's own slab, so one pool of threads owns the cores and the
 * two never compete. */
#ifndef MG_THREADS_H
#define MG_THREADS_H

/* Sets the thread count for later calls: n >= 1, or 0 for the CPUs this
 * process may run on. Process-wide; call it while no model call runs.
 * Results are bit-identical for a given count. */
void mg_threads_set(int n);
/* The current count (the CPUs available until mg_threads_set is called). */
int mg_threads_get(void);
/* The CPUs this process may run on (sched_getaffinity), at least 1. */
int mg_threads_available(void);

#endif
