/*
 * agora.h — cluster coordination for mail servers.
 *
 * This is agora's only public header. A coordinator (agora_t) joins the nodes of a
 * mail service on one bus (topic "stwt.agora") through one of several backends
 * (PeerToPeer, Kafka, NATS, Redis), publishes coordination events and delivers
 * everyone else's events to the application.
 *
 * Conventions:
 *   - Functions returning int return AGORA_OK (0) or a negative agora_err code;
 *     agora_strerror() turns a code into text.
 *   - Functions that can fail for a reason a person must read take `char *err,
 *     size_t errlen` and write a one-line message there (never containing secrets).
 *   - Strings are NUL-terminated UTF-8 (a CalendarAlert's uid and alert_id may also
 *     hold NUL characters: see their _len fields). Times are Unix time in seconds unless the
 *     name says _ms.
 *   - Every function says from which threads it may be called, whether it may be
 *     called from inside an event callback, and whether it blocks. "Any thread" means
 *     concurrently from several threads too, unless it says otherwise. Event callbacks
 *     run inside agora_dispatch on the caller's thread, or on agora's I/O thread when
 *     agora_options.callbacks_on_io_thread is set ("I/O-thread callbacks").
 *   - Growing structs: agora_options, agora_status, agora_member and
 *     agora_batch_header end in `reserved` space, so their size never changes: a field
 *     added in a later version takes reserved space, and zero there means "as before"
 *     (the default). Structs the application passes in (agora_options, the header
 *     given to agora_batch_encode) must be zeroed first (`= {0}`, a designated
 *     initialiser, or memset); structs the library fills (agora_status,
 *     agora_member, the header from agora_batch_decode) are written whole, reserved
 *     space as zeros (no need to zero them). agora_event's size is fixed the same way
 *     (its union has reserved room). So a program keeps working, unrebuilt, with a
 *     later library of the same major version (libagora.so.0), and keeps compiling
 *     against later headers; agora_version_number() tells which library is loaded.
 *   - libagora.so exports the AGORA_API functions below and nothing else.
 */
#ifndef AGORA_H
#define AGORA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the public functions: the library is built with hidden symbol visibility, so
 * libagora.so exports these and nothing else. */
#if defined(__GNUC__) || defined(__clang__)
#define AGORA_API __attribute__((visibility("default")))
#else
#define AGORA_API
#endif

#define AGORA_VERSION_MAJOR 0
#define AGORA_VERSION_MINOR 1
#define AGORA_VERSION_PATCH 0
#define AGORA_VERSION "0.1.0"
/** The version as one number, major * 10000 + minor * 100 + patch (0.1.0 is 100). */
#define AGORA_VERSION_NUMBER \
    (AGORA_VERSION_MAJOR * 10000 + AGORA_VERSION_MINOR * 100 + AGORA_VERSION_PATCH)

/** The fixed topic / channel / subject every backend uses. */
#define AGORA_TOPIC "stwt.agora"

/** Stalwart's limit: a batch carries at most this many events. */
#define AGORA_STALWART_MAX_EVENTS 100

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum agora_err {
    AGORA_OK = 0,
    AGORA_EINVAL = -1,       /* invalid argument */
    AGORA_ENOMEM = -2,       /* out of memory */
    AGORA_ECONFIG = -3,      /* invalid configuration */
    AGORA_EDECODE = -4,      /* malformed wire data */
    AGORA_EUNSUPPORTED = -5, /* not representable (e.g. agora-only event in the stalwart codec) */
    AGORA_EIO = -6,          /* system or network I/O error */
    AGORA_ECLOSED = -7,      /* the coordinator is closing or closed */
    AGORA_EFULL = -8,        /* a bounded queue is full */
    AGORA_ETIMEDOUT = -9,    /* a deadline passed */
    AGORA_ENOBACKEND = -10,  /* this build does not include the configured backend */
    AGORA_EJSON = -11,       /* malformed JSON or JSON of the wrong shape */
    AGORA_EAGAIN = -12,      /* nothing available now; try again later */
    AGORA_EAUTH = -13,       /* authentication refused */
    AGORA_EDUPID = -14,      /* this node's id is in use by another live node */
} agora_err;

/* Unless said otherwise, the functions from here to "The coordinator" touch no shared
 * state: any thread, from event callbacks too, and they never block. */

/** Short English description of an agora_err code. Never NULL. */
AGORA_API const char *agora_strerror(int err);

/** The loaded library's version string, e.g. "0.1.0". */
AGORA_API const char *agora_version(void);

/**
 * The loaded library's version as AGORA_VERSION_NUMBER counts it (0.1.0 is 100). Compare
 * with AGORA_VERSION_NUMBER, the header's, to learn whether the library is older than
 * the header the program was built with (it then ignores fields it does not know).
 */
AGORA_API unsigned agora_version_number(void);

/* ------------------------------------------------------------------------ */
/* Names and ids shared with Stalwart 0.16                                   */
/* ------------------------------------------------------------------------ */

/** StateChange data types: bit i of agora_state_change.types is data type i. */
typedef enum agora_data_type {
    AGORA_DT_EMAIL = 0,
    AGORA_DT_EMAIL_DELIVERY = 1,
    AGORA_DT_EMAIL_SUBMISSION = 2,
    AGORA_DT_MAILBOX = 3,
    AGORA_DT_THREAD = 4,
    AGORA_DT_IDENTITY = 5,
    AGORA_DT_CORE = 6,
    AGORA_DT_PUSH_SUBSCRIPTION = 7,
    AGORA_DT_SEARCH_SNIPPET = 8,
    AGORA_DT_VACATION_RESPONSE = 9,
    AGORA_DT_MDN = 10,
    AGORA_DT_QUOTA = 11,
    AGORA_DT_SIEVE_SCRIPT = 12,
    AGORA_DT_CALENDAR = 13,
    AGORA_DT_CALENDAR_EVENT = 14,
    AGORA_DT_CALENDAR_EVENT_NOTIFICATION = 15,
    AGORA_DT_ADDRESS_BOOK = 16,
    AGORA_DT_CONTACT_CARD = 17,
    AGORA_DT_FILE_NODE = 18,
    AGORA_DT_PRINCIPAL = 19,
    AGORA_DT_SHARE_NOTIFICATION = 20,
    AGORA_DT_PARTICIPANT_IDENTITY = 21,
    AGORA_DT_CALENDAR_ALERT = 22,
    AGORA_DT_COUNT = 23
} agora_data_type;

/** Name of a data type ("Email", "Mailbox", ...), or NULL if id is unknown. */
AGORA_API const char *agora_data_type_name(int id);
/** Id of a data type name (exact, case-sensitive), or -1. */
AGORA_API int agora_data_type_from_name(const char *name);

/** Registry object types (u16 ids 0..116). A few that agora itself cares about: */
#define AGORA_OBJ_BLOCKED_IP 17
#define AGORA_OBJ_CERTIFICATE 23
#define AGORA_OBJ_COUNT 117

/** Name of an object type ("BlockedIp", ...), or NULL if id is unknown. */
AGORA_API const char *agora_object_type_name(int id);
/** Id of an object type name, or -1. */
AGORA_API int agora_object_type_from_name(const char *name);

/** CacheInvalidate item kinds (the "marker" byte on Stalwart's wire). */
typedef enum agora_cache_kind {
    AGORA_CACHE_ACCESS_TOKEN = 0,
    AGORA_CACHE_DAV_RESOURCES = 1,
    AGORA_CACHE_DOMAIN = 2,
    AGORA_CACHE_ACCOUNT = 3,
    AGORA_CACHE_DKIM_SIGNATURE = 4,
    AGORA_CACHE_TENANT = 5,
    AGORA_CACHE_ROLE = 6,
    AGORA_CACHE_LIST = 7,
    AGORA_CACHE_DOMAIN_LOGO = 8,
    AGORA_CACHE_TENANT_LOGO = 9,
    AGORA_CACHE_EMAIL_NEGATIVE = 10, /* id is the domainId; local_part_hash is set */
    AGORA_CACHE_DOMAIN_NEGATIVE = 11, /* no id (written as 0) */
    AGORA_CACHE_KIND_COUNT = 12
} agora_cache_kind;

/** Name of a cache item kind ("Account", ...), or NULL. */
AGORA_API const char *agora_cache_kind_name(int kind);
/** Kind of a cache item kind name, or -1. */
AGORA_API int agora_cache_kind_from_name(const char *name);

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum agora_event_type {
    /* Stalwart 0.16's kinds (both codecs). */
    AGORA_EV_STATE_CHANGE = 0,
    AGORA_EV_CALENDAR_ALERT,
    AGORA_EV_EMAIL_PUSH,
    AGORA_EV_PUSH_SERVER_UPDATE,
    AGORA_EV_REGISTRY_INSERT,
    AGORA_EV_REGISTRY_DELETE,
    AGORA_EV_REGISTRY_RELOAD,
    AGORA_EV_CACHE_INVALIDATE,
    AGORA_EV_CACHE_INVALIDATE_ALL,
    AGORA_EV_CACHE_INVALIDATE_NEGATIVE,
    AGORA_EV_MTA_QUEUE_STATUS,
    AGORA_EV_QUEUE_REFRESH,
    /* agora's own kinds (native "agora" codec only). */
    AGORA_EV_BLOCK_IP,
    AGORA_EV_UNBLOCK_IP,
    AGORA_EV_CERTIFICATE_UPDATE,
    AGORA_EV_CUSTOM,
    /* Local notices: made by the receiving node, never sent on the wire. */
    AGORA_EV_GAP,           /* events from `node` were missed: resynchronise */
    AGORA_EV_MEMBER_JOINED, /* a node joined (or restarted with a new incarnation) */
    AGORA_EV_MEMBER_LEFT,   /* a node left gracefully */
    AGORA_EV_MEMBER_FAILED, /* a node stopped answering within the failure timeout */
    AGORA_EV_TYPE_COUNT
} agora_event_type;

/** The JSON "type" name of an event type ("StateChange", "BlockIp", "Gap", ...). */
AGORA_API const char *agora_event_type_name(agora_event_type type);
/** Event type from its JSON name, or -1. */
AGORA_API int agora_event_type_from_name(const char *name);
/** True for the kinds Stalwart itself can read (the first twelve). */
AGORA_API bool agora_event_type_is_stalwart(agora_event_type type);

typedef struct agora_cache_item {
    uint8_t kind;             /* agora_cache_kind */
    uint32_t id;              /* domainId for EmailNegative; 0 for DomainNegative */
    uint32_t local_part_hash; /* EmailNegative only */
} agora_cache_item;

/** An IPv4 or IPv6 address or CIDR prefix. */
typedef struct agora_ip_prefix {
    uint8_t family;   /* 4 or 6 */
    uint8_t prefix;   /* 0..32 or 0..128; a single address has 32 / 128 */
    uint8_t addr[16]; /* network byte order; IPv4 uses the first 4 bytes */
} agora_ip_prefix;

/**
 * One coordination event. Pointer members are const: the library only reads them in
 * an event the application builds (string literals are fine; agora_publish copies
 * what it needs before it returns). In an event the library fills (delivery,
 * agora_next_event, agora_event_copy, agora_event_from_json, decoders) they point to
 * memory the event owns: valid until the callback returns, or until the application
 * calls agora_event_clear (agora_next_event, copies, parsers), which frees it. Never
 * call agora_event_clear on an event the application built itself.
 * sizeof(agora_event) is fixed: a kind added later fits in the union's 64 bytes.
 */
typedef struct agora_event {
    agora_event_type type;
    uint16_t node; /* origin node id (set on receipt; ignored by agora_publish) */
    union {
        struct {
            uint64_t change_id;
            /* bitmap of agora_data_type; bits from AGORA_DT_COUNT up are data types of
             * a later Stalwart: kept as they are (JSON "unknownTypeBits") */
            uint64_t types;
            uint32_t account_id;
        } state_change;
        struct {
            uint32_t account_id;
            uint32_t event_id;
            int64_t recurrence_id; /* 0 means none (JSON null) */
            const char *uid;
            const char *alert_id;
            /* Stalwart allows NUL characters in these strings. 0: the string ends at
             * its first NUL (as before; zero the event when building it). Otherwise its
             * length in bytes, NUL characters included (still NUL-terminated after
             * that); decoders set it only for a string that holds a NUL. */
            size_t uid_len;
            size_t alert_id_len;
        } calendar_alert;
        struct {
            uint32_t account_id;
            uint32_t email_id;
            uint64_t change_id;
        } email_push;
        struct {
            uint32_t account_id;
        } push_server_update;
        struct {
            uint16_t object; /* object type id */
            uint64_t id;     /* unused by RegistryReload */
        } registry;          /* RegistryInsert, RegistryDelete, RegistryReload */
        struct {
            size_t count;
            const agora_cache_item *items;
        } cache_invalidate;
        struct {
            bool running;
        } mta_queue_status;
        struct {
            agora_ip_prefix address;
            int64_t expires; /* Unix seconds; 0 = no expiry */
            const char *reason; /* may be NULL */
        } block_ip;          /* BlockIp, UnblockIp */
        struct {
            size_t domain_count;
            const char *const *domains;
            int64_t not_after; /* Unix seconds */
            uint8_t sha256[32];
            const char *chain_pem;
        } certificate_update;
        struct {
            const char *name;
            const uint8_t *data;
            size_t len;
        } custom;
        struct {
            uint64_t missed; /* how many events from `node` were missed */
        } gap;
        struct {
            const char *address;  /* host:port, broker client name, or NULL */
            uint64_t incarnation; /* changes at every start of that node */
        } member;                 /* MemberJoined, MemberLeft, MemberFailed */
        uint64_t reserved[8];     /* keeps the union's size for kinds added later */
    } u;
} agora_event;

/** Free the pointer members of an event filled by the library, and zero it. NULL is
 * allowed. */
AGORA_API void agora_event_clear(agora_event *ev);

/** Deep copy src into dst (dst must be cleared or uninitialised; clear the copy with
 * agora_event_clear). AGORA_OK, AGORA_EINVAL or AGORA_ENOMEM. */
AGORA_API int agora_event_copy(agora_event *dst, const agora_event *src);

/**
 * Render an event as one line of JSON (no newline), the form `agora decode` prints:
 * {"node":1,"type":"StateChange",...}. Returns a malloc'ed string or NULL on
 * out-of-memory.
 */
AGORA_API char *agora_event_to_json(const agora_event *ev);

/**
 * Parse one JSON object into an event. Unknown keys are ignored; "node" is read if
 * present. On error returns AGORA_EJSON and writes a message naming the key and what
 * was expected into err.
 */
AGORA_API int agora_event_from_json(const char *json, size_t len, agora_event *ev, char *err,
                          size_t errlen);

/** Parse "203.0.113.7", "203.0.113.0/24", "2001:db8::/32". */
AGORA_API int agora_ip_prefix_parse(const char *text, agora_ip_prefix *out);
/** Write the prefix as text ("203.0.113.0/24"; a full-length prefix still gets "/32"). */
AGORA_API int agora_ip_prefix_format(const agora_ip_prefix *p, char *buf, size_t buflen);

/* ------------------------------------------------------------------------ */
/* Stalwart wire codec (byte-compatible with Stalwart 0.16)                  */
/* ------------------------------------------------------------------------ */

/**
 * Encode `count` events (at most AGORA_STALWART_MAX_EVENTS) as one Stalwart batch
 * sent by `node_id`. *out is malloc'ed. Fails with AGORA_EUNSUPPORTED (naming the
 * event in err) for agora-only kinds and local notices.
 */
AGORA_API int agora_stalwart_encode(uint16_t node_id, const agora_event *events, size_t count,
                          uint8_t **out, size_t *out_len, char *err, size_t errlen);

/**
 * Decode one Stalwart batch. On success *events (malloc'ed array, each event to be
 * cleared with agora_event_clear, then the array freed with agora_events_free) holds
 * *count events, each with .node set to the batch's node id.
 * On malformed input returns AGORA_EDECODE; err says what and at which byte offset,
 * *err_offset (if not NULL) gets that offset, and the events decoded before the
 * fault are still returned in *events / *count.
 */
AGORA_API int agora_stalwart_decode(const uint8_t *data, size_t len, uint16_t *node_id,
                          agora_event **events, size_t *count, size_t *err_offset,
                          char *err, size_t errlen);

/** Clear `count` events and free the array. */
AGORA_API void agora_events_free(agora_event *events, size_t count);

/* ------------------------------------------------------------------------ */
/* Batches in either codec (what travels as one message on "stwt.agora")     */
/* ------------------------------------------------------------------------ */

/** The two wire formats: agora's own (sequenced, with membership) and Stalwart's. */
typedef enum agora_codec { AGORA_CODEC_AGORA = 0, AGORA_CODEC_STALWART = 1 } agora_codec;

/** What an agora-codec message is; Stalwart batches are always AGORA_BATCH_EVENTS. */
typedef enum agora_batch_kind {
    AGORA_BATCH_EVENTS = 0,
    AGORA_BATCH_HEARTBEAT = 1,
    AGORA_BATCH_LEAVE = 2
} agora_batch_kind;

/** The header of one batch. Fields marked "agora" are 0 for Stalwart batches. */
typedef struct agora_batch_header {
    agora_batch_kind kind;
    uint16_t node;         /* the sending node */
    uint64_t incarnation;  /* agora: changes at every start of the sender */
    uint64_t first_seq;    /* agora: sequence number of the first event (heartbeat and
                              leave: the one the sender's next event will carry) */
    uint64_t reserved[4];  /* zero (see "Growing structs" at the top) */
} agora_batch_header;

/**
 * Encode `count` events as one batch of `codec` (h->kind must be AGORA_BATCH_EVENTS;
 * the Stalwart codec takes at most AGORA_STALWART_MAX_EVENTS and only Stalwart's
 * kinds). *out is malloc'ed. AGORA_EUNSUPPORTED / AGORA_EINVAL name the event in err.
 * Any thread; no I/O.
 */
AGORA_API int agora_batch_encode(agora_codec codec, const agora_batch_header *h,
                       const agora_event *events, size_t count, uint8_t **out,
                       size_t *out_len, char *err, size_t errlen);

/**
 * Decode one batch of `codec`: *h gets its header (written whole), *events / *count its events (free
 * with agora_events_free; heartbeats and leave notices have none). Event kinds this
 * version does not know are skipped. On malformed input returns AGORA_EDECODE with
 * the byte offset in err and *err_offset, and still returns the events decoded
 * before the fault. Any thread; no I/O.
 */
AGORA_API int agora_batch_decode(agora_codec codec, const uint8_t *data, size_t len,
                       agora_batch_header *h, agora_event **events, size_t *count,
                       size_t *err_offset, char *err, size_t errlen);

/**
 * Seal one agora-codec message (as agora_batch_encode makes it) the way a node whose
 * coordinator has "secret": secrets (1 to 16, each at least 16 bytes) does
 * (docs/sealing.md): secrets[0] seals. The envelope names the message's own node and
 * incarnation. Each call is a fresh sender (counter 1, a new random salt): a receiver
 * that already opened a message of that node and incarnation may refuse the next one
 * as a replay. *out is malloc'ed. AGORA_ECONFIG (bad secrets: err names secret[i],
 * never the text), AGORA_EDECODE (not an agora message), AGORA_ENOMEM.
 * Any thread; no I/O.
 */
AGORA_API int agora_batch_seal(const char *const *secrets, size_t nsecrets, const uint8_t *msg,
                               size_t len, uint8_t **out, size_t *out_len, char *err,
                               size_t errlen);

/**
 * Open one sealed message with any of `secrets` (no replay memory: every call is a
 * fresh receiver), and check that the message inside names the envelope's node and
 * incarnation. *out (malloc'ed) is the agora message. AGORA_EAUTH when it does not
 * open (err says why: "not sealed", "bad tag", "unknown key", "origin mismatch", ...),
 * AGORA_ECONFIG for bad secrets, AGORA_ENOMEM. Any thread; no I/O.
 */
AGORA_API int agora_batch_open(const char *const *secrets, size_t nsecrets, const uint8_t *data,
                               size_t len, uint8_t **out, size_t *out_len, char *err,
                               size_t errlen);

/**
 * Parse a duration as everywhere in agora: "250ms", "5s", "1m", "1h", "1d", or a bare
 * number of milliseconds ("0" is 0). AGORA_OK or AGORA_EINVAL.
 */
AGORA_API int agora_parse_duration(const char *text, uint64_t *ms);

/**
 * Split a "host:port" address as agora's configuration reads them: a host name, a
 * dotted IPv4 address or an IPv6 address in brackets ("[::1]:7911"), and a port from
 * 1 to 65535 (0 too with allow_port0: "any free port", as in a listen address). host
 * gets the host as written, brackets kept, NUL-terminated. AGORA_OK, or AGORA_EINVAL
 * with the reason in err (text the caller gave is not echoed). Any thread; no I/O.
 */
AGORA_API int agora_parse_address(const char *text, bool allow_port0, char *host,
                                  size_t hostlen, uint16_t *port, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

/* An agora_config is a plain value: any thread, from event callbacks too, and
 * nothing blocks but agora_config_load (it reads a file). Functions taking a const
 * agora_config may run on one configuration from several threads at once; one that
 * changes or frees it (set, set_node_id, free) must not run alongside any other call
 * on the same configuration. */

typedef struct agora_config agora_config;

/**
 * Parse a configuration: either a bare coordinator object ({"@type":"Kafka",...}) or
 * a node file ({"nodeId":3,"codec":"agora","coordinator":{...}}). On error returns
 * NULL and writes every problem found into err, one per line, each naming the
 * field's path ("coordinator.timeoutSession: expected a duration such as \"5s\"").
 */
AGORA_API agora_config *agora_config_parse(const char *json, size_t len, char *err, size_t errlen);

/** Read and parse a file (errors are prefixed with the file name). */
AGORA_API agora_config *agora_config_load(const char *path, char *err, size_t errlen);

/** Free a configuration. NULL is allowed. */
AGORA_API void agora_config_free(agora_config *cfg);

/** Override the node id (0..65535) given by the file. */
AGORA_API void agora_config_set_node_id(agora_config *cfg, uint16_t node_id);

/** The node id, or -1 if neither the file nor the caller set one. */
AGORA_API int agora_config_node_id(const agora_config *cfg);

/** The coordinator's "@type" ("PeerToPeer", "Kafka", ...). */
AGORA_API const char *agora_config_type(const agora_config *cfg);

/**
 * The node file's "httpToken": the bearer token an admin HTTP endpoint serving this
 * node requires (agora serve --http), or NULL when the file sets none. A secret:
 * never print or log it (agora_config_to_json shows "********"). Valid until the
 * configuration is changed or freed.
 */
AGORA_API const char *agora_config_http_token(const agora_config *cfg);

/** A deep copy of cfg (NULL on out-of-memory); free it with agora_config_free. */
AGORA_API agora_config *agora_config_clone(const agora_config *cfg);

/** The codec ("codec" in the node file; AGORA_CODEC_AGORA by default). */
AGORA_API agora_codec agora_config_codec(const agora_config *cfg);

/**
 * Set one field, named by its path as in a node file ("codec", "nodeId",
 * "heartbeatInterval", "coordinator.listen", ...), to a JSON value (text such as
 * "\"stalwart\"", "3" or "[\"127.0.0.1:7001\"]"). The whole configuration is
 * validated again as if the file had said so (derived defaults follow: a PeerToPeer
 * "advertise" the file did not set follows "listen"). On error returns AGORA_ECONFIG,
 * leaves cfg unchanged and writes the errors, with field paths, into err.
 */
AGORA_API int agora_config_set(agora_config *cfg, const char *path, const char *json_value,
                     char *err, size_t errlen);

/**
 * The effective value of one field as JSON text (defaults filled in, secrets shown
 * as "********"), malloc'ed; NULL if the configuration has no such field.
 */
AGORA_API char *agora_config_get(const agora_config *cfg, const char *path);

/**
 * True when this configuration runs agora's membership (heartbeats, MemberJoined /
 * MemberFailed, agora_members): the agora codec on any backend but Disabled.
 */
AGORA_API bool agora_config_has_membership(const agora_config *cfg);

/**
 * The effective configuration as pretty JSON, defaults filled in, secrets shown as
 * "********". malloc'ed.
 */
AGORA_API char *agora_config_to_json(const agora_config *cfg);

/* ------------------------------------------------------------------------ */
/* The coordinator                                                           */
/* ------------------------------------------------------------------------ */

/* A coordinator (agora_t) may be used from any number of threads at once, except
 * agora_close, which must be the last call on it. What each call may do inside an
 * event callback, and how long it may block, is said with it. */

typedef struct agora agora_t;

/** Called for each event delivered to the application (see agora_options for the
 * thread; `ev` is valid until it returns). */
typedef void (*agora_event_cb)(agora_t *a, const agora_event *ev, void *user);

/** Log levels, most severe first. AGORA_LOG_DEFAULT (zero) means AGORA_LOG_INFO. */
typedef enum agora_log_level {
    AGORA_LOG_DEFAULT = 0,
    AGORA_LOG_ERROR = 1,
    AGORA_LOG_WARN = 2,
    AGORA_LOG_INFO = 3,
    AGORA_LOG_DEBUG = 4
} agora_log_level;

/** A log sink; `msg` is one line without newline. Called from any of agora's threads
 * and the application's (several at once): it must be thread-safe, quick, and must
 * not call agora_close. */
typedef void (*agora_log_cb)(agora_log_level level, const char *msg, void *user);

/** Options for agora_open. Zero it first (see "Growing structs" at the top):
 * `agora_options o = {.on_event = cb};`. Every zero field means its default. */
typedef struct agora_options {
    /** Receives every event; NULL to use agora_next_event only. */
    agora_event_cb on_event;
    void *on_event_user;
    /**
     * false (default): callbacks run inside agora_dispatch, on the caller's thread.
     * true: callbacks run on agora's I/O thread as events arrive: they must be quick
     * and must not call agora_close, agora_flush, or agora_next_event with a timeout
     * (those wait for the I/O thread); every other call is allowed.
     */
    bool callbacks_on_io_thread;
    /** Log sink; NULL logs to stderr at the level below. */
    agora_log_cb on_log;
    void *on_log_user;
    agora_log_level log_level; /* most verbose level logged; zero = AGORA_LOG_INFO */
    /**
     * Most events waiting in the delivery queue for agora_dispatch / agora_next_event
     * (0 = AGORA_DEFAULT_MAX_QUEUED_EVENTS; values below 16 are raised to 16). An
     * application that stops taking events does not grow memory without limit: when
     * the queue is full the oldest tenth is dropped, counted
     * (agora_status.queue_dropped), logged (at most once a second) and replaced by one
     * Gap event in their place, so the application resynchronises. The Gap's `node`
     * is the dropped events' origin when they all came from one node; otherwise (or
     * when membership notices were among them) it is this node's own id, which means
     * "resynchronise everything" (a node never gets a Gap about itself otherwise).
     * u.gap.missed counts the dropped events (plus what dropped Gaps had missed).
     * Dropped events count as consumed (Kafka commits their offsets: the Gap told the
     * application). Unused with callbacks_on_io_thread and on_event (nothing is queued).
     */
    size_t max_queued_events;
    /**
     * Most bytes of events waiting in the delivery queue (0 =
     * AGORA_DEFAULT_MAX_QUEUED_BYTES): each event counts its struct and what it owns
     * (strings, Custom data). Past it, the oldest events are dropped until a tenth of
     * the bound is free, with the same Gap, count and log line as max_queued_events,
     * so large events from other nodes cannot grow memory past about this much. One
     * event larger than the bound is still queued alone. Unused, like
     * max_queued_events, with callbacks_on_io_thread and on_event.
     */
    uint64_t max_queued_bytes;
    /**
     * Watch without joining: the coordinator only listens. It never publishes (
     * agora_publish says AGORA_EUNSUPPORTED), sends no heartbeat or leave, is never
     * listed as a member by the others and needs no node id (the configuration's is
     * ignored; agora_node_id returns 0). On brokers it only subscribes; on PeerToPeer
     * it connects to the members as an observer. agora_members still lists what it
     * hears (never an entry for itself: it is no member). Every node's events reach it,
     * including those of a node using the id its configuration gives.
     */
    bool observer;
    /** Must be zero: room for options added later (agora_open says AGORA_EINVAL). */
    uint64_t reserved[6];
} agora_options;

/** agora_close waits at most this long for queued events to leave (Kafka: its
 * "timeoutMessage" when that is longer)... */
#define AGORA_CLOSE_FLUSH_MS 3000
/** ... and returns at most this much later, reachable backend or not. */
#define AGORA_CLOSE_MARGIN_MS 1000

/** Default bound of the delivery queue (agora_options.max_queued_events). */
#define AGORA_DEFAULT_MAX_QUEUED_EVENTS 1000000
/** Default byte bound of the delivery queue (agora_options.max_queued_bytes): 64 MiB. */
#define AGORA_DEFAULT_MAX_QUEUED_BYTES (UINT64_C(64) << 20)

/**
 * Start a coordinator for `cfg` (which must have a node id, unless opts->observer;
 * the configuration is copied, the caller may free it afterwards). Returns AGORA_OK
 * and *out, or an error with a message in err. `opts` may be NULL (all defaults);
 * AGORA_EINVAL if its reserved space is not zero. The node joins in the background:
 * a backend that is unreachable at start is retried, not fatal.
 * Any thread, event callbacks too. Blocks while the backend starts: host names in
 * the configuration are resolved (DNS), and NATS makes one connection attempt
 * (bounded by its "timeoutConnection" per server); the other backends connect in the
 * background.
 */
AGORA_API int agora_open(const agora_config *cfg, const agora_options *opts, agora_t **out,
               char *err, size_t errlen);

/**
 * Queue an event for every other node. Any thread, event callbacks too (I/O-thread
 * callbacks included). Never blocks on the network (it may wait briefly for a lock):
 * the event is encoded into the outbox and leaves with everything else queued in the
 * next message (a lone event while agora's I/O thread is idle is written at once, by
 * this thread, with a non-blocking send; event callbacks never run inside this call).
 * AGORA_EUNSUPPORTED for an event the configured codec cannot carry,
 * AGORA_EINVAL for an invalid or oversized event (agora_max_event_size), AGORA_ECLOSED
 * while closing. When the outbox holds more than "outboxLimit" events or
 * "outboxBytes" bytes, the oldest are dropped, counted (agora_status.dropped) and
 * logged; receivers then see a Gap.
 */
AGORA_API int agora_publish(agora_t *a, const agora_event *ev);

/** The most bytes one encoded event may take with this coordinator's backend and codec
 * (its message size limit less the framing); agora_publish refuses a larger event
 * with AGORA_EINVAL. 0 for NULL. Any thread, callbacks too; never blocks. */
AGORA_API size_t agora_max_event_size(agora_t *a);

/** Publish several events at once (same rules). On an error the events before the
 * refused one are queued. */
AGORA_API int agora_publish_many(agora_t *a, const agora_event *evs, size_t count);

/**
 * A file descriptor that becomes readable when events wait for agora_dispatch.
 * Watch it for reading in any event loop (epoll, libuv, libevent); do not read or
 * close it. Valid until agora_close. Any thread, callbacks too; never blocks.
 */
AGORA_API int agora_fd(agora_t *a);

/**
 * Run the callback for every waiting event (up to `max`, 0 = all), on this thread.
 * Returns the number dispatched. Any thread; several threads may dispatch at once
 * (each runs the callbacks of the events it took). Never waits for events; it takes
 * as long as the callbacks. From inside a callback it runs the next events' callbacks
 * nested (allowed, seldom useful).
 */
AGORA_API int agora_dispatch(agora_t *a, size_t max);

/**
 * Take the next waiting event without a callback. Waits up to timeout_ms (0 = do not
 * wait, -1 = forever). Returns AGORA_OK and fills *ev (clear it with
 * agora_event_clear), AGORA_ETIMEDOUT, or AGORA_ECLOSED. Any thread. From an
 * I/O-thread callback only with timeout 0 (events arrive on that thread).
 */
AGORA_API int agora_next_event(agora_t *a, agora_event *ev, int timeout_ms);

/**
 * Wait until everything published so far has been handed to the backend (for
 * PeerToPeer: written to every live member; for brokers: acknowledged by the
 * server). Blocks up to timeout_ms (0 = only check, -1 = forever). AGORA_OK or
 * AGORA_ETIMEDOUT. Any thread; from dispatch callbacks too, but not from I/O-thread
 * callbacks (the I/O thread does the sending: it would wait out its timeout).
 */
AGORA_API int agora_flush(agora_t *a, int timeout_ms);

/**
 * Flush what is queued, tell the others this node leaves, stop the I/O thread and
 * free everything. NULL is allowed. Call it once, from any thread, when no other
 * thread uses the coordinator any more; never from one of its event or log callbacks.
 * Blocks: queued events get up to AGORA_CLOSE_FLUSH_MS (Kafka: its "timeoutMessage"
 * when longer) to leave, and close returns at most AGORA_CLOSE_MARGIN_MS later
 * (the leave notice, stopping the backend), even when the backend is unreachable;
 * events still queued then are lost (logged; receivers see a Gap; Kafka replays
 * what the application had not consumed at the next start). With nothing queued and
 * a reachable backend it returns within milliseconds.
 */
AGORA_API void agora_close(agora_t *a);

/** This node's id (0 for NULL). Any thread, callbacks too; never blocks. */
AGORA_API uint16_t agora_node_id(const agora_t *a);

/* Membership ------------------------------------------------------------- */

typedef enum agora_member_state {
    AGORA_MEMBER_ALIVE = 0,
    AGORA_MEMBER_SUSPECT = 1,
    AGORA_MEMBER_FAILED = 2, /* silent for longer than failureTimeout */
    AGORA_MEMBER_LEFT = 3    /* said goodbye (agora_close) */
} agora_member_state;
/** The earlier name of AGORA_MEMBER_FAILED (same value), kept for existing code. */
#define AGORA_MEMBER_DEAD AGORA_MEMBER_FAILED

/** "alive", "suspect", "failed", "left" ("unknown" for any other value). */
AGORA_API const char *agora_member_state_name(agora_member_state s);

typedef struct agora_member {
    uint16_t node;
    agora_member_state state;
    char address[128];    /* host:port or client name; "" if unknown */
    uint64_t incarnation;
    uint64_t last_seen_ms; /* milliseconds since last heard (0 for this node) */
    bool self;
    uint64_t state_since_ms; /* milliseconds since it entered `state` (as far as this
                                node knows: a failure or leave learned from another
                                node's gossip carries the age that node reported) */
    uint64_t events_in;      /* events this node received from it since opening */
    double events_per_sec;   /* events received from it per second, recent average */
    uint64_t reserved[1];    /* written as zeros (see "Growing structs" at the top) */
} agora_member;

/**
 * Copy the membership view (this node included, unless it is an observer) into `out`
 * (capacity `cap`; each element written whole): live members, and failed and departed
 * ones for "memberRetention" after they went down (10 minutes by default; also those
 * learned from other nodes' gossip, so that a node that joined later lists them).
 * Returns the number of members (which may exceed cap: call
 * again with more room), or AGORA_EINVAL. Any thread, callbacks too; never blocks
 * (a lock held briefly by the I/O thread).
 */
AGORA_API int agora_members(agora_t *a, agora_member *out, size_t cap);

/* Status ---------------------------------------------------------------- */

/** A coordinator's status, filled whole by agora_get_status (no need to zero it). */
typedef struct agora_status {
    char backend[32];      /* "PeerToPeer", "Kafka", ... */
    bool connected;        /* the backend currently moves messages */
    char server[256];      /* the server / broker in use, or listen address */
    uint64_t reconnects;   /* connections (re)established after the first */
    uint64_t outbox_depth; /* events waiting to be sent */
    uint64_t events_out;   /* events the backend took (sent, or acknowledged) */
    uint64_t events_in;    /* events from other nodes queued for the application
                              (after duplicates were dropped); local notices are
                              counted in `notices` instead */
    uint64_t bytes_out;    /* bytes of every message sent: events, heartbeats, leave */
    uint64_t bytes_in;     /* bytes of every message received */
    uint64_t dropped;      /* events dropped because the outbox overflowed */
    uint64_t duplicates;   /* received events dropped as duplicates */
    uint64_t gaps;         /* Gap notices delivered (also counted in notices) */
    uint64_t decode_errors;/* received messages that did not decode */
    uint32_t peers;        /* PeerToPeer: live connections; brokers: 0 or 1 */
    uint64_t queue_depth;  /* events waiting for agora_dispatch / agora_next_event */
    uint64_t queue_dropped;/* events dropped because that queue was full (see
                              agora_options.max_queued_events); each drop also
                              queued one Gap (counted in gaps and notices) */
    uint64_t notices;      /* local notices queued for the application: Gap,
                              MemberJoined, MemberLeft, MemberFailed */
    uint64_t rejected;     /* received payloads dropped because they did not open while
                              a "secret" is set: forged, corrupted, sealed with another
                              secret, not sealed (docs/sealing.md) */
    uint64_t replayed;     /* sealed payloads dropped because they had been opened
                              already: a captured message sent again, or a broker
                              delivering one twice (both look alike; also dropped) */
    int32_t failure;       /* 0 while running; else why the backend gave up for good and
                              moves nothing any more (the log says more; agora_close
                              it): AGORA_EDUPID, PeerToPeer refused this node because
                              another live node has its id (docs/p2p-protocol.md) */
    uint32_t reserved32;   /* written as zero */
    uint64_t reserved[12]; /* written as zeros (see "Growing structs" at the top) */
} agora_status;

/** Fill *st with the current status. AGORA_OK or AGORA_EINVAL. Any thread, callbacks
 * too. Asks the I/O thread for the backend's details and waits for the answer:
 * normally microseconds, at most 2 s (an I/O thread stuck in a callback). */
AGORA_API int agora_get_status(agora_t *a, agora_status *st);

/** Render a status as one JSON object (malloc'ed; NULL for NULL or out of memory),
 * keys in camelCase: "eventsIn", "bytesOut", "notices", ... */
AGORA_API char *agora_status_to_json(const agora_status *st);

/* Metrics ---------------------------------------------------------------- */

/**
 * Events this node published (per type) and received from other nodes (per type),
 * since it opened: fills published[t] and received[t] for t < min(cap,
 * AGORA_EV_TYPE_COUNT) (either array may be NULL). Returns AGORA_EV_TYPE_COUNT, or
 * AGORA_EINVAL. Any thread, callbacks too; never blocks (relaxed atomic counters).
 */
AGORA_API int agora_event_counts(agora_t *a, uint64_t *published, uint64_t *received,
                                 size_t cap);

/**
 * This node's metrics in Prometheus's text exposition format (version 0.0.4), ready
 * to serve on an application's own HTTP port (malloc'ed, free() it; NULL for NULL or
 * out of memory): events published and received per type and per origin node, bytes,
 * gaps, duplicates, rejected and replayed messages, outbox and delivery-queue depth,
 * reconnects, backend connected, one series per member with its state and seconds
 * since last heard. Names start with "agora_". Any thread, callbacks too; blocks like
 * agora_get_status.
 */
AGORA_API char *agora_metrics_text(agora_t *a);

/**
 * The fields a coordinator type takes ("PeerToPeer", "Kafka", ...; NULL for the
 * node-level fields outside "coordinator"), as a JSON array of objects
 * {"name", "kind", "default", "required", "secret", "help"} (malloc'ed; NULL for an
 * unknown type). For forms and documentation. Any thread; never blocks.
 */
AGORA_API char *agora_config_describe(const char *type);

#ifdef __cplusplus
}
#endif
#endif /* AGORA_H */
