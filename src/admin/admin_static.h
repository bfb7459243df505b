/* admin_static.h — the embedded web page and its assets (GET / and every GET that is
 * not an API route). Served without the token: the page asks for it itself. */
#ifndef AG_ADMIN_STATIC_H
#define AG_ADMIN_STATIC_H

#include <microhttpd.h>

/* Queue the response for GET `url` on c: the asset, or a 404 JSON error. Returns
 * what MHD_queue_response returns (MHD_YES / MHD_NO). */
int admin_static_serve(struct MHD_Connection *c, const char *url);

#endif
