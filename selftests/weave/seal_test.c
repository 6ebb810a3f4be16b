// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed entries (WEAVE_SET_SEAL): their bytes and size never change
 * while they live (EPERM), delete still works, the seal shows in STAT
 * and the index, and a view of a sealed entry keeps reading the same
 * bytes after a delete, a clear, a reuse of its slot or a fork, without
 * ever faulting.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "weave_util.h"
#include "weave_proc.h"

#include "kselftest_harness.h"

#define SMALL		100
#define LARGE		(3 * 4096 + 500)

FIXTURE(seal) {
	int fd;
	unsigned char val[LARGE], other[LARGE];
};

FIXTURE_SETUP(seal)
{
	struct weave_api_args api;

	self->fd = wv_open_anon(0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, wv_api(self->fd, &api));
	ASSERT_TRUE(api.features & WEAVE_FEATURE_SEAL);
	wv_pattern(self->val, sizeof(self->val), 7);
	wv_pattern(self->other, sizeof(self->other), 8);
}

FIXTURE_TEARDOWN(seal)
{
	close(self->fd);
}

/* Map the whole span of @key's view; *st gets its STAT. */
static const unsigned char *map_view(int fd, __u64 key,
				     struct weave_stat_args *st)
{
	void *p;

	if (wv_stat(fd, key, st))
		return NULL;
	p = mmap(NULL, st->map_size, PROT_READ, MAP_SHARED, fd,
		 st->map_offset);
	return p == MAP_FAILED ? NULL : p;
}

/* The whole value of @key into @buf: its size, or -errno. */
static long get_all(int fd, __u64 key, void *buf, size_t len)
{
	struct weave_get_args g;
	int ret = wv_get(fd, key, buf, len, 0, 0, &g);

	return ret ? ret : (long)g.copied;
}

/* 0 when the @len bytes at @p read back as @want without a fault. */
static int view_holds(const unsigned char *p, const void *want, size_t len)
{
	static unsigned char got[LARGE];
	int sig = wv_probe_copy(got, p, len);

	return sig ? -sig : memcmp(got, want, len) ? 1 : 0;
}

TEST_F(seal, stat_and_index)
{
	struct weave_stat_args st;
	const struct weave_slot *s;
	unsigned char raw[80];
	size_t isize;
	void *index;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, SMALL, WEAVE_SET_SEAL,
			    NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, self->val, SMALL, 0, NULL));

	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(WEAVE_SLOT_USED | WEAVE_SLOT_SEALED, st.slot_flags);
	EXPECT_EQ(SMALL, st.size);
	/* A sealed entry has pages of its own, even when small. */
	EXPECT_EQ(0, st.data_offset);
	ASSERT_EQ(0, wv_stat(self->fd, 2, &st));
	EXPECT_EQ(WEAVE_SLOT_USED, st.slot_flags);

	index = wv_map_index(self->fd, &isize);
	ASSERT_NE(NULL, index);
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	s = wv_slot(index, st.slot);
	EXPECT_EQ(WEAVE_SLOT_USED | WEAVE_SLOT_SEALED, s->flags);
	EXPECT_EQ(1, s->key);
	munmap(index, isize);

	/* The first STAT size knows no slot_flags, and gets none. */
	memset(raw, 0xa5, sizeof(raw));
	memset(raw, 0, WEAVE_STAT_SIZE_VER0);
	*(__u64 *)raw = 1;
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x16, WEAVE_STAT_SIZE_VER0),
			      raw));
	EXPECT_EQ(SMALL, ((struct weave_stat_args *)raw)->size);
	EXPECT_EQ(0xa5, raw[WEAVE_STAT_SIZE_VER0]);
	/* slot_flags is out only. */
	memset(&st, 0, sizeof(st));
	st.key = 1;
	st.slot_flags = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_STAT, &st));
	st.slot_flags = 0;
	st.reserved2 = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->fd, WEAVE_IOC_STAT, &st));
}

/* Nothing changes a sealed entry's bytes or size, and its gen stays. */
TEST_F(seal, changes_refused)
{
	struct weave_batch_op op = {
		.op = WEAVE_BATCH_SET, .key = 1, .buf = WV_PTR("x"), .len = 1,
	};
	struct weave_write_args w = {
		.key = 1, .buf = WV_PTR("x"), .len = 1,
	};
	struct weave_stat_args st;
	unsigned char buf[SMALL];
	__u64 gen, g;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, SMALL, WEAVE_SET_SEAL,
			    &gen));

	EXPECT_EQ(-EPERM, wv_set(self->fd, 1, "x", 1, 0, NULL));
	EXPECT_EQ(-EPERM, wv_set(self->fd, 1, "x", 1, WEAVE_SET_NOCREATE,
				 NULL));
	EXPECT_EQ(-EPERM, wv_set(self->fd, 1, "x", 1, WEAVE_SET_SEAL, NULL));
	/* The same bytes again are a change too. */
	EXPECT_EQ(-EPERM, wv_set(self->fd, 1, self->val, SMALL,
				 WEAVE_SET_SEAL, NULL));
	EXPECT_EQ(-EEXIST, wv_set(self->fd, 1, "x", 1, WEAVE_SET_NOREPLACE,
				  NULL));
	/* A wrong gen is told first; the right one meets the seal. */
	g = gen + 1;
	EXPECT_EQ(-ESTALE, wv_set(self->fd, 1, "x", 1, WEAVE_OP_IF_GEN, &g));
	EXPECT_EQ(gen, g);
	EXPECT_EQ(-EPERM, wv_set(self->fd, 1, "x", 1, WEAVE_OP_IF_GEN, &g));
	EXPECT_EQ(-EPERM, wv_ioctl(self->fd, WEAVE_IOC_WRITE, &w));
	EXPECT_EQ(-EPERM, wv_resize(self->fd, 1, SMALL, 0, NULL));
	EXPECT_EQ(-EPERM, wv_resize(self->fd, 1, 2 * SMALL, 0, NULL));
	ASSERT_EQ(0, wv_batch(self->fd, &op, 1, 0, NULL));
	EXPECT_EQ(-EPERM, op.result);

	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(gen, st.gen);
	EXPECT_EQ(SMALL, st.size);
	ASSERT_EQ(0, wv_get(self->fd, 1, buf, sizeof(buf), 0, 0, NULL));
	EXPECT_EQ(0, memcmp(buf, self->val, SMALL));
}

/* Delete is allowed; the key can then live again, sealed or not. */
TEST_F(seal, delete_and_again)
{
	struct weave_stat_args st;
	__u64 gen;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, LARGE, WEAVE_SET_SEAL,
			    &gen));
	ASSERT_EQ(0, wv_delete(self->fd, 1, WEAVE_OP_IF_GEN, &gen));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 1, &st));

	ASSERT_EQ(0, wv_set(self->fd, 1, "plain", 5, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(WEAVE_SLOT_USED, st.slot_flags);
	EXPECT_EQ(0, wv_write(self->fd, 1, 5, "!", 1, 0, NULL));
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, NULL));

	/* A zero-length value can be sealed too. */
	ASSERT_EQ(0, wv_set(self->fd, 1, NULL, 0, WEAVE_SET_SEAL, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(WEAVE_SLOT_USED | WEAVE_SLOT_SEALED, st.slot_flags);
	EXPECT_EQ(0, st.size);
	EXPECT_EQ(-EPERM, wv_resize(self->fd, 1, 1, 0, NULL));
	EXPECT_EQ(0, wv_delete(self->fd, 1, 0, NULL));
}

/*
 * The promise: a view of a sealed entry reads the same bytes before and
 * after its delete, and after another entry takes its slot, untouched
 * pages included (they fault in after the delete).
 */
static void survives_delete(struct __test_metadata *_metadata,
			    FIXTURE_DATA(seal) *self, size_t len)
{
	struct weave_stat_args st, st2;
	const unsigned char *v, *v2;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, len, WEAVE_SET_SEAL,
			    NULL));
	v = map_view(self->fd, 1, &st);
	ASSERT_NE(NULL, v);
	/* Touch the first page only. */
	EXPECT_EQ(0, view_holds(v, self->val, 1));

	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, NULL));
	EXPECT_EQ(0, view_holds(v, self->val, len));

	/* Another key takes the slot, with other bytes. */
	ASSERT_EQ(0, wv_set(self->fd, 2, self->other, len, 0, NULL));
	v2 = map_view(self->fd, 2, &st2);
	ASSERT_NE(NULL, v2);
	EXPECT_EQ(st.slot, st2.slot);
	EXPECT_EQ(0, view_holds(v2 + st2.data_offset, self->other, len));
	EXPECT_EQ(0, view_holds(v, self->val, len));
	/* Changes of the new entry zap its span; the old view refaults. */
	ASSERT_EQ(0, wv_resize(self->fd, 2, 1, 0, NULL));
	ASSERT_EQ(0, wv_delete(self->fd, 2, 0, NULL));
	EXPECT_EQ(0, view_holds(v, self->val, len));
	/* Past the sealed bytes' pages, the view has nothing: SIGBUS. */
	EXPECT_EQ(SIGBUS, wv_probe(v + ((len + 4095) & ~4095UL), NULL));

	munmap((void *)v2, st2.map_size);
	munmap((void *)v, st.map_size);
}

TEST_F(seal, view_survives_delete_small)
{
	survives_delete(_metadata, self, SMALL);
}

TEST_F(seal, view_survives_delete_large)
{
	survives_delete(_metadata, self, LARGE);
}

/* The contrast, so the test above can fail: unsealed views fault. */
TEST_F(seal, unsealed_view_faults)
{
	struct weave_stat_args st;
	const unsigned char *v;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, LARGE, 0, NULL));
	v = map_view(self->fd, 1, &st);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(0, view_holds(v, self->val, LARGE));
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, NULL));
	EXPECT_EQ(-SIGBUS, view_holds(v, self->val, 1));
	munmap((void *)v, st.map_size);
}

TEST_F(seal, view_survives_clear)
{
	struct weave_stat_args st;
	const unsigned char *v;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, LARGE, WEAVE_SET_SEAL,
			    NULL));
	v = map_view(self->fd, 1, &st);
	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, wv_clear(self->fd, 0, NULL, NULL));
	EXPECT_EQ(0, view_holds(v, self->val, LARGE));
	munmap((void *)v, st.map_size);
}

/* A child's copy of the view holds the pages as well as the parent's. */
TEST_F(seal, view_survives_in_child)
{
	struct weave_stat_args st;
	const unsigned char *v;
	int sync[2];
	char c;
	pid_t pid;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, LARGE, WEAVE_SET_SEAL,
			    NULL));
	v = map_view(self->fd, 1, &st);
	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sync[1]);
		if (read(sync[0], &c, 1) != 1)
			_exit(2);
		_exit(view_holds(v, self->val, LARGE) ? 1 : 0);
	}
	close(sync[0]);
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, NULL));
	/* The parent's mapping goes first: the child's keeps the pages. */
	munmap((void *)v, st.map_size);
	ASSERT_EQ(1, write(sync[1], "g", 1));
	close(sync[1]);
	EXPECT_EQ(0, wv_wait_pid(pid));
}

/* Sealing an entry that exists: new bytes in pages of its own. */
TEST_F(seal, seal_existing)
{
	struct weave_stat_args st;
	const unsigned char *v;
	unsigned char buf[LARGE];
	__u64 gen, g;

	ASSERT_EQ(0, wv_set(self->fd, 1, self->other, 40, 0, &gen));
	g = gen;
	ASSERT_EQ(0, wv_set(self->fd, 1, self->val, SMALL,
			    WEAVE_SET_SEAL | WEAVE_OP_IF_GEN, &g));
	EXPECT_GT(g, gen);
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(WEAVE_SLOT_USED | WEAVE_SLOT_SEALED, st.slot_flags);
	EXPECT_EQ(SMALL, st.size);
	EXPECT_EQ(0, st.data_offset);
	EXPECT_LT(st.birth, st.gen);
	ASSERT_EQ(SMALL, get_all(self->fd, 1, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, self->val, SMALL));
	v = map_view(self->fd, 1, &st);
	ASSERT_NE(NULL, v);
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, NULL));
	EXPECT_EQ(0, view_holds(v, self->val, SMALL));
	munmap((void *)v, st.map_size);

	/* A large one, and one that no longer fits the byte limit. */
	ASSERT_EQ(0, wv_set(self->fd, 2, self->other, LARGE, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, self->val, LARGE - 1,
			    WEAVE_SET_SEAL, NULL));
	ASSERT_EQ(LARGE - 1, get_all(self->fd, 2, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, self->val, LARGE - 1));
}

/* The seal outlives lock bookkeeping in the slot's flags. */
TEST_F(seal, owner_died_keeps_seal)
{
	struct weave_stat_args st;
	int fd2;
	pid_t pid;

	ASSERT_EQ(0, wv_set(self->fd, 1, "s", 1, WEAVE_SET_SEAL, NULL));
	fd2 = wv_reopen_file(self->fd, 0);
	ASSERT_LE(0, fd2);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(wv_lock(fd2, 1, 0, 0, NULL) ? 1 : 0);
	close(fd2);
	ASSERT_EQ(0, wv_wait_pid(pid));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(WEAVE_SLOT_USED | WEAVE_SLOT_SEALED | WEAVE_SLOT_OWNER_DIED,
		  st.slot_flags);
	ASSERT_EQ(0, wv_lock(self->fd, 1, 0, 0, NULL));
	ASSERT_EQ(0, wv_unlock(self->fd, 1, WEAVE_UNLOCK_CONSISTENT));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));
	EXPECT_EQ(WEAVE_SLOT_USED | WEAVE_SLOT_SEALED, st.slot_flags);
}

TEST_HARNESS_MAIN
