/* lib/interop: the strict JSON parser on good and bad texts, the safetensors
 * container written, read back from memory at an odd address and from a
 * stream, its checks, GPT-2's names, and GPT models through safetensors and
 * back with the same bytes for every variant in both layouts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "interop/st_convert.h"
#include "interop/st_json.h"
#include "io/dtype.h"
#include "model/gpt.h"

static void json_ok(const char *text)
{
	mg_st_json v;
	mg_err e;

	if (mg_st_json_parse((const uint8_t *)text, strlen(text), &v, &e)) {
		fprintf(stderr, "json '%s': %s\n", text, e.msg);
		check_failures++;
		return;
	}
	mg_st_json_free(&v);
}

static void json_bad(const char *text, size_t n, const char *msg)
{
	mg_st_json v;
	mg_err e;

	if (!mg_st_json_parse((const uint8_t *)text, n, &v, &e)) {
		fprintf(stderr, "json '%s' was accepted\n", text);
		check_failures++;
		mg_st_json_free(&v);
	} else if (!strstr(e.msg, msg)) {
		fprintf(stderr, "json '%s': '%s' lacks '%s'\n", text, e.msg, msg);
		check_failures++;
	}
}
#define BAD(s, msg) json_bad(s, sizeof s - 1, msg)

static void test_json(void)
{
	mg_st_json v;
	uint64_t x;
	mg_err e;
	const char *t = " {\"a\\u00e9\\ud83d\\ude00\": [0, 18446744073709551615, -1.5e3, true, null, \"\\n\"]} ";

	CHECK_EQ(mg_st_json_parse((const uint8_t *)t, strlen(t), &v, &e), MG_OK);
	CHECK(v.type == MG_ST_JSON_OBJECT && v.count == 1);
	CHECK(v.key_lens[0] == 7 && !memcmp(v.keys[0], "a\xc3\xa9\xf0\x9f\x98\x80", 7));
	CHECK(v.items[0].type == MG_ST_JSON_ARRAY && v.items[0].count == 6);
	CHECK(mg_st_json_u64(&v.items[0].items[0], &x) && x == 0);
	CHECK(mg_st_json_u64(&v.items[0].items[1], &x) && x == UINT64_MAX);
	CHECK(!mg_st_json_u64(&v.items[0].items[2], &x));
	CHECK(v.items[0].items[3].type == MG_ST_JSON_BOOL && v.items[0].items[3].b);
	CHECK(v.items[0].items[5].len == 1 && v.items[0].items[5].s[0] == '\n');
	mg_st_json_free(&v);
	CHECK_EQ(mg_st_json_parse((const uint8_t *)"18446744073709551616", 20, &v, &e), MG_OK);
	CHECK(!mg_st_json_u64(&v, &x)); /* 2^64 does not fit */
	mg_st_json_free(&v);
	json_ok("[]");
	json_ok("{}");
	json_ok("\"\"");
	json_ok("[0.5,1E+2,-0]");
	BAD("{\"a\":1,}", "byte 7: expected a key string");
	BAD("[1,]", "byte 3");
	BAD("{\"a\":1,\"a\":2}", "duplicate name 'a'");
	BAD("{\"b\":1,\"a\":2,\"b\":3}", "duplicate name 'b'");
	BAD("[01]", "expected ',' or ']'");
	BAD("[1.]", "bad number");
	BAD("[.5]", "bad number");
	BAD("[NaN]", "bad number");
	BAD("[\"\x01\"]", "raw control character");
	BAD("[\"\xc0\xaf\"]", "invalid UTF-8"); /* overlong '/' */
	BAD("[\"\xed\xa0\x80\"]", "invalid UTF-8"); /* an encoded surrogate */
	BAD("[\"\\ud800\"]", "without its low half");
	BAD("[\"\\udc00\"]", "lone low surrogate");
	BAD("[\"\\x\"]", "unknown escape");
	BAD("[\"abc", "unterminated string");
	BAD("{} {}", "data after the value");
	BAD("// c\n{}", "bad number");
	BAD("", "unexpected end");
	BAD("tru", "unexpected character");
	BAD("{\"a\" 1}", "expected ':'");
	{
		char deep[200];
		memset(deep, '[', 100);
		memset(deep + 100, ']', 100);
		CHECK_EQ(mg_st_json_parse((const uint8_t *)deep, 200, &v, &e), MG_E_LIMIT);
		CHECK(strstr(e.msg, "nested deeper than 64 levels") != NULL);
	}
	{
		/* the same key a thousand times over a thousand others */
		size_t cap = 64 * 1024, n = 0;
		char *big = malloc(cap);
		n += (size_t)snprintf(big + n, cap - n, "{");
		for (int i = 0; i < 1000; i++)
			n += (size_t)snprintf(big + n, cap - n, "\"k%d\":%d,", i, i);
		n += (size_t)snprintf(big + n, cap - n, "\"k500\":0}");
		json_bad(big, n, "duplicate name 'k500'");
		free(big);
	}
}

/* A file in memory: header + data. */
static uint8_t *make_file(const char *header, const uint8_t *data, size_t dn, size_t *len)
{
	size_t hn = strlen(header);
	uint8_t *b = malloc(8 + hn + dn);

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)hn >> (8 * i));
	memcpy(b + 8, header, hn);
	if (dn)
		memcpy(b + 8 + hn, data, dn);
	*len = 8 + hn + dn;
	return b;
}

static void st_bad(const char *header, size_t dn, const char *msg)
{
	uint8_t data[64] = { 0 }, *b;
	size_t len;
	mg_safetensors st;
	mg_err e;

	b = make_file(header, data, dn, &len);
	if (!mg_safetensors_parse(b, len, &st, &e)) {
		fprintf(stderr, "safetensors '%s' was accepted\n", header);
		check_failures++;
		mg_safetensors_free(&st);
	} else if (!strstr(e.msg, msg)) {
		fprintf(stderr, "safetensors '%s': '%s' lacks '%s'\n", header, e.msg, msg);
		check_failures++;
	}
	free(b);
}

static void test_container(void)
{
	float a[6] = { 1, 2, 3, 4, 5, 6 };
	uint16_t h[3] = { 0x3c00, 0xc000, 0x7bff };
	uint64_t sa[2] = { 2, 3 }, sh[1] = { 3 };
	mg_safetensors st = { 0 }, back;
	char *buf = NULL;
	size_t len = 0;
	uint8_t *odd;
	mg_err e;
	FILE *f;

	CHECK_EQ(mg_safetensors_meta_add(&st, "format", "pt", &e), MG_OK);
	CHECK_EQ(mg_safetensors_meta_add(&st, "say \"hi\"", "a\\b\n", &e), MG_OK);
	CHECK_EQ(mg_safetensors_add(&st, "m", MG_DTYPE_F32, 2, sa, (uint8_t *)a, &e), MG_OK);
	CHECK_EQ(mg_safetensors_add(&st, "h", MG_DTYPE_F16, 1, sh, (uint8_t *)h, &e), MG_OK);
	CHECK_EQ(mg_safetensors_add(&st, "empty", MG_DTYPE_BF16, 2, (uint64_t[]){ 0, 5 }, NULL, &e), MG_OK);
	f = open_memstream(&buf, &len);
	CHECK_EQ(mg_safetensors_write(f, &st, &e), MG_OK);
	fclose(f);
	mg_safetensors_free(&st);
	CHECK_EQ((len - 30) % 8, 0); /* 8 + header (a multiple of 8) + 24 + 6 bytes of data */
	CHECK(!memcmp(buf + 8, "{\"__metadata__\":{\"format\":\"pt\",\"say \\\"hi\\\"\":\"a\\\\b\\u000a\"}", 56));
	/* at an odd address: the data is copied out */
	odd = malloc(len + 1);
	memcpy(odd + 1, buf, len);
	CHECK_EQ(mg_safetensors_parse(odd + 1, len, &back, &e), MG_OK);
	CHECK_EQ(back.n, 3);
	CHECK_EQ(back.data_len, 30);
	{
		const mg_safetensors_tensor *m = mg_safetensors_find(&back, "m"), *x = mg_safetensors_find(&back, "h"),
					    *z = mg_safetensors_find(&back, "empty");
		CHECK(m && m->rank == 2 && m->shape[1] == 3 && m->n == 6 && m->dtype == MG_DTYPE_F32 &&
		      m->begin == 0 && m->end == 24 && !memcmp(m->data, a, 24));
		CHECK(((uintptr_t)m->data & 3) == 0);
		CHECK(x && x->dtype == MG_DTYPE_F16 && x->begin == 24 && !memcmp(x->data, h, 6));
		CHECK(z && z->n == 0 && z->data == NULL && z->begin == 30 && z->end == 30);
	}
	CHECK(mg_safetensors_meta(&back, "say \"hi\"") && !strcmp(mg_safetensors_meta(&back, "say \"hi\""), "a\\b\n"));
	mg_safetensors_free(&back);
	/* from a stream whose size is unknown: the same, and a short one */
	f = fmemopen(buf, len, "rb");
	CHECK_EQ(mg_safetensors_read(f, &back, &e), MG_OK);
	fclose(f);
	mg_safetensors_free(&back);
	f = fmemopen(buf, len - 1, "rb");
	CHECK_EQ(mg_safetensors_read(f, &back, &e), MG_E_TRUNC);
	CHECK(strstr(e.msg, "in tensor 'h'") != NULL);
	fclose(f);
	CHECK_EQ(mg_safetensors_parse((const uint8_t *)buf, len + 0, &back, &e), MG_OK);
	mg_safetensors_free(&back);
	free(odd);
	free(buf);

	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
	       12, "tensor 'b' (bytes 4 to 8) overlaps tensor 'a'");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "a hole in the data: bytes 0 to 4");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the end of the file");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "4 bytes after the end of the data");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "hold 8 bytes, shape x F32 needs 12");
	st_bad("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "unsupported dtype 'F64'");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unknown field 'x'");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, "tensor 'a': no data_offsets");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "dimension 0 is not a non-negative integer");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "end before they begin");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "rank 9 is over 8");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "over 1099511627776 bytes");
	st_bad("{\"__metadata__\":{\"k\":1}}", 0, "the value of 'k' is not a string");
	st_bad("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "an empty tensor name");
	st_bad("[]", 0, "not a JSON object");
	st_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
	       8, "duplicate name 'a'");
	{
		uint8_t b[16] = { 0 };
		mg_safetensors s;
		b[0] = 0x01, b[1] = 0xe1, b[2] = 0xf5, b[3] = 0x05; /* 100,000,001 */
		CHECK_EQ(mg_safetensors_parse(b, 16, &s, &e), MG_E_LIMIT);
		CHECK(strstr(e.msg, "header length 100000001 is over safetensors' limit of 100000000 bytes") != NULL);
		b[0] = 0x10, b[1] = b[2] = b[3] = 0;
		CHECK_EQ(mg_safetensors_parse(b, 16, &s, &e), MG_E_TRUNC);
		CHECK(strstr(e.msg, "header length 16 is past the end of the file (16 bytes)") != NULL);
		CHECK_EQ(mg_safetensors_parse(b, 5, &s, &e), MG_E_TRUNC);
	}
}

static void test_names(void)
{
	char out[MG_GPT2_LAYOUT_NAME_MAX];

	CHECK(!mg_gpt2_layout_export_name("wte", MG_GPT2_LAYOUT_NANOGPT, out) && !strcmp(out, "transformer.wte.weight"));
	CHECK(!mg_gpt2_layout_export_name("wpe", MG_GPT2_LAYOUT_HF, out) && !strcmp(out, "wpe.weight"));
	CHECK(!mg_gpt2_layout_export_name("h.11.attn.time_w", MG_GPT2_LAYOUT_NANOGPT, out) &&
	      !strcmp(out, "transformer.h.11.attn.time_w"));
	CHECK(!mg_gpt2_layout_export_name("lm_head.weight", MG_GPT2_LAYOUT_NANOGPT, out) && !strcmp(out, "lm_head.weight"));
	CHECK(mg_gpt2_layout_export_name("h.0.attn.bias", MG_GPT2_LAYOUT_HF, out) == -1);
	CHECK(mg_gpt2_layout_import_name("transformer.h.3.mlp.c_fc.weight", out) == 1 && !strcmp(out, "h.3.mlp.c_fc.weight"));
	CHECK(mg_gpt2_layout_import_name("h.3.mlp.c_fc.weight", out) == 1 && !strcmp(out, "h.3.mlp.c_fc.weight"));
	CHECK(mg_gpt2_layout_import_name("wte.weight", out) == 1 && !strcmp(out, "wte"));
	CHECK(mg_gpt2_layout_import_name("transformer.ln_f.bias", out) == 1 && !strcmp(out, "ln_f.bias"));
	CHECK(mg_gpt2_layout_import_name("h.0.attn.bias", out) == 0);
	CHECK(mg_gpt2_layout_import_name("transformer.h.7.attn.masked_bias", out) == 0);
	CHECK(mg_gpt2_layout_import_name("transformer.lm_head.weight", out) == -1);
	CHECK(mg_gpt2_layout_import_name("h.01.ln_1.weight", out) == -1);
	CHECK(mg_gpt2_layout_import_name("h.0.ln_3.weight", out) == -1);
	CHECK(mg_gpt2_layout_import_name("wte", out) == -1);
	CHECK(mg_gpt2_layout_conv1d("h.2.attn.c_proj.weight") && mg_gpt2_layout_conv1d("h.2.mlp.c_proj.weight"));
	CHECK(!mg_gpt2_layout_conv1d("h.2.attn.c_proj.bias") && !mg_gpt2_layout_conv1d("lm_head.weight"));
	{
		uint16_t src[35 * 33], dst[35 * 33];
		for (int i = 0; i < 35 * 33; i++)
			src[i] = (uint16_t)i;
		mg_gpt2_layout_transpose((uint8_t *)dst, (const uint8_t *)src, 35, 33, 2);
		for (int r = 0; r < 35; r++)
			for (int c = 0; c < 33; c++)
				if (dst[c * 35 + r] != src[r * 33 + c]) {
					CHECK(0);
					return;
				}
	}
}

/* A model as a checkpoint in memory: written by mg_gpt_write, read back. */
static void model_ckpt(const mg_gpt_config *c, mg_ckpt *ck)
{
	mg_gpt *g;
	mg_kv kv = { 0 };
	mg_ckptw *w;
	mg_err e;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (mg_gpt_create(&g, c, &e) || mg_gpt_init_weights(g, 5) || mg_gpt_config_to_kv(c, &kv, &e) ||
	    mg_ckptw_open(&w, f, &kv, NULL, NULL, 1, &e) || mg_gpt_write(g, w, MG_DTYPE_F32, 0, &e) ||
	    mg_ckptw_close(w, &e)) {
		fprintf(stderr, "model: %s\n", e.msg);
		exit(1);
	}
	fclose(f);
	f = fmemopen(buf, len, "rb");
	if (mg_ckpt_read(f, ck, &e)) {
		fprintf(stderr, "model: %s\n", e.msg);
		exit(1);
	}
	fclose(f);
	free(buf);
	mg_kv_free(&kv);
	mg_gpt_free(g);
}

/* Every variant through both layouts: the same configuration and bytes. */
static void test_round_trip(void)
{
	static const struct {
		uint32_t attention, shift, pos, tie;
	} v[] = {
		{ MG_ATTN_VANILLA, 0, 1, 0 },        { MG_ATTN_TIME_WEIGHTING, 0, 1, 0 }, { MG_ATTN_CIRCULANT, 1, 1, 0 },
		{ MG_ATTN_CIRCULANT, 0, 0, 1 },      { MG_ATTN_TIME_WEIGHTING, 1, 0, 1 }, { MG_ATTN_VANILLA, 0, 1, 1 },
	};

	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		for (int layout = 0; layout < 2; layout++) {
			mg_gpt_config c;
			mg_ckpt ck, back;
			mg_safetensors st;
			mg_st_convert_info info;
			mg_err e;
			mg_gpt_config_default(&c);
			c.n_layer = 2, c.n_head = 2, c.n_embd = 8, c.block_size = 5, c.vocab_size = 11;
			c.attention = v[i].attention, c.time_shift = v[i].shift, c.pos_emb = v[i].pos;
			c.tie_embeddings = v[i].tie;
			model_ckpt(&c, &ck);
			CHECK_EQ(mg_st_convert_from_ckpt(&ck, layout, &st, &e), MG_OK);
			CHECK_EQ(mg_st_convert_to_ckpt(&st, NULL, &back, &info, &e), MG_OK);
			CHECK_EQ(info.layout, layout);
			CHECK(info.from_metadata && !info.n_head_guessed);
			CHECK_EQ(back.n_tensors, ck.n_tensors);
			CHECK_EQ(back.config.n, ck.config.n);
			for (size_t k = 0; k < ck.n_tensors && k < back.n_tensors && !check_failures; k++)
				CHECK(!strcmp(ck.t[k].name, back.t[k].name) && ck.t[k].n == back.t[k].n &&
				      !memcmp(ck.t[k].dims, back.t[k].dims, sizeof ck.t[k].dims) &&
				      !memcmp(ck.t[k].data, back.t[k].data, (size_t)mg_dtype_bytes(ck.t[k].dtype, ck.t[k].n)));
			mg_safetensors_free(&st);
			mg_ckpt_free(&back);
			/* without the metadata the shapes tell the same model, but
			 * for what they cannot tell: dropout 0, heads C/64 or given */
			if (v[i].attention == MG_ATTN_VANILLA && !v[i].shift && v[i].pos) {
				mg_st_convert_opts o;
				mg_gpt_config got;
				mg_st_convert_opts_default(&o);
				o.n_head = 2, o.gelu = MG_GELU_TANH;
				CHECK_EQ(mg_st_convert_from_ckpt(&ck, layout, &st, &e), MG_OK);
				for (size_t m = 0; m < st.n_meta; m++)
					if (!strcmp(st.meta_keys[m], "model"))
						st.meta_vals[m][0] = 'x';
				CHECK_EQ(mg_st_convert_to_ckpt(&st, &o, &back, &info, &e), MG_OK);
				CHECK(!info.from_metadata);
				CHECK_EQ(mg_gpt_config_from_kv(&back.config, &got, &e), MG_OK);
				CHECK(got.n_layer == 2 && got.n_head == 2 && got.n_embd == 8 && got.block_size == 5 &&
				      got.vocab_size == 11 && got.tie_embeddings == c.tie_embeddings && got.dropout_attn == 0.0);
				mg_safetensors_free(&st);
				mg_ckpt_free(&back);
			}
			mg_ckpt_free(&ck);
		}
}

int main(void)
{
	test_json();
	test_container();
	test_names();
	test_round_trip();
	printf("  json, container, names and round trips of 6 variants x 2 layouts\n");
	CHECK_DONE();
}
