/* Error reporting for the mygpt library: functions return an MG_E* code and
 * describe the problem in an mg_err, which the tools print. The library never
 * prints and never exits. */
#ifndef MG_ERR_H
#define MG_ERR_H

#include <stdint.h>

enum {
	MG_OK = 0,
	MG_E_IO,          /* read or write failed; msg carries strerror */
	MG_E_NOMEM,       /* allocation failed */
	MG_E_MAGIC,       /* not a file of the expected kind */
	MG_E_VERSION,     /* unknown major version */
	MG_E_TRUNC,       /* input ended inside a structure */
	MG_E_CRC,         /* checksum mismatch */
	MG_E_LIMIT,       /* a size is over a documented limit */
	MG_E_CORRUPT,     /* a field has an impossible value */
	MG_E_UNSUPPORTED, /* valid but not supported by this build */
	MG_E_INVAL,       /* bad argument or data that cannot be processed */
	MG_E_INTERRUPTED, /* stopped by a signal */
};

#define MG_ERR_MSG 256

/* msg is lower-case, has no trailing full stop and does not name the file:
 * the caller prints "tool: file: msg". */
typedef struct mg_err {
	int code;
	char msg[MG_ERR_MSG];
} mg_err;

/* Sets e (if not NULL) and returns code, so that "return mg_err_set(...)"
 * reads naturally. */
int mg_err_set(mg_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes e->msg with more context ("record 3: " + old message). */
void mg_err_prefix(mg_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A short fixed name for a code ("checksum mismatch"), never NULL. */
const char *mg_err_name(int code);

#endif
