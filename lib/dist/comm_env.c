/* Whether an MPI launcher started this process, from the environment it
 * leaves (dist/comm.h). */
#include "dist/comm.h"

#include <stdlib.h>

/* A positive number in the variable, else 0. */
static int env_size(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	v = strtol(s, &end, 10);
	return *end || v < 1 || v > 1 << 24 ? 0 : (int)v;
}

int mg_comm_launched(void)
{
	int n;

	if ((n = env_size("OMPI_COMM_WORLD_SIZE")) || (n = env_size("PMI_SIZE")))
		return n;
	if (getenv("PMIX_RANK"))
		return (n = env_size("SLURM_STEP_NUM_TASKS")) ? n : 1;
	return 0;
}
