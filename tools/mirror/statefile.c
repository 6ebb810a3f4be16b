// SPDX-License-Identifier: GPL-2.0
/*
 * The state file (--state): what the mirror last agreed on, per key, kept
 * across restarts so that the initial sync applies the per-key rule
 * instead of a policy (sync.c, settle()). A text file:
 *
 *	weave-mirror state 1
 *	registry ID
 *	bucket NAME CREATED
 *	KEY REV GEN		(one line a key)
 *
 * ID is the registry's (WEAVE_IOC_INFO), unique while the module is
 * loaded; CREATED is the bucket's stream's creation time. A file of
 * another registry or bucket (one made again under the same name: its
 * gens or revisions start again) is ignored, with a message. A write
 * awaiting its acknowledgement is saved as what was in step before it.
 * Written to FILE.tmp, synced and renamed over FILE: a crash leaves the
 * old file or the new one, never half of one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirror.h"

#define MAGIC "weave-mirror state 1"

int statefile_load(struct mirror *m)
{
	const char *path = m->o->state_file;
	char line[512], name[256];
	uint64_t id, key, rev, gen;
	struct key_state *ks;
	int64_t created;
	unsigned int nr = 3;
	int err = 0;
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "r");
	if (!f && errno == ENOENT)
		return 0;
	if (!f) {
		err = -errno;
		mlog("state file %s: %s", path, strerror(-err));
		return err;
	}
	if (!fgets(line, sizeof(line), f) || strcmp(line, MAGIC "\n") ||
	    fscanf(f, "registry %" SCNu64 "\n", &id) != 1 ||
	    fscanf(f, "bucket %255s %" SCNd64 "\n", name, &created) != 2) {
		mlog("state file %s: not a weave-mirror state file", path);
		fclose(f);
		return -EINVAL;
	}
	if (id != m->registry_id || strcmp(name, m->o->bucket) ||
	    created != m->b.created) {
		mlog("state file %s: of another registry or bucket (made again "
		     "since?); ignored", path);
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		nr++;
		if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64, &key,
			   &rev, &gen) != 3 || !key) {
			mlog("state file %s: line %u: not KEY REV GEN", path,
			     nr);
			err = -EINVAL;
			break;
		}
		ks = state_get(&m->st, key);
		if (!ks) {
			err = -ENOMEM;
			break;
		}
		ks->rev = rev;
		ks->gen = gen;
	}
	if (!err && ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

int statefile_save(const struct mirror *m)
{
	const char *path = m->o->state_file;
	const struct key_state *ks;
	char *tmp;
	size_t i;
	FILE *f;
	int err = 0;

	if (!path)
		return 0;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	fprintf(f, MAGIC "\nregistry %" PRIu64 "\nbucket %s %" PRId64 "\n",
		m->registry_id, m->o->bucket, m->b.created);
	for (i = 0; i < m->st.cap; i++) {
		ks = &m->st.slots[i];
		if (ks->key && (ks->rev || ks->gen))
			fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				ks->key, ks->rev, ks->gen);
	}
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	if (err)
		mlog("state file %s: cannot write it: %s", path,
		     strerror(-err));
	free(tmp);
	return err;
}
