/* redis_fixture.h — real redis-server processes on 127.0.0.1 for the Redis tests:
 * a single server, a 3-master Redis Cluster, a Sentinel setup (master, replica,
 * sentinel); restart, kill and failover. Everything lives in one temp directory per
 * test process, removed at exit; children die with the test (PR_SET_PDEATHSIG).
 * Tests using the fixture run one at a time on the machine (a lock file in /tmp, taken
 * by the first start), since their ports are fixed. */
#ifndef REDIS_FIXTURE_H
#define REDIS_FIXTURE_H

#if defined(__has_include)
#if __has_include(<hiredis/hiredis.h>)
#define REDIS_FX_ENABLED 1
#endif
#endif

#ifdef REDIS_FX_ENABLED
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct redis_fx_server {
    int port;
    pid_t pid; /* 0 when not running */
    char dir[512];
    char conf[600];
} redis_fx_server;

typedef struct redis_fx_sentinel {
    redis_fx_server master, replica, sentinel;
} redis_fx_sentinel;

/* redis-server and redis-cli are installed (tests skip otherwise). */
bool redis_fx_available(void);

/* Start a server on `port` with extra config lines (may be NULL). Waits until it
 * answers. 0 on success. */
int redis_fx_start(redis_fx_server *s, int port, const char *extra_conf);
/* Stop (SIGTERM, wait), kill (SIGKILL, wait), start again with the same config. */
void redis_fx_stop(redis_fx_server *s);
void redis_fx_kill(redis_fx_server *s);
int redis_fx_restart(redis_fx_server *s);
/* Send a signal (SIGSTOP / SIGCONT to hang and resume the server). */
void redis_fx_signal(redis_fx_server *s, int sig);

/* Run a command on 127.0.0.1:port (optionally AUTH pass first); NULL on failure.
 * Free with freeReplyObject. */
redisReply *redis_fx_cmd(int port, const char *pass, const char *fmt, ...);
/* An integer field of INFO ("total_connections_received"), or -1. */
long long redis_fx_info_int(int port, const char *pass, const char *field);

/* Three cluster-enabled servers on base..base+2, joined with redis-cli --cluster
 * create (no replicas; cluster bus on port+500); waits for cluster_state:ok everywhere. */
int redis_fx_cluster_start(redis_fx_server nodes[3], int base_port);

/* master on base, replica on base+1, sentinel on base+2 monitoring "mymaster"
 * (quorum 1, down-after 1000 ms); waits until the sentinel knows the replica. */
int redis_fx_sentinel_start(redis_fx_sentinel *st, int base_port);
/* SENTINEL FAILOVER mymaster; waits until the sentinel names the other server and it
 * is a master. Returns the new master's port, or -1. */
int redis_fx_sentinel_failover(redis_fx_sentinel *st, int timeout_ms);
void redis_fx_sentinel_stop(redis_fx_sentinel *st);

/* Milliseconds of monotonic time. */
unsigned long long redis_fx_now_ms(void);

#endif /* REDIS_FX_ENABLED */
#endif
