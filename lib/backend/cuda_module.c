/* Loading the CUDA backend's module (mygpt-cuda.so, built from cuda/) with
 * dlopen, on the first request only: programs that never ask for a GPU
 * never load cuBLAS or the CUDA runtime (hundreds of MB to map at start). */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"

#define MODULE "mygpt-cuda.so"
/* room for a folder of PATH_MAX bytes and a candidate below */
#define PATH_BYTES (PATH_MAX + 32)

/* Where the module is looked for, below the parent of the executable's
 * folder: installed (PREFIX/bin/tool and PREFIX/lib/mygpt/), then the
 * build tree (bin/tool beside build/lib/). */
static const char *const below_prefix[] = { "lib/mygpt/" MODULE, "build/lib/" MODULE };

/* The parent of the running executable's folder with a trailing '/' (of
 * /usr/local/bin/gpt-train: /usr/local/), in dir (of n bytes); 0 when
 * /proc/self/exe cannot be read. The link is the canonical path, without
 * symbolic links, so the parent is its name without the last folder. */
static int exe_prefix(char *dir, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", dir, n - 1);
	char *slash;
	int k;

	if (len <= 0 || (size_t)len >= n - 1)
		return 0;
	dir[len] = 0;
	for (k = 0; k < 2; k++) {
		if (!(slash = strrchr(dir, '/')))
			break; /* the root's parent is itself */
		*slash = 0;
	}
	strcat(dir, "/");
	return 1;
}

/* The module's path in path (of n bytes): MYGPT_CUDA_MODULE when set, else
 * the first candidate below the executable's prefix that exists, else the
 * first candidate (so that the error names where the module belongs). */
static int module_path(char *path, size_t n, mg_err *e)
{
	const char *env = getenv("MYGPT_CUDA_MODULE");
	char prefix[PATH_MAX];
	size_t k;

	if (env && *env) {
		if ((size_t)snprintf(path, n, "%s", env) >= n)
			return mg_err_set(e, MG_E_UNSUPPORTED, "cannot load %s: MYGPT_CUDA_MODULE is too long", MODULE);
		return MG_OK;
	}
	if (!exe_prefix(prefix, sizeof prefix))
		return mg_err_set(e, MG_E_UNSUPPORTED,
				  "cannot load %s: /proc/self/exe is unreadable (set MYGPT_CUDA_MODULE)", MODULE);
	for (k = 0; k < sizeof below_prefix / sizeof *below_prefix; k++) {
		if ((size_t)snprintf(path, n, "%s%s", prefix, below_prefix[k]) >= n)
			continue;
		if (!access(path, F_OK))
			return MG_OK;
	}
	snprintf(path, n, "%s%s", prefix, below_prefix[0]);
	return MG_OK;
}

const mg_backend *mg_backend_cuda(mg_err *e)
{
	/* loaded once and kept: the backend's code and tables live in it */
	static mg_backend_cuda_module_fn *entry;
	char path[PATH_BYTES];
	const char *why;
	void *h;

	if (!entry) {
		if (module_path(path, sizeof path, e))
			return NULL;
		if (!(h = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
			/* dlerror names the file when it is the module itself
			 * ("PATH: cannot open shared object file: ...") */
			why = dlerror();
			if (!why)
				why = "unknown dlopen error";
			else if (!strncmp(why, path, strlen(path)) && !strncmp(why + strlen(path), ": ", 2))
				why += strlen(path) + 2;
			mg_err_set(e, MG_E_UNSUPPORTED, "cannot load %s: %s", path, why);
			return NULL;
		}
		dlerror();
		*(void **)&entry = dlsym(h, MG_BACKEND_CUDA_ENTRY);
		if (!entry) {
			mg_err_set(e, MG_E_UNSUPPORTED, "cannot load %s: no %s in it", path, MG_BACKEND_CUDA_ENTRY);
			dlclose(h);
			return NULL;
		}
	}
	return entry(sizeof(mg_backend), e);
}
