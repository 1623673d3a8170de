/* The streaming encoder: a buffer of unread text, carved into jobs at safe
 * cut points; a batch of jobs is encoded by a pool of threads (each with its
 * own worker) that take jobs in order from a shared counter, then emitted in
 * order. */
#define _GNU_SOURCE /* memmem */
#include "bpe/bpe_stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_ONE (1u << 20)     /* block with one thread */
#define BLOCK_MANY (256u << 10)  /* block with several: smaller, for balance */
#define JOBS_PER_THREAD 4

typedef struct job {
	size_t start, len; /* in the buffer */
	int doc_end;
	mg_ids ids;
	int rc;
	mg_err err;
} job;

typedef struct pool {
	const mg_bpe_encoder *enc;
	mg_bpe_encode_worker **workers;
	job *jobs;
	size_t n_jobs, next;
	const uint8_t *buf;
	uint64_t base; /* file offset of buf[0] */
	pthread_mutex_t lock;
} pool;

static void run_jobs(pool *p, mg_bpe_encode_worker *w)
{
	for (;;) {
		job *j;
		pthread_mutex_lock(&p->lock);
		j = p->next < p->n_jobs ? &p->jobs[p->next++] : NULL;
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return;
		j->ids.n = 0;
		j->rc = mg_bpe_encode_worker_encode(w, p->buf + j->start, j->len, p->base + j->start, &j->ids, &j->err);
	}
}

typedef struct targ {
	pool *p;
	mg_bpe_encode_worker *w;
} targ;

static void *thread_main(void *a)
{
	targ *t = a;
	run_jobs(t->p, t->w);
	return NULL;
}

/* Reads until the buffer holds want bytes or the file ends. */
static int fill(FILE *f, uint8_t **buf, size_t *cap, size_t *len, size_t want, int *eof, mg_err *e)
{
	if (want > *cap) {
		size_t c = *cap ? *cap : 1u << 16;
		uint8_t *nb;
		while (c < want)
			c *= 2;
		nb = realloc(*buf, c);
		if (!nb)
			return mg_err_set(e, MG_E_NOMEM, "out of memory for %zu bytes of text that cannot be cut", want);
		*buf = nb;
		*cap = c;
	}
	while (!*eof && *len < want) {
		size_t got = fread(*buf + *len, 1, want - *len, f);
		*len += got;
		if (got == 0) {
			if (ferror(f))
				return mg_err_set(e, MG_E_IO, "read error: %s", strerror(errno));
			*eof = 1;
		}
	}
	return MG_OK;
}

int mg_bpe_stream_encode(const mg_bpe_encoder *enc, FILE *f, const mg_bpe_stream_opts *o, const mg_bpe_stream_sink *sink,
		   mg_bpe_stream_stats *st, mg_err *e)
{
	uint32_t nt = o->threads ? o->threads : 1;
	size_t block = o->block ? o->block : nt == 1 ? BLOCK_ONE : BLOCK_MANY;
	size_t per_batch = nt == 1 ? 1 : (size_t)nt * JOBS_PER_THREAD;
	size_t margin = mg_bpe_encoder_margin(enc), cap = 0, len = 0, want;
	size_t nocut = 0, sep_from = 0; /* cut points in (0, nocut] and separators before sep_from: none */
	uint8_t *buf = NULL;
	uint64_t base = 0;
	int eof = 0, rc = MG_OK;
	pool p;

	if (o->sep_len > margin)
		margin = o->sep_len;
	memset(&p, 0, sizeof p);
	p.enc = enc;
	pthread_mutex_init(&p.lock, NULL);
	p.workers = calloc(nt, sizeof *p.workers);
	p.jobs = calloc(per_batch, sizeof *p.jobs);
	if (!p.workers || !p.jobs) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint32_t t = 0; t < nt; t++)
		if ((rc = mg_bpe_encode_worker_init(&p.workers[t], enc, e)))
			goto out;
	want = per_batch * block + margin;
	for (;;) {
		size_t pos = 0;

		if ((rc = fill(f, &buf, &cap, &len, want, &eof, e)))
			goto out;
		if (len == 0)
			break;
		/* carve jobs */
		p.n_jobs = 0;
		while (p.n_jobs < per_batch && pos < len) {
			size_t hi = len >= margin ? len - margin : 0, cut = 0, end;
			const uint8_t *s = NULL;
			int doc_end = 0;
			job *j;

			if (o->sep_len) {
				size_t from = sep_from > pos ? sep_from : pos;
				if (from < len)
					s = memmem(buf + from, len - from, o->sep, o->sep_len);
				sep_from = s ? (size_t)(s - buf) : (len >= o->sep_len ? len - o->sep_len + 1 : 0);
			}
			if (s && (size_t)(s - buf) + o->sep_len <= pos + block) {
				end = (size_t)(s - buf) + o->sep_len;
				doc_end = 1;
				sep_from = end;
			} else {
				size_t lim = s ? (size_t)(s - buf) : hi;
				if (lim > hi)
					lim = hi;
				size_t lo = nocut > pos ? nocut : pos;
				if (pos + block < lim && (cut = mg_bpe_encoder_cut(enc, buf, len, lo, pos + block)))
					end = cut;
				else if (lim > pos && (cut = mg_bpe_encoder_cut(enc, buf, len, lo, lim)))
					end = cut;
				else if (s) {
					end = (size_t)(s - buf) + o->sep_len; /* the rest of the document */
					doc_end = 1;
					sep_from = end;
				} else if (eof) {
					end = len;
				} else {
					if (lim > nocut)
						nocut = lim;
					break; /* need more text */
				}
			}
			j = &p.jobs[p.n_jobs++];
			j->start = pos;
			j->len = end - pos;
			j->doc_end = doc_end;
			pos = end;
		}
		if (p.n_jobs == 0) { /* no cut in the whole buffer: read more */
			want = 2 * len > want ? 2 * len : want;
			continue;
		}
		/* encode */
		p.buf = buf;
		p.base = base;
		p.next = 0;
		{
			uint32_t use = nt < p.n_jobs ? nt : (uint32_t)p.n_jobs;
			pthread_t tid[use > 1 ? use - 1 : 1];
			targ ta[use > 1 ? use - 1 : 1];
			uint32_t started = 0;
			for (uint32_t t = 1; t < use; t++) {
				ta[t - 1].p = &p;
				ta[t - 1].w = p.workers[t];
				if (pthread_create(&tid[t - 1], NULL, thread_main, &ta[t - 1]))
					break; /* fewer threads: the rest run here */
				started++;
			}
			run_jobs(&p, p.workers[0]);
			for (uint32_t t = 0; t < started; t++)
				pthread_join(tid[t], NULL);
		}
		/* emit in order */
		for (size_t k = 0; k < p.n_jobs; k++) {
			job *j = &p.jobs[k];
			if (j->rc) {
				*e = j->err;
				rc = j->rc;
				goto out;
			}
			if (j->ids.n && (rc = sink->put(sink->ctx, j->ids.v, j->ids.n, e)))
				goto out;
			if (j->doc_end) {
				st->docs_ended++;
				if (sink->doc_end && (rc = sink->doc_end(sink->ctx, e)))
					goto out;
			}
			st->tokens += j->ids.n;
			st->bytes += j->len;
			if (j->len > st->longest_unit)
				st->longest_unit = j->len;
		}
		memmove(buf, buf + pos, len - pos);
		len -= pos;
		base += pos;
		nocut = nocut > pos ? nocut - pos : 0;
		sep_from = sep_from > pos ? sep_from - pos : 0;
		want = per_batch * block + margin;
		if (want < len + block)
			want = len + block;
	}
out:
	for (uint32_t t = 0; p.workers && t < nt; t++)
		mg_bpe_encode_worker_free(p.workers[t]);
	for (size_t k = 0; p.jobs && k < per_batch; k++)
		mg_ids_free(&p.jobs[k].ids);
	free(p.workers);
	free(p.jobs);
	free(buf);
	pthread_mutex_destroy(&p.lock);
	return rc;
}
