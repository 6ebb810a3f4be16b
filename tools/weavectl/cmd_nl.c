// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl: list, show and monitor, over the "weave" generic netlink
 * family (nl.c).
 *
 * Names go through escape.c: in text, control characters, backslashes
 * and invalid UTF-8 are escaped, so that one registry is one line, tabs
 * separate -p's fields and nothing reaches a terminal raw; JSON adds a
 * "name_hex" member when a name is not valid UTF-8. An anonymous
 * registry shows as "(anonymous)" in text and null in JSON.
 *
 * Their rows in the command table, their options and their usage
 * errors are weavectl.c's, as for every command.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "escape.h"
#include "nl.h"
#include "weavectl.h"

static int nl_open(const char *cmd, struct wnl **nl)
{
	int ret = wnl_open(nl);

	if (ret == -ENOENT)
		return ctl_fail(0, "%s: the weave netlink family is missing (is weave.ko loaded?)",
				cmd);
	if (ret)
		return ctl_fail(ret, "%s: netlink", cmd);
	return 0;
}

/* 1..WEAVE_NAME_MAX bytes, no '/'. */
static bool nl_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len && len <= WEAVE_NAME_MAX && !strchr(name, '/');
}

/* ---- output helpers ------------------------------------------------------ */

/* 1536 -> "1.5K"; exact with -p. */
static const char *hsize(uint64_t v, bool parsable, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (parsable || v < 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	while (d >= 1023.95 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", d, units[u]);
	return buf;
}

static const char *reg_flags(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s",
		 flags & WEAVE_INFO_PERSIST ? "persistent" : "",
		 (flags & WEAVE_INFO_PERSIST) && (flags & WEAVE_INFO_UNLINKED) ?
		 "," : "",
		 flags & WEAVE_INFO_UNLINKED ? "unlinked" : "");
	if (!*buf)
		snprintf(buf, len, "-");
	return buf;
}

static void json_flags(FILE *f, uint32_t flags)
{
	bool first = true;

	fputc('[', f);
	if (flags & WEAVE_INFO_PERSIST) {
		fputs("\"persistent\"", f);
		first = false;
	}
	if (flags & WEAVE_INFO_UNLINKED)
		fprintf(f, "%s\"unlinked\"", first ? "" : ",");
	fputc(']', f);
}

/* "name": a string, or null for an anonymous registry. */
static void json_name(FILE *f, bool has_name, const char *name)
{
	if (has_name)
		escape_json_member(f, "name", name);
	else
		fputs("\"name\":null", f);
}

/* The fields of a registry, inside a JSON object. */
static void json_reg_fields(FILE *f, const struct wnl_reg *r)
{
	json_name(f, r->has_name, r->name);
	fprintf(f, ",\"id\":%" PRIu64 ",\"uid\":%" PRIu32 ",\"gid\":%" PRIu32
		",\"mode\":\"%04" PRIo32 "\",\"flags\":",
		r->id, r->uid, r->gid, r->mode);
	json_flags(f, r->flags);
	fprintf(f, ",\"entries\":%" PRIu64 ",\"bytes\":%" PRIu64
		",\"charged\":%" PRIu64 ",\"max_entries\":%" PRIu64
		",\"files\":%" PRIu32 ",\"mappings\":%" PRIu32
		",\"watchers\":%" PRIu32,
		r->entries, r->bytes, r->charged, r->max_entries, r->files,
		r->mappings, r->watchers);
	if (r->has_usage)
		fprintf(f, ",\"max_entry_size\":%" PRIu64 ",\"max_bytes\":%"
			PRIu64 ",\"creator\":%" PRIu32
			",\"user_registries\":%" PRIu32
			",\"user_max_registries\":%" PRIu32
			",\"ns_registries\":%" PRIu32
			",\"ns_max_registries\":%" PRIu32,
			r->max_entry_size, r->max_bytes, r->creator,
			r->user_registries, r->user_max, r->ns_registries,
			r->ns_max);
}

static int flush_stdout(const char *cmd)
{
	if (fflush(stdout) || ferror(stdout))
		return ctl_fail(-errno, "%s: write", cmd);
	return EXIT_SUCCESS;
}

/* ---- list ------------------------------------------------------------------ */

struct reg_vec {
	struct wnl_reg *v;
	size_t n, cap;
};

static int reg_collect(const struct wnl_reg *r, void *arg)
{
	struct reg_vec *rv = arg;
	struct wnl_reg *nv;

	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 16;
		nv = realloc(rv->v, rv->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		rv->v = nv;
	}
	rv->v[rv->n++] = *r;
	return 0;
}

static void list_text(const struct reg_vec *rv, bool parsable)
{
	char b1[32], b2[32], fl[32];
	size_t i;

	if (!parsable)
		printf("%-20s %6s %6s %6s %4s %-10s %8s %8s %8s %5s %4s %8s\n",
		       "NAME", "ID", "UID", "GID", "MODE", "FLAGS", "ENTRIES",
		       "BYTES", "CHARGED", "FILES", "MAPS", "WATCHERS");
	for (i = 0; i < rv->n; i++) {
		const struct wnl_reg *r = &rv->v[i];
		size_t w;

		if (r->has_name)
			w = escape_text(stdout, r->name);
		else
			w = (size_t)printf("(anonymous)");
		if (parsable) {
			printf("\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu32 "\t%04" PRIo32
			       "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu32
			       "\t%" PRIu32 "\t%" PRIu32 "\n",
			       r->id, r->uid, r->gid, r->mode,
			       reg_flags(r->flags, fl, sizeof(fl)), r->entries,
			       r->bytes, r->charged, r->files, r->mappings,
			       r->watchers);
			continue;
		}
		/* Pad the (escaped) name to the column's width. */
		printf("%*s %6" PRIu64 " %6" PRIu32 " %6" PRIu32 " %04" PRIo32
		       " %-10s %8" PRIu64 " %8s %8s %5" PRIu32 " %4" PRIu32
		       " %8" PRIu32 "\n",
		       w < 20 ? (int)(20 - w) : 0, "", r->id, r->uid, r->gid,
		       r->mode, reg_flags(r->flags, fl, sizeof(fl)), r->entries,
		       hsize(r->bytes, false, b1, sizeof(b1)),
		       hsize(r->charged, false, b2, sizeof(b2)), r->files,
		       r->mappings, r->watchers);
	}
}

static void list_json(const struct reg_vec *rv)
{
	size_t i;

	fputs("{\"registries\":[", stdout);
	for (i = 0; i < rv->n; i++) {
		fputs(i ? ",{" : "{", stdout);
		json_reg_fields(stdout, &rv->v[i]);
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

int cmd_list(const struct ctl_opts *o, int argc, char **argv)
{
	struct reg_vec rv = { 0 };
	struct wnl *nl;
	int ret;

	(void)argc;
	(void)argv;
	ret = nl_open("list", &nl);
	if (ret)
		return ret;
	ret = wnl_reg_get(nl, NULL, reg_collect, &rv);
	wnl_close(nl);
	if (ret) {
		free(rv.v);
		return ctl_fail(ret, "list");
	}
	if (o->flags & CTL_JSON)
		list_json(&rv);
	else
		list_text(&rv, o->flags & CTL_PARSABLE);
	free(rv.v);
	return flush_stdout("list");
}

/* ---- show ------------------------------------------------------------------ */

struct ent_vec {
	struct wnl_entry *v;
	size_t n, cap;
};

static int ent_collect(const struct wnl_entry *e, void *arg)
{
	struct ent_vec *ev = arg;
	struct wnl_entry *nv;

	if (ev->n == ev->cap) {
		ev->cap = ev->cap ? ev->cap * 2 : 64;
		nv = realloc(ev->v, ev->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		ev->v = nv;
	}
	ev->v[ev->n++] = *e;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct wnl_entry *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int reg_one(const struct wnl_reg *r, void *arg)
{
	struct wnl_reg *out = arg;

	if (out->id)
		return -EBADMSG;	/* one reply expected */
	*out = *r;
	return 0;
}

static const char *lock_mode(uint32_t lock)
{
	return !lock ? "free" : lock & WEAVE_SLOT_LOCK_EXCL ? "exclusive" :
	       "shared";
}

static uint32_t lock_count(uint32_t lock)
{
	return lock & WEAVE_SLOT_LOCK_EXCL ? 1 : lock & WEAVE_SLOT_LOCK_SHARERS;
}

static void show_text(const struct wnl_reg *r, const struct ent_vec *ev,
		      bool parsable)
{
	char b1[32], b2[32], fl[32], lk[32], hold[16 * 12];
	size_t i, n;
	unsigned int h;

	printf("name:        ");
	if (r->has_name)
		escape_text(stdout, r->name);
	else
		fputs("(anonymous)", stdout);
	printf("\nid:          %" PRIu64 "\n"
	       "owner:       %" PRIu32 ":%" PRIu32 "\n"
	       "mode:        %04" PRIo32 "\n"
	       "flags:       %s\n"
	       "entries:     %" PRIu64 "\n"
	       "bytes:       %s\n"
	       "charged:     %s\n",
	       r->id, r->uid, r->gid, r->mode,
	       reg_flags(r->flags, fl, sizeof(fl)), r->entries,
	       hsize(r->bytes, parsable, b1, sizeof(b1)),
	       hsize(r->charged, parsable, b2, sizeof(b2)));
	if (r->has_usage)
		printf("creator:     %" PRIu32 " (%" PRIu32 " of %" PRIu32
		       " registries)\n"
		       "namespace:   %" PRIu32 " of %" PRIu32 " registries\n"
		       "max value:   %s\n"
		       "max bytes:   %s\n",
		       r->creator, r->user_registries, r->user_max,
		       r->ns_registries, r->ns_max,
		       hsize(r->max_entry_size, parsable, b1, sizeof(b1)),
		       hsize(r->max_bytes, parsable, b2, sizeof(b2)));
	printf("max entries: %" PRIu64 "\n"
	       "files:       %" PRIu32 "\n"
	       "mappings:    %" PRIu32 "\n"
	       "watchers:    %" PRIu32 "\n",
	       r->max_entries, r->files, r->mappings, r->watchers);
	if (!ev->n)
		return;
	printf("\n%-20s %10s %8s %-12s %-16s %7s\n", "KEY", "GEN", "SIZE",
	       "LOCK", "HOLDERS", "WAITERS");
	for (i = 0; i < ev->n; i++) {
		const struct wnl_entry *e = &ev->v[i];

		if (e->lock & WEAVE_SLOT_LOCK_EXCL || !e->lock)
			snprintf(lk, sizeof(lk), "%s", lock_mode(e->lock));
		else
			snprintf(lk, sizeof(lk), "shared %" PRIu32,
				 lock_count(e->lock));
		n = 0;
		hold[0] = '\0';
		for (h = 0; h < e->nholders; h++)
			n += snprintf(hold + n, sizeof(hold) - n, "%s%" PRIu32,
				      h ? "," : "", e->holders[h]);
		printf("%-20" PRIu64 " %10" PRIu64 " %8s %-12s %-16s %7" PRIu32
		       "\n", e->key, e->gen,
		       hsize(e->size, parsable, b1, sizeof(b1)), lk,
		       e->nholders ? hold : "-", e->waiters);
	}
}

static void show_json(const struct wnl_reg *r, const struct ent_vec *ev)
{
	size_t i;
	unsigned int h;

	fputs("{\"registry\":{", stdout);
	json_reg_fields(stdout, r);
	fputs("},\"entries\":[", stdout);
	for (i = 0; i < ev->n; i++) {
		const struct wnl_entry *e = &ev->v[i];

		printf("%s{\"key\":%" PRIu64 ",\"gen\":%" PRIu64 ",\"size\":%"
		       PRIu64 ",\"lock\":\"%s\",\"lock_count\":%" PRIu32
		       ",\"holders\":[", i ? "," : "", e->key, e->gen, e->size,
		       lock_mode(e->lock), lock_count(e->lock));
		for (h = 0; h < e->nholders; h++)
			printf("%s%" PRIu32, h ? "," : "", e->holders[h]);
		printf("],\"waiters\":%" PRIu32 "}", e->waiters);
	}
	fputs("]}\n", stdout);
}

int cmd_show(const struct ctl_opts *o, int argc, char **argv)
{
	const char *name = argv[0];
	struct ent_vec ev = { 0 };
	struct wnl_reg r = { 0 };
	struct wnl *nl;
	int ret;

	(void)argc;
	if (!nl_name_ok(name))
		return ctl_usage_error("bad registry name '%s'", name);
	ret = nl_open("show", &nl);
	if (ret)
		return ret;
	ret = wnl_reg_get(nl, name, reg_one, &r);
	if (!ret && !r.id)
		ret = -EBADMSG;
	/* By id: the same registry even if the name moved meanwhile. */
	if (!ret)
		ret = wnl_entry_dump(nl, r.id, ent_collect, &ev);
	wnl_close(nl);
	if (ret == -ENOENT) {
		free(ev.v);
		return ctl_fail(0, "show %s: No such registry", name);
	}
	if (ret) {
		free(ev.v);
		return ctl_fail(ret, "show %s", name);
	}
	qsort(ev.v, ev.n, sizeof(*ev.v), ent_cmp);
	if (o->flags & CTL_JSON)
		show_json(&r, &ev);
	else
		show_text(&r, &ev, o->flags & CTL_PARSABLE);
	free(ev.v);
	return flush_stdout("show");
}

/* ---- monitor ----------------------------------------------------------------- */

/* What the monitor knows of a registry: its name, for event lines. */
struct known {
	uint64_t id;
	bool has_name;
	char *name;
};

struct monitor {
	bool json;
	const char *filter;		/* NAME, or NULL for every registry */
	struct known *k;
	size_t n, cap;
};

static struct known *known_find(struct monitor *m, uint64_t id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->k[i].id == id)
			return &m->k[i];
	return NULL;
}

static int known_add(const struct wnl_reg *r, void *arg)
{
	struct monitor *m = arg;
	struct known *k = known_find(m, r->id), *nk;
	char *name = NULL;

	if (r->has_name) {
		name = strdup(r->name);
		if (!name)
			return -ENOMEM;
	}
	if (!k) {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 32;
			nk = realloc(m->k, m->cap * sizeof(*nk));
			if (!nk) {
				free(name);
				return -ENOMEM;
			}
			m->k = nk;
		}
		k = &m->k[m->n++];
	} else {
		free(k->name);
	}
	k->id = r->id;
	k->has_name = r->has_name;
	k->name = name;
	return 0;
}

static void known_del(struct monitor *m, uint64_t id)
{
	struct known *k = known_find(m, id);

	if (!k)
		return;
	free(k->name);
	*k = m->k[--m->n];
}

static void known_free(struct monitor *m)
{
	while (m->n)
		free(m->k[--m->n].name);
	free(m->k);
}

static void timestamp(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ld", (long)tv.tv_usec);
}

static const char *const ev_words[] = {
	"new", "changed", "resized", "deleted", "unlocked", "owner-died",
	"cleared", "unlinked", "overflow",
};

static void mask_words(uint32_t mask, bool json)
{
	bool first = true;
	unsigned int b;

	if (json)
		fputc('[', stdout);
	for (b = 0; b < 32; b++) {
		if (!(mask & (1U << b)))
			continue;
		if (!first)
			fputc(',', stdout);
		first = false;
		if (b < sizeof(ev_words) / sizeof(ev_words[0]))
			printf(json ? "\"%s\"" : "%s", ev_words[b]);
		else
			printf(json ? "\"0x%x\"" : "0x%x", 1U << b);
	}
	if (json)
		fputc(']', stdout);
	else if (first)
		fputc('-', stdout);
}

/* " name=..." or ",\"name\":..." for registry @id, if known. */
static void mon_name(struct monitor *m, bool has_name, const char *name)
{
	if (m->json) {
		fputc(',', stdout);
		json_name(stdout, has_name, name);
		return;
	}
	fputs(" name=", stdout);
	if (has_name)
		escape_text(stdout, name);
	else
		fputs("(anonymous)", stdout);
}

/* Should events of this registry be printed? */
static bool mon_match(struct monitor *m, bool has_name, const char *name)
{
	return !m->filter || (has_name && !strcmp(name, m->filter));
}

static int mon_notif(const struct wnl_notif *n, void *arg)
{
	struct monitor *m = arg;
	const struct known *k;
	char ts[64];
	int ret;

	timestamp(ts, sizeof(ts));
	if (n->cmd == WEAVE_CMD_EVENT) {
		const struct wnl_event *e = &n->ev;

		k = known_find(m, e->reg_id);
		if (m->filter && (!k || !mon_match(m, k->has_name, k->name)))
			return 0;
		if (m->json) {
			printf("{\"time\":\"%s\",\"event\":\"entry\",\"id\":%"
			       PRIu64, ts, e->reg_id);
			if (k)
				mon_name(m, k->has_name, k->name);
			printf(",\"key\":%" PRIu64 ",\"gen\":%" PRIu64
			       ",\"size\":%" PRIu64 ",\"mask\":", e->key, e->gen,
			       e->size);
			mask_words(e->mask, true);
			fputs("}\n", stdout);
		} else {
			printf("%s id=%" PRIu64, ts, e->reg_id);
			if (k)
				mon_name(m, k->has_name, k->name);
			printf(" key=%" PRIu64 " gen=%" PRIu64 " size=%" PRIu64
			       " events=", e->key, e->gen, e->size);
			mask_words(e->mask, false);
			fputc('\n', stdout);
		}
		return ferror(stdout) ? -EIO : 0;
	}

	/* REG_NEW or REG_DEL: the kernel names the registry itself. */
	if (n->cmd == WEAVE_CMD_REG_NEW) {
		ret = known_add(&n->reg, m);
		if (ret)
			return ret;
	}
	if (mon_match(m, n->reg.has_name, n->reg.name)) {
		const char *what = n->cmd == WEAVE_CMD_REG_NEW ? "created" :
				   "destroyed";

		if (m->json) {
			printf("{\"time\":\"%s\",\"event\":\"%s\",", ts, what);
			json_reg_fields(stdout, &n->reg);
			fputs("}\n", stdout);
		} else {
			printf("%s id=%" PRIu64, ts, n->reg.id);
			mon_name(m, n->reg.has_name, n->reg.name);
			printf(" %s\n", what);
		}
	}
	if (n->cmd == WEAVE_CMD_REG_DEL)
		known_del(m, n->reg.id);
	return ferror(stdout) ? -EIO : 0;
}

static volatile sig_atomic_t mon_stop;

static void mon_signal(int sig)
{
	(void)sig;
	mon_stop = 1;
}

int cmd_monitor(const struct ctl_opts *o, int argc, char **argv)
{
	struct monitor m = { 0 };
	struct wnl *req = NULL, *mon = NULL;
	struct sigaction sa = { .sa_handler = mon_signal };
	sigset_t block, orig;
	struct pollfd pfd;
	char ts[64];
	int ret;

	if (argc == 1) {
		if (!nl_name_ok(argv[0]))
			return ctl_usage_error("bad registry name '%s'", argv[0]);
		m.filter = argv[0];
	}
	m.json = o->flags & CTL_JSON;

	/* Signals are only taken in ppoll(): no lost wakeup. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = nl_open("monitor", &req);
	if (ret)
		return ret;
	ret = nl_open("monitor", &mon);
	if (ret)
		goto out;
	/* Subscribe first, then learn the names: no creation is missed. */
	ret = wnl_subscribe(mon);
	if (ret == -EPERM || ret == -EACCES) {
		ret = ctl_fail(0, "monitor: subscribing to weave events needs CAP_SYS_ADMIN; "
			       "without it, watch a registry through its file (weave_watch(3), WEAVE_IOC_WATCH)");
		goto out;
	}
	if (ret) {
		ret = ctl_fail(ret, "monitor: subscribe");
		goto out;
	}
	ret = wnl_reg_get(req, NULL, known_add, &m);
	if (ret) {
		ret = ctl_fail(ret, "monitor: list");
		goto out;
	}

	pfd.fd = wnl_fd(mon);
	pfd.events = POLLIN;
	ret = EXIT_SUCCESS;
	while (!mon_stop) {
		if (ppoll(&pfd, 1, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			ret = ctl_fail(-errno, "monitor: poll");
			break;
		}
		for (;;) {
			int err = wnl_recv_notif(mon, mon_notif, &m);

			if (!err)
				continue;
			if (err == -EAGAIN || err == -EINTR)
				break;
			if (err != -ENOBUFS) {
				ret = ctl_fail(err, "monitor");
				goto out;
			}
			fflush(stdout);
			fprintf(stderr, "weavectl: monitor: lost events, resynchronising\n");
			if (m.json) {
				timestamp(ts, sizeof(ts));
				printf("{\"time\":\"%s\",\"event\":\"lost\"}\n", ts);
			}
			err = wnl_reg_get(req, NULL, known_add, &m);
			if (err) {
				ret = ctl_fail(err, "monitor: list");
				goto out;
			}
		}
	}
out:
	fflush(stdout);
	wnl_close(mon);
	wnl_close(req);
	known_free(&m);
	return ret;
}
