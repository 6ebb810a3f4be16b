/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weave: the "weave" generic netlink family (netlink.c).
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef _WEAVE_NETLINK_H
#define _WEAVE_NETLINK_H

#include <net/genetlink.h>

struct weave_registry;

int weave_nl_init(void);
void weave_nl_exit(void);
void weave_nl_event(struct weave_registry *reg, u64 key, u32 mask, u64 gen,
		    u64 size);
void weave_nl_reg_event(struct weave_registry *reg, u8 cmd);
extern struct genl_family weave_genl_family;

enum weave_nl_mcgrp {
	WEAVE_NL_MCGRP_EVENTS,
};

/**
 * weave_nl_listening() - does anyone listen to the events group?
 *
 * Inline: every change asks.
 *
 * Return: true if so.
 */
static inline bool weave_nl_listening(void)
{
	return genl_has_listeners(&weave_genl_family, &init_net,
				  WEAVE_NL_MCGRP_EVENTS);
}

#endif /* _WEAVE_NETLINK_H */
