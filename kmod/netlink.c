// SPDX-License-Identifier: GPL-2.0
/*
 * weave: the "weave" generic netlink family, for tools like weavectl.
 *
 * Copyright (C) 2026 The weave authors
 *
 * WEAVE_CMD_REG_GET shows one registry by name or dumps them all;
 * WEAVE_CMD_ENTRY_GET dumps one registry's entries; WEAVE_CMD_REG_UNLINK
 * removes a name. A caller sees only registries of its own IPC namespace
 * that it could attach read-only, whatever network namespace it asks from:
 * for one it could not, it learns EACCES, as WEAVE_IOC_ATTACH would tell
 * it, and nothing more. Unlinking needs the same rights as
 * WEAVE_IOC_UNLINK.
 *
 * Dumps keep their place by registry id and slot number, both of which
 * only grow for a given object, so a registry or entry present for the
 * whole dump appears exactly once.
 *
 * The "events" multicast group carries every registry's changes, so it is
 * sent in the initial network namespace only and needs CAP_SYS_ADMIN
 * there; other programs watch the registries they may attach through
 * their files. Entry events are built and sent under registry->lock,
 * registry events (REG_NEW, REG_DEL) under weave_names_lock, and only
 * when someone listens.
 */
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <linux/pid.h>

#include "internal.h"

/* Holder pids reported per entry, at most. */
#define WEAVE_NL_HOLDERS_MAX	16

static const struct nla_policy weave_nl_name_policy[WEAVE_A_MAX + 1] = {
	[WEAVE_A_REG_NAME] = { .type = NLA_NUL_STRING, .len = WEAVE_NAME_MAX },
};

static const struct nla_policy weave_nl_reg_policy[WEAVE_A_MAX + 1] = {
	[WEAVE_A_REG_NAME] = { .type = NLA_NUL_STRING, .len = WEAVE_NAME_MAX },
	[WEAVE_A_REG_ID] = { .type = NLA_U64 },
};

static const struct genl_multicast_group weave_nl_mcgrps[] = {
	[WEAVE_NL_MCGRP_EVENTS] = {
		.name = WEAVE_GENL_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
	},
};

/* @ns: the user namespace the ids are told in. */
static int weave_nl_put_reg(struct sk_buff *skb, struct weave_registry *reg,
			    const struct weave_usage *usage,
			    struct user_namespace *ns)
{
	u64 entries, bytes, charged;
	u32 watchers, mode;

	kuid_t uid = READ_ONCE(reg->uid);
	kgid_t gid = READ_ONCE(reg->gid);

	mutex_lock(&reg->lock);
	entries = reg->count;
	bytes = reg->bytes;
	charged = reg->charged;
	watchers = reg->nr_watches;
	mutex_unlock(&reg->lock);
	mode = READ_ONCE(reg->mode);

	if (nla_put_u64_64bit(skb, WEAVE_A_REG_ID, reg->id, WEAVE_A_PAD) ||
	    (reg->name && nla_put_string(skb, WEAVE_A_REG_NAME, reg->name)) ||
	    nla_put_u32(skb, WEAVE_A_REG_UID, from_kuid_munged(ns, uid)) ||
	    nla_put_u32(skb, WEAVE_A_REG_GID, from_kgid_munged(ns, gid)) ||
	    nla_put_u32(skb, WEAVE_A_REG_MODE, mode) ||
	    nla_put_u32(skb, WEAVE_A_REG_FLAGS, weave_registry_flags(reg)) ||
	    nla_put_u64_64bit(skb, WEAVE_A_REG_ENTRIES, entries, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(skb, WEAVE_A_REG_BYTES, bytes, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(skb, WEAVE_A_REG_CHARGED, charged, WEAVE_A_PAD) ||
	    nla_put_u32(skb, WEAVE_A_REG_FILES, atomic_read(&reg->nr_files)) ||
	    nla_put_u32(skb, WEAVE_A_REG_MAPPINGS, atomic_read(&reg->nr_views)) ||
	    nla_put_u32(skb, WEAVE_A_REG_WATCHERS, watchers) ||
	    nla_put_u64_64bit(skb, WEAVE_A_REG_MAX_ENTRIES, reg->max_entries,
			      WEAVE_A_PAD) ||
	    nla_put_u64_64bit(skb, WEAVE_A_REG_MAX_ENTRY_SIZE,
			      reg->max_entry_size, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(skb, WEAVE_A_REG_MAX_BYTES,
			      READ_ONCE(weave_max_registry_bytes), WEAVE_A_PAD) ||
	    nla_put_u32(skb, WEAVE_A_REG_CREATOR,
			from_kuid_munged(ns, reg->creator)) ||
	    nla_put_u32(skb, WEAVE_A_USER_REGISTRIES, usage->user_registries) ||
	    nla_put_u32(skb, WEAVE_A_USER_MAX,
			READ_ONCE(weave_max_registries_per_user)) ||
	    nla_put_u32(skb, WEAVE_A_NS_REGISTRIES, usage->ns_registries) ||
	    nla_put_u32(skb, WEAVE_A_NS_MAX,
			READ_ONCE(weave_max_registries_per_ns)))
		return -EMSGSIZE;
	return 0;
}

/*
 * @usage: NULL to look it up (needs weave_names_lock not held).
 * @ns: a reply tells ids as the asking task sees them, a multicast as the
 * initial user namespace, where its listeners are.
 */
static int weave_nl_fill_reg(struct sk_buff *skb, struct weave_registry *reg,
			     const struct weave_usage *usage,
			     struct user_namespace *ns, u32 portid, u32 seq,
			     int flags, u8 cmd)
{
	struct weave_usage u;
	void *hdr;

	if (!usage) {
		weave_registry_usage(reg, &u);
		usage = &u;
	}
	hdr = genlmsg_put(skb, portid, seq, &weave_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (weave_nl_put_reg(skb, reg, usage, ns)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int weave_nl_reg_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct weave_registry *reg;
	struct sk_buff *msg;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, WEAVE_A_REG_NAME))
		return -EINVAL;
	reg = weave_registry_find_visible(nla_data(info->attrs[WEAVE_A_REG_NAME]),
					  0);
	if (IS_ERR(reg))
		return PTR_ERR(reg);

	ret = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out_put;
	ret = weave_nl_fill_reg(msg, reg, NULL, current_user_ns(),
				info->snd_portid, info->snd_seq, 0,
				WEAVE_CMD_REG_GET);
	if (ret) {
		nlmsg_free(msg);
		goto out_put;
	}
	ret = genlmsg_reply(msg, info);
out_put:
	weave_registry_put(reg);
	return ret;
}

/* cb->args[0]: id of the last registry dumped. */
static int weave_nl_reg_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct weave_registry *reg;

	while ((reg = weave_registry_next_visible(cb->args[0]))) {
		int ret = weave_nl_fill_reg(skb, reg, NULL, current_user_ns(),
					    NETLINK_CB(cb->skb).portid,
					    cb->nlh->nlmsg_seq, NLM_F_MULTI,
					    WEAVE_CMD_REG_GET);
		u64 id = reg->id;

		weave_registry_put(reg);
		if (ret)
			break;
		cb->args[0] = id;
	}
	return skb->len;
}

static int weave_nl_put_holders(struct sk_buff *skb,
				struct weave_registry *reg, u64 key)
{
	pid_t pids[WEAVE_NL_HOLDERS_MAX];
	int i, n = weave_lock_holders(reg, key, pids, ARRAY_SIZE(pids));

	for (i = 0; i < n; i++)
		if (nla_put_u32(skb, WEAVE_A_ENTRY_HOLDER, pids[i]))
			return -EMSGSIZE;
	return 0;
}

/* One entry of @reg (locked), from slot @slot; 0 if the slot is free. */
static int weave_nl_fill_entry(struct sk_buff *skb, struct netlink_callback *cb,
			       struct weave_registry *reg, u32 slot)
{
	struct weave_slot *s = weave_slot(reg, slot);
	void *hdr;

	if (!s || !s->key)
		return 0;
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &weave_genl_family, NLM_F_MULTI, WEAVE_CMD_ENTRY_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, WEAVE_A_REG_ID, reg->id, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(skb, WEAVE_A_ENTRY_KEY, s->key, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(skb, WEAVE_A_ENTRY_GEN, s->gen, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(skb, WEAVE_A_ENTRY_SIZE, s->size, WEAVE_A_PAD) ||
	    nla_put_u32(skb, WEAVE_A_ENTRY_LOCK, s->lock) ||
	    nla_put_u32(skb, WEAVE_A_ENTRY_WAITERS, s->waiters) ||
	    weave_nl_put_holders(skb, reg, s->key)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* cb->args[0]: registry id; cb->args[1]: next slot. */
static int weave_nl_entry_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	struct nlattr **attrs = genl_info_dump(cb)->attrs;
	struct nlattr *name = attrs[WEAVE_A_REG_NAME];
	struct nlattr *id = attrs[WEAVE_A_REG_ID];
	struct weave_registry *reg;
	u32 slot;

	if (!cb->args[0]) {
		if (!name && !id)
			return -EINVAL;
		reg = weave_registry_find_visible(name ? nla_data(name) : NULL,
						  id ? nla_get_u64(id) : 0);
		if (IS_ERR(reg))
			return PTR_ERR(reg);
		cb->args[0] = reg->id;
		cb->args[1] = 1;
	} else {
		reg = weave_registry_find_visible(NULL, cb->args[0]);
		if (IS_ERR(reg))
			return 0;	/* gone or chmod'ed: the dump ends */
	}

	mutex_lock(&reg->lock);
	for (slot = cb->args[1]; slot <= reg->slot_hwm; slot++)
		if (weave_nl_fill_entry(skb, cb, reg, slot))
			break;
	cb->args[1] = slot;
	mutex_unlock(&reg->lock);
	weave_registry_put(reg);
	return skb->len;
}

static int weave_nl_unlink_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, WEAVE_A_REG_NAME))
		return -EINVAL;
	return weave_registry_unlink(nla_data(info->attrs[WEAVE_A_REG_NAME]),
				     NULL);
}

static const struct WEAVE_GENL_OPS weave_nl_ops[] = {
	WEAVE_GENL_DO_DUMP(WEAVE_CMD_REG_GET, weave_nl_reg_get_doit,
			   weave_nl_reg_get_dumpit, weave_nl_name_policy),
	WEAVE_GENL_DUMP(WEAVE_CMD_ENTRY_GET, weave_nl_entry_get_dumpit,
			weave_nl_reg_policy),
	WEAVE_GENL_DO(WEAVE_CMD_REG_UNLINK, weave_nl_unlink_doit,
		      weave_nl_name_policy),
};

struct genl_family weave_genl_family __ro_after_init = {
	.name		= WEAVE_GENL_NAME,
	.version	= WEAVE_GENL_VERSION,
	.maxattr	= WEAVE_A_MAX,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	WEAVE_GENL_FAMILY_OPS(weave_nl_ops),
	.mcgrps		= weave_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(weave_nl_mcgrps),
	.resv_start_op	= WEAVE_CMD_MAX + 1,
};

static void weave_nl_send(struct sk_buff *msg)
{
	genlmsg_multicast_netns(&weave_genl_family, &init_net, msg, 0,
				WEAVE_NL_MCGRP_EVENTS, GFP_KERNEL);
}

/**
 * weave_nl_event() - multicast an entry event
 * @reg: the registry, locked
 * @key: the key, 0 for a registry event
 * @mask: WEAVE_EV_* bits
 * @gen: the key's gen
 * @size: the key's size
 *
 * The caller has seen weave_nl_listening(), once for all its work.
 */
void weave_nl_event(struct weave_registry *reg, u64 key, u32 mask, u64 gen,
		    u64 size)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &weave_genl_family, 0, WEAVE_CMD_EVENT);
	if (!hdr ||
	    nla_put_u64_64bit(msg, WEAVE_A_REG_ID, reg->id, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(msg, WEAVE_A_ENTRY_KEY, key, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(msg, WEAVE_A_ENTRY_GEN, gen, WEAVE_A_PAD) ||
	    nla_put_u64_64bit(msg, WEAVE_A_ENTRY_SIZE, size, WEAVE_A_PAD) ||
	    nla_put_u32(msg, WEAVE_A_EVENT_MASK, mask)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	weave_nl_send(msg);
}

/**
 * weave_nl_reg_event() - multicast a registry's creation or destruction
 * @reg: the registry
 * @cmd: WEAVE_CMD_REG_NEW or WEAVE_CMD_REG_DEL
 *
 * Called with weave_names_lock held, so that the counts it reports are
 * the registry's as it is made or dies.
 */
void weave_nl_reg_event(struct weave_registry *reg, u8 cmd)
{
	struct weave_usage usage;
	struct sk_buff *msg;

	lockdep_assert_held(&weave_names_lock);
	if (!weave_nl_listening())
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	__weave_registry_usage(reg, &usage);
	if (weave_nl_fill_reg(msg, reg, &usage, &init_user_ns, 0, 0, 0, cmd)) {
		nlmsg_free(msg);
		return;
	}
	weave_nl_send(msg);
}

/**
 * weave_nl_init() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int weave_nl_init(void)
{
	return genl_register_family(&weave_genl_family);
}

/**
 * weave_nl_exit() - unregister the generic netlink family
 */
void weave_nl_exit(void)
{
	genl_unregister_family(&weave_genl_family);
}
