/* Unit tests of the foundation modules: element types, key-value lists, the
 * RNG, the adder permutation and the token-stream writer's checks. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "io/dtype.h"
#include "io/kv.h"
#include "io/tokstream.h"
#include "tasks/adder.h"

static void test_f16(void)
{
	/* every f16 value survives a round trip through f32 */
	for (uint32_t h = 0; h < 65536; h++) {
		float f = mg_dtype_f16_to_f32((uint16_t)h);
		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
			CHECK(f != f); /* NaN stays NaN */
		else if (mg_dtype_f32_to_f16(f) != h) {
			CHECK_EQ(mg_dtype_f32_to_f16(f), h);
			break;
		}
	}
	/* halfway between two f16 values rounds to the even one */
	for (uint32_t h = 0x0400; h < 0x7bff; h += 37) {
		float a = mg_dtype_f16_to_f32((uint16_t)h), b = mg_dtype_f16_to_f32((uint16_t)(h + 1));
		uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
		CHECK_EQ(mg_dtype_f32_to_f16((a + b) / 2), even);
	}
	/* values numpy.float16 gives */
	CHECK_EQ(mg_dtype_f32_to_f16(1.0f), 0x3c00);
	CHECK_EQ(mg_dtype_f32_to_f16(65504.0f), 0x7bff);
	CHECK_EQ(mg_dtype_f32_to_f16(70000.0f), 0x7c00);
	CHECK_EQ(mg_dtype_f32_to_f16(0.1f), 0x2e66);
	CHECK_EQ(mg_dtype_f32_to_f16(-2.5f), 0xc100);
	CHECK_EQ(mg_dtype_f32_to_f16(1e-7f), 0x0002);
	CHECK_EQ(mg_dtype_f32_to_f16(3e-8f), 0x0001);
	CHECK_EQ(mg_dtype_f32_to_f16(2e-8f), 0x0000);
}

static void test_bf16_q8(void)
{
	float x[64], y[64];
	uint8_t enc[64 * 4];

	CHECK_EQ(mg_dtype_f32_to_bf16(1.0f), 0x3f80);
	CHECK_EQ(mg_dtype_f32_to_bf16(mg_f32_from_bits(0x3f808000)), 0x3f80); /* tie to even */
	CHECK_EQ(mg_dtype_f32_to_bf16(mg_f32_from_bits(0x3f818000)), 0x3f82);
	CHECK_EQ(mg_dtype_f32_to_bf16(mg_f32_from_bits(0x3f808001)), 0x3f81);
	for (int i = 0; i < 64; i++)
		x[i] = (float)(i - 30) * 0.37f;
	mg_dtype_encode(MG_DTYPE_Q8, x, 64, enc);
	mg_dtype_decode(MG_DTYPE_Q8, enc, 64, y);
	for (int b = 0; b < 2; b++) {
		float amax = 0;
		for (int i = 0; i < 32; i++)
			amax = fmaxf(amax, fabsf(x[32 * b + i]));
		for (int i = 0; i < 32; i++) /* error at most half a step */
			CHECK(fabsf(y[32 * b + i] - x[32 * b + i]) <= amax / 127 / 2 * 1.0001f);
	}
	CHECK_EQ(mg_dtype_bytes(MG_DTYPE_Q8, 64), 72);
	mg_dtype_encode(MG_DTYPE_F32, x, 3, enc);
	CHECK_EQ(mg_le32_get(enc + 4), mg_f32_bits(x[1]));
}

static void test_kv(void)
{
	mg_kv a = { 0 }, b;
	mg_buf buf = { 0 };
	mg_err e;

	mg_kv_set_int(&a, "n_layer", -3);
	mg_kv_set_float(&a, "lr", 6e-4);
	mg_kv_set_str(&a, "name", "x\0y", 3);
	mg_kv_set_int(&a, "n_layer", 4); /* replaces */
	CHECK_EQ(a.n, 3);
	mg_kv_pack(&a, &buf);
	CHECK_EQ(mg_kv_parse(buf.data, buf.len, &b, &e), MG_OK);
	CHECK_EQ(mg_kv_find(&b, "n_layer")->i, 4);
	CHECK(mg_kv_find(&b, "lr")->f == 6e-4);
	CHECK_EQ(mg_kv_find(&b, "name")->slen, 3);
	CHECK(!memcmp(mg_kv_find(&b, "name")->s, "x\0y", 3));
	CHECK(mg_kv_find(&b, "missing") == NULL);
	mg_kv_free(&b);
	/* every truncation is an error, never a crash */
	for (size_t n = 0; n < buf.len; n++) {
		CHECK(mg_kv_parse(buf.data, n, &b, &e) != MG_OK);
	}
	/* a stray byte is an error */
	mg_buf_u8(&buf, 0);
	CHECK_EQ(mg_kv_parse(buf.data, buf.len, &b, &e), MG_E_CORRUPT);
	/* a bad key is an error */
	buf.data[5] = 'N';
	CHECK_EQ(mg_kv_parse(buf.data, buf.len - 1, &b, &e), MG_E_CORRUPT);
	mg_buf_free(&buf);
	mg_kv_free(&a);
}

static void test_rng(void)
{
	mg_rng r;
	int hist[10] = { 0 };
	double sum = 0, sq = 0;

	/* values of an independent Python implementation of splitmix64 seeding
	 * and xoshiro256** */
	mg_rng_seed(&r, 42);
	CHECK(mg_rng_u64(&r) == 0x15780b2e0c2ec716ull);
	CHECK(mg_rng_u64(&r) == 0x6104d9866d113a7eull);
	CHECK(mg_rng_u64(&r) == 0xae17533239e499a1ull);
	mg_rng_seed(&r, 1);
	for (int i = 0; i < 100000; i++)
		hist[mg_rng_below(&r, 10)]++;
	for (int i = 0; i < 10; i++)
		CHECK(hist[i] > 9500 && hist[i] < 10500);
	for (int i = 0; i < 100000; i++) {
		double z = mg_rng_normal(&r);
		sum += z;
		sq += z * z;
	}
	CHECK(fabs(sum / 100000) < 0.02);
	CHECK(fabs(sq / 100000 - 1) < 0.02);
}

static void test_adder(void)
{
	mg_adder a;
	mg_err e;
	uint32_t tok[10];
	uint8_t mask[10];
	static uint8_t seen[10000];

	CHECK_EQ(mg_adder_init(&a, 2, 0, UINT64_MAX, 1337, &e), MG_OK);
	CHECK_EQ(a.problems, 10000);
	CHECK_EQ(a.test, 500);
	for (uint64_t i = 0; i < a.problems; i++) {
		uint64_t p = mg_adder_problem(&a, i);
		CHECK(p < 10000);
		if (p < 10000)
			seen[p]++;
	}
	for (int i = 0; i < 10000; i++)
		if (seen[i] != 1) {
			CHECK_EQ(seen[i], 1);
			break;
		}
	/* 47 + 85 = 132: 4 7 8 5 then 2 3 1 */
	mg_adder_tokens(&a, 4785, tok, mask);
	{
		uint32_t want[7] = { 4, 7, 8, 5, 2, 3, 1 };
		uint8_t wm[7] = { 0, 0, 0, 0, 1, 1, 1 };
		CHECK(!memcmp(tok, want, sizeof want));
		CHECK(!memcmp(mask, wm, sizeof wm));
	}
	CHECK_EQ(mg_adder_init(&a, 10, 0, UINT64_MAX, 1, &e), MG_E_INVAL);
	CHECK_EQ(mg_adder_init(&a, 1, 101, UINT64_MAX, 1, &e), MG_E_INVAL);
	CHECK_EQ(mg_adder_init(&a, 1, 100, 101, 1, &e), MG_E_INVAL);
	CHECK_EQ(mg_adder_init(&a, 3, 0, UINT64_MAX, 1, &e), MG_OK);
	CHECK_EQ(a.problems, 1000000);
	CHECK_EQ(mg_adder_init(&a, 4, 0, UINT64_MAX, 1, &e), MG_OK);
	CHECK_EQ(a.problems, MG_ADDER_DEFAULT_CAP);
}

static void test_writer_checks(void)
{
	mg_tokstream_header h = mg_tokstream_header_make(10, MG_LAYOUT_EXAMPLES, 0, 3);
	mg_tokstream_writer *w;
	mg_err e;
	uint32_t ids[4] = { 1, 2, 3, 4 }, bad = 10;
	FILE *f = tmpfile();

	CHECK_EQ(mg_tokstream_writer_open(&w, f, &h, NULL, 6, &e), MG_OK);
	CHECK_EQ(mg_tokstream_writer_put(w, &bad, NULL, 1, &e), MG_E_INVAL);
	CHECK(strstr(e.msg, "outside the vocabulary of 10") != NULL);
	CHECK_EQ(mg_tokstream_writer_put(w, ids, NULL, 4, &e), MG_OK);
	mg_tokstream_writer_record(w, &e);
	CHECK_EQ(mg_tokstream_writer_put(w, ids, NULL, 1, &e), MG_E_INVAL); /* record 0 had 4 tokens, not 3 */
	mg_tokstream_writer_free(w);
	h = mg_tokstream_header_make(70000, MG_LAYOUT_STREAM, 0, 0);
	CHECK_EQ(h.id_bytes, 4);
	h.id_bytes = 2;
	CHECK(mg_tokstream_writer_open(&w, f, &h, NULL, 6, &e) != MG_OK);
	fclose(f);
}

int main(void)
{
	test_f16();
	test_bf16_q8();
	test_kv();
	test_rng();
	test_adder();
	test_writer_checks();
	CHECK_DONE();
}
