/* Choosing a backend by name: the CPU one always, the CUDA one in builds
 * with MG_HAVE_CUDA (whose module mg_backend_cuda loads, in cuda_module.c,
 * only when it is asked for by name). */
#include <string.h>

#include "backend/backend.h"

int mg_backend_select(const mg_backend **be, const char *name, mg_err *e)
{
	*be = NULL;
	if (!strcmp(name, "cpu")) {
		*be = mg_backend_cpu();
		return MG_OK;
	}
	if (!strcmp(name, "cuda")) {
#ifdef MG_HAVE_CUDA
		*be = mg_backend_cuda(e);
		return *be ? MG_OK : MG_E_UNSUPPORTED;
#else
		return mg_err_set(e, MG_E_UNSUPPORTED, "built without CUDA support");
#endif
	}
	return mg_err_set(e, MG_E_INVAL, "unknown device '%s': expected cpu or cuda", name);
}
