/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Processes and threads for the weave selftests, next to weave_util.h:
 * waiting for and killing children, memory shared with them, time stamps
 * passed between them, signal handlers, a timer thread, and passing an
 * fd over a unix socket.
 */
#ifndef __WEAVE_PROC_H
#define __WEAVE_PROC_H

#include "weave_util.h"

#include <grp.h>
#include <pthread.h>

#define WV_NOBODY		65534

/*
 * Wait for @pid: its exit status, 128 + the signal that killed it, or -1.
 * Children report failures by exit status; they never use ASSERT/EXPECT.
 */
static inline int wv_wait_pid(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/*
 * Run @fn when the runner's timeout (SIGTERM) or ^C (SIGINT) stops the
 * process, then die of the signal: a test that dies runs no teardown, so
 * a test that changes global state (module parameters, the module
 * itself, fault injection) puts it back from here too. @fn must be
 * async-signal-safe.
 */
static void (*wv_on_kill_fn)(void);

static void wv_on_kill_handler(int sig)
{
	wv_on_kill_fn();
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void wv_on_kill(void (*fn)(void))
{
	wv_on_kill_fn = fn;
	signal(SIGTERM, wv_on_kill_handler);
	signal(SIGINT, wv_on_kill_handler);
}

/*
 * Drop every privilege: all uids @uid, all gids @gid, no supplementary
 * groups (a capability set is cleared with the uid). 0 or -1.
 */
static inline int wv_become(uid_t uid, gid_t gid)
{
	return setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	       setresuid(uid, uid, uid) ? -1 : 0;
}

/* Kill (SIGKILL) and reap the children in @pids that are still set. */
static inline void wv_reap(pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
		}
	}
}

/* Zeroed memory shared with forked children, or NULL. */
static inline void *wv_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A time stamp in memory shared with another process or thread. */
static inline void wv_put_time(double *p, double v)
{
	__atomic_store(p, &v, __ATOMIC_SEQ_CST);
}

static inline double wv_get_time(double *p)
{
	double v;

	__atomic_load(p, &v, __ATOMIC_SEQ_CST);
	return v;
}

/* Install @fn for @sig, with SA_RESTART when @restart. */
static inline int wv_sigaction(int sig, void (*fn)(int), bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) ? -errno : 0;
}

/*
 * A thread that, after @delay_ms, sends @sig to @target (if @sig) and then
 * after @action_ms more runs @action(@arg) (if set).
 */
struct wv_timer {
	pthread_t thread;
	pthread_t target;
	int sig;
	long delay_ms;
	long action_ms;
	void (*action)(void *arg);
	void *arg;
	double fired;		/* when the signal was sent */
	double acted;		/* when the action ran */
};

static void *wv_timer_fn(void *p)
{
	struct wv_timer *t = p;

	wv_sleep_ms(t->delay_ms);
	t->fired = wv_now();
	if (t->sig)
		pthread_kill(t->target, t->sig);
	if (t->action) {
		wv_sleep_ms(t->action_ms);
		t->acted = wv_now();
		t->action(t->arg);
	}
	return NULL;
}

static inline int wv_timer_start(struct wv_timer *t)
{
	t->target = pthread_self();
	return -pthread_create(&t->thread, NULL, wv_timer_fn, t);
}

static inline void wv_timer_join(struct wv_timer *t)
{
	pthread_join(t->thread, NULL);
}

/* Pass @fd over the unix socket @sock (SCM_RIGHTS): 0 or -1. */
static inline int wv_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* An fd passed over @sock with wv_send_fd(), or -1. */
static inline int wv_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

#endif /* __WEAVE_PROC_H */
