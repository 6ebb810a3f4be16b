// SPDX-License-Identifier: GPL-2.0
/*
 * Read-only mappings: the index, entry views, how views follow set,
 * write, grow, shrink and delete, what mmap() and mprotect() refuse, and
 * lock-free consistent reads with the slot sequence counter.
 */
#include "weave_proc.h"

#include "kselftest_harness.h"

#define NSLOTS 64

FIXTURE(map) {
	int fd;
	struct weave_info_args info;
	void *index;
	long ps;
};

FIXTURE_SETUP(map)
{
	self->ps = wv_page_size();
	self->fd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, NSLOTS,
			   NULL);
	ASSERT_GE(self->fd, 0) TH_LOG("open+attach: %s", strerror(-self->fd));
	ASSERT_EQ(0, wv_info(self->fd, &self->info));
	self->index = mmap(NULL, self->info.index_size, PROT_READ, MAP_SHARED,
			   self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->index) TH_LOG("map index: %s",
						  strerror(errno));
}

FIXTURE_TEARDOWN(map)
{
	if (self->index && self->index != MAP_FAILED)
		munmap(self->index, self->info.index_size);
	close(self->fd);
}

/* Map the view of @key, @len bytes (0: one page); MAP_FAILED on error. */
static unsigned char *map_view(int fd, __u64 key, size_t len,
			       struct weave_stat_args *st)
{
	if (wv_stat(fd, key, st))
		return MAP_FAILED;
	if (!len)
		len = wv_page_size();
	return mmap(NULL, len, PROT_READ, MAP_SHARED, fd, st->map_offset);
}

TEST_F(map, index_header)
{
	const struct weave_index_header *h = self->index;
	struct weave_info_args info;
	__u64 gen;

	EXPECT_EQ(WEAVE_INDEX_MAGIC, h->magic);
	EXPECT_EQ(64, h->slot_size);
	EXPECT_EQ(sizeof(struct weave_slot), 64);
	EXPECT_EQ(sizeof(struct weave_index_header), 64);
	EXPECT_EQ(NSLOTS, h->nslots);
	EXPECT_EQ(self->info.max_entries, h->nslots);
	EXPECT_EQ(self->info.entry_span, h->entry_span);
	EXPECT_EQ(0, h->count);
	EXPECT_EQ(self->info.gen, h->gen);
	EXPECT_EQ(0, h->seq & 1);
	EXPECT_EQ(0, h->pad);
	EXPECT_EQ(0, h->reserved[0]);
	EXPECT_EQ(0, h->reserved[1]);
	EXPECT_GE(self->info.index_size, 64 * (NSLOTS + 1));
	EXPECT_EQ(0, self->info.index_size % self->ps);

	/* The header follows changes without remapping. */
	ASSERT_EQ(0, wv_set(self->fd, 1, "a", 1, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, "b", 1, 0, &gen));
	EXPECT_EQ(2, h->count);
	EXPECT_EQ(gen, h->gen);
	ASSERT_EQ(0, wv_delete(self->fd, 1, 0, &gen));
	EXPECT_EQ(1, h->count);
	EXPECT_EQ(gen, h->gen);
	ASSERT_EQ(0, wv_info(self->fd, &info));
	EXPECT_EQ(info.gen, h->gen);
	EXPECT_EQ(info.count, h->count);
	EXPECT_EQ(0, h->seq & 1);
}

TEST_F(map, index_slots)
{
	static const size_t sizes[] = { 0, 1, 64, 100, 2048, 3000, 10000 };
	unsigned char buf[10000];
	struct weave_stat_args st;
	bool used[NSLOTS + 1] = { false };
	size_t i;
	__u64 s;

	wv_pattern(buf, sizeof(buf), 5);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		ASSERT_EQ(0, wv_set(self->fd, 1000 + i, buf, sizes[i], 0,
				    NULL));
	ASSERT_EQ(0, wv_write(self->fd, 1001, 10, "w", 1, 0, NULL));

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		const struct weave_slot *sl;

		ASSERT_EQ(0, wv_stat(self->fd, 1000 + i, &st));
		ASSERT_GE(st.slot, 1);
		ASSERT_LE(st.slot, NSLOTS);
		EXPECT_FALSE(used[st.slot]);
		used[st.slot] = true;
		sl = wv_slot(self->index, st.slot);
		EXPECT_EQ(1000 + i, sl->key);
		EXPECT_TRUE(sl->flags & WEAVE_SLOT_USED);
		EXPECT_EQ(st.gen, sl->gen);
		EXPECT_EQ(st.size, sl->size);
		EXPECT_EQ(st.birth, sl->birth);
		EXPECT_EQ(st.map_offset + st.data_offset, sl->offset);
		EXPECT_EQ(0, sl->seq & 1);
		EXPECT_EQ(0, sl->lock);
		EXPECT_EQ(0, sl->waiters);
		EXPECT_EQ(0, sl->reserved);
	}
	/* Free slots are empty. */
	for (s = 1; s <= NSLOTS; s++) {
		if (used[s])
			continue;
		EXPECT_EQ(0, wv_slot(self->index, s)->key);
		EXPECT_FALSE(wv_slot(self->index, s)->flags & WEAVE_SLOT_USED);
	}
	/* Delete frees the slot. */
	ASSERT_EQ(0, wv_stat(self->fd, 1003, &st));
	ASSERT_EQ(0, wv_delete(self->fd, 1003, 0, NULL));
	EXPECT_EQ(0, wv_slot(self->index, st.slot)->key);
	EXPECT_FALSE(wv_slot(self->index, st.slot)->flags & WEAVE_SLOT_USED);
}

TEST_F(map, index_ranges)
{
	size_t isz = self->info.index_size;
	void *p;

	ASSERT_GT(isz, self->ps);	/* 65 slots need two pages */
	/* a page-aligned sub-range */
	p = mmap(NULL, self->ps, PROT_READ, MAP_SHARED, self->fd, self->ps);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, wv_set(self->fd, 1, "x", 1, 0, NULL));
	EXPECT_EQ(0, memcmp(p, (char *)self->index + self->ps,
			    isz - self->ps));
	munmap(p, self->ps);
	/* longer than the index */
	p = mmap(NULL, isz + self->ps, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * self->ps, PROT_READ, MAP_SHARED, self->fd,
		 isz - self->ps);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(map, small_value_cells)
{
	static const size_t sizes[] = { 1, 63, 64, 65, 127, 128, 500, 1000,
					1024, 1025, 2047, 2048, 2049, 5000 };
	unsigned char buf[5000];
	struct weave_stat_args st;
	size_t i;

	wv_pattern(buf, sizeof(buf), 9);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t cell = 64;

		while (cell < sizes[i])
			cell *= 2;
		ASSERT_EQ(0, wv_set(self->fd, 1 + i, buf, sizes[i], 0, NULL));
		ASSERT_EQ(0, wv_stat(self->fd, 1 + i, &st));
		if (sizes[i] > 2048) {
			EXPECT_EQ(0, st.data_offset) TH_LOG("size %zu",
							    sizes[i]);
			continue;
		}
		EXPECT_EQ(0, st.data_offset % cell) TH_LOG("size %zu",
							   sizes[i]);
		EXPECT_LE(st.data_offset + cell, self->ps);
	}
	/* Each view shows its own value at data_offset. */
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned char *v = map_view(self->fd, 1 + i,
					    wv_page_align(sizes[i]), &st);

		ASSERT_NE(MAP_FAILED, v) TH_LOG("size %zu: %s", sizes[i],
						strerror(errno));
		EXPECT_EQ(0, memcmp(v + st.data_offset, buf, sizes[i]))
			TH_LOG("size %zu", sizes[i]);
		munmap(v, wv_page_align(sizes[i]));
	}
}

TEST_F(map, view_follows_set_and_write)
{
	struct weave_stat_args st, st2;
	unsigned char *v;
	const struct weave_slot *sl;

	ASSERT_EQ(0, wv_set(self->fd, 7, "hello world", 11, 0, NULL));
	v = map_view(self->fd, 7, 0, &st);
	ASSERT_NE(MAP_FAILED, v) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(v + st.data_offset, "hello world", 11));

	ASSERT_EQ(0, wv_set(self->fd, 7, "HELLO WORLD", 11, 0, NULL));
	EXPECT_EQ(0, memcmp(v + st.data_offset, "HELLO WORLD", 11));
	ASSERT_EQ(0, wv_write(self->fd, 7, 6, "there", 5, 0, NULL));
	EXPECT_EQ(0, memcmp(v + st.data_offset, "HELLO there", 11));
	ASSERT_EQ(0, wv_set(self->fd, 7, "bye", 3, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 7, &st2));
	EXPECT_EQ(st.map_offset, st2.map_offset);
	EXPECT_EQ(0, memcmp(v + st2.data_offset, "bye", 3));

	/* Growing out of its cell moves it; the same view follows. */
	unsigned char big[3000];

	wv_pattern(big, sizeof(big), 3);
	ASSERT_EQ(0, wv_set(self->fd, 7, big, sizeof(big), 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 7, &st2));
	EXPECT_EQ(st.map_offset, st2.map_offset);
	sl = wv_slot(self->index, st2.slot);
	EXPECT_EQ(st2.map_offset + st2.data_offset, sl->offset);
	EXPECT_EQ(0, memcmp(v + st2.data_offset, big, sizeof(big)));
	munmap(v, self->ps);

	/* A view of exactly map_size is allowed. */
	v = mmap(NULL, st2.map_size, PROT_READ, MAP_SHARED, self->fd,
		 st2.map_offset);
	EXPECT_NE(MAP_FAILED, v) TH_LOG("map_size %llu: %s",
				       (unsigned long long)st2.map_size,
				       strerror(errno));
	if (v != MAP_FAILED)
		munmap(v, st2.map_size);
}

TEST_F(map, big_value_grows_in_place)
{
	unsigned char in[20000];
	struct weave_stat_args st, st2;
	unsigned char *v, *v2, *v3;
	size_t i;

	wv_pattern(in, 10000, 4);
	ASSERT_EQ(0, wv_set(self->fd, 3, in, 10000, 0, NULL));
	v = map_view(self->fd, 3, 12288, &st);
	ASSERT_NE(MAP_FAILED, v) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, st.data_offset);
	EXPECT_EQ(0, memcmp(v, in, 10000));
	/* a view past the end of the value: those pages fault */
	v3 = mmap(NULL, 20480, PROT_READ, MAP_SHARED, self->fd, st.map_offset);
	ASSERT_NE(MAP_FAILED, v3);
	EXPECT_EQ(SIGBUS, wv_probe(v3 + 16384, NULL));
	EXPECT_EQ(0, wv_probe(v3 + 12287, NULL));

	ASSERT_EQ(0, wv_resize(self->fd, 3, 20000, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 3, &st2));
	EXPECT_EQ(st.map_offset, st2.map_offset);
	EXPECT_EQ(0, st2.data_offset);
	/* the old view still shows the old bytes, and zeros after them */
	EXPECT_EQ(0, memcmp(v, in, 10000));
	EXPECT_TRUE(wv_all_bytes(v + 10000, 12288 - 10000, 0));
	/* the long view now reaches the new end */
	unsigned char c = 0xFF;

	EXPECT_EQ(0, wv_probe(v3 + 16384, &c));
	EXPECT_EQ(0, c);

	/* seen further by mapping more of the span */
	munmap(v, 12288);
	v2 = mmap(NULL, 20480, PROT_READ, MAP_SHARED, self->fd,
		  st.map_offset);
	ASSERT_NE(MAP_FAILED, v2) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(v2, in, 10000));
	EXPECT_TRUE(wv_all_bytes(v2 + 10000, 10000, 0));

	/* the same pages: a write shows in every view */
	ASSERT_EQ(0, wv_write(self->fd, 3, 100, "SAME", 4, 0, NULL));
	ASSERT_EQ(0, wv_write(self->fd, 3, 19000, "PAGE", 4, 0, NULL));
	EXPECT_EQ(0, memcmp(v2 + 100, "SAME", 4));
	EXPECT_EQ(0, memcmp(v3 + 100, "SAME", 4));
	EXPECT_EQ(0, memcmp(v2 + 19000, "PAGE", 4));
	EXPECT_EQ(0, memcmp(v3 + 19000, "PAGE", 4));
	for (i = 0; i < 100; i++)
		EXPECT_EQ(in[i], v2[i]);
	munmap(v2, 20480);
	munmap(v3, 20480);
}

TEST_F(map, shrink_sigbus)
{
	unsigned char in[12288];
	struct weave_stat_args st, st2;
	unsigned char *v, c;

	wv_pattern(in, sizeof(in), 6);
	ASSERT_EQ(0, wv_set(self->fd, 4, in, sizeof(in), 0, NULL));
	v = map_view(self->fd, 4, sizeof(in), &st);
	ASSERT_NE(MAP_FAILED, v) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(v, in, sizeof(in)));

	ASSERT_EQ(0, wv_resize(self->fd, 4, 5000, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 4, &st2));
	EXPECT_EQ(0, st2.data_offset);
	EXPECT_EQ(SIGBUS, wv_probe(v + 8192, NULL));
	EXPECT_EQ(SIGBUS, wv_probe(v + 12287, NULL));
	EXPECT_EQ(0, wv_probe(v + 4999, &c));
	EXPECT_EQ(in[4999], c);
	EXPECT_EQ(0, memcmp(v, in, 5000));

	/* A forked child touching past the end dies of SIGBUS. */
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		volatile unsigned char x = v[9000];

		(void)x;
		_exit(0);
	}
	EXPECT_EQ(128 + SIGBUS, wv_wait_pid(pid));

	/* Growing again brings zeros, not the old bytes. */
	ASSERT_EQ(0, wv_resize(self->fd, 4, sizeof(in), 0, NULL));
	EXPECT_EQ(0, wv_probe(v + 9000, &c));
	EXPECT_EQ(0, c);
	EXPECT_TRUE(wv_all_bytes(v + 5000, sizeof(in) - 5000, 0));
	EXPECT_EQ(0, memcmp(v, in, 5000));
	munmap(v, sizeof(in));
}

TEST_F(map, delete_sigbus)
{
	static const size_t sizes[] = { 40, 10000 };
	unsigned char in[10000];
	struct weave_stat_args st;
	unsigned char *v, *vi;
	size_t i;

	wv_pattern(in, sizeof(in), 7);
	for (i = 0; i < 2; i++) {
		size_t len = wv_page_align(sizes[i]);

		ASSERT_EQ(0, wv_set(self->fd, 5, in, sizes[i], 0, NULL));
		v = map_view(self->fd, 5, len, &st);
		ASSERT_NE(MAP_FAILED, v);
		EXPECT_EQ(0, memcmp(v + st.data_offset, in, sizes[i]));
		ASSERT_EQ(0, wv_delete(self->fd, 5, 0, NULL));
		EXPECT_EQ(SIGBUS, wv_probe(v + st.data_offset, NULL))
			TH_LOG("size %zu", sizes[i]);
		EXPECT_EQ(SIGBUS, wv_probe(v, NULL));
		/* Recreating the key is a new life: the old view stays dead. */
		ASSERT_EQ(0, wv_set(self->fd, 5, in, sizes[i], 0, NULL));
		EXPECT_EQ(SIGBUS, wv_probe(v + st.data_offset, NULL))
			TH_LOG("size %zu after recreate", sizes[i]);
		munmap(v, len);
		ASSERT_EQ(0, wv_delete(self->fd, 5, 0, NULL));
	}
	/* A deleted entry's slot cannot be mapped. */
	vi = mmap(NULL, self->ps, PROT_READ, MAP_SHARED, self->fd,
		  st.map_offset);
	EXPECT_EQ(MAP_FAILED, vi);
	EXPECT_EQ(ENXIO, errno);
}

/*
 * With one slot, a new key must reuse the slot (and likely the cell or
 * pages) of a deleted one: the old view must never show its bytes.
 */
TEST_F(map, slot_reuse)
{
	static const size_t sizes[] = { 100, 1000, 10000 };
	unsigned char a[10000], b[10000];
	struct weave_stat_args sa, sb;
	size_t i;
	int fd;

	memset(a, 0xAA, sizeof(a));
	memset(b, 0xBB, sizeof(b));
	fd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 1, NULL);
	ASSERT_GE(fd, 0);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = wv_page_align(sizes[i]);
		unsigned char *va, *vb, c = 0;
		int sig;

		ASSERT_EQ(0, wv_set(fd, 1, a, sizes[i], 0, NULL));
		va = map_view(fd, 1, len, &sa);
		ASSERT_NE(MAP_FAILED, va);
		EXPECT_EQ(0xAA, va[sa.data_offset]);
		ASSERT_EQ(0, wv_delete(fd, 1, 0, NULL));
		ASSERT_EQ(0, wv_set(fd, 2, b, sizes[i], 0, NULL));
		ASSERT_EQ(0, wv_stat(fd, 2, &sb));
		EXPECT_EQ(sa.slot, sb.slot);
		EXPECT_EQ(sa.map_offset, sb.map_offset);

		sig = wv_probe(va + sb.data_offset, &c);
		EXPECT_EQ(SIGBUS, sig) TH_LOG("size %zu: read 0x%02x", sizes[i],
					      c);
		EXPECT_FALSE(sig == 0 && c == 0xBB);
		/* A new view of the slot shows the new key. */
		vb = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, sb.map_offset);
		ASSERT_NE(MAP_FAILED, vb);
		EXPECT_EQ(0, memcmp(vb + sb.data_offset, b, sizes[i]));
		/* and the old one still faults */
		EXPECT_EQ(SIGBUS, wv_probe(va + sb.data_offset, NULL));
		munmap(va, len);
		munmap(vb, len);
		ASSERT_EQ(0, wv_delete(fd, 2, 0, NULL));
	}
	close(fd);
}

TEST_F(map, refused)
{
	struct weave_stat_args st;
	unsigned char *v;
	void *p;

	ASSERT_EQ(0, wv_set(self->fd, 1, "abc", 3, 0, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, "def", 3, 0, NULL));
	ASSERT_EQ(0, wv_stat(self->fd, 1, &st));

	/* MAP_PRIVATE */
	p = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE, self->fd,
		 st.map_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	/* writable or executable */
	p = mmap(NULL, self->ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	/* A view, writable only under the key's exclusive lock (rw_test). */
	p = mmap(NULL, self->ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, st.map_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, self->ps, PROT_WRITE, MAP_SHARED, self->fd,
		 st.map_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, self->ps, PROT_READ | PROT_EXEC, MAP_SHARED,
		 self->fd, st.map_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);

	/* mprotect to writable */
	p = mmap(NULL, self->ps, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, self->ps, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(p, self->ps, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	munmap(p, self->ps);
	v = mmap(NULL, self->ps, PROT_READ, MAP_SHARED, self->fd,
		 st.map_offset);
	ASSERT_NE(MAP_FAILED, v);
	EXPECT_EQ(-1, mprotect(v, self->ps, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, memcmp(v + st.data_offset, "abc", 3));
	/* PROT_NONE and back is fine */
	EXPECT_EQ(0, mprotect(v, self->ps, PROT_NONE));
	EXPECT_EQ(0, mprotect(v, self->ps, PROT_READ));
	EXPECT_EQ(0, memcmp(v + st.data_offset, "abc", 3));
	munmap(v, self->ps);

	/* not the start of a slot's span */
	p = mmap(NULL, self->ps, PROT_READ, MAP_SHARED, self->fd,
		 st.map_offset + self->ps);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* longer than the span */
	p = mmap(NULL, st.map_size + self->ps, PROT_READ, MAP_SHARED,
		 self->fd, st.map_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	/* an empty slot */
	__u64 s, empty = 0;

	for (s = 1; s <= NSLOTS && !empty; s++)
		if (!wv_slot(self->index, s)->key)
			empty = s;
	ASSERT_NE(0, empty);
	p = mmap(NULL, self->ps, PROT_READ, MAP_SHARED, self->fd,
		 self->info.index_size + (empty - 1) * self->info.entry_span);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENXIO, errno);
}

/*
 * No mapping grows with mremap(): past the range mmap() checked it would
 * only fault. Shrinking and moving still work.
 */
TEST_F(map, mremap_cannot_grow)
{
	size_t idx = self->info.index_size;
	struct weave_stat_args st;
	unsigned char *v, *p, *q;

	/* the index, over its end */
	p = mremap(self->index, idx, idx + self->ps, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFAULT, errno);
	/* and within it: a mapping of its first page */
	v = mmap(NULL, self->ps, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, v);
	p = mremap(v, self->ps, 2 * self->ps, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFAULT, errno);
	munmap(v, self->ps);

	/* a view, within its span and past it */
	ASSERT_EQ(0, wv_set(self->fd, 1, "abc", 3, 0, NULL));
	v = map_view(self->fd, 1, 0, &st);
	ASSERT_NE(MAP_FAILED, v);
	p = mremap(v, self->ps, 2 * self->ps, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFAULT, errno);
	p = mremap(v, self->ps, st.map_size + self->ps, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, memcmp(v + st.data_offset, "abc", 3));

	/* moved whole, it still shows the entry */
	q = mmap(NULL, self->ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	ASSERT_NE(MAP_FAILED, q);
	p = mremap(v, self->ps, self->ps, MREMAP_MAYMOVE | MREMAP_FIXED, q);
	ASSERT_EQ(q, p) TH_LOG("mremap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(p + st.data_offset, "abc", 3));
	munmap(p, self->ps);

	/* a shrunk index mapping still reads the header */
	p = mremap(self->index, idx, self->ps, 0);
	ASSERT_EQ(self->index, p);
	self->info.index_size = self->ps;
	EXPECT_EQ(WEAVE_INDEX_MAGIC,
		  ((struct weave_index_header *)p)->magic);
}

/* A view keeps an anonymous registry alive after its last file. */
TEST_F(map, view_outlives_fd)
{
	struct weave_stat_args st;
	unsigned char *v;
	int fd;

	fd = wv_open_anon(0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wv_set(fd, 9, "survivor", 8, 0, NULL));
	v = map_view(fd, 9, 0, &st);
	ASSERT_NE(MAP_FAILED, v);
	close(fd);
	EXPECT_EQ(0, wv_probe(v + st.data_offset, NULL));
	EXPECT_EQ(0, memcmp(v + st.data_offset, "survivor", 8));
	munmap(v, self->ps);
}

/*
 * The seqcount protocol: a reader in another process copies a 1000-byte
 * value through its view while this process replaces it with all-0xAA
 * and all-0x55 patterns. A copy accepted by the protocol is never mixed.
 */
#define SEQ_LEN 1000

struct seq_stats {
	volatile int stop;
	volatile int started;
	__u64 good, retries, mixed, aa, x55, bad_shape;
};

static void seq_reader(const void *index, __u64 slot, __u64 map_offset,
		       const unsigned char *view, size_t viewlen,
		       struct seq_stats *ss)
{
	const struct weave_slot *sl = wv_slot(index, slot);
	unsigned char buf[SEQ_LEN];

	ss->started = 1;
	while (!ss->stop) {
		__u64 off, size;
		__u32 s1;

		s1 = wv_seq_read(&sl->seq);
		if (s1 & 1) {
			ss->retries++;
			continue;
		}
		off = WV_RLOAD(sl->offset) - map_offset;
		size = WV_RLOAD(sl->size);
		if (size == SEQ_LEN && off + size <= viewlen)
			memcpy(buf, view + off, SEQ_LEN);
		if (wv_seq_retry(&sl->seq, s1)) {
			ss->retries++;
			continue;
		}
		if (size != SEQ_LEN || off + size > viewlen) {
			ss->bad_shape++;
			continue;
		}
		if (wv_all_bytes(buf, SEQ_LEN, 0xAA))
			ss->aa++;
		else if (wv_all_bytes(buf, SEQ_LEN, 0x55))
			ss->x55++;
		else
			ss->mixed++;
		ss->good++;
	}
}

TEST_F_TIMEOUT(map, seqcount, 90)
{
	unsigned char aa[SEQ_LEN], x55[SEQ_LEN];
	const struct weave_slot *sl;
	struct seq_stats *ss;
	struct weave_stat_args st;
	unsigned char *v;
	__u32 seq0, seq1;
	long ops = 0;
	double end;
	pid_t pid;

	memset(aa, 0xAA, sizeof(aa));
	memset(x55, 0x55, sizeof(x55));
	ASSERT_EQ(0, wv_set(self->fd, 11, aa, SEQ_LEN, 0, NULL));
	v = map_view(self->fd, 11, 0, &st);
	ASSERT_NE(MAP_FAILED, v);
	sl = wv_slot(self->index, st.slot);
	ss = mmap(NULL, sizeof(*ss), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ss);
	seq0 = sl->seq;
	EXPECT_EQ(0, seq0 & 1);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		seq_reader(self->index, st.slot, st.map_offset, v, self->ps,
			   ss);
		_exit(0);
	}
	while (!ss->started)
		usleep(1000);

	end = wv_now() + 2.0;
	while (ops < 200000 && (ops < 200 || wv_now() < end)) {
		int ret;

		if (ops & 1)
			ret = wv_write(self->fd, 11, 0, x55, SEQ_LEN, 0, NULL);
		else
			ret = wv_set(self->fd, 11, aa, SEQ_LEN, 0, NULL);
		ASSERT_EQ(0, ret);
		ops++;
	}
	/* let the reader see the last value a few times */
	usleep(100000);
	ss->stop = 1;
	EXPECT_EQ(0, wv_wait_pid(pid));
	seq1 = sl->seq;

	EXPECT_EQ(0, ss->mixed) TH_LOG("%llu mixed copies of %llu",
				       (unsigned long long)ss->mixed,
				       (unsigned long long)ss->good);
	EXPECT_EQ(0, ss->bad_shape);
	EXPECT_GT(ss->good, 0);
	EXPECT_EQ(ss->good, ss->aa + ss->x55);
	EXPECT_EQ(0, seq1 & 1);
	/* each change makes seq odd and even again */
	EXPECT_GE((__u32)(seq1 - seq0), 2 * ops);
	TH_LOG("%ld writes, %llu good reads (%llu AA, %llu 55), %llu retries",
	       ops, (unsigned long long)ss->good, (unsigned long long)ss->aa,
	       (unsigned long long)ss->x55, (unsigned long long)ss->retries);
	munmap(ss, sizeof(*ss));
	munmap(v, self->ps);
}

TEST_HARNESS_MAIN
