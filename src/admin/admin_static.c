/* The web page's files (src/admin/web/, compiled in as web_assets): GET / is
 * index.html, every other asset by its name; anything else is a 404 JSON error. The
 * bytes are static, so responses point at them without copying. */
#include "admin/admin_static.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <string.h>

#include "admin/admin_internal.h"
#include "admin/web_assets.h"

static const struct web_asset *find_asset(const char *url) {
    if (strcmp(url, "/") == 0) url = "/index.html";
    for (const struct web_asset *a = web_assets; a->path; a++)
        if (strcmp(a->path, url) == 0) return a;
    return NULL;
}

/* If-None-Match names this ETag (alone, in a list, or "*"). */
static bool etag_matches(struct MHD_Connection *c, const char *etag) {
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    return inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
}

int admin_static_serve(struct MHD_Connection *c, const char *url) {
    const struct web_asset *a = find_asset(url);
    if (!a) return admin_reply_error(c, MHD_HTTP_NOT_FOUND, "no such page: %.200s", url);
    bool fresh = etag_matches(c, a->etag);
    struct MHD_Response *r = MHD_create_response_from_buffer(fresh ? 0 : a->len,
        (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    /* no-cache: the browser asks again each time, and the ETag makes that cheap; a new
     * binary's page is seen at once. The page loads nothing from anywhere else. */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    int ret = MHD_queue_response(c, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
