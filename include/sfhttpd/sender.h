/*
 * sender.h - write a response to a non-blocking socket: the head and
 * memory segments with one gather write (sendmsg with MSG_MORE when a
 * file range follows, so head and first body bytes can share a packet),
 * file ranges with sendfile from their offset. Resumable: call again on
 * the next writable event.
 */
#ifndef SFHTTPD_SENDER_H
#define SFHTTPD_SENDER_H

#include <stddef.h>
#include "sfhttpd/common.h"
#include "sfhttpd/response.h"

/*
 * Send as much of r as the socket takes, at most budget bytes (fairness:
 * one fast client cannot starve the others). Returns SF_IO_OK when the
 * whole response is out, SF_IO_AGAIN when the socket is full or the
 * budget is used up, SF_IO_ERR with *err = -errno on failure: -EPIPE or
 * -ECONNRESET for a client gone, -ENODATA when a file ended before the
 * promised length (it shrank under us), -ESTALE when a file guarded by
 * stat changed (size, mtime or ctime) since it was cached.
 */
enum sf_io sf_sender_send(struct sf_response *r, int sock, size_t budget, int *err);

#endif
