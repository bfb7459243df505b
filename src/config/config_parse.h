/* config_parse.h — error collection and field readers shared by the node-file parser
 * (config.c) and the section engine (config_section.c). Internal to src/config/. */
#ifndef AG_CONFIG_PARSE_H
#define AG_CONFIG_PARSE_H

#include "config/config_section.h"
#include "util/buf.h"
#include "util/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_CPATH_MAX 256

typedef struct ag_cparse {
    ag_buf errs; /* "path: message\n" lines */
    size_t nerr;
    bool oom;
} ag_cparse;

void ag_cerr(ag_cparse *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy the collected lines into err (whole lines, then "... and N more error(s)"). */
void ag_cflush(ag_cparse *c, char *err, size_t errlen);
/* A JSON string value for a message: escaped and shortened. Never for secrets. */
const char *ag_cquote(const ag_json *v, char *buf, size_t n);
/* parent.key, with control characters as '?'. */
void ag_cjoin(char *out, size_t n, const char *parent, const char *key);
/* The member, or NULL when absent or null ("use the default"). */
const ag_json *ag_cmember(const ag_json *obj, const char *key);
/* Report unknown and duplicate members; `known` is NULL-terminated. */
void ag_ccheck_members(ag_cparse *c, const ag_json *obj, const char *path, const char *what,
                       const char *const *known);
/* Field readers: each reports its own errors and leaves *out as it was on error. */
void ag_cget_duration(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                      uint64_t min_ms, uint64_t *out);
bool ag_cget_uint(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                  uint64_t min, uint64_t max, uint64_t *out);

void ag_strlist_free(ag_strlist *l);
int ag_strlist_set(ag_strlist *l, const char *const *items, size_t n);

/* "secret" of a bus backend (config_secret.c): accepted for every type of topology
 * BUS; read into *out (replaced only when valid), errors name secret[i], never the
 * text. ag_strlist_wipe clears the strings before freeing them. */
bool ag_section_has_bus_secret(const ag_backend_type *t);
void ag_config_read_secrets(ag_cparse *c, const ag_json *o, const char *path, ag_strlist *out);
void ag_strlist_wipe(ag_strlist *l);

/* The section engine. parse fills `section` (zeroed, t->size bytes) with defaults
 * and the members of o; free releases what it owns (not the struct itself). */
void ag_section_parse(ag_cparse *c, const ag_json *o, const char *path,
                      const ag_backend_type *t, void *section);
void ag_section_free(const ag_backend_type *t, void *section);
void *ag_section_clone(const ag_backend_type *t, const void *section);
/* Write the section's members (after "@type") as pretty JSON at `indent` levels. */
void ag_section_to_json(ag_buf *b, int indent, const ag_backend_type *t, const void *section);

#endif
