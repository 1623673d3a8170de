/* Choosing, while a loop of similar calls runs, between one thread and all
 * of them, by timing both now and then. Threads that wait for each other
 * crawl when other processes keep the CPUs busy (a preempted thread holds
 * every barrier up), and one thread is then many times faster; on an idle
 * machine all threads are. Only for work whose results do not depend on the
 * thread count (lib/infer/infer.h), so switching changes nothing but speed. */
#ifndef MG_AUTOTHREADS_H
#define MG_AUTOTHREADS_H

#include <stdint.h>

#define MG_AUTOTHREADS_SAMPLES 2 /* timed calls per setting in a probe */

typedef struct mg_autothreads {
	int n_max, cur;          /* all threads; the count in use */
	int chosen;              /* the last probe's choice */
	uint64_t calls, next;    /* calls seen; the call at which the next probe starts */
	uint64_t period;         /* calls between probes: 16, doubled up to 1024 while nothing changes */
	int probing;             /* a probe is under way */
	uint64_t shape;          /* the probe's calls all have this shape */
	double ref;              /* the chosen setting's mean time per call of that shape */
	double t1[MG_AUTOTHREADS_SAMPLES], tn[MG_AUTOTHREADS_SAMPLES];
	int k1, kn;              /* samples taken per setting */
} mg_autothreads;

/* Starts with n_max threads (mg_threads_set), n_max >= 1; with 1 it never
 * changes anything. */
void mg_autothreads_init(mg_autothreads *a, int n_max);
/* Reports a call that took seconds, of a given shape (say, the rows it
 * evaluated: only calls of equal shape are compared); may set another
 * thread count (mg_threads_set) for the next calls. A probe alternates 1
 * and n_max threads over the next calls until each has its samples, then
 * keeps the faster by the mean time; probes start after the second call,
 * then every `period` calls, and at once when a call of the probe's shape
 * takes over 3 times the chosen setting's mean (the load changed). */
void mg_autothreads_after(mg_autothreads *a, double seconds, uint64_t shape);

#endif
