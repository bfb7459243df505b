/* test_event_json.c — the JSON form of events (exactly the spec's lines, agora's own
 * kinds, times, base64, 64-bit values), agora_event_from_json's errors (each names its
 * key), IP prefixes, the name tables and the error texts. */
#include "agora.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* from_json then to_json must give the very same text (the canonical form). */
static void same(int line, const char *json, agora_event *keep) {
    agora_event ev;
    char err[256] = "";
    int rc = agora_event_from_json(json, strlen(json), &ev, err, sizeof err);
    if (rc != AGORA_OK) {
        fprintf(stderr, "line %d: from_json(%s): %s\n", line, json, err);
        failures++;
        return;
    }
    char *out = agora_event_to_json(&ev);
    if (!out || strcmp(out, json)) {
        fprintf(stderr, "line %d:\n  in:  %s\n  out: %s\n", line, json, out ? out : "(null)");
        failures++;
    }
    free(out);
    if (keep) *keep = ev;
    else agora_event_clear(&ev);
}
#define SAME(json) same(__LINE__, json, NULL)

/* from_json must fail with exactly this message. */
static void fails(int line, const char *json, const char *msg) {
    agora_event ev;
    char err[256] = "";
    int rc = agora_event_from_json(json, strlen(json), &ev, err, sizeof err);
    if (rc != AGORA_EJSON || strcmp(err, msg)) {
        fprintf(stderr, "line %d: %s\n  rc %d, message \"%s\"\n  expected \"%s\"\n", line, json,
                rc, err, msg);
        failures++;
        if (rc == AGORA_OK) agora_event_clear(&ev);
    }
}
#define FAILS(json, msg) fails(__LINE__, json, msg)

static void spec_lines(void) {
    /* the spec's own examples, byte for byte */
    SAME("{\"node\":1,\"type\":\"StateChange\",\"accountId\":42,\"changeId\":7,\"types\":[\"Email\",\"Mailbox\",\"Thread\"]}");
    SAME("{\"node\":1,\"type\":\"CalendarAlert\",\"accountId\":9,\"eventId\":3,\"recurrenceId\":null,\"uid\":\"ev-1@example.com\",\"alertId\":\"a1\"}");
    SAME("{\"node\":1,\"type\":\"EmailPush\",\"accountId\":9,\"emailId\":77,\"changeId\":1099511627776}");
    SAME("{\"node\":1,\"type\":\"PushServerUpdate\",\"accountId\":9}");
    SAME("{\"node\":1,\"type\":\"RegistryInsert\",\"object\":\"BlockedIp\",\"id\":1001}");
    SAME("{\"node\":1,\"type\":\"RegistryDelete\",\"object\":\"Certificate\",\"id\":4}");
    SAME("{\"node\":1,\"type\":\"RegistryReload\",\"object\":\"Certificate\"}");
    SAME("{\"node\":1,\"type\":\"CacheInvalidate\",\"items\":[{\"kind\":\"Account\",\"id\":5},{\"kind\":\"EmailNegative\",\"domainId\":3,\"localPartHash\":4000000000},{\"kind\":\"DomainNegative\"}]}");
    SAME("{\"node\":1,\"type\":\"CacheInvalidateAll\"}");
    SAME("{\"node\":1,\"type\":\"CacheInvalidateNegative\"}");
    SAME("{\"node\":1,\"type\":\"MtaQueueStatus\",\"running\":false}");
    SAME("{\"node\":1,\"type\":\"QueueRefresh\"}");
    /* 64-bit extremes stay exact; recurrenceId may be negative */
    SAME("{\"node\":65535,\"type\":\"StateChange\",\"accountId\":4294967295,\"changeId\":18446744073709551615,\"types\":[]}");
    SAME("{\"node\":0,\"type\":\"CalendarAlert\",\"accountId\":0,\"eventId\":0,\"recurrenceId\":-9223372036854775808,\"uid\":\"\",\"alertId\":\"\\\"q\\\"\\n\\u0001é\"}");
    SAME("{\"node\":0,\"type\":\"CalendarAlert\",\"accountId\":0,\"eventId\":0,\"recurrenceId\":9223372036854775807,\"uid\":\"u\",\"alertId\":\"a\"}");
    SAME("{\"node\":0,\"type\":\"StateChange\",\"accountId\":1,\"changeId\":2,\"types\":[\"Email\",\"EmailDelivery\",\"EmailSubmission\",\"Mailbox\",\"Thread\",\"Identity\",\"Core\",\"PushSubscription\",\"SearchSnippet\",\"VacationResponse\",\"MDN\",\"Quota\",\"SieveScript\",\"Calendar\",\"CalendarEvent\",\"CalendarEventNotification\",\"AddressBook\",\"ContactCard\",\"FileNode\",\"Principal\",\"ShareNotification\",\"ParticipantIdentity\",\"CalendarAlert\"]}");
    SAME("{\"node\":7,\"type\":\"MtaQueueStatus\",\"running\":true}");
    SAME("{\"node\":7,\"type\":\"CacheInvalidate\",\"items\":[]}");
}

static void agora_kinds(void) {
    agora_event ev;
    same(__LINE__, "{\"node\":1,\"type\":\"BlockIp\",\"address\":\"203.0.113.7/32\",\"expires\":\"2026-12-01T00:00:00Z\",\"reason\":\"brute force\"}", &ev);
    CHECKF(ev.type == AGORA_EV_BLOCK_IP && ev.u.block_ip.expires == 1796083200 &&
              ev.u.block_ip.address.family == 4 && ev.u.block_ip.address.prefix == 32 &&
              !memcmp(ev.u.block_ip.address.addr, "\xcb\x00\x71\x07", 4), "BlockIp fields");
    agora_event_clear(&ev);
    SAME("{\"node\":1,\"type\":\"UnblockIp\",\"address\":\"2001:db8::/32\",\"expires\":null,\"reason\":null}");
    SAME("{\"node\":1,\"type\":\"BlockIp\",\"address\":\"0.0.0.0/0\",\"expires\":\"1969-12-31T23:59:59Z\",\"reason\":null}");
    same(__LINE__, "{\"node\":2,\"type\":\"CertificateUpdate\",\"domains\":[\"mail.example.com\",\"imap.example.com\"],\"notAfter\":\"2027-02-01T00:00:00Z\",\"sha256\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff\",\"chain\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}", &ev);
    CHECKF(ev.u.certificate_update.not_after == 1801440000 &&
              ev.u.certificate_update.domain_count == 2 &&
              !strcmp(ev.u.certificate_update.domains[1], "imap.example.com") &&
              ev.u.certificate_update.sha256[31] == 0xff && ev.u.certificate_update.sha256[10] == 10 &&
              !strncmp(ev.u.certificate_update.chain_pem, "-----BEGIN CERTIFICATE-----\nMIIB\n", 33),
          "CertificateUpdate fields");
    agora_event_clear(&ev);
    /* times: leap day, year 1, and beyond year 9999 (printed as integer seconds) */
    SAME("{\"node\":2,\"type\":\"CertificateUpdate\",\"domains\":[],\"notAfter\":\"2024-02-29T23:59:59Z\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"chain\":\"\"}");
    SAME("{\"node\":2,\"type\":\"CertificateUpdate\",\"domains\":[],\"notAfter\":\"0001-01-01T00:00:00Z\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"chain\":\"\"}");
    SAME("{\"node\":2,\"type\":\"CertificateUpdate\",\"domains\":[],\"notAfter\":\"9999-12-31T23:59:59Z\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"chain\":\"\"}");
    SAME("{\"node\":2,\"type\":\"CertificateUpdate\",\"domains\":[],\"notAfter\":253402300800,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"chain\":\"\"}");
    SAME("{\"node\":2,\"type\":\"CertificateUpdate\",\"domains\":[],\"notAfter\":-9223372036854775808,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"chain\":\"\"}");
    same(__LINE__, "{\"node\":0,\"type\":\"Custom\",\"name\":\"x\",\"data\":\"AAEC/w==\"}", &ev);
    CHECKF(ev.u.custom.len == 4 && !memcmp(ev.u.custom.data, "\x00\x01\x02\xff", 4), "Custom data");
    agora_event_clear(&ev);
    SAME("{\"node\":0,\"type\":\"Custom\",\"name\":\"x\",\"data\":\"\"}");
    SAME("{\"node\":0,\"type\":\"Custom\",\"name\":\"y\",\"data\":\"YQ==\"}");
    SAME("{\"node\":0,\"type\":\"Custom\",\"name\":\"y\",\"data\":\"YWI=\"}");
    SAME("{\"node\":0,\"type\":\"Custom\",\"name\":\"y\",\"data\":\"YWJj\"}");
    SAME("{\"node\":4,\"type\":\"Gap\",\"missed\":18446744073709551615}");
    SAME("{\"node\":5,\"type\":\"MemberJoined\",\"address\":\"127.0.0.1:7911\",\"incarnation\":123}");
    SAME("{\"node\":5,\"type\":\"MemberLeft\",\"address\":\"[::1]:7911\",\"incarnation\":1}");
    SAME("{\"node\":5,\"type\":\"MemberFailed\",\"address\":null,\"incarnation\":0}");
}

static void lenient_reading(void) {
    agora_event ev;
    char err[256];
    /* any key order, unknown keys ignored, node optional, whitespace */
    const char *j = " { \"types\" : [\"Mailbox\"], \"extra\": {\"a\": [1, 2.5, null]},"
                    " \"changeId\": 3, \"type\": \"StateChange\", \"accountId\": 1 } ";
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_OK && ev.node == 0 &&
              ev.u.state_change.types == (1u << AGORA_DT_MAILBOX), "lenient: %s", err);
    agora_event_clear(&ev);
    /* optional fields absent; an empty reason is no reason; a host address gets /32;
     * integer seconds are a time too */
    j = "{\"type\":\"BlockIp\",\"address\":\"192.0.2.1\",\"reason\":\"\",\"expires\":5}";
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_OK &&
              ev.u.block_ip.reason == NULL && ev.u.block_ip.address.prefix == 32 &&
              ev.u.block_ip.expires == 5, "BlockIp defaults: %s", err);
    agora_event_clear(&ev);
    j = "{\"type\":\"CalendarAlert\",\"accountId\":1,\"eventId\":2,\"uid\":\"u\",\"alertId\":\"a\"}";
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_OK &&
              ev.u.calendar_alert.recurrence_id == 0, "recurrenceId absent: %s", err);
    agora_event_clear(&ev);
    j = "{\"type\":\"MemberJoined\",\"node\":3,\"incarnation\":9}";
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_OK &&
              ev.node == 3 && ev.u.member.address == NULL, "member: %s", err);
    agora_event_clear(&ev);
    /* host bits of a prefix are dropped */
    j = "{\"type\":\"UnblockIp\",\"address\":\"2001:db8::1/32\"}";
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_OK, "v6: %s", err);
    char *out = agora_event_to_json(&ev);
    CHECKF(out && strstr(out, "\"address\":\"2001:db8::/32\""), "masked: %s", out);
    free(out);
    agora_event_clear(&ev);
    /* uppercase hex is read */
    j = "{\"type\":\"CertificateUpdate\",\"domains\":[\"a\"],\"notAfter\":0,\"sha256\":\"ABCDEF0000000000000000000000000000000000000000000000000000000000\",\"chain\":\"c\"}";
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_OK &&
              ev.u.certificate_update.sha256[0] == 0xab, "hex: %s", err);
    agora_event_clear(&ev);
}

static void errors(void) {
    FAILS("{\"type\":\"StateChange\",\"accountId\":1,\"changeId\":2,\"types\":[\"Email\",\"Mailbox\",\"Emial\"]}",
          "types[2]: unknown data type \"Emial\"");
    FAILS("{\"type\":\"StateChange\",\"accountId\":1,\"changeId\":2,\"types\":[3]}",
          "types[0]: expected a data type name such as \"Email\"");
    FAILS("{\"type\":\"StateChange\",\"accountId\":1,\"changeId\":2,\"types\":\"Email\"}",
          "types: expected an array of data type names");
    FAILS("{\"type\":\"StateChange\",\"accountId\":1,\"types\":[]}", "changeId: missing");
    FAILS("{\"accountId\":1}", "type: missing");
    FAILS("{\"type\":\"Foo\"}", "type: unknown event type \"Foo\"");
    FAILS("{\"type\":\"stateChange\"}", "type: unknown event type \"stateChange\"");
    FAILS("{\"type\":7}", "type: expected an event type name such as \"StateChange\"");
    FAILS("{\"type\":\"PushServerUpdate\",\"accountId\":4294967296}",
          "accountId: expected an integer from 0 to 4294967295");
    FAILS("{\"type\":\"PushServerUpdate\",\"accountId\":-1}",
          "accountId: expected an integer from 0 to 4294967295");
    FAILS("{\"type\":\"PushServerUpdate\",\"accountId\":1.5}",
          "accountId: expected an integer from 0 to 4294967295");
    FAILS("{\"type\":\"PushServerUpdate\",\"accountId\":\"1\"}",
          "accountId: expected an integer from 0 to 4294967295");
    FAILS("{\"type\":\"PushServerUpdate\",\"accountId\":null}",
          "accountId: expected an integer from 0 to 4294967295");
    FAILS("{\"type\":\"EmailPush\",\"accountId\":1,\"emailId\":2,\"changeId\":18446744073709551616}",
          "changeId: expected an integer from 0 to 18446744073709551615");
    FAILS("{\"type\":\"QueueRefresh\",\"node\":65536}", "node: expected an integer from 0 to 65535");
    FAILS("{\"type\":\"RegistryInsert\",\"object\":\"Blocked\",\"id\":1}",
          "object: unknown object type \"Blocked\"");
    FAILS("{\"type\":\"RegistryReload\",\"object\":17}",
          "object: expected an object type name such as \"BlockedIp\"");
    FAILS("{\"type\":\"RegistryDelete\",\"object\":\"BlockedIp\"}", "id: missing");
    FAILS("{\"type\":\"CacheInvalidate\",\"items\":[{\"kind\":\"Account\",\"id\":1},{\"kind\":\"Acount\",\"id\":1}]}",
          "items[1].kind: unknown cache kind \"Acount\"");
    FAILS("{\"type\":\"CacheInvalidate\",\"items\":[{\"kind\":\"Account\"}]}", "items[0].id: missing");
    FAILS("{\"type\":\"CacheInvalidate\",\"items\":[{\"kind\":\"EmailNegative\",\"id\":3}]}",
          "items[0].domainId: missing");
    FAILS("{\"type\":\"CacheInvalidate\",\"items\":[{\"kind\":\"EmailNegative\",\"domainId\":3,\"localPartHash\":-4}]}",
          "items[0].localPartHash: expected an integer from 0 to 4294967295");
    FAILS("{\"type\":\"CacheInvalidate\",\"items\":[5]}", "items[0]: expected an object");
    FAILS("{\"type\":\"CacheInvalidate\"}", "items: missing");
    FAILS("{\"type\":\"MtaQueueStatus\",\"running\":1}", "running: expected true or false");
    FAILS("{\"type\":\"CalendarAlert\",\"accountId\":1,\"eventId\":2,\"recurrenceId\":9223372036854775808,\"uid\":\"u\",\"alertId\":\"a\"}",
          "recurrenceId: expected null or a 64-bit signed integer");
    /* NUL is allowed in a CalendarAlert's strings (as in Stalwart's), not elsewhere */
    FAILS("{\"type\":\"BlockIp\",\"address\":\"10.0.0.1\",\"reason\":\"u\\u0000v\"}",
          "reason: must not contain a NUL character");
    FAILS("{\"type\":\"StateChange\",\"accountId\":1,\"changeId\":2,\"types\":[],\"unknownTypeBits\":1}",
          "unknownTypeBits: bits below 23 are known data types: name them in \"types\"");
    FAILS("{\"type\":\"StateChange\",\"accountId\":1,\"changeId\":2,\"types\":[],\"unknownTypeBits\":-1}",
          "unknownTypeBits: expected an integer from 0 to 18446744073709551615");
    FAILS("{\"type\":\"CalendarAlert\",\"accountId\":1,\"eventId\":2,\"uid\":5,\"alertId\":\"a\"}",
          "uid: expected a string");
    FAILS("{\"type\":\"BlockIp\",\"address\":\"203.0.113.7/33\"}",
          "address: expected an IP address or prefix such as \"203.0.113.7/32\"");
    FAILS("{\"type\":\"BlockIp\"}", "address: missing");
    FAILS("{\"type\":\"BlockIp\",\"address\":\"10.0.0.1\",\"expires\":\"2026-02-30T00:00:00Z\"}",
          "expires: expected a UTC time such as \"2026-12-01T00:00:00Z\"");
    FAILS("{\"type\":\"BlockIp\",\"address\":\"10.0.0.1\",\"expires\":\"2026-12-01 00:00:00\"}",
          "expires: expected a UTC time such as \"2026-12-01T00:00:00Z\"");
    FAILS("{\"type\":\"BlockIp\",\"address\":\"10.0.0.1\",\"reason\":7}", "reason: expected a string");
    FAILS("{\"type\":\"CertificateUpdate\",\"domains\":[\"a\"],\"notAfter\":0,\"sha256\":\"abc\",\"chain\":\"\"}",
          "sha256: expected 64 hexadecimal digits");
    FAILS("{\"type\":\"CertificateUpdate\",\"domains\":[\"a\"],\"notAfter\":0,\"sha256\":\"zz00000000000000000000000000000000000000000000000000000000000000\",\"chain\":\"\"}",
          "sha256: expected 64 hexadecimal digits");
    FAILS("{\"type\":\"CertificateUpdate\",\"domains\":[\"a\",1],\"notAfter\":0}", "domains[1]: expected a string");
    FAILS("{\"type\":\"CertificateUpdate\",\"domains\":[]}", "notAfter: missing");
    FAILS("{\"type\":\"Custom\",\"name\":\"x\",\"data\":\"AAE\"}",
          "data: expected base64 text (standard alphabet, padded)");
    FAILS("{\"type\":\"Custom\",\"name\":\"x\",\"data\":\"A===\"}",
          "data: expected base64 text (standard alphabet, padded)");
    FAILS("{\"type\":\"Custom\",\"name\":\"x\",\"data\":\"AB=C\"}",
          "data: expected base64 text (standard alphabet, padded)");
    FAILS("{\"type\":\"Custom\",\"name\":\"x\",\"data\":\"YR==\"}", /* non-zero unused bits */
          "data: expected base64 text (standard alphabet, padded)");
    FAILS("{\"type\":\"Custom\",\"name\":\"x\",\"data\":\"YW-_\"}",
          "data: expected base64 text (standard alphabet, padded)");
    FAILS("{\"type\":\"Gap\",\"node\":1}", "missed: missing");
    FAILS("{\"type\":\"MemberLeft\",\"address\":\"a\"}", "incarnation: missing");
    FAILS("[1,2]", "expected a JSON object, got array");

    /* malformed JSON: the reader's line and column */
    agora_event ev;
    char err[256];
    const char *j = "{\"type\":\"QueueRefresh\",}";
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_EJSON &&
              !strncmp(err, "line 1, column ", 15), "bad JSON: %s", err);
    CHECKF(agora_event_from_json("", 0, &ev, err, sizeof err) == AGORA_EJSON, "empty");
    /* the length bounds the text (no NUL terminator needed) */
    j = "{\"type\":\"QueueRefresh\"}garbage";
    CHECKF(agora_event_from_json(j, 23, &ev, err, sizeof err) == AGORA_OK, "length: %s", err);
    CHECKF(agora_event_from_json(j, strlen(j), &ev, err, sizeof err) == AGORA_EJSON, "garbage");
}

static void prefixes(void) {
    agora_ip_prefix p;
    char buf[64];
    static const struct { const char *in, *out; } ok[] = {
        {"203.0.113.7", "203.0.113.7/32"},     {"203.0.113.7/32", "203.0.113.7/32"},
        {"203.0.113.77/24", "203.0.113.0/24"}, {"0.0.0.0/0", "0.0.0.0/0"},
        {"10.255.255.255/9", "10.128.0.0/9"},  {"::1", "::1/128"},
        {"2001:db8::1/32", "2001:db8::/32"},   {"::/0", "::/0"},
        {"fe80::1:2:3:4/127", "fe80::1:2:3:4/127"}, {"::ffff:1.2.3.4", "::ffff:1.2.3.4/128"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        CHECKF(agora_ip_prefix_parse(ok[i].in, &p) == AGORA_OK &&
                  agora_ip_prefix_format(&p, buf, sizeof buf) == AGORA_OK && !strcmp(buf, ok[i].out),
              "%s -> %s (expected %s)", ok[i].in, buf, ok[i].out);
    }
    static const char *const bad[] = {"", "1.2.3", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1",
                                      "1.2.3.4/3x", "::/129", "x", "1.2.3.4 ", "/8",
                                      "1.2.3.4/0008", "::1/1/2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECKF(agora_ip_prefix_parse(bad[i], &p) == AGORA_EINVAL, "accepted \"%s\"", bad[i]);
    agora_ip_prefix_parse("203.0.113.7", &p);
    CHECKF(agora_ip_prefix_format(&p, buf, 14) == AGORA_EINVAL, "small buffer");
    CHECKF(agora_ip_prefix_format(&p, buf, 15) == AGORA_OK, "exact buffer");
    p.family = 5;
    CHECKF(agora_ip_prefix_format(&p, buf, sizeof buf) == AGORA_EINVAL, "family 5");
}

static void names(void) {
    CHECKF(!strcmp(agora_data_type_name(0), "Email") && !strcmp(agora_data_type_name(10), "MDN") &&
              !strcmp(agora_data_type_name(22), "CalendarAlert") && !agora_data_type_name(23) &&
              !agora_data_type_name(-1), "data type names");
    CHECKF(agora_object_type_from_name("BlockedIp") == AGORA_OBJ_BLOCKED_IP &&
              agora_object_type_from_name("Certificate") == AGORA_OBJ_CERTIFICATE &&
              agora_object_type_from_name("Account") == 0 &&
              agora_object_type_from_name("WebHook") == 116 &&
              agora_object_type_from_name("MtaStageRcpt") == 73 &&
              agora_object_type_from_name("blockedip") == -1 &&
              agora_object_type_from_name(NULL) == -1 && !agora_object_type_name(117),
          "object type ids");
    for (int i = 0; i < AGORA_OBJ_COUNT; i++)
        CHECKF(agora_object_type_from_name(agora_object_type_name(i)) == i, "object %d", i);
    for (int i = 0; i < AGORA_DT_COUNT; i++)
        CHECKF(agora_data_type_from_name(agora_data_type_name(i)) == i, "data type %d", i);
    for (int i = 0; i < AGORA_CACHE_KIND_COUNT; i++)
        CHECKF(agora_cache_kind_from_name(agora_cache_kind_name(i)) == i, "cache kind %d", i);
    CHECKF(agora_cache_kind_from_name("EmailNegative") == 10 &&
              agora_cache_kind_from_name("DomainNegative") == 11 && !agora_cache_kind_name(12),
          "cache kinds");
    static const char *const evn[] = {
        "StateChange", "CalendarAlert", "EmailPush", "PushServerUpdate", "RegistryInsert",
        "RegistryDelete", "RegistryReload", "CacheInvalidate", "CacheInvalidateAll",
        "CacheInvalidateNegative", "MtaQueueStatus", "QueueRefresh", "BlockIp", "UnblockIp",
        "CertificateUpdate", "Custom", "Gap", "MemberJoined", "MemberLeft", "MemberFailed"};
    CHECKF(sizeof evn / sizeof *evn == AGORA_EV_TYPE_COUNT, "event type count");
    for (int i = 0; i < AGORA_EV_TYPE_COUNT; i++) {
        CHECKF(!strcmp(agora_event_type_name((agora_event_type)i), evn[i]) &&
                  agora_event_type_from_name(evn[i]) == i, "event type %d", i);
        CHECKF(agora_event_type_is_stalwart((agora_event_type)i) == (i <= AGORA_EV_QUEUE_REFRESH),
              "is_stalwart %d", i);
    }
    CHECKF(!agora_event_type_name(AGORA_EV_TYPE_COUNT), "no name past the end");
    for (int e = 0; e >= AGORA_EAUTH; e--) {
        const char *s = agora_strerror(e);
        CHECKF(s && *s && strcmp(s, "unknown error"), "strerror(%d)", e);
        for (int f = 0; f > e; f--) CHECKF(strcmp(s, agora_strerror(f)), "strerror %d == %d", e, f);
    }
    CHECKF(!strcmp(agora_strerror(-99), "unknown error"), "unknown code");
    CHECKF(!strcmp(agora_version(), AGORA_VERSION), "version");
}

int main(void) {
    spec_lines();
    agora_kinds();
    lenient_reading();
    errors();
    prefixes();
    names();
    printf("test_event_json: %d failures\n", failures);
    return failures ? 1 : 0;
}
