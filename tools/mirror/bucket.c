// SPDX-License-Identifier: GPL-2.0
/*
 * The bucket side: a connection to the NATS servers, the key-value
 * bucket, a watcher of all its keys, and writes that name the revision
 * they replace. A write is a JetStream publish on the key's subject with
 * the expected last revision of that subject (none when the key was never
 * in the bucket), which is what the KV API's update-with-revision does;
 * it is done here directly so that deletes take a revision too, so that
 * a conflict is told apart from other errors by its JetStream error code,
 * and so that the write is asynchronous: the event loop never waits for
 * an acknowledgement, which comes to its inbox (inbox.c) like the
 * connection's events. The watcher is read, and its entries applied, by a
 * thread of this file.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

/* How long a write waits for its acknowledgement before it counts as
 * failed (and the key is pushed again by the resync that follows).
 */
#define ACK_WAIT_MS 2000
/* How long the watcher's thread waits in one call; any bound will do. */
#define WATCH_WAIT_MS (3600 * 1000)

static int nats_fail(const char *what, natsStatus s)
{
	const char *text = nats_GetLastError(NULL);

	mlog("%s: %s%s%s", what, natsStatus_GetText(s),
	     text && *text ? ": " : "", text && *text ? text : "");
	return -EIO;
}

static void on_reconnect(natsConnection *nc, void *arg)
{
	struct bucket *b = arg;

	(void)nc;
	inbox_post_kind(b->in, IN_RECONNECTED);
}

static void on_disconnect(natsConnection *nc, void *arg)
{
	struct bucket *b = arg;

	(void)nc;
	if (!__atomic_load_n(&b->closing, __ATOMIC_ACQUIRE))
		mlog("disconnected from the servers; reconnecting");
}

/* The largest value the bucket stores: its streams's max message size
 * and the servers' max payload, whichever is smaller.
 */
static int max_value(struct bucket *b)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	char stream[256];
	natsStatus s;
	int64_t lim;

	snprintf(stream, sizeof(stream), "KV_%s", b->name);
	s = js_GetStreamInfo(&si, b->js, stream, NULL, &jerr);
	if (s != NATS_OK)
		return nats_fail("stream info of the bucket", s);
	lim = natsConnection_GetMaxPayload(b->nc);
	if (si->Config->MaxMsgSize > 0 && si->Config->MaxMsgSize < lim)
		lim = si->Config->MaxMsgSize;
	b->max_value = lim;
	b->created = si->Created;
	jsStreamInfo_Destroy(si);
	return 0;
}

/* Keys are decimal, without sign or leading zeros, and not 0. */
static int parse_key(const char *s, uint64_t *key)
{
	char *end;

	if (*s < '1' || *s > '9')
		return -EINVAL;
	errno = 0;
	*key = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* A write's outcome, on a thread of the client: to the inbox. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
		   void *arg)
{
	struct bucket *b = arg;
	struct inbox_msg *im = calloc(1, sizeof(*im));
	const char *dot = strrchr(natsMsg_GetSubject(msg), '.');

	(void)js;
	if (!im) {
		natsMsg_Destroy(msg);
		inbox_lost(b->in);
		return;
	}
	im->kind = IN_ACK;
	/* The subject is one this file built: $KV.<bucket>.<key>. */
	if (!dot || parse_key(dot + 1, &im->key))
		im->key = 0;
	if (pa) {
		im->seq = pa->Sequence;
	} else {
		im->status = pae ? pae->Err : NATS_ERR;
		im->code = pae ? pae->ErrCode : 0;
		if (im->code == JSStreamWrongLastSequenceErr)
			im->err = -ESTALE;
		else if (im->status == NATS_MAX_PAYLOAD ||
			 im->code == JSStreamMessageExceedsMaximumErr)
			im->err = -EFBIG;
		else
			im->err = -EIO;
	}
	natsMsg_Destroy(msg);
	inbox_post(b->in, im);
}

int bucket_open(struct bucket *b, const struct mirror_opts *o,
		struct inbox *in)
{
	natsOptions *opts = NULL;
	jsOptions jo;
	natsStatus s;

	memset(b, 0, sizeof(*b));
	b->name = o->bucket;
	b->in = in;
	s = natsOptions_Create(&opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(opts, o->servers, o->nservers);
	if (s == NATS_OK && o->creds)
		s = natsOptions_SetUserCredentialsFromFiles(opts, o->creds,
							    NULL);
	/* Never give up: the mirror resyncs once it is back. */
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(opts, 250);
	/* A write goes out at once, not when the client's flusher thread
	 * gets to it: one thread hand-off less on the path of a change.
	 */
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(opts, on_reconnect, b);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(opts, on_disconnect, b);
	if (s != NATS_OK) {
		natsOptions_Destroy(opts);
		return nats_fail("connection options", s);
	}
	s = natsConnection_Connect(&b->nc, opts);
	natsOptions_Destroy(opts);
	if (s != NATS_OK)
		return nats_fail("connecting to the servers", s);
	jsOptions_Init(&jo);
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = b;
	s = natsConnection_JetStream(&b->js, b->nc, &jo);
	if (s != NATS_OK)
		return nats_fail("JetStream", s);
	s = js_KeyValue(&b->kv, b->js, b->name);
	if (s == NATS_NOT_FOUND && o->create) {
		kvConfig cfg;

		kvConfig_Init(&cfg);
		cfg.Bucket = b->name;
		cfg.History = 1;
		cfg.MaxValueSize = o->max_value;
		cfg.Replicas = o->replicas;
		s = js_CreateKeyValue(&b->kv, b->js, &cfg);
		if (s != NATS_OK)
			return nats_fail("creating the bucket", s);
	}
	if (s == NATS_NOT_FOUND) {
		mlog("no bucket named %s", b->name);
		return -ENOENT;
	}
	if (s != NATS_OK)
		return nats_fail("opening the bucket", s);
	return max_value(b);
}

void bucket_close(struct bucket *b)
{
	__atomic_store_n(&b->closing, true, __ATOMIC_RELEASE);
	bucket_unwatch(b);
	kvStore_Destroy(b->kv);
	jsCtx_Destroy(b->js);
	natsConnection_Destroy(b->nc);
	memset(b, 0, sizeof(*b));
}

/* Watch every key from its latest value on: the watcher first gives the
 * latest entry of each key (tombstones included), then a marker, then
 * every change.
 */
int bucket_watch(struct bucket *b)
{
	kvWatchOptions wo;
	natsStatus s;

	bucket_unwatch(b);
	kvWatchOptions_Init(&wo);
	s = kvStore_WatchAll(&b->watcher, b->kv, &wo);
	if (s != NATS_OK)
		return nats_fail("watching the bucket", s);
	return 0;
}

void remote_free(struct remote *r)
{
	kvEntry_Destroy(r->entry);
	r->entry = NULL;
}

/* 1: an entry in *@r; 2: the initial values are all given; 0: nothing
 * within @timeout_ms; -ESHUTDOWN: the watcher was stopped; -errno on
 * failure.
 */
int bucket_next(struct bucket *b, struct remote *r, int64_t timeout_ms)
{
	kvEntry *e;
	natsStatus s;
	kvOperation op;

	for (;;) {
		e = NULL;
		s = kvWatcher_Next(&e, b->watcher, timeout_ms);
		if (s == NATS_TIMEOUT)
			return 0;
		if (s == NATS_ILLEGAL_STATE)
			return -ESHUTDOWN;
		if (s != NATS_OK)
			return nats_fail("watching the bucket", s);
		if (!e)
			return 2;
		memset(r, 0, sizeof(*r));
		if (parse_key(kvEntry_Key(e), &r->key)) {
			mlog("key \"%s\" in the bucket is not a weave key; ignored",
			     kvEntry_Key(e));
			kvEntry_Destroy(e);
			continue;
		}
		op = kvEntry_Operation(e);
		r->entry = e;
		r->rev = kvEntry_Revision(e);
		r->deleted = op == kvOp_Delete || op == kvOp_Purge;
		r->data = kvEntry_Value(e);
		r->len = r->deleted ? 0 : (size_t)kvEntry_ValueLen(e);
		return 1;
	}
}

/* Read the watcher on a thread of its own, until bucket_unwatch() stops
 * it, and apply each entry there (b->apply): handing it to the event
 * loop would put one more thread hand-off on the path of every change
 * from another host. The end of a new watch's initial entries and a
 * failure go to the inbox; a failure ends the thread.
 */
static void *watch_main(void *arg)
{
	struct bucket *b = arg;
	struct remote r;
	int ret;

	for (;;) {
		ret = bucket_next(b, &r, WATCH_WAIT_MS);
		if (ret == 0)
			continue;
		if (ret == -ESHUTDOWN)
			return NULL;
		if (ret == 1) {
			ret = b->apply(b->apply_arg, &r);
			remote_free(&r);
			if (!ret)
				continue;
			inbox_post_error(b->in, ret);
			return NULL;
		}
		inbox_post_kind(b->in, ret == 2 ? IN_SYNCED : IN_WATCH_FAILED);
		if (ret < 0)
			return NULL;
	}
}

/* Hand the watcher, from where bucket_next() left it, to a thread. */
int bucket_start(struct bucket *b)
{
	int err = pthread_create(&b->thread, NULL, watch_main, b);

	if (err) {
		mlog("cannot start the watcher's thread: %s", strerror(err));
		return -err;
	}
	b->threaded = true;
	return 0;
}

/* Stop watching: the thread, if any, then the watcher. */
void bucket_unwatch(struct bucket *b)
{
	if (!b->watcher)
		return;
	if (b->threaded) {
		kvWatcher_Stop(b->watcher);
		pthread_join(b->thread, NULL);
		b->threaded = false;
	}
	kvWatcher_Destroy(b->watcher);
	b->watcher = NULL;
}

bool bucket_connected(struct bucket *b)
{
	return natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED;
}

/* Send @key's value (or its deletion, @del) to the bucket, to be stored
 * only when the key's latest revision there is @last (0: the key was
 * never written); the outcome comes to the inbox as an IN_ACK with the
 * new revision, -ESTALE (the bucket has a newer one), -EFBIG or -EIO.
 * Returns 0 when sent; -EFBIG: the value is larger than the bucket
 * takes; -ENOTCONN: not connected now; -EIO: anything else (logged).
 */
int bucket_write(struct bucket *b, uint64_t key, const void *data,
		 size_t len, bool del, uint64_t last)
{
	jsPubOptions po;
	natsMsg *msg = NULL;
	char subj[300];
	natsStatus s;

	if (len > b->max_value)
		return -EFBIG;
	if (!bucket_connected(b))
		return -ENOTCONN;
	snprintf(subj, sizeof(subj), "$KV.%s.%" PRIu64, b->name, key);
	s = natsMsg_Create(&msg, subj, NULL, del ? NULL : data,
			   del ? 0 : (int)len);
	if (s == NATS_OK && del)
		s = natsMsgHeader_Set(msg, "KV-Operation", "DEL");
	if (s != NATS_OK) {
		natsMsg_Destroy(msg);
		return nats_fail("building a message", s);
	}
	jsPubOptions_Init(&po);
	po.MaxWait = ACK_WAIT_MS;
	if (last)
		po.ExpectLastSubjectSeq = last;
	else
		po.ExpectNoMessage = true;
	s = js_PublishMsgAsync(b->js, &msg, &po);
	/* NULL when the client took it. */
	natsMsg_Destroy(msg);
	if (s == NATS_OK)
		return 0;
	if (s == NATS_MAX_PAYLOAD)
		return -EFBIG;
	return nats_fail("writing to the bucket", s);
}

/* Wait up to @timeout_ms for the acknowledgements of writes in flight. */
void bucket_drain(struct bucket *b, int64_t timeout_ms)
{
	jsPubOptions po;

	if (!b->js)
		return;
	jsPubOptions_Init(&po);
	po.MaxWait = timeout_ms;
	js_PublishAsyncComplete(b->js, &po);
}
