/* config_section.h — how a backend describes its configuration section (internal).
 *
 * Each backend folder holds a table of field descriptors for its "coordinator"
 * object and an ag_backend_type naming it; one engine (config_section.c,
 * config_json.c) parses, defaults, frees, clones and prints any such table, so that
 * every backend reports errors with the same wording and field paths. The type
 * entry also states, as data, what the core needs to know about the backend. */
#ifndef AG_CONFIG_SECTION_H
#define AG_CONFIG_SECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ag_codec_kind { AG_CODEC_AGORA = 0, AG_CODEC_STALWART = 1 } ag_codec_kind;
#define AG_CODEC_BIT(k) (1u << (k))

/* A list of strings (addresses, urls, brokers). */
typedef struct ag_strlist {
    size_t count;
    char **items;
} ag_strlist;

/* An unsigned value that may be left unset (null). */
typedef struct ag_opt_u64 {
    bool set;
    uint64_t value; /* the default while unset */
} ag_opt_u64;

/* The syntax of a string value or list item. */
typedef struct ag_value_syntax {
    const char *expect;                  /* in messages: "\"host:port\"", "a ... URL" */
    const char *(*check)(const char *s); /* NULL if valid, else a short reason */
    /* Set when values may carry passwords: they are never echoed in errors (which say
     * "invalid <hidden_noun>: reason") and are printed through mask (a malloc'ed copy,
     * NULL on out-of-memory). */
    const char *hidden_noun;
    char *(*mask)(const char *s);
} ag_value_syntax;

/* Generic syntaxes. */
extern const ag_value_syntax ag_syntax_hostport; /* "host:port", port 1..65535 */
extern const ag_value_syntax ag_syntax_listen;   /* same, port 0 allowed */

typedef enum ag_field_kind {
    AG_FIELD_STRING,   /* char *; checked against syntax when set */
    AG_FIELD_SECRET,   /* char *; never echoed, printed as "********" */
    AG_FIELD_DURATION, /* uint64_t ms, at least min */
    AG_FIELD_UINT,     /* uint64_t from min to max */
    AG_FIELD_OPT_UINT, /* ag_opt_u64 from min to max */
    AG_FIELD_BOOL,     /* bool */
    AG_FIELD_LIST,     /* ag_strlist of syntax items */
    AG_FIELD_ENUM      /* unsigned: index into values */
} ag_field_kind;

typedef struct ag_field {
    const char *name; /* JSON member */
    ag_field_kind kind;
    size_t offset; /* in the section struct */
    const ag_value_syntax *syntax; /* STRING (optional), LIST (required) */
    uint64_t min, max;             /* DURATION: min; UINT, OPT_UINT: range */
    uint64_t def;                  /* DURATION, UINT, OPT_UINT, BOOL, ENUM */
    const char *def_str;           /* STRING: default value; LIST: the one default item */
    const char *const *values;     /* ENUM: NULL-terminated */
    bool single_ok;                /* LIST: one string stands for a list of one */
    size_t min_items;              /* LIST */
    const char *min_msg;           /* LIST: message when fewer than min_items */
    const char *required;          /* message when absent (or null) */
    bool print_null_unset;         /* OPT_UINT: print null while unset */
} ag_field;

/* Cross-field rules run after every field was read. */
typedef struct ag_section_ctx ag_section_ctx;
void ag_section_error(ag_section_ctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool ag_section_has(const ag_section_ctx *c, const char *key); /* present, not null */
void ag_section_oom(ag_section_ctx *c);

/* How nodes reach each other through the backend. */
typedef enum ag_topology {
    AG_TOPOLOGY_NONE, /* no transport (coordination off) */
    AG_TOPOLOGY_MESH, /* one link per peer: membership tells it whom to dial, and losing
                         every link is what failure of the others looks like */
    AG_TOPOLOGY_BUS   /* one shared link to a server: while it is down, silence says
                         nothing about the others */
} ag_topology;

typedef struct ag_backend_type {
    const char *name; /* "@type" */
    const ag_field *fields;
    size_t nfields;
    size_t size; /* the section struct */
    void (*validate)(ag_section_ctx *c, void *section); /* optional */

    /* Capabilities the core reads. */
    unsigned codecs; /* AG_CODEC_BIT of each codec it can carry */
    ag_topology topology;
    /* Optional: how long close may wait for accepted messages to finish (ms). */
    uint64_t (*flush_ms)(const void *section);
    /* Optional: the largest message the configured section lets the core build. */
    size_t (*max_message)(const void *section);
} ag_backend_type;

#endif
