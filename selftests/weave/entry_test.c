// SPDX-License-Identifier: GPL-2.0
/*
 * The map operations on entries: set, get, stat, delete, clear, count,
 * write and resize, their errors, the limits and generations.
 */
#include <sys/syscall.h>

#include "weave_util.h"

#include "kselftest_harness.h"

FIXTURE(entry) {
	int fd;
	struct weave_api_args api;
	struct weave_info_args info;
	__u64 orig_bytes;	/* max_registry_bytes to restore, or 0 */
};

FIXTURE_SETUP(entry)
{
	self->fd = wv_open_anon(0);
	ASSERT_GE(self->fd, 0) TH_LOG("open+attach: %s", strerror(-self->fd));
	ASSERT_EQ(0, wv_api(self->fd, &self->api));
	ASSERT_EQ(0, wv_info(self->fd, &self->info));
}

FIXTURE_TEARDOWN(entry)
{
	close(self->fd);
	if (self->orig_bytes)
		wv_param_set("max_registry_bytes", self->orig_bytes);
}

TEST_F(entry, set_get)
{
	struct weave_get_args g;
	struct weave_stat_args st;
	char out[32];
	__u64 gen, gen2;

	ASSERT_EQ(0, wv_set(self->fd, 1, "hello", 5, 0, &gen));
	EXPECT_GT(gen, 0);
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(5, g.size);
	EXPECT_EQ(5, g.copied);
	EXPECT_EQ(gen, g.gen);
	EXPECT_STREQ("hello", out);

	/* Replace with a longer, then a shorter value. */
	ASSERT_EQ(0, wv_set(self->fd, 1, "hello, world", 12, 0, &gen2));
	EXPECT_GT(gen2, gen);
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(12, g.size);
	EXPECT_STREQ("hello, world", out);
	ASSERT_EQ(0, wv_set(self->fd, 1, "hi", 2, 0, &gen));
	EXPECT_GT(gen, gen2);
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(2, g.size);
	EXPECT_EQ(2, g.copied);
	EXPECT_STREQ("hi", out);

	/* Keys are independent; large keys work. */
	ASSERT_EQ(0, wv_set(self->fd, ~0ULL, "max", 3, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 1ULL << 63, "top", 3, 0, NULL));
	ASSERT_EQ(0, wv_get(self->fd, ~0ULL, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, memcmp(out, "max", 3));
	ASSERT_EQ(0, wv_get(self->fd, 1ULL << 63, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, memcmp(out, "top", 3));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(2, st.size);
	EXPECT_EQ(3, wv_count(self->fd));
}

TEST_F(entry, sizes)
{
	static const size_t sizes[] = { 1, 63, 64, 65, 1000, 2048, 2049,
					4095, 4096, 4097, 10000, 70000 };
	unsigned char *in, *out;
	struct weave_get_args g;
	size_t i;

	in = malloc(70000);
	out = malloc(70000 + 16);
	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		wv_pattern(in, sizes[i], i);
		ASSERT_EQ(0, wv_set(self->fd, 100 + i, in, sizes[i], 0, NULL));
	}
	/* Each again, after all were set: none overwrote another. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(out, 0xCC, 70000 + 16);
		ASSERT_EQ(0, wv_get(self->fd, 100 + i, out, 70000 + 16, 0, 0,
				    &g));
		EXPECT_EQ(sizes[i], g.size);
		EXPECT_EQ(sizes[i], g.copied);
		EXPECT_TRUE(wv_check_pattern(out, sizes[i], i))
			TH_LOG("size %zu", sizes[i]);
		EXPECT_TRUE(wv_all_bytes(out + sizes[i], 16, 0xCC));
	}
	/* Move each through the other sizes. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t j = ARRAY_SIZE(sizes) - 1 - i;

		wv_pattern(in, sizes[j], 50 + i);
		ASSERT_EQ(0, wv_set(self->fd, 100 + i, in, sizes[j], 0, NULL));
	}
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t j = ARRAY_SIZE(sizes) - 1 - i;

		ASSERT_EQ(0, wv_get(self->fd, 100 + i, out, 70000, 0, 0, &g));
		EXPECT_EQ(sizes[j], g.size);
		EXPECT_TRUE(wv_check_pattern(out, sizes[j], 50 + i));
	}
	free(in);
	free(out);
}

TEST_F(entry, empty_value)
{
	struct weave_stat_args st;
	struct weave_get_args g;
	char out[4] = "zzz";

	ASSERT_EQ(0, wv_set(self->fd, 5, "", 0, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 5, &st));
	EXPECT_EQ(0, st.size);
	ASSERT_EQ(0, wv_get(self->fd, 5, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, g.size);
	EXPECT_EQ(0, g.copied);
	EXPECT_EQ('z', out[0]);
	EXPECT_EQ(1, wv_count(self->fd));
	/* NULL buffer with len 0 */
	ASSERT_EQ(0, wv_set(self->fd, 6, NULL, 0, 0, NULL));
	EXPECT_EQ(2, wv_count(self->fd));
}

TEST_F(entry, key_zero)
{
	char b[4];

	EXPECT_EQ(-EINVAL, wv_set(self->fd, 0, "a", 1, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_get(self->fd, 0, b, sizeof(b), 0, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_write(self->fd, 0, 0, "a", 1, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_resize(self->fd, 0, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_delete(self->fd, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, wv_stat(self->fd, 0, NULL));
	EXPECT_EQ(0, wv_count(self->fd));
}

TEST_F(entry, missing)
{
	char b[4];

	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, NULL));
	EXPECT_EQ(-ENOENT, wv_get(self->fd, 2, b, sizeof(b), 0, 0, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 2, NULL));
	EXPECT_EQ(-ENOENT, wv_write(self->fd, 2, 0, "a", 1, 0, NULL));
	EXPECT_EQ(-ENOENT, wv_resize(self->fd, 2, 1, 0, NULL));
	EXPECT_EQ(-ENOENT, wv_delete(self->fd, 2, 0, NULL));
	/* None of them created it. */
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 2, NULL));
	EXPECT_EQ(1, wv_count(self->fd));
}

TEST_F(entry, stat)
{
	struct weave_stat_args st;
	struct weave_info_args info;
	__u64 gen;
	long ps = wv_page_size();

	ASSERT_EQ(0, wv_set(self->fd, 9, "ninebytes", 9, 0, &gen));
	ASSERT_EQ(0, wv_stat(self->fd, 9, &st));
	EXPECT_EQ(9, st.key);
	EXPECT_EQ(9, st.size);
	EXPECT_EQ(gen, st.gen);
	EXPECT_EQ(gen, st.birth);
	EXPECT_GE(st.slot, 1);
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_LE(st.slot, info.max_entries);
	EXPECT_EQ(info.index_size + (st.slot - 1) * info.entry_span,
		  st.map_offset);
	EXPECT_EQ(0, st.map_offset % ps);
	EXPECT_EQ(info.entry_span, st.map_size);
	EXPECT_LE(st.data_offset + st.size, ps);
	EXPECT_EQ(0, st.data_offset % 64);

	/* A large value starts its view. */
	char *big = calloc(1, 10000);

	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, wv_set(self->fd, 10, big, 10000, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 10, &st));
	EXPECT_EQ(0, st.data_offset);
	EXPECT_EQ(10000, st.size);
	EXPECT_GE(st.map_size, 10000);
	free(big);

	struct weave_stat_args st9;

	ASSERT_EQ(0, wv_stat(self->fd, 9, &st9));
	EXPECT_NE(st9.slot, st.slot);
	EXPECT_NE(st9.map_offset, st.map_offset);
}

TEST_F(entry, short_get)
{
	unsigned char in[100], out[128];
	struct weave_get_args g;
	__u64 gen;

	wv_pattern(in, sizeof(in), 3);
	ASSERT_EQ(0, wv_set(self->fd, 1, in, sizeof(in), 0, &gen));

	memset(out, 0xCC, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, 10, 0, 0, &g));
	EXPECT_EQ(100, g.size);
	EXPECT_EQ(10, g.copied);
	EXPECT_EQ(gen, g.gen);
	EXPECT_EQ(0, memcmp(in, out, 10));
	EXPECT_TRUE(wv_all_bytes(out + 10, sizeof(out) - 10, 0xCC));

	/* len 0: size and gen only, no buffer needed */
	ASSERT_EQ(0, wv_get(self->fd, 1, NULL, 0, 0, 0, &g));
	EXPECT_EQ(100, g.size);
	EXPECT_EQ(0, g.copied);
	EXPECT_EQ(gen, g.gen);

	/* offsets */
	memset(out, 0xCC, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 50, 0, &g));
	EXPECT_EQ(50, g.copied);
	EXPECT_EQ(100, g.size);
	EXPECT_EQ(0, memcmp(in + 50, out, 50));
	EXPECT_TRUE(wv_all_bytes(out + 50, sizeof(out) - 50, 0xCC));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, 5, 95, 0, &g));
	EXPECT_EQ(5, g.copied);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, 3, 95, 0, &g));
	EXPECT_EQ(3, g.copied);
	EXPECT_EQ(0, memcmp(in + 95, out, 3));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 100, 0, &g));
	EXPECT_EQ(0, g.copied);
	EXPECT_EQ(100, g.size);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 1000, 0, &g));
	EXPECT_EQ(0, g.copied);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), ~0ULL, 0, &g));
	EXPECT_EQ(0, g.copied);
	EXPECT_EQ(gen, g.gen);

	/* An absurd len copies only the entry. */
	memset(out, 0xCC, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, ~0ULL, 0, 0, &g));
	EXPECT_EQ(100, g.copied);
	EXPECT_EQ(0, memcmp(in, out, 100));
	EXPECT_TRUE(wv_all_bytes(out + 100, sizeof(out) - 100, 0xCC));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, ~0ULL, 60, 0, &g));
	EXPECT_EQ(40, g.copied);
}

TEST_F(entry, efbig)
{
	__u64 max = self->api.max_entry_size;
	struct weave_stat_args st;
	struct weave_get_args g;
	unsigned char *big;
	size_t maplen = wv_page_align(max + 1);

	/* A buffer that reads as zeros, mostly the zero page. */
	big = mmap(NULL, maplen, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		   MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);

	EXPECT_EQ(-EFBIG, wv_set(self->fd, 1, big, max + 1, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_set(self->fd, 1, big, ~0ULL, 0, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 1, NULL));

	ASSERT_EQ(0, wv_set(self->fd, 1, "abc", 3, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_set(self->fd, 1, big, max + 1, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_resize(self->fd, 1, max + 1, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_resize(self->fd, 1, ~0ULL, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_write(self->fd, 1, 0, big, max + 1, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_write(self->fd, 1, max, "x", 1, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_write(self->fd, 1, 1, big, max, 0, NULL));
	/* offset + len overflows u64 */
	EXPECT_EQ(-EFBIG, wv_write(self->fd, 1, ~0ULL, "xy", 2, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_write(self->fd, 1, ~0ULL - 1, "xyz", 3, 0, NULL));
	EXPECT_EQ(-EFBIG, wv_write(self->fd, 1, 1ULL << 63, big, 1ULL << 63, 0,
				   NULL));
	ASSERT_EQ(0, wv_get(self->fd, 1, NULL, 0, 0, 0, &g));
	EXPECT_EQ(3, g.size);

	/* Exactly the limit is fine, with all three operations. */
	EXPECT_EQ(0, wv_write(self->fd, 1, max - 1, "e", 1, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(max, st.size);
	EXPECT_EQ(0, wv_resize(self->fd, 1, 3, 0, NULL));
	EXPECT_EQ(0, wv_resize(self->fd, 1, max, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(max, st.size);
	EXPECT_EQ(0, wv_set(self->fd, 2, big, max, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 2, &st));
	EXPECT_EQ(max, st.size);
	EXPECT_EQ(0, wv_delete(self->fd, 1, 0, NULL));
	EXPECT_EQ(0, wv_delete(self->fd, 2, 0, NULL));
	munmap(big, maplen);
}

TEST_F(entry, noreplace_nocreate)
{
	struct weave_get_args g;
	char out[8];
	__u64 gen, gen2;

	/* NOREPLACE creates a missing key ... */
	ASSERT_EQ(0, wv_set(self->fd, 1, "first", 5, WEAVE_SET_NOREPLACE,
			    &gen));
	/* ... and refuses an existing one. */
	EXPECT_EQ(-EEXIST, wv_set(self->fd, 1, "second", 6,
				  WEAVE_SET_NOREPLACE, NULL));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(5, g.size);
	EXPECT_EQ(gen, g.gen);
	EXPECT_EQ(0, memcmp(out, "first", 5));

	/* NOCREATE refuses a missing key ... */
	EXPECT_EQ(-ENOENT, wv_set(self->fd, 2, "x", 1, WEAVE_SET_NOCREATE,
				  NULL));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 2, NULL));
	/* ... and replaces an existing one. */
	ASSERT_EQ(0, wv_set(self->fd, 1, "third", 5, WEAVE_SET_NOCREATE,
			    &gen2));
	EXPECT_GT(gen2, gen);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, memcmp(out, "third", 5));

	/* Both at once make no sense. */
	EXPECT_EQ(-EINVAL, wv_set(self->fd, 1, "x", 1, WEAVE_SET_NOREPLACE |
				  WEAVE_SET_NOCREATE, NULL));
	EXPECT_EQ(-EINVAL, wv_set(self->fd, 3, "x", 1, WEAVE_SET_NOREPLACE |
				  WEAVE_SET_NOCREATE, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 3, NULL));
	EXPECT_EQ(1, wv_count(self->fd));
}

TEST_F(entry, delete)
{
	struct weave_stat_args st;
	__u64 gen, dgen;

	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, &gen));
	ASSERT_EQ(0, wv_set(self->fd, 2, "b", 1, 0, NULL));
	EXPECT_EQ(2, wv_count(self->fd));
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, &dgen));
	EXPECT_GT(dgen, gen);
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 1, NULL));
	EXPECT_EQ(-ENOENT, wv_delete(self->fd, 1, 0, NULL));
	EXPECT_EQ(1, wv_count(self->fd));
	EXPECT_EQ(0, wv_stat(self->fd, 2, &st));
}

TEST_F(entry, clear)
{
	struct weave_info_args info;
	__u64 count, gen, k, last = 0;

	ASSERT_EQ(0, wv_clear(self->fd, 0, &count, &gen));
	EXPECT_EQ(0, count);

	for (k = 1; k <= 5; k++)
		ASSERT_EQ(0, wv_set(self->fd, k * 11, "v", 1, 0, &last));
	ASSERT_EQ(0, wv_clear(self->fd, 0, &count, &gen));
	EXPECT_EQ(5, count);
	/* each deleted entry consumes a gen */
	EXPECT_GE(gen, last + 5);
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(0, info.bytes);
	EXPECT_EQ(gen, info.gen);
	for (k = 1; k <= 5; k++)
		EXPECT_EQ(-ENOENT, wv_stat(self->fd, k * 11, NULL));

	/* Usable after. */
	ASSERT_EQ(0, wv_set(self->fd, 11, "again", 5, 0, &last));
	EXPECT_GT(last, gen);
	EXPECT_EQ(1, wv_count(self->fd));
}

TEST_F(entry, count_and_bytes)
{
	struct weave_info_args info;
	__u64 k;

	for (k = 1; k <= 20; k++) {
		ASSERT_EQ(0, wv_set(self->fd, k, "0123456789", k % 10, 0,
				    NULL));
		ASSERT_EQ(0, wv_info(self->fd, &info));
		EXPECT_EQ(k, info.count);
	}
	EXPECT_EQ(2 * 45, info.bytes);
	ASSERT_EQ(0, wv_set(self->fd, 1, "0123456789", 10, 0, NULL));
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(20, info.count);
	EXPECT_EQ(2 * 45 + 9, info.bytes);
	ASSERT_EQ(0, wv_delete(self->fd, 5, 0, NULL));
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(19, info.count);
	EXPECT_EQ(2 * 45 + 9 - 5, info.bytes);
}

TEST_F(entry, write)
{
	unsigned char out[64];
	struct weave_write_args w;
	struct weave_get_args g;
	__u64 gen;

	ASSERT_EQ(0, wv_set(self->fd, 1, "abcdefghij", 10, 0, &gen));

	/* in place */
	ASSERT_EQ(0, wv_write(self->fd, 1, 2, "XYZ", 3, 0, &w));
	EXPECT_EQ(10, w.size);
	EXPECT_GT(w.gen, gen);
	gen = w.gen;
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(10, g.size);
	EXPECT_EQ(0, memcmp(out, "abXYZfghij", 10));

	/* across the end */
	ASSERT_EQ(0, wv_write(self->fd, 1, 8, "1234", 4, 0, &w));
	EXPECT_EQ(12, w.size);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, memcmp(out, "abXYZfgh1234", 12));

	/* past the end: the gap reads as zeros */
	ASSERT_EQ(0, wv_write(self->fd, 1, 20, "END", 3, 0, &w));
	EXPECT_EQ(23, w.size);
	memset(out, 0xCC, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(23, g.copied);
	EXPECT_EQ(0, memcmp(out, "abXYZfgh1234", 12));
	EXPECT_TRUE(wv_all_bytes(out + 12, 8, 0));
	EXPECT_EQ(0, memcmp(out + 20, "END", 3));

	/* len 0: a new gen, no size change, even past the end */
	ASSERT_EQ(0, wv_write(self->fd, 1, 5, "", 0, 0, &w));
	EXPECT_EQ(23, w.size);
	EXPECT_GT(w.gen, gen);
	gen = w.gen;
	ASSERT_EQ(0, wv_write(self->fd, 1, 100, NULL, 0, 0, &w));
	EXPECT_EQ(23, w.size);
	EXPECT_GT(w.gen, gen);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(23, g.size);
	EXPECT_EQ(w.gen, g.gen);

	/* an empty entry grows by write */
	ASSERT_EQ(0, wv_set(self->fd, 2, "", 0, 0, NULL));
	ASSERT_EQ(0, wv_write(self->fd, 2, 3, "Q", 1, 0, &w));
	EXPECT_EQ(4, w.size);
	ASSERT_EQ(0, wv_get(self->fd, 2, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(0, memcmp(out, "\0\0\0Q", 4));
}

/* Writes that move a value from a shared cell to its own pages. */
TEST_F(entry, write_grows_across_pages)
{
	unsigned char *in, *out;
	struct weave_write_args w;
	struct weave_get_args g;

	in = malloc(20000);
	out = malloc(20000);
	ASSERT_NE(NULL, in);
	ASSERT_NE(NULL, out);
	wv_pattern(in, 20000, 8);
	ASSERT_EQ(0, wv_set(self->fd, 1, in, 100, 0, NULL));
	ASSERT_EQ(0, wv_write(self->fd, 1, 100, in + 100, 3000, 0, &w));
	EXPECT_EQ(3100, w.size);
	ASSERT_EQ(0, wv_write(self->fd, 1, 3100, in + 3100, 16900, 0, &w));
	EXPECT_EQ(20000, w.size);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, 20000, 0, 0, &g));
	EXPECT_EQ(20000, g.copied);
	EXPECT_EQ(0, memcmp(in, out, 20000));
	/* a write straddling page boundaries */
	ASSERT_EQ(0, wv_write(self->fd, 1, 4090, "ABCDEFGHIJKL", 12, 0, &w));
	memcpy(in + 4090, "ABCDEFGHIJKL", 12);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, 20000, 0, 0, &g));
	EXPECT_EQ(0, memcmp(in, out, 20000));
	free(in);
	free(out);
}

/*
 * Values larger than a page are read from the caller's pages where they
 * are (pinned, not staged in a kernel buffer): any alignment and length,
 * all or nothing when part of the range is not there, and from a view of
 * the very entry being replaced.
 */
TEST_F(entry, large_value_unaligned_source)
{
	size_t ps = wv_page_size(), len = 3 * ps + 123, wlen = 2 * ps + 5;
	struct weave_stat_args st;
	struct weave_write_args w;
	struct weave_get_args g;
	unsigned char *base, *src, *model, *out, *view;

	base = mmap(NULL, 5 * ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	model = malloc(len);
	out = malloc(len);
	ASSERT_NE(NULL, model);
	ASSERT_NE(NULL, out);
	src = base + ps - 1;
	wv_pattern(src, len, 3);
	memcpy(model, src, len);

	ASSERT_EQ(0, wv_set(self->fd, 1, src, len, 0, NULL));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, len, 0, 0, &g));
	EXPECT_EQ(len, g.copied);
	EXPECT_EQ(0, memcmp(model, out, len));

	/* A write from another odd offset, across three pages of the entry. */
	wv_pattern(base + 1, wlen, 9);
	ASSERT_EQ(0, wv_write(self->fd, 1, 777, base + 1, wlen, 0, &w));
	EXPECT_EQ(len, w.size);
	memcpy(model + 777, base + 1, wlen);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, len, 0, 0, &g));
	EXPECT_EQ(0, memcmp(model, out, len));

	/* The view shows the same bytes, and zeros past the value. */
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	view = mmap(NULL, 4 * ps, PROT_READ, MAP_SHARED, self->fd,
		    st.map_offset);
	ASSERT_NE(MAP_FAILED, view);
	EXPECT_EQ(0, memcmp(model, view + st.data_offset, len));
	munmap(view, 4 * ps);
	munmap(base, 5 * ps);
	free(model);
	free(out);
}

TEST_F(entry, large_value_source_fault)
{
	size_t ps = wv_page_size(), len = 3 * ps;
	unsigned char *base, *old, *out;
	struct weave_get_args g;
	long long gen;

	base = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	old = malloc(len);
	out = malloc(len);
	ASSERT_NE(NULL, old);
	ASSERT_NE(NULL, out);
	wv_pattern(old, len, 5);
	ASSERT_EQ(0, wv_set(self->fd, 1, old, len, 0, NULL));
	gen = wv_gen(self->fd, 1);
	ASSERT_GT(gen, 0);

	/* The third page of the source is not there. */
	wv_pattern(base, 4 * ps, 6);
	ASSERT_EQ(0, mprotect(base + 2 * ps, ps, PROT_NONE));
	EXPECT_EQ(-EFAULT, wv_set(self->fd, 1, base + 10, len, 0, NULL));
	EXPECT_EQ(-EFAULT, wv_write(self->fd, 1, 100, base + 10, 2 * ps, 0,
				    NULL));
	EXPECT_EQ(-EFAULT, wv_set(self->fd, 2, base, len, 0, NULL));

	/* Nothing changed, nothing was created. */
	EXPECT_EQ(gen, wv_gen(self->fd, 1));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, len, 0, 0, &g));
	EXPECT_EQ(len, g.size);
	EXPECT_EQ(0, memcmp(old, out, len));
	EXPECT_EQ(0, wv_gen(self->fd, 2));
	EXPECT_EQ(1, wv_count(self->fd));
	munmap(base, 4 * ps);
	free(old);
	free(out);
}

TEST_F(entry, large_value_from_own_view)
{
	size_t ps = wv_page_size(), len = 4 * ps, shrunk = 2 * ps + 7;
	unsigned char *model, *out, *view;
	struct weave_stat_args st;
	struct weave_get_args g;

	model = malloc(len);
	out = malloc(len);
	ASSERT_NE(NULL, model);
	ASSERT_NE(NULL, out);
	wv_pattern(model, len, 11);
	ASSERT_EQ(0, wv_set(self->fd, 1, model, len, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	ASSERT_EQ(0, st.data_offset);
	view = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd,
		    st.map_offset);
	ASSERT_NE(MAP_FAILED, view);

	/* Shrink the entry to the head of its own bytes. */
	ASSERT_EQ(0, wv_set(self->fd, 1, view, shrunk, 0, NULL));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, len, 0, 0, &g));
	EXPECT_EQ(shrunk, g.size);
	EXPECT_EQ(0, memcmp(model, out, shrunk));

	/* Another key from it, then seal the entry with its own bytes. */
	ASSERT_EQ(0, wv_set(self->fd, 2, view, shrunk, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 1, view, shrunk, WEAVE_SET_SEAL, NULL));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, len, 0, 0, &g));
	EXPECT_EQ(shrunk, g.size);
	EXPECT_EQ(0, memcmp(model, out, shrunk));
	ASSERT_EQ(0, wv_get(self->fd, 2, out, len, 0, 0, &g));
	EXPECT_EQ(shrunk, g.size);
	EXPECT_EQ(0, memcmp(model, out, shrunk));
	munmap(view, len);
	free(model);
	free(out);
}

/*
 * memfd_secret() memory is never pinned (it is not in the kernel's
 * direct map), so a value there is copied the other way; the bytes
 * arrive all the same. 6.1 has memfd_secret() only with
 * secretmem.enable=1 on its command line, which tools/vm/run gives.
 */
TEST_F(entry, large_value_from_secret_memory)
{
	size_t ps = wv_page_size(), len = 3 * ps + 9;
	unsigned char *model, *out, *secret;
	struct weave_write_args w;
	struct weave_get_args g;
	int sfd;

	sfd = syscall(__NR_memfd_secret, 0);
	ASSERT_GE(sfd, 0) TH_LOG("memfd_secret: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(sfd, 4 * ps));
	secret = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, sfd,
		      0);
	ASSERT_NE(MAP_FAILED, secret);
	model = malloc(len);
	out = malloc(len);
	ASSERT_NE(NULL, model);
	ASSERT_NE(NULL, out);
	wv_pattern(model, len, 17);
	memcpy(secret + 3, model, len);

	ASSERT_EQ(0, wv_set(self->fd, 1, secret + 3, len, 0, NULL));
	ASSERT_EQ(0, wv_get(self->fd, 1, out, len, 0, 0, &g));
	EXPECT_EQ(len, g.copied);
	EXPECT_EQ(0, memcmp(model, out, len));
	ASSERT_EQ(0, wv_write(self->fd, 1, 10, secret, 2 * ps, 0, &w));
	memcpy(model + 10, secret, 2 * ps);
	ASSERT_EQ(0, wv_get(self->fd, 1, out, len, 0, 0, &g));
	EXPECT_EQ(0, memcmp(model, out, len));
	munmap(secret, 4 * ps);
	close(sfd);
	free(model);
	free(out);
}

TEST_F(entry, resize)
{
	unsigned char in[10000], out[10000];
	struct weave_stat_args st;
	struct weave_get_args g;
	__u64 gen, gen2;
	size_t i;
	static const size_t seq[][2] = {
		/* from, to: small and large, grow and shrink */
		{ 10, 40 }, { 40, 5 }, { 5, 3000 }, { 3000, 9000 },
		{ 9000, 5000 }, { 5000, 100 }, { 100, 0 }, { 0, 64 },
	};

	wv_pattern(in, sizeof(in), 1);
	ASSERT_EQ(0, wv_set(self->fd, 1, in, 10, 0, &gen));
	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		size_t from = seq[i][0], to = seq[i][1];
		size_t keep = from < to ? from : to;

		ASSERT_EQ(0, wv_resize(self->fd, 1, to, 0, &gen2));
		EXPECT_GT(gen2, gen);
		gen = gen2;
		ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
		EXPECT_EQ(to, st.size);
		EXPECT_EQ(gen, st.gen);
		memset(out, 0xCC, sizeof(out));
		ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
		EXPECT_EQ(to, g.copied);
		/* old bytes stay, new bytes are zero */
		EXPECT_EQ(0, memcmp(in, out, keep)) TH_LOG("%zu -> %zu",
							   from, to);
		EXPECT_TRUE(wv_all_bytes(out + keep, to - keep, 0))
			TH_LOG("%zu -> %zu: new bytes not zero", from, to);
		EXPECT_TRUE(wv_all_bytes(out + to, sizeof(out) - to, 0xCC));
		/* what we expect from now on */
		memset(in + keep, 0, sizeof(in) - keep);
		/* dirty it again so a later grow must clear it */
		if (to) {
			wv_pattern(in, to, i + 2);
			ASSERT_EQ(0, wv_write(self->fd, 1, 0, in, to, 0, NULL));
			ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
			gen = st.gen;
		}
	}

	/* Same size: still a change. */
	ASSERT_EQ(0, wv_resize(self->fd, 1, 64, 0, &gen2));
	EXPECT_GT(gen2, gen);
}

/* Shrink, then grow: the bytes cut off must not come back. */
TEST_F(entry, resize_shrink_grow_zeroes)
{
	unsigned char in[12000], out[12000];
	struct weave_get_args g;
	size_t sizes[] = { 50, 12000 };
	size_t i;

	for (i = 0; i < 2; i++) {
		memset(in, 0xAB, sizeof(in));
		ASSERT_EQ(0, wv_set(self->fd, 1, in, sizes[i], 0, NULL));
		ASSERT_EQ(0, wv_resize(self->fd, 1, sizes[i] / 3, 0, NULL));
		ASSERT_EQ(0, wv_resize(self->fd, 1, sizes[i], 0, NULL));
		ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
		EXPECT_EQ(sizes[i], g.copied);
		EXPECT_TRUE(wv_all_bytes(out, sizes[i] / 3, 0xAB));
		EXPECT_TRUE(wv_all_bytes(out + sizes[i] / 3,
					 sizes[i] - sizes[i] / 3, 0))
			TH_LOG("size %zu", sizes[i]);
		/* A short set, then a write that extends with a gap. */
		ASSERT_EQ(0, wv_set(self->fd, 1, in, 10, 0, NULL));
		ASSERT_EQ(0, wv_write(self->fd, 1, sizes[i] - 1, "z", 1, 0,
				      NULL));
		ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
		EXPECT_EQ(sizes[i], g.copied);
		EXPECT_TRUE(wv_all_bytes(out, 10, 0xAB));
		EXPECT_TRUE(wv_all_bytes(out + 10, sizes[i] - 11, 0));
		EXPECT_EQ('z', out[sizes[i] - 1]);
	}
}

TEST_F(entry, enospc_entries)
{
	__u64 k;
	int fd;

	fd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 4, NULL);
	ASSERT_GE(fd, 0);
	for (k = 1; k <= 4; k++)
		ASSERT_EQ(0, wv_set(fd, k, "x", 1, 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_set(fd, 5, "x", 1, 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_set(fd, 6, "", 0, WEAVE_SET_NOREPLACE, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(fd, 5, NULL));
	EXPECT_EQ(4, wv_count(fd));
	/* replacing and growing existing entries is fine */
	EXPECT_EQ(0, wv_set(fd, 4, "yy", 2, 0, NULL));
	EXPECT_EQ(0, wv_resize(fd, 3, 5000, 0, NULL));
	/* a free slot lets one in */
	ASSERT_EQ(0, wv_delete(fd, 2, 0, NULL));
	EXPECT_EQ(0, wv_set(fd, 5, "x", 1, 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_set(fd, 6, "x", 1, 0, NULL));
	/* clear frees every slot */
	ASSERT_EQ(0, wv_clear(fd, 0, NULL, NULL));
	for (k = 10; k < 14; k++)
		EXPECT_EQ(0, wv_set(fd, k, "x", 1, 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_set(fd, 20, "x", 1, 0, NULL));
	close(fd);
}

/*
 * The per-registry byte limit. Entries are grown with RESIZE, so no user
 * data is copied. When the parameter is writable it is lowered for the
 * test, to bound the memory and time.
 */
TEST_F_TIMEOUT(entry, enospc_bytes, 120)
{
	__u64 orig = 0, limit, max, k, n, rest;
	bool lowered = false;
	struct weave_api_args api;
	struct weave_info_args info;
	int fd;

	if (!wv_param("max_registry_bytes", &orig) &&
	    orig > (8ULL << 20) &&
	    !wv_param_set("max_registry_bytes", (8ULL << 20) + 12345)) {
		lowered = true;
		self->orig_bytes = orig;
	}

	fd = wv_open_anon(0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_api(fd, &api));
	limit = api.max_registry_bytes;
	max = api.max_entry_size;
	ASSERT_GT(limit, 0);
	ASSERT_LE(limit, 1ULL << 34) TH_LOG("limit too large to test");
	if (lowered)
		ASSERT_EQ((8ULL << 20) + 12345, limit);

	/* entries of at most a quarter of the limit, so several are involved */
	if (max > limit / 4)
		max = limit / 4;
	n = limit / max;
	rest = limit % max;
	ASSERT_LT(n + 3, api.max_entries);
	for (k = 1; k <= n; k++) {
		ASSERT_EQ(0, wv_set(fd, k, "", 0, 0, NULL));
		ASSERT_EQ(0, wv_resize(fd, k, max, 0,
				       NULL)) TH_LOG("entry %llu",
							(unsigned long long)k);
	}
	ASSERT_EQ(0, wv_set(fd, n + 1, "", 0, 0, NULL));
	if (rest)
		ASSERT_EQ(0, wv_resize(fd, n + 1, rest, 0, NULL));
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(limit, info.bytes);

	/* Full: every way of adding a byte fails. */
	EXPECT_EQ(-ENOSPC, wv_resize(fd, n + 1, rest + 1, 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_write(fd, n + 1, rest, "x", 1, 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_set(fd, n + 2, "x", 1, 0, NULL));
	/* replacing a value by one a byte longer */
	char *zeros = calloc(1, rest + 1);

	ASSERT_NE(NULL, zeros);
	EXPECT_EQ(-ENOSPC, wv_set(fd, n + 1, zeros, rest + 1, 0, NULL));
	free(zeros);
	/* an empty entry costs no bytes */
	EXPECT_EQ(0, wv_set(fd, n + 3, "", 0, 0, NULL));
	/* writes in place and shrinking still work */
	EXPECT_EQ(0, wv_write(fd, 1, 0, "in place", 8, 0, NULL));
	EXPECT_EQ(0, wv_resize(fd, 1, max - 10, 0, NULL));
	EXPECT_EQ(0, wv_set(fd, n + 2, "0123456789", 10, 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_set(fd, n + 4, "x", 1, 0, NULL));
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(limit, info.bytes);
	/* deleting makes room */
	ASSERT_EQ(0, wv_delete(fd, 2, 0, NULL));
	EXPECT_EQ(0, wv_resize(fd, n + 1, rest + 1, 0, NULL));
	ASSERT_EQ(0, wv_clear(fd, 0, NULL, NULL));
	ASSERT_EQ(0, wv_info(fd, &info));
	EXPECT_EQ(0, info.bytes);
	close(fd);
}

/* Every change takes a gen larger than any before, across keys. */
TEST_F(entry, gens_increase)
{
	struct weave_info_args info;
	struct weave_stat_args st;
	struct weave_write_args w;
	__u64 g[16], birth1;
	int i = 0, j;

	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, &g[i++]));	/* create */
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	birth1 = st.birth;
	EXPECT_EQ(g[0], birth1);
	ASSERT_EQ(0, wv_set(self->fd, 2, "b", 1, 0, &g[i++]));	/* other */
	ASSERT_EQ(0, wv_set(self->fd, 1, "aa", 2, 0, &g[i++]));	/* replace */
	ASSERT_EQ(0, wv_write(self->fd, 1, 0, "c", 1, 0, &w));
	g[i++] = w.gen;
	ASSERT_EQ(0, wv_resize(self->fd, 1, 100, 0, &g[i++]));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(birth1, st.birth);
	EXPECT_EQ(g[i - 1], st.gen);
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, &g[i++]));
	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, &g[i++]));	/* recreate */
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(g[i - 1], st.birth);
	EXPECT_GT(st.birth, birth1);
	ASSERT_EQ(0, wv_delete(self->fd, 2, 0, &g[i++]));
	ASSERT_EQ(0, wv_set(self->fd, 2, "b", 1, 0, &g[i++]));
	ASSERT_EQ(0, wv_clear(self->fd, 0, NULL, &g[i++]));
	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, &g[i++]));
	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, &g[i++]));	/* same */

	for (j = 1; j < i; j++)
		EXPECT_GT(g[j], g[j - 1]) TH_LOG("op %d", j);
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(g[i - 1], info.gen);
}

/* Birth names one life of a key. */
TEST_F(entry, birth)
{
	struct weave_stat_args st, st2;
	__u64 gen;

	ASSERT_EQ(0, wv_set(self->fd, 7, "x", 1, 0, &gen));
	ASSERT_EQ(0, wv_stat(self->fd, 7, &st));
	EXPECT_EQ(gen, st.birth);
	EXPECT_EQ(gen, st.gen);
	ASSERT_EQ(0, wv_set(self->fd, 7, "yy", 2, 0, NULL));
	ASSERT_EQ(0, wv_write(self->fd, 7, 5, "z", 1, 0, NULL));
	ASSERT_EQ(0, wv_resize(self->fd, 7, 3, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 7, &st2));
	EXPECT_EQ(st.birth, st2.birth);
	EXPECT_GT(st2.gen, st2.birth);

	ASSERT_EQ(0, wv_delete(self->fd, 7, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 7, "x", 1, 0, &gen));
	ASSERT_EQ(0, wv_stat(self->fd, 7, &st2));
	EXPECT_EQ(gen, st2.birth);
	EXPECT_GT(st2.birth, st.birth);
}

TEST_HARNESS_MAIN
