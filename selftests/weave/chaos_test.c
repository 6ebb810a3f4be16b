// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos: 2 x online CPUs (at least 4) worker processes use everything
 * weave offers on shared registries for a few seconds - set, get, write,
 * resize, delete, clear, stat, list, views and the mapped index, locks
 * (exclusive, shared, converted, timed, non-blocking), watches and
 * events, waits, attach and close, and unlink and re-create of a second
 * named registry - while the parent stops, kills (SIGKILL) and respawns
 * random workers, lock holders first.
 *
 * Each worker checks every result as it comes:
 * - the gens it sees of a key never go back (from ioctls, the mapped
 *   index, waits and complete event streams), and a change it makes gets
 *   a gen above every gen it saw before;
 * - every byte of key K's value at offset i is 0 or pat(K, i), which no
 *   other key has at that offset: gets, and reads through views and the
 *   index's seqcount, never show another key's bytes; a view whose entry
 *   is gone gives SIGBUS, as does a read past a value's last page;
 * - holding a key exclusively, its value is exactly what it set, through
 *   get and view, and a key walk returns it exactly once (unless a clear
 *   ran meanwhile); holding it shared, two gets agree;
 * - owner-died: a lock whose last exclusive holder was killed (or closed
 *   its file) holding it reports WEAVE_LOCK_OWNER_DIED to the next
 *   locker, and only then (or while the flag was left set on purpose);
 *   the parent sees the owner-died event of each holder it kills;
 * - event records are well formed, per key gens never go back, and a
 *   readable fd reads; unlinking the churn registry marks its files.
 *
 * At the end the parent checks the registry at rest: INFO's count equals
 * a LIST walk, the index header and the used slots; each listed key
 * STATs consistently with its slot and GETs well-formed bytes; INFO's gen
 * is at least every gen a worker saw; every lock key reports owner-died
 * exactly as the model says; ids of created registries are unique; and
 * enough of everything (kills of lock holders included) happened.
 */
#include <stdarg.h>
#include "weave_proc.h"

#include "kselftest_harness.h"

#define NKEYS		96	/* keys 1..NKEYS of the main registry */
#define NLOCK		8	/* keys 1..NLOCK are also locked */
#define CAPACITY	128	/* slots of the main registry */
#define MAXV		12000	/* largest value: three pages */
#define MAXW		64
#define MAXVIEWS	6
#define NIDS		4096
#define SECONDS		5.0
#define EXTRA_SECONDS	20.0	/* more, until a lock holder was killed */
#define STOP_SECONDS	60.0	/* for the workers to finish */
#define SEQ_TRIES	100000

/* What a worker is doing, for the parent that kills it. */
enum {
	ST_IDLE,
	ST_LOCKING,	/* in WEAVE_IOC_LOCK */
	ST_HELD,	/* holds the lock of .key (.excl) */
	ST_CONVERTING,	/* in WEAVE_IOC_LOCK with WEAVE_LOCK_CONVERT */
	ST_UNLOCKING,	/* in WEAVE_IOC_UNLOCK */
	ST_ABANDONING,	/* closing its file while holding */
};

struct wslot {
	int pid;
	int token;		/* names this incarnation, never 0 */
	int state;
	int excl;
	__u64 key;
	__u64 ops;
	__u64 clear_started;	/* this slot's clears, every incarnation */
	__u64 clear_done;
	char why[512];
};

/*
 * The lock model of a lock key, written by its exclusive holder (and by
 * the parent, only to relax it). held_by: the token of the exclusive
 * holder, left set by a holder that died holding (the kernel must then
 * report owner-died). sticky: the flag was left set by an unlock without
 * WEAVE_UNLOCK_CONSISTENT. uncertain: a holder was killed between a lock
 * call and recording its outcome, so the flag may be either.
 */
struct lockmodel {
	int held_by;
	int sticky;
	int uncertain;
	int pad;
};

struct counters {
	__u64 lock_cycles, died_confirmed, died_seen, closed_holding;
	__u64 view_reads, dead_views, past_end, index_reads;
	__u64 events, waits, walks, locked_walks, clears, rw_writes;
	__u64 churn_creates, churn_unlinks, main_reattach;
	__u64 kills, holder_kills, pauses;
};

struct shared {
	int nworkers;
	int stop;
	struct wslot w[MAXW];
	struct lockmodel lk[NLOCK + 1];
	__u64 max_gen;		/* largest main gen any worker saw */
	__u64 ids[NIDS];	/* ids of created churn registries */
	__u32 nids;
	struct counters c;
};

struct view {
	const unsigned char *map;
	__u64 key, birth, slot, map_offset;
};

struct worker {
	struct shared *sh;
	int me, token;
	__u64 rng;
	const char *name, *churn_name;
	long page;
	size_t maplen;		/* bytes of a view */

	int fd;			/* main registry */
	__u64 main_id;
	const unsigned char *index;
	size_t index_size;
	__u64 span;
	int watch_mode;		/* 0: none, 1: wide, 2: wide NO_SELF, 3: keys */
	bool joined;		/* events are a complete stream: join gens */
	__u64 last_seen[NKEYS + 1];
	__u64 last_ev[NKEYS + 1];
	__u64 max_seen;		/* any gen seen */
	__u64 max_sync;		/* any gen seen from under the registry lock */
	struct view views[MAXVIEWS];
	int nviews;
	/*
	 * The key this lock period wrote through a writable view: its slot's
	 * seq stays odd until the unlock, so no seq read of it until then.
	 */
	__u64 rw_key;

	int churn_fd;
	__u64 churn_id;
	__u64 churn_max;

	unsigned char buf[MAXV + 64], buf2[MAXV + 64], vbuf[MAXV + 64];
	struct weave_event ev[64];
};

static __u64 rnd(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
#define COUNT(w, f)	__atomic_fetch_add(&(w)->sh->c.f, 1, __ATOMIC_RELAXED)

static int __attribute__((format(printf, 2, 3)))
fail(struct worker *w, const char *fmt, ...)
{
	char *why = w->sh->w[w->me].why;
	va_list ap;

	if (why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(w->sh->w[0].why), fmt, ap);
	va_end(ap);
	return -1;
}

#define ULL(x)		((unsigned long long)(x))

/* The byte of key @key at offset @i; another key's byte there differs. */
static unsigned char pat(__u64 key, __u64 i)
{
	return (unsigned char)(1 + (key * 7 + i * 13 + (i >> 8)) % 255);
}

static void fill(unsigned char *p, __u64 key, __u64 off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(key, off + i);
}

/* Every byte is 0 (a gap) or the key's own. */
static int check_bytes(struct worker *w, __u64 key, __u64 off,
		       const unsigned char *p, __u64 len, const char *what)
{
	__u64 i, k;

	for (i = 0; i < len; i++) {
		if (!p[i] || p[i] == pat(key, off + i))
			continue;
		for (k = 1; k <= NKEYS; k++)
			if (p[i] == pat(k, off + i))
				break;
		return fail(w, "%s key %llu: byte %llu is 0x%02x, key %llu's, "
			    "not 0x%02x", what, ULL(key), ULL(off + i), p[i],
			    ULL(k), pat(key, off + i));
	}
	return 0;
}

/* ----- gens ------------------------------------------------------------ */

static void note_max(struct worker *w, __u64 gen)
{
	__u64 cur = LOAD(w->sh->max_gen);

	while (gen > cur &&
	       !__atomic_compare_exchange_n(&w->sh->max_gen, &cur, gen, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

/*
 * A gen of @key seen by this process. @sync: seen under the registry
 * lock (ioctl, event), so the index header already shows it.
 */
static int seen(struct worker *w, __u64 key, __u64 gen, bool sync,
		const char *what)
{
	if (gen < w->last_seen[key])
		return fail(w, "%s key %llu: gen %llu went back from %llu", what,
			    ULL(key), ULL(gen), ULL(w->last_seen[key]));
	w->last_seen[key] = gen;
	if (gen > w->max_seen) {
		w->max_seen = gen;
		note_max(w, gen);
	}
	if (sync && gen > w->max_sync)
		w->max_sync = gen;
	return 0;
}

/* The gen of a change this process made. */
static int changed(struct worker *w, __u64 key, __u64 gen, const char *what)
{
	if (gen <= w->max_seen)
		return fail(w, "%s key %llu: new gen %llu not above %llu seen",
			    what, ULL(key), ULL(gen), ULL(w->max_seen));
	return seen(w, key, gen, true, what);
}

/* ----- the mapped index and seqcounts ------------------------------------ */

static const struct weave_slot *slot_ptr(struct worker *w, __u64 s)
{
	return (const struct weave_slot *)(w->index + 64 * s);
}

static int slot_snap(struct worker *w, __u64 s, struct weave_slot *sn)
{
	if (wv_slot_snap(slot_ptr(w, s), sn, SEQ_TRIES))
		return fail(w, "slot %llu: seq never stable", ULL(s));
	return 0;
}

/* Map offset where the view of slot @s starts. */
static __u64 span_start(struct worker *w, __u64 s)
{
	return w->index_size + (s - 1) * w->span;
}

/* A used slot must describe a plausible entry. */
static int check_snap(struct worker *w, __u64 s, const struct weave_slot *sn)
{
	__u64 start = span_start(w, s);

	if (!sn->key) {
		if (sn->flags & WEAVE_SLOT_USED)
			return fail(w, "slot %llu: used without a key", ULL(s));
		return 0;
	}
	if (!(sn->flags & WEAVE_SLOT_USED) || sn->key > NKEYS ||
	    sn->size > MAXV || !sn->birth || sn->birth > sn->gen ||
	    sn->offset < start || sn->offset - start >= (__u64)w->page ||
	    sn->offset - start + sn->size > w->maplen)
		return fail(w, "slot %llu: flags %#x key %llu gen %llu size "
			    "%llu offset %llu birth %llu (span at %llu)", ULL(s),
			    sn->flags, ULL(sn->key), ULL(sn->gen), ULL(sn->size),
			    ULL(sn->offset), ULL(sn->birth), ULL(start));
	return 0;
}

/* ----- clears in flight ------------------------------------------------- */

/*
 * A clear removes locked keys too. A worker that finds its locked key
 * gone checks that a clear may have run: one started since, or one was
 * in flight. done is summed before started, so a clear counted in
 * started but not yet in done shows as in flight.
 */
struct clearmark {
	__u64 done, started;
};

static void clear_mark(struct worker *w, struct clearmark *m)
{
	int i, n = w->sh->nworkers;

	m->done = m->started = 0;
	for (i = 0; i < n; i++)
		m->done += LOAD(w->sh->w[i].clear_done);
	for (i = 0; i < n; i++)
		m->started += LOAD(w->sh->w[i].clear_started);
}

static bool clear_since(struct worker *w, const struct clearmark *m)
{
	struct clearmark now;

	clear_mark(w, &now);
	return now.started != m->started || m->started != m->done;
}

/* ----- views ----------------------------------------------------------- */

static void view_drop(struct worker *w, int i)
{
	munmap((void *)w->views[i].map, w->maplen);
	w->views[i] = w->views[--w->nviews];
}

static void views_drop(struct worker *w)
{
	while (w->nviews)
		view_drop(w, w->nviews - 1);
}

/*
 * Map a view of @key and learn which life of the key it is bound to.
 * Return: 1 with *v set, 0 when the key went away meanwhile, -1.
 */
static int view_map(struct worker *w, __u64 key, struct view *v)
{
	struct weave_stat_args st, st2;
	void *m;
	int ret;

	ret = wv_stat(w->fd, key, &st);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return fail(w, "stat %llu for a view: %d", ULL(key), ret);
	if (st.map_offset != span_start(w, st.slot) || st.map_size != w->span)
		return fail(w, "stat %llu: map_offset %llu map_size %llu, slot "
			    "%u", ULL(key), ULL(st.map_offset),
			    ULL(st.map_size), st.slot);
	m = mmap(NULL, w->maplen, PROT_READ, MAP_SHARED, w->fd, st.map_offset);
	if (m == MAP_FAILED) {
		if (errno == ENXIO)	/* the slot emptied since STAT */
			return 0;
		return fail(w, "mmap view of %llu: %s", ULL(key),
			    strerror(errno));
	}
	if (rnd(w) % 16 == 0 && mprotect(m, w->maplen, PROT_READ | PROT_WRITE) !=
	    -1) {
		munmap(m, w->maplen);
		return fail(w, "mprotect of a view to writable worked");
	}
	/* The same life in the same slot before and after: bound to it. */
	ret = wv_stat(w->fd, key, &st2);
	if (ret || st2.slot != st.slot || st2.birth != st.birth) {
		munmap(m, w->maplen);
		return ret && ret != -ENOENT ?
			fail(w, "stat %llu again: %d", ULL(key), ret) : 0;
	}
	v->map = m;
	v->key = key;
	v->birth = st.birth;
	v->slot = st.slot;
	v->map_offset = st.map_offset;
	return 1;
}

/*
 * Read the bytes of a view through its slot's seqcount into w->vbuf.
 * Return: 1 with *sizep (live), 0 when the entry is gone (and the view
 * was checked to fault), -1.
 */
static int view_read(struct worker *w, struct view *v, __u64 *sizep)
{
	const struct weave_slot *s = slot_ptr(w, v->slot);
	__u64 key, birth, size, off, doff, p;
	long tries;
	int sig;
	__u32 q;

	for (tries = 0; tries < SEQ_TRIES; tries++) {
		q = wv_seq_begin(&s->seq);
		key = WV_RLOAD(s->key);
		birth = WV_RLOAD(s->birth);
		size = WV_RLOAD(s->size);
		off = WV_RLOAD(s->offset);
		if (key != v->key || birth != v->birth) {
			if (wv_seq_retry(&s->seq, q))
				continue;
			/* Its life ended: the view must not show the next. */
			sig = wv_probe(v->map, NULL);
			if (sig != SIGBUS)
				return fail(w, "view of key %llu (birth %llu): "
					    "slot %llu now holds %llu (birth "
					    "%llu), yet a read gave %s",
					    ULL(v->key), ULL(v->birth),
					    ULL(v->slot), ULL(key), ULL(birth),
					    sig ? strsignal(sig) : "a byte");
			COUNT(w, dead_views);
			return 0;
		}
		if (off < v->map_offset || off - v->map_offset + size > w->maplen) {
			if (wv_seq_retry(&s->seq, q))
				continue;
			return fail(w, "view of key %llu: offset %llu size %llu "
				    "outside the view at %llu", ULL(key),
				    ULL(off), ULL(size), ULL(v->map_offset));
		}
		doff = off - v->map_offset;
		sig = wv_probe_copy(w->vbuf, v->map + doff, size);
		if (wv_seq_retry(&s->seq, q))
			continue;
		if (sig)
			return fail(w, "view of key %llu: %s reading %llu bytes "
				    "at %llu of a live entry", ULL(key),
				    strsignal(sig), ULL(size), ULL(doff));
		/* Past the value's last page (at least past the first). */
		p = (doff + size + w->page - 1) / w->page;
		if (p < 1)
			p = 1;
		if (rnd(w) % 4 == 0 && p * w->page < w->maplen) {
			sig = wv_probe(v->map + p * w->page, NULL);
			if (!wv_seq_retry(&s->seq, q)) {
				if (sig != SIGBUS)
					return fail(w, "view of key %llu size "
						    "%llu: page %llu read "
						    "without SIGBUS", ULL(key),
						    ULL(size), ULL(p));
				COUNT(w, past_end);
			}
		}
		COUNT(w, view_reads);
		*sizep = size;
		return 1;
	}
	return fail(w, "view of key %llu: seq never stable", ULL(v->key));
}

static int op_view(struct worker *w)
{
	struct view v;
	__u64 size;
	int i, ret;

	if (w->nviews < MAXVIEWS && (!w->nviews || rnd(w) % 3 == 0)) {
		ret = view_map(w, 1 + rnd(w) % NKEYS, &v);
		if (ret > 0)
			w->views[w->nviews++] = v;
		return ret < 0 ? -1 : 0;
	}
	i = (int)(rnd(w) % w->nviews);
	ret = view_read(w, &w->views[i], &size);
	if (ret < 0)
		return -1;
	if (ret > 0 && check_bytes(w, w->views[i].key, 0, w->vbuf, size,
				   "view"))
		return -1;
	if (!ret || rnd(w) % 4 == 0)
		view_drop(w, i);
	return 0;
}

/* ----- events ---------------------------------------------------------- */

static int check_event(struct worker *w, const struct weave_event *e)
{
	const __u32 change = WEAVE_EV_NEW | WEAVE_EV_CHANGED |
			     WEAVE_EV_RESIZED | WEAVE_EV_DELETED;
	const __u32 global = WEAVE_EV_CLEARED | WEAVE_EV_OVERFLOW;

	if (!e->mask || e->mask & ~(WEAVE_EV_ALL | WEAVE_EV_OVERFLOW) ||
	    e->reserved)
		return fail(w, "event key %llu mask %#x reserved %u", ULL(e->key),
			    e->mask, e->reserved);
	if (e->mask & WEAVE_EV_OVERFLOW)
		w->joined = false;	/* something was not recorded */
	if (!e->key) {
		if (e->mask & ~global)
			return fail(w, "event key 0 mask %#x", e->mask);
		return 0;
	}
	if (e->key > NKEYS || e->mask & global || e->size > MAXV)
		return fail(w, "event key %llu mask %#x size %llu", ULL(e->key),
			    e->mask, ULL(e->size));
	/* Gone and not back (a watch of every event would have seen NEW). */
	if (w->watch_mode == 1 &&
	    (e->mask & (WEAVE_EV_DELETED | WEAVE_EV_NEW)) == WEAVE_EV_DELETED &&
	    e->size)
		return fail(w, "event key %llu mask %#x: deleted, size %llu",
			    ULL(e->key), e->mask, ULL(e->size));
	if (e->gen < w->last_ev[e->key] ||
	    (e->mask & change && w->last_ev[e->key] &&
	     e->gen == w->last_ev[e->key]))
		return fail(w, "event key %llu mask %#x gen %llu after %llu",
			    ULL(e->key), e->mask, ULL(e->gen),
			    ULL(w->last_ev[e->key]));
	w->last_ev[e->key] = e->gen;
	if (e->mask & WEAVE_EV_OWNER_DIED)
		COUNT(w, died_seen);
	if (w->joined)
		return seen(w, e->key, e->gen, true, "event");
	return 0;
}

static int drain_events(struct worker *w)
{
	int n, i, rev;

	for (;;) {
		rev = wv_poll(w->fd, 0);
		if (rev < 0)
			return fail(w, "poll: %d", rev);
		if (!(rev & POLLIN))
			return 0;
		n = wv_read_events(w->fd, w->ev, ARRAY_SIZE(w->ev));
		if (n <= 0)
			return fail(w, "poll said readable, read gave %d", n);
		for (i = 0; i < n; i++) {
			COUNT(w, events);
			if (check_event(w, &w->ev[i]))
				return -1;
		}
	}
}

/* (Re)establish this file's watches in mode @mode. */
static int watch_setup(struct worker *w, int mode)
{
	int ret = 0, i;

	w->watch_mode = mode;
	w->joined = false;
	switch (mode) {
	case 1:
		ret = wv_watch(w->fd, 0, WEAVE_EV_ALL, 0);
		/* Complete only if this file never missed a change. */
		w->joined = true;
		break;
	case 2:
		ret = wv_watch(w->fd, 0, WEAVE_EV_ALL, WEAVE_WATCH_NO_SELF);
		break;
	case 3:
		for (i = 0; i < 6 && !ret; i++)
			ret = wv_watch(w->fd, 1 + rnd(w) % NKEYS,
				       (__u32)(1 + rnd(w) % WEAVE_EV_ALL),
				       rnd(w) % 2 ? WEAVE_WATCH_NO_SELF : 0);
		break;
	}
	if (ret)
		return fail(w, "watch mode %d: %d", mode, ret);
	return 0;
}

static int op_watch(struct worker *w)
{
	int ret;

	if (rnd(w) % 8)
		return drain_events(w);
	/* Switch: stop watching, then watch again in some mode. */
	ret = wv_unwatch(w->fd, 0);
	if (ret != (w->watch_mode == 1 || w->watch_mode == 2 ? 0 : -ENOENT))
		return fail(w, "unwatch 0 in mode %d: %d", w->watch_mode, ret);
	if (w->watch_mode == 3) {
		__u64 k;

		for (k = 1; k <= NKEYS; k++) {
			ret = wv_unwatch(w->fd, k);
			if (ret && ret != -ENOENT)
				return fail(w, "unwatch %llu: %d", ULL(k), ret);
		}
	}
	if (drain_events(w))
		return -1;
	/* Records of a watch that stopped are not a complete stream. */
	return watch_setup(w, (int)(rnd(w) % 4));
}

/* ----- attach --------------------------------------------------------- */

static int main_attach(struct worker *w)
{
	struct weave_attach_args a;
	struct weave_info_args info;
	void *m;

	w->fd = wv_open(w->name, O_RDWR, 0, 0, 0, &a);
	if (w->fd < 0)
		return fail(w, "attach %s: %d", w->name, w->fd);
	if (w->main_id && a.id != w->main_id)
		return fail(w, "attach %s: id %llu, was %llu", w->name,
			    ULL(a.id), ULL(w->main_id));
	w->main_id = a.id;
	if (wv_info(w->fd, &info))
		return fail(w, "info: %s", strerror(errno));
	w->index_size = info.index_size;
	w->span = info.entry_span;
	m = mmap(NULL, w->index_size, PROT_READ, MAP_SHARED, w->fd, 0);
	if (m == MAP_FAILED)
		return fail(w, "map index: %s", strerror(errno));
	w->index = m;
	memset(w->last_ev, 0, sizeof(w->last_ev));
	return watch_setup(w, (int)(rnd(w) % 4));
}

static void main_detach(struct worker *w)
{
	views_drop(w);
	munmap((void *)w->index, w->index_size);
	w->index = NULL;
	close(w->fd);
	w->fd = -1;
}

/* Close and attach again; a lock held is released as its owner died. */
static int op_reattach(struct worker *w)
{
	COUNT(w, main_reattach);
	main_detach(w);
	return main_attach(w);
}

/* ----- the main registry, without locks ------------------------------- */

static __u64 pick_size(struct worker *w)
{
	switch (rnd(w) % 8) {
	case 0:
		return 2048 + rnd(w) % (MAXV - 2048 + 1);	/* pages */
	case 1:
		return rnd(w) % 8;
	default:
		return rnd(w) % 2049;				/* a cell */
	}
}

/* Flags for an operation on @key: sometimes non-blocking. */
static __u32 op_flags(struct worker *w)
{
	return rnd(w) % 4 == 0 ? WEAVE_OP_NONBLOCK : 0;
}

/* EAGAIN is an answer only for a non-blocking call on a lock key. */
static bool would_block(__u64 key, __u32 flags, int ret)
{
	return ret == -EAGAIN && flags & WEAVE_OP_NONBLOCK && key <= NLOCK;
}

static int op_set(struct worker *w, __u64 key)
{
	__u32 flags = op_flags(w);
	__u64 size = pick_size(w), gen;
	int ret;

	fill(w->buf, key, 0, size);
	ret = wv_set(w->fd, key, w->buf, size, flags, &gen);
	if (would_block(key, flags, ret))
		return 0;
	if (ret)
		return fail(w, "set %llu size %llu: %d", ULL(key), ULL(size), ret);
	return changed(w, key, gen, "set");
}

static int op_get(struct worker *w, __u64 key)
{
	__u32 flags = op_flags(w);
	__u64 off = rnd(w) % 4 ? 0 : rnd(w) % MAXV;
	__u64 len = rnd(w) % 4 ? MAXV + 64 : rnd(w) % 100, want;
	struct weave_get_args g;
	int ret;

	memset(w->buf2, 0xEE, len);
	ret = wv_get(w->fd, key, w->buf2, len, off, flags, &g);
	if (ret == -ENOENT || would_block(key, flags, ret))
		return 0;
	if (ret)
		return fail(w, "get %llu: %d", ULL(key), ret);
	want = off < g.size ? g.size - off : 0;
	if (want > len)
		want = len;
	if (g.size > MAXV || g.copied != want)
		return fail(w, "get %llu len %llu off %llu: size %llu copied "
			    "%llu", ULL(key), ULL(len), ULL(off), ULL(g.size),
			    ULL(g.copied));
	if (check_bytes(w, key, off, w->buf2, g.copied, "get"))
		return -1;
	if (g.copied < len && w->buf2[g.copied] != 0xEE)
		return fail(w, "get %llu: wrote past copied", ULL(key));
	return seen(w, key, g.gen, true, "get");
}

static int op_write(struct worker *w, __u64 key)
{
	__u32 flags = op_flags(w);
	__u64 off = rnd(w) % (MAXV / 2), len = rnd(w) % 700;
	struct weave_write_args wr;
	int ret;

	fill(w->buf, key, off, len);
	ret = wv_write(w->fd, key, off, w->buf, len, flags, &wr);
	if (ret == -ENOENT || would_block(key, flags, ret))
		return 0;
	if (ret)
		return fail(w, "write %llu at %llu len %llu: %d", ULL(key),
			    ULL(off), ULL(len), ret);
	if (wr.size > MAXV || (len && wr.size < off + len))
		return fail(w, "write %llu at %llu len %llu: size %llu",
			    ULL(key), ULL(off), ULL(len), ULL(wr.size));
	return changed(w, key, wr.gen, "write");
}

static int op_resize(struct worker *w, __u64 key)
{
	__u32 flags = op_flags(w);
	__u64 gen;
	int ret;

	ret = wv_resize(w->fd, key, pick_size(w), flags, &gen);
	if (ret == -ENOENT || would_block(key, flags, ret))
		return 0;
	if (ret)
		return fail(w, "resize %llu: %d", ULL(key), ret);
	return changed(w, key, gen, "resize");
}

static int op_delete(struct worker *w, __u64 key)
{
	__u32 flags = op_flags(w);
	__u64 gen;
	int ret;

	ret = wv_delete(w->fd, key, flags, &gen);
	if (ret == -ENOENT || would_block(key, flags, ret))
		return 0;
	if (ret)
		return fail(w, "delete %llu: %d", ULL(key), ret);
	return changed(w, key, gen, "delete");
}

static int op_clear(struct worker *w)
{
	struct wslot *me = &w->sh->w[w->me];
	__u64 count, gen;
	int ret;

	__atomic_fetch_add(&me->clear_started, 1, __ATOMIC_SEQ_CST);
	ret = wv_clear(w->fd, 0, &count, &gen);
	__atomic_fetch_add(&me->clear_done, 1, __ATOMIC_SEQ_CST);
	if (ret)
		return fail(w, "clear: %d", ret);
	COUNT(w, clears);
	if (gen < w->max_seen || (count && gen == w->max_seen) ||
	    count > NKEYS)
		return fail(w, "clear: count %llu gen %llu, seen %llu",
			    ULL(count), ULL(gen), ULL(w->max_seen));
	w->max_seen = gen;
	w->max_sync = gen;
	note_max(w, gen);
	return 0;
}

/* STAT agrees with the key's slot in the mapped index. */
static int op_stat(struct worker *w, __u64 key)
{
	struct weave_stat_args st;
	struct weave_slot sn;
	int ret;

	ret = wv_stat(w->fd, key, &st);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return fail(w, "stat %llu: %d", ULL(key), ret);
	if (!st.slot || st.slot > CAPACITY || !st.birth || st.birth > st.gen ||
	    st.size > MAXV || st.map_offset != span_start(w, st.slot) ||
	    st.map_size != w->span || st.data_offset >= w->page ||
	    st.data_offset + st.size > w->maplen)
		return fail(w, "stat %llu: slot %u gen %llu birth %llu size %llu "
			    "map %llu+%llu data_offset %u", ULL(key), st.slot,
			    ULL(st.gen), ULL(st.birth), ULL(st.size),
			    ULL(st.map_offset), ULL(st.map_size),
			    st.data_offset);
	if (seen(w, key, st.gen, true, "stat"))
		return -1;
	if (slot_snap(w, st.slot, &sn) || check_snap(w, st.slot, &sn))
		return -1;
	/* Same life still in the slot: it moved on from what STAT saw. */
	if (sn.key == key && sn.birth == st.birth &&
	    seen(w, key, sn.gen, false, "index"))
		return -1;
	return 0;
}

/* The header and a few slots of the mapped index. */
static int op_index(struct worker *w)
{
	const struct weave_index_header *h = (const void *)w->index;
	__u64 count = 0, gen = 0, s;
	struct weave_slot sn;
	long tries;
	int i;
	__u32 q;

	for (tries = 0; tries < SEQ_TRIES; tries++) {
		q = wv_seq_begin(&h->seq);
		count = WV_RLOAD(h->count);
		gen = WV_RLOAD(h->gen);
		if (!wv_seq_retry(&h->seq, q))
			break;
	}
	if (h->magic != WEAVE_INDEX_MAGIC || h->slot_size != 64 ||
	    h->nslots != CAPACITY || h->entry_span != w->span ||
	    count > NKEYS || gen < w->max_sync)
		return fail(w, "index header: magic %#x slot_size %u nslots "
			    "%llu count %llu gen %llu (seen %llu)", h->magic,
			    h->slot_size, ULL(h->nslots), ULL(count), ULL(gen),
			    ULL(w->max_sync));
	for (i = 0; i < 8; i++) {
		s = 1 + rnd(w) % CAPACITY;
		if (slot_snap(w, s, &sn) || check_snap(w, s, &sn))
			return -1;
		if (sn.key && seen(w, sn.key, sn.gen, false, "index"))
			return -1;
	}
	COUNT(w, index_reads);
	return 0;
}

static int op_info(struct worker *w)
{
	struct weave_info_args info;
	int ret = wv_info(w->fd, &info);

	if (ret)
		return fail(w, "info: %d", ret);
	if (info.id != w->main_id || info.count > NKEYS ||
	    info.gen < w->max_seen || info.bytes > (__u64)NKEYS * MAXV ||
	    info.flags & ~WEAVE_INFO_PERSIST || info.max_entries != CAPACITY)
		return fail(w, "info: id %llu count %llu gen %llu (seen %llu) "
			    "bytes %llu flags %#x", ULL(info.id),
			    ULL(info.count), ULL(info.gen), ULL(w->max_seen),
			    ULL(info.bytes), info.flags);
	return 0;
}

static int op_walk(struct worker *w)
{
	__u64 keys[4 * CAPACITY];
	long n, i;

	n = wv_list_all(w->fd, keys, ARRAY_SIZE(keys), 1 + rnd(w) % 20);
	if (n < 0)
		return fail(w, "list: %ld", n);
	for (i = 0; i < n; i++)
		if (!keys[i] || keys[i] > NKEYS)
			return fail(w, "list: key %llu", ULL(keys[i]));
	COUNT(w, walks);
	return 0;
}

static int op_wait(struct worker *w, __u64 key)
{
	__u64 gen = w->last_seen[key], cur;
	int ret;

	ret = wv_wait(w->fd, key, gen, WEAVE_WAIT_TIMED,
		      (1 + rnd(w) % 3) * 1000000ULL, &cur);
	/* EINTR: the parent stopped and continued us. */
	if (ret == -ETIMEDOUT || ret == -EINTR)
		return 0;
	if (ret)
		return fail(w, "wait %llu gen %llu: %d", ULL(key), ULL(gen), ret);
	if (cur == gen)
		return fail(w, "wait %llu: returned at gen %llu", ULL(key),
			    ULL(gen));
	COUNT(w, waits);
	return cur ? seen(w, key, cur, true, "wait") : 0;
}

/* ----- locks ------------------------------------------------------------ */

static void set_state(struct worker *w, int state, __u64 key, int excl)
{
	struct wslot *me = &w->sh->w[w->me];

	STORE(me->key, key);
	STORE(me->excl, excl);
	STORE(me->state, state);
}

/* The flag a lock call reported against the model; under the lock. */
static int check_died(struct worker *w, __u64 key, bool died,
		      const char *what)
{
	struct lockmodel *lk = &w->sh->lk[key];
	int held_by = LOAD(lk->held_by);

	if (held_by) {
		if (!died)
			return fail(w, "%s %llu: holder %#x died holding it, "
				    "no owner-died", what, ULL(key), held_by);
		COUNT(w, died_confirmed);
		return 0;
	}
	if (!LOAD(lk->uncertain) && died != !!LOAD(lk->sticky))
		return fail(w, "%s %llu: owner-died %d, expected %d", what,
			    ULL(key), died, LOAD(lk->sticky));
	return 0;
}

/*
 * Holding @key exclusively, with its value @size bytes of w->buf: write
 * the same bytes again through a writable view, in chunks, yielding in
 * between so that a kill can come mid-write; read them back through it.
 * A clear by another worker ends the grant: SIGBUS then, and only then.
 */
static int rw_write(struct worker *w, __u64 key, __u64 size,
		    const struct clearmark *mark)
{
	struct weave_stat_args st;
	unsigned char *m;
	__u64 off, n;
	int ret, sig = 0;

	ret = wv_stat(w->fd, key, &st);
	if (ret == -ENOENT && clear_since(w, mark))
		return 0;
	if (ret)
		return fail(w, "stat %llu for a writable view: %d", ULL(key),
			    ret);
	m = mmap(NULL, w->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd,
		 st.map_offset);
	if (m == MAP_FAILED) {
		if (errno == ENXIO && clear_since(w, mark))
			return 0;
		return fail(w, "mmap %llu writable holding it: %s", ULL(key),
			    strerror(errno));
	}
	w->rw_key = key;
	for (off = 0; off < size && !sig; off += n) {
		n = size - off < 512 ? size - off : 512;
		sig = wv_probe_copy(m + off, w->buf + off, n);
		if (rnd(w) % 4 == 0)
			sched_yield();
	}
	if (!sig)
		sig = wv_probe_copy(w->vbuf, m, size);
	munmap(m, w->maplen);
	if (sig && !clear_since(w, mark))
		return fail(w, "writable view of %llu holding it: signal %d",
			    ULL(key), sig);
	if (!sig && memcmp(w->vbuf, w->buf, size))
		return fail(w, "writable view of %llu: bytes differ", ULL(key));
	COUNT(w, rw_writes);
	return 0;
}

/* Holding @key exclusively: check what nobody else can change. */
static int hold_excl(struct worker *w, __u64 key)
{
	__u64 size = pick_size(w), gen, vsize;
	__u64 keys[4 * CAPACITY];
	struct clearmark mark;
	struct weave_get_args g;
	struct view v;
	long n, i, seen_k;
	int ret;

	clear_mark(w, &mark);
	fill(w->buf, key, 0, size);
	ret = wv_set(w->fd, key, w->buf, size, WEAVE_OP_NONBLOCK, &gen);
	if (ret)
		return fail(w, "set %llu holding it: %d", ULL(key), ret);
	if (changed(w, key, gen, "locked set"))
		return -1;
	ret = wv_get(w->fd, key, w->buf2, MAXV + 64, 0, WEAVE_OP_NONBLOCK, &g);
	if (ret == -ENOENT && clear_since(w, &mark))
		return 0;
	if (ret || g.gen != gen || g.size != size ||
	    memcmp(w->buf, w->buf2, size))
		return fail(w, "get %llu holding it: %d gen %llu size %llu, set "
			    "gen %llu size %llu%s", ULL(key), ret, ULL(g.gen),
			    ULL(g.size), ULL(gen), ULL(size),
			    !ret && memcmp(w->buf, w->buf2, size) ?
			    ", bytes differ" : "");
	if (seen(w, key, g.gen, true, "locked get"))
		return -1;

	if (rnd(w) % 2 && w->rw_key != key) {
		ret = view_map(w, key, &v);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			ret = view_read(w, &v, &vsize);
			munmap((void *)v.map, w->maplen);
			if (ret < 0)
				return -1;
			if ((ret > 0 && (vsize != size ||
					 memcmp(w->vbuf, w->buf, size))) ||
			    (!ret && !clear_since(w, &mark)))
				return fail(w, "view of %llu holding it: %d "
					    "size %llu, set %llu%s", ULL(key),
					    ret, ULL(vsize), ULL(size),
					    ret > 0 && vsize == size ?
					    ", bytes differ" : "");
		} else if (!clear_since(w, &mark)) {
			return fail(w, "view of %llu holding it: gone", ULL(key));
		}
	}

	if (rnd(w) % 4 == 0) {
		/* Present for the whole walk: listed exactly once. */
		n = wv_list_all(w->fd, keys, ARRAY_SIZE(keys), 1 + rnd(w) % 8);
		if (n < 0)
			return fail(w, "list holding %llu: %ld", ULL(key), n);
		for (i = 0, seen_k = 0; i < n; i++)
			seen_k += keys[i] == key;
		if (seen_k != 1 && !clear_since(w, &mark))
			return fail(w, "list holding %llu: listed %ld times",
				    ULL(key), seen_k);
		COUNT(w, locked_walks);
	}
	/* Last: no seq read of the key may follow in this lock period. */
	if (rnd(w) % 3 == 0 && rw_write(w, key, size, &mark))
		return -1;
	return 0;
}

/* Holding @key shared: nobody can change it but a clear. */
static int hold_shared(struct worker *w, __u64 key)
{
	struct clearmark mark;
	struct weave_get_args g1, g2;
	int r1, r2;

	clear_mark(w, &mark);
	r1 = wv_get(w->fd, key, w->buf, MAXV + 64, 0, 0, &g1);
	if (rnd(w) % 2)
		wv_sleep_ms(1);
	r2 = wv_get(w->fd, key, w->buf2, MAXV + 64, 0, 0, &g2);
	if ((r1 && r1 != -ENOENT) || (r2 && r2 != -ENOENT))
		return fail(w, "get %llu holding it shared: %d %d", ULL(key),
			    r1, r2);
	if (!r1 && !r2 && (g1.gen != g2.gen || g1.size != g2.size ||
			   memcmp(w->buf, w->buf2, g1.size)))
		return fail(w, "get %llu twice holding it shared: gen %llu/%llu "
			    "size %llu/%llu", ULL(key), ULL(g1.gen),
			    ULL(g2.gen), ULL(g1.size), ULL(g2.size));
	if (r1 == -ENOENT && !r2)
		return fail(w, "key %llu created under a shared lock", ULL(key));
	if (!r1 && r2 == -ENOENT && !clear_since(w, &mark))
		return fail(w, "key %llu deleted under a shared lock", ULL(key));
	if (!r1 && (check_bytes(w, key, 0, w->buf, g1.size, "shared get") ||
		    seen(w, key, g1.gen, true, "shared get")))
		return -1;
	return 0;
}

static int lock_again(struct worker *w, __u64 key, bool excl)
{
	int ret = wv_lock(w->fd, key, excl ? 0 : WEAVE_LOCK_SHARED, 0, NULL);

	if (ret != -EDEADLK)
		return fail(w, "lock %llu again: %d", ULL(key), ret);
	return 0;
}

/* Downgrade (@excl) or try to upgrade; *excl becomes the mode held. */
static int convert(struct worker *w, __u64 key, bool *excl, bool died)
{
	struct lockmodel *lk = &w->sh->lk[key];
	__u32 result = 0;
	int ret;

	set_state(w, ST_CONVERTING, key, *excl);
	if (*excl) {
		/* The flag stays as it is; sharers may read the model now. */
		STORE(lk->sticky, died);
		STORE(lk->held_by, 0);
		ret = wv_lock(w->fd, key, WEAVE_LOCK_SHARED | WEAVE_LOCK_CONVERT,
			      0, &result);
		if (ret)
			return fail(w, "downgrade %llu: %d", ULL(key), ret);
		*excl = false;
	} else {
		ret = wv_lock(w->fd, key, WEAVE_LOCK_CONVERT | WEAVE_LOCK_TIMED,
			      (1 + rnd(w) % 5) * 1000000ULL, &result);
		if (ret == -ETIMEDOUT || ret == -EDEADLK || ret == -EINTR) {
			set_state(w, ST_HELD, key, *excl);
			return 0;
		}
		if (ret)
			return fail(w, "upgrade %llu: %d", ULL(key), ret);
		/* Nobody could set or clear the flag while we shared it. */
		STORE(lk->held_by, w->token);
		STORE(lk->sticky, 0);
		STORE(lk->uncertain, 0);
		*excl = true;
	}
	if (!!(result & WEAVE_LOCK_OWNER_DIED) != died)
		return fail(w, "convert %llu: owner-died %u, was %d", ULL(key),
			    result, died);
	set_state(w, ST_HELD, key, *excl);
	return 0;
}

static int op_lock(struct worker *w)
{
	__u64 key = 1 + rnd(w) % NLOCK, timeout = 0;
	struct lockmodel *lk = &w->sh->lk[key];
	bool excl = rnd(w) % 3 != 0, died, consistent;
	__u32 flags = excl ? 0 : WEAVE_LOCK_SHARED, result = 0;
	int ret, how = (int)(rnd(w) % 4);

	if (how == 1) {
		flags |= WEAVE_OP_NONBLOCK;
	} else if (how == 2) {
		flags |= WEAVE_LOCK_TIMED;
		timeout = (1 + rnd(w) % 10) * 1000000ULL;
	}
	set_state(w, ST_LOCKING, key, excl);
	ret = wv_lock(w->fd, key, flags, timeout, &result);
	if (ret) {
		set_state(w, ST_IDLE, 0, 0);
		/* EINTR: a timed lock, and the parent stopped us. */
		if ((ret == -EAGAIN && how == 1) ||
		    ((ret == -ETIMEDOUT || ret == -EINTR) && how == 2))
			return 0;
		return fail(w, "lock %llu flags %#x: %d", ULL(key), flags, ret);
	}
	if (result & ~WEAVE_LOCK_OWNER_DIED)
		return fail(w, "lock %llu: result %#x", ULL(key), result);
	died = result & WEAVE_LOCK_OWNER_DIED;
	if (check_died(w, key, died, excl ? "lock" : "shared lock"))
		return -1;
	if (excl) {
		STORE(lk->held_by, w->token);
		STORE(lk->sticky, 0);
		STORE(lk->uncertain, 0);
	}
	set_state(w, ST_HELD, key, excl);
	w->rw_key = 0;
	COUNT(w, lock_cycles);

	if (rnd(w) % 8 == 0 && lock_again(w, key, rnd(w) % 2))
		return -1;
	if (excl ? hold_excl(w, key) : hold_shared(w, key))
		return -1;
	if (rnd(w) % 3 == 0)		/* a target for the parent */
		wv_sleep_ms(1 + (long)(rnd(w) % 2));

	if (rnd(w) % 40 == 0) {
		/*
		 * Close the file holding the lock: released as if its owner
		 * died; held_by stays set for the next locker to check.
		 */
		set_state(w, ST_ABANDONING, key, excl);
		COUNT(w, closed_holding);
		if (op_reattach(w))
			return -1;
		set_state(w, ST_IDLE, 0, 0);
		return 0;
	}

	if (rnd(w) % 4 == 0) {
		if (convert(w, key, &excl, died))
			return -1;
		if (excl ? hold_excl(w, key) : hold_shared(w, key))
			return -1;
	}

	consistent = excl && rnd(w) % 4 != 0;
	set_state(w, ST_UNLOCKING, key, excl);
	if (excl) {
		STORE(lk->sticky, died && !consistent);
		STORE(lk->held_by, 0);
	}
	ret = wv_unlock(w->fd, key, consistent ? WEAVE_UNLOCK_CONSISTENT : 0);
	set_state(w, ST_IDLE, 0, 0);
	if (ret)
		return fail(w, "unlock %llu: %d", ULL(key), ret);
	return 0;
}

/* ----- the churn registry: unlink, create, attach, close ------------------ */

static void note_id(struct worker *w, __u64 id)
{
	__u32 i = __atomic_fetch_add(&w->sh->nids, 1, __ATOMIC_SEQ_CST);

	if (i < NIDS)
		STORE(w->sh->ids[i], id);
	COUNT(w, churn_creates);
}

static int churn_attach(struct worker *w)
{
	struct weave_attach_args a;
	struct weave_info_args info;
	__u32 flags;
	int tries, fd = -ENOENT;

	for (tries = 0; tries < 20 && fd < 0; tries++) {
		flags = WEAVE_ATTACH_CREATE;
		if (rnd(w) % 3 == 0)
			flags |= WEAVE_ATTACH_EXCL;
		if (rnd(w) % 4 == 0)
			flags |= WEAVE_ATTACH_PERSIST;
		if (rnd(w) % 4 == 0)
			flags = 0;
		fd = wv_open(w->churn_name, O_RDWR, flags, 0600, 4 * MAXW, &a);
		if ((fd == -EEXIST && flags & WEAVE_ATTACH_EXCL) ||
		    (fd == -ENOENT && !flags))
			continue;
		if (fd < 0)
			return fail(w, "attach %s flags %#x: %d", w->churn_name,
				    flags, fd);
	}
	if (fd < 0)
		return fail(w, "attach %s: %d after %d tries", w->churn_name, fd,
			    tries);
	if (a.result & WEAVE_ATTACH_CREATED)
		note_id(w, a.id);
	if (wv_info(fd, &info) || info.id != a.id) {
		close(fd);
		return fail(w, "churn info: id %llu, attached %llu", ULL(info.id),
			    ULL(a.id));
	}
	w->churn_fd = fd;
	w->churn_id = a.id;
	w->churn_max = 0;
	return 0;
}

static int op_churn(struct worker *w)
{
	__u64 key = (__u64)w->me + 1, size, gen;
	struct weave_info_args before, after;
	struct weave_get_args g;
	int ret;

	switch (rnd(w) % 6) {
	case 0:		/* close and attach, maybe creating */
		close(w->churn_fd);
		return churn_attach(w);
	case 1:		/* unlink: whoever held the name, ours is marked */
		if (wv_info(w->churn_fd, &before))
			return fail(w, "churn info: %s", strerror(errno));
		ret = wv_unlink(w->churn_fd, w->churn_name);
		if (ret && ret != -ENOENT)
			return fail(w, "unlink %s: %d", w->churn_name, ret);
		if (!ret)
			COUNT(w, churn_unlinks);
		if (wv_info(w->churn_fd, &after))
			return fail(w, "churn info: %s", strerror(errno));
		/*
		 * A registry not unlinked holds the name; once unlink
		 * returns, it has lost it, to this call or another.
		 */
		if (!(after.flags & WEAVE_INFO_UNLINKED) ||
		    after.id != before.id)
			return fail(w, "churn %llu after unlink: %d, flags %#x",
				    ULL(after.id), ret, after.flags);
		return 0;
	default:	/* our own key: exactly what we set */
		size = rnd(w) % 300;
		fill(w->buf, key, 0, size);
		ret = wv_set(w->churn_fd, key, w->buf, size, 0, &gen);
		if (ret)
			return fail(w, "churn set %llu: %d", ULL(key), ret);
		if (gen <= w->churn_max)
			return fail(w, "churn set: gen %llu after %llu",
				    ULL(gen), ULL(w->churn_max));
		w->churn_max = gen;
		ret = wv_get(w->churn_fd, key, w->buf2, MAXV, 0, 0, &g);
		if (ret || g.gen != gen || g.size != size ||
		    memcmp(w->buf, w->buf2, size))
			return fail(w, "churn get %llu: %d gen %llu/%llu size "
				    "%llu/%llu", ULL(key), ret, ULL(g.gen),
				    ULL(gen), ULL(g.size), ULL(size));
		return 0;
	}
}

/* ----- the worker -------------------------------------------------------- */

struct opw {
	int weight;
	int op;
};

enum {
	O_SET, O_GET, O_WRITE, O_RESIZE, O_DELETE, O_CLEAR, O_STAT, O_INDEX,
	O_INFO, O_WALK, O_VIEW, O_WATCH, O_WAIT, O_LOCK, O_EPERM, O_CHURN,
	O_REATTACH,
};

static const struct opw op_table[] = {
	{ 1500, O_SET }, { 1500, O_GET }, { 800, O_WRITE }, { 600, O_RESIZE },
	{ 500, O_DELETE }, { 4, O_CLEAR }, { 500, O_STAT }, { 300, O_INDEX },
	{ 100, O_INFO }, { 100, O_WALK }, { 900, O_VIEW }, { 400, O_WATCH },
	{ 250, O_WAIT }, { 600, O_LOCK }, { 30, O_EPERM }, { 250, O_CHURN },
	{ 15, O_REATTACH },
};

static int one_op(struct worker *w)
{
	int total = 0, r, i;
	__u64 key = 1 + rnd(w) % NKEYS;

	for (i = 0; i < (int)ARRAY_SIZE(op_table); i++)
		total += op_table[i].weight;
	r = (int)(rnd(w) % (__u64)total);
	for (i = 0; r >= op_table[i].weight; i++)
		r -= op_table[i].weight;

	switch (op_table[i].op) {
	case O_SET:
		return op_set(w, key);
	case O_GET:
		return op_get(w, key);
	case O_WRITE:
		return op_write(w, key);
	case O_RESIZE:
		return op_resize(w, key);
	case O_DELETE:
		return op_delete(w, key);
	case O_CLEAR:
		return op_clear(w);
	case O_STAT:
		return op_stat(w, key);
	case O_INDEX:
		return op_index(w);
	case O_INFO:
		return op_info(w);
	case O_WALK:
		return op_walk(w);
	case O_VIEW:
		return op_view(w);
	case O_WATCH:
		return op_watch(w);
	case O_WAIT:
		return op_wait(w, key);
	case O_LOCK:
		return op_lock(w);
	case O_EPERM:
		r = wv_unlock(w->fd, 1 + rnd(w) % NLOCK, 0);
		return r == -EPERM ? 0 : fail(w, "unlock of a lock not held: %d",
					      r);
	case O_CHURN:
		return op_churn(w);
	default:
		return op_reattach(w);
	}
}

static int work(struct worker *w)
{
	struct wslot *me = &w->sh->w[w->me];

	wv_fault_setup(NULL);
	w->fd = w->churn_fd = -1;
	if (main_attach(w) || churn_attach(w))
		return -1;
	while (!LOAD(w->sh->stop)) {
		if (one_op(w))
			return -1;
		__atomic_fetch_add(&me->ops, 1, __ATOMIC_RELAXED);
	}
	if (drain_events(w) || op_info(w) || op_index(w))
		return -1;
	main_detach(w);
	close(w->churn_fd);
	return 0;
}

/* ----- the parent -------------------------------------------------------- */

struct parent {
	struct shared *sh;
	int nw;
	int fd, wfd;		/* the main registry; a watch of lock events */
	char name[64], churn[64];
	int incarnation[MAXW];
	__u64 rng;
	char why[512];
	int failed_worker;	/* a worker that exited by itself, or -1 */
	int failed_status;
};

static __u64 prnd(struct parent *p)
{
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	return p->rng;
}

static int __attribute__((format(printf, 2, 3)))
pfail(struct parent *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Read the lock events: whether one for @key had a bit of @mask. */
static bool drain_lock_events(struct parent *p, __u64 key, __u32 mask)
{
	struct weave_event ev[64];
	bool found = false;
	int n, i;

	while ((n = wv_read_events(p->wfd, ev, ARRAY_SIZE(ev))) > 0)
		for (i = 0; i < n; i++)
			if (ev[i].key == key && ev[i].mask & mask)
				found = true;
	return found;
}

static void spawn(struct parent *p, int i)
{
	struct shared *sh = p->sh;
	struct worker *w;
	pid_t pid;

	sh->w[i].token = (i + 1) | ++p->incarnation[i] << 8;
	sh->w[i].state = ST_IDLE;
	pid = fork();
	if (pid == 0) {
		w = calloc(1, sizeof(*w));
		if (!w)
			_exit(2);
		w->sh = sh;
		w->me = i;
		w->token = sh->w[i].token;
		w->rng = 0x9E3779B97F4A7C15ULL * (__u64)w->token ^
			 (__u64)getpid() << 32;
		w->name = p->name;
		w->churn_name = p->churn;
		w->page = wv_page_size();
		w->maplen = 3 * w->page;
		_exit(work(w) ? 1 : 0);
	}
	sh->w[i].pid = pid;
}

static int slot_of(struct parent *p, pid_t pid)
{
	int i;

	for (i = 0; i < p->nw; i++)
		if (p->sh->w[i].pid == pid)
			return i;
	return -1;
}

/* A worker ended on its own: only after the stop, with status 0. */
static void ended(struct parent *p, pid_t pid, int status)
{
	int i = slot_of(p, pid);

	if (i >= 0)
		p->sh->w[i].pid = 0;
	if (p->failed_worker < 0 && (!WIFEXITED(status) || WEXITSTATUS(status) ||
				     !LOAD(p->sh->stop))) {
		p->failed_worker = i;
		p->failed_status = status;
	}
}

/*
 * Stop worker @i, look at what it is doing, and either let it go on
 * (@pause) or kill it: then the lock model learns what its death did,
 * and a lock it held must show in the events.
 */
static int stop_or_kill(struct parent *p, int i, bool pause)
{
	struct shared *sh = p->sh;
	struct wslot *s = &sh->w[i];
	struct lockmodel *lk;
	int status, state, excl;
	pid_t pid = s->pid;
	__u64 key;

	if (kill(pid, SIGSTOP))
		return pfail(p, "SIGSTOP %d: %s", pid, strerror(errno));
	if (waitpid(pid, &status, WUNTRACED) != pid)
		return pfail(p, "waitpid %d: %s", pid, strerror(errno));
	if (!WIFSTOPPED(status)) {
		ended(p, pid, status);
		return -1;
	}
	if (pause) {
		wv_sleep_ms(1 + (long)(prnd(p) % 5));
		kill(pid, SIGCONT);
		sh->c.pauses++;
		return 0;
	}

	state = LOAD(s->state);
	key = LOAD(s->key);
	excl = LOAD(s->excl);
	lk = key ? &sh->lk[key] : NULL;
	/* Stopped: we learn the model before the kill can change the flag. */
	if ((state == ST_LOCKING && excl) || (state == ST_UNLOCKING && excl) ||
	    state == ST_CONVERTING)
		STORE(lk->uncertain, 1);
	if (state == ST_HELD && excl) {
		sh->c.holder_kills++;
		if (LOAD(lk->held_by) != s->token)
			return pfail(p, "worker %d holds %llu, model says %#x",
				     i, ULL(key), LOAD(lk->held_by));
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL)
		return pfail(p, "worker %d did not die of SIGKILL: %#x", i,
			     status);
	s->pid = 0;
	sh->c.kills++;
	/* Its clear, if it was in one, has ended either way. */
	STORE(s->clear_done, LOAD(s->clear_started));
	if (!drain_lock_events(p, key, state == ST_HELD ? excl ?
			       WEAVE_EV_OWNER_DIED : WEAVE_EV_UNLOCKED : 0) &&
	    state == ST_HELD)
		return pfail(p, "worker %d killed holding %llu (%s): no %s event",
			     i, ULL(key), excl ? "exclusive" : "shared",
			     excl ? "owner-died" : "unlocked");
	spawn(p, i);
	return 0;
}

/* A worker to stop: a lock holder two times in three. */
static int pick_victim(struct parent *p)
{
	int held[MAXW], n = 0, i;

	for (i = 0; i < p->nw; i++)
		if (LOAD(p->sh->w[i].state) == ST_HELD)
			held[n++] = i;
	if (n && prnd(p) % 3)
		return held[prnd(p) % (__u64)n];
	return (int)(prnd(p) % (__u64)p->nw);
}

static int chaos(struct parent *p)
{
	double start = wv_now(), now;
	pid_t pid;
	int status, i;

	for (i = 0; i < p->nw; i++)
		spawn(p, i);
	for (;;) {
		now = wv_now();
		if (now >= start + SECONDS &&
		    (p->sh->c.holder_kills ||
		     now >= start + SECONDS + EXTRA_SECONDS))
			break;
		wv_sleep_ms(10 + (long)(prnd(p) % 40));
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			ended(p, pid, status);
		if (p->failed_worker >= 0)
			return -1;
		i = pick_victim(p);
		if (stop_or_kill(p, i, prnd(p) % 6 == 0))
			return -1;
	}
	return 0;
}

/* What a hung worker is doing: its state, and its kernel stack. */
static void hung_report(struct parent *p, int i)
{
	char path[64], line[256];
	FILE *f;

	fprintf(stderr, "# worker %d pid %d: state %d key %llu\n", i,
		(int)p->sh->w[i].pid, LOAD(p->sh->w[i].state),
		ULL(LOAD(p->sh->w[i].key)));
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)p->sh->w[i].pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "#   %s", line);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->sh->w[i].pid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "#   stat: %s", line);
	if (f)
		fclose(f);
}

/* Stop the workers and reap them all; -1 when one failed or hung. */
static int stop_all(struct parent *p)
{
	double end = wv_now() + STOP_SECONDS;
	int status, i, left;
	pid_t pid;

	STORE(p->sh->stop, 1);
	for (;;) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			ended(p, pid, status);
		for (i = 0, left = 0; i < p->nw; i++)
			left += p->sh->w[i].pid > 0;
		if (!left)
			break;
		if (wv_now() > end) {
			for (i = 0; i < p->nw; i++)
				if (p->sh->w[i].pid > 0)
					hung_report(p, i);
			for (i = 0; i < p->nw; i++)
				if (p->sh->w[i].pid > 0)
					kill(p->sh->w[i].pid, SIGKILL);
			while (waitpid(-1, NULL, 0) > 0)
				;
			return pfail(p, "%d workers did not stop in %.0f s",
				     left, STOP_SECONDS);
		}
		wv_sleep_ms(5);
	}
	return p->failed_worker >= 0 ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

FIXTURE(chaos) {
	struct parent p;
};

FIXTURE_SETUP(chaos)
{
	struct parent *p = &self->p;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(p, 0, sizeof(*p));
	p->failed_worker = -1;
	p->fd = p->wfd = -1;
	p->nw = (int)(2 * cpus < 4 ? 4 : 2 * cpus > MAXW ? MAXW : 2 * cpus);
	p->rng = 0x2545F4914F6CDD1DULL ^ (__u64)getpid() ^
		 (__u64)(wv_now() * 1e6) << 20;
	p->sh = wv_shared(sizeof(*p->sh));
	ASSERT_NE(NULL, p->sh);
	p->sh->nworkers = p->nw;

	wv_name(p->name, sizeof(p->name), "chaos");
	wv_unlink_name(p->name);	/* a leftover from a crashed run */
	p->fd = wv_open(p->name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL,
			0600, CAPACITY, NULL);
	ASSERT_GE(p->fd, 0) TH_LOG("create: %s", strerror(-p->fd));
	p->wfd = wv_reopen(p->name, O_RDWR | O_NONBLOCK);
	ASSERT_GE(p->wfd, 0);
	ASSERT_EQ(0, wv_watch(p->wfd, 0, WEAVE_EV_OWNER_DIED |
			      WEAVE_EV_UNLOCKED, 0));
	wv_name(p->churn, sizeof(p->churn), "chaos-churn");
	wv_unlink_name(p->churn);
}

FIXTURE_TEARDOWN(chaos)
{
	struct parent *p = &self->p;
	int i;

	for (i = 0; i < p->nw; i++)
		if (p->sh && p->sh->w[i].pid > 0)
			kill(p->sh->w[i].pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	if (p->wfd >= 0)
		close(p->wfd);
	if (p->fd >= 0)
		close(p->fd);
	wv_unlink_name(p->name);
	wv_unlink_name(p->churn);
	if (p->sh)
		munmap(p->sh, sizeof(*p->sh));
}

TEST_F_TIMEOUT(chaos, kill_and_check, 240)
{
	struct parent *p = &self->p;
	struct shared *sh = p->sh;
	struct counters *c = &sh->c;
	const struct weave_index_header *h;
	__u64 keys[4 * CAPACITY], ops = 0, s, used = 0, ps = wv_page_size();
	unsigned char *buf = malloc(MAXV + 64);
	struct weave_info_args info;
	const unsigned char *index;
	double t0 = wv_now();
	long n, i, j;
	int ret;

	ASSERT_NE(NULL, buf);
	ret = chaos(p);
	if (stop_all(p))
		ret = -1;
	if (p->failed_worker >= 0)
		TH_LOG("worker %d ended with status %#x: %s", p->failed_worker,
		       p->failed_status, sh->w[p->failed_worker].why);
	ASSERT_EQ(0, ret) TH_LOG("%s", p->why);
	for (i = 0; i < p->nw; i++)
		ops += sh->w[i].ops;
	TH_LOG("%d workers, %.1f s: %llu ops, %llu kills (%llu holding a "
	       "lock exclusively), %llu pauses", p->nw, wv_now() - t0,
	       ULL(ops), ULL(c->kills), ULL(c->holder_kills), ULL(c->pauses));
	TH_LOG("locks %llu, owner-died confirmed %llu, events %llu, closed "
	       "holding %llu; views read %llu, dead %llu, past the end %llu",
	       ULL(c->lock_cycles), ULL(c->died_confirmed), ULL(c->died_seen),
	       ULL(c->closed_holding), ULL(c->view_reads), ULL(c->dead_views),
	       ULL(c->past_end));
	TH_LOG("events %llu, waits %llu, walks %llu (%llu locked), clears "
	       "%llu, churn: %llu created, %llu unlinked; reattached %llu; "
	       "writes through writable views %llu",
	       ULL(c->events), ULL(c->waits), ULL(c->walks),
	       ULL(c->locked_walks), ULL(c->clears), ULL(c->churn_creates),
	       ULL(c->churn_unlinks), ULL(c->main_reattach),
	       ULL(c->rw_writes));
	EXPECT_LT(0, c->rw_writes);

	/* At rest: INFO, a walk, the index header and slots agree. */
	ASSERT_EQ(0, wv_info(p->fd, &info));
	n = wv_list_all(p->fd, keys, ARRAY_SIZE(keys), 7);
	ASSERT_GE(n, 0);
	EXPECT_EQ(info.count, n);
	EXPECT_GE(info.gen, sh->max_gen);
	qsort(keys, n, sizeof(keys[0]), cmp_u64);
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(keys[i] >= 1 && keys[i] <= NKEYS)
			TH_LOG("listed key %llu", ULL(keys[i]));
		if (i)
			EXPECT_NE(keys[i - 1], keys[i]) TH_LOG("listed twice");
	}
	index = mmap(NULL, info.index_size, PROT_READ, MAP_SHARED, p->fd, 0);
	ASSERT_NE(MAP_FAILED, index);
	h = (const void *)index;
	EXPECT_EQ(info.count, h->count);
	EXPECT_EQ(info.gen, h->gen);
	for (s = 1; s <= CAPACITY; s++) {
		const struct weave_slot *sl = wv_slot(index, s);

		if (!sl->key)
			continue;
		used++;
		EXPECT_NE(NULL, bsearch(&sl->key, keys, n, sizeof(keys[0]),
					cmp_u64))
			TH_LOG("slot %llu holds unlisted key %llu", ULL(s),
			       ULL(sl->key));
	}
	EXPECT_EQ(n, used);
	for (i = 0; i < n; i++) {
		const struct weave_slot *sl;
		struct weave_stat_args st;
		struct weave_get_args g;

		ASSERT_EQ(0, wv_stat(p->fd, keys[i], &st));
		sl = wv_slot(index, st.slot);
		EXPECT_TRUE(sl->key == keys[i] && sl->gen == st.gen &&
			    sl->size == st.size && sl->birth == st.birth &&
			    sl->offset == st.map_offset + st.data_offset)
			TH_LOG("key %llu: slot %u holds %llu", ULL(keys[i]),
			       st.slot, ULL(sl->key));
		ASSERT_EQ(0, wv_get(p->fd, keys[i], buf, MAXV + 64, 0, 0, &g));
		EXPECT_TRUE(g.size == st.size && g.gen == st.gen &&
			    g.size <= MAXV);
		for (j = 0; j < (long)g.copied; j++)
			if (buf[j] && buf[j] != pat(keys[i], j))
				break;
		EXPECT_EQ(g.copied, j) TH_LOG("key %llu: byte %ld is %#x",
					      ULL(keys[i]), j, buf[j]);
		EXPECT_GE(st.gen, st.birth);
		EXPECT_LE(st.data_offset + st.size, 3 * ps);
	}
	munmap((void *)index, info.index_size);

	/* Every lock reports owner-died as the model says. */
	for (s = 1; s <= NLOCK; s++) {
		struct lockmodel *lk = &sh->lk[s];
		__u32 result = 0;
		bool died;

		ASSERT_EQ(0, wv_lock(p->fd, s, WEAVE_OP_NONBLOCK, 0, &result));
		died = result & WEAVE_LOCK_OWNER_DIED;
		if (lk->held_by) {
			EXPECT_TRUE(died) TH_LOG("key %llu: holder %#x died "
						 "holding it, no owner-died",
						 ULL(s), lk->held_by);
			c->died_confirmed++;
		} else if (!lk->uncertain) {
			EXPECT_EQ(lk->sticky, died) TH_LOG("key %llu", ULL(s));
		}
		EXPECT_EQ(0, wv_unlock(p->fd, s, WEAVE_UNLOCK_CONSISTENT));
	}

	/* Every registry created got an id of its own. */
	ASSERT_LE(sh->nids, NIDS);
	qsort(sh->ids, sh->nids, sizeof(sh->ids[0]), cmp_u64);
	for (i = 1; i < (long)sh->nids; i++)
		EXPECT_NE(sh->ids[i - 1], sh->ids[i]);

	/* Enough of everything happened to mean something. */
	EXPECT_GE(ops, 100 * p->nw);
	EXPECT_GE(c->kills, 5);
	EXPECT_GE(c->holder_kills, 1);
	EXPECT_GE(c->died_confirmed, 1);
	EXPECT_GT(c->lock_cycles, 0);
	EXPECT_GT(c->view_reads, 0);
	EXPECT_GT(c->events, 0);
	EXPECT_GT(c->waits, 0);
	EXPECT_GT(c->churn_creates, 1);
	EXPECT_GT(c->churn_unlinks, 0);
	free(buf);
}

TEST_HARNESS_MAIN
