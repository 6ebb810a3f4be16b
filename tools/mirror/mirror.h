/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave-mirror: keeps a weave registry and a NATS JetStream key-value
 * bucket in step. See weave-mirror(8) for the consistency model.
 *
 * state.c	what the mirror last agreed on, per key (revision, gen)
 * statefile.c	that, saved to a file and read back at start
 * inbox.c	what the client's threads hand to the event loop
 * bucket.c	the bucket: connect, watch, write with an expected revision
 * sync.c	the rules: a local change to the bucket, a bucket change to
 *		the registry, the initial sync and the resync
 * main.c	options, signals and the event loop
 */
#ifndef WEAVE_MIRROR_H
#define WEAVE_MIRROR_H

#include <pthread.h>
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
	const char *state_file;		/* NULL: no state across restarts */
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

/* bucket.c */
struct remote {
	uint64_t key;
	uint64_t rev;
	bool deleted;
	const void *data;
	size_t len;
	kvEntry *entry;			/* owns data; remote_free() */
};

/* state.c: per key, the bucket revision and the local gen last in step,
 * and the write to the bucket awaiting its acknowledgement, if any.
 */
struct key_state {
	uint64_t key;			/* 0: free slot */
	uint64_t rev;			/* 0: never seen in the bucket */
	uint64_t gen;			/* 0: absent locally when in step */
	uint64_t sent_gen;		/* the gen of the value in flight */
	struct remote *held;		/* the newest entry that came meanwhile */
	bool inflight;			/* a write awaits its acknowledgement */
	bool again;			/* the key changed again meanwhile */
};

struct state {
	struct key_state *slots;
	size_t cap;			/* a power of two */
	size_t used;
};

int state_init(struct state *st);
void state_free(struct state *st);
struct key_state *state_get(struct state *st, uint64_t key);

/* inbox.c: messages from the client's threads to the event loop, which
 * an eventfd wakes.
 */
enum inbox_kind {
	IN_SYNCED,			/* a new watch gave every key's entry */
	IN_WATCH_FAILED,		/* the watcher failed: watch again */
	IN_FAILED,			/* applying an entry failed: exit */
	IN_ACK,				/* a write was acknowledged, or failed */
	IN_RECONNECTED,			/* the connection is back */
};

struct inbox_msg {
	struct inbox_msg *next;
	enum inbox_kind kind;
	uint64_t key;			/* IN_ACK: the key written, */
	uint64_t seq;			/* its new revision, */
	int err;			/* or -ESTALE, -EFBIG, -EIO; IN_FAILED */
	natsStatus status;		/* with the client's status */
	jsErrCode code;			/* and JetStream's error code */
};

struct inbox {
	pthread_mutex_t lock;
	struct inbox_msg *head, **tail;
	int efd;			/* readable when something is posted */
	bool lost;			/* a message could not be allocated */
};

int inbox_init(struct inbox *in);
void inbox_free(struct inbox *in);
void inbox_post(struct inbox *in, struct inbox_msg *msg);
void inbox_post_kind(struct inbox *in, enum inbox_kind kind);
void inbox_post_error(struct inbox *in, int err);
void inbox_lost(struct inbox *in);
void inbox_wake(struct inbox *in);
struct inbox_msg *inbox_take(struct inbox *in, bool *lost);
void inbox_msg_free(struct inbox_msg *msg);

struct bucket {
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
	kvWatcher *watcher;
	pthread_t thread;		/* reads the watcher, and */
	int (*apply)(void *arg, struct remote *r);	/* applies each entry */
	void *apply_arg;
	bool threaded;
	bool closing;			/* a disconnection is no news */
	struct inbox *in;
	const char *name;
	size_t max_value;		/* largest value the bucket takes */
	int64_t created;		/* the bucket's stream's creation time */
};

int bucket_open(struct bucket *b, const struct mirror_opts *o,
		struct inbox *in);
void bucket_close(struct bucket *b);
int bucket_watch(struct bucket *b);
int bucket_start(struct bucket *b);
void bucket_unwatch(struct bucket *b);
int bucket_next(struct bucket *b, struct remote *r, int64_t timeout_ms);
bool bucket_connected(struct bucket *b);
int bucket_write(struct bucket *b, uint64_t key, const void *data,
		 size_t len, bool del, uint64_t last);
void bucket_drain(struct bucket *b, int64_t timeout_ms);
void remote_free(struct remote *r);

/* sync.c */
/* The event loop and the watcher's thread share it all, under @lock. */
struct mirror {
	pthread_mutex_t lock;
	const struct mirror_opts *o;
	struct weave *w;
	uint64_t registry_id;
	struct bucket b;
	struct inbox in;
	struct state st;
	unsigned char *buf;
	size_t buf_size;
	size_t inflight;		/* keys whose write awaits its ack */
	bool dirty;			/* a push could not go: resync later */
	int64_t save_at;		/* when to save the state (0: saved) */
	uint64_t pushed, pulled, conflicts, refused;
};

int mirror_initial_sync(struct mirror *m);
int mirror_remote(struct mirror *m, struct remote *r);
int mirror_ack(struct mirror *m, const struct inbox_msg *msg);
int mirror_push_local(struct mirror *m, uint64_t key);
int mirror_resync_local(struct mirror *m);
void mirror_forget_inflight(struct mirror *m);
void mirror_log_stats(const struct mirror *m);

/* statefile.c */
int statefile_load(struct mirror *m);
int statefile_save(const struct mirror *m);

void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* WEAVE_MIRROR_H */
