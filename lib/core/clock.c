/* The monotonic clock of core/clock.h. */
#include "core/clock.h"

#include <time.h>

double mg_clock_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
