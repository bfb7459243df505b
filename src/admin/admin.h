/* admin.h — the admin HTTP endpoint of a node (`agora serve --http`): metrics, the
 * JSON API, live events over Server-Sent Events and the web page, served by
 * libmicrohttpd on its own threads. It reads the node through agora.h only, so any
 * application embedding libagora could serve the same (docs/admin.md). */
#ifndef AG_ADMIN_H
#define AG_ADMIN_H

#include "agora.h"

typedef struct admin_server admin_server;

/* Serve `node` on `listen` ("HOST:PORT"; port 0 picks a free one). `cfg` is the
 * node's configuration (copied: /api/config shows it, secrets masked); `token`
 * (copied; NULL or "" for none) is the bearer token every route but the page
 * requires. `log` receives the endpoint's own log lines (any of its threads).
 * Returns AGORA_OK and *out, or an error with the reason in err. Blocks while it
 * binds; any thread. */
int admin_start(agora_t *node, const agora_config *cfg, const char *listen, const char *token,
                agora_log_cb log, void *log_user, admin_server **out, char *err, size_t errlen);

/* The address it listens on, with the port it got ("127.0.0.1:8080"). */
const char *admin_address(const admin_server *s);

/* Hand one event the node delivered to the live-event clients (/api/events). Any
 * thread, from event callbacks too; never blocks (each client's queue is bounded: a
 * client that cannot keep up loses events and is told so). */
void admin_event(admin_server *s, const agora_event *ev);

/* Stop serving (live-event clients are closed) and free. NULL is allowed. Blocks
 * until the server's threads are gone (well under a second). */
void admin_stop(admin_server *s);

#endif
