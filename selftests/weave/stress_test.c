// SPDX-License-Identifier: GPL-2.0
/*
 * Four processes mix set, get, write, resize, delete, stat and list on
 * one registry for a few seconds, and check every result:
 *
 * - keys 1..48 are owned, 12 per process: only the owner changes them,
 *   and it keeps an exact model (bytes, size, gen) to compare with;
 * - keys 49..64 are shared: everyone changes them, so only invariants
 *   are checked. Every value is a sequence of 16-byte records
 *   { key, writer, counter } or zero records (a gap left by write or
 *   resize); sizes stay multiples of 16.
 *
 * Gens: a change a process makes gets a gen larger than any gen it saw
 * before (of any key), and the gens it sees of one key never go back.
 * At the end the registry's count equals a walk's, and each owned key
 * holds exactly what its owner wrote last.
 */
#include <stdarg.h>
#include "weave_proc.h"

#include "kselftest_harness.h"

#define NPROC		4
#define OWNED_PER	12
#define NOWNED		(NPROC * OWNED_PER)
#define NKEYS		64
#define REC		16
#define MAXVAL		6144
#define SECONDS		4.0

struct rec {
	__u64 key;
	__u32 writer;
	__u32 counter;
};

struct model {
	bool present;
	__u64 size;
	__u64 gen;
	unsigned char bytes[MAXVAL];
};

struct shared {
	struct model owned[NOWNED + 1];		/* by key */
	__u64 ops[NPROC];
	char why[NPROC][200];
};

struct worker {
	int fd, me;
	struct shared *sh;
	__u64 rng;
	__u32 counter;
	__u64 max_seen;			/* largest gen seen, any key */
	__u64 last_seen[NKEYS + 1];	/* per key */
	unsigned char buf[MAXVAL + 64], buf2[MAXVAL + 64];
};

static __u64 rnd(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* Record why this worker failed; returns -1. */
static int __attribute__((format(printf, 2, 3)))
fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->sh->why[w->me], sizeof(w->sh->why[0]), fmt, ap);
	va_end(ap);
	return -1;
}

/* A gen seen for @key, not from this process's own change. */
static int seen(struct worker *w, __u64 key, __u64 gen, const char *op)
{
	if (gen < w->last_seen[key])
		return fail(w, "%s key %llu: gen %llu went back from %llu", op,
			    (unsigned long long)key, (unsigned long long)gen,
			    (unsigned long long)w->last_seen[key]);
	w->last_seen[key] = gen;
	if (gen > w->max_seen)
		w->max_seen = gen;
	return 0;
}

/* The gen of a change this process made. */
static int changed(struct worker *w, __u64 key, __u64 gen, const char *op)
{
	if (gen <= w->max_seen)
		return fail(w, "%s key %llu: new gen %llu not above %llu seen", op,
			    (unsigned long long)key, (unsigned long long)gen,
			    (unsigned long long)w->max_seen);
	return seen(w, key, gen, op);
}

static size_t fill(struct worker *w, __u64 key, unsigned char *p,
		   size_t len)
{
	struct rec r = { .key = key, .writer = w->me, .counter = ++w->counter };
	size_t i;

	for (i = 0; i + REC <= len; i += REC)
		memcpy(p + i, &r, REC);
	return len;
}

/* Shared-key content: whole records, each zero or well-formed. */
static int well_formed(struct worker *w, __u64 key, const unsigned char *p,
		       __u64 size)
{
	static const struct rec zero;
	__u64 i;

	if (size % REC)
		return fail(w, "key %llu: size %llu not whole records",
			    (unsigned long long)key, (unsigned long long)size);
	for (i = 0; i < size; i += REC) {
		struct rec r;

		memcpy(&r, p + i, REC);
		if (!memcmp(&r, &zero, REC))
			continue;
		if (r.key != key || r.writer >= NPROC || !r.counter)
			return fail(w, "key %llu: bad record at %llu: %llu/%u/%u",
				    (unsigned long long)key, (unsigned long long)i,
				    (unsigned long long)r.key, r.writer, r.counter);
	}
	return 0;
}

static __u64 pick_size(struct worker *w)
{
	/* mostly small (shared cells), sometimes pages */
	if (rnd(w) % 10 == 0)
		return (2048 + rnd(w) % (MAXVAL - 2048)) / REC * REC;
	return rnd(w) % 40 * REC;
}

static int owned_op(struct worker *w, __u64 key)
{
	struct model *m = &w->sh->owned[key];
	struct weave_stat_args st;
	struct weave_write_args wr;
	struct weave_get_args g;
	__u64 gen, size, off;
	int ret;

	switch (rnd(w) % 7) {
	case 0:
	case 1:		/* set */
		size = pick_size(w);
		fill(w, key, w->buf, size);
		ret = wv_set(w->fd, key, w->buf, size, 0, &gen);
		if (ret)
			return fail(w, "set owned %llu: %d", (unsigned long long)key,
				    ret);
		if (changed(w, key, gen, "set"))
			return -1;
		memcpy(m->bytes, w->buf, size);
		m->size = size;
		m->gen = gen;
		m->present = true;
		return 0;
	case 2:		/* write */
		off = rnd(w) % (MAXVAL / 2 / REC) * REC;
		size = rnd(w) % 20 * REC;
		if (off + size > MAXVAL)
			size = 0;
		fill(w, key, w->buf, size);
		ret = wv_write(w->fd, key, off, w->buf, size, 0, &wr);
		if (!m->present) {
			if (ret != -ENOENT)
				return fail(w, "write absent %llu: %d",
					    (unsigned long long)key, ret);
			return 0;
		}
		if (ret)
			return fail(w, "write owned %llu: %d",
				    (unsigned long long)key, ret);
		if (changed(w, key, wr.gen, "write"))
			return -1;
		if (size && off > m->size)
			memset(m->bytes + m->size, 0, off - m->size);
		memcpy(m->bytes + off, w->buf, size);
		if (size && off + size > m->size)
			m->size = off + size;
		if (wr.size != m->size)
			return fail(w, "write %llu: size %llu, expected %llu",
				    (unsigned long long)key,
				    (unsigned long long)wr.size,
				    (unsigned long long)m->size);
		m->gen = wr.gen;
		return 0;
	case 3:		/* resize */
		size = pick_size(w);
		ret = wv_resize(w->fd, key, size, 0, &gen);
		if (!m->present) {
			if (ret != -ENOENT)
				return fail(w, "resize absent %llu: %d",
					    (unsigned long long)key, ret);
			return 0;
		}
		if (ret)
			return fail(w, "resize owned %llu: %d",
				    (unsigned long long)key, ret);
		if (changed(w, key, gen, "resize"))
			return -1;
		if (size > m->size)
			memset(m->bytes + m->size, 0, size - m->size);
		m->size = size;
		m->gen = gen;
		return 0;
	case 4:		/* delete */
		ret = wv_delete(w->fd, key, 0, &gen);
		if (!m->present) {
			if (ret != -ENOENT)
				return fail(w, "delete absent %llu: %d",
					    (unsigned long long)key, ret);
			return 0;
		}
		if (ret)
			return fail(w, "delete owned %llu: %d",
				    (unsigned long long)key, ret);
		if (changed(w, key, gen, "delete"))
			return -1;
		m->present = false;
		return 0;
	case 5:		/* stat */
		ret = wv_stat(w->fd, key, &st);
		if (!m->present) {
			if (ret != -ENOENT)
				return fail(w, "stat absent %llu: %d",
					    (unsigned long long)key, ret);
			return 0;
		}
		if (ret || st.size != m->size || st.gen != m->gen)
			return fail(w, "stat owned %llu: %d size %llu gen %llu, "
				    "expected %llu %llu", (unsigned long long)key,
				    ret, (unsigned long long)st.size,
				    (unsigned long long)st.gen,
				    (unsigned long long)m->size,
				    (unsigned long long)m->gen);
		return 0;
	default:	/* get */
		ret = wv_get(w->fd, key, w->buf2, sizeof(w->buf2), 0, 0, &g);
		if (!m->present) {
			if (ret != -ENOENT)
				return fail(w, "get absent %llu: %d",
					    (unsigned long long)key, ret);
			return 0;
		}
		if (ret || g.size != m->size || g.copied != m->size ||
		    g.gen != m->gen || memcmp(w->buf2, m->bytes, m->size))
			return fail(w, "get owned %llu: %d size %llu gen %llu, "
				    "expected %llu %llu, bytes %s",
				    (unsigned long long)key, ret,
				    (unsigned long long)g.size,
				    (unsigned long long)g.gen,
				    (unsigned long long)m->size,
				    (unsigned long long)m->gen,
				    memcmp(w->buf2, m->bytes, m->size) ? "differ" :
				    "same");
		return 0;
	}
}

static int shared_op(struct worker *w, __u64 key)
{
	struct weave_stat_args st;
	struct weave_write_args wr;
	struct weave_get_args g;
	__u64 gen, size, off;
	int ret;

	switch (rnd(w) % 7) {
	case 0:		/* set */
		size = pick_size(w);
		fill(w, key, w->buf, size);
		ret = wv_set(w->fd, key, w->buf, size, 0, &gen);
		if (ret)
			return fail(w, "set shared %llu: %d", (unsigned long long)key,
				    ret);
		return changed(w, key, gen, "set");
	case 1:		/* write */
		off = rnd(w) % (MAXVAL / 2 / REC) * REC;
		size = rnd(w) % 20 * REC;
		fill(w, key, w->buf, size);
		ret = wv_write(w->fd, key, off, w->buf, size, 0, &wr);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return fail(w, "write shared %llu: %d",
				    (unsigned long long)key, ret);
		if ((size && wr.size < off + size) || wr.size % REC)
			return fail(w, "write shared %llu: size %llu after %llu+%llu",
				    (unsigned long long)key,
				    (unsigned long long)wr.size,
				    (unsigned long long)off, (unsigned long long)size);
		return changed(w, key, wr.gen, "write");
	case 2:		/* resize */
		ret = wv_resize(w->fd, key, pick_size(w), 0, &gen);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return fail(w, "resize shared %llu: %d",
				    (unsigned long long)key, ret);
		return changed(w, key, gen, "resize");
	case 3:		/* delete, sometimes */
		if (rnd(w) % 3)
			return 0;
		ret = wv_delete(w->fd, key, 0, &gen);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return fail(w, "delete shared %llu: %d",
				    (unsigned long long)key, ret);
		return changed(w, key, gen, "delete");
	case 4:		/* stat */
		ret = wv_stat(w->fd, key, &st);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return fail(w, "stat shared %llu: %d",
				    (unsigned long long)key, ret);
		if (st.size % REC || st.birth > st.gen)
			return fail(w, "stat shared %llu: size %llu birth %llu gen "
				    "%llu", (unsigned long long)key,
				    (unsigned long long)st.size,
				    (unsigned long long)st.birth,
				    (unsigned long long)st.gen);
		return seen(w, key, st.gen, "stat");
	default:	/* get */
		memset(w->buf2, 0xEE, sizeof(w->buf2));
		ret = wv_get(w->fd, key, w->buf2, sizeof(w->buf2), 0, 0, &g);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return fail(w, "get shared %llu: %d",
				    (unsigned long long)key, ret);
		if (g.size > MAXVAL || g.copied != g.size)
			return fail(w, "get shared %llu: size %llu copied %llu",
				    (unsigned long long)key,
				    (unsigned long long)g.size,
				    (unsigned long long)g.copied);
		if (well_formed(w, key, w->buf2, g.size))
			return -1;
		return seen(w, key, g.gen, "get");
	}
}

/* A whole walk: keys in range, own present keys exactly once. */
static int walk(struct worker *w)
{
	__u64 keys[4 * NKEYS];
	int count[NKEYS + 1] = { 0 };
	long n, i;
	__u64 k;

	n = wv_list_all(w->fd, keys, 4 * NKEYS, 1 + rnd(w) % 10);
	if (n < 0)
		return fail(w, "list: %ld", n);
	for (i = 0; i < n; i++) {
		if (keys[i] < 1 || keys[i] > NKEYS)
			return fail(w, "list: key %llu", (unsigned long long)keys[i]);
		count[keys[i]]++;
	}
	for (k = 1 + w->me * OWNED_PER; k <= (w->me + 1) * OWNED_PER; k++) {
		int want = w->sh->owned[k].present;

		if (count[k] != want)
			return fail(w, "list: own key %llu %d times, expected %d",
				    (unsigned long long)k, count[k], want);
	}
	return 0;
}

static int work(struct worker *w, double end)
{
	while (wv_now() < end) {
		__u64 r = rnd(w) % 100, key;
		int ret;

		if (r < 3)
			ret = walk(w);
		else if (r < 50) {
			key = 1 + w->me * OWNED_PER + rnd(w) % OWNED_PER;
			ret = owned_op(w, key);
		} else {
			key = NOWNED + 1 + rnd(w) % (NKEYS - NOWNED);
			ret = shared_op(w, key);
		}
		if (ret)
			return ret;
		w->sh->ops[w->me]++;
	}
	return walk(w);
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, four_processes, 90)
{
	struct shared *sh;
	struct worker *w;
	pid_t pid[NPROC];
	__u64 keys[4 * NKEYS], k;
	double end;
	long n;
	int fd, i;

	fd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 2 * NKEYS, NULL);
	ASSERT_GE(fd, 0) TH_LOG("open+attach: %s", strerror(-fd));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);

	end = wv_now() + SECONDS;
	for (i = 0; i < NPROC; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0) {
			w = calloc(1, sizeof(*w));
			if (!w)
				_exit(2);
			w->fd = fd;
			w->me = i;
			w->sh = sh;
			w->rng = 0x9E3779B97F4A7C15ULL * (i + 1) ^ getpid();
			_exit(work(w, end) ? 1 : 0);
		}
	}
	for (i = 0; i < NPROC; i++) {
		EXPECT_EQ(0, wv_wait_pid(pid[i])) TH_LOG("worker %d: %s", i,
							 sh->why[i]);
		EXPECT_GT(sh->ops[i], 50) TH_LOG("worker %d did %llu ops", i,
						 (unsigned long long)sh->ops[i]);
	}

	/* The checker. */
	n = wv_list_all(fd, keys, 4 * NKEYS, 16);
	ASSERT_GE(n, 0);
	EXPECT_EQ(wv_count(fd), n);
	for (k = 1; k <= NOWNED; k++) {
		struct model *m = &sh->owned[k];
		unsigned char *buf = malloc(MAXVAL + 64);
		struct weave_get_args g;
		int ret;
		bool listed = false;
		long j;

		ASSERT_NE(NULL, buf);
		for (j = 0; j < n; j++)
			listed |= keys[j] == k;
		EXPECT_EQ(m->present, listed) TH_LOG("key %llu",
						     (unsigned long long)k);
		ret = wv_get(fd, k, buf, MAXVAL + 64, 0, 0, &g);
		if (!m->present) {
			EXPECT_EQ(-ENOENT, ret);
		} else {
			EXPECT_EQ(0, ret);
			EXPECT_EQ(m->size, g.size);
			EXPECT_EQ(m->gen, g.gen);
			EXPECT_EQ(0, memcmp(buf, m->bytes, m->size))
				TH_LOG("key %llu", (unsigned long long)k);
		}
		free(buf);
	}
	TH_LOG("ops: %llu %llu %llu %llu, %ld keys at the end",
	       (unsigned long long)sh->ops[0], (unsigned long long)sh->ops[1],
	       (unsigned long long)sh->ops[2], (unsigned long long)sh->ops[3],
	       n);
	munmap(sh, sizeof(*sh));
	close(fd);
}

TEST_HARNESS_MAIN
