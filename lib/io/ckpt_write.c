/* Writing a checkpoint held in memory (mg_ckpt), tensors as stored: the
 * output side of tools that edit checkpoints (gpt-convert). */
#include "io/ckpt.h"

int mg_ckpt_write(FILE *f, const mg_ckpt *ck, int level, mg_err *e)
{
	mg_ckptw *w;
	int rc;

	if ((rc = mg_ckptw_open(&w, f, &ck->config, ck->has_tokenizer ? &ck->tk : NULL, ck->has_train ? &ck->train : NULL,
				level, e)))
		return rc;
	for (size_t i = 0; i < ck->n_tensors; i++) {
		const mg_ckpt_tensor *t = &ck->t[i];
		if ((rc = mg_ckptw_tensor_raw(w, t->name, t->role, t->dtype, t->ndim, t->dims, t->data, e))) {
			mg_ckptw_free(w);
			return rc;
		}
	}
	return mg_ckptw_close(w, e);
}
