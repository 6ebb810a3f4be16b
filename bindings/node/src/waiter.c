// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Waiter threads: one for each operation sleeping in the kernel (a lock
 * another file holds, a get behind an exclusive lock, a wait for a gen to
 * move), reused from one operation to the next.
 *
 * Why threads of our own rather than libuv's pool or polling: the pool
 * has 4 threads, and 200 lock waits would hold all of them, stalling
 * every fs and dns call of the process. Trying again on WEAVE_EV_UNLOCKED
 * events would keep the loop free, but the kernel hands a released lock
 * to the first of its queued waiters, FIFO: a caller that only ever tries
 * without sleeping is never queued, so it would lose to every C or
 * Python waiter and could starve. A thread that sleeps in WEAVE_IOC_LOCK
 * holds its place in that queue. A waiter thread has a 64 KiB stack and
 * does nothing but its call, so hundreds cost little; up to WN_IDLE_MAX
 * idle ones wait WN_IDLE_SEC for the next operation before they exit.
 *
 * Cancellation (AbortSignal, close()): the thread is sent WN_SIGNAL,
 * whose handler does nothing and is installed without SA_RESTART, so the
 * sleeping ioctl returns EINTR; the thread sees `cancelled` and stops. A
 * signal that lands just before the thread enters the ioctl would be
 * lost, so a timer sends it again every few milliseconds until the thread
 * is done. Waiter threads block every other signal, and no other thread
 * is ever sent this one, so nothing else in the process sees it. Our
 * signals carry a value of ours (pthread_sigqueue()); any other delivery
 * of WN_SIGNAL (another library's, a kill(2) of the process) goes on to
 * the handler installed before ours, which therefore keeps working.
 *
 * A finished request is put on the env's done list and the env's
 * uv_async wakes the JS thread, which settles the promise inside a
 * callback scope (so that its reactions run at once).
 * The async handle keeps the loop alive while requests are pending, like
 * any pending I/O.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "weave_node.h"

#define WN_SIGNAL	(SIGRTMIN + 7)
#define WN_STACK	(64 * 1024)
#define WN_REKILL_MS	5
/* Idle waiter threads kept for the next waits, and for how long. */
#define WN_IDLE_MAX	64
#define WN_IDLE_SEC	10

/*
 * Waiter threads are shared by every env of the process and reused: a
 * thread that finished its request waits WN_IDLE_SEC on its condition
 * variable for the next one before it exits, so that a program that
 * waits often does not create a thread for each wait.
 */
struct wn_thread {
	pthread_t tid;
	pthread_cond_t cond;
	struct wn_req *req;		/* the next request, under pool.lock */
	struct wn_thread *next;		/* in pool.idle */
};

static struct {
	pthread_mutex_t lock;
	struct wn_thread *idle;
	unsigned int nidle;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The disposition of WN_SIGNAL before ours; its address marks our signals. */
static struct sigaction prev_action;

/*
 * Ours only interrupts the waiter's ioctl (EINTR): nothing to do. Any
 * other goes to the handler we replaced, as if we were not there.
 */
static void wn_signal_handler(int sig, siginfo_t *si, void *uc)
{
	if (si && si->si_code == SI_QUEUE &&
	    si->si_value.sival_ptr == &prev_action)
		return;
	if (prev_action.sa_flags & SA_SIGINFO) {
		if (prev_action.sa_sigaction)
			prev_action.sa_sigaction(sig, si, uc);
	} else if (prev_action.sa_handler != SIG_DFL &&
		   prev_action.sa_handler != SIG_IGN) {
		prev_action.sa_handler(sig);
	}
}

static void signal_setup_once(void)
{
	struct sigaction sa = { .sa_sigaction = wn_signal_handler,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the sleeping ioctl must return EINTR. */
	sigaction(WN_SIGNAL, &sa, &prev_action);
}

/* Interrupt @thread's ioctl with one of our signals. */
static void wn_kill(pthread_t thread)
{
	union sigval v = { .sival_ptr = &prev_action };

	pthread_sigqueue(thread, WN_SIGNAL, v);
}

void wn_signal_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, signal_setup_once);
}

/*
 * Run @r and hand it to its env. Once r->finished is set (under the env's
 * lock, which the env's teardown takes to look at it) the thread touches
 * neither @r nor its env again.
 */
static void waiter_run(struct wn_req *r)
{
	struct wn_env *e = r->env;

	for (;;) {
		if (atomic_load(&r->cancelled)) {
			r->err = -ECANCELED;
			break;
		}
		wn_op_run(r, false);
		if (r->err != -EINTR)
			break;
	}
	pthread_mutex_lock(&e->lock);
	wn_list_add_tail(&r->done_link, &e->done);
	atomic_store(&r->finished, true);
	uv_async_send(&e->async);
	pthread_mutex_unlock(&e->lock);
}

static void pool_unlink_idle(struct wn_thread *t)
{
	struct wn_thread **pp;

	for (pp = &pool.idle; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			pool.nidle--;
			return;
		}
	}
}

static void *waiter_main(void *arg)
{
	struct wn_thread *t = arg;
	struct timespec until;
	struct wn_req *r;
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, WN_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	pthread_mutex_lock(&pool.lock);
	for (;;) {
		r = t->req;
		if (r) {
			t->req = NULL;
			pthread_mutex_unlock(&pool.lock);
			waiter_run(r);
			pthread_mutex_lock(&pool.lock);
			if (pool.nidle >= WN_IDLE_MAX)
				break;
			t->next = pool.idle;
			pool.idle = t;
			pool.nidle++;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += WN_IDLE_SEC;
			continue;
		}
		/* Woken early by a signal or spuriously: wait on. */
		if (pthread_cond_timedwait(&t->cond, &pool.lock, &until) ==
		    ETIMEDOUT && !t->req) {
			pool_unlink_idle(t);
			break;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	pthread_cond_destroy(&t->cond);
	free(t);
	return NULL;
}

static int thread_new(struct wn_req *r)
{
	pthread_condattr_t ca;
	pthread_attr_t attr;
	struct wn_thread *t;
	sigset_t all, old;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	t->req = r;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WN_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Born with every signal blocked; it unblocks WN_SIGNAL itself. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t->tid, &attr, waiter_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		pthread_cond_destroy(&t->cond);
		free(t);
		return -err;
	}
	r->thread = t->tid;
	return 0;
}

int wn_waiter_start(struct wn_env *e, struct wn_req *r)
{
	struct wn_thread *t;
	int err = 0;

	r->env = e;
	wn_list_init(&r->done_link);
	pthread_mutex_lock(&pool.lock);
	t = pool.idle;
	if (t) {
		pool.idle = t->next;
		pool.nidle--;
		t->req = r;
		r->thread = t->tid;
		pthread_cond_signal(&t->cond);
	}
	pthread_mutex_unlock(&pool.lock);
	if (!t)
		err = thread_new(r);
	if (err)
		return err;
	if (!++e->next_id)
		++e->next_id;
	r->id = e->next_id;
	r->h->refs++;
	r->h->nreqs++;
	wn_list_add_tail(&r->link, &e->reqs);
	if (!e->pending++)
		uv_ref((uv_handle_t *)&e->async);
	return 0;
}

void wn_waiter_cancel(struct wn_req *r)
{
	struct wn_env *e = r->env;

	if (atomic_exchange(&r->cancelled, true))
		return;
	e->cancelling++;
	/* Once finished, the thread may already serve another request. */
	pthread_mutex_lock(&e->lock);
	if (!atomic_load(&r->finished))
		wn_kill(r->thread);
	pthread_mutex_unlock(&e->lock);
	if (!uv_is_active((uv_handle_t *)&e->rekill))
		uv_timer_start(&e->rekill, wn_rekill, WN_REKILL_MS,
			       WN_REKILL_MS);
}

void wn_rekill(uv_timer_t *t)
{
	struct wn_env *e = t->data;
	struct wn_list *p;
	struct wn_req *r;

	if (!e->cancelling) {
		uv_timer_stop(t);
		return;
	}
	pthread_mutex_lock(&e->lock);
	for (p = e->reqs.next; p != &e->reqs; p = p->next) {
		r = wn_container_of(p, struct wn_req, link);
		if (atomic_load(&r->cancelled) && !atomic_load(&r->finished))
			wn_kill(r->thread);
	}
	pthread_mutex_unlock(&e->lock);
}

/* cancel(id): cut the pending request @id short; no-op once settled. */
napi_value wn_cancel(napi_env env, napi_callback_info info)
{
	struct wn_env *e = wn_env_get(env);
	struct wn_list *p;
	struct wn_req *r;
	napi_value argv[1];
	uint32_t id;

	if (!e || !wn_args(env, info, 1, argv) ||
	    napi_get_value_uint32(env, argv[0], &id) != napi_ok)
		return NULL;
	for (p = e->reqs.next; p != &e->reqs; p = p->next) {
		r = wn_container_of(p, struct wn_req, link);
		if (r->id == id) {
			wn_waiter_cancel(r);
			break;
		}
	}
	return wn_undefined(env);
}

static void settle(napi_env env, struct wn_req *r)
{
	struct wn_handle *h = r->h;
	bool ok_enoent = r->op == WN_GET || r->op == WN_DELETE;
	napi_value v;

	/* A lock taken after its caller gave up is given back at once. */
	if (atomic_load(&r->cancelled) && r->op == WN_LOCK && !r->err) {
		weave_unlock(h->w, r->key, 0);
		r->err = -ECANCELED;
	}
	if (r->err == -EINTR)
		r->err = -ECANCELED;
	if (!r->err || (r->err == -ENOENT && ok_enoent)) {
		v = wn_op_result(env, r);
		if (v) {
			napi_resolve_deferred(env, r->deferred, v);
			return;
		}
		napi_get_and_clear_last_exception(env, &v);
		napi_reject_deferred(env, r->deferred, v);
		return;
	}
	napi_reject_deferred(env, r->deferred,
			     wn_error(env, r->err, wn_op_name(r->op), h,
				      r->op == WN_CLEAR ? 0 : r->key));
}

/* Forget @r: it is finished and joined. */
static void req_done(struct wn_env *e, struct wn_req *r)
{
	struct wn_handle *h = r->h;

	wn_list_del(&r->link);
	if (atomic_load(&r->cancelled))
		e->cancelling--;
	if (!--e->pending && !e->torn_down)
		uv_unref((uv_handle_t *)&e->async);
	wn_req_free(r);
	h->nreqs--;
	wn_handle_release_file(h);
	wn_handle_put(h);
}

void wn_async_done(uv_async_t *async)
{
	struct wn_env *e = async->data;
	napi_env env = e->env;
	napi_handle_scope hs;
	napi_callback_scope cs;
	struct wn_list done;
	struct wn_req *r;
	napi_value res;

	wn_list_init(&done);
	pthread_mutex_lock(&e->lock);
	if (!wn_list_empty(&e->done)) {
		done = e->done;
		done.next->prev = &done;
		done.prev->next = &done;
		wn_list_init(&e->done);
	}
	pthread_mutex_unlock(&e->lock);
	if (wn_list_empty(&done))
		return;
	napi_open_handle_scope(env, &hs);
	napi_create_object(env, &res);
	napi_open_callback_scope(env, res, e->actx, &cs);
	while (!wn_list_empty(&done)) {
		r = wn_container_of(done.next, struct wn_req, done_link);
		wn_list_del(&r->done_link);
		settle(env, r);
		req_done(e, r);
	}
	napi_close_callback_scope(env, cs);
	napi_close_handle_scope(env, hs);
}

/*
 * The env is going away (its thread exits): stop every waiter, wait until
 * each is finished (then its thread no longer looks at the env), and
 * forget the requests without settling them.
 */
void wn_waiters_join_all(struct wn_env *e)
{
	struct wn_list *p;
	struct wn_req *r;
	bool running;

	for (p = e->reqs.next; p != &e->reqs; p = p->next)
		wn_waiter_cancel(wn_container_of(p, struct wn_req, link));
	do {
		running = false;
		pthread_mutex_lock(&e->lock);
		for (p = e->reqs.next; p != &e->reqs; p = p->next) {
			r = wn_container_of(p, struct wn_req, link);
			if (!atomic_load(&r->finished)) {
				running = true;
				wn_kill(r->thread);
			}
		}
		pthread_mutex_unlock(&e->lock);
		if (running)
			usleep(1000);
	} while (running);
	wn_list_init(&e->done);
	while (!wn_list_empty(&e->reqs)) {
		r = wn_container_of(e->reqs.next, struct wn_req, link);
		if (r->op == WN_LOCK && !r->err && r->h->w)
			weave_unlock(r->h->w, r->key, 0);
		req_done(e, r);
	}
}
