// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded, bounded fuzzer for /dev/weave.
 *
 * The main thread issues random sequences of every weave ioctl with random
 * and malformed arguments (wrong structure sizes up to the largest _IOC
 * size, random command numbers, directions and types, random flags,
 * non-zero reserved and "out" fields, key 0, huge lengths and offsets,
 * NULL, unmapped, read-only, straddling and kernel pointers, pointers into
 * the registry's own read-only views, closed and reused fds), mmap() of
 * the index and of entry views at offsets from STAT and at random ones,
 * munmap/mremap/mprotect with random ranges and protections, reads
 * through the mappings, read() with odd sizes, poll(), timed LOCK and WAIT
 * on blocking files, and fork()s that inherit live locks and mappings,
 * take locks of their own and die holding them (some by SIGKILL, some
 * killed by the parent).
 *
 * A second thread munmaps, splits, maps, closes and reopens the same pool
 * of mappings and fds concurrently, so that closes and unmaps race with
 * the ioctls, faults and mmaps of the main thread.
 *
 * Every pool fd is O_NONBLOCK and every WAIT is timed or can never match,
 * so nothing sleeps for long.
 *
 * Checks:
 * - every failing call returns an errno documented for it (per call);
 * - a writable or executable mapping, or mprotect() to one, never
 *   succeeds;
 * - successful calls return sane results: GET copies exactly
 *   min(len, size - offset), LIST no more keys than asked, STAT a
 *   page-aligned view that holds the entry, read() whole records with
 *   known bits, API the limits it gave at the start, and so on;
 * - no child dies of anything but the SIGKILL it asked for;
 * - at the end, in every registry still reachable, INFO's count equals
 *   the index header's and the number of keys a LIST walk returns, no key
 *   is listed twice, and every listed key STATs, with the index slot STAT
 *   names holding that key, gen and size;
 * - with the default number of operations or more, every ioctl succeeded
 *   at least once and so did each kind of mapping, read and fork, so the
 *   run is known to reach past argument checking. A table of successes
 *   and errnos per call is printed at the end.
 *
 * Environment:
 *   WEAVE_FUZZ_SEED    seed (printed at the start; the default is new
 *                      each run)
 *   WEAVE_FUZZ_OPS     operations of the main thread (default
 *                      FUZZ_DEFAULT_OPS; more for a longer run)
 *   WEAVE_FUZZ_THREAD  0: no second thread
 *   WEAVE_FUZZ_TRACE   print every operation to stderr
 *
 * Each operation draws its random numbers from a generator seeded with the
 * seed and the operation's number, so operation N makes the same choices
 * in every run with that seed, whatever earlier operations returned. What
 * it acts on (which pool fds are open, which mappings exist) follows from
 * the operations before it, and from the timing of the second thread and
 * of the children. To replay a failure, run its seed with WEAVE_FUZZ_OPS
 * just past the operation it names, with WEAVE_FUZZ_THREAD=0 to take the
 * second thread out, and with WEAVE_FUZZ_TRACE=1 to see each operation.
 */
#include "weave_proc.h"

#include "kselftest_harness.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif

#define FUZZ_DEFAULT_OPS	200000
#define NFDS			12
#define NNAMES			3
#define NMAPS			24
#define NKEYS			16
#define BIGBUF			(256 * 1024)
#define ARGBUF			(1 << 14)	/* above the largest _IOC_SIZE */
#define MAX_CHILDREN		3
#define MAX_BAD			64
#define TIMEOUT_NS		2000000		/* longest LOCK or WAIT */
#define WAIT_NS			200000		/* longest WAIT in the pool */
#define NERRNO			160

struct fz_map {
	void *addr;
	size_t len;
	bool rw;		/* a writable view: mprotect() may write-enable */
};

struct fz_bad {
	char what[56];
	int err;
	unsigned long count;
	unsigned long first_op;
};

struct fz_stat {
	double time;			/* seconds, for ioctls */
	unsigned long ok;
	unsigned long err[NERRNO];	/* by errno; by signal for probes */
};

/* The ioctls: number, name, size, first size, errnos besides the common. */
struct nrdesc {
	unsigned int nr;
	const char *name;
	size_t size;
	size_t ver0;
	const int *extra;
};

#define EX(...)	((const int []){ __VA_ARGS__, 0 })

static const struct nrdesc nrs[] = {
	{ 0x00, "API", sizeof(struct weave_api_args), WEAVE_API_SIZE_VER0,
	  NULL },
	{ 0x01, "ATTACH", sizeof(struct weave_attach_args), WEAVE_ATTACH_SIZE_VER0,
	  EX(EBUSY, ENOENT, EEXIST, EACCES, EMFILE, ENFILE, EDQUOT,
	     ENOMEM) },
	{ 0x02, "UNLINK", sizeof(struct weave_unlink_args), WEAVE_UNLINK_SIZE_VER0,
	  EX(ENOENT, EACCES, ENOMEM) },
	{ 0x03, "INFO", sizeof(struct weave_info_args), WEAVE_INFO_SIZE_VER0,
	  EX(EBADFD) },
	{ 0x04, "SETATTR", sizeof(struct weave_setattr_args),
	  WEAVE_SETATTR_SIZE_VER0, EX(EBADFD, EPERM) },
	{ 0x05, "REOPEN", sizeof(struct weave_reopen_args),
	  WEAVE_REOPEN_SIZE_VER0, EX(EBADFD, EACCES, EMFILE, ENFILE, ENOMEM) },
	{ 0x10, "SET", sizeof(struct weave_set_args), WEAVE_SET_SIZE_VER0,
	  EX(EBADFD, EFBIG, ENOSPC, ENOMEM, EEXIST, ENOENT, EAGAIN, EDEADLK,
	     ESTALE, EPERM, EBUSY) },
	{ 0x11, "GET", sizeof(struct weave_get_args), WEAVE_GET_SIZE_VER0,
	  EX(EBADFD, ENOENT, ENOMEM, EAGAIN, EDEADLK) },
	{ 0x12, "WRITE", sizeof(struct weave_write_args), WEAVE_WRITE_SIZE_VER0,
	  EX(EBADFD, EFBIG, ENOSPC, ENOMEM, ENOENT, EAGAIN, EDEADLK, ESTALE,
	     EPERM) },
	{ 0x13, "RESIZE", sizeof(struct weave_resize_args), WEAVE_RESIZE_SIZE_VER0,
	  EX(EBADFD, EFBIG, ENOSPC, ENOMEM, ENOENT, EAGAIN, EDEADLK, ESTALE,
	     EPERM) },
	{ 0x14, "DELETE", sizeof(struct weave_delete_args), WEAVE_DELETE_SIZE_VER0,
	  EX(EBADFD, ENOENT, EAGAIN, EDEADLK, ESTALE) },
	{ 0x15, "CLEAR", sizeof(struct weave_clear_args), WEAVE_CLEAR_SIZE_VER0,
	  EX(EBADFD) },
	{ 0x16, "STAT", sizeof(struct weave_stat_args), WEAVE_STAT_SIZE_VER0,
	  EX(EBADFD, ENOENT) },
	{ 0x17, "LIST", sizeof(struct weave_list_args), WEAVE_LIST_SIZE_VER0,
	  EX(EBADFD, ENOMEM) },
	{ 0x18, "BATCH", sizeof(struct weave_batch_args), WEAVE_BATCH_SIZE_VER0,
	  EX(EBADFD, EFBIG, ENOMEM) },
	{ 0x20, "LOCK", sizeof(struct weave_lock_args), WEAVE_LOCK_SIZE_VER0,
	  EX(EBADFD, EDEADLK, EAGAIN, ETIMEDOUT, EPERM, ENOLCK, ENOMEM, EINTR) },
	{ 0x21, "UNLOCK", sizeof(struct weave_unlock_args), WEAVE_UNLOCK_SIZE_VER0,
	  EX(EBADFD, EPERM) },
	{ 0x30, "WATCH", sizeof(struct weave_watch_args), WEAVE_WATCH_SIZE_VER0,
	  EX(EBADFD, ENOSPC, ENOMEM) },
	{ 0x31, "UNWATCH", sizeof(struct weave_watch_args), WEAVE_UNWATCH_SIZE_VER0,
	  EX(EBADFD, ENOENT) },
	{ 0x32, "WAIT", sizeof(struct weave_wait_args), WEAVE_WAIT_SIZE_VER0,
	  EX(EBADFD, ETIMEDOUT, EINTR) },
};

#define NNRS		ARRAY_SIZE(nrs)

/* Any ioctl: a stale fd, a bad command, size or field, a bad pointer. */
static const int common_ioctl[] = { EBADF, ENOTTY, EINVAL, E2BIG, EFAULT, 0 };

/* What is counted: one row per ioctl (by index in nrs[]), then these. */
enum {
	ST_BADNR = NNRS,	/* a command number weave does not have */
	ST_OPEN,
	ST_ATTACH,		/* attaching a pool fd */
	ST_MMAP_INDEX,
	ST_MMAP_VIEW,
	ST_MMAP_RAND,
	ST_MREMAP,
	ST_MPROTECT,
	ST_MUNMAP,
	ST_PROBE,		/* a read through a mapping; errors are signals */
	ST_READ,
	ST_POLL,
	ST_TIMED,		/* timed LOCK and WAIT on a blocking file */
	ST_FORK,
	ST_T_MUNMAP,		/* the second thread's */
	ST_T_CLOSE,
	ST_T_MMAP,
	ST_T_REOPEN,
	NSTATS
};

static const char *const st_names[NSTATS - NNRS] = {
	"bad nr", "open", "attach", "mmap idx", "mmap view", "mmap rand",
	"mremap", "mprotect", "munmap", "probe", "read", "poll", "timed",
	"fork", "T munmap", "T close", "T mmap", "T reopen",
};

static const int *const st_extra[NSTATS - NNRS] = {
	[ST_BADNR - NNRS] = NULL,
	[ST_OPEN - NNRS] = EX(ENOMEM, EMFILE, ENFILE),
	[ST_ATTACH - NNRS] = EX(EACCES, EMFILE, ENFILE, EDQUOT, ENOMEM),
	[ST_MMAP_INDEX - NNRS] = EX(EINVAL, EACCES, EBADF, EBADFD, ENXIO,
				    ENOMEM),
	[ST_MMAP_VIEW - NNRS] = EX(EINVAL, EACCES, EBADF, EBADFD, ENXIO,
				   ENOMEM, EPERM),
	[ST_MMAP_RAND - NNRS] = EX(EINVAL, EACCES, EBADF, EBADFD, ENXIO,
				   EOVERFLOW, ENOMEM, EOPNOTSUPP, EPERM),
	[ST_MREMAP - NNRS] = EX(EFAULT, EINVAL, ENOMEM),
	[ST_MPROTECT - NNRS] = EX(EACCES, ENOMEM, EINVAL),
	[ST_MUNMAP - NNRS] = EX(EINVAL),
	[ST_PROBE - NNRS] = EX(SIGBUS, SIGSEGV),
	[ST_READ - NNRS] = EX(EINVAL, EBADFD, EAGAIN, EBADF, EFAULT, ENOMEM),
	[ST_POLL - NNRS] = EX(EINTR, ENOMEM),
	[ST_TIMED - NNRS] = EX(EDEADLK, EAGAIN, ETIMEDOUT, ENOLCK, ENOMEM,
			       EINTR, ENOENT, EMFILE, ENFILE, EDQUOT, EACCES),
	[ST_FORK - NNRS] = EX(EAGAIN, ENOMEM),
	[ST_T_MUNMAP - NNRS] = EX(EINVAL),
	[ST_T_CLOSE - NNRS] = NULL,
	[ST_T_MMAP - NNRS] = EX(EINVAL, EBADF, EBADFD, ENXIO, ENOMEM),
	/*
	 * EBUSY: between the open and the attach, the main thread's ioctl
	 * on the same number (stale in its pool) attached the new file.
	 */
	[ST_T_REOPEN - NNRS] = EX(EBUSY, EACCES, EMFILE, ENOMEM, ENFILE,
				  EDQUOT),
};

/* The kinds of operation; see kinds[] for how often each comes. */
enum {
	K_IOCTL, K_MMAP, K_MAPCTL, K_READ, K_POLL, K_FDCTL, K_TIMED, K_FORK,
	NKINDS
};

struct fz {
	__u64 seed;
	unsigned long op;		/* main thread's current operation */
	bool child;
	bool trace;
	long ps;
	struct weave_api_args api;

	/*
	 * mu guards fds[], closed[] and maps[] against the second thread:
	 * every close, open, munmap, mremap and mprotect of the pool happens
	 * under it, so a range or number in the pool is always ours. The
	 * ioctls, faults, reads and mmaps that use the pool run without it,
	 * on numbers and ranges that may be going away meanwhile: that race
	 * is the point.
	 */
	pthread_mutex_t mu;
	int fds[NFDS];			/* -1: never opened */
	bool closed[NFDS];		/* fds[i] is a stale number */
	struct fz_map maps[NMAPS];
	int stop;			/* tells the second thread to end */

	char names[NNAMES][64];
	unsigned char *big;		/* BIGBUF rw, then a PROT_NONE page */
	unsigned char *ro;		/* a read-only page */
	unsigned char *unmapped;	/* a PROT_NONE page */
	unsigned char *argbuf;		/* a rw page, then a PROT_NONE page */
	pid_t children[MAX_CHILDREN];
	unsigned long records;		/* event records read */
	__u64 locked_key;		/* of the latest LOCK that worked */

	pthread_mutex_t bad_mu;		/* bad[]: both threads report */
	struct fz_bad bad[MAX_BAD];
	int nbad;
	unsigned long total_bad;

	struct fz_stat st[NSTATS];
	double kind_time[NKINDS];	/* seconds spent in each kind */
	unsigned long kind_n[NKINDS];
};

/*
 * For the time each kind of operation takes, summed over a run: the
 * coarse clock never needs a system call, and its ticks average out.
 */
static double fz_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- */
/* Random numbers: one generator per thread, reseeded per operation */

static __thread __u64 fz_rng;

static __u64 mix64(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Operation @n of @stream (0: main thread, 1: second thread, 2: child). */
static void rng_op(__u64 seed, __u64 stream, __u64 n)
{
	fz_rng = mix64(seed ^ mix64((stream << 56) ^ n)) | 1;
}

/* xorshift64* */
static __u64 rnd(void)
{
	fz_rng ^= fz_rng >> 12;
	fz_rng ^= fz_rng << 25;
	fz_rng ^= fz_rng >> 27;
	return fz_rng * 0x2545F4914F6CDD1DULL;
}

static __u64 rn(__u64 n)
{
	return n ? rnd() % n : 0;
}

/* true with probability @p percent */
static bool pct(int p)
{
	return (int)rn(100) < p;
}

/* ---------------------------------------------------------------- */
/* Results */

static const struct {
	int err;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
	{ ENXIO, "ENXIO" }, { E2BIG, "E2BIG" }, { EBADF, "EBADF" },
	{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
	{ EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
	{ EINVAL, "EINVAL" }, { ENFILE, "ENFILE" }, { EMFILE, "EMFILE" },
	{ ENOTTY, "ENOTTY" }, { EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" },
	{ EDEADLK, "EDEADLK" }, { ENOLCK, "ENOLCK" },
	{ EOVERFLOW, "EOVERFLOW" }, { EBADFD, "EBADFD" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" },
	{ EDQUOT, "EDQUOT" }, { ESTALE, "ESTALE" },
};

static const char *errname(int err, bool sig, char *buf, size_t size)
{
	unsigned int i;

	if (sig) {
		snprintf(buf, size, "SIG%s", sigabbrev_np(err) ?: "?");
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(errnames); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(buf, size, "errno%d", err);
	return buf;
}

static void note_bad(struct fz *f, const char *what, int err)
{
	int i;

	pthread_mutex_lock(&f->bad_mu);
	f->total_bad++;
	for (i = 0; i < f->nbad; i++) {
		if (f->bad[i].err == err && !strcmp(f->bad[i].what, what)) {
			f->bad[i].count++;
			goto out;
		}
	}
	if (f->child || f->trace)
		fprintf(stderr, "# %s: unexpected %s -> %d (%s) at op %lu\n",
			f->child ? "child" : "fuzz", what, err,
			err ? strerror(err) : "check", f->op);
	if (f->nbad == MAX_BAD)
		goto out;
	snprintf(f->bad[f->nbad].what, sizeof(f->bad[0].what), "%s", what);
	f->bad[f->nbad].err = err;
	f->bad[f->nbad].count = 1;
	f->bad[f->nbad].first_op = f->op;
	f->nbad++;
out:
	pthread_mutex_unlock(&f->bad_mu);
}

static bool listed(int err, const int *list)
{
	for (; list && *list; list++)
		if (err == *list)
			return true;
	return false;
}

static const char *st_name(int row)
{
	return row < (int)NNRS ? nrs[row].name : st_names[row - NNRS];
}

/* Count the result @err (0: success) of a call of row @row and judge it. */
static void result(struct fz *f, int row, int err)
{
	struct fz_stat *s = &f->st[row];
	bool ok;

	if (!err) {
		s->ok++;
		return;
	}
	s->err[err > 0 && err < NERRNO ? err : 0]++;
	if (row < (int)NNRS)
		ok = listed(err, common_ioctl) || listed(err, nrs[row].extra);
	else if (row == ST_BADNR)
		ok = listed(err, common_ioctl);
	else
		ok = listed(err, st_extra[row - NNRS]);
	if (!ok) {
		char what[56];

		snprintf(what, sizeof(what), "%s", st_name(row));
		note_bad(f, what, err);
	}
}

/* A failed check of a successful call. */
static void check(struct fz *f, bool cond, const char *what)
{
	if (!cond)
		note_bad(f, what, 0);
}

/* ---------------------------------------------------------------- */
/* The pool of fds and mappings */

static int fd_at(struct fz *f, int i)
{
	return __atomic_load_n(&f->fds[i], __ATOMIC_RELAXED);
}

static void fd_put(struct fz *f, int i, int fd)
{
	__atomic_store_n(&f->fds[i], fd, __ATOMIC_RELAXED);
	__atomic_store_n(&f->closed[i], false, __ATOMIC_RELAXED);
}

/*
 * A random fd of the pool: mostly an open one (which may be closed by the
 * time it is used), else any, perhaps a stale number, or a silly one.
 */
static int pick_fd(struct fz *f)
{
	int r = (int)rn(100), i = (int)rn(NFDS), n;

	if (r < 2)
		return -1;
	if (r < 3)
		return 9999;
	for (n = 0; r < 85 && n < NFDS; n++, i = (i + 1) % NFDS)
		if (fd_at(f, i) >= 0 &&
		    !__atomic_load_n(&f->closed[i], __ATOMIC_RELAXED))
			break;
	return fd_at(f, i);
}

/* Called with mu held. */
static void close_slot(struct fz *f, int i)
{
	if (f->fds[i] >= 0 && !f->closed[i]) {
		close(f->fds[i]);
		/* keep the stale number */
		__atomic_store_n(&f->closed[i], true, __ATOMIC_RELAXED);
	}
}

/* Open a file, attached (named or anonymous) or not; an fd or -errno. */
static int open_one(struct fz *f, int row, int oflags)
{
	struct weave_attach_args a;
	int fd, ret, r = (int)rn(100);

	fd = wv_dev(oflags);
	if (fd < 0) {
		result(f, row == ST_ATTACH ? ST_OPEN : row, -fd);
		return fd;
	}
	if (r < 70) {
		__u32 fl = WEAVE_ATTACH_CREATE;

		if (pct(50))
			fl |= WEAVE_ATTACH_PERSIST;
		ret = wv_attach(fd, f->names[rn(NNAMES)], fl,
				pct(90) ? 0666 : (__u32)rn(01000),
				pct(70) ? 0 : 1 + rn(64), &a);
		result(f, row, -ret);
	} else if (r < 92) {
		ret = wv_attach(fd, NULL, WEAVE_ATTACH_ANON, 0600,
				pct(70) ? 0 : 1 + rn(64), &a);
		result(f, row, -ret);
	}
	return fd;
}

/* Close slot @i and open a new file there. Called with mu held. */
static void reopen_slot(struct fz *f, int i, int row)
{
	int fd;

	close_slot(f, i);
	fd = open_one(f, row, (pct(15) ? O_RDONLY : O_RDWR) | O_NONBLOCK);
	if (fd >= 0)
		fd_put(f, i, fd);
}

/* Called with mu held. */
static int free_map_slot(struct fz *f)
{
	int i;

	for (i = 0; i < NMAPS; i++)
		if (!f->maps[i].addr)
			return i;
	return -1;
}

/* Record a new mapping, or unmap it when the table is full. mu held. */
static void map_add(struct fz *f, void *p, size_t len, bool rw)
{
	int i = free_map_slot(f);

	if (i < 0) {
		munmap(p, len);
		return;
	}
	f->maps[i].addr = p;
	f->maps[i].len = len;
	f->maps[i].rw = rw;
}

/*
 * Unmap the whole of map @i, or one page of it. Instead of leaving a hole
 * that a later munmap of the whole range would reach into (something else
 * may be mapped there by then), the two sides become two entries of the
 * table. Called with mu held; the row counts the result.
 */
static void map_cut(struct fz *f, int i, bool whole, int row)
{
	struct fz_map *m = &f->maps[i];
	size_t npages = (m->len + f->ps - 1) / f->ps, k;
	char *hole;

	if (whole || npages <= 1) {
		result(f, row, munmap(m->addr, m->len) ? errno : 0);
		m->addr = NULL;
		return;
	}
	k = rn(npages);
	hole = (char *)m->addr + k * f->ps;
	result(f, row, munmap(hole, f->ps) ? errno : 0);
	if (k + 1 < npages) {
		void *right = hole + f->ps;
		size_t rlen = (npages - k - 1) * f->ps;

		if (k) {
			map_add(f, right, rlen, m->rw);
		} else {
			m->addr = right;
			m->len = rlen;
			return;
		}
	}
	if (k)
		m->len = k * f->ps;
	else
		m->addr = NULL;
}

/* A random live mapping's address and length; false when there is none. */
static bool pick_map(struct fz *f, void **addr, size_t *len)
{
	int i = (int)rn(NMAPS), n;

	pthread_mutex_lock(&f->mu);
	for (n = 0; n < NMAPS && !f->maps[i].addr; n++)
		i = (i + 1) % NMAPS;
	*addr = f->maps[i].addr;
	*len = f->maps[i].len;
	pthread_mutex_unlock(&f->mu);
	return *addr;
}

/* ---------------------------------------------------------------- */
/* Pickers */

static __u64 pick_key(void)
{
	int r = (int)rn(100);

	if (r < 5)
		return 0;
	if (r < 88)
		return 1 + rn(NKEYS);
	if (r < 95)
		return rnd();
	return ~0ULL;
}

static __u64 pick_len(void)
{
	int r = (int)rn(100);

	if (r < 10)
		return 0;
	if (r < 80)
		return rn(4097);
	if (r < 90)
		return rn(65537);
	if (r < 91)
		return BIGBUF;
	/* up to 16 MiB is valid, and staged in a kernel buffer: rare */
	if (r < 92)
		return 1ULL << (20 + rn(12));
	if (r < 95)
		return 1ULL << (25 + rn(7));
	if (r < 97)
		return 1ULL << (32 + rn(31));
	if (r < 98)
		return ~0ULL - rn(4096);
	return rnd();
}

static __u64 pick_off(void)
{
	int r = (int)rn(100);

	if (r < 40)
		return 0;
	if (r < 85)
		return rn(8193);
	if (r < 93)
		return rn(1 << 20);
	if (r < 97)
		return ~0ULL - rn(8192);
	return rnd();
}

/* A user pointer for a buf/name/keys field with room for @len bytes. */
static __u64 pick_ptr(struct fz *f, __u64 len)
{
	int r = (int)rn(100);
	size_t mlen;
	void *m;

	if (r < 73) {
		if (len < BIGBUF)
			return WV_PTR(f->big + rn(BIGBUF - len + 1));
		return WV_PTR(f->big);
	}
	if (r < 78)
		return 0;
	if (r < 82)
		return WV_PTR(f->unmapped + rn(f->ps));
	if (r < 86)
		return WV_PTR(f->ro + rn(f->ps));
	if (r < 90)	/* straddles the guard page after big */
		return WV_PTR(f->big + BIGBUF - 1 - rn(64));
	if (r < 95 && pick_map(f, &m, &mlen))
		/* a weave view, maybe the registry's own, maybe gone */
		return WV_PTR((char *)m + rn(mlen));
	if (r < 97)
		return 0xffff800000000000ULL + rn(1 << 20);
	return rnd();
}

static __u32 pick_flags(__u32 valid)
{
	int r = (int)rn(100);

	if (r < 88)
		return (__u32)rnd() & valid;
	if (r < 96)
		return ((__u32)rnd() & valid) | (1U << rn(32));
	return (__u32)rnd();
}

static __u32 pick_reserved(void)
{
	return pct(4) ? (__u32)rnd() | 1 : 0;
}

/*
 * The gen an operation with @flags passes in: with WEAVE_OP_IF_GEN, 0 or
 * a small gen that the fuzz registries' entries may well have; without
 * it, rarely anything but 0 (EINVAL).
 */
static __u64 pick_gen(__u32 flags)
{
	if (!(flags & WEAVE_OP_IF_GEN))
		return pct(3) ? rnd() | 1 : 0;
	return pct(20) ? 0 : rn(128);
}

static const char *pick_name(struct fz *f, char *tmp, size_t size)
{
	size_t i, n;

	if (pct(85))
		return f->names[rn(NNAMES)];
	switch (rn(7)) {
	case 0:
		return "";
	case 1:
		return "a/b";
	case 2:			/* too long */
		n = 256 + rn(100);
		n = n < size - 1 ? n : size - 1;
		memset(tmp, 'x', n);
		tmp[n] = 0;
		return tmp;
	case 3:			/* exactly WEAVE_NAME_MAX */
		memset(tmp, 'y', WEAVE_NAME_MAX);
		tmp[WEAVE_NAME_MAX] = 0;
		return tmp;
	case 4:			/* unterminated, runs into the guard page */
		for (i = 0; i < 40; i++)
			f->big[BIGBUF - 40 + i] = 'z';
		return (const char *)f->big + BIGBUF - 40;
	case 5:
		return NULL;
	default:
		return (const char *)f->unmapped;
	}
}

/* ---------------------------------------------------------------- */
/* ioctls */

/*
 * The operations of a BATCH, mostly plausible: the first BATCH_OPS are
 * built, the rest of the room is zero (EINVAL operations), so that what
 * the kernel reads and writes back stays inside it.
 */
#define BATCH_OPS	12
#define BATCH_ROOM	(64 * 1024)
static struct weave_batch_op batch_ops[BATCH_ROOM / sizeof(struct weave_batch_op)];

static void build_batch(struct fz *f)
{
	struct weave_batch_op *op;
	unsigned int i;

	memset(batch_ops, 0, sizeof(batch_ops));
	for (i = 0; i < BATCH_OPS; i++) {
		op = &batch_ops[i];
		op->op = pct(95) ? 1 + (__u32)rn(4) : (__u32)rnd();
		op->key = pick_key();
		switch (op->op) {
		case WEAVE_BATCH_SET:
			op->len = pick_len();
			op->buf = pick_ptr(f, op->len);
			op->flags = pct(60) ? 0 : pick_flags(WEAVE_SET_VALID);
			op->gen = pick_gen(op->flags);
			break;
		case WEAVE_BATCH_GET:
			op->len = pick_len();
			op->buf = pick_ptr(f, op->len);
			op->flags = pick_flags(WEAVE_GET_VALID);
			break;
		case WEAVE_BATCH_DELETE:
			op->flags = pick_flags(WEAVE_DELETE_VALID);
			op->gen = pick_gen(op->flags);
			break;
		}
		if (pct(2))
			op->result = (__s32)rnd();
		op->reserved = pick_reserved();
	}
}

/* Fill @arg (zeroed) with a mostly plausible structure for @d. */
static void build_arg(struct fz *f, const struct nrdesc *d, void *arg,
		      char *tmp, size_t tmpsize)
{
	switch (d->nr) {
	case 0x00: {
		struct weave_api_args *a = arg;

		a->api = pct(90) ? WEAVE_API : rnd() % 4;
		break;
	}
	case 0x01: {
		struct weave_attach_args *a = arg;

		if (pct(40)) {
			a->flags = WEAVE_ATTACH_ANON;
			a->name = pct(90) ? 0 : pick_ptr(f, 8);
		} else {
			a->name = WV_PTR(pick_name(f, tmp, tmpsize));
			a->flags = pick_flags(WEAVE_ATTACH_CREATE |
					      WEAVE_ATTACH_EXCL |
					      WEAVE_ATTACH_PERSIST);
		}
		if (pct(10))
			a->flags = pick_flags(WEAVE_ATTACH_VALID);
		a->mode = pct(90) ? 0666 : (__u32)rnd() % 02000;
		a->max_entries = pct(60) ? 0 : pct(90) ? 1 + rn(100) : rnd();
		a->reserved = pick_reserved();
		break;
	}
	case 0x02: {
		struct weave_unlink_args *u = arg;

		/* unlinking is rare: it splits the named registries */
		u->name = pct(2) ? WV_PTR(pick_name(f, tmp, tmpsize)) :
			WV_PTR("wvt-no-such-name");
		u->flags = pct(95) ? 0 : (__u32)rnd();
		u->reserved = pick_reserved();
		break;
	}
	case 0x03:
		break;
	case 0x04: {
		struct weave_setattr_args *s = arg;

		s->flags = pick_flags(WEAVE_SETATTR_VALID);
		s->mode = pct(80) ? 0666 : (__u32)rnd() % 02000;
		s->uid = pct(70) ? 0 : pct(80) ? (__u32)rn(2000) : (__u32)rnd();
		s->gid = pct(70) ? 0 : pct(80) ? (__u32)rn(2000) : (__u32)rnd();
		break;
	}
	case 0x05: {
		struct weave_reopen_args *r = arg;

		r->flags = pick_flags(WEAVE_REOPEN_VALID);
		r->reserved = pick_reserved();
		break;
	}
	case 0x10: {
		struct weave_set_args *s = arg;

		s->key = pick_key();
		s->len = pick_len();
		s->buf = pick_ptr(f, s->len);
		s->flags = pct(60) ? 0 : pick_flags(WEAVE_SET_VALID);
		s->reserved = pick_reserved();
		s->gen = pick_gen(s->flags);
		break;
	}
	case 0x11: {
		struct weave_get_args *g = arg;

		g->key = pick_key();
		g->len = pick_len();
		g->buf = pick_ptr(f, g->len);
		g->offset = pick_off();
		g->flags = pick_flags(WEAVE_GET_VALID);
		g->reserved = pick_reserved();
		break;
	}
	case 0x12: {
		struct weave_write_args *w = arg;

		w->key = pick_key();
		w->len = pick_len();
		w->buf = pick_ptr(f, w->len);
		w->offset = pick_off();
		w->flags = pick_flags(WEAVE_WRITE_VALID);
		w->reserved = pick_reserved();
		w->gen = pick_gen(w->flags);
		break;
	}
	case 0x13: {
		struct weave_resize_args *r = arg;

		r->key = pick_key();
		r->size = pick_len();
		r->flags = pick_flags(WEAVE_RESIZE_VALID);
		r->reserved = pick_reserved();
		r->gen = pick_gen(r->flags);
		break;
	}
	case 0x14: {
		struct weave_delete_args *x = arg;

		x->key = pick_key();
		x->flags = pick_flags(WEAVE_DELETE_VALID);
		x->reserved = pick_reserved();
		x->gen = pick_gen(x->flags);
		break;
	}
	case 0x15: {
		struct weave_clear_args *c = arg;

		/* clears are rare: they empty the registry */
		c->flags = pct(3) ? pick_flags(WEAVE_CLEAR_VALID) : (1U << 31);
		c->reserved = pick_reserved();
		break;
	}
	case 0x16: {
		struct weave_stat_args *s = arg;

		s->key = pick_key();
		s->flags = pct(95) ? 0 : (__u32)rnd();
		s->reserved = pick_reserved();
		break;
	}
	case 0x17: {
		struct weave_list_args *l = arg;

		l->cursor = pct(60) ? 0 : pct(70) ? rn(64) : rnd();
		l->count = pct(90) ? (__u32)rn(70) : pct(50) ?
			(__u32)(WEAVE_LIST_MAX + rn(10) - 5) : (__u32)rnd();
		l->keys = pick_ptr(f, (__u64)l->count * 8);
		l->flags = pct(95) ? 0 : (__u32)rnd();
		break;
	}
	case 0x18: {
		struct weave_batch_args *b = arg;

		b->count = pct(90) ? 1 + (__u32)rn(BATCH_OPS) : pct(50) ?
			(__u32)rn(5000) : (__u32)rnd();
		b->op_size = pct(90) ? sizeof(struct weave_batch_op) :
			pct(50) ? (__u32)rn(200) : (__u32)rnd();
		b->ops = pct(90) &&
			(__u64)b->count * b->op_size <= sizeof(batch_ops) ?
			WV_PTR(batch_ops) :
			pick_ptr(f, (__u64)b->count * b->op_size);
		b->flags = pick_flags(WEAVE_BATCH_VALID);
		b->failed = pct(97) ? 0 : (__u32)rnd();
		build_batch(f);
		break;
	}
	case 0x20: {
		struct weave_lock_args *l = arg;

		l->key = pick_key();
		l->flags = pick_flags(WEAVE_LOCK_VALID);
		if (l->flags & WEAVE_LOCK_CONVERT && pct(70))
			l->key = f->locked_key;
		/* a timeout without WEAVE_LOCK_TIMED is EINVAL */
		l->timeout_ns = !(l->flags & WEAVE_LOCK_TIMED) && pct(95) ? 0 :
			pct(80) ? rn(TIMEOUT_NS) : rnd();
		break;
	}
	case 0x21: {
		struct weave_unlock_args *u = arg;

		u->key = pct(50) ? f->locked_key : pick_key();
		u->flags = pick_flags(WEAVE_UNLOCK_VALID);
		u->reserved = pick_reserved();
		break;
	}
	case 0x30:
	case 0x31: {
		struct weave_watch_args *w = arg;

		w->key = pct(20) ? 0 : pick_key();
		w->events = pct(85) ? (__u32)rnd() & WEAVE_EV_ALL :
			(__u32)rnd();
		if (d->nr == 0x31 && pct(80))
			w->events = 0;
		w->flags = d->nr == 0x30 ? pick_flags(WEAVE_WATCH_VALID) :
			(pct(95) ? 0 : (__u32)rnd());
		break;
	}
	case 0x32: {
		struct weave_wait_args *w = arg;

		w->key = pick_key();
		w->gen = pct(20) ? 0 : rn(1000);
		w->flags = pick_flags(WEAVE_WAIT_VALID);
		w->timeout_ns = !(w->flags & WEAVE_WAIT_TIMED) && pct(95) ? 0 :
			pct(90) ? rn(WAIT_NS) : rnd();
		w->reserved = pick_reserved();
		break;
	}
	}
}

/*
 * Never sleep for long: a WAIT (or LOCK) whose timeout or gen could make
 * it block is made harmless, whatever else was done to the structure.
 */
static void defuse(unsigned int nr, void *arg)
{
	if (nr == 0x32) {
		struct weave_wait_args *w = arg;

		if (!(w->flags & WEAVE_WAIT_TIMED))
			w->gen = 0xfeedfacecafe0000ULL;	/* never reached */
		w->timeout_ns %= WAIT_NS;
	}
	if (nr == 0x20) {
		struct weave_lock_args *l = arg;

		l->flags |= WEAVE_OP_NONBLOCK;
		l->timeout_ns %= TIMEOUT_NS;
	}
}

/* Check what a successful, well-placed, full-size call returned. */
static void check_out(struct fz *f, unsigned int nr, const void *in,
		      const void *out)
{
	switch (nr) {
	case 0x00: {
		const struct weave_api_args *a = out;

		check(f, a->api == WEAVE_API && a->features == f->api.features &&
		      a->ioctls == f->api.ioctls &&
		      a->max_entries == f->api.max_entries &&
		      a->max_entry_size == f->api.max_entry_size &&
		      a->max_registry_bytes == f->api.max_registry_bytes,
		      "API result");
		break;
	}
	case 0x03: {
		const struct weave_info_args *i = out;

		check(f, i->count <= i->max_entries &&
		      i->max_entries <= f->api.max_entries &&
		      i->bytes <= f->api.max_registry_bytes &&
		      i->max_entry_size <= i->entry_span &&
		      !(i->entry_span % f->ps) && !(i->index_size % f->ps) &&
		      i->index_size >= (i->max_entries + 1) * 64 &&
		      !(i->flags & ~0xfU), "INFO result");
		break;
	}
	case 0x10:
		check(f, ((const struct weave_set_args *)out)->gen, "SET gen 0");
		break;
	case 0x11: {
		const struct weave_get_args *g = out;
		__u64 want = g->offset < g->size ?
			(g->len < g->size - g->offset ? g->len :
			 g->size - g->offset) : 0;

		check(f, g->copied == want && g->size <= f->api.max_entry_size &&
		      g->gen, "GET result");
		break;
	}
	case 0x12: {
		const struct weave_write_args *w = out;

		check(f, w->gen && (!w->len || w->size >= w->offset + w->len),
		      "WRITE result");
		break;
	}
	case 0x16: {
		const struct weave_stat_args *s = out;

		check(f, s->slot >= 1 && s->slot <= f->api.max_entries &&
		      !(s->map_offset % f->ps) && s->map_size &&
		      s->data_offset + s->size <= s->map_size &&
		      s->birth && s->birth <= s->gen, "STAT result");
		break;
	}
	case 0x17: {
		const struct weave_list_args *l = out;

		check(f, l->count <= ((const struct weave_list_args *)in)->count,
		      "LIST count > asked");
		break;
	}
	case 0x18: {
		const struct weave_batch_args *b = out;
		__u32 i, failed = 0;

		check(f, b->failed <= b->count, "BATCH failed > count");
		if (b->ops != WV_PTR(batch_ops) ||
		    b->op_size != sizeof(*batch_ops))
			break;
		for (i = 0; i < b->count; i++) {
			failed += batch_ops[i].result != 0;
			check(f, batch_ops[i].result <= 0 &&
			      batch_ops[i].result > -4096, "BATCH result");
		}
		check(f, failed == b->failed, "BATCH failed count");
		break;
	}
	case 0x20:
		check(f, !(((const struct weave_lock_args *)out)->result &
			   ~WEAVE_LOCK_OWNER_DIED), "LOCK result");
		f->locked_key = ((const struct weave_lock_args *)out)->key;
		break;
	case 0x32: {
		const struct weave_wait_args *w = out;

		check(f, w->cur_gen != w->gen, "WAIT returned on its gen");
		break;
	}
	}
}

/*
 * Flip one bit of the @size bytes at @arg. In a field that holds a user
 * address (a pointer the fuzzer built, into its own memory), the bit is
 * one of bits 47 to 63, which puts the address outside user space: a
 * lower bit would move it onto other memory of this process, which the
 * kernel then writes as told (a BATCH's results, a GET's value), so the
 * fuzzer would corrupt itself. It did: built at -O0, a BATCH's ops moved
 * 1 KiB down from batch_ops onto the GOT, whose entries got -EINVAL in
 * their low halves, and the next library call jumped there (SIGSEGV in
 * the process or its fork children, with the seed the test prints).
 */
static void flip_bit(unsigned char *arg, size_t size)
{
	size_t byte = rn(size), field = byte & ~(size_t)7;
	unsigned int bit = (unsigned int)rn(8);
	__u64 v;

	if (field + 8 <= size) {
		memcpy(&v, arg + field, 8);
		if (v >= 0x10000 && v < (1ULL << 47)) {
			bit = 47 + (unsigned int)rn(17);
			byte = field + bit / 8;
			bit %= 8;
		}
	}
	arg[byte] ^= (unsigned char)(1U << bit);
}

static void op_ioctl(struct fz *f)
{
	/* room for the largest _IOC size: the kernel may read it all */
	static unsigned char arg[ARGBUF] __attribute__((aligned(16)));
	static unsigned char in[256];
	char tmp[400];
	const struct nrdesc *d = &nrs[rn(NNRS)];
	size_t size = d->size, i;
	unsigned long cmd;
	unsigned char *where;
	int fd = pick_fd(f), ret, r, row = (int)(d - nrs);
	long rv;
	bool badnr = false;
	double t;

	memset(arg, 0, 512);
	if (pct(4)) {
		/* A random command number, with a random size. */
		unsigned int nr = (unsigned int)rn(256);

		size = rn(201);
		for (i = 0; i < NNRS; i++)
			if (nrs[i].nr == nr)
				break;
		if (i < NNRS) {
			d = &nrs[i];
			row = (int)i;
		} else {
			badnr = true;
			row = ST_BADNR;
			for (i = 0; i < size; i++)
				arg[i] = pct(70) ? 0 : (unsigned char)rnd();
			cmd = wv_cmd(nr, size);
			goto place;
		}
	}
	build_arg(f, d, arg, tmp, sizeof(tmp));

	/* Malform: a flipped bit anywhere, sizes, tails. */
	if (pct(3))
		flip_bit(arg, d->size);
	r = (int)rn(100);
	if (r < 12) {
		switch (rn(5)) {
		case 0:
			size = rn(201);
			break;
		case 1:		/* shorter than the first version */
			size = d->ver0 - 1 - rn(d->ver0);
			break;
		case 2:
			size = d->ver0;
			break;
		default:	/* longer, with a zero or non-zero tail */
			size = d->size + 1 + rn(64);
			if (pct(50))
				arg[d->size + rn(size - d->size)] = 0xa5;
			break;
		}
	}
	if (pct(2)) {
		/* up to the largest _IOC_SIZE, maybe with a non-zero tail */
		size = (ARGBUF - 1) - rn(4000);
		memset(arg + 512, 0, size - 512);
		if (pct(50))
			arg[512 + rn(size - 512)] = 0x5a;
	}
	defuse(d->nr, arg);
	cmd = wv_cmd(d->nr, size);
	if (pct(1))	/* another direction */
		cmd = _IOC(rn(4), WEAVE_IOC_MAGIC, d->nr, size);
	if (pct(1))	/* another type */
		cmd = _IOC(_IOC_READ | _IOC_WRITE, rn(256), d->nr, size);

place:
	/* Where the structure lives. */
	r = (int)rn(100);
	if (r < 88) {
		where = arg;
	} else if (r < 90) {
		where = NULL;
	} else if (r < 92) {
		where = f->unmapped;
	} else if (r < 94) {
		where = f->ro;		/* garbage in; EFAULT out */
	} else if (r < 97) {
		/*
		 * A weave view: the structure is whatever the registry holds
		 * there, and the copy back fails. All of it inside the view:
		 * the kernel writes only a command's output fields, so a
		 * structure that ran past the view's end would have them
		 * written into whatever mapping follows, maybe this
		 * process's own memory. Not for WAIT, which defuse() could
		 * not make harmless.
		 */
		void *m;
		size_t mlen;

		where = d->nr != 0x32 && pick_map(f, &m, &mlen) &&
			mlen >= size ?
			(unsigned char *)m + (rn(mlen - size + 1) & ~7UL) :
			arg;
	} else {
		/* ends partway into the guard page after argbuf */
		size_t n = size ? rn(size < (size_t)f->ps ? size : f->ps) : 0;

		where = f->argbuf + f->ps - n;
		memcpy(where, arg, n);
	}
	if (!badnr)
		memcpy(in, arg, d->size);
	if (f->trace)
		fprintf(stderr, "#  fd %d %s cmd %#lx size %zu arg %p\n", fd,
			badnr ? "NR?" : d->name, cmd, size, (void *)where);
	t = fz_clock();
	rv = ioctl(fd, cmd, where);
	ret = rv < 0 ? errno : 0;
	f->st[row].time += fz_clock() - t;
	/* REOPEN's new file: made and closed, which is what is tested. */
	if (rv > 0)
		close(rv);
	result(f, row, ret);
	if (!ret && !badnr && where == arg && size >= d->size &&
	    cmd == wv_cmd(d->nr, size))
		check_out(f, d->nr, in, arg);
}

/* ---------------------------------------------------------------- */
/* mmap and friends */

/*
 * Reads through mappings fault (SIGBUS past an entry's end, SIGSEGV where
 * the other thread unmapped), thousands of times a run: wv_fault_setup()
 * once, so that no read makes a system call. A fault outside a read
 * names the operation it happened in, then kills the process with the
 * signal.
 */
static struct fz *fz_cur;
static __thread bool fz_second;	/* the second thread */

static void fz_report(int sig, const siginfo_t *si)
{
	char msg[200];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "# fuzz: signal %d (code %d, address %p) in %s at op %lu; WEAVE_FUZZ_SEED=%llu\n",
		     sig, si->si_code, si->si_addr,
		     fz_cur->child ? "a child" :
		     fz_second ? "the second thread" : "the fuzzer",
		     fz_cur->op, (unsigned long long)fz_cur->seed);
	if (write(2, msg, (size_t)n) < 0)
		n = 0;
}

/* Touch a few bytes of a mapping: SIGBUS past an entry's end is fine. */
static void probe(struct fz *f, void *p, size_t len, int n)
{
	size_t off;
	int i;

	for (i = 0; i < n && len; i++) {
		off = pct(60) ? rn(len < 65536 ? len : 65536) : rn(len);
		result(f, ST_PROBE, wv_probe((unsigned char *)p + off, NULL));
	}
}

/* Offset and length of the view of a random key of @fd; false if none. */
static bool view_of(int fd, off_t *off, size_t *len)
{
	struct weave_stat_args st;

	if (wv_stat(fd, 1 + rn(NKEYS), &st))
		return false;
	*off = (off_t)st.map_offset;
	*len = st.map_size;
	return true;
}

static void op_mmap(struct fz *f)
{
	int fd = pick_fd(f), prot = PROT_READ, flags = MAP_SHARED, r, row;
	size_t len;
	off_t off;
	void *p;

	r = (int)rn(100);
	if (r < 40 && view_of(fd, &off, &len)) {
		row = ST_MMAP_VIEW;
		r = (int)rn(100);
		if (r < 40)
			len = f->ps * (1 + rn(4));
		else if (r < 50)
			len = 1 + rn(len);
		else if (r < 55)
			len += f->ps;		/* past the span: EINVAL */
		else if (r < 60)
			off += f->ps;		/* not a span start: EINVAL */
		/* Writable: works under the key's exclusive lock only. */
		if (pct(25))
			prot |= PROT_WRITE;
	} else if (r < 60) {
		row = ST_MMAP_INDEX;
		off = pct(80) ? 0 : f->ps * (off_t)rn(4);
		len = f->ps * (1 + rn(pct(90) ? 4 : 64));
	} else {
		row = ST_MMAP_RAND;
		r = (int)rn(100);
		len = r < 5 ? 0 : r < 60 ? f->ps * (1 + rn(4)) :
			r < 90 ? f->ps * (1 + rn(256)) : 1 + rn(1 << 20);
		r = (int)rn(100);
		off = r < 40 ? 0 : r < 90 ? f->ps * (off_t)rn(8192) :
			r < 95 ? (off_t)rn(1 << 20) :
			(off_t)(rnd() & ~(__u64)(f->ps - 1));
		prot = pct(70) ? PROT_READ : (int)rn(8);
		flags = pct(90) ? MAP_SHARED : pct(50) ? MAP_PRIVATE :
			(int)(rnd() & 0xff & ~(__u64)(MAP_FIXED | MAP_ANONYMOUS));
	}
	p = mmap(NULL, len, prot, flags, fd, off);
	if (f->trace)
		fprintf(stderr, "#  mmap fd %d len %#zx prot %d flags %#x off %#llx -> %p\n",
			fd, len, prot, flags, (unsigned long long)off, p);
	if (p == MAP_FAILED) {
		result(f, row, errno);
		return;
	}
	result(f, row, 0);
	if (prot & PROT_EXEC || (prot & PROT_WRITE && row == ST_MMAP_INDEX))
		note_bad(f, "mmap exec or writable index succeeded", 0);
	probe(f, p, len, 3);
	/* A writable view: a store, which may meet a revocation (SIGBUS). */
	if (prot & PROT_WRITE) {
		unsigned char b = (unsigned char)rnd();

		result(f, ST_PROBE, wv_probe_copy((unsigned char *)p +
						  rn(len), &b, 1));
	}
	pthread_mutex_lock(&f->mu);
	map_add(f, p, len, prot & PROT_WRITE);
	pthread_mutex_unlock(&f->mu);
}

static void op_mapctl(struct fz *f)
{
	int i = (int)rn(NMAPS), r = (int)rn(100), prot, mflags;
	struct fz_map *m = &f->maps[i];
	size_t n, len;
	void *p;

	pthread_mutex_lock(&f->mu);
	if (!m->addr) {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	if (r < 30) {
		map_cut(f, i, pct(50), ST_MUNMAP);
	} else if (r < 55) {
		n = pct(50) ? f->ps * (1 + rn(64)) : 1 + rn(1 << 18);
		mflags = pct(80) ? MREMAP_MAYMOVE : 0;
		if (pct(10)) {
			mflags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
			n = m->len;
		}
		p = mremap(m->addr, m->len, n, mflags);
		if (f->trace)
			fprintf(stderr, "#  mremap %p %#zx -> %#zx %#x: %p\n",
				m->addr, m->len, n, mflags, p);
		if (p == MAP_FAILED) {
			result(f, ST_MREMAP, errno);
		} else {
			result(f, ST_MREMAP, 0);
			if (mflags & MREMAP_DONTUNMAP) {
				/* the old range stays mapped, empty */
				map_add(f, p, n, m->rw);
			} else {
				m->addr = p;
				m->len = n;
			}
		}
	} else if (r < 70) {
		prot = (int)rn(8);
		if (mprotect(m->addr, m->len, prot)) {
			result(f, ST_MPROTECT, errno);
		} else {
			result(f, ST_MPROTECT, 0);
			if (prot & PROT_EXEC || (prot & PROT_WRITE && !m->rw))
				note_bad(f, "mprotect writable/exec succeeded",
					 0);
		}
	} else {
		/* Reads, without the lock: the second thread may unmap. */
		p = m->addr;
		len = m->len;
		pthread_mutex_unlock(&f->mu);
		probe(f, p, len, 8);
		return;
	}
	pthread_mutex_unlock(&f->mu);
}

/* ---------------------------------------------------------------- */
/* read / poll */

static void check_records(struct fz *f, const struct weave_event *ev,
			  size_t n)
{
	const __u32 wide = WEAVE_EV_CLEARED | WEAVE_EV_UNLINKED |
			   WEAVE_EV_OVERFLOW;
	size_t i;

	for (i = 0; i < n; i++) {
		check(f, ev[i].mask && !(ev[i].mask & ~(WEAVE_EV_ALL |
							WEAVE_EV_OVERFLOW)) &&
		      !ev[i].reserved, "event record mask");
		check(f, ev[i].key ? !(ev[i].mask & wide) :
		      !(ev[i].mask & ~wide), "event record key");
	}
}

static void op_read(struct fz *f)
{
	static const size_t sizes[] = { 0, 1, 7, 31, 32, 33, 63, 64, 65, 96,
					100, 4096, 4097 };
	int fd = pick_fd(f);
	size_t n = pct(80) ? sizes[rn(ARRAY_SIZE(sizes))] : rn(BIGBUF);
	__u64 buf = pick_ptr(f, n);
	ssize_t r;

	/* so that there is something to read now and then */
	if (pct(30))
		wv_watch(fd, 0, WEAVE_EV_ALL, 0);
	r = read(fd, (void *)(uintptr_t)buf, n);

	if (r < 0) {
		result(f, ST_READ, errno);
		return;
	}
	result(f, ST_READ, 0);
	f->records += (size_t)r / sizeof(struct weave_event);
	if ((size_t)r > n || r % sizeof(struct weave_event))
		note_bad(f, "read partial record", 0);
	else if (buf >= WV_PTR(f->big) && buf + r <= WV_PTR(f->big + BIGBUF) &&
		 !(buf % 8))
		check_records(f, (const void *)(uintptr_t)buf,
			      (size_t)r / sizeof(struct weave_event));
}

static void op_poll(struct fz *f)
{
	struct pollfd p[3];
	int i, n = 1 + (int)rn(3);

	for (i = 0; i < n; i++) {
		p[i].fd = pick_fd(f);
		p[i].events = pct(80) ? POLLIN : (short)rnd();
		p[i].revents = 0;
	}
	result(f, ST_POLL, poll(p, (nfds_t)n, pct(97) ? 0 : 1) < 0 ? errno : 0);
}

/* ---------------------------------------------------------------- */
/* fds, blocking files, fork */

static void op_fdctl(struct fz *f)
{
	int i = (int)rn(NFDS), r = (int)rn(100), fd;

	pthread_mutex_lock(&f->mu);
	if (r < 70) {
		reopen_slot(f, i, ST_ATTACH);
	} else if (r < 80) {
		close_slot(f, i);
	} else if (r < 90) {
		/* a dup shares the open file description (and its locks) */
		if (f->fds[i] >= 0 && !f->closed[i]) {
			fd = fcntl(f->fds[i], F_DUPFD_CLOEXEC, 3);
			if (fd >= 0) {
				close_slot(f, (i + 1) % NFDS);
				fd_put(f, (i + 1) % NFDS, fd);
			}
		}
	} else {
		/* an unattached file */
		close_slot(f, i);
		fd = wv_dev((pct(50) ? O_RDONLY : O_RDWR) | O_NONBLOCK);
		result(f, ST_OPEN, fd < 0 ? -fd : 0);
		if (fd >= 0)
			fd_put(f, i, fd);
	}
	pthread_mutex_unlock(&f->mu);
}

/*
 * Timed LOCK and WAIT on a new blocking file of a named registry, which
 * then joins the pool, non-blocking. Nothing waits longer than
 * TIMEOUT_NS: operations without a timeout could wait for a lock that only
 * this thread could release.
 */
static void op_timed(struct fz *f)
{
	struct weave_stat_args st;
	__u64 key, gen;
	__u32 res;
	int fd, i, ret;

	fd = wv_open(f->names[rn(NNAMES)], O_RDWR, WEAVE_ATTACH_CREATE, 0666,
		     0, NULL);
	if (fd < 0) {
		result(f, ST_TIMED, -fd);
		return;
	}
	for (i = 0; i < 3; i++) {
		key = 1 + rn(NKEYS);
		if (pct(60)) {
			ret = wv_lock(fd, key, WEAVE_LOCK_TIMED |
				      (pct(40) ? WEAVE_LOCK_SHARED : 0),
				      rn(TIMEOUT_NS), &res);
			result(f, ST_TIMED, -ret);
			if (!ret)
				check(f, !(res & ~WEAVE_LOCK_OWNER_DIED),
				      "timed LOCK result");
			if (!ret && pct(30)) {
				/* convert, maybe waiting for other sharers */
				ret = wv_lock(fd, key, WEAVE_LOCK_TIMED |
					      WEAVE_LOCK_CONVERT |
					      (pct(50) ? WEAVE_LOCK_SHARED : 0),
					      rn(TIMEOUT_NS), NULL);
				result(f, ST_TIMED, -ret);
			}
		} else {
			/* wait on the gen the key has: sleeps till timeout */
			gen = wv_stat(fd, key, &st) ? 0 : st.gen;
			ret = wv_wait(fd, key, gen, WEAVE_WAIT_TIMED,
				      rn(TIMEOUT_NS), NULL);
			result(f, ST_TIMED, -ret);
		}
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK)) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&f->mu);
	i = (int)rn(NFDS);
	close_slot(f, i);
	fd_put(f, i, fd);
	pthread_mutex_unlock(&f->mu);
}

static void one_op(struct fz *f);

static void reap_children(struct fz *f, bool block)
{
	int i, st;
	pid_t p;

	for (i = 0; i < MAX_CHILDREN; i++) {
		if (!f->children[i])
			continue;
		p = waitpid(f->children[i], &st, block ? 0 : WNOHANG);
		if (p == 0)
			continue;
		f->children[i] = 0;
		if (p < 0)
			continue;
		/* a child may die by SIGKILL: its own or ours */
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
			note_bad(f, "child killed by signal", WTERMSIG(st));
		else if (WIFEXITED(st) && WEXITSTATUS(st))
			note_bad(f, "child saw unexpected results",
				 WEXITSTATUS(st));
	}
}

/*
 * A child: maybe a file of its own with exclusive locks and a view, then
 * a few random operations on the inherited pool, then death, holding
 * whatever it holds: by _exit() or by SIGKILL.
 */
static void child_main(struct fz *f, __u64 cseed)
{
	void *p;
	int fd, i, n;

	f->child = true;
	f->nbad = 0;
	f->total_bad = 0;
	memset(f->children, 0, sizeof(f->children));
	rng_op(cseed, 2, 0);
	n = 10 + (int)rn(30);
	if (pct(50)) {
		fd = wv_open(f->names[rn(NNAMES)], O_RDWR | O_NONBLOCK,
			     WEAVE_ATTACH_CREATE, 0666, 0, NULL);
		for (i = 0; fd >= 0 && i < 3; i++)
			wv_lock(fd, 1 + rn(NKEYS), WEAVE_OP_NONBLOCK, 0, NULL);
		if (fd >= 0) {
			p = mmap(NULL, f->ps, PROT_READ, MAP_SHARED, fd, 0);
			if (p != MAP_FAILED)
				wv_probe(p, NULL);
		}
	}
	for (i = 0; i < n; i++) {
		rng_op(cseed, 2, (__u64)i + 1);
		one_op(f);
	}
	rng_op(cseed, 2, (__u64)n + 1);
	if (pct(30))
		raise(SIGKILL);
	_exit(f->total_bad > 255 ? 255 : (int)f->total_bad);
}

static void op_fork(struct fz *f)
{
	__u64 cseed;
	int i, n;
	pid_t p;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (!f->children[i])
			break;
	if (i == MAX_CHILDREN) {
		/* kill one mid-way: it may be in an ioctl or a fault */
		if (pct(50))
			kill(f->children[rn(MAX_CHILDREN)], SIGKILL);
		return;
	}
	/* some live locks to inherit */
	for (n = 0; n < 2; n++)
		wv_lock(pick_fd(f), 1 + rn(NKEYS),
			WEAVE_OP_NONBLOCK | (pct(50) ? WEAVE_LOCK_SHARED : 0),
			0, NULL);
	cseed = rnd();

	fflush(stdout);
	fflush(stderr);
	/* not while the second thread is between a close and its record */
	pthread_mutex_lock(&f->mu);
	p = fork();
	if (p == 0) {
		pthread_mutex_unlock(&f->mu);
		child_main(f, cseed);
	}
	pthread_mutex_unlock(&f->mu);
	result(f, ST_FORK, p < 0 ? errno : 0);
	if (p > 0)
		f->children[i] = p;
}

/*
 * The kinds of operation, and how often each comes, in 1/10000. Changes
 * of the address space cost milliseconds each on the debug kernel in the
 * emulated VM (twenty times an ioctl), so they are kept to a few percent
 * to let a run of the default size end well inside the selftest timeout.
 */
static const struct {
	const char *name;
	void (*fn)(struct fz *f);
	int weight;
} kinds[NKINDS] = {
	{ "ioctl", op_ioctl, 9300 },
	{ "mmap", op_mmap, 120 },
	{ "mapctl", op_mapctl, 120 },
	{ "read", op_read, 300 },
	{ "poll", op_poll, 70 },
	{ "fdctl", op_fdctl, 80 },
	{ "timed", op_timed, 5 },
	{ "fork", op_fork, 5 },
};

static void one_op(struct fz *f)
{
	int r = (int)rn(10000), k;
	double t;

	for (k = 0; k < NKINDS - 1 && r >= kinds[k].weight; k++)
		r -= kinds[k].weight;
	if (f->trace)
		fprintf(stderr, "# op %lu: %s\n", f->op, kinds[k].name);
	if (k == K_FORK && f->child)
		return;
	t = fz_clock();
	kinds[k].fn(f);
	f->kind_time[k] += fz_clock() - t;
	f->kind_n[k]++;
}

/* ---------------------------------------------------------------- */
/* The second thread */

/* One change to the pool, with mu held. */
static void chaos_op(struct fz *f)
{
	int r = (int)rn(100), i = (int)rn(NMAPS), fd;
	size_t len;
	off_t off;
	void *p;

	if (r < 45) {
		if (f->maps[i].addr)
			map_cut(f, i, pct(70), ST_T_MUNMAP);
	} else if (r < 57) {
		i = (int)rn(NFDS);
		if (f->fds[i] >= 0 && !f->closed[i]) {
			close_slot(f, i);
			result(f, ST_T_CLOSE, 0);
		}
	} else if (r < 70) {
		reopen_slot(f, (int)rn(NFDS), ST_T_REOPEN);
	} else {
		fd = fd_at(f, (int)rn(NFDS));
		off = 0;
		len = f->ps * (1 + rn(4));
		if (pct(60) && view_of(fd, &off, &len) && pct(70))
			len = f->ps * (1 + rn(4));
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
		result(f, ST_T_MMAP, p == MAP_FAILED ? errno : 0);
		if (p != MAP_FAILED)
			map_add(f, p, len, false);
	}
}

static void *chaos_fn(void *arg)
{
	struct fz *f = arg;
	struct timespec ts = { 0 };
	__u64 n;

	fz_second = true;
	for (n = 0; !__atomic_load_n(&f->stop, __ATOMIC_RELAXED); n++) {
		rng_op(f->seed, 1, n);
		pthread_mutex_lock(&f->mu);
		chaos_op(f);
		pthread_mutex_unlock(&f->mu);
		/* a change every few ms: the race, not a storm */
		ts.tv_nsec = 2000000 + (long)rn(8000000);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Consistency at the end */

static int check_registry(struct __test_metadata *_metadata, int fd,
			  const char *what)
{
	static __u64 keys[1 << 16];
	const struct weave_index_header *h;
	const struct weave_slot *s;
	struct weave_info_args info;
	struct weave_stat_args st;
	unsigned char *idx;
	long n, i, j;
	int ret, bad = 0;

	ret = wv_info(fd, &info);
	if (ret) {
		TH_LOG("%s: INFO: %s", what, strerror(-ret));
		return 1;
	}
	n = wv_list_all(fd, keys, ARRAY_SIZE(keys), 1 + (info.id % 37));
	if (n < 0) {
		TH_LOG("%s: LIST walk: %s", what, strerror((int)-n));
		return 1;
	}
	printf("# fuzz: %s: %llu entries, %llu bytes, gen %llu\n", what,
	       (unsigned long long)info.count, (unsigned long long)info.bytes,
	       (unsigned long long)info.gen);
	if ((__u64)n != info.count) {
		TH_LOG("%s: INFO count %llu but a LIST walk gave %ld keys",
		       what, (unsigned long long)info.count, n);
		bad++;
	}
	idx = mmap(NULL, info.index_size, PROT_READ, MAP_SHARED, fd, 0);
	if (idx == MAP_FAILED) {
		TH_LOG("%s: mmap index: %s", what, strerror(errno));
		return bad + 1;
	}
	h = (const void *)idx;
	if (h->magic != WEAVE_INDEX_MAGIC || h->count != info.count ||
	    h->gen != info.gen || h->seq % 2) {
		TH_LOG("%s: index header magic %#x count %llu gen %llu seq %u, INFO count %llu gen %llu",
		       what, h->magic, (unsigned long long)h->count,
		       (unsigned long long)h->gen, h->seq,
		       (unsigned long long)info.count,
		       (unsigned long long)info.gen);
		bad++;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && bad < 10; j++) {
			if (keys[j] == keys[i]) {
				TH_LOG("%s: key %llu listed twice", what,
				       (unsigned long long)keys[i]);
				bad++;
			}
		}
		ret = wv_stat(fd, keys[i], &st);
		if (ret) {
			TH_LOG("%s: listed key %llu does not STAT: %s", what,
			       (unsigned long long)keys[i], strerror(-ret));
			bad++;
			continue;
		}
		s = wv_slot(idx, st.slot);
		if (st.slot > info.max_entries || s->key != keys[i] ||
		    s->gen != st.gen || s->size != st.size ||
		    s->birth != st.birth || !(s->flags & WEAVE_SLOT_USED) ||
		    s->offset != st.map_offset + st.data_offset) {
			TH_LOG("%s: key %llu: STAT slot %u gen %llu size %llu, index slot key %llu gen %llu size %llu",
			       what, (unsigned long long)keys[i], st.slot,
			       (unsigned long long)st.gen,
			       (unsigned long long)st.size,
			       (unsigned long long)s->key,
			       (unsigned long long)s->gen,
			       (unsigned long long)s->size);
			bad++;
		}
	}
	munmap(idx, info.index_size);
	return bad;
}

/* ---------------------------------------------------------------- */
/* Reporting */

static void print_stats(struct fz *f)
{
	char line[512], name[24];
	unsigned long total, best;
	int row, e, b, len, shown;
	bool used[NERRNO];

	for (row = 0; row < NSTATS; row++) {
		struct fz_stat *s = &f->st[row];

		total = s->ok;
		for (e = 0; e < NERRNO; e++)
			total += s->err[e];
		if (!total)
			continue;
		len = snprintf(line, sizeof(line), "# fuzz: %-9s %7lu ok",
			       st_name(row), s->ok);
		if (s->time > 0)
			len += snprintf(line + len, sizeof(line) - (size_t)len,
					" (%.0f us)", s->time * 1e6 / total);
		/* errnos, most frequent first */
		memset(used, 0, sizeof(used));
		for (shown = 0; shown < 8; shown++) {
			best = 0;
			b = -1;
			for (e = 0; e < NERRNO; e++) {
				if (!used[e] && s->err[e] > best) {
					best = s->err[e];
					b = e;
				}
			}
			if (b < 0)
				break;
			used[b] = true;
			len += snprintf(line + len, sizeof(line) - (size_t)len,
					" %s %lu", errname(b, row == ST_PROBE,
							   name, sizeof(name)),
					best);
		}
		printf("%s\n", line);
	}
	printf("# fuzz: %lu event records read\n", f->records);
	for (row = 0; row < NKINDS; row++)
		printf("# fuzz: %-6s %7lu ops, %6.1f s, %7.1f us each\n",
		       kinds[row].name, f->kind_n[row], f->kind_time[row],
		       f->kind_n[row] ?
		       f->kind_time[row] * 1e6 / f->kind_n[row] : 0.0);
}

/* Rows that must have succeeded at least once in a run of default size. */
static int check_coverage(struct __test_metadata *_metadata, struct fz *f,
			  bool thread)
{
	static const int rows[] = {
		ST_ATTACH, ST_MMAP_INDEX, ST_MMAP_VIEW, ST_MREMAP, ST_MUNMAP,
		ST_PROBE, ST_READ, ST_POLL, ST_TIMED, ST_FORK,
	};
	static const int trows[] = {
		ST_T_MUNMAP, ST_T_CLOSE, ST_T_MMAP, ST_T_REOPEN,
	};
	unsigned int i;
	int bad = 0;

	for (i = 0; i < NNRS; i++) {
		if (!f->st[i].ok) {
			TH_LOG("no %s ever succeeded", nrs[i].name);
			bad++;
		}
	}
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		if (!f->st[rows[i]].ok) {
			TH_LOG("no %s ever succeeded", st_name(rows[i]));
			bad++;
		}
	}
	for (i = 0; thread && i < ARRAY_SIZE(trows); i++) {
		if (!f->st[trows[i]].ok) {
			TH_LOG("no %s ever succeeded", st_name(trows[i]));
			bad++;
		}
	}
	if (!f->records) {
		TH_LOG("no event record was ever read");
		bad++;
	}
	return bad;
}

/* ---------------------------------------------------------------- */

FIXTURE(fuzz) {
	int dummy;
};

FIXTURE_SETUP(fuzz)
{
	int fd = wv_dev(O_RDWR);

	if (fd < 0)
		SKIP(return, "no %s: %s", WEAVE_DEV, strerror(-fd));
	close(fd);
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* A long run (WEAVE_FUZZ_OPS) is limited by the caller, not here. */
TEST_F_TIMEOUT(fuzz, random_ops, 24 * 3600)
{
	static struct fz fz;
	struct fz *f = &fz;
	const char *env;
	unsigned long nops = FUZZ_DEFAULT_OPS, i;
	bool thread = true;
	pthread_t th;
	double t0, dt;
	int bad = 0, fd, ret;
	char what[64];

	/* the harness ends the test with _exit(): no buffered lines */
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(f, 0, sizeof(*f));
	env = getenv("WEAVE_FUZZ_SEED");
	f->seed = env && *env ? strtoull(env, NULL, 0) :
		mix64(((__u64)time(NULL) << 20) ^ (__u64)getpid() ^
		      (__u64)(wv_now() * 1e9));
	env = getenv("WEAVE_FUZZ_OPS");
	if (env && *env)
		nops = strtoul(env, NULL, 0);
	env = getenv("WEAVE_FUZZ_THREAD");
	if (env && *env == '0')
		thread = false;
	f->trace = getenv("WEAVE_FUZZ_TRACE");
	printf("# fuzz: WEAVE_FUZZ_SEED=%llu WEAVE_FUZZ_OPS=%lu WEAVE_FUZZ_THREAD=%d\n",
	       (unsigned long long)f->seed, nops, thread);
	fflush(stdout);

	fz_cur = f;
	wv_fault_setup(fz_report);
	/* A fatal signal loses a full buffer: line by line, it shows where. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->bad_mu, NULL);
	f->ps = wv_page_size();
	for (i = 0; i < NFDS; i++)
		f->fds[i] = -1;
	for (i = 0; i < NNAMES; i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "fuzz%lu", i);
		wv_name(f->names[i], sizeof(f->names[i]), tag);
	}

	f->big = mmap(NULL, BIGBUF + f->ps, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->big);
	ASSERT_EQ(0, mprotect(f->big + BIGBUF, f->ps, PROT_NONE));
	for (i = 0; i < BIGBUF; i++)
		f->big[i] = (unsigned char)(i * 7 + 3);
	f->argbuf = mmap(NULL, 2 * f->ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->argbuf);
	ASSERT_EQ(0, mprotect(f->argbuf + f->ps, f->ps, PROT_NONE));
	f->ro = mmap(NULL, f->ps, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->ro);
	memset(f->ro, 0x5a, f->ps);
	((__u64 *)f->ro)[0] = WEAVE_API;
	ASSERT_EQ(0, mprotect(f->ro, f->ps, PROT_READ));
	/* kept PROT_NONE, so nothing else can be mapped there later */
	f->unmapped = mmap(NULL, f->ps, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->unmapped);

	fd = wv_dev(O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wv_api(fd, &f->api));
	close(fd);
	printf("# fuzz: max_entries %llu max_entry_size %llu max_registry_bytes %llu\n",
	       (unsigned long long)f->api.max_entries,
	       (unsigned long long)f->api.max_entry_size,
	       (unsigned long long)f->api.max_registry_bytes);

	/*
	 * The named registries persist, so that entries pile up in them
	 * while the pool's files come and go; an UNLINK now and then
	 * starts one afresh.
	 */
	for (i = 0; i < NNAMES; i++) {
		fd = wv_open(f->names[i], O_RDWR, WEAVE_ATTACH_CREATE |
			     WEAVE_ATTACH_PERSIST, 0666, 0, NULL);
		ASSERT_LE(0, fd);
		close(fd);
	}
	rng_op(f->seed, 3, 0);
	for (i = 0; i < NFDS; i++)
		reopen_slot(f, (int)i, ST_ATTACH);
	if (thread)
		ASSERT_EQ(0, pthread_create(&th, NULL, chaos_fn, f));

	t0 = wv_now();
	for (i = 0; i < nops; i++) {
		f->op = i;
		rng_op(f->seed, 0, i);
		one_op(f);
		if (!(i & 63))
			reap_children(f, false);
	}
	if (thread) {
		__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
		pthread_join(th, NULL);
	}
	reap_children(f, true);
	dt = wv_now() - t0;
	printf("# fuzz: %lu ops in %.1f s (%.0f ops/s), %lu unexpected\n",
	       nops, dt, dt > 0 ? nops / dt : 0.0, f->total_bad);
	print_stats(f);

	/* Consistency of every registry still reachable. */
	for (i = 0; i < NNAMES; i++) {
		fd = wv_open(f->names[i], O_RDONLY | O_NONBLOCK, 0, 0, 0, NULL);
		if (fd < 0) {
			if (fd != -ENOENT) {
				TH_LOG("reopen %s: %s", f->names[i],
				       strerror(-fd));
				bad++;
			}
			continue;
		}
		bad += check_registry(_metadata, fd, f->names[i]);
		close(fd);
	}
	for (i = 0; i < NFDS; i++) {
		struct weave_info_args info;

		if (f->fds[i] < 0 || f->closed[i])
			continue;
		if (wv_info(f->fds[i], &info) || !(info.flags & WEAVE_INFO_ANON))
			continue;
		snprintf(what, sizeof(what), "anon registry %llu",
			 (unsigned long long)info.id);
		bad += check_registry(_metadata, f->fds[i], what);
	}
	if (nops >= FUZZ_DEFAULT_OPS)
		bad += check_coverage(_metadata, f, thread);

	/* Cleanup. */
	for (i = 0; i < NMAPS; i++)
		if (f->maps[i].addr)
			munmap(f->maps[i].addr, f->maps[i].len);
	for (i = 0; i < NFDS; i++)
		close_slot(f, (int)i);
	for (i = 0; i < NNAMES; i++) {
		ret = wv_unlink_name(f->names[i]);
		if (ret && ret != -ENOENT)
			TH_LOG("unlink %s: %s", f->names[i], strerror(-ret));
	}

	for (i = 0; i < (unsigned long)f->nbad; i++)
		TH_LOG("unexpected: %s -> %d (%s), %lu times, first at op %lu",
		       f->bad[i].what, f->bad[i].err,
		       f->bad[i].err ? strerror(f->bad[i].err) : "check",
		       f->bad[i].count, f->bad[i].first_op);
	if (f->nbad || bad)
		TH_LOG("reproduce with WEAVE_FUZZ_SEED=%llu WEAVE_FUZZ_OPS=%lu",
		       (unsigned long long)f->seed, nops);
	EXPECT_EQ(0, f->total_bad);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
