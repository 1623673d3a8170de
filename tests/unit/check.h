/* Minimal assertions for the C unit tests: each test is a program whose
 * exit status is the verdict; failures print file:line and the values. */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                            \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		long long _a = (long long)(a), _b = (long long)(b);                  \
		if (_a != _b) {                                                      \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, _a, _b); \
			check_failures++;                                            \
		}                                                                    \
	} while (0)

/* |a - b| <= tol * max(1, |b|) */
#define CHECK_CLOSE(a, b, tol)                                                       \
	do {                                                                         \
		double _a = (double)(a), _b = (double)(b);                           \
		if (!(fabs(_a - _b) <= (tol) * fmax(1.0, fabs(_b)))) {               \
			fprintf(stderr, "%s:%d: %s ~ %s failed: %.9g vs %.9g\n", __FILE__, __LINE__, #a, #b, _a, _b); \
			check_failures++;                                            \
		}                                                                    \
	} while (0)

#define CHECK_DONE()                                                                 \
	do {                                                                         \
		if (check_failures) {                                                \
			fprintf(stderr, "%d check(s) failed\n", check_failures);     \
			return 1;                                                    \
		}                                                                    \
		return 0;                                                            \
	} while (0)

#endif
