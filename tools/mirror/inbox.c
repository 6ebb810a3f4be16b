// SPDX-License-Identifier: GPL-2.0
/*
 * The inbox: what the NATS client's threads (the acknowledgements of
 * writes, the connection's events, the watcher's thread when it needs the
 * loop) hand to the event loop, in order, and an eventfd that the loop polls next to the
 * registry's descriptor. Posting writes to the eventfd only when the
 * inbox was empty, so a burst costs the loop one wakeup.
 *
 * A message that cannot be allocated is not dropped silently: the inbox
 * records the loss and the loop, told so, watches the bucket again and
 * resyncs, which recovers whatever the message would have said.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mirror.h"

int inbox_init(struct inbox *in)
{
	in->head = NULL;
	in->tail = &in->head;
	in->lost = false;
	in->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (in->efd < 0)
		return -errno;
	pthread_mutex_init(&in->lock, NULL);
	return 0;
}

void inbox_msg_free(struct inbox_msg *msg)
{
	free(msg);
}

void inbox_free(struct inbox *in)
{
	struct inbox_msg *msg, *next;

	if (in->efd < 0)
		return;
	for (msg = in->head; msg; msg = next) {
		next = msg->next;
		inbox_msg_free(msg);
	}
	close(in->efd);
	in->efd = -1;
	pthread_mutex_destroy(&in->lock);
}

/* Wake the loop; async-signal-safe, so the signal handlers use it too. */
void inbox_wake(struct inbox *in)
{
	uint64_t one = 1;

	/* Only EAGAIN (the counter is full, the loop is awake) can fail. */
	if (write(in->efd, &one, sizeof(one)) < 0)
		return;
}

void inbox_post(struct inbox *in, struct inbox_msg *msg)
{
	bool was_empty;

	msg->next = NULL;
	pthread_mutex_lock(&in->lock);
	was_empty = !in->head;
	*in->tail = msg;
	in->tail = &msg->next;
	pthread_mutex_unlock(&in->lock);
	if (was_empty)
		inbox_wake(in);
}

/* A message could not be allocated: the loop recovers (see above). */
void inbox_lost(struct inbox *in)
{
	pthread_mutex_lock(&in->lock);
	in->lost = true;
	pthread_mutex_unlock(&in->lock);
	inbox_wake(in);
}

void inbox_post_kind(struct inbox *in, enum inbox_kind kind)
{
	struct inbox_msg *msg = calloc(1, sizeof(*msg));

	if (!msg) {
		inbox_lost(in);
		return;
	}
	msg->kind = kind;
	inbox_post(in, msg);
}

/* A failure the loop exits on (its message, if it can be allocated). */
void inbox_post_error(struct inbox *in, int err)
{
	struct inbox_msg *msg = calloc(1, sizeof(*msg));

	if (!msg) {
		inbox_lost(in);
		return;
	}
	msg->kind = IN_FAILED;
	msg->err = err;
	inbox_post(in, msg);
}

/* Everything posted so far, oldest first (NULL: nothing); *@lost tells
 * that a message was lost since the last call. Clears the eventfd.
 */
struct inbox_msg *inbox_take(struct inbox *in, bool *lost)
{
	struct inbox_msg *list;
	uint64_t n;

	/* Cleared before the list is taken: a post after this wakes again. */
	if (read(in->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return NULL;
	pthread_mutex_lock(&in->lock);
	list = in->head;
	in->head = NULL;
	in->tail = &in->head;
	*lost = in->lost;
	in->lost = false;
	pthread_mutex_unlock(&in->lock);
	return list;
}
