// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: while failslab and fail_page_alloc make this task's
 * kernel allocations fail, every weave operation either succeeds or fails
 * cleanly - with ENOMEM, having changed nothing - and afterwards, with
 * injection off, the registry agrees with a model of what succeeded: INFO
 * count, a LIST walk, STAT and GET of every key, the mapped index (count,
 * gen, slots, lock state), and every change a watcher was not told about
 * was announced by an overflow record.
 *
 * Two ways to inject:
 *  - systematic: /proc/thread-self/fail-nth fails the 1st, then the 2nd,
 *    ... allocation of one operation, until the operation runs to its end
 *    without reaching the nth, so every allocation on its path fails once;
 *  - random: the debugfs knobs of failslab and fail_page_alloc fail a
 *    share of the allocations of this task only (task-filter plus
 *    /proc/thread-self/make-it-fail) over thousands of random operations.
 *
 * The operations: open/attach (named, anonymous, persistent), set of
 * small and large values, write, resize (grow, shrink, small to large),
 * get, stat, delete, clear, list, lock/unlock (also against another
 * file's locks and after an owner died), watch/unwatch, reading events,
 * wait, mmap of the index and of entries (read through the mapping while
 * injecting), unlink, close.
 *
 * Only ENOMEM is accepted as an injected failure; any other errno, a
 * signal while reading a mapping, or an operation that failed but left a
 * trace (a gen handed out, an event) fails the test. The test also fails
 * when too few allocations were failed to prove anything, and when the
 * kernel log got a warning. It needs the debug kernel's fault injection
 * (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)
 * and skips without it. Injection is switched off on every way out.
 */
#include <stdarg.h>
#include <sys/prctl.h>

#include "weave_proc.h"

#include "kselftest_harness.h"

#define FI_SLAB		"/sys/kernel/debug/failslab/"
#define FI_PAGE		"/sys/kernel/debug/fail_page_alloc/"
#define FI_MIF		"/proc/thread-self/make-it-fail"
#define FI_NTH		"/proc/thread-self/fail-nth"

#define NKEYS		80	/* more than one index page of slots */
#define NSLOTS		200
#define VMAX		(3 * 4096 + 300)
#define NEV		64

/* Lock modes of a key, for the model. */
#define LK_NONE		0
#define LK_S		1
#define LK_X		2

/* Keys another file holds locked for the whole test. */
#define KEY_OTHER_X	(NKEYS)
#define KEY_OTHER_S	(NKEYS - 1)

struct mkey {
	bool live;
	bool watched;		/* a per-key watch of c.wfd */
	bool owner_died;
	bool sealed;		/* set with WEAVE_SET_SEAL */
	unsigned char mine;	/* lock c.fd holds */
	unsigned char other;	/* lock c.ofd holds */
	__u64 gen;		/* the entry's gen (0: none) */
	__u64 size;
	__u64 evmin;		/* a watcher must have seen at least this gen */
	__u64 seen;		/* highest gen a record of the watcher carried */
	unsigned char val[VMAX];	/* zero past size */
};

static struct {
	int fd;			/* the handle the operations use */
	int wfd;		/* a watcher: wide watch, O_NONBLOCK */
	int ofd;		/* another handle, holding locks */
	int kmsg;
	char name[64];		/* the registry */
	char pname[64];		/* a persistent registry made and unlinked */
	bool pexists;
	__u64 index_size;
	__u64 rgen;		/* latest gen handed out */
	unsigned long overflows;
	unsigned long ops, wanted, enomem;
	bool injecting;		/* ENOMEM is a failure when false */
	bool mif;		/* make-it-fail is set */
	bool failed;
	char msg[512];
	__u64 rnd;
	struct mkey k[NKEYS + 1];
	unsigned char buf[VMAX], buf2[VMAX];
	unsigned char idx[16 * 4096];	/* a copy of the index map */
	struct weave_event ev[NEV];
	__u64 keys[NSLOTS + 1];
	__u64 batch[16];
} c;

/* --- injection control ---------------------------------------------------- */

static int fi_mif = -1, fi_nth = -1;

static int fi_write(const char *path, const char *val)
{
	ssize_t len = (ssize_t)strlen(val);
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static bool fi_available(void)
{
	return !access(FI_SLAB "probability", W_OK) &&
	       !access(FI_PAGE "probability", W_OK) &&
	       !access(FI_MIF, W_OK) && !access(FI_NTH, W_OK);
}

/* This task's allocations fail (with the debugfs settings) or not. */
static void fi_task(bool on)
{
	c.injecting = on;
	c.mif = on;
	if (fi_mif >= 0 && pwrite(fi_mif, on ? "1" : "0", 1, 0) != 1)
		abort();
}

/* Fail the @n-th allocation of this task from now on (0: none). */
static void fi_nth_set(unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	c.injecting = n;
	if (fi_nth >= 0 && pwrite(fi_nth, s, len, 0) != len)
		abort();
}

static unsigned int fi_nth_get(void)
{
	char s[16] = "";

	if (pread(fi_nth, s, sizeof(s) - 1, 0) <= 0)
		abort();
	return (unsigned int)strtoul(s, NULL, 10);
}

/*
 * Everything off: safe to call from any process, any number of times,
 * from a signal handler too (only open/write/close).
 */
static void fi_all_off(void)
{
	fi_task(false);
	fi_nth_set(0);
	fi_write(FI_SLAB "probability", "0");
	fi_write(FI_PAGE "probability", "0");
}

/*
 * Fail @percent of this task's allocations, slab and page, of every
 * order and gfp, once make-it-fail is set.
 */
static int fi_setup(int percent)
{
	static const char * const dirs[] = { FI_SLAB, FI_PAGE };
	static const struct { const char *file, *val; } knobs[] = {
		{ "probability", "0" }, { "task-filter", "Y" },
		{ "ignore-gfp-wait", "N" }, { "interval", "1" },
		{ "times", "-1" }, { "space", "0" }, { "verbose", "0" },
	};
	char path[128], val[16];
	unsigned int d, i;
	int ret;

	for (d = 0; d < ARRAY_SIZE(dirs); d++) {
		for (i = 0; i < ARRAY_SIZE(knobs); i++) {
			snprintf(path, sizeof(path), "%s%s", dirs[d],
				 knobs[i].file);
			ret = fi_write(path, knobs[i].val);
			if (ret)
				return ret;
		}
	}
	ret = fi_write(FI_SLAB "cache-filter", "N") ?:
	      fi_write(FI_PAGE "ignore-gfp-highmem", "N") ?:
	      fi_write(FI_PAGE "min-order", "0");
	if (ret)
		return ret;
	snprintf(val, sizeof(val), "%d", percent);
	return fi_write(FI_SLAB "probability", val) ?:
	       fi_write(FI_PAGE "probability", val);
}

/*
 * The harness runs each test in a child: a test that dies or times out
 * runs no teardown, so the main process resets the global knobs when it
 * exits or is killed by the runner's timeout. make-it-fail dies with the
 * task that set it.
 */
static void __attribute__((constructor)) fi_guard(void)
{
	wv_on_kill(fi_all_off);
}

static void __attribute__((destructor)) fi_guard_exit(void)
{
	if (fi_available())
		fi_all_off();
}

/* --- failures and the model ------------------------------------------------ */

static void failf(const char *fmt, ...)
{
	va_list ap;

	/* Stop injecting first: printing needs memory too. */
	fi_task(false);
	fi_nth_set(0);
	if (c.failed)
		return;
	c.failed = true;
	va_start(ap, fmt);
	vsnprintf(c.msg, sizeof(c.msg), fmt, ap);
	va_end(ap);
}

static unsigned int rnd(void)
{
	c.rnd ^= c.rnd << 13;
	c.rnd ^= c.rnd >> 7;
	c.rnd ^= c.rnd << 17;
	return (unsigned int)(c.rnd >> 11);
}

static const char *err_name(int ret)
{
	return ret ? strerror(-ret) : "success";
}

/*
 * Judge the result @ret of an operation that, without injection, gives
 * @want. True when it did (the caller applies it to the model); ENOMEM
 * is the one accepted injected failure.
 */
static bool judge(const char *op, __u64 key, int ret, int want)
{
	c.ops++;
	if (ret == want) {
		c.wanted++;
		return true;
	}
	if (ret == -ENOMEM && c.injecting) {
		c.enomem++;
		return false;
	}
	failf("%s key %llu: %s, expected %s", op, (unsigned long long)key,
	      err_name(ret), err_name(want));
	return false;
}

/* A change of @k succeeded with @gen: newer than every gen before. */
static void took_gen(const char *op, __u64 k, __u64 gen)
{
	if (gen <= c.rgen)
		failf("%s key %llu: gen %llu not above %llu", op,
		      (unsigned long long)k, (unsigned long long)gen,
		      (unsigned long long)c.rgen);
	c.rgen = gen;
	if (k)
		c.k[k].evmin = gen;
}

static unsigned long nlive(void)
{
	unsigned long n = 0;
	__u64 k;

	for (k = 1; k <= NKEYS; k++)
		n += c.k[k].live;
	return n;
}

static __u64 live_bytes(void)
{
	__u64 n = 0, k;

	for (k = 1; k <= NKEYS; k++)
		n += c.k[k].live ? c.k[k].size : 0;
	return n;
}

/* What an access of @k by c.fd gives, given the locks (ops never block). */
static int access_want(__u64 k, bool write)
{
	const struct mkey *m = &c.k[k];

	if (m->other == LK_X)
		return -EAGAIN;
	if (m->mine == LK_X || !write || (!m->mine && !m->other))
		return 0;
	if (m->mine == LK_S)
		return m->other ? -EDEADLK : 0;
	return -EAGAIN;
}

/* The same, for an operation on an existing entry. */
static int entry_want(__u64 k, bool write)
{
	int want = access_want(k, write);

	return want ?: (c.k[k].live ? 0 : -ENOENT);
}

/*
 * munmap() of a whole mapping can need memory too (the VMA tree), and a
 * mapping left behind would keep its file, and the file's locks, alive.
 * Not weave's business: retry without injection.
 */
static void unmap(void *p, size_t len)
{
	if (!munmap(p, len))
		return;
	if (errno != ENOMEM || !c.injecting) {
		failf("munmap: %s", strerror(errno));
		return;
	}
	if (fi_mif >= 0 && pwrite(fi_mif, "0", 1, 0) != 1)
		abort();
	if (munmap(p, len))
		failf("munmap: %s", strerror(errno));
	if (fi_mif >= 0 && pwrite(fi_mif, c.mif ? "1" : "0", 1, 0) != 1)
		abort();
}

/* --- the operations -------------------------------------------------------- */

/* Open and attach the registry by name; c.fd is -1 on failure. */
static void op_open(void)
{
	int fd = wv_open(c.name, O_RDWR, 0, 0, 0, NULL);

	c.fd = -1;
	if (judge("open+attach", 0, fd < 0 ? fd : 0, 0))
		c.fd = fd;
}

/* Close c.fd: its locks go, an exclusive one marked owner-died. */
static void op_close(void)
{
	__u64 k;

	if (c.fd < 0)
		return;
	close(c.fd);
	c.fd = -1;
	for (k = 1; k <= NKEYS; k++) {
		if (c.k[k].mine == LK_X)
			c.k[k].owner_died = true;
		c.k[k].mine = LK_NONE;
	}
}

/* A set; with WEAVE_OP_IF_GEN in @flags, of the gen the model has. */
static void op_set_flags(__u64 k, size_t len, __u32 flags)
{
	struct mkey *m = &c.k[k];
	unsigned int seed = rnd();
	__u64 gen = 0;
	int ret;

	if (flags & WEAVE_OP_IF_GEN)
		gen = m->live ? m->gen : 0;
	wv_pattern(c.buf, len, seed);
	ret = wv_set(c.fd, k, c.buf, len, WEAVE_OP_NONBLOCK | flags, &gen);
	if (!judge("set", k, ret, access_want(k, true) ?:
		   (m->live && m->sealed ? -EPERM : 0)) || ret)
		return;
	took_gen("set", k, gen);
	if (len < m->size)
		memset(m->val + len, 0, m->size - len);
	memcpy(m->val, c.buf, len);
	m->live = true;
	m->size = len;
	m->gen = gen;
	m->sealed = flags & WEAVE_SET_SEAL;
}

static void op_set(__u64 k, size_t len)
{
	op_set_flags(k, len, 0);
}

static void op_write(__u64 k, __u64 off, size_t len)
{
	struct weave_write_args w;
	struct mkey *m = &c.k[k];
	__u64 end = off + len;
	int ret;

	wv_pattern(c.buf, len, rnd());
	ret = wv_write(c.fd, k, off, c.buf, len, WEAVE_OP_NONBLOCK, &w);
	if (!judge("write", k, ret, entry_want(k, true)) || ret)
		return;
	took_gen("write", k, w.gen);
	memcpy(m->val + off, c.buf, len);
	if (len && end > m->size)
		m->size = end;
	m->gen = w.gen;
	if (w.size != m->size)
		failf("write key %llu: size %llu, expected %llu",
		      (unsigned long long)k, (unsigned long long)w.size,
		      (unsigned long long)m->size);
}

static void op_resize(__u64 k, __u64 size)
{
	struct mkey *m = &c.k[k];
	__u64 gen;
	int ret;

	ret = wv_resize(c.fd, k, size, WEAVE_OP_NONBLOCK, &gen);
	if (!judge("resize", k, ret, entry_want(k, true)) || ret)
		return;
	took_gen("resize", k, gen);
	if (size < m->size)
		memset(m->val + size, 0, m->size - size);
	m->size = size;
	m->gen = gen;
}

static void op_get(__u64 k)
{
	struct weave_get_args g;
	struct mkey *m = &c.k[k];
	int ret;

	ret = wv_get(c.fd, k, c.buf2, VMAX, 0, WEAVE_OP_NONBLOCK, &g);
	if (!judge("get", k, ret, entry_want(k, false)) || ret)
		return;
	if (g.size != m->size || g.gen != m->gen || g.copied != m->size ||
	    memcmp(c.buf2, m->val, m->size))
		failf("get key %llu: size %llu gen %llu copied %llu, expected size %llu gen %llu%s",
		      (unsigned long long)k, (unsigned long long)g.size,
		      (unsigned long long)g.gen, (unsigned long long)g.copied,
		      (unsigned long long)m->size, (unsigned long long)m->gen,
		      memcmp(c.buf2, m->val, m->size) ? ", other bytes" : "");
}

static void op_stat(__u64 k, struct weave_stat_args *out)
{
	struct weave_stat_args st;
	struct mkey *m = &c.k[k];
	int ret;

	ret = wv_stat(c.fd, k, &st);
	if (out)
		*out = st;
	if (!judge("stat", k, ret, m->live ? 0 : -ENOENT) || ret)
		return;
	if (st.size != m->size || st.gen != m->gen || !st.slot ||
	    st.slot > NSLOTS || st.data_offset + st.size > st.map_size)
		failf("stat key %llu: size %llu gen %llu slot %u, expected size %llu gen %llu",
		      (unsigned long long)k, (unsigned long long)st.size,
		      (unsigned long long)st.gen, st.slot,
		      (unsigned long long)m->size, (unsigned long long)m->gen);
}

static void op_delete(__u64 k)
{
	struct mkey *m = &c.k[k];
	__u64 gen;
	int ret;

	ret = wv_delete(c.fd, k, WEAVE_OP_NONBLOCK, &gen);
	if (!judge("delete", k, ret, entry_want(k, true)) || ret)
		return;
	took_gen("delete", k, gen);
	memset(m->val, 0, m->size);
	m->live = false;
	m->sealed = false;
	m->size = 0;
	m->gen = 0;
}

static void op_clear(void)
{
	unsigned long n = nlive();
	__u64 before = c.rgen, count = 0, gen = 0, k;
	int ret;

	ret = wv_clear(c.fd, WEAVE_OP_NONBLOCK, &count, &gen);
	if (!judge("clear", 0, ret, 0))
		return;
	if (count != n || gen < before + n)
		failf("clear: %llu removed, gen %llu; expected %lu, gen >= %llu",
		      (unsigned long long)count, (unsigned long long)gen,
		      n, (unsigned long long)(before + n));
	c.rgen = gen;
	for (k = 1; k <= NKEYS; k++) {
		struct mkey *m = &c.k[k];

		if (!m->live)
			continue;
		/* Each removal has its own gen, above the gen before. */
		m->evmin = before + 1;
		memset(m->val, 0, m->size);
		m->live = false;
		m->sealed = false;
		m->size = 0;
		m->gen = 0;
	}
}

/* A whole LIST walk in small batches must give exactly the live keys. */
static void op_list(void)
{
	unsigned long n = 0, i;
	bool seen[NKEYS + 1] = { false };
	__u64 cursor = 0;
	int ret, calls = 0;

	do {
		ret = wv_list(c.fd, &cursor, c.batch, ARRAY_SIZE(c.batch));
		if (!judge("list", 0, ret < 0 ? ret : 0, 0))
			return;
		for (i = 0; i < (unsigned long)ret && n <= NSLOTS; i++)
			c.keys[n++] = c.batch[i];
	} while (cursor && ++calls < NSLOTS);

	for (i = 0; i < n; i++) {
		__u64 k = c.keys[i];

		if (!k || k > NKEYS || !c.k[k].live || seen[k]) {
			failf("list: key %llu %s", (unsigned long long)k,
			      k && k <= NKEYS && seen[k] ? "twice" :
			      "is not live");
			return;
		}
		seen[k] = true;
	}
	if (n != nlive())
		failf("list: %lu keys, %lu live", n, nlive());
}

static int lock_want(__u64 k, unsigned char mode)
{
	const struct mkey *m = &c.k[k];

	if (m->mine)
		return -EDEADLK;
	if (m->other == LK_X || (m->other == LK_S && mode == LK_X))
		return -EAGAIN;
	return 0;
}

static void op_lock(__u64 k, unsigned char mode)
{
	__u32 flags = WEAVE_OP_NONBLOCK |
		      (mode == LK_S ? WEAVE_LOCK_SHARED : 0);
	struct mkey *m = &c.k[k];
	__u32 result = 0;
	int ret;

	ret = wv_lock(c.fd, k, flags, 0, &result);
	if (!judge("lock", k, ret, lock_want(k, mode)) || ret)
		return;
	m->mine = mode;
	if (!!(result & WEAVE_LOCK_OWNER_DIED) != m->owner_died)
		failf("lock key %llu: owner-died %u, expected %u",
		      (unsigned long long)k, result, m->owner_died);
}

static void op_unlock(__u64 k)
{
	struct mkey *m = &c.k[k];
	int ret;

	ret = wv_unlock(c.fd, k, WEAVE_UNLOCK_CONSISTENT);
	if (!judge("unlock", k, ret, m->mine ? 0 : -EPERM) || ret)
		return;
	m->mine = LK_NONE;
	m->owner_died = false;
}

static void op_watch(__u64 k)
{
	int ret = wv_watch(c.wfd, k, WEAVE_EV_ALL, 0);

	if (judge("watch", k, ret, 0))
		c.k[k].watched = true;
}

static void op_unwatch(__u64 k)
{
	int ret = wv_unwatch(c.wfd, k);

	if (judge("unwatch", k, ret, c.k[k].watched ? 0 : -ENOENT) && !ret)
		c.k[k].watched = false;
}

static void take_records(const struct weave_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, ev++) {
		if (ev->mask & WEAVE_EV_OVERFLOW) {
			if (ev->key || ev->mask != WEAVE_EV_OVERFLOW)
				failf("overflow record with key %llu mask %#x",
				      (unsigned long long)ev->key, ev->mask);
			c.overflows++;
			continue;
		}
		if (!ev->mask || ev->mask & ~WEAVE_EV_ALL || ev->reserved ||
		    ev->gen > c.rgen || ev->key > NKEYS ||
		    (!ev->key && ev->mask & ~(WEAVE_EV_CLEARED |
					      WEAVE_EV_UNLINKED))) {
			failf("event key %llu gen %llu mask %#x (latest gen %llu)",
			      (unsigned long long)ev->key,
			      (unsigned long long)ev->gen, ev->mask,
			      (unsigned long long)c.rgen);
			continue;
		}
		if (ev->key && ev->gen > c.k[ev->key].seen)
			c.k[ev->key].seen = ev->gen;
	}
}

/* One read() of the watcher. */
static void op_read(void)
{
	ssize_t n = read(c.wfd, c.ev, sizeof(c.ev));
	int ret = n < 0 ? -errno : 0;

	if (ret == -EAGAIN)
		ret = 0;
	if (!judge("read events", 0, ret, 0) || n <= 0)
		return;
	if (n % sizeof(c.ev[0]))
		failf("read events: %zd bytes", n);
	take_records(c.ev, (size_t)n / sizeof(c.ev[0]));
}

static void op_wait(__u64 k, bool differ)
{
	__u64 cur = c.k[k].live ? c.k[k].gen : 0, cur_gen = 0;
	int ret = wv_wait(c.fd, k, differ ? cur + 1 : cur, WEAVE_WAIT_TIMED,
			  1000000, &cur_gen);

	if (judge("wait", k, ret, differ ? 0 : -ETIMEDOUT) && !ret &&
	    cur_gen != cur)
		failf("wait key %llu: gen %llu, expected %llu",
		      (unsigned long long)k, (unsigned long long)cur_gen,
		      (unsigned long long)cur);
}

/* Map the index, read all of it through the mapping, check the header. */
static void op_map_index(void)
{
	const struct weave_index_header *h = (const void *)c.idx;
	unsigned long used = 0;
	void *p;
	__u64 s;
	int sig;

	p = mmap(NULL, c.index_size, PROT_READ, MAP_SHARED, c.fd, 0);
	if (!judge("mmap index", 0, p == MAP_FAILED ? -errno : 0, 0))
		return;
	sig = wv_probe_copy(c.idx, p, c.index_size);
	unmap(p, c.index_size);
	if (sig) {
		failf("reading the index map: signal %d", sig);
		return;
	}
	for (s = 1; s <= NSLOTS; s++)
		used += !!(wv_slot(c.idx, s)->flags & WEAVE_SLOT_USED);
	if (h->magic != WEAVE_INDEX_MAGIC || h->nslots != NSLOTS ||
	    h->seq & 1 || h->count != nlive() || h->gen != c.rgen ||
	    used != nlive())
		failf("index: magic %#x nslots %llu seq %u count %llu gen %llu used %lu; expected count %lu gen %llu",
		      h->magic, (unsigned long long)h->nslots, h->seq,
		      (unsigned long long)h->count,
		      (unsigned long long)h->gen, used, nlive(),
		      (unsigned long long)c.rgen);
}

/* Map the view of @k and read its bytes through it. */
static void op_map_view(__u64 k)
{
	struct weave_stat_args st;
	struct mkey *m = &c.k[k];
	size_t len;
	void *p;
	int sig;

	op_stat(k, &st);
	if (!m->live || !st.gen)
		return;
	len = wv_page_align(st.data_offset + st.size ?: 1);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, c.fd, st.map_offset);
	if (!judge("mmap view", k, p == MAP_FAILED ? -errno : 0, 0))
		return;
	sig = wv_probe_copy(c.buf2, (unsigned char *)p + st.data_offset,
			    st.size);
	unmap(p, len);
	if (sig)
		failf("reading the view of key %llu (%llu bytes): signal %d",
		      (unsigned long long)k, (unsigned long long)st.size, sig);
	else if (memcmp(c.buf2, m->val, m->size))
		failf("view of key %llu shows other bytes",
		      (unsigned long long)k);
}

/*
 * The index of a new registry: reading it faults in index pages no slot
 * has needed yet, which the kernel allocates then.
 */
static void op_map_fresh_index(void)
{
	const struct weave_index_header *h = (const void *)c.idx;
	struct weave_attach_args a = { 0 };
	void *p;
	int fd, sig;

	fd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, NSLOTS, &a);
	if (!judge("attach anon", 0, fd < 0 ? fd : 0, 0))
		return;
	if (a.index_size != c.index_size) {
		failf("index of %llu bytes, expected %llu",
		      (unsigned long long)a.index_size,
		      (unsigned long long)c.index_size);
		close(fd);
		return;
	}
	p = mmap(NULL, a.index_size, PROT_READ, MAP_SHARED, fd, 0);
	if (judge("mmap new index", 0, p == MAP_FAILED ? -errno : 0, 0)) {
		sig = wv_probe_copy(c.idx, p, a.index_size);
		unmap(p, a.index_size);
		if (sig)
			failf("reading a new index map: signal %d", sig);
		else if (h->magic != WEAVE_INDEX_MAGIC || h->count ||
			 !wv_all_bytes(c.idx + 64, a.index_size - 64, 0))
			failf("a new index is not empty");
	}
	close(fd);
}

/* A new anonymous registry, used once and closed. */
/* WEAVE_IOC_REOPEN of c.fd: a new file, which sees the registry. */
static void op_reopen_file(void)
{
	struct weave_info_args info;
	int fd = wv_reopen_file(c.fd, 0);

	if (!judge("reopen", 0, fd < 0 ? fd : 0, 0) || fd < 0)
		return;
	judge("info (reopened)", 0, wv_info(fd, &info), 0);
	close(fd);
}

static void op_anon(void)
{
	int fd = wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, 16, NULL);

	if (!judge("attach anon", 0, fd < 0 ? fd : 0, 0))
		return;
	judge("set (anon)", 1, wv_set(fd, 1, c.buf, 3000, 0, NULL), 0);
	close(fd);
}

/* Create the persistent registry c.pname and close it. */
static void op_persist(void)
{
	int fd = wv_open(c.pname, O_RDWR, WEAVE_ATTACH_CREATE |
			 WEAVE_ATTACH_EXCL | WEAVE_ATTACH_PERSIST, 0600, 16,
			 NULL);

	if (!judge("create persistent", 0, fd < 0 ? fd : 0,
		   c.pexists ? -EEXIST : 0) || fd < 0)
		return;
	c.pexists = true;
	judge("set (persistent)", 1, wv_set(fd, 1, "p", 1, 0, NULL), 0);
	close(fd);
}

/* Attach c.pname without creating it: there exactly while it exists. */
static void op_attach_persist(void)
{
	int fd = wv_open(c.pname, O_RDONLY, 0, 0, 0, NULL);

	judge("attach persistent", 0, fd < 0 ? fd : 0,
	      c.pexists ? 0 : -ENOENT);
	if (fd >= 0)
		close(fd);
}

static void op_unlink(void)
{
	int ret = wv_unlink(c.fd, c.pname);

	if (judge("unlink", 0, ret, c.pexists ? 0 : -ENOENT) && !ret)
		c.pexists = false;
}

/* --- checks with injection off ------------------------------------------- */

/* Read every pending event. */
static void drain_events(void)
{
	ssize_t n;
	int i;

	for (i = 0; i < 10000; i++) {
		n = read(c.wfd, c.ev, sizeof(c.ev));
		if (n < 0) {
			if (errno != EAGAIN)
				failf("draining events: %s", strerror(errno));
			return;
		}
		take_records(c.ev, (size_t)n / sizeof(c.ev[0]));
	}
	failf("draining events: no end");
}

/*
 * The registry against the model: INFO, LIST, STAT and GET of every
 * key, every slot of the mapped index, and the watcher's records.
 */
static void verify(void)
{
	struct weave_info_args info;
	struct weave_stat_args st;
	unsigned long missed = 0;
	unsigned long used = 0;
	__u64 k, s;
	int ret;

	if (c.failed)
		return;
	if (c.fd < 0)
		op_open();
	if (c.fd < 0)
		return;
	ret = wv_info(c.fd, &info);
	if (ret || info.count != nlive() || info.gen != c.rgen ||
	    info.bytes != live_bytes()) {
		failf("info: %s, count %llu gen %llu bytes %llu; expected count %lu gen %llu bytes %llu",
		      err_name(ret), (unsigned long long)info.count,
		      (unsigned long long)info.gen,
		      (unsigned long long)info.bytes, nlive(),
		      (unsigned long long)c.rgen,
		      (unsigned long long)live_bytes());
		return;
	}
	op_list();
	op_map_index();
	for (k = 1; k <= NKEYS && !c.failed; k++) {
		const struct mkey *m = &c.k[k];
		const struct weave_slot *sl;
		__u32 lock;

		op_stat(k, &st);
		if (!m->live)
			continue;
		if (m->other != LK_X)
			op_get(k);
		sl = wv_slot(c.idx, st.slot);
		lock = (m->mine == LK_X || m->other == LK_X) ?
		       WEAVE_SLOT_LOCK_EXCL :
		       (m->mine == LK_S) + (m->other == LK_S);
		if (sl->key != k || sl->gen != m->gen || sl->size != m->size ||
		    sl->birth != st.birth || sl->seq & 1 || sl->lock != lock ||
		    sl->waiters ||
		    sl->flags != (WEAVE_SLOT_USED |
				  (m->owner_died ? WEAVE_SLOT_OWNER_DIED : 0) |
				  (m->sealed ? WEAVE_SLOT_SEALED : 0)))
			failf("slot %u of key %llu: key %llu gen %llu size %llu lock %#x flags %#x; expected gen %llu size %llu lock %#x owner-died %u",
			      st.slot, (unsigned long long)k,
			      (unsigned long long)sl->key,
			      (unsigned long long)sl->gen,
			      (unsigned long long)sl->size, sl->lock,
			      sl->flags, (unsigned long long)m->gen,
			      (unsigned long long)m->size, lock,
			      m->owner_died);
	}
	for (s = 1; s <= NSLOTS; s++)
		used += !!wv_slot(c.idx, s)->key;
	if (!c.failed && used != nlive())
		failf("index: %lu slots with a key, %lu live", used, nlive());

	/* Nothing is lost: a change is in a record or there was overflow. */
	drain_events();
	for (k = 1; k <= NKEYS; k++)
		missed += c.k[k].seen < c.k[k].evmin;
	if (missed && !c.overflows)
		failf("watcher missed changes of %lu keys without an overflow record",
		      missed);
	if (c.pexists)
		op_attach_persist();
}

/* --- the fixture ---------------------------------------------------------- */

static void __attribute__((noinline)) prefault_stack(void)
{
	volatile unsigned char pad[256 * 1024];

	memset((void *)pad, 0, sizeof(pad));
}

/* Kernel log lines since the test began; fails on a report of a bug. */
static int kmsg_check(struct __test_metadata *_metadata)
{
	static const char * const bad[] = {
		"BUG:", "WARNING:", "Oops", "KASAN", "UBSAN", "Call Trace",
		"refcount_t", "list_add corruption", "list_del corruption",
		"circular locking", "possible recursive locking",
		"suspicious RCU", "sleeping function called",
	};
	char rec[1024];
	int bad_lines = 0, lines = 0;
	unsigned int i;
	ssize_t n;

	if (c.kmsg < 0)
		return 0;
	for (;;) {
		n = read(c.kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (lines++ < 10)
			TH_LOG("kernel: %.*s", (int)strcspn(rec, "\n"), rec);
		for (i = 0; i < ARRAY_SIZE(bad); i++)
			if (strstr(rec, bad[i]))
				bad_lines++;
	}
	return bad_lines;
}

FIXTURE(fault) {
	bool ready;
};

FIXTURE_SETUP(fault)
{
	struct weave_info_args info;
	__u64 k;

	memset(&c, 0, sizeof(c));
	c.fd = c.wfd = c.ofd = c.kmsg = -1;
	if (geteuid())
		SKIP(return, "needs root for debugfs");
	if (!fi_available())
		SKIP(return, "no fault injection (failslab, fail_page_alloc, fail-nth) in this kernel");
	/* If the main process dies, so does this child (and its injection). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fi_mif = open(FI_MIF, O_RDWR | O_CLOEXEC);
	fi_nth = open(FI_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fi_mif);
	ASSERT_LE(0, fi_nth);
	fi_all_off();
	/* Every knob but the probability, which the random test sets. */
	ASSERT_EQ(0, fi_setup(0));

	/* WEAVE_FAULT_SEED repeats a run of the random test. */
	c.rnd = getenv("WEAVE_FAULT_SEED") ?
		strtoull(getenv("WEAVE_FAULT_SEED"), NULL, 0) :
		(__u64)time(NULL) * 2654435761u + (__u64)getpid();
	c.rnd |= 1;
	TH_LOG("random seed %llu (WEAVE_FAULT_SEED)",
	       (unsigned long long)c.rnd);
	wv_name(c.name, sizeof(c.name), "fault");
	wv_name(c.pname, sizeof(c.pname), "fault-p");
	wv_unlink_name(c.pname);
	c.fd = wv_open(c.name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
		       0600, NSLOTS, NULL);
	ASSERT_LE(0, c.fd) TH_LOG("create %s: %s", c.name, strerror(-c.fd));
	c.wfd = wv_open(c.name, O_RDONLY | O_NONBLOCK, 0, 0, 0, NULL);
	ASSERT_LE(0, c.wfd);
	ASSERT_EQ(0, wv_watch(c.wfd, 0, WEAVE_EV_ALL, 0));
	c.ofd = wv_open(c.name, O_RDWR, 0, 0, 0, NULL);
	ASSERT_LE(0, c.ofd);
	ASSERT_EQ(0, wv_lock(c.ofd, KEY_OTHER_X, 0, 0, NULL));
	c.k[KEY_OTHER_X].other = LK_X;
	ASSERT_EQ(0, wv_lock(c.ofd, KEY_OTHER_S, WEAVE_LOCK_SHARED, 0, NULL));
	c.k[KEY_OTHER_S].other = LK_S;
	ASSERT_EQ(0, wv_info(c.fd, &info));
	c.index_size = info.index_size;
	ASSERT_GE(sizeof(c.idx), c.index_size);
	ASSERT_LE(VMAX, info.max_entry_size);

	/* Half the keys start live; the locked ones too. */
	for (k = 1; k <= NKEYS; k += 2)
		op_set(k, k * 157 % VMAX);
	op_set(KEY_OTHER_S, 100);
	ASSERT_FALSE(c.failed) TH_LOG("%s", c.msg);
	c.ops = c.wanted = c.enomem = 0;

	c.kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (c.kmsg >= 0)
		lseek(c.kmsg, 0, SEEK_END);

	/* No page fault of ours may need memory while injecting. */
	prefault_stack();
	ASSERT_EQ(0, mlockall(MCL_CURRENT)) TH_LOG("mlockall: %s",
						  strerror(errno));
	self->ready = true;
}

FIXTURE_TEARDOWN(fault)
{
	fi_all_off();
	if (c.fd >= 0)
		close(c.fd);
	if (c.wfd >= 0)
		close(c.wfd);
	if (c.ofd >= 0)
		close(c.ofd);
	if (c.kmsg >= 0)
		close(c.kmsg);
	if (self->ready)
		wv_unlink_name(c.pname);
	munlockall();
}

/* The end of a test: the model holds, enough failed, the log is clean. */
static void finish(struct __test_metadata *_metadata, unsigned long min_enomem)
{
	__u64 k;

	fi_all_off();
	verify();
	ASSERT_FALSE(c.failed) TH_LOG("%s", c.msg);

	/* Usable: every key can be set, read back and deleted. */
	for (k = 1; k <= NKEYS; k++) {
		if (c.k[k].other != LK_NONE)
			continue;
		while (c.k[k].mine)
			op_unlock(k);
		op_set(k, k % 3 ? 100 : 5000);
		op_get(k);
		op_delete(k);
	}
	op_unlink();
	verify();
	ASSERT_FALSE(c.failed) TH_LOG("%s", c.msg);

	TH_LOG("%lu operations: %lu as without injection, %lu ENOMEM; %lu overflow records",
	       c.ops, c.wanted, c.enomem, c.overflows);
	EXPECT_LE(min_enomem, c.enomem) TH_LOG("too few injected failures");
	EXPECT_EQ(0, kmsg_check(_metadata)) TH_LOG("the kernel log has reports");
}

/* --- systematic: fail each allocation of one operation in turn ----------- */

/* Keys the steps use; none is locked by the other file. */
#define K_NEW		2
#define K_MOVE		4
#define K_BIG		6
#define K_GROW		8
#define K_SHRINK	10
#define K_DEL		12
#define K_LOCK		14
#define K_NOENT		15
#define K_WATCH		16
#define K_VIEW		18
#define K_SMALL		20
#define K_SEAL		22

/* The model after a set of @k to @len bytes of @src took @gen. */
static void model_set(__u64 k, const void *src, size_t len, __u64 gen)
{
	struct mkey *m = &c.k[k];

	took_gen("set", k, gen);
	if (len < m->size)
		memset(m->val + len, 0, m->size - len);
	memcpy(m->val, src, len);
	m->live = true;
	m->size = len;
	m->gen = gen;
}

/*
 * A batch: a set that creates, a set that replaces and grows, a delete,
 * a get and a stat, of five keys (an atomic batch names each once). Each operation that took effect (result 0) is
 * applied to the model; ENOMEM is the one failure injection may cause,
 * and stops an atomic batch there.
 */
static void op_batch(bool atomic)
{
	struct weave_batch_op ops[5] = {
		{ .op = WEAVE_BATCH_SET, .key = K_NEW, .buf = WV_PTR(c.buf),
		  .len = 100 },
		{ .op = WEAVE_BATCH_SET, .key = K_BIG,
		  .buf = WV_PTR(c.buf + 100), .len = 6000 },
		{ .op = WEAVE_BATCH_DELETE, .key = K_DEL },
		{ .op = WEAVE_BATCH_GET, .key = K_SMALL, .buf = WV_PTR(c.buf2),
		  .len = VMAX },
		{ .op = WEAVE_BATCH_STAT, .key = K_MOVE },
	};
	const char *name = atomic ? "atomic batch" : "batch";
	struct weave_batch_op *op;
	bool stopped = false;
	struct mkey *m;
	__u32 failed, i, n = 0;
	int ret;

	wv_pattern(c.buf, 6100, rnd());
	ret = wv_batch(c.fd, ops, 5, WEAVE_OP_NONBLOCK |
		       (atomic ? WEAVE_BATCH_ATOMIC : 0), &failed);
	if (!judge(name, 0, ret, 0) || ret)
		return;
	for (i = 0; i < 5; i++) {
		op = &ops[i];
		m = &c.k[op->key];
		n += op->result != 0;
		if (stopped) {
			if (op->result != -ECANCELED)
				failf("%s op %u: %s after ENOMEM", name, i,
				      err_name(op->result));
			continue;
		}
		if (atomic && op->result == -ECANCELED)
			failf("%s op %u: canceled; results %d %d %d %d %d",
			      name, i, ops[0].result, ops[1].result,
			      ops[2].result, ops[3].result, ops[4].result);
		if (!judge(name, op->key, op->result, 0)) {
			stopped = atomic;
			continue;
		}
		switch (op->op) {
		case WEAVE_BATCH_SET:
			model_set(op->key, (const void *)(uintptr_t)op->buf,
				  op->len, op->gen);
			break;
		case WEAVE_BATCH_DELETE:
			took_gen(name, op->key, op->gen);
			memset(m->val, 0, m->size);
			m->live = false;
			m->sealed = false;
			m->size = 0;
			m->gen = 0;
			break;
		default:
			if (op->gen != m->gen || op->size != m->size ||
			    (op->op == WEAVE_BATCH_GET &&
			     memcmp(c.buf2, m->val, m->size)))
				failf("%s op %u key %llu: gen %llu size %llu, expected %llu %llu",
				      name, i, (unsigned long long)op->key,
				      (unsigned long long)op->gen,
				      (unsigned long long)op->size,
				      (unsigned long long)m->gen,
				      (unsigned long long)m->size);
		}
	}
	if (n != failed)
		failf("%s: %u failed, %u results not 0", name, failed, n);
}

struct step {
	const char *name;
	void (*prep)(void);
	void (*run)(void);
};

static void ensure_set(__u64 k, size_t len)
{
	if (!c.k[k].live || c.k[k].size != len)
		op_set(k, len);
}

static void ensure_deleted(__u64 k)
{
	if (c.k[k].live)
		op_delete(k);
}

static void prep_none(void)
{
}

static void run_open(void)
{
	int fd = wv_open(c.name, O_RDWR, 0, 0, 0, NULL);

	if (judge("open+attach", 0, fd < 0 ? fd : 0, 0))
		close(fd);
}

static void prep_persist(void)
{
	if (c.pexists)
		op_unlink();
}

static void prep_unlink(void)
{
	if (!c.pexists)
		op_persist();
}

static void run_reopen(void)
{
	op_close();
	op_open();
}

static void prep_new(void) { ensure_deleted(K_NEW); }
static void run_new_small(void) { op_set(K_NEW, 100); }
static void run_new_large(void) { op_set(K_NEW, 9000); }
static void prep_move(void) { ensure_set(K_MOVE, 60); }
static void run_move(void) { op_set(K_MOVE, 1500); }
static void run_to_large(void) { op_set(K_MOVE, 6000); }
static void prep_big(void) { ensure_set(K_BIG, 5000); }
static void run_write_grow(void) { op_write(K_BIG, 7000, 2000); }
static void run_write_small(void) { op_write(K_SMALL, 10, 20); }
static void prep_small(void) { ensure_set(K_SMALL, 40); }
static void run_write_to_large(void) { op_write(K_SMALL, 3000, 100); }
static void prep_grow(void) { ensure_set(K_GROW, 100); }
static void run_grow(void) { op_resize(K_GROW, 12000); }
static void prep_shrink(void) { ensure_set(K_SHRINK, 12000); }
static void run_shrink(void) { op_resize(K_SHRINK, 10); }
static void run_get(void) { op_get(K_BIG); }
static void run_get_small(void) { op_get(K_SMALL); }
static void prep_del(void) { ensure_set(K_DEL, 3000); }
static void run_del(void) { op_delete(K_DEL); }
static void run_stat(void) { op_stat(K_BIG, NULL); }
static void run_list(void) { op_list(); }

static void prep_clear(void)
{
	ensure_set(K_NEW, 10);
	ensure_set(K_DEL, 3000);
}

static void run_clear(void) { op_clear(); }

static void prep_lock(void)
{
	ensure_set(K_LOCK, 10);
	if (c.k[K_LOCK].mine)
		op_unlock(K_LOCK);
	if (c.k[K_NOENT].mine)
		op_unlock(K_NOENT);
}

static void run_lock(void) { op_lock(K_LOCK, LK_X); }
static void run_lock_shared(void) { op_lock(K_LOCK, LK_S); }
static void run_lock_noent(void) { op_lock(K_NOENT, LK_X); }
static void run_lock_other(void) { op_lock(KEY_OTHER_X, LK_X); }

static void prep_unlock(void)
{
	ensure_set(K_LOCK, 10);
	if (!c.k[K_LOCK].mine)
		op_lock(K_LOCK, LK_X);
}

static void run_unlock(void) { op_unlock(K_LOCK); }

/* Closing a file that holds a lock: the lock goes, owner-died. */
static void prep_close_locked(void)
{
	prep_unlock();
	if (c.fd < 0)
		op_open();
}

static void prep_owner_died(void)
{
	prep_close_locked();
	op_close();
	op_open();
}

static void run_relock(void) { op_lock(K_LOCK, LK_X); }

static void prep_watch(void)
{
	if (c.k[K_WATCH].watched)
		op_unwatch(K_WATCH);
}

static void run_watch(void) { op_watch(K_WATCH); }

static void prep_unwatch(void)
{
	if (!c.k[K_WATCH].watched)
		op_watch(K_WATCH);
}

static void run_unwatch(void) { op_unwatch(K_WATCH); }

/* A change while the watcher has nothing pending: a record is made. */
static void prep_event(void) { drain_events(); }
static void run_event_set(void) { op_set(K_WATCH, 50); }

static void prep_read(void)
{
	drain_events();
	op_set(K_WATCH, 70);
}

static void run_read(void) { op_read(); }
static void run_wait(void) { op_wait(K_BIG, false); }
static void run_wait_differ(void) { op_wait(K_BIG, true); }
static void run_map_index(void) { op_map_index(); }
static void prep_view(void) { ensure_set(K_VIEW, 9000); }
static void run_map_view(void) { op_map_view(K_VIEW); }
static void run_map_view_small(void) { op_map_view(K_SMALL); }
static void run_anon(void) { op_anon(); }
static void run_reopen_file(void) { op_reopen_file(); }
static void run_set_if_gen(void) { op_set_flags(K_BIG, 6000, WEAVE_OP_IF_GEN); }
static void prep_seal(void) { ensure_deleted(K_SEAL); }
static void run_seal(void) { op_set_flags(K_SEAL, 5000, WEAVE_SET_SEAL); }

static void prep_seal_small(void)
{
	ensure_deleted(K_SEAL);
	op_set(K_SEAL, 40);
}

static void run_seal_small(void) { op_set_flags(K_SEAL, 40, WEAVE_SET_SEAL); }

/*
 * Map @k writable under c.fd's exclusive lock, write it through the
 * mapping, unmap, unlock: one change, published at the unlock.
 */
static void op_map_rw(__u64 k)
{
	struct mkey *m = &c.k[k];
	struct weave_stat_args st;
	unsigned char *p;
	int ret = 0;

	if (wv_stat(c.fd, k, &st)) {
		failf("map rw key %llu: no entry", (unsigned long long)k);
		return;
	}
	p = mmap(NULL, st.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd,
		 st.map_offset);
	if (p == MAP_FAILED)
		ret = -errno;
	if (judge("map rw", k, ret, 0) && !ret) {
		wv_pattern(c.buf, m->size, rnd());
		memcpy(p, c.buf, m->size);	/* at offset 0: its own pages */
		unmap(p, st.map_size);
		memcpy(m->val, c.buf, m->size);
	}
	op_unlock(k);
	/*
	 * The grant may have started before a later step of mmap() failed:
	 * then the unlock publishes the unchanged bytes as a change.
	 */
	if (!wv_stat(c.fd, k, &st) && st.gen != m->gen) {
		took_gen("map rw", k, st.gen);
		m->gen = st.gen;
	} else if (!ret) {
		failf("map rw key %llu: the unlock published nothing",
		      (unsigned long long)k);
	}
}

static void prep_map_rw(void)
{
	ensure_set(K_SMALL, 40);
	if (c.k[K_SMALL].mine == LK_S)
		op_unlock(K_SMALL);
	if (c.k[K_SMALL].mine != LK_X)
		op_lock(K_SMALL, LK_X);
}

static void run_map_rw(void) { op_map_rw(K_SMALL); }

static void prep_batch(void)
{
	ensure_deleted(K_NEW);
	ensure_set(K_BIG, 5000);
	ensure_set(K_DEL, 3000);
	ensure_set(K_SMALL, 40);
	ensure_set(K_MOVE, 40);
}

static void run_batch(void) { op_batch(false); }
static void run_batch_atomic(void) { op_batch(true); }
static void run_map_fresh(void) { op_map_fresh_index(); }
static void run_persist(void) { op_persist(); }
static void run_unlink(void) { op_unlink(); }

static const struct step steps[] = {
	{ "open+attach", prep_none, run_open },
	{ "close+reopen", prep_none, run_reopen },
	{ "close holding a lock", prep_close_locked, run_reopen },
	{ "attach anonymous", prep_none, run_anon },
	{ "reopen the file", prep_none, run_reopen_file },
	{ "create persistent", prep_persist, run_persist },
	{ "unlink", prep_unlink, run_unlink },
	{ "set new small", prep_new, run_new_small },
	{ "set new large", prep_new, run_new_large },
	{ "set to a bigger cell", prep_move, run_move },
	{ "set small to large", prep_move, run_to_large },
	{ "set if gen", prep_big, run_set_if_gen },
	{ "set sealed", prep_seal, run_seal },
	{ "seal a small entry", prep_seal_small, run_seal_small },
	{ "batch", prep_batch, run_batch },
	{ "atomic batch", prep_batch, run_batch_atomic },
	{ "map writable", prep_map_rw, run_map_rw },
	{ "write, growing pages", prep_big, run_write_grow },
	{ "write in place", prep_small, run_write_small },
	{ "write small to large", prep_small, run_write_to_large },
	{ "resize grow", prep_grow, run_grow },
	{ "resize shrink", prep_shrink, run_shrink },
	{ "get large", prep_big, run_get },
	{ "get small", prep_small, run_get_small },
	{ "stat", prep_big, run_stat },
	{ "delete", prep_del, run_del },
	{ "list", prep_none, run_list },
	{ "clear", prep_clear, run_clear },
	{ "lock", prep_lock, run_lock },
	{ "lock shared", prep_lock, run_lock_shared },
	{ "lock a missing key", prep_lock, run_lock_noent },
	{ "lock held by another", prep_none, run_lock_other },
	{ "unlock", prep_unlock, run_unlock },
	{ "lock after owner died", prep_owner_died, run_relock },
	{ "watch", prep_watch, run_watch },
	{ "unwatch", prep_unwatch, run_unwatch },
	{ "change with a watcher", prep_event, run_event_set },
	{ "read events", prep_read, run_read },
	{ "wait, timing out", prep_big, run_wait },
	{ "wait, gen differs", prep_big, run_wait_differ },
	{ "mmap index", prep_none, run_map_index },
	{ "mmap large view", prep_view, run_map_view },
	{ "mmap small view", prep_small, run_map_view_small },
	{ "mmap a new index", prep_none, run_map_fresh },
};

#define NTH_MAX		200

TEST_F_TIMEOUT(fault, systematic, 240)
{
	unsigned long total = 0, enomem;
	unsigned int i, n, left;
	double t0 = wv_now();

	if (!self->ready)
		return;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *st = &steps[i];
		unsigned int points = 0;

		for (n = 1; n <= NTH_MAX; n++) {
			if (c.fd < 0)
				op_open();
			st->prep();
			ASSERT_FALSE(c.failed) TH_LOG("%s: prep: %s", st->name,
						     c.msg);
			enomem = c.enomem;
			fi_nth_set(n);
			st->run();
			left = fi_nth_get();
			fi_nth_set(0);
			ASSERT_FALSE(c.failed) TH_LOG("%s, failing allocation %u: %s",
						     st->name, n, c.msg);
			verify();
			ASSERT_FALSE(c.failed) TH_LOG("%s, after failing allocation %u: %s",
						     st->name, n, c.msg);
			/* ENOMEM with no allocation failed is a bug. */
			ASSERT_FALSE(left && c.enomem != enomem)
				TH_LOG("%s: ENOMEM although no allocation failed",
				       st->name);
			if (left)
				break;
			points++;
		}
		ASSERT_LE(n, NTH_MAX) TH_LOG("%s: still allocating after %u",
					     st->name, NTH_MAX);
		TH_LOG("%-24s %u allocations failed in turn", st->name,
		       points);
		total += points;
	}
	TH_LOG("%lu allocations failed in %.1f s", total, wv_now() - t0);
	EXPECT_LE(100, total);
	finish(_metadata, 40);
}

/* --- random: many operations, a share of all allocations failing -------- */

static __u64 rnd_key(void)
{
	return 1 + rnd() % NKEYS;
}

static size_t rnd_size(void)
{
	static const size_t edges[] = { 0, 1, 64, 65, 2048, 2049, 4096, 4097,
					8192, VMAX };

	switch (rnd() % 4) {
	case 0:
		return rnd() % 65;
	case 1:
		return 65 + rnd() % (2048 - 64);
	case 2:
		return 2049 + rnd() % (VMAX - 2048);
	default:
		return edges[rnd() % ARRAY_SIZE(edges)];
	}
}

static void random_op(void)
{
	__u64 k = rnd_key();
	unsigned int r = rnd() % 100;

	if (r < 20) {
		op_set(k, rnd_size());
	} else if (r < 28) {
		size_t len = rnd() % 3000;

		op_write(k, rnd() % (VMAX - len), len);
	} else if (r < 36) {
		op_resize(k, rnd_size());
	} else if (r < 46) {
		op_get(k);
	} else if (r < 50) {
		op_stat(k, NULL);
	} else if (r < 56) {
		op_delete(k);
	} else if (r < 58) {
		op_list();
	} else if (r < 63) {
		op_lock(k, rnd() % 2 ? LK_X : LK_S);
	} else if (r < 68) {
		op_unlock(k);
	} else if (r < 71) {
		op_watch(k);
	} else if (r < 73) {
		op_unwatch(k);
	} else if (r < 79) {
		op_read();
	} else if (r < 82) {
		op_wait(k, rnd() % 2);
	} else if (r < 85) {
		op_map_index();
	} else if (r < 91) {
		op_map_view(k);
	} else if (r < 93) {
		op_anon();
	} else if (r < 95) {
		op_persist();
	} else if (r < 97) {
		op_unlink();
	} else if (r < 98) {
		op_attach_persist();
	} else if (r < 99) {
		/* Reopen until it works: the operations need a handle. */
		op_close();
		while (c.fd < 0 && !c.failed)
			op_open();
	} else if (rnd() % 4 == 0) {
		op_clear();
	}
}

#define RANDOM_OPS	10000	/* per probability */
#define RANDOM_SECS	40	/* the same, on a slow machine */

TEST_F_TIMEOUT(fault, random, 240)
{
	static const int percent[] = { 5, 20 };
	unsigned int p;
	double end;
	long i;

	if (!self->ready)
		return;
	for (p = 0; p < ARRAY_SIZE(percent); p++) {
		ASSERT_EQ(0, fi_setup(percent[p]));
		end = wv_now() + RANDOM_SECS;
		for (i = 0; i < RANDOM_OPS && wv_now() < end; i++) {
			fi_task(true);
			random_op();
			fi_task(false);
			ASSERT_FALSE(c.failed) TH_LOG("%s (%u%%, op %ld)", c.msg,
						     percent[p], i);
			if (i % 500 == 499) {
				verify();
				ASSERT_FALSE(c.failed) TH_LOG("%s (%u%%, op %ld)",
							     c.msg, percent[p], i);
			}
		}
		TH_LOG("%u%%: %ld operations in %.1f s", percent[p], i,
		       wv_now() - end + RANDOM_SECS);
	}
	fi_all_off();
	finish(_metadata, 200);
}

TEST_HARNESS_MAIN
