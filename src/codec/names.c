/* names.c — names and ids shared with Stalwart 0.16 (data types, object types, cache
 * kinds) and the JSON names of event types. */
#include "agora.h"

#include <string.h>

static const char *const data_types[AGORA_DT_COUNT] = {
    "Email",         "EmailDelivery",
    "EmailSubmission", "Mailbox",
    "Thread",        "Identity",
    "Core",          "PushSubscription",
    "SearchSnippet", "VacationResponse",
    "MDN",           "Quota",
    "SieveScript",   "Calendar",
    "CalendarEvent", "CalendarEventNotification",
    "AddressBook",   "ContactCard",
    "FileNode",      "Principal",
    "ShareNotification", "ParticipantIdentity",
    "CalendarAlert",
};

/* Index = Stalwart's u16 object type id; the order is the wire format. */
static const char *const object_types[AGORA_OBJ_COUNT] = {
    "Account", "AccountPassword", "AccountSettings", "AcmeProvider", "Action",
    "AddressBook", "AiModel", "Alert", "AllowedIp", "ApiKey", "AppPassword",
    "Application", "ArchivedItem", "ArfExternalReport", "Asn", "Authentication",
    "BlobStore", "BlockedIp", "Bootstrap", "Cache", "Calendar", "CalendarAlarm",
    "CalendarScheduling", "Certificate", "ClusterNode", "ClusterRole", "Coordinator",
    "DataRetention", "DataStore", "Directory", "DkimReportSettings", "DkimSignature",
    "DmarcExternalReport", "DmarcInternalReport", "DmarcReportSettings", "DnsResolver",
    "DnsServer", "Domain", "DsnReportSettings", "Email", "Enterprise",
    "EventTracingLevel", "FileStorage", "Http", "HttpForm", "HttpLookup", "Imap",
    "InMemoryStore", "Jmap", "Log", "MailingList", "MaskedEmail", "MemoryLookupKey",
    "MemoryLookupKeyValue", "Metric", "Metrics", "MetricsStore",
    "MtaConnectionStrategy", "MtaDeliverySchedule", "MtaExtensions", "MtaHook",
    "MtaInboundSession", "MtaInboundThrottle", "MtaMilter", "MtaOutboundStrategy",
    "MtaOutboundThrottle", "MtaQueueQuota", "MtaRoute", "MtaStageAuth",
    "MtaStageConnect", "MtaStageData", "MtaStageEhlo", "MtaStageMail", "MtaStageRcpt",
    "MtaSts", "MtaTlsStrategy", "MtaVirtualQueue", "NetworkListener", "OAuthClient",
    "OidcProvider", "PublicKey", "QueuedMessage", "ReportSettings", "Role", "Search",
    "SearchStore", "Security", "SenderAuth", "Sharing", "SieveSystemInterpreter",
    "SieveSystemScript", "SieveUserInterpreter", "SieveUserScript", "SpamClassifier",
    "SpamDnsblServer", "SpamDnsblSettings", "SpamFileExtension", "SpamLlm",
    "SpamPyzor", "SpamRule", "SpamSettings", "SpamTag", "SpamTrainingSample",
    "SpfReportSettings", "StoreLookup", "SystemSettings", "Task", "TaskManager",
    "Tenant", "TlsExternalReport", "TlsInternalReport", "TlsReportSettings",
    "Trace", "Tracer", "TracingStore", "WebDav", "WebHook",
};

static const char *const cache_kinds[AGORA_CACHE_KIND_COUNT] = {
    "AccessToken", "DavResources", "Domain",     "Account",    "DkimSignature",
    "Tenant",      "Role",         "List",       "DomainLogo", "TenantLogo",
    "EmailNegative", "DomainNegative",
};

static const char *const event_types[AGORA_EV_TYPE_COUNT] = {
    "StateChange",       "CalendarAlert",   "EmailPush",
    "PushServerUpdate",  "RegistryInsert",  "RegistryDelete",
    "RegistryReload",    "CacheInvalidate", "CacheInvalidateAll",
    "CacheInvalidateNegative", "MtaQueueStatus", "QueueRefresh",
    "BlockIp",           "UnblockIp",       "CertificateUpdate",
    "Custom",            "Gap",             "MemberJoined",
    "MemberLeft",        "MemberFailed",
};

/* The tables are small (at most 117 names): a linear scan is fast enough and keeps
 * the lookup obviously correct. */
static int find(const char *const *table, int n, const char *name) {
    if (!name) return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(table[i], name)) return i;
    return -1;
}

const char *agora_data_type_name(int id) {
    return id >= 0 && id < AGORA_DT_COUNT ? data_types[id] : NULL;
}

int agora_data_type_from_name(const char *name) {
    return find(data_types, AGORA_DT_COUNT, name);
}

const char *agora_object_type_name(int id) {
    return id >= 0 && id < AGORA_OBJ_COUNT ? object_types[id] : NULL;
}

int agora_object_type_from_name(const char *name) {
    return find(object_types, AGORA_OBJ_COUNT, name);
}

const char *agora_cache_kind_name(int kind) {
    return kind >= 0 && kind < AGORA_CACHE_KIND_COUNT ? cache_kinds[kind] : NULL;
}

int agora_cache_kind_from_name(const char *name) {
    return find(cache_kinds, AGORA_CACHE_KIND_COUNT, name);
}

const char *agora_event_type_name(agora_event_type type) {
    return (int)type >= 0 && type < AGORA_EV_TYPE_COUNT ? event_types[type] : NULL;
}

int agora_event_type_from_name(const char *name) {
    return find(event_types, AGORA_EV_TYPE_COUNT, name);
}

bool agora_event_type_is_stalwart(agora_event_type type) {
    return (int)type >= 0 && type <= AGORA_EV_QUEUE_REFRESH;
}
