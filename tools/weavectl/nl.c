// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl: a client of the "weave" generic netlink family, on libmnl.
 *
 * The flow follows libmnl's examples/genl/genl-family-get.c: build a
 * request with mnl_nlmsg_put_header() and mnl_attr_put*(), send it, and
 * feed each datagram to mnl_cb_run2() until the dump is done or the ack
 * arrives. Before a reply is used, every attribute is checked with
 * mnl_attr_validate() against the type the uapi header gives it, the
 * attributes must fill the message exactly, and every attribute the
 * kernel always sends must be present: a malformed or truncated message
 * gives -EBADMSG.
 *
 * Control messages get their own callbacks, not libmnl's defaults: an
 * error a dump reports in its NLMSG_DONE (the kernel puts the dump's
 * errno there, e.g. ENOENT for the entries of a missing registry) must
 * not read as an empty dump.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"

/* Dumps fill up to 32 KiB per datagram; a shorter buffer truncates. */
#define WNL_BUF_SIZE	65536

struct wnl {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	uint32_t events_grp;	/* 0: the kernel has no such group */
	char buf[WNL_BUF_SIZE];
};

/* One reply's context: what the data callback wants and what went wrong. */
struct wnl_ctx {
	struct wnl *nl;
	uint8_t cmd;			/* expected genl command */
	int err;			/* first error, negative */
	int (*parse)(const struct nlmsghdr *nlh, struct wnl_ctx *ctx);
	void *cb;
	void *arg;
};

/* ---- attribute validation --------------------------------------------- */

/* The type of each weave attribute; PAD may have any length. */
static const enum mnl_attr_data_type wnl_attr_type[WEAVE_A_MAX + 1] = {
	[WEAVE_A_PAD]		= MNL_TYPE_UNSPEC,
	[WEAVE_A_REG_ID]	= MNL_TYPE_U64,
	[WEAVE_A_REG_NAME]	= MNL_TYPE_NUL_STRING,
	[WEAVE_A_REG_UID]	= MNL_TYPE_U32,
	[WEAVE_A_REG_GID]	= MNL_TYPE_U32,
	[WEAVE_A_REG_MODE]	= MNL_TYPE_U32,
	[WEAVE_A_REG_FLAGS]	= MNL_TYPE_U32,
	[WEAVE_A_REG_ENTRIES]	= MNL_TYPE_U64,
	[WEAVE_A_REG_BYTES]	= MNL_TYPE_U64,
	[WEAVE_A_REG_CHARGED]	= MNL_TYPE_U64,
	[WEAVE_A_REG_FILES]	= MNL_TYPE_U32,
	[WEAVE_A_REG_MAPPINGS]	= MNL_TYPE_U32,
	[WEAVE_A_REG_WATCHERS]	= MNL_TYPE_U32,
	[WEAVE_A_REG_MAX_ENTRIES] = MNL_TYPE_U64,
	[WEAVE_A_REG_MAX_ENTRY_SIZE] = MNL_TYPE_U64,
	[WEAVE_A_REG_MAX_BYTES]	= MNL_TYPE_U64,
	[WEAVE_A_REG_CREATOR]	= MNL_TYPE_U32,
	[WEAVE_A_USER_REGISTRIES] = MNL_TYPE_U32,
	[WEAVE_A_USER_MAX]	= MNL_TYPE_U32,
	[WEAVE_A_NS_REGISTRIES]	= MNL_TYPE_U32,
	[WEAVE_A_NS_MAX]	= MNL_TYPE_U32,
	[WEAVE_A_ENTRY_KEY]	= MNL_TYPE_U64,
	[WEAVE_A_ENTRY_GEN]	= MNL_TYPE_U64,
	[WEAVE_A_ENTRY_SIZE]	= MNL_TYPE_U64,
	[WEAVE_A_ENTRY_LOCK]	= MNL_TYPE_U32,
	[WEAVE_A_ENTRY_HOLDER]	= MNL_TYPE_U32,
	[WEAVE_A_ENTRY_WAITERS]	= MNL_TYPE_U32,
	[WEAVE_A_EVENT_MASK]	= MNL_TYPE_U32,
	[WEAVE_A_CURSOR]	= MNL_TYPE_U64,
};

/*
 * mnl_attr_for_each() and mnl_attr_for_each_nested(), spelled out: their
 * implicit long-to-int narrowing trips -Wconversion. @end is the first
 * byte after the attributes.
 */
#define wnl_attr_for_each(attr, start, end)				\
	for ((attr) = (start);						\
	     mnl_attr_ok((attr), (int)((const char *)(end) -		\
				       (const char *)(attr)));		\
	     (attr) = mnl_attr_next(attr))

/* The attributes of a genl message and the byte after them. */
#define wnl_msg_attrs(nlh)						\
	((const struct nlattr *)mnl_nlmsg_get_payload_offset((nlh),	\
				sizeof(struct genlmsghdr)))
#define wnl_nest_attrs(nest)						\
	((const struct nlattr *)mnl_attr_get_payload(nest))
#define wnl_nest_end(nest)						\
	((const char *)(nest) + (nest)->nla_len)

struct wnl_attrs {
	const struct nlattr *tb[WEAVE_A_MAX + 1];
	const struct nlattr *holders[WNL_HOLDERS_MAX];
	unsigned int nholders;
};

/*
 * Check the genl header and every attribute of @nlh; fill @a. Attributes
 * newer than this header are skipped; a repeated one (but HOLDER) or one
 * of the wrong size, or a payload the attributes do not fill exactly, is
 * -EBADMSG.
 */
static int wnl_parse_attrs(const struct nlmsghdr *nlh, struct wnl_attrs *a)
{
	const struct nlattr *attr;
	const char *tail;

	memset(a, 0, sizeof(*a));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct genlmsghdr))
		return -EBADMSG;
	tail = mnl_nlmsg_get_payload_tail(nlh);
	wnl_attr_for_each(attr, wnl_msg_attrs(nlh), tail) {
		uint16_t type = mnl_attr_get_type(attr);

		if (type > WEAVE_A_MAX)
			continue;
		if (mnl_attr_validate(attr, wnl_attr_type[type]) < 0)
			return -EBADMSG;
		if (type == WEAVE_A_ENTRY_HOLDER) {
			if (a->nholders < WNL_HOLDERS_MAX)
				a->holders[a->nholders++] = attr;
			continue;
		}
		if (type != WEAVE_A_PAD && a->tb[type])
			return -EBADMSG;
		a->tb[type] = attr;
	}
	/* The loop stops early at a truncated attribute. */
	if ((const char *)attr != tail)
		return -EBADMSG;
	return 0;
}

static bool wnl_has(const struct wnl_attrs *a, const int *types, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!a->tb[types[i]])
			return false;
	return true;
}

#define WNL_HAS(a, ...)	({						\
	static const int __t[] = { __VA_ARGS__ };			\
	wnl_has(a, __t, sizeof(__t) / sizeof(__t[0]));			\
})

static int wnl_fill_reg(const struct nlmsghdr *nlh, struct wnl_reg *r)
{
	struct wnl_attrs a;
	int ret = wnl_parse_attrs(nlh, &a);

	if (ret)
		return ret;
	if (!WNL_HAS(&a, WEAVE_A_REG_ID, WEAVE_A_REG_UID, WEAVE_A_REG_GID,
		     WEAVE_A_REG_MODE, WEAVE_A_REG_FLAGS, WEAVE_A_REG_ENTRIES,
		     WEAVE_A_REG_BYTES, WEAVE_A_REG_CHARGED, WEAVE_A_REG_FILES,
		     WEAVE_A_REG_MAPPINGS, WEAVE_A_REG_WATCHERS))
		return -EBADMSG;

	memset(r, 0, sizeof(*r));
	if (a.tb[WEAVE_A_REG_NAME]) {
		const struct nlattr *n = a.tb[WEAVE_A_REG_NAME];
		size_t len = mnl_attr_get_payload_len(n);

		/* Validated: at least one byte, the last a NUL. */
		if (len > sizeof(r->name) || len < 2 ||
		    strlen(mnl_attr_get_str(n)) != len - 1)
			return -EBADMSG;
		memcpy(r->name, mnl_attr_get_str(n), len);
		r->has_name = true;
	}
	r->id = mnl_attr_get_u64(a.tb[WEAVE_A_REG_ID]);
	r->uid = mnl_attr_get_u32(a.tb[WEAVE_A_REG_UID]);
	r->gid = mnl_attr_get_u32(a.tb[WEAVE_A_REG_GID]);
	r->mode = mnl_attr_get_u32(a.tb[WEAVE_A_REG_MODE]);
	r->flags = mnl_attr_get_u32(a.tb[WEAVE_A_REG_FLAGS]);
	r->entries = mnl_attr_get_u64(a.tb[WEAVE_A_REG_ENTRIES]);
	r->bytes = mnl_attr_get_u64(a.tb[WEAVE_A_REG_BYTES]);
	r->charged = mnl_attr_get_u64(a.tb[WEAVE_A_REG_CHARGED]);
	r->files = mnl_attr_get_u32(a.tb[WEAVE_A_REG_FILES]);
	r->mappings = mnl_attr_get_u32(a.tb[WEAVE_A_REG_MAPPINGS]);
	r->watchers = mnl_attr_get_u32(a.tb[WEAVE_A_REG_WATCHERS]);
	if (a.tb[WEAVE_A_REG_MAX_ENTRIES])
		r->max_entries = mnl_attr_get_u64(a.tb[WEAVE_A_REG_MAX_ENTRIES]);
	/* All or nothing: a module has them all or none. */
	if (a.tb[WEAVE_A_REG_MAX_ENTRY_SIZE] && a.tb[WEAVE_A_REG_MAX_BYTES] &&
	    a.tb[WEAVE_A_REG_CREATOR] && a.tb[WEAVE_A_USER_REGISTRIES] &&
	    a.tb[WEAVE_A_USER_MAX] && a.tb[WEAVE_A_NS_REGISTRIES] &&
	    a.tb[WEAVE_A_NS_MAX]) {
		r->has_usage = true;
		r->max_entry_size =
			mnl_attr_get_u64(a.tb[WEAVE_A_REG_MAX_ENTRY_SIZE]);
		r->max_bytes = mnl_attr_get_u64(a.tb[WEAVE_A_REG_MAX_BYTES]);
		r->creator = mnl_attr_get_u32(a.tb[WEAVE_A_REG_CREATOR]);
		r->user_registries =
			mnl_attr_get_u32(a.tb[WEAVE_A_USER_REGISTRIES]);
		r->user_max = mnl_attr_get_u32(a.tb[WEAVE_A_USER_MAX]);
		r->ns_registries = mnl_attr_get_u32(a.tb[WEAVE_A_NS_REGISTRIES]);
		r->ns_max = mnl_attr_get_u32(a.tb[WEAVE_A_NS_MAX]);
	}
	return 0;
}

static int wnl_fill_entry(const struct nlmsghdr *nlh, struct wnl_entry *e)
{
	struct wnl_attrs a;
	unsigned int i;
	int ret = wnl_parse_attrs(nlh, &a);

	if (ret)
		return ret;
	if (!WNL_HAS(&a, WEAVE_A_REG_ID, WEAVE_A_ENTRY_KEY, WEAVE_A_ENTRY_GEN,
		     WEAVE_A_ENTRY_SIZE, WEAVE_A_ENTRY_LOCK,
		     WEAVE_A_ENTRY_WAITERS))
		return -EBADMSG;
	memset(e, 0, sizeof(*e));
	e->reg_id = mnl_attr_get_u64(a.tb[WEAVE_A_REG_ID]);
	e->key = mnl_attr_get_u64(a.tb[WEAVE_A_ENTRY_KEY]);
	e->gen = mnl_attr_get_u64(a.tb[WEAVE_A_ENTRY_GEN]);
	e->size = mnl_attr_get_u64(a.tb[WEAVE_A_ENTRY_SIZE]);
	e->lock = mnl_attr_get_u32(a.tb[WEAVE_A_ENTRY_LOCK]);
	e->waiters = mnl_attr_get_u32(a.tb[WEAVE_A_ENTRY_WAITERS]);
	e->nholders = a.nholders;
	for (i = 0; i < a.nholders; i++)
		e->holders[i] = mnl_attr_get_u32(a.holders[i]);
	return 0;
}

static int wnl_fill_event(const struct nlmsghdr *nlh, struct wnl_event *ev)
{
	struct wnl_attrs a;
	int ret = wnl_parse_attrs(nlh, &a);

	if (ret)
		return ret;
	if (!WNL_HAS(&a, WEAVE_A_REG_ID, WEAVE_A_ENTRY_KEY, WEAVE_A_ENTRY_GEN,
		     WEAVE_A_ENTRY_SIZE, WEAVE_A_EVENT_MASK))
		return -EBADMSG;
	ev->reg_id = mnl_attr_get_u64(a.tb[WEAVE_A_REG_ID]);
	ev->key = mnl_attr_get_u64(a.tb[WEAVE_A_ENTRY_KEY]);
	ev->gen = mnl_attr_get_u64(a.tb[WEAVE_A_ENTRY_GEN]);
	ev->size = mnl_attr_get_u64(a.tb[WEAVE_A_ENTRY_SIZE]);
	ev->mask = mnl_attr_get_u32(a.tb[WEAVE_A_EVENT_MASK]);
	return 0;
}

/* ---- running requests --------------------------------------------------- */

static int wnl_cmd_of(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return -EBADMSG;
	g = mnl_nlmsg_get_payload(nlh);
	return g->cmd;
}

static int wnl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wnl_ctx *ctx = data;
	int ret;

	if (nlh->nlmsg_type != ctx->nl->family) {
		ctx->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	ret = ctx->parse(nlh, ctx);
	if (ret) {
		ctx->err = ret;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int wnl_noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

/* NLMSG_ERROR: an error, or the ack (error 0) that ends a request. */
static int wnl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct wnl_ctx *ctx = data;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		ctx->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	ctx->err = e->error < 0 ? e->error : -EPROTO;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE: the end of a dump, with the dump's errno after the header. */
static int wnl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wnl_ctx *ctx = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			ctx->err = err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int wnl_overrun_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wnl_ctx *ctx = data;

	(void)nlh;
	ctx->err = -EOVERFLOW;
	return MNL_CB_ERROR;
}

static mnl_cb_t wnl_ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP]	= wnl_noop_cb,
	[NLMSG_ERROR]	= wnl_error_cb,
	[NLMSG_DONE]	= wnl_done_cb,
	[NLMSG_OVERRUN]	= wnl_overrun_cb,
};

/* Feed one datagram of @len bytes to the callbacks: MNL_CB_* or -errno. */
static int wnl_dispatch(struct wnl *nl, size_t len, unsigned int seq,
			unsigned int portid, struct wnl_ctx *ctx)
{
	int ret;

	errno = 0;
	ret = mnl_cb_run2(nl->buf, len, seq, portid, wnl_data_cb, ctx,
			  wnl_ctl_cb, NLMSG_MIN_TYPE);
	if (ret >= MNL_CB_STOP)
		return ret;
	if (ctx->err)
		return ctx->err;
	/* libmnl's own checks: a bad header (EBADMSG), seq or portid. */
	return errno ? -errno : -EBADMSG;
}

/* Start a request for @cmd of the family @type in @buf. */
static struct nlmsghdr *wnl_put_req(struct wnl *nl, uint16_t type, uint8_t cmd,
				    uint16_t flags, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

/* Send the request in nl->buf and process replies until it ends. */
static int wnl_run(struct wnl *nl, struct wnl_ctx *ctx)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)nl->buf;
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ENOSPC ? -EBADMSG : -errno;
		ret = wnl_dispatch(nl, n, seq, nl->portid, ctx);
		if (ret < 0)
			return ret;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* ---- the family ----------------------------------------------------------- */

/* Did a walk of @nest's attributes end at its end (not at a truncation)? */
static bool wnl_nest_done(const struct nlattr *attr, const struct nlattr *nest)
{
	return (const char *)attr == wnl_nest_end(nest) ||
	       (const char *)attr == (const char *)nest +
				     MNL_ALIGN(nest->nla_len);
}

struct wnl_family {
	uint16_t id;
	uint32_t grp;
	bool has_id;
};

static int wnl_parse_grp(const struct nlattr *nest, struct wnl_family *f)
{
	const struct nlattr *attr, *name = NULL, *id = NULL;

	wnl_attr_for_each(attr, wnl_nest_attrs(nest), wnl_nest_end(nest)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
				return -EBADMSG;
			name = attr;
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
				return -EBADMSG;
			id = attr;
			break;
		}
	}
	if (!wnl_nest_done(attr, nest))
		return -EBADMSG;
	if (name && id && !strcmp(mnl_attr_get_str(name),
				  WEAVE_GENL_MCGRP_EVENTS))
		f->grp = mnl_attr_get_u32(id);
	return 0;
}

static int wnl_parse_family(const struct nlmsghdr *nlh, struct wnl_ctx *ctx)
{
	struct wnl_family *f = ctx->arg;
	const struct nlattr *attr, *grp;
	int ret;

	if (wnl_cmd_of(nlh) != CTRL_CMD_NEWFAMILY)
		return -EBADMSG;
	wnl_attr_for_each(attr, wnl_msg_attrs(nlh),
			  mnl_nlmsg_get_payload_tail(nlh)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
				return -EBADMSG;
			f->id = mnl_attr_get_u16(attr);
			f->has_id = true;
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
				return -EBADMSG;
			wnl_attr_for_each(grp, wnl_nest_attrs(attr),
					  wnl_nest_end(attr)) {
				if (mnl_attr_validate(grp, MNL_TYPE_NESTED) < 0)
					return -EBADMSG;
				ret = wnl_parse_grp(grp, f);
				if (ret)
					return ret;
			}
			if (!wnl_nest_done(grp, attr))
				return -EBADMSG;
			break;
		}
	}
	if ((const char *)attr != (const char *)mnl_nlmsg_get_payload_tail(nlh))
		return -EBADMSG;
	return f->has_id ? 0 : -EBADMSG;
}

int wnl_open(struct wnl **out)
{
	struct wnl_family fam = { 0 };
	struct wnl_ctx ctx = { .cmd = CTRL_CMD_NEWFAMILY,
			       .parse = wnl_parse_family, .arg = &fam };
	struct nlmsghdr *nlh;
	struct wnl *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk) {
		ret = -errno;
		free(nl);
		return ret;
	}
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned int)time(NULL);
	ctx.nl = nl;
	/* The controller's replies come with the controller's type. */
	nl->family = GENL_ID_CTRL;

	nlh = wnl_put_req(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WEAVE_GENL_NAME);
	ret = wnl_run(nl, &ctx);
	if (ret)
		goto fail;
	nl->family = fam.id;
	nl->events_grp = fam.grp;
	*out = nl;
	return 0;
fail:
	mnl_socket_close(nl->sk);
	free(nl);
	return ret;
}

void wnl_close(struct wnl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

int wnl_fd(const struct wnl *nl)
{
	return mnl_socket_get_fd(nl->sk);
}

/* ---- weave requests ------------------------------------------------------- */

static int wnl_parse_reg(const struct nlmsghdr *nlh, struct wnl_ctx *ctx)
{
	struct wnl_reg r;
	int ret;

	if (wnl_cmd_of(nlh) != ctx->cmd)
		return -EBADMSG;
	ret = wnl_fill_reg(nlh, &r);
	if (ret)
		return ret;
	return ((wnl_reg_cb)ctx->cb)(&r, ctx->arg);
}

static int wnl_parse_entry(const struct nlmsghdr *nlh, struct wnl_ctx *ctx)
{
	struct wnl_entry e;
	int ret;

	if (wnl_cmd_of(nlh) != ctx->cmd)
		return -EBADMSG;
	ret = wnl_fill_entry(nlh, &e);
	if (ret)
		return ret;
	return ((wnl_entry_cb)ctx->cb)(&e, ctx->arg);
}

int wnl_reg_get(struct wnl *nl, const char *name, wnl_reg_cb cb, void *arg)
{
	struct wnl_ctx ctx = { .nl = nl, .cmd = WEAVE_CMD_REG_GET,
			       .parse = wnl_parse_reg, .cb = (void *)cb,
			       .arg = arg };
	struct nlmsghdr *nlh;

	nlh = wnl_put_req(nl, nl->family, WEAVE_CMD_REG_GET,
			  name ? NLM_F_ACK : NLM_F_DUMP, WEAVE_GENL_VERSION);
	if (name)
		mnl_attr_put_strz(nlh, WEAVE_A_REG_NAME, name);
	return wnl_run(nl, &ctx);
}

int wnl_entry_dump(struct wnl *nl, uint64_t id, wnl_entry_cb cb, void *arg)
{
	struct wnl_ctx ctx = { .nl = nl, .cmd = WEAVE_CMD_ENTRY_GET,
			       .parse = wnl_parse_entry, .cb = (void *)cb,
			       .arg = arg };
	struct nlmsghdr *nlh;

	nlh = wnl_put_req(nl, nl->family, WEAVE_CMD_ENTRY_GET, NLM_F_DUMP,
			  WEAVE_GENL_VERSION);
	mnl_attr_put_u64(nlh, WEAVE_A_REG_ID, id);
	return wnl_run(nl, &ctx);
}

/* ---- notifications ---------------------------------------------------------- */

int wnl_subscribe(struct wnl *nl)
{
	int grp = (int)nl->events_grp, fd = wnl_fd(nl), fl;

	if (!grp)
		return -ENOENT;
	if (mnl_socket_setsockopt(nl->sk, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		return -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int wnl_parse_notif(const struct nlmsghdr *nlh, struct wnl_ctx *ctx)
{
	struct wnl_notif n;
	int cmd = wnl_cmd_of(nlh), ret;

	memset(&n, 0, sizeof(n));
	switch (cmd) {
	case WEAVE_CMD_EVENT:
		ret = wnl_fill_event(nlh, &n.ev);
		break;
	case WEAVE_CMD_REG_NEW:
	case WEAVE_CMD_REG_DEL:
		ret = wnl_fill_reg(nlh, &n.reg);
		break;
	default:
		/* A notification newer than this program: skip it. */
		return cmd < 0 ? cmd : 0;
	}
	if (ret)
		return ret;
	n.cmd = (uint8_t)cmd;
	return ((wnl_notif_cb)ctx->cb)(&n, ctx->arg);
}

int wnl_recv_notif(struct wnl *nl, wnl_notif_cb cb, void *arg)
{
	struct wnl_ctx ctx = { .nl = nl, .parse = wnl_parse_notif,
			       .cb = (void *)cb, .arg = arg };
	ssize_t n;
	int ret;

	n = mnl_socket_recvfrom(nl->sk, nl->buf, sizeof(nl->buf));
	if (n < 0)
		return errno == ENOSPC ? -EBADMSG : -errno;
	/* Multicast messages carry seq 0 and portid 0: no checks. */
	ret = wnl_dispatch(nl, n, 0, 0, &ctx);
	return ret < 0 ? ret : 0;
}
