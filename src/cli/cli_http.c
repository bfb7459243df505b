/* cli_http.c — GET requests to a node's admin endpoint, with libcurl. */
#include "cli/cli_http.h"

#include "cli/cli_common.h"

#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (16u << 20)

typedef struct answer {
    char *data;
    size_t len;
    int too_large;
} answer;

static size_t on_data(char *p, size_t size, size_t n, void *user) {
    answer *a = user;
    size_t k = size * n;
    if (a->len + k > MAX_ANSWER) {
        a->too_large = 1;
        return 0;
    }
    char *d = realloc(a->data, a->len + k + 1);
    if (!d) return 0;
    memcpy(d + a->len, p, k);
    a->len += k;
    d[a->len] = 0;
    a->data = d;
    return k;
}

int cli_http_read_token(const char *cmd, const char *path, cli_http_target *t) {
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error(cmd, "--token-file: cannot open %s", path);
        return -1;
    }
    char line[1024];
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    fclose(f);
    char *s = line;
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    if (!n) {
        cli_error(cmd, "--token-file: %s holds no token", path);
        return -1;
    }
    free(t->token);
    t->token = strdup(s);
    memset(line, 0, sizeof line);
    return t->token ? 0 : -1;
}

void cli_http_target_free(cli_http_target *t) {
    if (t->token) {
        memset(t->token, 0, strlen(t->token));
        free(t->token);
    }
    t->token = NULL;
}

/* The "error" text of a JSON error answer, roughly (a message for people). */
static void error_text(const char *body, char *out, size_t n) {
    const char *e = body ? strstr(body, "\"error\":\"") : NULL;
    if (!e) {
        snprintf(out, n, "%.200s", body ? body : "");
        return;
    }
    e += 9;
    size_t o = 0;
    for (; *e && *e != '"' && o + 1 < n; e++) {
        if (*e == '\\' && e[1]) e++;
        out[o++] = *e;
    }
    out[o] = 0;
}

int cli_http_get(const char *cmd, const cli_http_target *t, const char *path, char **body) {
    static int inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = 1;
    }
    *body = NULL;
    char url[512];
    bool has_scheme = !strncmp(t->from, "http://", 7) || !strncmp(t->from, "https://", 8);
    size_t fl = strlen(t->from);
    while (fl && t->from[fl - 1] == '/') fl--;
    snprintf(url, sizeof url, "%s%.*s%s", has_scheme ? "" : "http://", (int)fl, t->from, path);
    CURL *c = curl_easy_init();
    if (!c) {
        cli_error(cmd, "cannot start an HTTP client");
        return -1;
    }
    answer a = {0};
    char auth[1100];
    struct curl_slist *hdr = NULL;
    if (t->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", t->token);
        hdr = curl_slist_append(hdr, auth);
        memset(auth, 0, sizeof auth);
    }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)t->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "agora-cli");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        if (a.too_large)
            cli_error(cmd, "%s: the answer is larger than 16 MiB", url);
        else
            cli_error(cmd, "cannot reach the node's admin endpoint at %s: %s", url,
                      *cerr ? cerr : curl_easy_strerror(rc));
        free(a.data);
        return -1;
    }
    if (status != 200) {
        char why[256];
        error_text(a.data, why, sizeof why);
        cli_error(cmd, "%s answered %ld: %s", url, status, why);
        free(a.data);
        return -1;
    }
    *body = a.data ? a.data : strdup("");
    return *body ? 0 : -1;
}
