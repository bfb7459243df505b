/* fuzz_config.c — libFuzzer target for agora_config_parse (and the JSON reader under
 * it). Invariants checked beyond memory safety:
 *   - a rejected input always gets a non-empty, NUL-terminated error message;
 *   - an accepted configuration prints (agora_config_to_json) as JSON that parses
 *     back to a configuration printing exactly the same;
 *   - a clone prints the same as the original. */
#include "agora.h"
#include "config/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[2048];
    memset(err, 'x', sizeof err);
    agora_config *cfg = agora_config_parse((const char *)data, size, err, sizeof err);
    if (!cfg) {
        if (err[0] == 0 || memchr(err, 0, sizeof err) == NULL) abort();
        /* one error per line: no line is empty, none has other control characters */
        for (const char *p = err; *p; p++)
            if (((unsigned char)*p < 0x20 && *p != '\n') || (*p == '\n' && (p[1] == '\n' || !p[1])))
                abort();
        return 0;
    }
    char *json = agora_config_to_json(cfg);
    if (!json) abort();
    agora_config *again = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!again) abort(); /* the effective configuration must itself be valid */
    char *json2 = agora_config_to_json(again);
    if (!json2 || strcmp(json, json2) != 0) abort();
    agora_config *copy = ag_config_clone(cfg);
    if (!copy) abort();
    char *json3 = agora_config_to_json(copy);
    if (!json3 || strcmp(json, json3) != 0) abort();
    free(json3);
    free(json2);
    free(json);
    agora_config_free(copy);
    agora_config_free(again);
    agora_config_free(cfg);
    return 0;
}
