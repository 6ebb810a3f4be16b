// SPDX-License-Identifier: GPL-2.0
/*
 * libweave over the kernel: open/close/unlink, the map operations,
 * iteration, views, and one handle shared by threads.
 */
#include <pthread.h>
#include "weave_proc.h"
#include <weave.h>

#include "kselftest_harness.h"

FIXTURE(lib) {
	char name[64];
	struct weave *w;	/* anonymous */
};

FIXTURE_SETUP(lib)
{
	int ret;

	wv_name(self->name, sizeof(self->name), "lib");
	ret = weave_open(NULL, 0, 0600, &self->w);
	ASSERT_EQ(0, ret) TH_LOG("weave_open anon: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(lib)
{
	weave_close(self->w);
	weave_unlink(self->name);
}

TEST_F(lib, open_close_unlink)
{
	struct weave_params p;
	struct weave_info_args info;
	struct weave *a, *b;

	EXPECT_EQ(-ENOENT, weave_open(self->name, 0, 0, &a));
	memset(&p, 0, sizeof(p));
	p.max_entries = 1000;
	ASSERT_EQ(0, weave_open_params(self->name, WEAVE_OPEN_CREATE |
				       WEAVE_OPEN_EXCL, 0640, &p, &a));
	EXPECT_EQ(WEAVE_OPEN_CREATED, p.result);
	EXPECT_GT(p.id, 0);
	ASSERT_EQ(0, weave_info(a, &info));
	EXPECT_EQ(1000, info.max_entries);
	EXPECT_EQ(0640, info.mode);
	EXPECT_EQ(p.id, info.id);
	EXPECT_GE(weave_fd(a), 0);

	EXPECT_EQ(-EEXIST, weave_open(self->name, WEAVE_OPEN_CREATE |
				      WEAVE_OPEN_EXCL, 0600, &b));
	ASSERT_EQ(0, weave_open(self->name, 0, 0, &b));
	ASSERT_EQ(0, weave_set(a, 1, "one", 3));
	EXPECT_EQ(1, weave_has(b, 1));
	weave_close(b);

	/* names */
	EXPECT_EQ(-EINVAL, weave_open("", WEAVE_OPEN_CREATE, 0600, &b));
	EXPECT_EQ(-EINVAL, weave_open("a/b", WEAVE_OPEN_CREATE, 0600, &b));
	EXPECT_EQ(-EINVAL, weave_open(self->name, ~0U, 0600, &b));

	/* unlink: gone by name, the handle lives on */
	EXPECT_EQ(0, weave_unlink(self->name));
	EXPECT_EQ(-ENOENT, weave_unlink(self->name));
	EXPECT_EQ(-ENOENT, weave_open(self->name, 0, 0, &b));
	EXPECT_EQ(1, weave_has(a, 1));
	ASSERT_EQ(0, weave_info(a, &info));
	EXPECT_TRUE(info.flags & WEAVE_INFO_UNLINKED);
	weave_close(a);
	weave_close(NULL);

	/* persistent */
	ASSERT_EQ(0, weave_open(self->name, WEAVE_OPEN_CREATE |
				WEAVE_OPEN_PERSIST, 0600, &a));
	ASSERT_EQ(0, weave_set(a, 2, "kept", 4));
	weave_close(a);
	ASSERT_EQ(0, weave_open(self->name, 0, 0, &a));
	EXPECT_EQ(1, weave_has(a, 2));
	weave_close(a);
	EXPECT_EQ(0, weave_unlink(self->name));
}

TEST_F(lib, read_only)
{
	struct weave *rw, *ro;
	char out[8];

	ASSERT_EQ(0, weave_open(self->name, WEAVE_OPEN_CREATE, 0644, &rw));
	ASSERT_EQ(0, weave_set(rw, 1, "val", 3));
	ASSERT_EQ(0, weave_open(self->name, WEAVE_OPEN_RDONLY, 0, &ro));
	EXPECT_EQ(-EBADF, weave_set(ro, 1, "x", 1));
	EXPECT_EQ(-EBADF, weave_delete(ro, 1));
	EXPECT_EQ(-EBADF, weave_write(ro, 1, 0, "x", 1));
	EXPECT_EQ(-EBADF, weave_resize(ro, 1, 0));
	EXPECT_EQ(-EBADF, weave_clear(ro));
	EXPECT_EQ(3, weave_get(ro, 1, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, "val", 3));
	weave_close(ro);
	weave_close(rw);
}

TEST_F(lib, from_fd)
{
	struct weave_info_args a, b;
	struct weave *w2;
	int fd, ufd;

	ASSERT_EQ(0, weave_set(self->w, 5, "five", 4));
	fd = dup(weave_fd(self->w));
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, weave_from_fd(fd, &w2));
	EXPECT_EQ(fd, weave_fd(w2));
	ASSERT_EQ(0, weave_info(self->w, &a));
	ASSERT_EQ(0, weave_info(w2, &b));
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(1, weave_has(w2, 5));
	weave_close(w2);
	/* weave_close() closed the adopted fd */
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));

	/* an unattached file is refused and left open */
	ufd = wv_dev(O_RDWR);
	ASSERT_GE(ufd, 0);
	EXPECT_GT(0, weave_from_fd(ufd, &w2));
	EXPECT_NE(-1, fcntl(ufd, F_GETFD));
	close(ufd);
	/* so is something that is not /dev/weave */
	ufd = open("/dev/null", O_RDWR);
	ASSERT_GE(ufd, 0);
	EXPECT_GT(0, weave_from_fd(ufd, &w2));
	EXPECT_NE(-1, fcntl(ufd, F_GETFD));
	close(ufd);
}

TEST_F(lib, map_ops)
{
	struct weave_stat_args st;
	struct weave_api_args api;
	char out[32];
	uint64_t gen, gen2;

	ASSERT_EQ(0, weave_probe(&api));
	EXPECT_EQ(WEAVE_API, api.api);

	EXPECT_EQ(0, weave_count(self->w));
	ASSERT_EQ(0, weave_set(self->w, 1, "suh", 3));
	EXPECT_EQ(1, weave_has(self->w, 1));
	EXPECT_EQ(0, weave_has(self->w, 2));
	memset(out, 0, sizeof(out));
	EXPECT_EQ(3, weave_get(self->w, 1, out, sizeof(out), &gen));
	EXPECT_STREQ("suh", out);
	EXPECT_GT(gen, 0);

	/* short buffer: the whole size comes back */
	ASSERT_EQ(0, weave_set(self->w, 2, "0123456789", 10));
	memset(out, 0, sizeof(out));
	EXPECT_EQ(10, weave_get(self->w, 2, out, 4, NULL));
	EXPECT_STREQ("0123", out);
	EXPECT_EQ(10, weave_get(self->w, 2, NULL, 0, NULL));

	EXPECT_EQ(-EEXIST, weave_set_flags(self->w, 1, "x", 1,
					   WEAVE_SET_NOREPLACE, NULL));
	EXPECT_EQ(-ENOENT, weave_set_flags(self->w, 3, "x", 1,
					   WEAVE_SET_NOCREATE, NULL));
	ASSERT_EQ(0, weave_set_flags(self->w, 1, "SUH", 3,
				     WEAVE_SET_NOCREATE, &gen2));
	EXPECT_GT(gen2, gen);
	ASSERT_EQ(0, weave_stat(self->w, 1, &st));
	EXPECT_EQ(gen2, st.gen);
	EXPECT_EQ(3, st.size);

	/* write, read, resize */
	ASSERT_EQ(0, weave_write(self->w, 2, 12, "AB", 2));
	memset(out, 0x7f, sizeof(out));
	EXPECT_EQ(14, weave_get(self->w, 2, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, "0123456789\0\0AB", 14));
	EXPECT_EQ(4, weave_read(self->w, 2, 10, out, 10));
	EXPECT_EQ(0, memcmp(out, "\0\0AB", 4));
	ASSERT_EQ(0, weave_resize(self->w, 2, 5));
	EXPECT_EQ(5, weave_get(self->w, 2, out, sizeof(out), NULL));

	/* errors are -errno */
	EXPECT_EQ(-EINVAL, weave_set(self->w, 0, "x", 1));
	EXPECT_EQ(-ENOENT, weave_get(self->w, 99, out, sizeof(out), NULL));
	EXPECT_EQ(-ENOENT, weave_delete(self->w, 99));
	EXPECT_EQ(-ENOENT, weave_write(self->w, 99, 0, "x", 1));
	EXPECT_EQ(-EFBIG, weave_resize(self->w, 1, api.max_entry_size + 1));

	EXPECT_EQ(2, weave_count(self->w));
	EXPECT_EQ(0, weave_delete(self->w, 1));
	EXPECT_EQ(0, weave_has(self->w, 1));
	EXPECT_EQ(1, weave_count(self->w));
	ASSERT_EQ(0, weave_set(self->w, 7, "", 0));
	EXPECT_EQ(2, weave_clear(self->w));
	EXPECT_EQ(0, weave_count(self->w));
	EXPECT_EQ(0, weave_clear(self->w));
}

#define NK 300

static int count_key(uint64_t key, void *arg)
{
	int *seen = arg;

	if (key < 1 || key > NK)
		return -1000;
	seen[key]++;
	return 0;
}

static int stop_at_ten(uint64_t key, void *arg)
{
	int *n = arg;

	(void)key;
	return ++*n == 10 ? 42 : 0;
}

static int check_entry(uint64_t key, const void *buf, size_t size,
		       uint64_t gen, void *arg)
{
	int *seen = arg;

	if (key < 1 || key > NK || size != key % 50 || !gen)
		return -1000;
	if (!wv_check_pattern(buf, size, key))
		return -1001;
	seen[key]++;
	return 0;
}

TEST_F(lib, iteration)
{
	int seen[NK + 1], n = 0;
	unsigned char buf[64];
	uint64_t k, cursor = 0, keys[16];
	int ret, total = 0;

	for (k = 1; k <= NK; k++) {
		wv_pattern(buf, k % 50, k);
		ASSERT_EQ(0, weave_set(self->w, k, buf, k % 50));
	}
	memset(seen, 0, sizeof(seen));
	ASSERT_EQ(0, weave_foreach_key(self->w, count_key, seen));
	for (k = 1; k <= NK; k++)
		EXPECT_EQ(1, seen[k]) TH_LOG("key %llu",
					     (unsigned long long)k);

	EXPECT_EQ(42, weave_foreach_key(self->w, stop_at_ten, &n));
	EXPECT_EQ(10, n);

	memset(seen, 0, sizeof(seen));
	ASSERT_EQ(0, weave_foreach_entry(self->w, check_entry, seen));
	for (k = 1; k <= NK; k++)
		EXPECT_EQ(1, seen[k]);

	do {
		ret = weave_list(self->w, &cursor, keys, 16);
		ASSERT_GE(ret, 0);
		total += ret;
	} while (cursor);
	EXPECT_EQ(NK, total);
	cursor = 0;
	EXPECT_EQ(-EINVAL, weave_list(self->w, &cursor, keys, 0));
}

#define NSPARSE	1024

/* Slots emptied in runs of more than a batch of 64. */
static bool sparse_gone(uint32_t slot)
{
	return slot <= 256 || (slot > 384 && slot <= 640) || slot > 960;
}

/*
 * weave_list() over long runs of deleted keys' slots: every call before
 * the end has keys, 0 comes only at the end, and every key is met once.
 * This kernel fills each batch, scanning as far as it must; the library's
 * answer to the empty batches the ABI allows is tested on the host
 * (tests/host/libweave_list_test.c).
 */
TEST_F(lib, list_sparse)
{
	static uint32_t slot[NSPARSE + 1];
	static int seen[NSPARSE + 1];
	struct weave_stat_args st;
	uint64_t k, cursor, keys[64];
	int i, n, calls = 0, kept = 0;

	for (k = 1; k <= NSPARSE; k++) {
		ASSERT_EQ(0, weave_set(self->w, k, "v", 1));
		ASSERT_EQ(0, weave_stat(self->w, k, &st));
		slot[k] = st.slot;
	}
	for (k = 1; k <= NSPARSE; k++) {
		if (!sparse_gone(slot[k])) {
			kept++;
			continue;
		}
		ASSERT_EQ(0, weave_delete(self->w, k));
	}
	ASSERT_GT(kept, 0);
	memset(seen, 0, sizeof(seen));
	cursor = 0;
	do {
		n = weave_list(self->w, &cursor, keys, 64);
		ASSERT_GE(n, 0);
		calls++;
		if (!n)
			EXPECT_EQ(0, cursor) TH_LOG("empty batch at call %d",
						    calls);
		for (i = 0; i < n; i++) {
			ASSERT_GE(keys[i], 1);
			ASSERT_LE(keys[i], NSPARSE);
			seen[keys[i]]++;
		}
	} while (cursor && calls <= NSPARSE);
	EXPECT_EQ(0, cursor);
	EXPECT_GE(calls, (kept + 63) / 64);
	for (k = 1; k <= NSPARSE; k++) {
		uint32_t sl = slot[k];

		EXPECT_EQ(sparse_gone(sl) ? 0 : 1, seen[k])
			TH_LOG("key %llu slot %u", (unsigned long long)k, sl);
	}

	/* Nothing left but emptied slots: one call, 0 keys, the end. */
	EXPECT_EQ(kept, weave_clear(self->w));
	cursor = 0;
	EXPECT_EQ(0, weave_list(self->w, &cursor, keys, 1));
	EXPECT_EQ(0, cursor);
}

TEST_F(lib, views)
{
	unsigned char in[20000], out[20000];
	struct weave_view v;

	wv_pattern(in, 10000, 1);
	ASSERT_EQ(0, weave_set(self->w, 1, in, 10000));
	ASSERT_EQ(0, weave_view_map(self->w, 1, &v));
	EXPECT_FALSE(weave_view_stale(&v));
	EXPECT_EQ(10000, weave_view_size(&v));
	EXPECT_EQ(0, memcmp(weave_view_data(&v), in, 10000));
	EXPECT_EQ(10000, weave_view_read(&v, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, in, 10000));

	/* a write in place: same view, new bytes, not stale */
	ASSERT_EQ(0, weave_write(self->w, 1, 500, "NEW", 3));
	memcpy(in + 500, "NEW", 3);
	EXPECT_FALSE(weave_view_stale(&v));
	EXPECT_EQ(0, memcmp(weave_view_data(&v), in, 10000));
	EXPECT_EQ(10000, weave_view_read(&v, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, in, 10000));
	/* a short read gives the whole size */
	EXPECT_EQ(10000, weave_view_read(&v, out, 10));

	/* grow: stale until refreshed */
	ASSERT_EQ(0, weave_resize(self->w, 1, 20000));
	EXPECT_TRUE(weave_view_stale(&v));
	ASSERT_EQ(0, weave_view_refresh(&v));
	EXPECT_FALSE(weave_view_stale(&v));
	EXPECT_EQ(20000, weave_view_size(&v));
	EXPECT_EQ(0, memcmp(weave_view_data(&v), in, 10000));
	EXPECT_TRUE(wv_all_bytes((const char *)weave_view_data(&v) + 10000,
				 10000, 0));

	/* delete: stale, reads fail */
	ASSERT_EQ(0, weave_delete(self->w, 1));
	EXPECT_TRUE(weave_view_stale(&v));
	EXPECT_EQ(-ENOENT, weave_view_read(&v, out, sizeof(out)));
	EXPECT_EQ(-ENOENT, weave_view_refresh(&v));

	/* a recreated key: refresh follows the new life */
	ASSERT_EQ(0, weave_set(self->w, 1, "again", 5));
	EXPECT_TRUE(weave_view_stale(&v));
	ASSERT_EQ(0, weave_view_refresh(&v));
	EXPECT_FALSE(weave_view_stale(&v));
	EXPECT_EQ(5, weave_view_size(&v));
	EXPECT_EQ(0, memcmp(weave_view_data(&v), "again", 5));
	EXPECT_EQ(5, weave_view_read(&v, out, sizeof(out)));
	weave_view_unmap(&v);

	/* a small value that moves out of its cell */
	ASSERT_EQ(0, weave_set(self->w, 2, in, 100));
	ASSERT_EQ(0, weave_view_map(self->w, 2, &v));
	EXPECT_EQ(0, memcmp(weave_view_data(&v), in, 100));
	ASSERT_EQ(0, weave_set(self->w, 2, in, 3000));
	EXPECT_TRUE(weave_view_stale(&v));
	/* the current bytes, or -ESTALE when they left the mapping */
	ssize_t r = weave_view_read(&v, out, sizeof(out));

	EXPECT_TRUE(r == 3000 || r == -ESTALE) TH_LOG("read %zd", r);
	if (r == 3000)
		EXPECT_EQ(0, memcmp(out, in, 3000));
	ASSERT_EQ(0, weave_view_refresh(&v));
	EXPECT_EQ(3000, weave_view_size(&v));
	EXPECT_EQ(0, memcmp(weave_view_data(&v), in, 3000));
	weave_view_unmap(&v);

	EXPECT_EQ(-ENOENT, weave_view_map(self->w, 99, &v));
}

/* weave_view_gen(): the entry's gen as it moves, 0 once its life ends. */
TEST_F(lib, view_gen)
{
	struct weave_stat_args st;
	struct weave_view v;
	uint64_t gen, gen2;
	char out[16];

	ASSERT_EQ(0, weave_set_flags(self->w, 1, "first", 5, 0, &gen));
	ASSERT_EQ(0, weave_view_map(self->w, 1, &v));
	EXPECT_EQ(gen, weave_view_gen(&v));

	/* in place, resized, replaced: the view's gen follows, no refresh */
	ASSERT_EQ(0, weave_write(self->w, 1, 0, "F", 1));
	ASSERT_EQ(0, weave_stat(self->w, 1, &st));
	EXPECT_LT(gen, st.gen);
	EXPECT_EQ(st.gen, weave_view_gen(&v));
	ASSERT_EQ(0, weave_resize(self->w, 1, 8));
	ASSERT_EQ(0, weave_stat(self->w, 1, &st));
	EXPECT_EQ(st.gen, weave_view_gen(&v));
	ASSERT_EQ(0, weave_set_flags(self->w, 1, "second", 6, 0, &gen));
	EXPECT_EQ(gen, weave_view_gen(&v));

	/* the gen around a copy is the gen of the copy */
	gen = weave_view_gen(&v);
	EXPECT_EQ(6, weave_view_read(&v, out, sizeof(out)));
	EXPECT_EQ(gen, weave_view_gen(&v));
	EXPECT_EQ(6, weave_get(self->w, 1, out, sizeof(out), &gen2));
	EXPECT_EQ(gen, gen2);
	/* and it is the one a compare and set wants */
	EXPECT_EQ(0, weave_set_flags(self->w, 1, "third", 5, WEAVE_OP_IF_GEN,
				     &gen));
	EXPECT_EQ(gen, weave_view_gen(&v));

	/* deleted, then created again: 0 until the view follows it */
	ASSERT_EQ(0, weave_delete(self->w, 1));
	EXPECT_EQ(0, weave_view_gen(&v));
	ASSERT_EQ(0, weave_set_flags(self->w, 1, "again", 5, 0, &gen));
	EXPECT_EQ(0, weave_view_gen(&v));
	ASSERT_EQ(0, weave_view_refresh(&v));
	EXPECT_EQ(gen, weave_view_gen(&v));

	weave_view_unmap(&v);
	EXPECT_EQ(0, weave_view_gen(&v));
}

struct thr {
	struct weave *w;
	int idx;
	int err;
};

static void *thread_fn(void *arg)
{
	struct thr *t = arg;
	char val[32], out[32];
	uint64_t k;
	int i;

	for (i = 0; i < 200; i++) {
		k = 1 + t->idx * 1000 + i;
		snprintf(val, sizeof(val), "t%d-%d", t->idx, i);
		if (weave_set(t->w, k, val, strlen(val))) {
			t->err = 1;
			break;
		}
		memset(out, 0, sizeof(out));
		if (weave_get(t->w, k, out, sizeof(out), NULL) !=
		    (ssize_t)strlen(val) || strcmp(out, val)) {
			t->err = 2;
			break;
		}
		if (i % 3 == 0 && weave_delete(t->w, k)) {
			t->err = 3;
			break;
		}
	}
	return NULL;
}

static int fill_x(struct weave *w, uint64_t key, struct weave_view *v,
		  void *arg)
{
	(void)w;
	(void)key;
	memset(weave_view_data_rw(v), *(int *)arg, weave_view_size(v));
	return 7;
}

/* Writable views: only under the exclusive lock, revoked with it. */
TEST_F(lib, views_rw)
{
	struct weave_lock_info li;
	struct weave_view v, r;
	struct weave *w2;
	char buf[64];
	int x = 'x';

	ASSERT_EQ(0, weave_set(self->w, 1, "0123456789", 10));
	EXPECT_EQ(-EPERM, weave_view_map_rw(self->w, 1, &v));
	ASSERT_EQ(0, weave_lock(self->w, 1, WEAVE_LOCK_SHARED, 0));
	EXPECT_EQ(-EPERM, weave_view_map_rw(self->w, 1, &v));
	ASSERT_EQ(0, weave_unlock(self->w, 1, 0));

	ASSERT_EQ(0, weave_reopen(self->w, 0, &w2));
	ASSERT_EQ(0, weave_view_map(w2, 1, &r));
	EXPECT_EQ(NULL, weave_view_data_rw(&r));

	ASSERT_EQ(0, weave_lock(self->w, 1, 0, 0));
	ASSERT_EQ(0, weave_view_map_rw(self->w, 1, &v));
	ASSERT_NE(NULL, weave_view_data_rw(&v));
	EXPECT_EQ(weave_view_data(&v), weave_view_data_rw(&v));
	EXPECT_EQ(10, weave_view_size(&v));
	memcpy(weave_view_data_rw(&v), "abc", 3);
	/* The holder reads its own view; others wait a bounded time. */
	EXPECT_EQ(10, weave_view_read(&v, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc3456789", 10));
	EXPECT_EQ(-EBUSY, weave_view_read(&r, buf, sizeof(buf)));
	EXPECT_EQ(-EBUSY, weave_lock_info(w2, 1, &li));
	EXPECT_EQ(0, weave_view_gen(&r));
	/* A resize by the holder: the view follows on refresh. */
	ASSERT_EQ(0, weave_resize(self->w, 1, 5000));
	EXPECT_TRUE(weave_view_stale(&v));
	ASSERT_EQ(0, weave_view_refresh(&v));
	EXPECT_EQ(5000, weave_view_size(&v));
	((char *)weave_view_data_rw(&v))[4999] = 'z';
	ASSERT_EQ(0, weave_resize(self->w, 1, 10));
	weave_view_unmap(&v);
	ASSERT_EQ(0, weave_unlock(self->w, 1, 0));

	EXPECT_EQ(10, weave_view_read(&r, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc3456789", 10));

	/* weave_with_lock_rw(): the callback's view, its return value. */
	EXPECT_EQ(7, weave_with_lock_rw(self->w, 1, 0, 0, fill_x, &x));
	EXPECT_EQ(10, weave_get(w2, 1, buf, sizeof(buf), NULL));
	EXPECT_EQ(0, memcmp(buf, "xxxxxxxxxx", 10));
	EXPECT_EQ(-ENOENT, weave_with_lock_rw(self->w, 2, 0, 0, fill_x, &x));
	EXPECT_EQ(-EINVAL, weave_with_lock_rw(self->w, 1, WEAVE_LOCK_SHARED,
					      0, fill_x, &x));
	EXPECT_EQ(-EINVAL, weave_with_lock_rw(self->w, 1, 0, 0, NULL, &x));
	/* The lock is free again after each call. */
	ASSERT_EQ(0, weave_lock(w2, 1, WEAVE_LOCK_NONBLOCK, 0));
	ASSERT_EQ(0, weave_unlock(w2, 1, 0));
	weave_view_unmap(&r);
	weave_close(w2);
}

TEST_F(lib, threads)
{
	struct thr t[4];
	pthread_t th[4];
	int i;

	for (i = 0; i < 4; i++) {
		t[i] = (struct thr){ .w = self->w, .idx = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, thread_fn, &t[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, t[i].err) TH_LOG("thread %d", i);
	}
	/* 200 per thread, every third deleted */
	EXPECT_EQ(4 * (200 - 67), weave_count(self->w));
}

/* The seed's example with the library: set here, get in another process. */
TEST_F(lib, seed_example)
{
	struct weave_params p;
	struct weave *w;
	pid_t pid;

	memset(&p, 0, sizeof(p));
	p.max_entries = 1000;
	ASSERT_EQ(0, weave_open_params(self->name, WEAVE_OPEN_CREATE, 0600,
				       &p, &w));
	ASSERT_EQ(0, weave_set(w, 1, "suh", 3));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct weave *cw;
		char out[8] = { 0 };

		if (weave_open(self->name, 0, 0, &cw))
			_exit(10);
		if (weave_get(cw, 1, out, sizeof(out), NULL) != 3 ||
		    strcmp(out, "suh"))
			_exit(11);
		weave_close(cw);
		_exit(0);
	}
	EXPECT_EQ(0, wv_wait_pid(pid));
	weave_close(w);
}

TEST_HARNESS_MAIN
