// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifecycle: unloading weave (delete_module(2) with O_NONBLOCK,
 * what rmmod does) is refused while anything still uses it - an open
 * /dev/weave file, attached or not, a mapping of the index or of an entry
 * whose file was closed, a copy of a mapping in a forked child - and works
 * once the last of them is gone. A persistent registry does not keep the
 * module: unloading frees it, and after a reload its name is unknown.
 * weavectl without the module says so. Then twenty rounds of load
 * (finit_module(2) on the module file), use (create, set, mmap, lock,
 * watch, wait), close and unload, checking
 * /proc/modules, /dev/weave and /sys/module/weave between rounds. Leaks
 * show up in the kmemleak scan the runner does at the end on the debug
 * kernel.
 *
 * Needs root and the module file at /lib/modules/weave.ko (the test VM
 * puts it there); skips otherwise. Every way out of a test leaves the
 * module loaded, with the parameters it had, for the tests after it.
 */
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "weave_proc.h"
#include "weave_ctl.h"

#include "kselftest_harness.h"

#define MOD_NAME	"weave"
#define MOD_FILE	"/lib/modules/weave.ko"
#define ROUNDS		20

/* The module's parameters as it was loaded: name=value ... */
static char mod_params[1024];

/* weave's reference count from /proc/modules, or -1 when not loaded. */
static int mod_refcount(void)
{
	char line[512], name[64];
	int refs, ret = -1;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %*u %d", name, &refs) == 2 &&
		    !strcmp(name, MOD_NAME)) {
			ret = refs;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * Remember the current parameters, as sysfs shows them, to load the
 * module with them again: an earlier test may have changed one.
 */
static void mod_save_params(void)
{
	char path[300], val[64], buf[sizeof(mod_params)];
	struct dirent *d;
	size_t len = 0;
	ssize_t n;
	DIR *dir;
	int fd;

	dir = opendir(WV_PARAM_DIR);
	if (!dir)
		return;
	buf[0] = '\0';
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), WV_PARAM_DIR "%s", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, val, sizeof(val) - 1);
		close(fd);
		if (n <= 0)
			continue;
		val[n] = '\0';
		val[strcspn(val, "\n")] = '\0';
		if (!val[0] || strchr(val, ' '))
			continue;
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s=%s",
				len ? " " : "", d->d_name, val);
		if (len >= sizeof(buf))
			break;
	}
	closedir(dir);
	if (len < sizeof(buf))
		memcpy(mod_params, buf, len + 1);
}

/* rmmod without waiting: 0 or -errno. */
static int mod_unload(void)
{
	if (mod_refcount() >= 0)
		mod_save_params();
	return syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK) ? -errno : 0;
}

/* insmod: 0 or -errno. */
static int mod_load(void)
{
	int fd = open(MOD_FILE, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, mod_params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Load the module unless it is loaded: 0 or -errno. */
static int mod_ensure(void)
{
	int ret;

	if (mod_refcount() >= 0)
		return 0;
	ret = mod_load();
	return ret == -EEXIST ? 0 : ret;
}

static bool mod_testable(void)
{
	return !geteuid() && !access(MOD_FILE, R_OK) && mod_refcount() >= 0;
}

static bool path_exists(const char *path)
{
	return !access(path, F_OK);
}

/*
 * A test that dies after unloading leaves no teardown behind it; the
 * main process loads the module again on its way out, or when the
 * runner's timeout stops it.
 */
static void mod_reload(void)
{
	/* No stdio here: a load that finds the module loaded gets EEXIST. */
	mod_load();
}

static void __attribute__((constructor)) mod_guard(void)
{
	wv_on_kill(mod_reload);
}

static void __attribute__((destructor)) mod_guard_exit(void)
{
	if (!geteuid() && !access(MOD_FILE, R_OK))
		mod_ensure();
}

FIXTURE(life) {
	bool ready;
	char name[64];
	int fd;
	void *map;
	size_t map_len;
};

FIXTURE_SETUP(life)
{
	self->fd = -1;
	self->map = MAP_FAILED;
	if (!mod_testable())
		SKIP(return, "needs root, weave loaded as a module, and %s",
		     MOD_FILE);
	/* With the main process gone, nobody would reload the module. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	mod_save_params();
	wv_name(self->name, sizeof(self->name), "life");
	self->ready = true;
}

/* SKIP() in the setup does not stop the test of this harness. */
#define NEED_READY()			\
	do {				\
		if (!self->ready)	\
			return;		\
	} while (0)

FIXTURE_TEARDOWN(life)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->map_len);
	if (self->fd >= 0)
		close(self->fd);
	if (self->ready)
		EXPECT_EQ(0, mod_ensure()) TH_LOG("could not load %s again",
						  MOD_FILE);
}

/* Unloading is refused with EWOULDBLOCK while the module is in use. */
static void expect_busy(struct __test_metadata *_metadata, const char *what)
{
	EXPECT_EQ(-EWOULDBLOCK, mod_unload()) TH_LOG("rmmod while %s", what);
	EXPECT_LE(0, mod_refcount()) TH_LOG("unloaded while %s", what);
}

/* Unloading works, and every trace of the module goes with it. */
static void expect_unload(struct __test_metadata *_metadata)
{
	EXPECT_EQ(0, mod_refcount());
	ASSERT_EQ(0, mod_unload());
	EXPECT_EQ(-1, mod_refcount());
	EXPECT_FALSE(path_exists(WEAVE_DEV));
	EXPECT_FALSE(path_exists("/sys/module/" MOD_NAME));
}

static void expect_load(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, mod_load());
	EXPECT_EQ(0, mod_refcount());
	EXPECT_TRUE(path_exists(WEAVE_DEV));
}

TEST_F(life, busy_file)
{
	int fd, fd2;

	NEED_READY();
	/* An open file pins the module before it is attached... */
	fd = wv_dev(O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, mod_refcount());
	expect_busy(_metadata, "an unattached file is open");

	/* ...and after; one reference per file. */
	ASSERT_EQ(0, wv_attach(fd, NULL, WEAVE_ATTACH_ANON, 0600, 0, NULL));
	ASSERT_EQ(0, wv_set(fd, 1, "x", 1, 0, NULL));
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(1, mod_refcount());
	close(fd);
	expect_busy(_metadata, "a dup of an attached file is open");
	close(fd2);

	expect_unload(_metadata);
	expect_load(_metadata);
}

/* weavectl without the module: exit 1, and a message that says why. */
TEST_F(life, weavectl_without_module)
{
	static struct wv_ctl c;

	NEED_READY();
	if (access(wv_ctl_path(), X_OK))
		SKIP(return, "no weavectl next to the selftests");
	expect_unload(_metadata);
	EXPECT_EQ(1, WV_CTL(&c, "list"));
	EXPECT_STREQ("weavectl: list: the weave netlink family is missing "
		     "(is weave.ko loaded?)\n", c.err);
	EXPECT_EQ(1, WV_CTL(&c, "show", self->name));
	EXPECT_NE(NULL, strstr(c.err, "show: the weave netlink family is "
			       "missing")) TH_LOG("%s", c.err);
	EXPECT_EQ(1, WV_CTL(&c, "monitor"));
	EXPECT_NE(NULL, strstr(c.err, "monitor: the weave netlink family is "
			       "missing")) TH_LOG("%s", c.err);
	EXPECT_EQ(1, WV_CTL(&c, "get", self->name, "1"));
	EXPECT_NE(NULL, strstr(c.err, "No such device")) TH_LOG("%s", c.err);
	EXPECT_STREQ("", c.out);
	expect_load(_metadata);
}

TEST_F(life, busy_process)
{
	int pipefd[2], status;
	char c = 0;
	pid_t pid;

	NEED_READY();
	/* A child holds the only file; the module waits for its exit. */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE,
				 0600, 0, NULL);

		close(pipefd[0]);
		if (fd < 0 || write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	expect_busy(_metadata, "another process has a file open");
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	expect_unload(_metadata);
	expect_load(_metadata);
}

/* A mapping of @offset, @len bytes of a fresh registry with one entry. */
static void *map_one(struct __test_metadata *_metadata, int *fdp,
		     bool index, size_t *lenp)
{
	struct weave_info_args info;
	struct weave_stat_args st;
	unsigned char val[3000];
	void *p;
	int fd;

	fd = wv_open_anon(16);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(-fd));
	*fdp = fd;
	wv_pattern(val, sizeof(val), 7);
	ASSERT_EQ(0, wv_set(fd, 5, val, sizeof(val), 0, NULL));
	ASSERT_EQ(0, wv_info(fd, &info));
	ASSERT_EQ(0, wv_stat(fd, 5, &st));
	*lenp = index ? info.index_size : wv_page_align(sizeof(val));
	p = mmap(NULL, *lenp, PROT_READ, MAP_SHARED, fd,
		 index ? 0 : st.map_offset);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	return p;
}

/* What a mapping shows once its file is closed: still the registry. */
static void check_map(struct __test_metadata *_metadata, const void *p,
		      bool index)
{
	const struct weave_index_header *h = p;

	if (index) {
		EXPECT_EQ(WEAVE_INDEX_MAGIC, h->magic);
		EXPECT_EQ(1, h->count);
	} else {
		EXPECT_TRUE(wv_check_pattern(p, 3000, 7));
	}
}

TEST_F(life, busy_mapping)
{
	int i;

	NEED_READY();
	/* The index, then an entry: the mapping outlives its file. */
	for (i = 0; i < 2; i++) {
		bool index = i == 0;

		self->map = map_one(_metadata, &self->fd, index,
				    &self->map_len);
		close(self->fd);
		self->fd = -1;
		EXPECT_EQ(1, mod_refcount());
		expect_busy(_metadata, index ? "the index is mapped" :
			    "an entry is mapped");
		check_map(_metadata, self->map, index);
		munmap(self->map, self->map_len);
		self->map = MAP_FAILED;

		expect_unload(_metadata);
		expect_load(_metadata);
	}
}

TEST_F(life, busy_forked_mapping)
{
	int pipefd[2], status;
	char c = 0;
	pid_t pid;

	NEED_READY();
	/* A forked child's copy of a view keeps the module too. */
	self->map = map_one(_metadata, &self->fd, false, &self->map_len);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		close(self->fd);
		if (!wv_check_pattern(self->map, 3000, 7) ||
		    write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	munmap(self->map, self->map_len);
	self->map = MAP_FAILED;
	close(self->fd);
	self->fd = -1;
	expect_busy(_metadata, "a child has a copy of a view");
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	expect_unload(_metadata);
	expect_load(_metadata);
}

TEST_F(life, persistent_freed)
{
	struct weave_attach_args a;
	int fd;

	NEED_READY();
	fd = wv_open(self->name, O_RDWR, WEAVE_ATTACH_CREATE |
		     WEAVE_ATTACH_EXCL | WEAVE_ATTACH_PERSIST, 0600, 0, &a);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(-fd));
	ASSERT_EQ(0, wv_set(fd, 1, "persist", 7, 0, NULL));
	ASSERT_EQ(0, wv_set(fd, 2, NULL, 0, 0, NULL));
	ASSERT_EQ(0, wv_resize(fd, 2, 50000, 0, NULL));
	close(fd);

	/* No file: the registry lives on, and does not pin the module. */
	fd = wv_open(self->name, O_RDONLY, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2, wv_count(fd));
	close(fd);

	expect_unload(_metadata);
	expect_load(_metadata);
	EXPECT_EQ(-ENOENT, wv_open(self->name, O_RDONLY, 0, 0, 0, NULL));
}

/* One round of use: what a program would do, with every kind of object. */
static void use(struct __test_metadata *_metadata, const char *name,
		unsigned int round)
{
	unsigned char val[6000];
	struct weave_info_args info;
	struct weave_stat_args st;
	struct weave_event ev[4];
	void *index, *view;
	int fd, fd2;
	__u64 gen;

	/* The name was never seen by this instance of the module. */
	ASSERT_EQ(-ENOENT, wv_open(name, O_RDONLY, 0, 0, 0, NULL));
	fd = wv_open(name, O_RDWR, WEAVE_ATTACH_CREATE | WEAVE_ATTACH_EXCL |
		     (round % 2 ? WEAVE_ATTACH_PERSIST : 0), 0600, 64, NULL);
	ASSERT_LE(0, fd) TH_LOG("round %u: create: %s", round, strerror(-fd));
	fd2 = wv_open(name, O_RDONLY | O_NONBLOCK, 0, 0, 0, NULL);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, wv_watch(fd2, 0, WEAVE_EV_ALL, 0));

	wv_pattern(val, sizeof(val), round);
	ASSERT_EQ(0, wv_set(fd, 1, val, 100, 0, &gen));
	ASSERT_EQ(0, wv_set(fd, 2, val, sizeof(val), 0, NULL));
	ASSERT_EQ(0, wv_lock(fd, 2, 0, 0, NULL));
	ASSERT_EQ(0, wv_write(fd, 2, 10, "abc", 3, 0, NULL));

	ASSERT_EQ(0, wv_info(fd, &info));
	ASSERT_EQ(0, wv_stat(fd, 2, &st));
	index = mmap(NULL, info.index_size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, index);
	view = mmap(NULL, wv_page_align(sizeof(val)), PROT_READ, MAP_SHARED,
		    fd, st.map_offset);
	ASSERT_NE(MAP_FAILED, view);
	EXPECT_EQ(2, ((const struct weave_index_header *)index)->count);
	EXPECT_EQ(WEAVE_SLOT_LOCK_EXCL, wv_slot(index, st.slot)->lock);
	EXPECT_EQ(0, memcmp((const char *)view + 10, "abc", 3));
	EXPECT_TRUE(wv_check_pattern(view, 10, round));

	EXPECT_EQ(-ETIMEDOUT, wv_wait(fd2, 1, gen, WEAVE_WAIT_TIMED, 1000,
				      NULL));
	/* Key 1 new, key 2 new and changed: one record each. */
	EXPECT_EQ(2 * (ssize_t)sizeof(ev[0]), read(fd2, ev, sizeof(ev)));

	/* Closed with the lock held and everything mapped: all must go. */
	close(fd);
	close(fd2);
	munmap(index, info.index_size);
	munmap(view, wv_page_align(sizeof(val)));
}

TEST_F_TIMEOUT(life, rounds, 240)
{
	unsigned int i;
	double t0 = wv_now();

	NEED_READY();
	for (i = 0; i < ROUNDS; i++) {
		use(_metadata, self->name, i);
		if (!_metadata->passed)
			break;
		expect_unload(_metadata);
		expect_load(_metadata);
		if (!_metadata->passed)
			break;
	}
	EXPECT_EQ(ROUNDS, i);
	TH_LOG("%u rounds in %.1f s", i, wv_now() - t0);
}

/*
 * Unload while IPC namespaces die: their registries are unnamed from the
 * namespace's teardown, in another task and with no module reference,
 * while the unload frees what is left. Each round, children in new IPC
 * namespaces make persistent registries and exit, and the module is
 * unloaded at once, as their namespaces go. KASAN and kmemleak on the
 * debug kernel check what this cannot see.
 */
#define NS_ROUNDS	10
#define NS_CHILDREN	4

TEST_F_TIMEOUT(life, unload_while_namespaces_die, 240)
{
	pid_t pid[NS_CHILDREN];
	unsigned int i, c;

	NEED_READY();
	for (i = 0; i < NS_ROUNDS && _metadata->passed; i++) {
		for (c = 0; c < NS_CHILDREN; c++) {
			pid[c] = fork();
			ASSERT_GE(pid[c], 0);
			if (!pid[c]) {
				int fd;

				if (unshare(CLONE_NEWIPC))
					_exit(100);
				fd = wv_open(self->name, O_RDWR,
					     WEAVE_ATTACH_CREATE |
					     WEAVE_ATTACH_PERSIST, 0600, 16,
					     NULL);
				if (fd < 0 || wv_set(fd, 1, "ns", 2, 0, NULL))
					_exit(101);
				_exit(0);
			}
		}
		for (c = 0; c < NS_CHILDREN; c++)
			EXPECT_EQ(0, wv_wait_pid(pid[c])) TH_LOG("round %u", i);
		expect_unload(_metadata);
		expect_load(_metadata);
	}
	EXPECT_EQ(NS_ROUNDS, i);
}

TEST_HARNESS_MAIN
