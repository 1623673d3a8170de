/* The thread-count chooser (lib/core/autothreads.c) on simulated timings: it
 * keeps all threads while they are faster, moves to one when a busy
 * machine makes threads crawl, comes back when the machine is idle again,
 * probes less and less often while nothing changes, compares only calls of
 * one shape, and leaves mg_threads_get in step with its choice. */
#include "check.h"

#include "core/autothreads.h"
#include "core/threads.h"

/* A call's time with n threads: quiet, all threads twice as fast; busy,
 * all threads fifty times slower. */
static double cost(int n, int busy) { return busy ? (n == 1 ? 1.0 : 50.0) : (n == 1 ? 2.0 : 1.0); }

/* Runs calls and returns the time they took; *slow counts the calls made
 * with the worse setting. */
static double drive(mg_autothreads *a, int calls, int busy, int *slow)
{
	double total = 0.0;

	for (int i = 0; i < calls; i++) {
		int n = mg_threads_get();
		double t = cost(n, busy);
		CHECK_EQ(n, a->cur);
		total += t;
		*slow += t > cost(busy ? 1 : 2, busy);
		mg_autothreads_after(a, t, 7);
	}
	return total;
}

int main(void)
{
	mg_autothreads a;
	int slow = 0;
	double t;

	mg_autothreads_init(&a, 2);
	CHECK_EQ(mg_threads_get(), 2);
	/* quiet: all threads stay, probes cost a few one-thread calls */
	t = drive(&a, 4000, 0, &slow);
	CHECK_EQ(a.cur, 2);
	CHECK(slow <= 30);
	CHECK(t < 4000 * 1.01);
	CHECK_EQ(a.period, 1024);
	/* busy: the first slow call starts a probe, one thread after it */
	slow = 0;
	t = drive(&a, 5, 1, &slow);
	CHECK_EQ(a.cur, 1);
	CHECK(slow <= 3);
	t = drive(&a, 2000, 1, &slow);
	CHECK_EQ(a.cur, 1);
	slow = 0;
	t = drive(&a, 4000, 1, &slow);
	CHECK_EQ(a.cur, 1);
	CHECK(slow <= 30); /* two slow calls per probe, probes ever rarer */
	CHECK(t < 4000 * 1.0 + 30 * 50.0);
	/* quiet again: back to all threads at the next probe (one thread is
	 * not slower than measured, so nothing hurries it) */
	slow = 0;
	drive(&a, 1100, 0, &slow);
	CHECK_EQ(a.cur, 2);
	CHECK(slow <= 1024 + 4);
	/* calls of another shape restart a probe's samples */
	{
		mg_autothreads b;
		mg_autothreads_init(&b, 2);
		mg_autothreads_after(&b, 1.0, 1); /* call 1: no probe yet */
		for (int i = 0; i < 3; i++) /* shapes alternate: never two alike */
			mg_autothreads_after(&b, cost(b.cur, 1), (uint64_t)(10 + i));
		CHECK(b.probing);
		CHECK_EQ(b.chosen, 2);
	}
	/* one thread available: nothing ever changes */
	{
		mg_autothreads c;
		mg_autothreads_init(&c, 1);
		for (int i = 0; i < 100; i++)
			mg_autothreads_after(&c, 1.0, 1);
		CHECK_EQ(c.cur, 1);
		CHECK_EQ(c.calls, 0);
	}
	mg_threads_set(0);
	CHECK_DONE();
}
