// SPDX-License-Identifier: GPL-2.0
/*
 * weave-mirror: options, signals and the event loop. One thread: it
 * drains the registry's events (pushing each changed key), then waits a
 * little for the bucket's watcher (applying what comes), and again.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <weave.h>

#include "mirror.h"

/* How long one turn waits for the bucket; bounds a local change's delay. */
#define TURN_MS 5
#define RETRY_MS 500

static volatile sig_atomic_t stop, want_stats;

void mlog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("weave-mirror: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		stop = 1;
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
	}
	return n < 0 ? (int)n : resync;
}

static int run(struct mirror *m)
{
	int64_t last_retry = 0;
	bool rewatch = false;
	struct remote r;
	int err;

	while (!stop) {
		if (want_stats) {
			want_stats = 0;
			mirror_log_stats(m);
		}
		if (__atomic_exchange_n(&m->b.reconnected, 0, __ATOMIC_ACQ_REL)) {
			mlog("reconnected; resyncing");
			rewatch = true;
		}
		if (rewatch && now_ms() - last_retry >= RETRY_MS) {
			last_retry = now_ms();
			/* Gives every key's latest entry again: the mirror
			 * applies those it has not seen.
			 */
			rewatch = bucket_watch(&m->b) != 0;
			if (!rewatch)
				m->dirty = true;
		}
		err = drain_local(m);
		if (err < 0) {
			mlog("registry events: %s", strerror(-err));
			return err;
		}
		if (err > 0)
			m->dirty = true;
		if (m->dirty && !rewatch && now_ms() - last_retry >= RETRY_MS) {
			last_retry = now_ms();
			err = mirror_resync_local(m);
			if (err)
				return err;
		}
		if (rewatch || !m->b.watcher)
			continue;
		err = bucket_next(&m->b, &r, TURN_MS);
		if (err < 0) {
			rewatch = true;
			continue;
		}
		if (err != 1)
			continue;
		err = mirror_apply_remote(m, &r);
		remote_free(&r);
		if (err)
			return err;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct mirror_opts o;
	struct mirror m = { .o = &o };
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	parse_opts(argc, argv, &o);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	err = weave_open(o.registry, WEAVE_OPEN_CREATE | WEAVE_OPEN_PERSIST,
			 0600, &m.w);
	if (err) {
		mlog("registry %s: %s", o.registry, strerror(-err));
		return 1;
	}
	err = weave_watch(m.w, 0, WEAVE_EV_NEW | WEAVE_EV_CHANGED |
			  WEAVE_EV_RESIZED | WEAVE_EV_DELETED |
			  WEAVE_EV_CLEARED, WEAVE_WATCH_NO_SELF);
	if (!err)
		err = state_init(&m.st);
	if (!err)
		err = bucket_open(&m.b, &o);
	if (!err)
		mlog("%s <-> bucket %s (max value %zu bytes)", o.registry,
		     o.bucket, m.b.max_value);
	/* Events from here on are also seen by the initial sync's reads. */
	if (!err)
		err = mirror_initial_sync(&m);
	if (err == -EEXIST)
		mlog("initial sync failed: the registry and the bucket differ");
	else if (err)
		mlog("initial sync failed: %s", strerror(-err));
	if (!err && !o.once)
		err = run(&m);
	if (!err && o.once && m.dirty)
		err = -EIO;
	mirror_log_stats(&m);
	bucket_close(&m.b);
	state_free(&m.st);
	free(m.buf);
	free(o.servers);
	weave_close(m.w);
	nats_Close();
	return err ? 1 : 0;
}
