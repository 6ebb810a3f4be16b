// SPDX-License-Identifier: LGPL-2.1-or-later
/* basic: create a registry, set a key, read it back by copy and by view. */
#include <stdio.h>
#include <string.h>
#include <weave.h>

int main(void)
{
	struct weave *w;
	struct weave_view v;
	char buf[64];
	ssize_t n;
	int err;

	err = weave_open("basic", WEAVE_OPEN_CREATE, 0600, &w);
	if (err) {
		fprintf(stderr, "weave_open: %s\n", strerror(-err));
		return 1;
	}
	weave_set(w, 1, "suh", 3);
	n = weave_get(w, 1, buf, sizeof(buf), NULL);	/* copy out */
	printf("get:  %.*s\n", (int)n, buf);

	if (!weave_view_map(w, 1, &v)) {		/* zero-copy, read-only */
		n = weave_view_read(&v, buf, sizeof(buf));
		printf("view: %.*s\n", (int)n, buf);
		weave_view_unmap(&v);
	}
	weave_close(w);			/* not persistent: it goes away now */
	return 0;
}
