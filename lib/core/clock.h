/* Wall-clock time for rates and progress (tokens per second, estimated
 * time left): a monotonic clock, never the time of day. */
#ifndef MG_CLOCK_H
#define MG_CLOCK_H

/* Seconds on CLOCK_MONOTONIC from an arbitrary origin (fixed for the
 * process): only differences mean anything. */
double mg_clock_now(void);

#endif
