/* bench_stats.c — see bench_stats.h. */
#include "bench/bench_stats.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bst_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bst_sleep_until(uint64_t t_ns) {
    struct timespec ts = {.tv_sec = (time_t)(t_ns / 1000000000u),
                          .tv_nsec = (long)(t_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

uint64_t bst_window_room(uint64_t seq, uint64_t k, uint64_t received, uint64_t window) {
    uint64_t room = received + window, slack = window / 8;
    if (slack > window - k) slack = window - k;
    return seq + k + slack > room ? 0 : room;
}

/* ---- histogram ---------------------------------------------------------- */

static unsigned hist_index(uint64_t v) {
    if (v < 2 * BST_SUB) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - BST_SUB_BITS;
    unsigned sub = (unsigned)(v >> shift) - BST_SUB;
    return 2 * BST_SUB + (shift - 1) * BST_SUB + sub;
}

/* The middle of a bucket's range. */
static uint64_t hist_value(unsigned idx) {
    if (idx < 2 * BST_SUB) return idx;
    unsigned shift = (idx - 2 * BST_SUB) / BST_SUB + 1;
    uint64_t sub = (idx - 2 * BST_SUB) % BST_SUB;
    uint64_t low = (sub + BST_SUB) << shift;
    return low + ((uint64_t)1 << shift) / 2;
}

void bst_hist_add(bst_hist *h, uint64_t ns) {
    h->counts[hist_index(ns)]++;
    h->n++;
    h->sum_ns += ns;
    if (ns > h->max_ns) h->max_ns = ns;
}

void bst_hist_merge(bst_hist *dst, const bst_hist *src) {
    for (unsigned i = 0; i < BST_BUCKETS; i++) dst->counts[i] += src->counts[i];
    dst->n += src->n;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns) dst->max_ns = src->max_ns;
}

uint64_t bst_hist_quantile(const bst_hist *h, double q) {
    if (h->n == 0) return 0;
    if (q >= 1.0) return h->max_ns;
    uint64_t target = (uint64_t)(q * (double)h->n);
    if ((double)target < q * (double)h->n) target++;
    if (target == 0) target = 1;
    uint64_t cum = 0;
    for (unsigned i = 0; i < BST_BUCKETS; i++) {
        cum += h->counts[i];
        if (cum >= target) {
            uint64_t v = hist_value(i);
            return v > h->max_ns ? h->max_ns : v;
        }
    }
    return h->max_ns;
}

/* ---- per-origin tracking ------------------------------------------------ */

int bst_track_init(bst_track *t) {
    memset(t, 0, sizeof *t);
    t->base = 1;
    t->bits = calloc(BST_WINDOW / 64, sizeof *t->bits);
    return t->bits ? 0 : -1;
}

void bst_track_free(bst_track *t) {
    free(t->bits);
    t->bits = NULL;
}

bool bst_track_add(bst_track *t, uint64_t seq) {
    if (seq < t->base) {
        t->dup++;
        return false;
    }
    if (seq >= t->base + BST_WINDOW) {
        uint64_t nb = seq - BST_WINDOW + 1;
        if (nb - t->base >= BST_WINDOW) {
            memset(t->bits, 0, BST_WINDOW / 8);
        } else {
            for (uint64_t s = t->base; s < nb; s++) {
                uint64_t i = s % BST_WINDOW;
                t->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
            }
        }
        t->base = nb;
    }
    uint64_t i = seq % BST_WINDOW;
    uint64_t m = (uint64_t)1 << (i % 64);
    if (t->bits[i / 64] & m) {
        t->dup++;
        return false;
    }
    t->bits[i / 64] |= m;
    t->unique++;
    if (seq > t->newest) t->newest = seq;
    return true;
}

/* ---- memory --------------------------------------------------------------- */

static uint64_t status_field(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    size_t kl = strlen(key);
    uint64_t v = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, kl)) {
            v = strtoull(line + kl, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

uint64_t bst_peak_rss_kib(void) { return status_field("/proc/self/status", "VmHWM:"); }
uint64_t bst_rss_kib(void) { return status_field("/proc/self/status", "VmRSS:"); }
uint64_t bst_pid_rss_kib(int pid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/status", pid);
    return status_field(p, "VmRSS:");
}

uint64_t bst_heap_kib(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)(mi.uordblks + mi.hblkhd) / 1024;
#else
    return 0;
#endif
}

double bst_cpu_seconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- printing ------------------------------------------------------------- */

static double per_sec(uint64_t v, double secs) { return secs > 0 ? (double)v / secs : 0.0; }
static double us(uint64_t ns) { return (double)ns / 1000.0; }

void bst_print_json(FILE *f, const bst_result *r) {
    const bst_hist *h = &r->lat;
    fprintf(f,
            "{\"eventsPerSec\":%.0f,\"bytesPerSec\":%.0f,\"latencyUs\":{\"p50\":%.1f,\"p90\":%.1f,"
            "\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},\"lost\":%" PRIu64 ",\"duplicated\":%" PRIu64
            ",\"rssKiB\":%" PRIu64,
            per_sec(r->delivered, r->seconds), per_sec(r->bytes, r->seconds),
            us(bst_hist_quantile(h, 0.5)), us(bst_hist_quantile(h, 0.9)),
            us(bst_hist_quantile(h, 0.99)), us(bst_hist_quantile(h, 0.999)), us(h->max_ns),
            r->lost, r->duplicated, r->rss_peak_kib);
    fprintf(f,
            ",\"tool\":\"%s\",\"backend\":\"%s\",\"mix\":\"%s\",\"nodes\":%d,\"rate\":%.0f,"
            "\"published\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"seconds\":%.3f,"
            "\"rssIdleKiB\":%" PRIu64 ",\"rssStartKiB\":%" PRIu64 ",\"rssEndKiB\":%" PRIu64
            ",\"cpuSeconds\":%.3f,\"cpuUsPerEvent\":%.3f}\n",
            r->tool ? r->tool : "", r->backend ? r->backend : "", r->mix ? r->mix : "", r->nodes,
            r->rate, r->published, r->delivered, r->seconds, r->rss_idle_kib, r->rss_start_kib,
            r->rss_end_kib, r->cpu_seconds,
            r->delivered ? r->cpu_seconds * 1e6 / (double)r->delivered : 0.0);
    fflush(f);
}

static void human(char *buf, size_t n, double v) {
    if (v >= 1e9)
        snprintf(buf, n, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, n, "%.1fk", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
}

void bst_print_table(FILE *f, const bst_result *r) {
    const bst_hist *h = &r->lat;
    char ev[32], by[32];
    human(ev, sizeof ev, per_sec(r->delivered, r->seconds));
    human(by, sizeof by, per_sec(r->bytes, r->seconds));
    fprintf(f, "%s bench: %s, %d nodes, mix %s, ", r->tool, r->backend, r->nodes, r->mix);
    if (r->rate > 0)
        fprintf(f, "%.0f events/s per node\n", r->rate);
    else
        fprintf(f, "flat out\n");
    fprintf(f, "\n");
    fprintf(f, "  published          %" PRIu64 " events\n", r->published);
    fprintf(f, "  delivered          %" PRIu64 " of %" PRIu64 " expected, in %.3f s\n",
            r->delivered, r->expected, r->seconds);
    fprintf(f, "  throughput         %s events/s, %sB/s\n", ev, by);
    fprintf(f, "  lost               %" PRIu64 "\n", r->lost);
    fprintf(f, "  duplicated         %" PRIu64 "\n", r->duplicated);
    fprintf(f, "  CPU                %.2f s (user + system, all threads), %.2f us per delivered event\n",
            r->cpu_seconds, r->delivered ? r->cpu_seconds * 1e6 / (double)r->delivered : 0.0);
    fprintf(f, "\n");
    fprintf(f, "  latency (us)       p50      p90      p99    p99.9      max     mean\n");
    fprintf(f, "                %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f\n",
            us(bst_hist_quantile(h, 0.5)), us(bst_hist_quantile(h, 0.9)),
            us(bst_hist_quantile(h, 0.99)), us(bst_hist_quantile(h, 0.999)), us(h->max_ns),
            h->n ? us(h->sum_ns / h->n) : 0.0);
    fprintf(f, "\n");
    fprintf(f, "  memory (KiB)       peak RSS %" PRIu64 ", idle %" PRIu64 ", at 10%% of the run %" PRIu64
               ", at the end %" PRIu64 "\n",
            r->rss_peak_kib, r->rss_idle_kib, r->rss_start_kib, r->rss_end_kib);
    fflush(f);
}

void bst_progress(FILE *f, double secs, uint64_t published, uint64_t delivered,
                  double rate_now, uint64_t rss_kib) {
    char rn[32];
    human(rn, sizeof rn, rate_now);
    bool tty = isatty(fileno(f));
    fprintf(f, "%s%7.1fs  published %12" PRIu64 "  delivered %12" PRIu64 "  %9s ev/s  rss %6" PRIu64
               " KiB  heap %6" PRIu64 " KiB%s",
            tty ? "\r" : "", secs, published, delivered, rn, rss_kib, bst_heap_kib(), tty ? "" : "\n");
    fflush(f);
}

void bst_progress_end(FILE *f) {
    if (isatty(fileno(f))) fputc('\n', f);
    fflush(f);
}

/* ---- parsing -------------------------------------------------------------- */

int bst_parse_count(const char *s, uint64_t *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) return -1;
    if (*end == 'k' || *end == 'K') {
        v *= 1e3;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1e6;
        end++;
    } else if (*end == 'g' || *end == 'G') {
        v *= 1e9;
        end++;
    }
    if (*end || v > 1e15) return -1;
    *out = (uint64_t)(v + 0.5);
    return 0;
}
