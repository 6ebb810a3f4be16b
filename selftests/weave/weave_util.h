/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the weave selftests (the role pidfd.h plays for the pidfd
 * tests): a raw ioctl wrapper for every operation, with all its flags and
 * outputs; the mapped index and its seqcount reader; a probe that reads
 * a mapping without dying of the fault; module parameters; test data.
 * Every wrapper returns 0 or -errno (or a count); none uses libweave, so
 * the tests check the kernel ABI itself. weave_proc.h adds processes and
 * threads, weave_ctl.h running weavectl.
 */
#ifndef __WEAVE_UTIL_H
#define __WEAVE_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/*
 * kselftest_harness.h is written for the kernel's selftest flags (-Wall):
 * its EXPECT_*() compare int literals with the __u64 fields of the ABI,
 * its timeout handler has an unused parameter, and its setjmp() makes
 * -Wclobbered flag every local of a test. weave builds with
 * -Wextra, so those two warnings are off for the tests.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wclobbered"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/weave.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define WEAVE_DEV		"/dev/weave"
#define WV_PARAM_DIR		"/sys/module/weave/parameters/"
#define WV_PTR(p)		((__u64)(uintptr_t)(p))

/* A command number for ioctl @nr with a structure of @size bytes. */
static inline unsigned long wv_cmd(unsigned int nr, size_t size)
{
	return _IOC(_IOC_READ | _IOC_WRITE, WEAVE_IOC_MAGIC, nr, size);
}

static inline int wv_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* ----- the device and registries ------------------------------------------ */

/* open(/dev/weave): an fd or -errno. */
static inline int wv_dev(int oflags)
{
	int fd = open(WEAVE_DEV, oflags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline int wv_api(int fd, struct weave_api_args *api)
{
	memset(api, 0, sizeof(*api));
	api->api = WEAVE_API;
	return wv_ioctl(fd, WEAVE_IOC_API, api);
}

static inline int wv_attach(int fd, const char *name, __u32 flags, __u32 mode,
			    __u64 max_entries, struct weave_attach_args *out)
{
	struct weave_attach_args a = {
		.name = WV_PTR(name),
		.flags = flags,
		.mode = mode,
		.max_entries = max_entries,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_ATTACH, &a);

	if (out)
		*out = a;
	return ret;
}

/* open(/dev/weave) and attach: an fd or -errno. */
static inline int wv_open(const char *name, int oflags, __u32 flags,
			  __u32 mode, __u64 max_entries,
			  struct weave_attach_args *out)
{
	int fd = wv_dev(oflags), ret;

	if (fd < 0)
		return fd;
	ret = wv_attach(fd, name, flags, mode, max_entries, out);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* A new anonymous registry, read-write: an fd or -errno. */
static inline int wv_open_anon(__u64 max_entries)
{
	return wv_open(NULL, O_RDWR, WEAVE_ATTACH_ANON, 0600, max_entries,
		       NULL);
}

static inline int wv_unlink(int fd, const char *name)
{
	struct weave_unlink_args u = { .name = WV_PTR(name) };

	return wv_ioctl(fd, WEAVE_IOC_UNLINK, &u);
}

/* Unlink @name through a fresh fd; for cleanup. */
static inline int wv_unlink_name(const char *name)
{
	int fd = wv_dev(O_RDWR), ret;

	if (fd < 0)
		return fd;
	ret = wv_unlink(fd, name);
	close(fd);
	return ret;
}

/* A registry name unique to this process and @tag. */
static inline void wv_name(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "wvt-%s-%d", tag, (int)getpid());
}

/*
 * A test registry that forked children can attach by name, so each gets
 * its own open file description (a fork()ed fd shares the description and
 * with it the lock owner and the watches).
 */
static inline int wv_create(char *name, size_t size, const char *tag)
{
	wv_name(name, size, tag);
	wv_unlink_name(name);	/* a leftover from a crashed run */
	return wv_open(name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
		       0600, 0, NULL);
}

/* Another open file description of registry @name: an fd or -errno. */
static inline int wv_reopen(const char *name, int oflags)
{
	return wv_open(name, oflags, 0, 0, 0, NULL);
}

/* WEAVE_IOC_REOPEN of attached @fd: the new fd or -errno. */
static inline int wv_reopen_file(int fd, __u32 flags)
{
	struct weave_reopen_args r = { .flags = flags };
	int nfd = ioctl(fd, WEAVE_IOC_REOPEN, &r);

	return nfd < 0 ? -errno : nfd;
}

/* Change the owner, group or mode (@flags: WEAVE_SETATTR_*). */
static inline int wv_setattr(int fd, __u32 flags, __u32 mode, __u32 uid,
			     __u32 gid)
{
	struct weave_setattr_args a = {
		.flags = flags, .mode = mode, .uid = uid, .gid = gid,
	};

	return wv_ioctl(fd, WEAVE_IOC_SETATTR, &a);
}

static inline int wv_info(int fd, struct weave_info_args *info)
{
	memset(info, 0, sizeof(*info));
	return wv_ioctl(fd, WEAVE_IOC_INFO, info);
}

/* The number of entries, or -errno. */
static inline long long wv_count(int fd)
{
	struct weave_info_args info;
	int ret = wv_info(fd, &info);

	return ret ? ret : (long long)info.count;
}

/* ----- entries ------------------------------------------------------------ */

/*
 * With WEAVE_OP_IF_GEN in @flags, the set, write, resize and delete
 * wrappers pass in the gen at *@gen (*@out's gen for write), and on
 * success or ESTALE hand back the gen the kernel wrote there.
 */
#define WV_GEN_IN(flags, gen)	((flags) & WEAVE_OP_IF_GEN ? *(gen) : 0)

static inline int wv_set(int fd, __u64 key, const void *buf, __u64 len,
			 __u32 flags, __u64 *gen)
{
	struct weave_set_args s = {
		.key = key, .buf = WV_PTR(buf), .len = len, .flags = flags,
		.gen = WV_GEN_IN(flags, gen),
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_SET, &s);

	if (gen)
		*gen = s.gen;
	return ret;
}

/* GET @len bytes from @offset; *@out gets size, gen and copied. */
static inline int wv_get(int fd, __u64 key, void *buf, __u64 len,
			 __u64 offset, __u32 flags, struct weave_get_args *out)
{
	struct weave_get_args g = {
		.key = key, .buf = WV_PTR(buf), .len = len, .offset = offset,
		.flags = flags,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_GET, &g);

	if (out)
		*out = g;
	return ret;
}

/* WRITE @len bytes at @offset; *@out gets the new size and gen. */
static inline int wv_write(int fd, __u64 key, __u64 offset, const void *buf,
			   __u64 len, __u32 flags, struct weave_write_args *out)
{
	struct weave_write_args w = {
		.key = key, .buf = WV_PTR(buf), .len = len, .offset = offset,
		.flags = flags, .gen = WV_GEN_IN(flags, &out->gen),
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_WRITE, &w);

	if (out)
		*out = w;
	return ret;
}

static inline int wv_resize(int fd, __u64 key, __u64 size, __u32 flags,
			    __u64 *gen)
{
	struct weave_resize_args r = {
		.key = key, .size = size, .flags = flags,
		.gen = WV_GEN_IN(flags, gen),
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_RESIZE, &r);

	if (gen)
		*gen = r.gen;
	return ret;
}

static inline int wv_delete(int fd, __u64 key, __u32 flags, __u64 *gen)
{
	struct weave_delete_args d = {
		.key = key, .flags = flags, .gen = WV_GEN_IN(flags, gen),
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_DELETE, &d);

	if (gen)
		*gen = d.gen;
	return ret;
}

static inline int wv_clear(int fd, __u32 flags, __u64 *count, __u64 *gen)
{
	struct weave_clear_args c = { .flags = flags };
	int ret = wv_ioctl(fd, WEAVE_IOC_CLEAR, &c);

	if (count)
		*count = c.count;
	if (gen)
		*gen = c.gen;
	return ret;
}

static inline int wv_stat(int fd, __u64 key, struct weave_stat_args *st)
{
	struct weave_stat_args s = { .key = key };
	int ret = wv_ioctl(fd, WEAVE_IOC_STAT, &s);

	if (st)
		*st = s;
	return ret;
}

/*
 * BATCH of @n operations of sizeof(struct weave_batch_op); *@failed (may
 * be NULL) gets the number whose result is not 0.
 */
static inline int wv_batch(int fd, struct weave_batch_op *ops, __u32 n,
			   __u32 flags, __u32 *failed)
{
	struct weave_batch_args b = {
		.ops = WV_PTR(ops), .count = n, .op_size = sizeof(*ops),
		.flags = flags,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_BATCH, &b);

	if (failed)
		*failed = b.failed;
	return ret;
}

/* One LIST call: updates *cursor, returns the number of keys or -errno. */
static inline int wv_list(int fd, __u64 *cursor, __u64 *keys, __u32 room)
{
	struct weave_list_args l = {
		.cursor = *cursor, .keys = WV_PTR(keys), .count = room,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_LIST, &l);

	if (ret)
		return ret;
	*cursor = l.cursor;
	return (int)l.count;
}

/*
 * A whole walk in batches of @batch keys into @keys (room for @max):
 * the number of keys, -errno, or -E2BIG when more than @max came back or
 * the walk did not end within @max + 2 calls.
 */
static inline long wv_list_all(int fd, __u64 *keys, long max, __u32 batch)
{
	__u64 cursor = 0, *tmp = malloc(sizeof(*tmp) * batch);
	long n = 0, calls = 0;
	int ret, i;

	if (!tmp)
		return -ENOMEM;
	do {
		if (calls++ > max + 2) {
			n = -E2BIG;
			break;
		}
		ret = wv_list(fd, &cursor, tmp, batch);
		if (ret < 0) {
			n = ret;
			break;
		}
		if (ret > (int)batch || n + ret > max) {
			n = -E2BIG;
			break;
		}
		for (i = 0; i < ret; i++)
			keys[n++] = tmp[i];
	} while (cursor);
	free(tmp);
	return n;
}

/* The gen of @key, 0 when missing, or -errno (never 0 for an error). */
static inline long long wv_gen(int fd, __u64 key)
{
	struct weave_stat_args st;
	int ret = wv_stat(fd, key, &st);

	if (ret == -ENOENT)
		return 0;
	return ret ? ret : (long long)st.gen;
}

/* A 64-bit counter entry. */
static inline int wv_get_u64(int fd, __u64 key, __u64 *val)
{
	struct weave_get_args g;
	int ret;

	*val = 0;
	ret = wv_get(fd, key, val, sizeof(*val), 0, 0, &g);
	if (!ret && g.size != sizeof(*val))
		return -EMSGSIZE;
	return ret;
}

static inline int wv_set_u64(int fd, __u64 key, __u64 val)
{
	return wv_set(fd, key, &val, sizeof(val), 0, NULL);
}

/* ----- locks -------------------------------------------------------------- */

static inline int wv_lock(int fd, __u64 key, __u32 flags, __u64 timeout_ns,
			  __u32 *result)
{
	struct weave_lock_args l = {
		.key = key, .timeout_ns = timeout_ns, .flags = flags,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_LOCK, &l);

	if (result)
		*result = l.result;
	return ret;
}

static inline int wv_unlock(int fd, __u64 key, __u32 flags)
{
	struct weave_unlock_args u = { .key = key, .flags = flags };

	return wv_ioctl(fd, WEAVE_IOC_UNLOCK, &u);
}

/* ----- events and waits --------------------------------------------------- */

static inline int wv_watch(int fd, __u64 key, __u32 events, __u32 flags)
{
	struct weave_watch_args w = { .key = key, .events = events, .flags = flags };

	return wv_ioctl(fd, WEAVE_IOC_WATCH, &w);
}

static inline int wv_unwatch(int fd, __u64 key)
{
	struct weave_watch_args w = { .key = key };

	return wv_ioctl(fd, WEAVE_IOC_UNWATCH, &w);
}

static inline int wv_wait(int fd, __u64 key, __u64 gen, __u32 flags,
			  __u64 timeout_ns, __u64 *cur_gen)
{
	struct weave_wait_args w = {
		.key = key, .gen = gen, .timeout_ns = timeout_ns, .flags = flags,
	};
	int ret = wv_ioctl(fd, WEAVE_IOC_WAIT, &w);

	if (cur_gen)
		*cur_gen = w.cur_gen;
	return ret;
}

/* read() up to @n records: the number of records read, or -errno. */
static inline int wv_read_events(int fd, struct weave_event *ev, size_t n)
{
	ssize_t r = read(fd, ev, n * sizeof(*ev));

	if (r < 0)
		return -errno;
	if (r % sizeof(*ev))
		return -EPROTO;		/* a partial record: never allowed */
	return (int)(r / sizeof(*ev));
}

/* poll() one fd for POLLIN: the revents, 0 on timeout, or -errno. */
static inline int wv_poll(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);

	if (r < 0)
		return -errno;
	return r ? p.revents : 0;
}

/* ----- the mapped index --------------------------------------------------- */

/* Slot @s of a mapped index. */
static inline const struct weave_slot *wv_slot(const void *index, __u64 s)
{
	return (const struct weave_slot *)((const char *)index + 64 * s);
}

/* The mapped index of @fd (read-only), or NULL; *size gets its length. */
static inline void *wv_map_index(int fd, size_t *size)
{
	struct weave_info_args info;
	void *p;

	if (wv_info(fd, &info))
		return NULL;
	p = mmap(NULL, info.index_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	*size = info.index_size;
	return p;
}

/* The index slot of @key, or NULL. */
static inline const volatile struct weave_slot *
wv_slot_of(int fd, const void *index, __u64 key)
{
	struct weave_stat_args st;

	if (wv_stat(fd, key, &st))
		return NULL;
	return (const volatile struct weave_slot *)wv_slot(index, st.slot);
}

/*
 * The seqcount of a slot or of the index header, read as the kernel's
 * read_seqcount_begin() and read_seqcount_retry() do: wv_seq_begin()
 * waits while a writer holds the count odd, the fields are read with
 * WV_RLOAD(), and wv_seq_retry() says whether they must be read again.
 * wv_seq_read() is the bare acquire load, for a reader that counts the
 * odd values it meets instead of waiting them out.
 */
#define WV_RLOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

static inline __u32 wv_seq_read(const __u32 *seq)
{
	return __atomic_load_n(seq, __ATOMIC_ACQUIRE);
}

static inline __u32 wv_seq_begin(const __u32 *seq)
{
	unsigned int spins = 0;
	__u32 v;

	while ((v = wv_seq_read(seq)) & 1)
		if (++spins % 64 == 0)
			sched_yield();
	return v;
}

static inline bool wv_seq_retry(const __u32 *seq, __u32 v)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(seq, __ATOMIC_RELAXED) != v;
}

/*
 * A consistent copy of what slot @s says of its entry (flags, key, gen,
 * size, offset and birth; lock and waiters are left 0), or -EAGAIN when
 * a writer changed it during each of @tries reads.
 */
static inline int wv_slot_snap(const struct weave_slot *s,
			       struct weave_slot *out, long tries)
{
	__u32 v;

	memset(out, 0, sizeof(*out));
	while (tries-- > 0) {
		v = wv_seq_begin(&s->seq);
		out->flags = WV_RLOAD(s->flags);
		out->key = WV_RLOAD(s->key);
		out->gen = WV_RLOAD(s->gen);
		out->size = WV_RLOAD(s->size);
		out->offset = WV_RLOAD(s->offset);
		out->birth = WV_RLOAD(s->birth);
		if (!wv_seq_retry(&s->seq, v)) {
			out->seq = v;
			return 0;
		}
	}
	return -EAGAIN;
}

/* ----- reading a mapping without dying ------------------------------------ */

/*
 * A read through a mapping can fault: SIGBUS past an entry's last page
 * or through a view whose entry is gone, SIGSEGV where the mapping was
 * unmapped. wv_probe_copy() copies from such memory and returns 0, or
 * the signal the read raised (the handler jumps out of the read).
 *
 * By default each probe installs the handler for its read and puts the
 * old one back. A test that probes thousands of times calls
 * wv_fault_setup() once instead: the handler stays, SA_NODEFER leaves
 * the signal unblocked after the jump, so a probe makes no system call;
 * a fault outside a probe goes to @report (if set, which then also gets
 * SIGABRT) and kills the process with its signal, as without a handler.
 */
static __thread sigjmp_buf wv_fault_env;
static __thread volatile sig_atomic_t wv_fault_armed;
static void (*wv_fault_report)(int sig, const siginfo_t *si);
static bool wv_fault_installed;

static void wv_fault_handler(int sig, siginfo_t *si, void *uc)
{
	if (wv_fault_armed) {
		wv_fault_armed = 0;
		siglongjmp(wv_fault_env, sig);
	}
	if (wv_fault_report)
		wv_fault_report(sig, si);
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline int wv_fault_catch(int sig, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = wv_fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, old) ? -errno : 0;
}

static inline int wv_fault_setup(void (*report)(int sig, const siginfo_t *si))
{
	wv_fault_report = report;
	wv_fault_installed = true;
	return wv_fault_catch(SIGBUS, NULL) ?: wv_fault_catch(SIGSEGV, NULL) ?:
	       (report ? wv_fault_catch(SIGABRT, NULL) : 0);
}

static inline int wv_probe_copy(void *dst, const volatile void *src,
				size_t len)
{
	struct sigaction obus, osegv;
	bool temp = !wv_fault_installed;
	int sig;

	if (temp) {
		wv_fault_catch(SIGBUS, &obus);
		wv_fault_catch(SIGSEGV, &osegv);
	}
	sig = sigsetjmp(wv_fault_env, 0);
	if (!sig) {
		wv_fault_armed = 1;
		if (len == 1)
			*(unsigned char *)dst =
				*(const volatile unsigned char *)src;
		else if (len)
			memcpy(dst, (const void *)src, len);
		wv_fault_armed = 0;
	}
	if (temp) {
		sigaction(SIGBUS, &obus, NULL);
		sigaction(SIGSEGV, &osegv, NULL);
	}
	return sig;
}

/* Read the byte at @p: 0 (the byte in *@val, if @val), or the signal. */
static inline int wv_probe(const volatile unsigned char *p, unsigned char *val)
{
	unsigned char v;

	return wv_probe_copy(val ? val : &v, p, 1);
}

/* ----- module parameters -------------------------------------------------- */

/* Read a module parameter; 0 or -errno. */
static inline int wv_param(const char *name, __u64 *val)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), WV_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = strtoull(buf, NULL, 0);
	return 0;
}

/* Write a module parameter, when it is writable; 0 or -errno. */
static inline int wv_param_set(const char *name, __u64 val)
{
	char path[256], buf[64];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), WV_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)val);
	if (write(fd, buf, len) != len)
		ret = -errno ? -errno : -EIO;
	close(fd);
	return ret;
}

/* ----- names, data and time ----------------------------------------------- */

/* Fill @buf with a pattern derived from @seed; wv_check_pattern() checks. */
static inline void wv_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static inline bool wv_check_pattern(const void *buf, size_t len,
				    unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)(seed * 31 + i * 7 + (i >> 8)))
			return false;
	return true;
}

static inline bool wv_all_bytes(const void *buf, size_t len, unsigned char c)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

/*
 * No descriptor left: RLIMIT_NOFILE down to the lowest free one. The
 * limit it had goes to *@old, for setrlimit() after. 0 or -errno.
 */
static inline int wv_no_fds(struct rlimit *old)
{
	struct rlimit lim;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, old))
		return -errno;
	fd = dup(0);
	if (fd < 0)
		return -errno;
	close(fd);
	lim.rlim_cur = (rlim_t)fd;
	lim.rlim_max = old->rlim_max;
	return setrlimit(RLIMIT_NOFILE, &lim) ? -errno : 0;
}

static inline long wv_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static inline __u64 wv_page_align(__u64 x)
{
	__u64 ps = wv_page_size();

	return (x + ps - 1) & ~(ps - 1);
}

static inline double wv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void wv_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Poll @cond every millisecond for up to @ms: true once it holds. For
 * waiting until another task has queued (the index shows waiters) or has
 * reached a point it reports in shared memory.
 */
#define wv_until(cond, ms) ({						\
	double __end = wv_now() + (ms) / 1000.0;			\
	bool __ok;							\
	while (!(__ok = (cond)) && wv_now() < __end)			\
		wv_sleep_ms(1);						\
	__ok;								\
})

#endif /* __WEAVE_UTIL_H */
