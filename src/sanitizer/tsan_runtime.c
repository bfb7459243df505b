/* tsan_runtime.c — compiled only into ThreadSanitizer builds (AGORA_TSAN), and pulled
 * into every program linked with libagora (-Wl,--undefined=thrd_create). Two things:
 *
 * Default options. The TSan runtime asks the program for them: naming the
 * suppressions file here means a test binary or the CLI run by hand reports what ctest
 * reports (ctest's TSAN_OPTIONS add halt_on_error on top). This has to sit in the same
 * object as the C11 calls: libtsan.so defines a weak __tsan_default_options itself, so
 * only an object pulled in for another symbol can override it.
 *
 * C11 threads. librdkafka runs its threads with glibc's C11 <threads.h> calls. glibc
 * implements them with internal pthread entry points that ThreadSanitizer (gcc 12,
 * clang 14) does not intercept: a thread started by thrd_create is unknown to TSan,
 * and its first intercepted call (malloc) crashes; mtx_lock and friends are invisible,
 * so TSan would not see the happens-before they give. Defining the calls here, in the
 * program, interposes them for librdkafka and routes them to the pthread functions
 * TSan does intercept. glibc lays thrd_t, mtx_t, cnd_t and once_flag out exactly as
 * pthread_t, pthread_mutex_t, pthread_cond_t and pthread_once_t, which is what makes
 * the casts below valid (glibc's own implementation does the same). */
#ifndef AGORA_TSAN_SUPPRESSIONS
#error "AGORA_TSAN_SUPPRESSIONS (the path of tests/tsan.supp) must be defined"
#endif

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is a pthread_t");
_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread_cond_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once_flag is a pthread_once_t");

const char *__tsan_default_options(void);

const char *__tsan_default_options(void) {
    return "suppressions=" AGORA_TSAN_SUPPRESSIONS ":second_deadlock_stack=1";
}

/* The thrd_* result for a pthread error number. */
static int thrd_result(int err) {
    switch (err) {
    case 0: return thrd_success;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
    }
}

typedef struct {
    thrd_start_t func;
    void *arg;
} c11_start;

/* A C11 thread returns int; pthread_join hands back a void *, thrd_join converts. */
static void *c11_trampoline(void *p) {
    c11_start s = *(c11_start *)p;
    free(p);
    return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg) {
    c11_start *s = malloc(sizeof *s);
    if (!s) return thrd_nomem;
    s->func = func;
    s->arg = arg;
    int err = pthread_create((pthread_t *)thr, NULL, c11_trampoline, s);
    if (err) free(s);
    return thrd_result(err);
}

int thrd_join(thrd_t thr, int *res) {
    void *ret;
    int err = pthread_join((pthread_t)thr, &ret);
    if (!err && res) *res = (int)(intptr_t)ret;
    return thrd_result(err);
}

int thrd_detach(thrd_t thr) { return thrd_result(pthread_detach((pthread_t)thr)); }

int mtx_init(mtx_t *m, int type) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int err = pthread_mutex_init((pthread_mutex_t *)m, &attr);
    pthread_mutexattr_destroy(&attr);
    return thrd_result(err);
}

int mtx_lock(mtx_t *m) { return thrd_result(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return thrd_result(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts) {
    return thrd_result(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}
int mtx_unlock(mtx_t *m) { return thrd_result(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

int cnd_init(cnd_t *c) { return thrd_result(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return thrd_result(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return thrd_result(pthread_cond_broadcast((pthread_cond_t *)c)); }
int cnd_wait(cnd_t *c, mtx_t *m) {
    return thrd_result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts) {
    return thrd_result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }

void call_once(once_flag *flag, void (*func)(void)) { pthread_once((pthread_once_t *)flag, func); }
