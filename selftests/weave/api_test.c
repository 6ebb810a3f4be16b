// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI of /dev/weave: the handshake, command dispatch, size
 * versioned structures, validation of flags, reserved and out fields,
 * bad pointers, and unattached files.
 */
#include <stddef.h>

#include "weave_util.h"

#include "kselftest_harness.h"

/* Every command, with its first published size and this header's. */
static const struct {
	const char *name;
	unsigned int nr;
	size_t size;
	size_t cur;
	bool registry;		/* needs an attached file */
} cmds[] = {
	{ "API", 0x00, WEAVE_API_SIZE_VER0,
	  sizeof(struct weave_api_args), false },
	{ "ATTACH", 0x01, WEAVE_ATTACH_SIZE_VER0,
	  sizeof(struct weave_attach_args), false },
	{ "UNLINK", 0x02, WEAVE_UNLINK_SIZE_VER0,
	  sizeof(struct weave_unlink_args), false },
	{ "INFO", 0x03, WEAVE_INFO_SIZE_VER0,
	  sizeof(struct weave_info_args), true },
	{ "REOPEN", 0x05, WEAVE_REOPEN_SIZE_VER0,
	  sizeof(struct weave_reopen_args), true },
	{ "SET", 0x10, WEAVE_SET_SIZE_VER0,
	  sizeof(struct weave_set_args), true },
	{ "GET", 0x11, WEAVE_GET_SIZE_VER0,
	  sizeof(struct weave_get_args), true },
	{ "WRITE", 0x12, WEAVE_WRITE_SIZE_VER0,
	  sizeof(struct weave_write_args), true },
	{ "RESIZE", 0x13, WEAVE_RESIZE_SIZE_VER0,
	  sizeof(struct weave_resize_args), true },
	{ "DELETE", 0x14, WEAVE_DELETE_SIZE_VER0,
	  sizeof(struct weave_delete_args), true },
	{ "CLEAR", 0x15, WEAVE_CLEAR_SIZE_VER0,
	  sizeof(struct weave_clear_args), true },
	{ "STAT", 0x16, WEAVE_STAT_SIZE_VER0,
	  sizeof(struct weave_stat_args), true },
	{ "LIST", 0x17, WEAVE_LIST_SIZE_VER0,
	  sizeof(struct weave_list_args), true },
	{ "BATCH", 0x18, WEAVE_BATCH_SIZE_VER0,
	  sizeof(struct weave_batch_args), true },
};

/*
 * A newer userspace's SET: the same layout plus a field this kernel does
 * not know (the dma-buf selftests' trick of re-declaring an ioctl).
 */
struct weave_set_v1 {
	__u64 key;
	__u64 buf;
	__u64 len;
	__u32 flags;
	__u32 reserved;
	__u64 gen;
	__u64 future;
};
#define WEAVE_IOC_SET_V1 _IOWR(WEAVE_IOC_MAGIC, 0x10, struct weave_set_v1)

struct weave_stat_v1 {
	struct weave_stat_args v0;
	__u64 future[2];
};
#define WEAVE_IOC_STAT_V1 _IOWR(WEAVE_IOC_MAGIC, 0x16, struct weave_stat_v1)

FIXTURE(api) {
	int fd;		/* attached to an anonymous registry */
	int ufd;	/* unattached */
};

FIXTURE_SETUP(api)
{
	self->fd = wv_open_anon(0);
	ASSERT_GE(self->fd, 0) TH_LOG("open+attach: %s", strerror(-self->fd));
	self->ufd = wv_dev(O_RDWR);
	ASSERT_GE(self->ufd, 0);
}

FIXTURE_TEARDOWN(api)
{
	close(self->fd);
	close(self->ufd);
}

TEST_F(api, handshake)
{
	struct weave_api_args a;
	__u64 param = 0;
	size_t i;

	ASSERT_EQ(0, wv_api(self->ufd, &a));
	EXPECT_EQ(WEAVE_API, a.api);
	EXPECT_TRUE(a.features & WEAVE_FEATURE_MAP);
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		EXPECT_TRUE(a.ioctls & (1ULL << cmds[i].nr))
			TH_LOG("nr 0x%x not announced", cmds[i].nr);
	EXPECT_GT(a.max_entries, 0);
	EXPECT_GT(a.max_entry_size, 0);
	EXPECT_GE(a.max_registry_bytes, a.max_entry_size);

	/* The module parameters and the handshake agree. */
	if (!wv_param("max_entries", &param))
		EXPECT_EQ(param, a.max_entries);
	if (!wv_param("max_entry_size", &param))
		EXPECT_EQ(param, a.max_entry_size);
	if (!wv_param("max_registry_bytes", &param))
		EXPECT_EQ(param, a.max_registry_bytes);

	/* The same answer on an attached file. */
	struct weave_api_args b;

	ASSERT_EQ(0, wv_api(self->fd, &b));
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST_F(api, handshake_errors)
{
	struct weave_api_args a;

	memset(&a, 0, sizeof(a));
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_API, &a));
	a.api = WEAVE_API + 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_API, &a));
	a.api = ~0ULL;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_API, &a));

	/* out fields must be zero on input */
	memset(&a, 0, sizeof(a));
	a.api = WEAVE_API;
	a.features = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_API, &a));
	memset(&a, 0, sizeof(a));
	a.api = WEAVE_API;
	a.ioctls = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_API, &a));
	memset(&a, 0, sizeof(a));
	a.api = WEAVE_API;
	a.max_registry_bytes = 1;
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_API, &a));
}

/*
 * No module parameter takes 0, nor a value past its bound, and a refused
 * write leaves the value as it was.
 */
TEST(parameters_refuse_zero)
{
	static const struct {
		const char *name;
		__u64 max;	/* largest accepted value */
	} params[] = {
		{ "max_registries", 65536 },
		{ "max_registries_per_ns", 65536 },
		{ "max_registries_per_user", 65536 },
		{ "max_entries", 1ULL << 24 },
		{ "max_entry_size", 1ULL << 30 },
		{ "max_registry_bytes", ~0ULL },
		{ "max_locks", 1ULL << 20 },
		{ "max_waiters", 1ULL << 20 },
		{ "max_watches", 1ULL << 20 },
	};
	unsigned int i;
	__u64 orig, v;

	for (i = 0; i < ARRAY_SIZE(params); i++) {
		const char *name = params[i].name;

		ASSERT_EQ(0, wv_param(name, &orig)) TH_LOG("%s", name);
		EXPECT_EQ(-EINVAL, wv_param_set(name, 0)) TH_LOG("%s", name);
		if (params[i].max != ~0ULL)
			EXPECT_EQ(-EINVAL, wv_param_set(name, params[i].max + 1))
				TH_LOG("%s", name);
		ASSERT_EQ(0, wv_param(name, &v));
		EXPECT_EQ(orig, v) TH_LOG("%s", name);
		EXPECT_EQ(0, wv_param_set(name, params[i].max))
			TH_LOG("%s", name);
		EXPECT_EQ(0, wv_param_set(name, orig)) TH_LOG("%s", name);
	}
}

/* Every command number the handshake does not announce gives ENOTTY. */
TEST_F(api, unannounced_commands)
{
	unsigned char buf[256];
	struct weave_api_args a;
	unsigned int nr;

	ASSERT_EQ(0, wv_api(self->fd, &a));
	for (nr = 0; nr < 256; nr++) {
		if (nr < 64 && (a.ioctls & (1ULL << nr)))
			continue;
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, wv_ioctl(self->fd, wv_cmd(nr, 64), buf))
			TH_LOG("nr 0x%x", nr);
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-ENOTTY, wv_ioctl(self->ufd, wv_cmd(nr, 64), buf))
			TH_LOG("nr 0x%x unattached", nr);
	}
}

TEST_F(api, bad_type_and_direction)
{
	struct weave_set_args s;
	char name[64];

	memset(&s, 0, sizeof(s));
	s.key = 1;
	s.buf = WV_PTR("x");
	s.len = 1;

	/* Another magic. */
	EXPECT_EQ(-ENOTTY, wv_ioctl(self->fd,
			_IOWR('W', 0x10, struct weave_set_args), &s));
	/* Right magic and nr, wrong direction. */
	EXPECT_EQ(-ENOTTY, wv_ioctl(self->fd,
			_IOW(WEAVE_IOC_MAGIC, 0x10, struct weave_set_args), &s));
	EXPECT_EQ(-ENOTTY, wv_ioctl(self->fd,
			_IOR(WEAVE_IOC_MAGIC, 0x10, struct weave_set_args), &s));
	EXPECT_EQ(-ENOTTY, wv_ioctl(self->fd, _IO(WEAVE_IOC_MAGIC, 0x10), &s));
	EXPECT_EQ(-ENOTTY, wv_ioctl(self->fd,
			_IOW(WEAVE_IOC_MAGIC, 0x00, struct weave_api_args), &s));
	/* Nothing was set by any of them. */
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 1, NULL));

	/* A plain ioctl the tty layer knows. */
	EXPECT_EQ(-ENOTTY, wv_ioctl(self->fd, TCGETS, name));
}

/* A structure shorter than its first version is refused. */
TEST_F(api, struct_too_small)
{
	unsigned char buf[256];
	size_t i, sz;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		int fd = cmds[i].nr == 0x01 ? self->ufd : self->fd;
		size_t sizes[] = { 0, 8, cmds[i].size - 8, cmds[i].size - 1 };

		for (sz = 0; sz < ARRAY_SIZE(sizes); sz++) {
			if (sizes[sz] >= cmds[i].size)
				continue;	/* an 8-byte structure */
			memset(buf, 0, sizeof(buf));
			if (cmds[i].nr == 0x00)
				((struct weave_api_args *)buf)->api = WEAVE_API;
			EXPECT_EQ(-EINVAL, wv_ioctl(fd,
					wv_cmd(cmds[i].nr, sizes[sz]), buf))
				TH_LOG("%s size %zu", cmds[i].name, sizes[sz]);
		}
	}
	/* The unattached file is still unattached. */
	EXPECT_EQ(-EBADFD, wv_ioctl(self->ufd, WEAVE_IOC_INFO,
				    &(struct weave_info_args){ 0 }));
}

/*
 * Build each command with a larger structure: a zero tail works (and the
 * kernel writes nothing past the size it was given), a non-zero tail
 * gives E2BIG and does nothing.
 */
#define TAIL 16
#define GUARD 32

struct bigbuf {
	unsigned char b[512];
};

static void *init_big(struct bigbuf *bb, size_t size)
{
	memset(bb->b, 0, size + TAIL);
	memset(bb->b + size + TAIL, 0xEE, GUARD);
	return bb->b;
}

static bool guard_ok(const struct bigbuf *bb, size_t size)
{
	return wv_all_bytes(bb->b + size + TAIL, GUARD, 0xEE) &&
	       wv_all_bytes(bb->b + size, TAIL, 0);
}

TEST_F(api, larger_struct_zero_tail)
{
	struct bigbuf bb;
	struct weave_set_args *s;
	struct weave_get_args *g;
	struct weave_stat_args *st;
	struct weave_info_args *in;
	struct weave_list_args *l;
	struct weave_write_args *w;
	struct weave_resize_args *r;
	struct weave_delete_args *d;
	struct weave_clear_args *c;
	struct weave_api_args *a;
	struct weave_attach_args *at;
	struct weave_unlink_args *u;
	char val[8] = "abcdefg", out[8];
	__u64 keys[4];
	char name[64];
	__u64 wgen, rgen;
	int fd;

	a = init_big(&bb, sizeof(*a));
	a->api = WEAVE_API;
	ASSERT_EQ(0, wv_ioctl(self->ufd, wv_cmd(0x00, sizeof(*a) + TAIL), a));
	EXPECT_EQ(WEAVE_API, a->api);
	EXPECT_TRUE(a->features & WEAVE_FEATURE_MAP);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*a)));

	s = init_big(&bb, sizeof(*s));
	s->key = 7;
	s->buf = WV_PTR(val);
	s->len = sizeof(val);
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x10, sizeof(*s) + TAIL), s));
	EXPECT_GT(s->gen, 0);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*s)));

	g = init_big(&bb, sizeof(*g));
	g->key = 7;
	g->buf = WV_PTR(out);
	g->len = sizeof(out);
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x11, sizeof(*g) + TAIL), g));
	EXPECT_EQ(sizeof(val), g->size);
	EXPECT_EQ(sizeof(val), g->copied);
	EXPECT_EQ(0, memcmp(val, out, sizeof(val)));
	EXPECT_TRUE(guard_ok(&bb, sizeof(*g)));

	st = init_big(&bb, sizeof(*st));
	st->key = 7;
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x16, sizeof(*st) + TAIL), st));
	EXPECT_EQ(sizeof(val), st->size);
	EXPECT_GE(st->slot, 1);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*st)));

	w = init_big(&bb, sizeof(*w));
	w->key = 7;
	w->buf = WV_PTR("XY");
	w->len = 2;
	w->offset = 8;
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x12, sizeof(*w) + TAIL), w));
	EXPECT_EQ(10, w->size);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*w)));
	wgen = w->gen;

	r = init_big(&bb, sizeof(*r));
	r->key = 7;
	r->size = 3;
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x13, sizeof(*r) + TAIL), r));
	EXPECT_GT(r->gen, wgen);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*r)));
	rgen = r->gen;

	in = init_big(&bb, sizeof(*in));
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x03, sizeof(*in) + TAIL), in));
	EXPECT_EQ(1, in->count);
	EXPECT_EQ(3, in->bytes);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*in)));

	l = init_big(&bb, sizeof(*l));
	l->keys = WV_PTR(keys);
	l->count = 4;
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x17, sizeof(*l) + TAIL), l));
	EXPECT_EQ(1, l->count);
	EXPECT_EQ(7, keys[0]);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*l)));

	d = init_big(&bb, sizeof(*d));
	d->key = 7;
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x14, sizeof(*d) + TAIL), d));
	EXPECT_GT(d->gen, rgen);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*d)));

	ASSERT_EQ(0, wv_set(self->fd, 8, val, 1, 0, NULL));
	c = init_big(&bb, sizeof(*c));
	ASSERT_EQ(0, wv_ioctl(self->fd, wv_cmd(0x15, sizeof(*c) + TAIL), c));
	EXPECT_EQ(1, c->count);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*c)));
	EXPECT_EQ(0, wv_count(self->fd));

	wv_name(name, sizeof(name), "api-big");
	fd = wv_dev(O_RDWR);
	ASSERT_GE(fd, 0);
	at = init_big(&bb, sizeof(*at));
	at->name = WV_PTR(name);
	at->flags = WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
		    WEAVE_ATTACH_PERSIST;
	at->mode = 0600;
	ASSERT_EQ(0, wv_ioctl(fd, wv_cmd(0x01, sizeof(*at) + TAIL), at));
	EXPECT_EQ(WEAVE_ATTACH_CREATED, at->result);
	EXPECT_GT(at->id, 0);
	EXPECT_TRUE(guard_ok(&bb, sizeof(*at)));
	close(fd);

	u = init_big(&bb, sizeof(*u));
	u->name = WV_PTR(name);
	EXPECT_EQ(0, wv_ioctl(self->ufd, wv_cmd(0x02, sizeof(*u) + TAIL), u));
	EXPECT_EQ(-ENOENT, wv_unlink(self->ufd, name));
}

/*
 * An argument whose input fields sit at the end of a read-only page and
 * whose output fields start the next, writable, page: the kernel writes
 * only a command's output fields, so it succeeds. A command with no
 * output works from a read-only page entirely.
 */
static void *arg_split(unsigned char *two_pages, size_t ps, size_t in_len,
		       const void *arg, size_t size)
{
	unsigned char *p = two_pages + ps - in_len;

	memcpy(p, arg, size);
	return p;
}

TEST_F(api, copy_back_only_out_fields)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	struct weave_watch_args wa = { .key = 5, .events = WEAVE_EV_ALL };
	struct weave_unlock_args un = { .key = 5 };
	struct weave_stat_args st = { .key = 5 };
	struct weave_set_args set = { .key = 5 };
	struct weave_lock_args lk = { .key = 5 };
	unsigned char *m;
	char val[4] = "abc";
	void *set_p, *st_p, *lk_p, *un_p, *wa_p;

	m = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	set.buf = WV_PTR(val);
	set.len = sizeof(val);
	set_p = arg_split(m, ps, offsetof(struct weave_set_args, gen),
			  &set, sizeof(set));
	/* the rest of the first page: arguments with no output at all */
	un_p = memcpy(m, &un, sizeof(un));
	wa_p = memcpy(m + 64, &wa, sizeof(wa));
	ASSERT_EQ(0, mprotect(m, ps, PROT_READ));

	ASSERT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_SET, set_p));
	EXPECT_GT(((struct weave_set_args *)set_p)->gen, 0);
	EXPECT_EQ(5, ((struct weave_set_args *)set_p)->key);
	EXPECT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_WATCH, wa_p));

	/* a page per command: each one's outputs start the writable page */
	ASSERT_EQ(0, mprotect(m, ps, PROT_READ | PROT_WRITE));
	st_p = arg_split(m, ps, offsetof(struct weave_stat_args, gen),
			 &st, sizeof(st));
	ASSERT_EQ(0, mprotect(m, ps, PROT_READ));
	ASSERT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_STAT, st_p));
	EXPECT_EQ(sizeof(val), ((struct weave_stat_args *)st_p)->size);

	ASSERT_EQ(0, mprotect(m, ps, PROT_READ | PROT_WRITE));
	lk_p = arg_split(m, ps, offsetof(struct weave_lock_args, result),
			 &lk, sizeof(lk));
	memcpy(m, &un, sizeof(un));
	ASSERT_EQ(0, mprotect(m, ps, PROT_READ));
	ASSERT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_LOCK, lk_p));
	EXPECT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_UNLOCK, un_p));
	/* the lock is gone: a second unlock of it fails */
	EXPECT_NE(0, wv_ioctl(self->fd, WEAVE_IOC_UNLOCK, un_p));

	/* an output field in the read-only page still fails */
	ASSERT_EQ(0, mprotect(m, ps, PROT_READ | PROT_WRITE));
	set_p = arg_split(m, ps, sizeof(set), &set, sizeof(set));
	ASSERT_EQ(0, mprotect(m, ps, PROT_READ));
	EXPECT_EQ(-EFAULT, wv_ioctl(self->fd, WEAVE_IOC_SET, set_p));
	munmap(m, 2 * ps);
}

TEST_F(api, larger_struct_nonzero_tail)
{
	unsigned char buf[512];
	size_t i, t;
	struct weave_batch_op bop;
	char name[64];
	__u64 keys[4];

	ASSERT_EQ(0, wv_set(self->fd, 5, "hello", 5, 0, NULL));
	wv_name(name, sizeof(name), "api-e2big");

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		size_t size = cmds[i].cur;
		int fd = cmds[i].registry ? self->fd : self->ufd;

		for (t = 0; t < TAIL; t += 7) {
			memset(buf, 0, sizeof(buf));
			/* A valid request in the known part. */
			switch (cmds[i].nr) {
			case 0x00:
				((struct weave_api_args *)buf)->api = WEAVE_API;
				break;
			case 0x01:
				((struct weave_attach_args *)buf)->name = WV_PTR(name);
				((struct weave_attach_args *)buf)->flags =
					WEAVE_ATTACH_CREATE;
				((struct weave_attach_args *)buf)->mode = 0600;
				break;
			case 0x02:
				((struct weave_unlink_args *)buf)->name = WV_PTR(name);
				break;
			case 0x10:
				((struct weave_set_args *)buf)->key = 6;
				((struct weave_set_args *)buf)->buf = WV_PTR("abc");
				((struct weave_set_args *)buf)->len = 3;
				break;
			case 0x11:
			case 0x16:
			case 0x14:
				*(__u64 *)buf = 5;	/* key */
				break;
			case 0x12:
				((struct weave_write_args *)buf)->key = 5;
				((struct weave_write_args *)buf)->buf = WV_PTR("Z");
				((struct weave_write_args *)buf)->len = 1;
				break;
			case 0x13:
				((struct weave_resize_args *)buf)->key = 5;
				((struct weave_resize_args *)buf)->size = 1;
				break;
			case 0x17:
				((struct weave_list_args *)buf)->keys = WV_PTR(keys);
				((struct weave_list_args *)buf)->count = 4;
				break;
			case 0x18:
				((struct weave_batch_args *)buf)->ops = WV_PTR(&bop);
				((struct weave_batch_args *)buf)->count = 1;
				((struct weave_batch_args *)buf)->op_size =
					sizeof(bop);
				bop = (struct weave_batch_op){
					.op = WEAVE_BATCH_SET, .key = 6,
					.buf = WV_PTR("abc"), .len = 3,
				};
				break;
			}
			buf[size + t] = 1;
			EXPECT_EQ(-E2BIG, wv_ioctl(fd,
					wv_cmd(cmds[i].nr, size + TAIL), buf))
				TH_LOG("%s tail byte %zu", cmds[i].name, t);
		}
	}

	/* None of them did anything. */
	struct weave_get_args g;
	char out[8];

	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 6, NULL));
	ASSERT_EQ(0, wv_get(self->fd, 5, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(5, g.size);
	EXPECT_EQ(0, memcmp(out, "hello", 5));
	EXPECT_EQ(-ENOENT, wv_unlink(self->ufd, name));
	EXPECT_EQ(-EBADFD, wv_ioctl(self->ufd, WEAVE_IOC_INFO,
				    &(struct weave_info_args){ 0 }));
}

/* The re-declared newer structures, as a program built later would. */
TEST_F(api, newer_header)
{
	struct weave_set_v1 s = { .key = 9, .buf = WV_PTR("new"), .len = 3 };
	struct weave_stat_v1 st;

	ASSERT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_SET_V1, &s));
	EXPECT_GT(s.gen, 0);
	EXPECT_EQ(0, s.future);

	memset(&st, 0, sizeof(st));
	st.v0.key = 9;
	ASSERT_EQ(0, wv_ioctl(self->fd, WEAVE_IOC_STAT_V1, &st));
	EXPECT_EQ(3, st.v0.size);
	EXPECT_EQ(s.gen, st.v0.gen);
	EXPECT_EQ(0, st.future[0]);
	EXPECT_EQ(0, st.future[1]);

	s.gen = 0;
	s.future = 42;
	s.len = 1;
	EXPECT_EQ(-E2BIG, wv_ioctl(self->fd, WEAVE_IOC_SET_V1, &s));
	memset(&st, 0, sizeof(st));
	st.v0.key = 9;
	st.future[1] = 1;
	EXPECT_EQ(-E2BIG, wv_ioctl(self->fd, WEAVE_IOC_STAT_V1, &st));
	/* The refused SET changed nothing. */
	EXPECT_EQ(0, wv_stat(self->fd, 9, &st.v0));
	EXPECT_EQ(3, st.v0.size);
}

TEST_F(api, out_fields_nonzero)
{
	char b[16] = "0123456789";
	int fd = self->fd;

	ASSERT_EQ(0, wv_set(fd, 1, b, 10, 0, NULL));

	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_SET, &(struct weave_set_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .gen = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_GET, &(struct weave_get_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .size = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_GET, &(struct weave_get_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .gen = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_GET, &(struct weave_get_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .copied = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_WRITE, &(struct weave_write_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .size = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_WRITE, &(struct weave_write_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .gen = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_RESIZE, &(struct weave_resize_args){
		.key = 1, .size = 1, .gen = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_DELETE, &(struct weave_delete_args){
		.key = 1, .gen = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_CLEAR, &(struct weave_clear_args){
		.count = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_CLEAR, &(struct weave_clear_args){
		.gen = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .gen = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .size = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .birth = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .map_offset = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .map_size = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .data_offset = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .slot = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_INFO, &(struct weave_info_args){
		.id = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_INFO, &(struct weave_info_args){
		.entry_span = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_INFO, &(struct weave_info_args){
		.count = 1 }));

	/* ATTACH, on a file that stays unattached. */
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_ATTACH,
		&(struct weave_attach_args){ .flags = WEAVE_ATTACH_ANON, .id = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_ATTACH,
		&(struct weave_attach_args){ .flags = WEAVE_ATTACH_ANON,
					.index_size = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_ATTACH,
		&(struct weave_attach_args){ .flags = WEAVE_ATTACH_ANON,
					.result = 1 }));
	EXPECT_EQ(-EBADFD, wv_ioctl(self->ufd, WEAVE_IOC_INFO,
				    &(struct weave_info_args){ 0 }));

	/* None of the refused calls changed the entry. */
	struct weave_get_args g;
	char out[16];

	ASSERT_EQ(0, wv_get(fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(10, g.size);
	EXPECT_EQ(0, memcmp(out, b, 10));
}

TEST_F(api, reserved_nonzero)
{
	char b[4] = "abc";
	int fd = self->fd;
	char name[64];

	ASSERT_EQ(0, wv_set(fd, 1, b, 3, 0, NULL));
	wv_name(name, sizeof(name), "api-resv");

	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_SET, &(struct weave_set_args){
		.key = 2, .buf = WV_PTR(b), .len = 1, .reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_GET, &(struct weave_get_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_WRITE, &(struct weave_write_args){
		.key = 1, .buf = WV_PTR(b), .len = 1, .reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_RESIZE, &(struct weave_resize_args){
		.key = 1, .size = 1, .reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_DELETE, &(struct weave_delete_args){
		.key = 1, .reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_CLEAR, &(struct weave_clear_args){
		.reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT, &(struct weave_stat_args){
		.key = 1, .reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_ATTACH,
		&(struct weave_attach_args){ .flags = WEAVE_ATTACH_ANON,
					.reserved = 1 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_ATTACH,
		&(struct weave_attach_args){ .name = WV_PTR(name),
					.flags = WEAVE_ATTACH_CREATE,
					.mode = 0600, .reserved = 0x80000000 }));
	EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_UNLINK,
		&(struct weave_unlink_args){ .name = WV_PTR(name), .reserved = 1 }));

	EXPECT_EQ(-ENOENT, wv_stat(fd, 2, NULL));
	EXPECT_EQ(1, wv_count(fd));
	EXPECT_EQ(-ENOENT, wv_unlink(self->ufd, name));
}

TEST_F(api, unknown_flags)
{
	char b[4] = "abc";
	int fd = self->fd;
	__u64 keys[4];
	char name[64];
	int bit;

	ASSERT_EQ(0, wv_set(fd, 1, b, 3, 0, NULL));
	wv_name(name, sizeof(name), "api-flags");

	for (bit = 0; bit < 32; bit++) {
		__u32 f = 1U << bit;

		if (!(f & WEAVE_SET_VALID))
			EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_SET,
				&(struct weave_set_args){ .key = 2, .buf = WV_PTR(b),
						     .len = 1, .flags = f }));
		if (!(f & WEAVE_GET_VALID))
			EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_GET,
				&(struct weave_get_args){ .key = 1, .buf = WV_PTR(b),
						     .len = 1, .flags = f }));
		if (!(f & WEAVE_WRITE_VALID))
			EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_WRITE,
				&(struct weave_write_args){ .key = 1,
					.buf = WV_PTR("Q"), .len = 1,
					.flags = f }));
		if (!(f & WEAVE_RESIZE_VALID))
			EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_RESIZE,
				&(struct weave_resize_args){ .key = 1, .size = 1,
							.flags = f }));
		if (!(f & WEAVE_DELETE_VALID))
			EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_DELETE,
				&(struct weave_delete_args){ .key = 1, .flags = f }));
		if (!(f & WEAVE_CLEAR_VALID))
			EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_CLEAR,
				&(struct weave_clear_args){ .flags = f }));
		EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_STAT,
			&(struct weave_stat_args){ .key = 1, .flags = f }));
		EXPECT_EQ(-EINVAL, wv_ioctl(fd, WEAVE_IOC_LIST,
			&(struct weave_list_args){ .keys = WV_PTR(keys), .count = 4,
					      .flags = f }));
		EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_UNLINK,
			&(struct weave_unlink_args){ .name = WV_PTR(name),
						.flags = f }));
		if (!(f & WEAVE_ATTACH_VALID))
			EXPECT_EQ(-EINVAL, wv_ioctl(self->ufd, WEAVE_IOC_ATTACH,
				&(struct weave_attach_args){ .name = WV_PTR(name),
					.flags = WEAVE_ATTACH_CREATE | f,
					.mode = 0600 }));
	}

	/* Nothing changed. */
	struct weave_get_args g;
	char out[4];

	ASSERT_EQ(0, wv_get(fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(3, g.size);
	EXPECT_EQ(0, memcmp(out, "abc", 3));
	EXPECT_EQ(1, wv_count(fd));
	EXPECT_EQ(-ENOENT, wv_unlink(self->ufd, name));
}

/* WEAVE_OP_NONBLOCK is a known flag of every entry operation. */
TEST_F(api, nonblock_flag)
{
	struct weave_get_args g;
	__u64 count = 0;

	ASSERT_EQ(0, wv_set(self->fd, 1, "abc", 3, WEAVE_OP_NONBLOCK, NULL));
	EXPECT_EQ(0, wv_get(self->fd, 1, NULL, 0, 0, WEAVE_OP_NONBLOCK, &g));
	EXPECT_EQ(3, g.size);
	EXPECT_EQ(0, wv_write(self->fd, 1, 0, "x", 1, WEAVE_OP_NONBLOCK, NULL));
	EXPECT_EQ(0, wv_resize(self->fd, 1, 5, WEAVE_OP_NONBLOCK, NULL));
	EXPECT_EQ(0, wv_delete(self->fd, 1, WEAVE_OP_NONBLOCK, NULL));
	ASSERT_EQ(0, wv_set(self->fd, 2, "abc", 3, 0, NULL));
	EXPECT_EQ(0, wv_clear(self->fd, WEAVE_OP_NONBLOCK, &count, NULL));
	EXPECT_EQ(1, count);
}

TEST_F(api, bad_pointers)
{
	void *bad;
	char out[8];
	__u64 gen;
	size_t i;

	bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, munmap(bad, 4096));

	/* The argument itself. */
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		unsigned long cmd = wv_cmd(cmds[i].nr, cmds[i].size);
		int fd = cmds[i].registry ? self->fd : self->ufd;

		EXPECT_EQ(-EFAULT, wv_ioctl(fd, cmd, NULL))
			TH_LOG("%s NULL", cmds[i].name);
		EXPECT_EQ(-EFAULT, wv_ioctl(fd, cmd, bad))
			TH_LOG("%s unmapped", cmds[i].name);
	}

	/* Pointers inside the structures. */
	ASSERT_EQ(0, wv_set(self->fd, 1, "abcdef", 6, 0, &gen));
	EXPECT_EQ(-EFAULT, wv_set(self->fd, 2, bad, 6, 0, NULL));
	EXPECT_EQ(-EFAULT, wv_set(self->fd, 1, bad, 6, 0, NULL));
	EXPECT_EQ(-EFAULT, wv_get(self->fd, 1, bad, 6, 0, 0, NULL));
	EXPECT_EQ(-EFAULT, wv_write(self->fd, 1, 0, bad, 6, 0, NULL));
	__u64 cursor = 0;

	EXPECT_EQ(-EFAULT, wv_list(self->fd, &cursor, bad, 4));
	EXPECT_EQ(-EFAULT, wv_attach(self->ufd, bad, WEAVE_ATTACH_CREATE,
				     0600, 0, NULL));
	EXPECT_EQ(-EFAULT, wv_unlink(self->ufd, bad));

	/* A failed SET of an existing key did not corrupt it. */
	struct weave_get_args g;

	ASSERT_EQ(0, wv_get(self->fd, 1, out, sizeof(out), 0, 0, &g));
	EXPECT_EQ(6, g.size);
	if (g.gen == gen)
		EXPECT_EQ(0, memcmp(out, "abcdef", 6));
	EXPECT_EQ(-EBADFD, wv_ioctl(self->ufd, WEAVE_IOC_INFO,
				    &(struct weave_info_args){ 0 }));
}

TEST_F(api, unattached)
{
	int fd = self->ufd;
	__u64 keys[4], cursor = 0;
	char b[8];
	void *p;

	EXPECT_EQ(-EBADFD, wv_ioctl(fd, WEAVE_IOC_INFO,
				    &(struct weave_info_args){ 0 }));
	EXPECT_EQ(-EBADFD, wv_set(fd, 1, "a", 1, 0, NULL));
	EXPECT_EQ(-EBADFD, wv_get(fd, 1, b, sizeof(b), 0, 0, NULL));
	EXPECT_EQ(-EBADFD, wv_write(fd, 1, 0, "a", 1, 0, NULL));
	EXPECT_EQ(-EBADFD, wv_resize(fd, 1, 1, 0, NULL));
	EXPECT_EQ(-EBADFD, wv_delete(fd, 1, 0, NULL));
	EXPECT_EQ(-EBADFD, wv_clear(fd, 0, NULL, NULL));
	EXPECT_EQ(-EBADFD, wv_stat(fd, 1, NULL));
	EXPECT_EQ(-EBADFD, wv_list(fd, &cursor, keys, 4));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBADFD, errno);
	if (p != MAP_FAILED)
		munmap(p, 4096);

	/* API and UNLINK work unattached. */
	struct weave_api_args a;

	EXPECT_EQ(0, wv_api(fd, &a));
	EXPECT_EQ(-ENOENT, wv_unlink(fd, "wvt-no-such-registry"));
}

TEST_F(api, double_attach)
{
	struct weave_info_args before, after;
	char name[64];

	ASSERT_EQ(0, wv_info(self->fd, &before));
	wv_name(name, sizeof(name), "api-busy");

	EXPECT_EQ(-EBUSY, wv_attach(self->fd, NULL, WEAVE_ATTACH_ANON, 0600,
				    0, NULL));
	EXPECT_EQ(-EBUSY, wv_attach(self->fd, name, WEAVE_ATTACH_CREATE,
				    0600, 0, NULL));
	ASSERT_EQ(0, wv_info(self->fd, &after));
	EXPECT_EQ(before.id, after.id);
	EXPECT_TRUE(after.flags & WEAVE_INFO_ANON);
	/* The refused named attach created nothing. */
	EXPECT_EQ(-ENOENT, wv_attach(self->ufd, name, 0, 0, 0, NULL));

	/* A named handle too. */
	ASSERT_EQ(0, wv_attach(self->ufd, name, WEAVE_ATTACH_CREATE, 0600, 0,
			       NULL));
	EXPECT_EQ(-EBUSY, wv_attach(self->ufd, name, WEAVE_ATTACH_CREATE,
				    0600, 0, NULL));
	EXPECT_EQ(-EBUSY, wv_attach(self->ufd, NULL, WEAVE_ATTACH_ANON, 0600,
				    0, NULL));
}

TEST_HARNESS_MAIN
