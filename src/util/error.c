/* error.c — error texts and the version string. */
#include "agora.h"

const char *agora_strerror(int err) {
    switch (err) {
    case AGORA_OK: return "success";
    case AGORA_EINVAL: return "invalid argument";
    case AGORA_ENOMEM: return "out of memory";
    case AGORA_ECONFIG: return "invalid configuration";
    case AGORA_EDECODE: return "malformed wire data";
    case AGORA_EUNSUPPORTED: return "not representable in this format";
    case AGORA_EIO: return "I/O error";
    case AGORA_ECLOSED: return "coordinator is closed";
    case AGORA_EFULL: return "queue is full";
    case AGORA_ETIMEDOUT: return "timed out";
    case AGORA_ENOBACKEND: return "backend not included in this build";
    case AGORA_EJSON: return "malformed JSON";
    case AGORA_EAGAIN: return "try again later";
    case AGORA_EAUTH: return "authentication refused";
    case AGORA_EDUPID: return "node id in use by another live node";
    default: return "unknown error";
    }
}

const char *agora_version(void) { return AGORA_VERSION; }

unsigned agora_version_number(void) { return AGORA_VERSION_NUMBER; }
