/* Converting a GPT checkpoint's element types in place (gpt_convert.h):
 * which tensors are Linear weights comes from the model's layout. */
#include "model/gpt_convert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/gpt_internal.h"

/* The dtype tensor x takes, or MG_E_INVAL. */
static int target(const mg_gpt_tensor *t, const mg_ckpt_tensor *x, const mg_gpt_convert_opts *o, uint32_t *to,
		  mg_err *e)
{
	uint32_t last = x->dims[x->ndim - 1];

	*to = t->decay ? o->linear : o->other;
	if (*to != MG_DTYPE_Q8 || last % MG_Q8_BLOCK == 0)
		return MG_OK;
	if (t->decay)
		return mg_err_set(e, MG_E_INVAL, "tensor '%s' cannot be q8: its last dimension %u is not a multiple of %d",
				  x->name, last, MG_Q8_BLOCK);
	*to = MG_DTYPE_F32;
	return MG_OK;
}

/* Re-encodes x as dtype to, with its errors in *s. */
static int convert(mg_ckpt_tensor *x, uint32_t to, mg_gpt_convert_stat *s, mg_err *e)
{
	float *a = malloc(x->n * sizeof *a), *b = malloc(x->n * sizeof *b);
	uint8_t *data = malloc((size_t)mg_dtype_bytes(to, x->n));
	double amax = 0, sum = 0, worst = 0;

	if (!a || !b || !data) {
		free(a), free(b), free(data);
		return mg_err_set(e, MG_E_NOMEM, "out of memory for tensor '%s'", x->name);
	}
	mg_dtype_decode(x->dtype, x->data, x->n, a);
	mg_dtype_encode(to, a, x->n, data);
	mg_dtype_decode(to, data, x->n, b);
	for (uint64_t i = 0; i < x->n; i++)
		amax = fmax(amax, fabs((double)a[i]));
	for (uint64_t i = 0; amax > 0 && i < x->n; i++) {
		double d = fabs((double)b[i] - (double)a[i]) / amax;
		worst = fmax(worst, d);
		sum += d;
	}
	s->worst = worst;
	s->mean = sum / (double)x->n;
	free(a), free(b);
	free(x->data);
	x->data = data;
	x->dtype = to;
	return MG_OK;
}

int mg_gpt_convert_run(mg_ckpt *ck, const mg_gpt_convert_opts *o, mg_gpt_convert_report *r, mg_err *e)
{
	mg_gpt lay;
	mg_gpt_convert_report rep;
	int rc, drop = o->params_only || o->linear != MG_DTYPE_F32;

	memset(&rep, 0, sizeof rep);
	if (r)
		memset(r, 0, sizeof *r);
	if (o->linear >= MG_DTYPE_COUNT || o->other >= MG_DTYPE_COUNT)
		return mg_err_set(e, MG_E_INVAL, "unknown element type");
	if ((rc = mg_gpt_check_ckpt(ck, e)))
		return rc;
	/* the layout alone (no buffers): which tensors are Linear weights */
	memset(&lay, 0, sizeof lay);
	if ((rc = mg_gpt_config_from_kv(&ck->config, &lay.cfg, e)) || (rc = mg_gpt_layout(&lay, e)))
		goto done;
	for (size_t i = 0; i < ck->n_tensors; i++) {
		uint32_t to;
		if (ck->t[i].role == MG_ROLE_PARAM &&
		    (rc = target(mg_gpt_tensor_find(&lay, ck->t[i].name), &ck->t[i], o, &to, e)))
			goto done;
	}
	if (!(rep.t = calloc(ck->n_tensors ? ck->n_tensors : 1, sizeof *rep.t))) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
		goto done;
	}
	rep.n = ck->n_tensors;
	for (size_t i = 0; i < ck->n_tensors; i++) {
		mg_ckpt_tensor *x = &ck->t[i];
		mg_gpt_convert_stat *s = &rep.t[i];
		uint32_t to = x->dtype;
		snprintf(s->name, sizeof s->name, "%s", x->name);
		s->role = x->role;
		s->from = x->dtype;
		s->n = x->n;
		s->bytes_in = mg_dtype_bytes(x->dtype, x->n);
		rep.bytes_in += s->bytes_in;
		if (x->role != MG_ROLE_PARAM && drop) {
			s->to = x->dtype;
			continue; /* 0 bytes out */
		}
		if (x->role == MG_ROLE_PARAM)
			target(mg_gpt_tensor_find(&lay, x->name), x, o, &to, NULL);
		if (to != x->dtype && (rc = convert(x, to, s, e)))
			goto done;
		s->to = to;
		s->bytes_out = mg_dtype_bytes(to, x->n);
		rep.bytes_out += s->bytes_out;
	}
	if (drop) {
		for (size_t i = 0; i < ck->n_tensors; i++)
			rep.dropped_moments |= ck->t[i].role != MG_ROLE_PARAM;
		mg_ckpt_drop_role(ck, MG_ROLE_ADAM_M);
		mg_ckpt_drop_role(ck, MG_ROLE_ADAM_V);
		if (ck->has_train) {
			mg_kv_free(&ck->train);
			ck->has_train = 0;
			rep.dropped_train = 1;
		}
	}
done:
	free(lay.tensors);
	free(lay.blocks);
	free(lay.lin);
	if (!rc && r)
		*r = rep;
	else
		free(rep.t);
	return rc;
}

void mg_gpt_convert_report_free(mg_gpt_convert_report *r)
{
	free(r->t);
	memset(r, 0, sizeof *r);
}
