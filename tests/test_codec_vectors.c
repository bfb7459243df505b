/* test_codec_vectors.c — the Stalwart vectors (tests/vectors/stalwart): every batch
 * decodes to its .jsonl (compared as JSON values), the .jsonl lines parse back to the
 * same events, encoding gives the very same bytes, and every bad-*.bin is rejected at
 * the expected byte. */
#include "agora.h"
#include "check.h"
#include "util/json.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool codec_ev_equal(const agora_event *a, const agora_event *b);
uint8_t *codec_read_file(const char *path, size_t *len);
bool codec_json_equal(const ag_json *a, const ag_json *b);


static const char *dir_path(void) {
    static char p[4096];
    const char *v = getenv("AGORA_VECTORS");
    snprintf(p, sizeof p, "%s/stalwart", v && *v ? v : AGORA_VECTORS);
    return p;
}

/* Where each known malformed vector must be rejected. */
static const struct {
    const char *file;
    size_t offset;
    const char *what; /* a piece of the message */
    size_t kept;      /* good events before the bad one, still returned */
} bad_expect[] = {
    {"bad-01-empty.bin", 0, "empty input", 0},
    {"bad-02-truncated-leb.bin", 0, "node id: truncated", 0},
    {"bad-03-unknown-tag.bin", 1, "unknown event tag 13", 0},
    {"bad-04-truncated-state.bin", 3, "StateChange types", 0},
    {"bad-05-bad-object-type.bin", 2, "unknown object type id 117", 0},
    /* what Stalwart never writes stays refused, after the good events before it */
    {"bad-06-non-minimal-leb.bin", 3, "StateChange changeId: LEB128 is not in its shortest form", 1},
    {"bad-07-too-wide.bin", 3, "PushServerUpdate accountId: LEB128 value does not fit in 32 bits", 1},
};

static void check_good(const char *name, const uint8_t *bin, size_t len, const char *jsonl) {
    uint16_t node;
    agora_event *evs;
    size_t n, off = 999;
    char err[256] = "";
    int rc = agora_stalwart_decode(bin, len, &node, &evs, &n, &off, err, sizeof err);
    CHECKF(rc == AGORA_OK, "%s: decode failed: %s", name, err);

    /* decoded events vs the expected lines, as JSON values */
    size_t line = 0;
    const char *p = jsonl;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        if (ll == 0) {
            p = nl ? nl + 1 : p + ll;
            continue;
        }
        CHECKF(line < n, "%s: more expected lines than decoded events", name);
        if (line < n) {
            char *mine = agora_event_to_json(&evs[line]);
            ag_json *a = ag_json_parse(mine, strlen(mine), err, sizeof err);
            ag_json *b = ag_json_parse(p, ll, err, sizeof err);
            CHECKF(a && b && codec_json_equal(a, b), "%s line %zu: got %s, expected %.*s", name,
                  line + 1, mine, (int)ll, p);
            /* the expected line, read back, is the decoded event */
            agora_event back;
            rc = agora_event_from_json(p, ll, &back, err, sizeof err);
            CHECKF(rc == AGORA_OK, "%s line %zu: from_json: %s", name, line + 1, err);
            if (rc == AGORA_OK) {
                CHECKF(codec_ev_equal(&back, &evs[line]), "%s line %zu: from_json differs", name,
                      line + 1);
                agora_event_clear(&back);
            }
            ag_json_free(a);
            ag_json_free(b);
            free(mine);
        }
        line++;
        p = nl ? nl + 1 : p + ll;
    }
    CHECKF(line == n, "%s: %zu events decoded, %zu expected", name, n, line);
    for (size_t i = 0; i < n; i++) CHECKF(evs[i].node == node, "%s: event %zu node", name, i);

    /* encode back: the same bytes */
    uint8_t *out = NULL;
    size_t out_len = 0;
    rc = agora_stalwart_encode(node, evs, n, &out, &out_len, err, sizeof err);
    CHECKF(rc == AGORA_OK, "%s: encode: %s", name, err);
    CHECKF(out_len == len && out && !memcmp(out, bin, len), "%s: re-encoded bytes differ", name);
    free(out);

    /* every truncation decodes without reading past the end (ASan watches) and either
     * succeeds at an event boundary or names an offset inside the input */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *t = malloc(cut ? cut : 1);
        memcpy(t, bin, cut);
        agora_event *e2;
        size_t n2, off2 = 0;
        rc = agora_stalwart_decode(t, cut, &node, &e2, &n2, &off2, err, sizeof err);
        CHECKF(rc == AGORA_OK || (rc == AGORA_EDECODE && off2 <= cut), "%s cut %zu", name, cut);
        CHECKF(n2 <= n, "%s cut %zu: too many events", name, cut);
        for (size_t i = 0; i < n2; i++)
            CHECKF(codec_ev_equal(&e2[i], &evs[i]), "%s cut %zu: event %zu differs", name, cut, i);
        agora_events_free(e2, n2);
        free(t);
    }
    agora_events_free(evs, n);
}

static void check_bad(const char *name, const uint8_t *bin, size_t len) {
    uint16_t node;
    agora_event *evs;
    size_t n, off = 999;
    char err[256] = "";
    int rc = agora_stalwart_decode(bin, len, &node, &evs, &n, &off, err, sizeof err);
    CHECKF(rc == AGORA_EDECODE, "%s: accepted (rc %d)", name, rc);
    char prefix[40];
    snprintf(prefix, sizeof prefix, "byte %zu: ", off);
    CHECKF(!strncmp(err, prefix, strlen(prefix)), "%s: message \"%s\" does not start with \"%s\"",
          name, err, prefix);
    CHECKF(off <= len, "%s: offset %zu past the input", name, off);
    for (size_t i = 0; i < sizeof bad_expect / sizeof *bad_expect; i++)
        if (!strcmp(bad_expect[i].file, name)) {
            CHECKF(off == bad_expect[i].offset, "%s: offset %zu, expected %zu (%s)", name, off,
                  bad_expect[i].offset, err);
            CHECKF(strstr(err, bad_expect[i].what), "%s: message \"%s\" lacks \"%s\"", name, err,
                  bad_expect[i].what);
            CHECKF(n == bad_expect[i].kept, "%s: %zu good events kept, expected %zu", name, n,
                   bad_expect[i].kept);
        }
    agora_events_free(evs, n);
}

int main(void) {
    const char *dir = dir_path();
    DIR *d = opendir(dir);
    CHECKF(d != NULL, "cannot open %s", dir);
    if (!d) return 1;
    int good = 0, bad = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".bin")) continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) continue;
        size_t len;
        uint8_t *bin = codec_read_file(path, &len);
        CHECKF(bin != NULL, "cannot read %s", path);
        if (!bin) continue;
        if (!strncmp(de->d_name, "bad-", 4)) {
            check_bad(de->d_name, bin, len);
            bad++;
        } else {
            if (snprintf(path, sizeof path, "%s/%.*s.jsonl", dir, (int)(nl - 4), de->d_name) >=
                (int)sizeof path)
                continue;
            size_t jl;
            char *jsonl = (char *)codec_read_file(path, &jl);
            CHECKF(jsonl != NULL, "missing %s", path);
            if (jsonl) check_good(de->d_name, bin, len, jsonl);
            free(jsonl);
            good++;
        }
        free(bin);
    }
    closedir(d);
    /* the known files are all there (a vector set cannot silently go missing) */
    CHECKF(good >= 7, "only %d good vectors found", good);
    CHECKF(bad >= 7, "only %d bad vectors found", bad);
    printf("test_codec_vectors: %d good, %d bad vectors, %d failures\n", good, bad, failures);
    return failures ? 1 : 0;
}
