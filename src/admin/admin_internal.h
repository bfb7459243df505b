/* admin_internal.h — what the admin endpoint's files share: the server, replies,
 * routes and the live-event fan-out. */
#ifndef AG_ADMIN_INTERNAL_H
#define AG_ADMIN_INTERNAL_H

#include "admin/admin.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct admin_sse admin_sse;

struct admin_server {
    agora_t *node;
    agora_config *cfg;
    char *token;             /* NULL: no token required */
    struct MHD_Daemon *daemon;
    uint64_t start_ms;       /* monotonic: uptimeSeconds */
    char address[192];
    agora_log_cb log;
    void *log_user;
    _Atomic uint64_t auth_log_ms; /* last "refused" log line (rate limit; any connection thread) */
    admin_sse *sse;
};

/* Log through the server's sink (or stderr). */
void admin_log(admin_server *s, agora_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t admin_now_ms(void);

/* Replies. Each queues a response (the body copied) and returns MHD_YES / MHD_NO. */
int admin_reply(struct MHD_Connection *c, unsigned status, const char *content_type,
                const char *body, size_t len);
int admin_reply_json(struct MHD_Connection *c, unsigned status, const char *json);
/* {"error":"<message>"} */
int admin_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Routes (admin_routes.c). */
int admin_route_status(admin_server *s, struct MHD_Connection *c);
int admin_route_members(admin_server *s, struct MHD_Connection *c);
int admin_route_metrics(admin_server *s, struct MHD_Connection *c);
int admin_route_config(admin_server *s, struct MHD_Connection *c);
int admin_route_schema(admin_server *s, struct MHD_Connection *c);
int admin_route_check(admin_server *s, struct MHD_Connection *c, const char *body, size_t len);

/* Live events (admin_sse.c). */
admin_sse *admin_sse_new(void);
void admin_sse_stop(admin_sse *x);  /* ends every stream (before the daemon stops) */
void admin_sse_free(admin_sse *x);
void admin_sse_publish(admin_sse *x, const agora_event *ev);
int admin_sse_serve(admin_server *s, struct MHD_Connection *c);

#endif
