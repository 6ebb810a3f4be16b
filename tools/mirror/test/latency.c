// SPDX-License-Identifier: GPL-2.0
/*
 * latency: the cross-host figure of make bench (tools/mirror/test/bench
 * runs it in the VM). One sample of the mirror: set a key in host A's
 * registry, then wait until host B's registry has the new value, told
 * by its events (poll(2) on the registry, as a user would), the mirrors
 * of A and B in between. One sample of the baseline: publish a message
 * on a connection to one NATS server, then wait until a subscriber
 * connected to another server of the same cluster has it.
 *
 * Where the mirror's time goes, two more kinds of samples, without
 * mirrors, on a bucket of their own with the same replicas: "kv", a
 * plain publish to a key's subject on one server until a watcher of
 * the key on the other server has the entry (what JetStream takes to
 * store, replicate and deliver); "ack", a JetStream publish until its
 * acknowledgement (the round trip of a write's acknowledgement).
 *
 * The hosts are IPC namespaces: the program opens A's registry in A's
 * namespace and B's in B's (setns(2) to each in turn; a descriptor
 * stays valid across it). REPS repetitions of SAMPLES samples each, the
 * mirror's and the baseline's alternating; a repetition's figure is the
 * median of its samples. Prints the bench's records (tools/bench/bench.c
 * describes them): FIG 11 and PAIR 11 in ms, and INFO lines with the
 * medians of all samples of each kind in ns.
 *
 * Usage: latency PID_A PID_B REGISTRY URL_A URL_B REPLICAS REPS SAMPLES
 *   PID_A, PID_B: a process in each host's IPC namespace;
 *   URL_A, URL_B: the servers the mirrors of A and B use;
 *   REPLICAS: of the mirrors' bucket, for the kv bucket.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>
#include <weave.h>

#define KEY 1
#define SUBJECT "weave.bench.latency"
#define KV_BUCKET "weave_bench_kv"
#define KV_SUBJECT "$KV." KV_BUCKET ".1"
#define ACK_SUBJECT "$KV." KV_BUCKET ".2"
#define WAIT_MS 10000
#define MAX_SAMPLES 1000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "latency: %s: %s\n", what, why);
	exit(1);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct weave *open_in(const char *pid, const char *reg)
{
	char path[64];
	struct weave *w;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%s/ns/ipc", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWIPC))
		die(path, strerror(errno));
	close(fd);
	err = weave_open(reg, 0, 0, &w);
	if (err)
		die(reg, strerror(-err));
	return w;
}

/* Until @w's key KEY holds @val: its events, then a get each time. */
static void wait_value(struct weave *w, const char *val, size_t len)
{
	struct pollfd pfd = { .fd = weave_fd(w), .events = POLLIN };
	struct weave_event ev[16];
	char buf[64];
	ssize_t n;

	for (;;) {
		n = weave_get(w, KEY, buf, sizeof(buf), NULL);
		if (n == (ssize_t)len && !memcmp(buf, val, len))
			return;
		if (poll(&pfd, 1, WAIT_MS) != 1)
			die("host B", "no event within 10 s");
		while ((n = weave_events(w, ev, 16, 0)) > 0)
			;
		if (n < 0)
			die("host B's events", strerror((int)-n));
	}
}

static double mirror_sample(struct weave *a, struct weave *b, unsigned int i)
{
	char val[32];
	int len = snprintf(val, sizeof(val), "%u", i);
	double t0 = now_ns();
	int err = weave_set(a, KEY, val, len);

	if (err)
		die("set on host A", strerror(-err));
	wait_value(b, val, len);
	return now_ns() - t0;
}

static double nats_sample(natsConnection *pub, natsSubscription *sub,
			  unsigned int i)
{
	char val[32];
	int len = snprintf(val, sizeof(val), "%u", i);
	double t0 = now_ns();
	natsStatus s = natsConnection_Publish(pub, SUBJECT, val, len);
	natsMsg *msg = NULL;

	if (s != NATS_OK)
		die("publish", natsStatus_GetText(s));
	for (;;) {
		s = natsSubscription_NextMsg(&msg, sub, WAIT_MS);
		if (s != NATS_OK)
			die("subscriber", natsStatus_GetText(s));
		if (natsMsg_GetDataLength(msg) == len &&
		    !memcmp(natsMsg_GetData(msg), val, len))
			break;
		natsMsg_Destroy(msg);
	}
	natsMsg_Destroy(msg);
	return now_ns() - t0;
}

static double kv_sample(natsConnection *pub, kvWatcher *w, unsigned int i)
{
	char val[32];
	int len = snprintf(val, sizeof(val), "%u", i);
	double t0 = now_ns();
	natsStatus s = natsConnection_Publish(pub, KV_SUBJECT, val, len);
	kvEntry *e;

	if (s != NATS_OK)
		die("kv publish", natsStatus_GetText(s));
	for (;;) {
		e = NULL;
		s = kvWatcher_Next(&e, w, WAIT_MS);
		if (s != NATS_OK)
			die("kv watcher", natsStatus_GetText(s));
		if (e && kvEntry_ValueLen(e) == len &&
		    !memcmp(kvEntry_Value(e), val, len))
			break;
		kvEntry_Destroy(e);
	}
	kvEntry_Destroy(e);
	return now_ns() - t0;
}

static double ack_sample(jsCtx *js, unsigned int i)
{
	char val[32];
	int len = snprintf(val, sizeof(val), "%u", i);
	double t0 = now_ns();
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_Publish(&pa, js, ACK_SUBJECT, val, len, NULL, &jerr);

	if (s != NATS_OK)
		die("JetStream publish", natsStatus_GetText(s));
	jsPubAck_Destroy(pa);
	return now_ns() - t0;
}

/* The kv bucket, made on @pub's side, watched on @subc's: its key 1,
 * past the initial value.
 */
static kvWatcher *kv_setup(natsConnection *pub, natsConnection *subc,
			   int replicas, jsCtx **js)
{
	jsCtx *js2 = NULL;
	kvStore *kv = NULL, *kv2 = NULL;
	kvWatcher *w = NULL;
	kvEntry *e;
	kvConfig cfg;
	natsStatus s;

	s = natsConnection_JetStream(js, pub, NULL);
	if (s == NATS_OK) {
		kvConfig_Init(&cfg);
		cfg.Bucket = KV_BUCKET;
		cfg.History = 1;
		cfg.Replicas = replicas;
		s = js_CreateKeyValue(&kv, *js, &cfg);
	}
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js2, subc, NULL);
	if (s == NATS_OK)
		s = js_KeyValue(&kv2, js2, KV_BUCKET);
	if (s == NATS_OK)
		s = kvStore_Watch(&w, kv2, "1", NULL);
	while (s == NATS_OK) {
		e = NULL;
		s = kvWatcher_Next(&e, w, WAIT_MS);
		if (!e)
			break;
		kvEntry_Destroy(e);
	}
	if (s != NATS_OK)
		die("the kv bucket", natsStatus_GetText(s));
	/* The watcher keeps what it needs of the store and the context. */
	return w;
}

/* Sending at once, as the mirror does. */
static natsConnection *connect_to(const char *url)
{
	natsConnection *nc = NULL;
	natsOptions *opts = NULL;
	natsStatus s = natsOptions_Create(&opts);

	if (s == NATS_OK)
		s = natsOptions_SetURL(opts, url);
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(opts, true);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, opts);
	natsOptions_Destroy(opts);
	if (s != NATS_OK)
		die(url, natsStatus_GetText(s));
	return nc;
}

static void info(const char *name, const char *what, double *v, int n)
{
	printf("INFO\t%s\t%d samples: median %.0f ns %s\n", name, n,
	       median(v, n), what);
}

int main(int argc, char **argv)
{
	static double all_w[64 * MAX_SAMPLES], all_b[64 * MAX_SAMPLES];
	static double all_k[64 * MAX_SAMPLES], all_a[64 * MAX_SAMPLES];
	double wv[64], bv[64], rv[64], sw[MAX_SAMPLES], sb[MAX_SAMPLES];
	int reps, samples, replicas, r, k, nw = 0, nb = 0, nk = 0, na = 0;
	natsConnection *pub, *subc;
	natsSubscription *sub;
	struct weave *a, *b;
	unsigned int seq = 0;
	kvWatcher *kw;
	jsCtx *js;
	natsStatus s;

	if (argc != 9) {
		fputs("usage: latency PID_A PID_B REGISTRY URL_A URL_B REPLICAS "
		      "REPS SAMPLES\n", stderr);
		return 2;
	}
	replicas = atoi(argv[6]);
	reps = atoi(argv[7]);
	samples = atoi(argv[8]);
	if (replicas < 1 || reps < 1 || reps > 64 || samples < 1 ||
	    samples > MAX_SAMPLES)
		die("REPLICAS, REPS and SAMPLES", "1 or more, 1 to 64, 1 to 1000");
	a = open_in(argv[1], argv[3]);
	b = open_in(argv[2], argv[3]);
	s = weave_watch(b, KEY, WEAVE_EV_NEW | WEAVE_EV_CHANGED, 0);
	if (s)
		die("watch on host B", strerror(-(int)s));
	pub = connect_to(argv[4]);
	subc = connect_to(argv[5]);
	s = natsConnection_SubscribeSync(&sub, subc, SUBJECT);
	if (s == NATS_OK)
		s = natsConnection_Flush(subc);
	if (s != NATS_OK)
		die("subscribe", natsStatus_GetText(s));
	kw = kv_setup(pub, subc, replicas, &js);
	/* The subscription reaches the other server a moment later; and the
	 * first samples of each kind warm the path up. Not counted.
	 */
	for (k = 0; k < 5; k++) {
		mirror_sample(a, b, ++seq);
		nats_sample(pub, sub, ++seq);
		kv_sample(pub, kw, ++seq);
		ack_sample(js, ++seq);
	}
	for (r = 0; r < reps; r++) {
		for (k = 0; k < samples; k++)
			all_w[nw++] = sw[k] = mirror_sample(a, b, ++seq);
		for (k = 0; k < samples; k++)
			all_b[nb++] = sb[k] = nats_sample(pub, sub, ++seq);
		for (k = 0; k < samples / 2; k++) {
			all_k[nk++] = kv_sample(pub, kw, ++seq);
			all_a[na++] = ack_sample(js, ++seq);
		}
		wv[r] = median(sw, samples);
		bv[r] = median(sb, samples);
		rv[r] = wv[r] / bv[r];
		printf("# rep %d: mirror %.0f ns, nats %.0f ns\n", r, wv[r],
		       bv[r]);
		fflush(stdout);
	}
	info("mirror_samples", "set on A -> value on B through the mirrors",
	     all_w, nw);
	info("mirror_nats", "NATS publish on server 1 -> subscriber on 2",
	     all_b, nb);
	info("mirror_kv", "publish to a key of a bucket like the mirrors' on "
	     "server 1 -> its watcher on 2 (no mirror)", all_k, nk);
	info("mirror_ack", "JetStream publish to that bucket -> its "
	     "acknowledgement", all_a, na);
	/* Medians first: median() sorts, min and max are then the ends. */
	printf("FIG\t11\tms\tlo\t%.6g\t", median(wv, reps) / 1e6);
	printf("%.6g\t%.6g\t", wv[0] / 1e6, wv[reps - 1] / 1e6);
	printf("%.6g\t", median(bv, reps) / 1e6);
	printf("%.6g\t%.6g\tr<=2\tset on host A -> value on host B through "
	       "weave-mirror and a 3-server JetStream cluster (R%d bucket) vs "
	       "NATS publish -> subscriber across the same two servers\n",
	       bv[0] / 1e6, bv[reps - 1] / 1e6, replicas);
	printf("PAIR\t11\t%.4f\t", median(rv, reps));
	printf("%.4f\t%.4f\n", rv[0], rv[reps - 1]);
	kvWatcher_Destroy(kw);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(pub);
	natsConnection_Destroy(subc);
	weave_close(a);
	weave_close(b);
	nats_Close();
	return 0;
}
