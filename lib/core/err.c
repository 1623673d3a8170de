/* mg_err: how the library tells its callers what went wrong. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mg_err_set(mg_err *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	}
	return code;
}

void mg_err_prefix(mg_err *e, const char *fmt, ...)
{
	char head[MG_ERR_MSG], old[MG_ERR_MSG];
	va_list ap;

	if (!e)
		return;
	memcpy(old, e->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	snprintf(e->msg, sizeof e->msg, "%s%s", head, old);
}

const char *mg_err_name(int code)
{
	switch (code) {
	case MG_OK: return "success";
	case MG_E_IO: return "input/output error";
	case MG_E_NOMEM: return "out of memory";
	case MG_E_MAGIC: return "bad magic";
	case MG_E_VERSION: return "unknown version";
	case MG_E_TRUNC: return "truncated";
	case MG_E_CRC: return "checksum mismatch";
	case MG_E_LIMIT: return "over a size limit";
	case MG_E_CORRUPT: return "corrupt";
	case MG_E_UNSUPPORTED: return "unsupported";
	case MG_E_INVAL: return "invalid";
	case MG_E_INTERRUPTED: return "interrupted";
	}
	return "unknown error";
}
