/* admin_static.c — placeholder until the web page lands: every asset is missing. */
#include "admin/admin_static.h"

#include "admin/admin_internal.h"

int admin_static_serve(struct MHD_Connection *c, const char *url) {
    (void)url;
    return admin_reply_error(c, MHD_HTTP_NOT_FOUND, "no such page (the web page is not built in)");
}
