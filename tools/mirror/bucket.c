// SPDX-License-Identifier: GPL-2.0
/*
 * The bucket side: a connection to the NATS servers, the key-value
 * bucket, a watcher of all its keys, and writes that name the revision
 * they replace. A write is a JetStream publish on the key's subject with
 * the expected last revision of that subject (none when the key was never
 * in the bucket), which is what the KV API's update-with-revision does;
 * it is done here directly so that deletes take a revision too and a
 * conflict is told apart from other errors by its JetStream error code.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror.h"

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
	__atomic_store_n(&b->reconnected, 1, __ATOMIC_RELEASE);
}

static void on_disconnect(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
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
	jsStreamInfo_Destroy(si);
	return 0;
}

int bucket_open(struct bucket *b, const struct mirror_opts *o)
{
	natsOptions *opts = NULL;
	natsStatus s;

	memset(b, 0, sizeof(*b));
	b->name = o->bucket;
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
	s = natsConnection_JetStream(&b->js, b->nc, NULL);
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
	kvWatcher_Destroy(b->watcher);
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

	kvWatcher_Destroy(b->watcher);
	b->watcher = NULL;
	kvWatchOptions_Init(&wo);
	s = kvStore_WatchAll(&b->watcher, b->kv, &wo);
	if (s != NATS_OK)
		return nats_fail("watching the bucket", s);
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

void remote_free(struct remote *r)
{
	kvEntry_Destroy(r->entry);
	r->entry = NULL;
}

/* 1: an entry in *@r; 2: the initial values are all given; 0: nothing
 * within @timeout_ms; -errno on failure.
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

/* Write @key's value (or its deletion, @del) to the bucket only when the
 * key's latest revision there is @last (0: the key was never written);
 * *@rev gets the new revision. -ESTALE: the bucket has a newer revision;
 * -EFBIG: the value is larger than the bucket takes; -EIO: anything else
 * (logged), such as a lost connection.
 */
int bucket_write(struct bucket *b, uint64_t key, const void *data,
		 size_t len, bool del, uint64_t last, uint64_t *rev)
{
	jsPubAck *pa = NULL;
	jsPubOptions po;
	jsErrCode jerr = 0;
	natsMsg *msg = NULL;
	char subj[300];
	natsStatus s;

	if (len > b->max_value)
		return -EFBIG;
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
	if (last)
		po.ExpectLastSubjectSeq = last;
	else
		po.ExpectNoMessage = true;
	s = js_PublishMsg(&pa, b->js, msg, &po, &jerr);
	natsMsg_Destroy(msg);
	if (s == NATS_OK) {
		*rev = pa->Sequence;
		jsPubAck_Destroy(pa);
		return 0;
	}
	if (jerr == JSStreamWrongLastSequenceErr)
		return -ESTALE;
	if (s == NATS_MAX_PAYLOAD || jerr == JSStreamMessageExceedsMaximumErr)
		return -EFBIG;
	return nats_fail("writing to the bucket", s);
}
