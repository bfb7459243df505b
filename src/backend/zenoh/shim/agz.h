/* agz.h — the C side of agora's Zenoh shim (the Rust crate in this folder, built as the
 * static library libagora_zenoh_shim.a over the official zenoh crate).
 *
 * Every call is synchronous and may be made from any thread except a receive callback.
 * A call that fails returns NULL or -1 and writes the reason (Zenoh's own message,
 * prefixed with what was attempted) into err, NUL-terminated and truncated to errlen
 * bytes; err may be NULL. No call unwinds into C: a panic inside Zenoh is caught and
 * reported as a failure. */
#ifndef AGORA_ZENOH_AGZ_H
#define AGORA_ZENOH_AGZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct agz_session agz_session;
typedef struct agz_publisher agz_publisher;

/* Called on one of Zenoh's threads with each payload received; data is valid only
 * during the call. Calls for one subscription never overlap. The callback must not
 * call agz_* functions (hand the payload to another thread instead). A session's own
 * puts reach its own subscriptions too. */
typedef void (*agz_recv_cb)(void *user, const uint8_t *data, size_t len);

/* agz_publisher_new flag: a put waits while the transmit queue is full rather than
 * dropping the payload (Zenoh's CongestionControl::Block; the default is Drop). */
#define AGZ_PUB_BLOCK 1
/* agz_publisher_new flag: puts reach other sessions only, never this session's own
 * subscriptions (Zenoh's Locality::Remote; matching then counts remote ones only). */
#define AGZ_PUB_REMOTE 2

/* Open a session from a Zenoh configuration in JSON5 (the string Stalwart's Zenoh
 * coordinator carries in "config"). A bad configuration is an error, not a crash. */
agz_session *agz_open(const char *json5, char *err, size_t errlen);

/* Parse a Zenoh configuration in JSON5 as agz_open would (syntax, unknown keys, bad
 * values), without opening a session: endpoints are not tried. 0, or -1. */
int agz_config_check(const char *json5, char *err, size_t errlen);

/* Subscribe to the key expression key: cb(user, ...) for every payload published on
 * it, from now until agz_close. 0, or -1 (an invalid key expression, say). */
int agz_subscribe(agz_session *s, const char *key, agz_recv_cb cb, void *user, char *err,
                  size_t errlen);

/* A publisher on key; flags: 0, AGZ_PUB_BLOCK, AGZ_PUB_REMOTE, or both. NULL on failure. */
agz_publisher *agz_publisher_new(agz_session *s, const char *key, int flags, char *err,
                                 size_t errlen);
/* Publish len bytes at data (copied) as one payload. 0, or -1. Delivery is Zenoh's:
 * at most once, in order per publisher; a put made before Zenoh knows of a remote
 * subscription (agz_publisher_matching), or while two peers are still settling their
 * link, reaches nobody there. */
int agz_put(agz_publisher *p, const uint8_t *data, size_t len, char *err, size_t errlen);
/* 1 when Zenoh knows of a subscriber matching the publisher's key, 0 when none, -1. */
int agz_publisher_matching(agz_publisher *p, char *err, size_t errlen);
/* Undeclare and free (NULL: nothing); before or after agz_close of its session (which
 * undeclares it already: puts on it then fail). */
void agz_publisher_free(agz_publisher *p);

/* How many routers and peers the session has a transport to right now (either
 * pointer may be NULL). 0, or -1. */
int agz_connected(agz_session *s, size_t *routers, size_t *peers, char *err, size_t errlen);
/* The session's Zenoh id as text (NUL-terminated, truncated to buflen). 0, or -1. */
int agz_zid(agz_session *s, char *buf, size_t buflen);

/* Close the session (NULL: nothing). Blocks until no receive callback is running, and
 * none is called after it returns; then undeclares the subscriptions and publishers
 * (waiting for a put in progress) and closes the session. Must not be called from a
 * receive callback. */
void agz_close(agz_session *s);

/* Turn on Zenoh's own log (on standard output) if RUST_LOG is set, e.g. RUST_LOG=debug.
 * Once per process; for debugging. */
void agz_log_from_env(void);

#ifdef __cplusplus
}
#endif

#endif
