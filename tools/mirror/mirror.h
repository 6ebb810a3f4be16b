/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave-mirror: keeps a weave registry and a NATS JetStream key-value
 * bucket in step. See weave-mirror(8) for the consistency model.
 *
 * state.c	what the mirror last agreed on, per key (revision, gen)
 * bucket.c	the bucket: connect, watch, write with an expected revision
 * sync.c	the rules: a local change to the bucket, a bucket change to
 *		the registry, the initial sync and the resync
 * main.c	options, signals and the event loop
 */
#ifndef WEAVE_MIRROR_H
#define WEAVE_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

struct weave;

enum mirror_init { INIT_BUCKET_WINS, INIT_LOCAL_WINS, INIT_FAIL };

struct mirror_opts {
	const char *bucket;
	const char *registry;
	const char *creds;
	const char **servers;
	int nservers;
	bool push;			/* local changes go to the bucket */
	bool pull;			/* bucket changes come to the registry */
	enum mirror_init init;
	bool once;
	bool create;			/* create the bucket when missing */
	int32_t max_value;		/* its max value size (-1: none) */
	int replicas;			/* and its replicas */
};

/* state.c: per key, the bucket revision and the local gen last in step. */
struct key_state {
	uint64_t key;			/* 0: free slot */
	uint64_t rev;			/* 0: never seen in the bucket */
	uint64_t gen;			/* 0: absent locally when in step */
};

struct state {
	struct key_state *slots;
	size_t cap;			/* a power of two */
	size_t used;
};

int state_init(struct state *st);
void state_free(struct state *st);
struct key_state *state_get(struct state *st, uint64_t key);

/* bucket.c */
struct remote {
	uint64_t key;
	uint64_t rev;
	bool deleted;
	const void *data;
	size_t len;
	kvEntry *entry;			/* owns data; remote_free() */
};

struct bucket {
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
	kvWatcher *watcher;
	const char *name;
	size_t max_value;		/* largest value the bucket takes */
	volatile int reconnected;	/* set by the client's thread */
};

int bucket_open(struct bucket *b, const struct mirror_opts *o);
void bucket_close(struct bucket *b);
int bucket_watch(struct bucket *b);
int bucket_next(struct bucket *b, struct remote *r, int64_t timeout_ms);
int bucket_get(struct bucket *b, uint64_t key, struct remote *r);
int bucket_write(struct bucket *b, uint64_t key, const void *data,
		 size_t len, bool del, uint64_t last, uint64_t *rev);
void remote_free(struct remote *r);

/* sync.c */
struct mirror {
	const struct mirror_opts *o;
	struct weave *w;
	struct bucket b;
	struct state st;
	unsigned char *buf;
	size_t buf_size;
	bool dirty;			/* a push failed: resync later */
	uint64_t pushed, pulled, conflicts, refused;
};

int mirror_initial_sync(struct mirror *m);
int mirror_apply_remote(struct mirror *m, const struct remote *r);
int mirror_push_local(struct mirror *m, uint64_t key);
int mirror_resync_local(struct mirror *m);
void mirror_log_stats(const struct mirror *m);

void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* WEAVE_MIRROR_H */
