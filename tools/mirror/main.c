// SPDX-License-Identifier: GPL-2.0
/*
 * weave-mirror: options, signals and the event loop. The loop is one
 * thread that sleeps in poll(2) on the registry's descriptor (its
 * events: local changes to push) and the inbox's eventfd (acknowledgements
 * of writes, reconnections, posted by the NATS client's threads; and
 * signals). It wakes for work, and on a deadline only when one is due:
 * retrying a failed watch or push, and saving the state file a second
 * after a change. The bucket's entries are applied by the watcher's
 * thread (bucket.c), under the mirror's lock like the loop's work.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weave.h>

#include "mirror.h"

/* How long after a failed watch or push the loop tries again. */
#define RETRY_MS 500
/* How long after a change the state file is written: bounds what a crash
 * forgets, and how often a busy mirror writes it.
 */
#define SAVE_MS 1000
/* How long --once and a stop wait for the writes in flight. */
#define DRAIN_MS 5000

static volatile sig_atomic_t stop, want_stats;
static struct inbox *sig_inbox;

void mlog(const char *fmt, ...)
{
	va_list ap;

	/* One line at a time: the client's threads log too. */
	flockfile(stderr);
	va_start(ap, fmt);
	fputs("weave-mirror: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	funlockfile(stderr);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		stop = 1;
	if (sig_inbox)
		inbox_wake(sig_inbox);
}

static void usage(FILE *f)
{
	fputs("usage: weave-mirror -b BUCKET -r REGISTRY [-s URL]... [options]\n"
	      "  -b, --bucket NAME        the key-value bucket\n"
	      "  -r, --registry NAME      the weave registry (created if missing)\n"
	      "  -s, --server URL         a NATS server (repeat; default nats://127.0.0.1:4222)\n"
	      "  -c, --creds FILE         NATS credentials file\n"
	      "  -d, --direction DIR      both (default), push or pull\n"
	      "  -i, --init POLICY        bucket-wins, local-wins or fail\n"
	      "      --state FILE         what was in step, kept across restarts\n"
	      "      --once               sync once and exit\n"
	      "      --create             create the bucket when missing, with\n"
	      "      --max-value BYTES    its max value size (default: none)\n"
	      "      --replicas N         and its replicas (default 1)\n"
	      "  -h, --help\n", f);
}

static int32_t parse_num(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > INT32_MAX) {
		mlog("bad %s: %s", what, s);
		exit(2);
	}
	return (int32_t)v;
}

static void parse_opts(int argc, char **argv, struct mirror_opts *o)
{
	static const struct option lo[] = {
		{ "bucket", required_argument, NULL, 'b' },
		{ "registry", required_argument, NULL, 'r' },
		{ "server", required_argument, NULL, 's' },
		{ "creds", required_argument, NULL, 'c' },
		{ "direction", required_argument, NULL, 'd' },
		{ "init", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, 'o' },
		{ "state", required_argument, NULL, 'S' },
		{ "create", no_argument, NULL, 'C' },
		{ "max-value", required_argument, NULL, 'M' },
		{ "replicas", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char *dflt_server = "nats://127.0.0.1:4222";
	const char *init = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->push = o->pull = true;
	o->max_value = -1;
	o->replicas = 1;
	o->servers = calloc(argc, sizeof(*o->servers));
	if (!o->servers)
		exit(1);
	while ((c = getopt_long(argc, argv, "b:r:s:c:d:i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o->bucket = optarg; break;
		case 'r': o->registry = optarg; break;
		case 's': o->servers[o->nservers++] = optarg; break;
		case 'c': o->creds = optarg; break;
		case 'd':
			o->push = !strcmp(optarg, "both") ||
				  !strcmp(optarg, "push");
			o->pull = !strcmp(optarg, "both") ||
				  !strcmp(optarg, "pull");
			if (!o->push && !o->pull) {
				mlog("bad direction: %s", optarg);
				exit(2);
			}
			break;
		case 'i': init = optarg; break;
		case 'o': o->once = true; break;
		case 'S': o->state_file = optarg; break;
		case 'C': o->create = true; break;
		case 'M': o->max_value = parse_num(optarg, "max value"); break;
		case 'R': o->replicas = parse_num(optarg, "replicas"); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || !o->bucket || !o->registry) {
		usage(stderr);
		exit(2);
	}
	if (!o->nservers)
		o->servers[o->nservers++] = dflt_server;
	if (!init)
		o->init = o->pull ? INIT_BUCKET_WINS : INIT_LOCAL_WINS;
	else if (!strcmp(init, "bucket-wins") && o->pull)
		o->init = INIT_BUCKET_WINS;
	else if (!strcmp(init, "local-wins") && o->push)
		o->init = INIT_LOCAL_WINS;
	else if (!strcmp(init, "fail"))
		o->init = INIT_FAIL;
	else {
		mlog("bad initial sync policy %s for direction %s", init,
		     o->push && o->pull ? "both" : o->push ? "push" : "pull");
		exit(2);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Push every key the registry's pending events name. 1: the registry
 * was cleared or events were lost, so every key must be looked at.
 */
static int drain_local(struct mirror *m)
{
	struct weave_event ev[64];
	int resync = 0, err;
	ssize_t n, i;

	while ((n = weave_events(m->w, ev, 64, 0)) > 0) {
		for (i = 0; i < n; i++) {
			if (!ev[i].key) {
				resync = 1;
				continue;
			}
			if (!m->o->push)
				continue;
			err = mirror_push_local(m, ev[i].key);
			if (err)
				return err;
		}
		if (n < 64)
			break;
	}
	return n < 0 ? (int)n : resync;
}

struct loop {
	bool rewatch;			/* the bucket must be watched again */
	int64_t retry_at;		/* when to watch or resync again */
};

/* The state changed: save it a second from now, unless already due.
 * True when that is new, and the loop's timeout must be computed again.
 */
static bool changed(struct mirror *m)
{
	if (!m->o->state_file || m->save_at)
		return false;
	m->save_at = now_ms() + SAVE_MS;
	return true;
}

/* An entry from the watcher's thread (b->apply). */
static int apply_entry(void *arg, struct remote *r)
{
	struct mirror *m = arg;
	bool wake;
	int err;

	pthread_mutex_lock(&m->lock);
	err = mirror_remote(m, r);
	wake = changed(m);
	pthread_mutex_unlock(&m->lock);
	if (wake)
		inbox_wake(&m->in);
	return err;
}

/* Everything the client's threads posted. */
static int drain_inbox(struct mirror *m, struct loop *l)
{
	struct inbox_msg *msg, *next;
	bool lost;
	int err = 0;

	msg = inbox_take(&m->in, &lost);
	if (lost) {
		mlog("out of memory for a message from the client; resyncing");
		mirror_forget_inflight(m);
		l->rewatch = true;
	}
	for (; msg; msg = next) {
		next = msg->next;
		switch (err ? -1 : (int)msg->kind) {
		case IN_FAILED:
			err = msg->err;
			break;
		case IN_SYNCED:
			/* The watcher gave every key again: push what
			 * changed locally meanwhile.
			 */
			m->dirty = true;
			l->retry_at = 0;
			break;
		case IN_WATCH_FAILED:
			l->rewatch = true;
			l->retry_at = now_ms() + RETRY_MS;
			break;
		case IN_ACK:
			err = mirror_ack(m, msg);
			break;
		case IN_RECONNECTED:
			mlog("reconnected; resyncing");
			l->rewatch = true;
			l->retry_at = 0;
			break;
		}
		inbox_msg_free(msg);
	}
	changed(m);
	return err;
}

/* Watch the bucket again, when due: without the lock, since stopping the
 * watcher's thread waits for it, and it may be waiting for the lock.
 */
static void rewatch(struct mirror *m, struct loop *l)
{
	int64_t now = now_ms();
	int err;

	if (!l->rewatch || now < l->retry_at)
		return;
	/* Gives every key's latest entry again, then IN_SYNCED. */
	err = bucket_watch(&m->b);
	if (!err)
		err = bucket_start(&m->b);
	l->rewatch = err != 0;
	l->retry_at = now + RETRY_MS;
}

/* Do what is due now; *@timeout: the time until the next deadline (-1:
 * none), for poll().
 */
static int due(struct mirror *m, struct loop *l, int *timeout)
{
	int64_t now = now_ms(), next = -1;
	int err;

	if (!l->rewatch && m->dirty && now >= l->retry_at &&
	    bucket_connected(&m->b)) {
		/* Not connected: IN_RECONNECTED comes first. */
		l->retry_at = now + RETRY_MS;
		err = mirror_resync_local(m);
		if (err)
			return err;
	}
	if (m->save_at && now >= m->save_at) {
		statefile_save(m);
		m->save_at = 0;
	}
	if (l->rewatch || (m->dirty && bucket_connected(&m->b)))
		next = l->retry_at;
	if (m->save_at && (next < 0 || m->save_at < next))
		next = m->save_at;
	*timeout = next < 0 ? -1 : next > now ? (int)(next - now) : 0;
	return 0;
}

static int run(struct mirror *m)
{
	struct pollfd pfd[2] = {
		{ .fd = weave_fd(m->w), .events = POLLIN },
		{ .fd = m->in.efd, .events = POLLIN },
	};
	struct loop l = { 0 };
	int timeout, err;

	m->b.apply = apply_entry;
	m->b.apply_arg = m;
	err = bucket_start(&m->b);
	while (!err && !stop) {
		rewatch(m, &l);
		pthread_mutex_lock(&m->lock);
		if (want_stats) {
			want_stats = 0;
			mirror_log_stats(m);
		}
		err = due(m, &l, &timeout);
		pthread_mutex_unlock(&m->lock);
		if (err)
			break;
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			mlog("poll: %s", strerror(-err));
			break;
		}
		pthread_mutex_lock(&m->lock);
		if (pfd[0].revents) {
			err = drain_local(m);
			if (err < 0)
				mlog("registry events: %s", strerror(-err));
			else if (err > 0)
				m->dirty = true;
			if (err >= 0) {
				err = 0;
				changed(m);
			}
		}
		if (!err && pfd[1].revents)
			err = drain_inbox(m, &l);
		pthread_mutex_unlock(&m->lock);
	}
	/* What follows needs no lock: the watcher's thread is gone. */
	bucket_unwatch(&m->b);
	return err;
}

/* Wait up to DRAIN_MS for the writes in flight to be acknowledged, and
 * take the acknowledgements, so that the counters and the state file
 * tell what was written.
 */
static int settle_writes(struct mirror *m)
{
	struct pollfd pfd = { .fd = m->in.efd, .events = POLLIN };
	int64_t end = now_ms() + DRAIN_MS;
	struct loop l = { 0 };
	int err = 0;

	while (!err && m->inflight && now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - now_ms())) < 0 && errno != EINTR)
			return -errno;
		err = drain_inbox(m, &l);
	}
	if (m->inflight) {
		mlog("%zu writes not acknowledged within %d ms", m->inflight,
		     DRAIN_MS);
		m->dirty = true;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct mirror_opts o;
	struct mirror m = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.o = &o,
		.in = { .efd = -1 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct weave_info_args info;
	int err;

	parse_opts(argc, argv, &o);
	err = inbox_init(&m.in);
	if (err) {
		mlog("eventfd: %s", strerror(-err));
		return 1;
	}
	sig_inbox = &m.in;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	err = weave_open(o.registry, WEAVE_OPEN_CREATE | WEAVE_OPEN_PERSIST,
			 0600, &m.w);
	if (err) {
		mlog("registry %s: %s", o.registry, strerror(-err));
		return 1;
	}
	err = weave_info(m.w, &info);
	m.registry_id = info.id;
	if (!err)
		err = weave_watch(m.w, 0, WEAVE_EV_NEW | WEAVE_EV_CHANGED |
				  WEAVE_EV_RESIZED | WEAVE_EV_DELETED |
				  WEAVE_EV_CLEARED, WEAVE_WATCH_NO_SELF);
	if (!err)
		err = state_init(&m.st);
	if (!err)
		err = bucket_open(&m.b, &o, &m.in);
	if (!err)
		err = statefile_load(&m);
	if (!err)
		mlog("%s <-> bucket %s (max value %zu bytes)", o.registry,
		     o.bucket, m.b.max_value);
	/* Events from here on are also seen by the initial sync's reads. */
	if (!err)
		err = mirror_initial_sync(&m);
	if (!err)
		mlog("in step: %zu keys", m.st.used);
	if (err == -EEXIST)
		mlog("initial sync failed: the registry and the bucket differ");
	else if (err)
		mlog("initial sync failed: %s", strerror(-err));
	if (!err && !o.once)
		err = run(&m);
	/* What is in flight, stopped or done, is taken into account. */
	if (m.b.js && !settle_writes(&m) && !err)
		statefile_save(&m);
	if (!err && o.once && m.dirty)
		err = -EIO;
	mirror_log_stats(&m);
	bucket_close(&m.b);
	state_free(&m.st);
	inbox_free(&m.in);
	free(m.buf);
	free(o.servers);
	weave_close(m.w);
	nats_Close();
	return err ? 1 : 0;
}
