// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libweave argument checks that fail before any system call, so they run
 * on the host without the module. KTAP output; exit 1 on a failure.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"
#include "weave.h"

int main(void)
{
	char longname[WEAVE_NAME_MAX + 2];
	struct weave_view v;
	struct weave_params p;
	struct weave *w = NULL;
	int fd;

	printf("KTAP version 1\n1..21\n");

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';

	check(weave_open("x", 1U << 30, 0600, &w) == -EINVAL,
	      "open_unknown_flag");
	check(weave_open("x", WEAVE_OPEN_CREATE, 01000, &w) == -EINVAL,
	      "open_mode_above_0777");
	check(weave_open("x", 0, 0, NULL) == -EINVAL, "open_null_handle");
	check(weave_open("", WEAVE_OPEN_CREATE, 0600, &w) == -EINVAL,
	      "open_empty_name");
	check(weave_open("a/b", WEAVE_OPEN_CREATE, 0600, &w) == -EINVAL,
	      "open_name_with_slash");
	check(weave_open(longname, WEAVE_OPEN_CREATE, 0600, &w) == -EINVAL,
	      "open_name_256_bytes");
	check(weave_open("x", WEAVE_OPEN_EXCL, 0600, &w) == -EINVAL,
	      "open_excl_without_create");
	check(weave_open("x", WEAVE_OPEN_PERSIST, 0600, &w) == -EINVAL,
	      "open_persist_without_create");
	check(weave_open(NULL, WEAVE_OPEN_PERSIST, 0600, &w) == -EINVAL,
	      "open_anon_persist");
	check(weave_open(NULL, WEAVE_OPEN_RDONLY, 0600, &w) == -EINVAL,
	      "open_anon_rdonly");
	memset(&p, 0, sizeof(p));
	p.resv2[3] = 1;
	check(weave_open_params("x", WEAVE_OPEN_CREATE, 0600, &p, &w) ==
	      -EINVAL, "open_params_reserved");
	check(w == NULL, "open_failure_leaves_handle");

	check(weave_unlink(NULL) == -EINVAL, "unlink_null");
	check(weave_unlink("a/b") == -EINVAL, "unlink_slash");
	check(weave_unlink(longname) == -EINVAL, "unlink_long");

	check(weave_from_fd(-1, &w) == -EBADF, "from_fd_negative");
	fd = open("/dev/null", O_RDWR);
	check(fd >= 0 && weave_from_fd(fd, &w) == -ENOTTY,
	      "from_fd_not_weave");
	check(fd >= 0 && fcntl(fd, F_GETFD) >= 0, "from_fd_failure_keeps_fd");
	if (fd >= 0)
		close(fd);

	memset(&v, 0, sizeof(v));
	check(weave_view_stale(&v), "view_unmapped_is_stale");
	check(weave_view_read(&v, NULL, 0) == -EINVAL &&
	      weave_view_refresh(&v) == -EINVAL, "view_unmapped_read_refresh");
	weave_view_unmap(&v);
	weave_close(NULL);
	check(weave_view_data(&v) == NULL && weave_view_size(&v) == 0 &&
	      weave_view_gen(&v) == 0, "view_unmapped_accessors");

	return ktap_done();
}
