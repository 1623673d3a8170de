/* The thread count shared by the CPU kernels (the CPU backend keeps
 * OpenBLAS itself at one thread: lib/backend/cpu/cpu.c). */
#define _GNU_SOURCE
#include "core/threads.h"

#include <sched.h>

static int n_threads; /* 0: not set yet */

int mg_threads_available(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof set, &set))
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

void mg_threads_set(int n)
{
	n_threads = n > 0 ? n : mg_threads_available();
}

int mg_threads_get(void)
{
	if (!n_threads)
		mg_threads_set(0);
	return n_threads;
}
