// SPDX-License-Identifier: GPL-2.0
/*
 * bench: weave against what a user would otherwise use, in one VM run.
 *
 * Run inside the VM (make bench, through tools/vm/run). Every process is
 * pinned to CPU 0, so ping-pong pairs share one CPU: under QEMU TCG,
 * cross-CPU wakeups swing by two orders of magnitude. Each figure is
 * measured for weave and for its baseline in alternating repetitions
 * (REPS, at least 7), each repetition calibrated to about REP_SEC seconds
 * of VM time; a figure is the median, min and max of its repetitions.
 *
 * Output, one record a line, tab-separated (tools/bench/report reads it):
 *   INFO  name  value
 *   FIG   id  unit  better  w_med  w_min  w_max  b_med  b_min  b_max
 *         target  title
 * better is "lo" (time: smaller is better) or "hi" (throughput); the
 * baseline fields are "-" for figures with an absolute target. target
 * is "r<=X", "r>=X" (ratio weave/baseline), "a>=X" or "a<=X" (absolute,
 * in the figure's unit) or "peer" (reported, goal: weave faster).
 *   SCALE series  x  med  min  max     (the chart's points)
 *
 * With -c the bench counts instructions instead of timing: QEMU runs the
 * insn-count plugin (tools/bench/plugin/insn-count.c), every timed loop
 * is framed by a start and a stop marker instruction, and each side of a
 * figure runs with N operations and then 3N, three times (N calibrated
 * to about REP_SEC, default 0.1 s, with the plugin's slowdown). The
 * plugin writes the instructions of each window to a file on the host;
 * the bench prints which windows belong to which figure, a line a pair:
 *   ICOUNT  id  side  seq1  ops1  seq2  ops2
 * side is "w" or "b"; seqK is the window's number (the plugin's MARK
 * seq), opsK the operations in it, in the unit of the figure's time (a
 * one-way hop, a delivery to one watcher, a key of a walk). The report
 * takes the difference of a pair's windows over its 2N operations, so
 * what a window holds once (a peer's exit, the loop's entry) cancels,
 * and the median of the three pairs.
 *
 * Usage: bench [-c] [-t REP_SEC] [-r REPS] [-n ENTRIES] [-o FIGS]
 *   -o takes a comma-separated list of figure groups (1..8) to run.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <lmdb.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <weave.h>

#define VAL		64
#define BIG		(1024 * 1024)
#define SMALL_N		1000
#define MAX_REPS	64
#define COUNT_PAIRS	3

static double rep_sec = 0.5;
static int reps = 7;
static long big_n = 1000000;
static const char *only;
static double t_start;
static bool count_mode;		/* -c */
static bool marking;		/* frame timed loops with the markers */
static long mark_seq;		/* stop markers emitted */
static long ops_done;		/* operations in the last timed loop */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

#define CHECK(expr) do {						\
	long _r = (long)(expr);						\
	if (_r < 0)							\
		die("%s:%d: %s: %ld (%s)", __FILE__, __LINE__, #expr,	\
		    _r, strerror(_r == -1 ? errno : (int)-_r));		\
} while (0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * The plugin's markers (tools/bench/plugin/insn-count.c): a register
 * exchanged with itself, which changes nothing, in encodings no compiler
 * emits (xchg %bx,%bx and xchg %cx,%cx with the operand-size prefix).
 * Only -c emits them.
 */
static double start(void)
{
	double t = now();

	if (marking)
		__asm__ volatile(".byte 0x66, 0x87, 0xdb" ::: "memory");
	return t;
}

static double stop(double t)
{
	if (marking) {
		__asm__ volatile(".byte 0x66, 0x87, 0xc9" ::: "memory");
		mark_seq++;
	}
	return now() - t;
}

static bool want(int group)
{
	char buf[8];
	const char *p;

	if (!only)
		return true;
	snprintf(buf, sizeof(buf), "%d", group);
	for (p = only; *p; p++)
		if ((p == only || p[-1] == ',') && !strncmp(p, buf, strlen(buf)) &&
		    (p[strlen(buf)] == ',' || !p[strlen(buf)]))
			return true;
	return false;
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK(sched_setaffinity(0, sizeof(set), &set));
}

/*
 * Ping-pong pairs and fan-out run SCHED_FIFO on CPU 0: a woken task then
 * never preempts the waker, so each hop is exactly one wake-up and one
 * context switch when the waker blocks, for weave and baseline alike
 * (under CFS, wake-up preemption lets a lock holder re-take a lock
 * before the waiter queued, which is no hand-off). RT throttling is off
 * for the run (the VM is ours).
 */
static void set_fifo(bool on)
{
	struct sched_param sp = { .sched_priority = on ? 10 : 0 };

	CHECK(sched_setscheduler(0, on ? SCHED_FIFO : SCHED_OTHER, &sp));
}

/* --- shared memory and futexes between the processes of a figure --- */

struct shm {
	uint32_t ready;
	uint32_t w1, w2;	/* futex ping-pong words */
	uint32_t ack;		/* fan-out acknowledgements */
	uint32_t target;
	uint32_t stop;
	uint64_t syscalls;	/* SIGSYS count of the seccomp child */
	uint64_t sink;
};

static struct shm *shm;

static long futex(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static uint32_t ld(uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void st(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Wait until *@p is not @v. */
static uint32_t futex_wait_ne(uint32_t *p, uint32_t v)
{
	uint32_t cur;

	while ((cur = ld(p)) == v)
		futex(p, FUTEX_WAIT, v);
	return cur;
}

static void signal_ready(void)
{
	st(&shm->ready, 1);
	futex(&shm->ready, FUTEX_WAKE, 1);
}

static void wait_ready(void)
{
	futex_wait_ne(&shm->ready, 0);
	st(&shm->ready, 0);
}

static void reap(pid_t pid)
{
	int status;

	CHECK(waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("child %d failed (status %#x)", pid, status);
}

/* --- measurement --- */

/* Runs @iters operations, returns the seconds they took. */
typedef double (*bench_fn)(void *ctx, long iters);

struct series {
	double v[MAX_REPS];
	int n;
	/* -c: the counted windows, N and 3N operations COUNT_PAIRS times */
	long seq[2 * COUNT_PAIRS], ops[2 * COUNT_PAIRS];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void stats(struct series *s, double *med, double *min, double *max)
{
	double v[MAX_REPS];

	memcpy(v, s->v, sizeof(double) * s->n);
	qsort(v, s->n, sizeof(double), cmp_double);
	*min = v[0];
	*max = v[s->n - 1];
	*med = s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

/* Iterations that take about rep_sec; *@per: seconds per iteration. */
static long calibrate_per(bench_fn fn, void *ctx, double *per)
{
	long iters = 4;
	double t;

	for (;;) {
		t = fn(ctx, iters);
		if (t >= rep_sec / 8 || iters >= (1L << 40))
			break;
		iters *= t < rep_sec / 100 ? 10 : 2;
	}
	*per = t / iters;
	iters = (long)(iters * rep_sec / t);
	return iters > 0 ? iters : 1;
}

static long calibrate(bench_fn fn, void *ctx)
{
	double per;

	return calibrate_per(fn, ctx, &per);
}

/*
 * -c: a window of known length first, which the report checks the
 * plugin's count against: a mov and ICHECK_LOOPS rounds of dec, jnz,
 * in one asm statement with the markers, so the compiler adds nothing.
 *   ICHECK  seq  user-instructions
 */
#define ICHECK_LOOPS	10000

static void count_check(void)
{
	long n;

	__asm__ volatile(".byte 0x66, 0x87, 0xdb\n\t"
			 "mov %1, %0\n"
			 "1:\tdec %0\n\t"
			 "jnz 1b\n\t"
			 ".byte 0x66, 0x87, 0xc9"
			 : "=&r" (n) : "i" (ICHECK_LOOPS) : "cc", "memory");
	printf("ICHECK\t%ld\t%d\n", ++mark_seq, 1 + 2 * ICHECK_LOOPS);
}

/*
 * -c: one side's counted windows, of N and 3N operations, COUNT_PAIRS
 * times (the report takes the median pair: kernel work that happens to
 * fall in one window, a kworker or a burst of interrupts, moves one pair
 * only). N is for about rep_sec, but at least COUNT_MIN_OPS unless that
 * takes more than COUNT_MAX_SEC: a host busy while the bench calibrates
 * must not leave a figure a handful of operations.
 */
#define COUNT_MIN_OPS	2000
#define COUNT_MAX_SEC	2.0

static void count(bench_fn fn, void *ctx, struct series *s)
{
	double per;
	long n = calibrate_per(fn, ctx, &per), min_ops = COUNT_MIN_OPS;
	int k;

	if (min_ops * per > COUNT_MAX_SEC)
		min_ops = (long)(COUNT_MAX_SEC / per);
	if (n < min_ops)
		n = min_ops;
	for (k = 0; k < 2 * COUNT_PAIRS; k++) {
		ops_done = n * (1 + 2 * (k & 1));	/* fn may say otherwise */
		marking = true;
		fn(ctx, ops_done);
		marking = false;
		s->seq[k] = mark_seq;
		s->ops[k] = ops_done;
	}
}

/*
 * Measure weave (@wf) and its baseline (@bf, may be NULL) in alternating
 * repetitions; values are seconds per op times @scale (1e9: ns/op), or
 * @scale / seconds per op when @hi (a rate). With -c, count instead.
 */
static void measure(bench_fn wf, void *wctx, bench_fn bf, void *bctx,
		    double scale, bool hi, struct series *ws,
		    struct series *bs)
{
	long wi, bi;
	double t;
	int r;

	ws->n = bs->n = 0;
	ws->ops[1] = bs->ops[1] = 0;
	if (count_mode) {
		count(wf, wctx, ws);
		if (bf)
			count(bf, bctx, bs);
		return;
	}
	wi = calibrate(wf, wctx);
	bi = bf ? calibrate(bf, bctx) : 0;
	for (r = 0; r < reps; r++) {
		t = wf(wctx, wi) / wi;
		ws->v[ws->n++] = hi ? scale / t : t * scale;
		if (!bf)
			continue;
		t = bf(bctx, bi) / bi;
		bs->v[bs->n++] = hi ? scale / t : t * scale;
	}
}

static void icount(const char *id, const char *side, const struct series *s)
{
	int k;

	for (k = 0; k < 2 * COUNT_PAIRS; k += 2)
		printf("ICOUNT\t%s\t%s\t%ld\t%ld\t%ld\t%ld\n", id, side,
		       s->seq[k], s->ops[k], s->seq[k + 1], s->ops[k + 1]);
}

static void emit(const char *id, const char *unit, bool hi,
		 struct series *ws, struct series *bs, const char *target,
		 const char *title)
{
	double a, b, c, d = 0, e = 0, f = 0;

	if (count_mode) {
		if (ws->ops[1])
			icount(id, "w", ws);
		if (bs && bs->ops[1])
			icount(id, "b", bs);
		printf("# %s counted at %.1f s\n", id, now() - t_start);
		fflush(stdout);
		return;
	}
	stats(ws, &a, &b, &c);
	if (bs && bs->n)
		stats(bs, &d, &e, &f);
	printf("FIG\t%s\t%s\t%s\t%.6g\t%.6g\t%.6g\t", id, unit, hi ? "hi" : "lo",
	       a, b, c);
	if (bs && bs->n)
		printf("%.6g\t%.6g\t%.6g", d, e, f);
	else
		printf("-\t-\t-");
	printf("\t%s\t%s\n", target, title);
	/*
	 * The ratio of each weave repetition to the baseline repetition
	 * right after it: the host's speed drifts during a run (under TCG
	 * by up to 1.7x, for seconds at a time), and a pair adjacent in
	 * time sees the same speed where two medians may not.
	 */
	if (bs && bs->n == ws->n && ws->n) {
		struct series rs = { .n = ws->n };
		int i;

		for (i = 0; i < ws->n; i++)
			rs.v[i] = bs->v[i] > 0 ? ws->v[i] / bs->v[i] : 0;
		stats(&rs, &a, &b, &c);
		printf("PAIR\t%s\t%.4f\t%.4f\t%.4f\n", id, a, b, c);
	}
	printf("# %s done at %.1f s\n", id, now() - t_start);
	fflush(stdout);
}

static void emit_scale(const char *series, double x, struct series *s)
{
	double a, b, c;

	if (count_mode)
		return;
	stats(s, &a, &b, &c);
	printf("SCALE\t%s\t%g\t%.6g\t%.6g\t%.6g\n", series, x, a, b, c);
	fflush(stdout);
}

static void fig(const char *id, const char *unit, bool hi, bench_fn wf,
		void *wctx, bench_fn bf, void *bctx, const char *target,
		const char *title)
{
	struct series ws, bs;

	measure(wf, wctx, bf, bctx, hi ? 1 : 1e9, hi, &ws, &bs);
	emit(id, unit, hi, &ws, &bs, target, title);
}

/* --- helpers --- */

static unsigned char val[VAL];
static unsigned char out[BIG];
static unsigned char *bigbuf;

static uint64_t rnd_state = 88172645463325252ULL;

static inline uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static struct weave *reg_open(const char *name, unsigned int flags)
{
	struct weave *w;

	CHECK(weave_open(name, flags, 0600, &w));
	return w;
}

static void fill(struct weave *w, uint64_t n, size_t len)
{
	uint64_t k;

	for (k = 1; k <= n; k++) {
		memcpy(val, &k, sizeof(k));
		CHECK(weave_set(w, k, val, len));
	}
}

static int memfd(size_t size)
{
	int fd = memfd_create("bench", MFD_CLOEXEC);

	CHECK(fd);
	CHECK(ftruncate(fd, (off_t)size));
	memset(bigbuf, 1, size);
	CHECK(pwrite(fd, bigbuf, size, 0));
	return fd;
}

/* --- 1: mapped read with the seqcount check --- */

/* A plain MAP_SHARED memfd: a seqcount page and a data page. */
struct plain {
	const uint32_t *seq;
	const uint64_t *size;
	const unsigned char *data;
};

/*
 * noipa: a reader function of the library kind, as weave_view_read() is,
 * with a length it does not know at build time; without it the compiler
 * folds len = 64 in and turns memcpy() into four moves, which measures
 * the compiler, not the mechanism.
 */
static __attribute__((noipa)) ssize_t plain_read(const struct plain *p,
						      void *buf, size_t len)
{
	uint32_t seq;
	uint64_t size;
	size_t n;

	for (;;) {
		seq = __atomic_load_n(p->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		size = __atomic_load_n(p->size, __ATOMIC_RELAXED);
		n = len < size ? len : size;
		memcpy(buf, p->data, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(p->seq, __ATOMIC_RELAXED) == seq)
			return (ssize_t)size;
	}
}

static void view_loop(struct weave_view *v, long iters)
{
	unsigned char buf[VAL];
	uint64_t sink = 0;
	long i;

	for (i = 0; i < iters; i++) {
		if (weave_view_read(v, buf, VAL) != VAL)
			die("weave_view_read");
		sink += buf[i & (VAL - 1)];
	}
	shm->sink += sink;
}

static double b_view(void *ctx, long iters)
{
	double t = start();

	view_loop(ctx, iters);
	return stop(t);
}

static double b_plain(void *ctx, long iters)
{
	struct plain *p = ctx;
	unsigned char buf[VAL];
	uint64_t sink = 0;
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		if (plain_read(p, buf, VAL) != VAL)
			die("plain_read");
		sink += buf[i & (VAL - 1)];
	}
	t = stop(t);
	shm->sink += sink;
	return t;
}

/*
 * The syscall counter: a seccomp filter that traps every system call but
 * exit, exit_group and rt_sigreturn; the SIGSYS handler counts them (and
 * makes each return -ENOSYS). A control of 10 getppid() must count 10.
 */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	__atomic_add_fetch(&shm->syscalls, 1, __ATOMIC_RELAXED);
	((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

static void count_syscalls(struct weave_view *v, long iters)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};
	struct sigaction sa = { .sa_sigaction = on_sigsys,
				.sa_flags = SA_SIGINFO };
	uint64_t control, reads;
	pid_t pid;
	int i;

	shm->syscalls = 0;
	pid = fork();
	CHECK(pid);
	if (!pid) {
		CHECK(sigaction(SIGSYS, &sa, NULL));
		CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
		CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
		for (i = 0; i < 10; i++)
			syscall(SYS_getppid);
		control = __atomic_load_n(&shm->syscalls, __ATOMIC_RELAXED);
		view_loop(v, iters);	/* the timed loop, without the clock */
		reads = __atomic_load_n(&shm->syscalls, __ATOMIC_RELAXED);
		/* Publish both through the shared page; no syscall needed. */
		shm->syscalls = control << 32 | (reads - control);
		syscall(SYS_exit_group, 0);
	}
	reap(pid);
	control = shm->syscalls >> 32;
	reads = shm->syscalls & 0xffffffff;
	printf("INFO\tsyscalls\t%" PRIu64 " system calls in %ld mapped reads "
	       "(seccomp SIGSYS counter; control: %" PRIu64 " of 10 getppid "
	       "counted)\n", reads, iters, control);
	if (control != 10)
		die("the syscall counter does not count");
}

static void fig1(void)
{
	struct weave *w = reg_open(NULL, 0);
	struct weave_view v;
	struct plain p;
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *m;
	int fd = memfd(2 * ps);

	fill(w, 1, VAL);
	CHECK(weave_view_map(w, 1, &v));
	m = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap memfd");
	p.seq = (const uint32_t *)m;
	p.size = (const uint64_t *)(m + 8);
	p.data = m + ps;
	{
		uint64_t sz = VAL;

		CHECK(pwrite(fd, "\0\0\0\0", 4, 0));
		CHECK(pwrite(fd, &sz, 8, 8));
	}
	fig("1", "ns", false, b_view, &v, b_plain, &p, "r<=1.5",
	    "mapped view read 64 B (seqcount) vs MAP_SHARED memfd + seqcount");
	if (!count_mode)
		count_syscalls(&v, 100000);
	weave_view_unmap(&v);
	munmap(m, 2 * ps);
	close(fd);
	weave_close(w);
}

/* --- 2, 3: get and set against pread and pwrite --- */

struct kv {
	struct weave *w;
	int fd;
	uint64_t n;	/* keys 1..n, random; 0: key 1 */
	size_t len;
};

static double b_get(void *ctx, long iters)
{
	struct kv *c = ctx;
	double t = start();
	uint64_t k = 1;
	long i;

	for (i = 0; i < iters; i++) {
		if (c->n)
			k = rnd() % c->n + 1;
		if (weave_get(c->w, k, out, c->len, NULL) != (ssize_t)c->len)
			die("weave_get %" PRIu64, k);
	}
	return stop(t);
}

static double b_set(void *ctx, long iters)
{
	struct kv *c = ctx;
	const void *src = c->len > VAL ? bigbuf : val;
	double t = start();
	uint64_t k = 1;
	long i;

	for (i = 0; i < iters; i++) {
		if (c->n)
			k = rnd() % c->n + 1;
		CHECK(weave_set(c->w, k, src, c->len));
	}
	return stop(t);
}

static double b_pread(void *ctx, long iters)
{
	struct kv *c = ctx;
	double t = start();
	long i;

	for (i = 0; i < iters; i++)
		if (pread(c->fd, out, c->len, 0) != (ssize_t)c->len)
			die("pread");
	return stop(t);
}

static double b_pwrite(void *ctx, long iters)
{
	struct kv *c = ctx;
	const void *src = c->len > VAL ? bigbuf : val;
	double t = start();
	long i;

	for (i = 0; i < iters; i++)
		if (pwrite(c->fd, src, c->len, 0) != (ssize_t)c->len)
			die("pwrite");
	return stop(t);
}

static void fig23(void)
{
	struct weave *w = reg_open(NULL, 0);
	struct kv wc = { .w = w, .len = VAL }, bc = { .len = VAL };
	struct series ws, bs;

	bc.fd = memfd(BIG);
	fill(w, 1, VAL);
	if (want(2))
		fig("2", "ns", false, b_get, &wc, b_pread, &bc, "r<=1.3",
		    "get 64 B (ioctl) vs pread 64 B from a memfd");
	if (want(3)) {
		fig("3a", "ns", false, b_set, &wc, b_pwrite, &bc, "r<=1.5",
		    "set 64 B (ioctl) vs pwrite 64 B to a memfd");
		wc.len = bc.len = BIG;
		CHECK(weave_set(w, 1, bigbuf, BIG));
		measure(b_set, &wc, b_pwrite, &bc, BIG / 1048576.0, true, &ws,
			&bs);
		emit("3b", "MiB/s", true, &ws, &bs, "r>=0.9",
		     "set 1 MiB vs pwrite 1 MiB to a memfd (throughput)");
	}
	close(bc.fd);
	weave_close(w);
}

/* --- 9: a batch of sets against the same sets one by one --- */

#define BATCH_N		64

struct batch {
	struct weave *w;
	struct weave_batch_op ops[BATCH_N];
};

/* One op per iteration: the keys 1..BATCH_N, BATCH_N to a batch. */
static double b_batch(void *ctx, long iters)
{
	struct batch *c = ctx;
	double t = start();
	unsigned int n, j;
	long i;

	for (i = 0; i < iters; i += n) {
		n = iters - i < BATCH_N ? (unsigned int)(iters - i) : BATCH_N;
		for (j = 0; j < n; j++)
			c->ops[j] = (struct weave_batch_op){
				.op = WEAVE_BATCH_SET, .key = j + 1,
				.buf = (uintptr_t)val, .len = VAL,
			};
		if (weave_batch(c->w, c->ops, n, 0))
			die("weave_batch");
	}
	return stop(t);
}

static double b_sets(void *ctx, long iters)
{
	struct batch *c = ctx;
	double t = start();
	long i;

	for (i = 0; i < iters; i++)
		CHECK(weave_set(c->w, i % BATCH_N + 1, val, VAL));
	return stop(t);
}

static void fig9(void)
{
	struct batch c = { .w = reg_open(NULL, 0) };

	fill(c.w, BATCH_N, VAL);
	fig("9", "ops/s", true, b_batch, &c, b_sets, &c, "r>=3",
	    "64 sets of 64 B in one batch vs 64 single sets (throughput)");
	weave_close(c.w);
}

/* --- 10: updates through a writable view --- */

struct upd {
	struct weave *w;
	struct weave_view v;	/* writable view of key 1, kept throughout */
	unsigned char *map;	/* a MAP_SHARED memfd mapping */
	int fd;
	size_t len;
};

/* Lock, write through the writable view, unlock: one change. */
static double b_rw_update(void *ctx, long iters)
{
	struct upd *c = ctx;
	const void *src = c->len > VAL ? bigbuf : val;
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		CHECK(weave_lock(c->w, 1, 0, 0));
		memcpy(weave_view_data_rw(&c->v), src, c->len);
		CHECK(weave_unlock(c->w, 1, 0));
	}
	return stop(t);
}

/* The same with an OFD lock around a memcpy() into a memfd mapping. */
static double b_memfd_update(void *ctx, long iters)
{
	struct upd *c = ctx;
	const void *src = c->len > VAL ? bigbuf : val;
	struct flock fl = { .l_whence = SEEK_SET };
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		fl.l_type = F_WRLCK;
		CHECK(fcntl(c->fd, F_OFD_SETLKW, &fl));
		memcpy(c->map, src, c->len);
		fl.l_type = F_UNLCK;
		CHECK(fcntl(c->fd, F_OFD_SETLK, &fl));
	}
	return stop(t);
}

static double b_lock_set(void *ctx, long iters)
{
	struct upd *c = ctx;
	const void *src = c->len > VAL ? bigbuf : val;
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		CHECK(weave_lock(c->w, 1, 0, 0));
		CHECK(weave_set(c->w, 1, src, c->len));
		CHECK(weave_unlock(c->w, 1, 0));
	}
	return stop(t);
}

static double b_set_only(void *ctx, long iters)
{
	struct upd *c = ctx;
	double t = start();
	long i;

	for (i = 0; i < iters; i++)
		CHECK(weave_set(c->w, 2, bigbuf, c->len));
	return stop(t);
}

static void fig10(void)
{
	struct upd c = { .w = reg_open(NULL, 0), .len = BIG };

	CHECK(weave_set(c.w, 1, bigbuf, BIG));
	CHECK(weave_set(c.w, 2, bigbuf, BIG));
	CHECK(weave_lock(c.w, 1, 0, 0));
	CHECK(weave_view_map_rw(c.w, 1, &c.v));
	CHECK(weave_unlock(c.w, 1, 0));
	c.fd = memfd(BIG);
	c.map = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, 0);
	if (c.map == MAP_FAILED)
		die("mmap memfd");
	fig("10a", "ns", false, b_rw_update, &c, b_memfd_update, &c, "r<=1.2",
	    "lock, write 1 MiB through the writable view, unlock vs OFD lock, memcpy 1 MiB into a MAP_SHARED memfd mapping, unlock");
	fig("10b", "ns", false, b_rw_update, &c, b_set_only, &c, "r<=0.5",
	    "lock, write 1 MiB through the writable view, unlock vs set 1 MiB");
	c.len = VAL;
	CHECK(weave_set(c.w, 1, val, VAL));
	fig("10c", "ns", false, b_rw_update, &c, b_lock_set, &c, "i<1",
	    "lock, store 64 B through the writable view, unlock vs lock, set 64 B, unlock");
	weave_view_unmap(&c.v);
	munmap(c.map, BIG);
	close(c.fd);
	weave_close(c.w);
}

/* --- 4, 5: ping-pong pairs on one CPU --- */

#define PP_REG "bench-pp"

enum pp_kind { PP_POLL, PP_EVENTFD, PP_WAIT, PP_FUTEX, PP_LOCK };

struct pp {
	enum pp_kind kind;
	int efd[2];
};

static void pp_poll_side(struct weave *w, uint64_t mine, uint64_t theirs,
			 long iters, bool first)
{
	struct weave_event ev[8];
	struct pollfd pfd = { .fd = weave_fd(w), .events = POLLIN };
	long i;

	for (i = 0; i < iters; i++) {
		if (first)
			CHECK(weave_set(w, theirs, val, VAL));
		CHECK(poll(&pfd, 1, -1));
		if (read(pfd.fd, ev, sizeof(ev)) < (ssize_t)sizeof(ev[0]))
			die("read events");
		if (ev[0].key != mine)
			die("event of key %" PRIu64, (uint64_t)ev[0].key);
		if (!first)
			CHECK(weave_set(w, theirs, val, VAL));
	}
}

static void pp_eventfd_side(int rfd, int wfd, long iters, bool first)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };
	uint64_t one = 1, got;
	long i;

	for (i = 0; i < iters; i++) {
		if (first && write(wfd, &one, 8) != 8)
			die("eventfd write");
		CHECK(poll(&pfd, 1, -1));
		if (read(rfd, &got, 8) != 8)
			die("eventfd read");
		if (!first && write(wfd, &one, 8) != 8)
			die("eventfd write");
	}
}

static void pp_wait_side(struct weave *w, uint64_t mine, uint64_t theirs,
			 long iters, bool first)
{
	uint64_t g;
	long i;

	CHECK(weave_get(w, mine, out, VAL, &g));
	if (!first)
		signal_ready();
	for (i = 0; i < iters; i++) {
		if (first)
			CHECK(weave_set(w, theirs, val, VAL));
		CHECK(weave_wait(w, mine, g, -1, &g));
		if (!first)
			CHECK(weave_set(w, theirs, val, VAL));
	}
}

static void pp_futex_side(uint32_t *mine, uint32_t *theirs, long iters,
			  bool first)
{
	uint32_t g = ld(mine);
	long i;

	if (!first)
		signal_ready();
	for (i = 0; i < iters; i++) {
		if (first) {
			__atomic_add_fetch(theirs, 1, __ATOMIC_RELEASE);
			futex(theirs, FUTEX_WAKE, 1);
		}
		g = futex_wait_ne(mine, g);
		if (!first) {
			__atomic_add_fetch(theirs, 1, __ATOMIC_RELEASE);
			futex(theirs, FUTEX_WAKE, 1);
		}
	}
}

/* Both sides: lock, unlock; FIFO hand-off makes them alternate. */
static void pp_lock_side(struct weave *w, long iters, bool first)
{
	long i;

	if (!first)
		signal_ready();
	for (i = 0; i < iters; i++) {
		if (first) {
			CHECK(weave_unlock(w, 1, 0));
			CHECK(weave_lock(w, 1, 0, -1));
		} else {
			CHECK(weave_lock(w, 1, 0, -1));
			CHECK(weave_unlock(w, 1, 0));
		}
	}
}

/*
 * One repetition of @hops one-way notifications (round trips of two):
 * fork the peer, time the parent's side.
 */
static double b_pp(void *ctx, long hops)
{
	long iters = hops / 2 > 0 ? hops / 2 : 1;
	struct pp *c = ctx;
	struct weave *w = NULL;
	double t;
	pid_t pid;

	if (c->kind == PP_EVENTFD) {
		c->efd[0] = eventfd(0, EFD_CLOEXEC);
		c->efd[1] = eventfd(0, EFD_CLOEXEC);
		CHECK(c->efd[0]);
		CHECK(c->efd[1]);
	}
	if (c->kind != PP_EVENTFD && c->kind != PP_FUTEX) {
		w = reg_open(PP_REG, WEAVE_OPEN_CREATE);
		fill(w, 2, VAL);
		if (c->kind == PP_POLL)
			CHECK(weave_watch(w, 2, WEAVE_EV_CHANGED, 0));
		if (c->kind == PP_LOCK)
			CHECK(weave_lock(w, 1, 0, -1));
	}
	shm->w1 = shm->w2 = 0;
	set_fifo(true);
	pid = fork();
	CHECK(pid);
	if (!pid) {
		struct weave *cw = NULL;

		if (w)
			cw = reg_open(PP_REG, 0);
		switch (c->kind) {
		case PP_POLL:
			CHECK(weave_watch(cw, 1, WEAVE_EV_CHANGED, 0));
			signal_ready();
			pp_poll_side(cw, 1, 2, iters, false);
			break;
		case PP_EVENTFD:
			signal_ready();
			pp_eventfd_side(c->efd[0], c->efd[1], iters, false);
			break;
		case PP_WAIT:
			pp_wait_side(cw, 1, 2, iters, false);
			break;
		case PP_FUTEX:
			pp_futex_side(&shm->w1, &shm->w2, iters, false);
			break;
		case PP_LOCK:
			pp_lock_side(cw, iters, false);
			break;
		}
		_exit(0);
	}
	wait_ready();
	if (c->kind == PP_LOCK) {
		struct weave_lock_info li = { 0 };
		int spins = 0;

		/* Start once the child waits in its first lock. */
		do {
			usleep(1000);
			CHECK(weave_lock_info(w, 1, &li));
		} while (!li.waiters && ++spins < 5000);
		if (!li.waiters)
			die("the lock hand-off child never waited");
	}
	t = start();
	switch (c->kind) {
	case PP_POLL:
		pp_poll_side(w, 2, 1, iters, true);
		break;
	case PP_EVENTFD:
		pp_eventfd_side(c->efd[1], c->efd[0], iters, true);
		break;
	case PP_WAIT:
		pp_wait_side(w, 2, 1, iters, true);
		break;
	case PP_FUTEX:
		pp_futex_side(&shm->w2, &shm->w1, iters, true);
		break;
	case PP_LOCK:
		pp_lock_side(w, iters, true);
		break;
	}
	t = stop(t);
	if (c->kind == PP_LOCK)
		CHECK(weave_unlock(w, 1, 0));
	reap(pid);
	set_fifo(false);
	if (w)
		weave_close(w);	/* the name goes with its last user */
	if (c->kind == PP_EVENTFD) {
		close(c->efd[0]);
		close(c->efd[1]);
	}
	ops_done = 2 * iters;
	/* Scaled so that the caller's t / hops is half a round trip. */
	return t * (double)hops / (2.0 * (double)iters);
}

struct ofd {
	struct weave *w;
	int fd;
};

static double b_lock(void *ctx, long iters)
{
	struct ofd *c = ctx;
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		CHECK(weave_lock(c->w, 1, 0, -1));
		CHECK(weave_unlock(c->w, 1, 0));
	}
	return stop(t);
}

static double b_ofd(void *ctx, long iters)
{
	struct ofd *c = ctx;
	struct flock lk = { .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		lk.l_type = F_WRLCK;
		CHECK(fcntl(c->fd, F_OFD_SETLKW, &lk));
		lk.l_type = F_UNLCK;
		CHECK(fcntl(c->fd, F_OFD_SETLKW, &lk));
	}
	return stop(t);
}

static void fig45(void)
{
	struct pp poll_c = { .kind = PP_POLL }, efd_c = { .kind = PP_EVENTFD };
	struct pp wait_c = { .kind = PP_WAIT }, fut_c = { .kind = PP_FUTEX };
	struct pp lock_c = { .kind = PP_LOCK };

	weave_unlink(PP_REG);
	if (want(4)) {
		fig("4a", "ns", false, b_pp, &poll_c, b_pp, &efd_c, "r<=1.2",
		    "set in A -> poll() returns in B vs eventfd write -> poll() (one-way, pinned pair)");
		fig("4b", "ns", false, b_pp, &wait_c, b_pp, &fut_c, "r<=1.2",
		    "set -> WEAVE_IOC_WAIT wakes vs futex wake (one-way, pinned pair)");
	}
	if (want(5)) {
		struct weave *w = reg_open(NULL, 0);
		struct ofd c = { .w = w, .fd = memfd(4096) };

		fill(w, 1, VAL);
		fig("5a", "ns", false, b_lock, &c, b_ofd, &c, "r<=1.0",
		    "uncontended lock + unlock vs F_OFD_SETLKW lock + unlock on a memfd");
		close(c.fd);
		weave_close(w);
		fig("5b", "ns", false, b_pp, &lock_c, b_pp, &fut_c, "r<=1.2",
		    "contended lock hand-off between two processes vs futex hand-off (pinned pair)");
	}
}

/* --- 6: scaling --- */

static double b_walk(void *ctx, long iters)
{
	struct kv *c = ctx;
	static uint64_t keys[WEAVE_LIST_MAX];
	uint64_t cursor, seen;
	double t = start();
	long i;
	int n;

	for (i = 0; i < iters; i++) {
		cursor = 0;
		seen = 0;
		do {
			n = weave_list(c->w, &cursor, keys, WEAVE_LIST_MAX);
			CHECK(n);
			seen += (uint64_t)n;
		} while (cursor);
		if (seen != c->n)
			die("walk saw %" PRIu64 " keys of %" PRIu64, seen, c->n);
	}
	ops_done = iters * (long)c->n;	/* counted per key */
	return stop(t);
}

#define FAN_REG "bench-fan"

static void fan_watcher(void)
{
	struct weave *w = reg_open(FAN_REG, 0);
	struct weave_event ev[8];
	struct pollfd pfd = { .fd = weave_fd(w), .events = POLLIN };

	CHECK(weave_watch(w, 1, WEAVE_EV_CHANGED, 0));
	if (__atomic_add_fetch(&shm->ack, 1, __ATOMIC_ACQ_REL) ==
	    ld(&shm->target))
		futex(&shm->ack, FUTEX_WAKE, 1);
	for (;;) {
		CHECK(poll(&pfd, 1, -1));
		if (read(pfd.fd, ev, sizeof(ev)) < (ssize_t)sizeof(ev[0]))
			die("read events");
		if (ld(&shm->stop))
			break;
		if (__atomic_add_fetch(&shm->ack, 1, __ATOMIC_ACQ_REL) ==
		    ld(&shm->target))
			futex(&shm->ack, FUTEX_WAKE, 1);
	}
	weave_close(w);
	_exit(0);
}

struct fan {
	struct weave *w;
	uint32_t n;
};

static void fan_wait_acks(uint32_t target)
{
	uint32_t a;

	while ((a = ld(&shm->ack)) < target)
		futex(&shm->ack, FUTEX_WAIT, a);
}

/* @deliveries changes seen by watchers, n a round; time per watcher. */
static double b_fan(void *ctx, long deliveries)
{
	struct fan *c = ctx;
	long i, iters = deliveries / c->n > 0 ? deliveries / c->n : 1;
	double t;

	st(&shm->ack, 0);
	t = start();
	for (i = 0; i < iters; i++) {
		st(&shm->target, (uint32_t)(i + 1) * c->n);
		CHECK(weave_set(c->w, 1, val, VAL));
		fan_wait_acks((uint32_t)(i + 1) * c->n);
	}
	t = stop(t);
	ops_done = iters * c->n;
	return t * (double)deliveries / ((double)iters * c->n);
}

static void fanout(void)
{
	static const uint32_t ns[] = { 1, 8, 64 };
	struct series s[3], none = { .n = 0 };
	pid_t pids[64];
	unsigned int i, j;
	char title[128], id[8];

	weave_unlink(FAN_REG);
	for (i = 0; i < 3; i++) {
		struct fan c = { .w = reg_open(FAN_REG, WEAVE_OPEN_CREATE),
				 .n = ns[i] };

		fill(c.w, 1, VAL);
		st(&shm->stop, 0);
		st(&shm->ack, 0);
		st(&shm->target, ns[i]);
		set_fifo(true);
		for (j = 0; j < ns[i]; j++) {
			pids[j] = fork();
			CHECK(pids[j]);
			if (!pids[j])
				fan_watcher();
		}
		fan_wait_acks(ns[i]);
		measure(b_fan, &c, NULL, NULL, 1e9, false, &s[i], &none);
		emit_scale("fanout", ns[i], &s[i]);
		st(&shm->stop, 1);
		CHECK(weave_set(c.w, 1, val, VAL));
		for (j = 0; j < ns[i]; j++)
			reap(pids[j]);
		set_fifo(false);
		weave_close(c.w);
	}
	for (i = 1; i < 3; i++) {
		snprintf(id, sizeof(id), "6f%u", ns[i]);
		snprintf(title, sizeof(title),
			 "one change fanned out to %u watchers vs 1 watcher (time per watcher)",
			 ns[i]);
		emit(id, "ns", false, &s[i], &s[0], "r<=1.2", title);
	}
}

/* --- 7: memory --- */

#define CG "/sys/fs/cgroup/bench"

static long long read_ll(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static long long stat_field(const char *path, const char *field)
{
	FILE *f = fopen(path, "r");
	char name[64];
	long long v, r = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld%*[^\n]", name, &v) == 2)
		if (!strcmp(name, field)) {
			r = v;
			break;
		}
	fclose(f);
	return r;
}

static long long meminfo(const char *field)
{
	return stat_field("/proc/meminfo", field);	/* kB */
}

static bool write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

static bool cgroup_enter(void)
{
	char pid[32];

	mkdir(CG, 0755);
	write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_str(CG "/cgroup.procs", pid) &&
	       read_ll(CG "/memory.current") >= 0;
}

static const char *const memstat[] = { "kernel", "slab", "percpu", "vmalloc",
				       "anon", "file", "pagetables" };

/* Build the 1,000,000-entry registry, measuring what it costs. */
static struct weave *build_big(bool measure_mem)
{
	long long cg0 = -1, cg1, free0, free1, st0[7], st1[7];
	struct weave_params p = { .max_entries = 0 };
	struct weave *w;
	struct series s = { .n = 1 };
	unsigned int i;
	bool cg = measure_mem && cgroup_enter();
	double t;

	if (cg)
		cg0 = read_ll(CG "/memory.current");
	for (i = 0; i < 7 && cg; i++)
		st0[i] = stat_field(CG "/memory.stat", memstat[i]);
	free0 = meminfo("MemFree:");
	t = now();
	CHECK(weave_open_params(NULL, 0, 0600, &p, &w));
	fill(w, (uint64_t)big_n, VAL);
	t = now() - t;
	printf("INFO\tbuild\t%ld sets of 64 B in %.2f s\n", big_n, t);
	if (!measure_mem)
		return w;
	free1 = meminfo("MemFree:");
	if (cg) {
		cg1 = read_ll(CG "/memory.current");
		printf("INFO\tmemcg\tmemory.current of the bench cgroup grew by %.1f MiB (",
		       (cg1 - cg0) / 1048576.0);
		for (i = 0; i < 7; i++) {
			st1[i] = stat_field(CG "/memory.stat", memstat[i]);
			printf("%s%s %+.1f", i ? ", " : "", memstat[i],
			       (st1[i] - st0[i]) / 1048576.0);
		}
		printf(" MiB)\n");
		s.v[0] = (cg1 - cg0) / 1048576.0;
	} else {
		printf("INFO\tmemcg\tno memory cgroup; using MemFree\n");
		s.v[0] = (free0 - free1) / 1024.0;
	}
	printf("INFO\tmemfree\tMemFree fell by %.1f MiB (whole guest)\n",
	       (free0 - free1) / 1024.0);
	printf("INFO\tperentry\t%.1f bytes per entry (memcg)\n",
	       s.v[0] * 1048576.0 / big_n);
	emit("7", "MiB", false, &s, NULL, "a<=256",
	     "kernel memory of 1,000,000 entries of 64 B (memory cgroup memory.current delta)");
	return w;
}

static void fig67(void)
{
	struct weave *small = reg_open(NULL, 0), *big;
	struct kv sc = { .w = small, .n = SMALL_N, .len = VAL };
	struct kv bc = { .len = VAL };
	struct series ws, bs, none = { .n = 0 };

	fill(small, SMALL_N, VAL);
	big = build_big(want(7) && !count_mode);
	bc.w = big;
	bc.n = (uint64_t)big_n;
	if (want(6)) {
		measure(b_get, &bc, b_get, &sc, 1e9, false, &ws, &bs);
		emit("6a", "ns", false, &ws, &bs, "r<=1.3",
		     "get 64 B, random key of 1,000,000 vs of 1,000 entries");
		emit_scale("get", (double)big_n, &ws);
		emit_scale("get", SMALL_N, &bs);
		measure(b_set, &bc, b_set, &sc, 1e9, false, &ws, &bs);
		emit("6b", "ns", false, &ws, &bs, "r<=1.3",
		     "set 64 B, random key of 1,000,000 vs of 1,000 entries");
		emit_scale("set", (double)big_n, &ws);
		emit_scale("set", SMALL_N, &bs);
		measure(b_walk, &bc, NULL, NULL, (double)big_n, true, &ws,
			&none);
		emit("6c", "keys/s", true, &ws, NULL, "a>=1000000",
		     "walk all keys of 1,000,000 entries (WEAVE_IOC_LIST, 4096 a batch)");
	}
	weave_close(big);
	weave_close(small);
	if (want(6))
		fanout();
}

/* --- 8: LMDB --- */

#define LMDB_PATH "/tmp/bench.lmdb"

struct lm {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *rtxn;
	struct weave *w;
	struct weave_view *views;
};

static void lmdb_check(int rc, const char *what)
{
	if (rc)
		die("%s: %s", what, mdb_strerror(rc));
}

static double b_lmdb_read(void *ctx, long iters)
{
	struct lm *c = ctx;
	uint64_t k, sink = 0;
	MDB_val key = { .mv_size = 8, .mv_data = &k }, data;
	double t = start();
	unsigned char buf[VAL];
	long i;

	for (i = 0; i < iters; i++) {
		k = rnd() % SMALL_N + 1;
		lmdb_check(mdb_txn_renew(c->rtxn), "mdb_txn_renew");
		lmdb_check(mdb_get(c->rtxn, c->dbi, &key, &data), "mdb_get");
		memcpy(buf, data.mv_data, data.mv_size < VAL ? data.mv_size : VAL);
		mdb_txn_reset(c->rtxn);
		sink += buf[k & (VAL - 1)];
	}
	t = stop(t);
	shm->sink += sink;
	return t;
}

static double b_views_read(void *ctx, long iters)
{
	struct lm *c = ctx;
	unsigned char buf[VAL];
	uint64_t k, sink = 0;
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		k = rnd() % SMALL_N + 1;
		if (weave_view_read(&c->views[k - 1], buf, VAL) != VAL)
			die("weave_view_read");
		sink += buf[k & (VAL - 1)];
	}
	t = stop(t);
	shm->sink += sink;
	return t;
}

static double b_lmdb_put(void *ctx, long iters)
{
	struct lm *c = ctx;
	uint64_t k;
	MDB_val key = { .mv_size = 8, .mv_data = &k };
	MDB_val data = { .mv_size = VAL, .mv_data = val };
	MDB_txn *txn;
	double t = start();
	long i;

	for (i = 0; i < iters; i++) {
		k = rnd() % SMALL_N + 1;
		lmdb_check(mdb_txn_begin(c->env, NULL, 0, &txn), "mdb_txn_begin");
		lmdb_check(mdb_put(txn, c->dbi, &key, &data, 0), "mdb_put");
		lmdb_check(mdb_txn_commit(txn), "mdb_txn_commit");
	}
	return stop(t);
}

static void fig8(void)
{
	struct lm c = { 0 };
	struct kv wc;
	MDB_txn *txn;
	uint64_t k;
	MDB_val key = { .mv_size = 8, .mv_data = &k };
	MDB_val data = { .mv_size = VAL, .mv_data = val };
	int major, minor, patch;

	mdb_version(&major, &minor, &patch);
	printf("INFO\tlmdb\tLMDB %d.%d.%d on tmpfs (%s), default (synchronous) flags\n",
	       major, minor, patch, LMDB_PATH);
	unlink(LMDB_PATH);
	lmdb_check(mdb_env_create(&c.env), "mdb_env_create");
	lmdb_check(mdb_env_set_mapsize(c.env, 64 << 20), "mapsize");
	lmdb_check(mdb_env_open(c.env, LMDB_PATH, MDB_NOSUBDIR, 0600),
		   "mdb_env_open");
	lmdb_check(mdb_txn_begin(c.env, NULL, 0, &txn), "begin");
	lmdb_check(mdb_dbi_open(txn, NULL, 0, &c.dbi), "dbi");
	for (k = 1; k <= SMALL_N; k++)
		lmdb_check(mdb_put(txn, c.dbi, &key, &data, 0), "put");
	lmdb_check(mdb_txn_commit(txn), "commit");
	lmdb_check(mdb_txn_begin(c.env, NULL, MDB_RDONLY, &c.rtxn), "rtxn");
	mdb_txn_reset(c.rtxn);

	c.w = reg_open(NULL, 0);
	fill(c.w, SMALL_N, VAL);
	c.views = calloc(SMALL_N, sizeof(*c.views));
	if (!c.views)
		die("calloc");
	for (k = 1; k <= SMALL_N; k++)
		CHECK(weave_view_map(c.w, k, &c.views[k - 1]));
	fig("8a", "ns", false, b_views_read, &c, b_lmdb_read, &c, "peer",
	    "peer: weave mapped read 64 B vs LMDB read txn (renew, get, reset), random key of 1,000");
	wc = (struct kv){ .w = c.w, .n = SMALL_N, .len = VAL };
	fig("8b", "ns", false, b_set, &wc, b_lmdb_put, &c, "peer",
	    "peer: weave set 64 B vs LMDB put 64 B + commit, random key of 1,000");
	for (k = 1; k <= SMALL_N; k++)
		weave_view_unmap(&c.views[k - 1]);
	free(c.views);
	weave_close(c.w);
	mdb_txn_abort(c.rtxn);
	mdb_env_close(c.env);
	unlink(LMDB_PATH);
	{
		char lock[64];

		snprintf(lock, sizeof(lock), "%s-lock", LMDB_PATH);
		unlink(lock);
	}
}

/* --- main --- */

static void info(void)
{
	struct utsname u;
	FILE *f;
	char cs[64] = "?";

	uname(&u);
	printf("INFO\tkernel\t%s\n", u.release);
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  "r");
	if (f) {
		if (fscanf(f, "%63s", cs) != 1)
			strcpy(cs, "?");
		fclose(f);
	}
	printf("INFO\tclocksource\t%s\n", cs);
	printf("INFO\tcpus\t%ld online, all bench processes pinned to CPU 0\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("INFO\tmem\t%lld MiB RAM in the guest\n", meminfo("MemTotal:") / 1024);
	printf("INFO\treps\t%d repetitions of about %.2f s each per figure and side\n",
	       reps, rep_sec);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	bool rep_given = false;
	int opt;

	t_start = now();

	while ((opt = getopt(argc, argv, "ct:r:n:o:")) != -1) {
		switch (opt) {
		case 'c': count_mode = true; break;
		case 't': rep_sec = atof(optarg); rep_given = true; break;
		case 'r': reps = atoi(optarg); break;
		case 'n': big_n = atol(optarg); break;
		case 'o': only = optarg; break;
		default:
			fprintf(stderr, "usage: bench [-c] [-t REP_SEC] [-r REPS] [-n ENTRIES] [-o FIGS]\n");
			return 2;
		}
	}
	if (count_mode && !rep_given)
		rep_sec = 0.1;
	if (reps < 1 || reps > MAX_REPS || rep_sec <= 0 || big_n < 1)
		die("bad arguments");
	setvbuf(stdout, NULL, _IOLBF, 0);
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	bigbuf = malloc(BIG);
	if (shm == MAP_FAILED || !bigbuf)
		die("out of memory");
	memset(bigbuf, 0x5a, BIG);
	memset(val, 0xa5, sizeof(val));
	pin_cpu0();
	write_str("/proc/sys/kernel/sched_rt_runtime_us", "-1");
	info();
	if (count_mode)
		count_check();

	if (want(1))
		fig1();
	if (want(2) || want(3))
		fig23();
	if (want(4) || want(5))
		fig45();
	if (want(8))
		fig8();
	if (want(9))
		fig9();
	if (want(10))
		fig10();
	if (want(6) || want(7))
		fig67();
	printf("INFO\telapsed\t%.1f s of VM time in the bench program\n",
	       now() - t_start);
	return 0;
}
