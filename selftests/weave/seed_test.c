// SPDX-License-Identifier: GPL-2.0
/*
 * The example of the JavaScript library weave grew from, on raw ioctls:
 *
 *	const registry = new Registry(1_000)
 *	await map.set(1, "suh")
 *	await map.get(1) // "suh"   (in another thread; here, a process)
 *
 * and its Map-like iteration: keys(), values(), entries().
 */
#include "weave_proc.h"

#include "kselftest_harness.h"

FIXTURE(seed) {
	char name[64];
	int fd;
};

FIXTURE_SETUP(seed)
{
	struct weave_info_args info;

	wv_name(self->name, sizeof(self->name), "seed");
	/* new Registry(1_000) */
	self->fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE |
			   WEAVE_ATTACH_EXCL, 0600, 1000, NULL);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	ASSERT_EQ(0, wv_info(self->fd, &info));
	ASSERT_EQ(1000, info.max_entries);
}

FIXTURE_TEARDOWN(seed)
{
	close(self->fd);
	wv_unlink_name(self->name);
}

TEST_F(seed, set_here_get_there)
{
	char out[16];
	pid_t pid;

	ASSERT_EQ(0, wv_set(self->fd, 1, "suh", 3, 0, NULL));

	/* Another process, which knows only the name. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct weave_get_args g;
		int fd;

		close(self->fd);
		fd = wv_open(self->name, O_RDWR, 0, 0, 0, NULL);
		if (fd < 0)
			_exit(10);
		memset(out, 0, sizeof(out));
		if (wv_get(fd, 1, out, sizeof(out), 0, 0, &g))
			_exit(11);
		if (g.size != 3 || strcmp(out, "suh"))
			_exit(12);
		/* and an answer the other way */
		if (wv_set(fd, 2, "yo", 2, 0, NULL))
			_exit(13);
		_exit(0);
	}
	EXPECT_EQ(0, wv_wait_pid(pid));

	struct weave_get_args g;

	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, wv_get(self->fd, 2, out, sizeof(out), 0, 0, &g));
	EXPECT_STREQ("yo", out);
}

/* The registry holds its capacity and not one more. */
TEST_F(seed, capacity)
{
	__u64 k;

	for (k = 1; k <= 1000; k++)
		ASSERT_EQ(0, wv_set(self->fd, k, &k, sizeof(k), 0, NULL));
	EXPECT_EQ(-ENOSPC, wv_set(self->fd, 1001, "x", 1, 0, NULL));
	EXPECT_EQ(1000, wv_count(self->fd));
}

static const struct {
	__u64 key;
	const char *value;
} fruit[] = {
	{ 1, "suh" }, { 2, "apple" }, { 3, "banana" }, { 10, "cherry" },
	{ 100, "" }, { 12345678901ULL, "far away" },
};
#define NFRUIT (ARRAY_SIZE(fruit))

static int fruit_index(__u64 key)
{
	size_t i;

	for (i = 0; i < NFRUIT; i++)
		if (fruit[i].key == key)
			return i;
	return -1;
}

TEST_F(seed, iteration)
{
	__u64 keys[NFRUIT + 8];
	bool seen[NFRUIT] = { false };
	char value[64];
	long n, i;

	for (i = 0; i < (long)NFRUIT; i++)
		ASSERT_EQ(0, wv_set(self->fd, fruit[i].key, fruit[i].value,
				    strlen(fruit[i].value), 0, NULL));
	/* map.size */
	EXPECT_EQ(NFRUIT, wv_count(self->fd));

	/* map.keys(): every key, once */
	n = wv_list_all(self->fd, keys, NFRUIT + 8, 2);
	ASSERT_EQ(NFRUIT, n);
	for (i = 0; i < n; i++) {
		int f = fruit_index(keys[i]);

		ASSERT_GE(f, 0) TH_LOG("unknown key %llu",
				       (unsigned long long)keys[i]);
		EXPECT_FALSE(seen[f]);
		seen[f] = true;
	}

	/* map.entries() and map.values(): each key with its value */
	for (i = 0; i < n; i++) {
		struct weave_get_args g;
		int f = fruit_index(keys[i]);

		memset(value, 0, sizeof(value));
		ASSERT_EQ(0, wv_get(self->fd, keys[i], value, sizeof(value), 0,
				    0,
				    &g));
		EXPECT_EQ(strlen(fruit[f].value), g.size);
		EXPECT_STREQ(fruit[f].value, value);
	}

	/* map.has(), map.delete(), map.clear() */
	EXPECT_EQ(0, wv_stat(self->fd, 3, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 4, NULL));
	EXPECT_EQ(0, wv_delete(self->fd, 3, 0, NULL));
	EXPECT_EQ(-ENOENT, wv_stat(self->fd, 3, NULL));
	n = wv_list_all(self->fd, keys, NFRUIT + 8, 64);
	EXPECT_EQ(NFRUIT - 1, n);
	for (i = 0; i < n; i++)
		EXPECT_NE(3, keys[i]);
	__u64 removed;

	EXPECT_EQ(0, wv_clear(self->fd, 0, &removed, NULL));
	EXPECT_EQ(NFRUIT - 1, removed);
	EXPECT_EQ(0, wv_list_all(self->fd, keys, NFRUIT + 8, 64));
	EXPECT_EQ(0, wv_count(self->fd));
}

TEST_HARNESS_MAIN
