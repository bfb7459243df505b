/* redis_ev.c — hiredis' async event hooks on top of ag_loop.
 *
 * hiredis asks for read/write interest through ev.addRead/delRead/addWrite/delWrite and
 * frees its context through ev.cleanup. We keep the wanted mask in the link and mirror
 * it into the loop. The link outlives its hiredis contexts, so the I/O callback can
 * check after each hiredis call whether the context is still there. */
#include "backend/redis/redis_internal.h"

#include <stdlib.h>

static void sync_mask(ag_rlink *l, unsigned mask) {
    if (l->fd < 0 || l->mask == mask) {
        l->mask = mask;
        return;
    }
    l->mask = mask;
    ag_loop_mod_fd(l->host->loop, l->fd, mask);
}

static void ev_add_read(void *p) {
    ag_rlink *l = p;
    sync_mask(l, l->mask | AG_READ);
}
static void ev_del_read(void *p) {
    ag_rlink *l = p;
    sync_mask(l, l->mask & ~AG_READ);
}
/* Once connected, a command does not arm EPOLLOUT: the output of everything queued
 * during this loop iteration is written in one go when the iteration ends (flush), and
 * EPOLLOUT is armed only if the socket did not take it all. That saves two epoll_ctl
 * calls and one loop wake-up per published message. While connecting, hiredis' own
 * connect check needs the real EPOLLOUT. */
static void flush_cb(ag_loop *loop, void *arg) {
    ag_rlink *l = arg;
    if (!l->want_write || !l->ac) return;
    redisAsyncHandleWrite(l->ac); /* calls ev_del_write when all is written */
    /* A partial write asked again (ev_add_write): EPOLLOUT takes over from here. */
    ag_loop_defer_cancel(loop, &l->flush);
    if (l->ac && l->want_write) sync_mask(l, l->mask | AG_WRITE);
}

static void ev_add_write(void *p) {
    ag_rlink *l = p;
    if (l->mask & AG_WRITE) {
        l->want_write = true; /* EPOLLOUT is armed: the loop calls back */
        return;
    }
    if (l->ac && (l->ac->c.flags & REDIS_CONNECTED)) {
        l->want_write = true;
        l->flush.cb = flush_cb;
        l->flush.arg = l;
        ag_loop_defer(l->host->loop, &l->flush);
        return;
    }
    sync_mask(l, l->mask | AG_WRITE);
}
static void ev_del_write(void *p) {
    ag_rlink *l = p;
    l->want_write = false;
    sync_mask(l, l->mask & ~AG_WRITE);
}

void ag_rlink_cleanup_hook(ag_rlink *l); /* redis_link.c */

static void ev_cleanup(void *p) {
    ag_rlink *l = p;
    l->want_write = false;
    ag_loop_defer_cancel(l->host->loop, &l->flush);
    if (l->fd >= 0) ag_loop_del_fd(l->host->loop, l->fd);
    l->fd = -1;
    l->mask = 0;
    ag_rlink_cleanup_hook(l);
}

static void on_io(ag_loop *loop, int fd, unsigned events, void *arg) {
    ag_rlink *l = arg;
    (void)loop;
    if (!l->ac || l->fd != fd) return;
    bool rd = (events & AG_READ) || ((events & AG_ERROR) && !(l->mask & AG_WRITE));
    bool wr = (events & AG_WRITE) || ((events & AG_ERROR) && (l->mask & AG_WRITE));
    if (rd) redisAsyncHandleRead(l->ac);
    /* the read may have freed the context (cleanup sets l->ac to NULL) */
    if (wr && l->ac && l->fd == fd) redisAsyncHandleWrite(l->ac);
}

int ag_redis_ev_attach(ag_rlink *l, redisAsyncContext *ac) {
    l->mask = 0;
    l->want_write = false;
    l->fd = -1;
    if (ag_loop_add_fd(l->host->loop, ac->c.fd, 0, on_io, l) < 0) return -1;
    l->fd = ac->c.fd;
    ac->ev.data = l;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    return 0;
}
