/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: a bound on the total time of a request's phases on an MHD daemon (issue 12).
 * MHD's connection timeout is an idle timeout that every byte renews: a client that trickles one
 * byte every few seconds keeps its connection, and in thread-per-connection mode a thread, for
 * ever (slow loris). Here every connection is registered when MHD accepts it; while it receives
 * a request (headers and body) or sends an answer, that phase must end within the limit, or a
 * watchdog thread shuts the socket down. It acts on a duplicate of the connection's fd, taken
 * at accept and closed when MHD reports the connection closed: the duplicate keeps the socket
 * alive, so a reused fd number of another connection is never hit. */
#include "fn.h"
#include "util/util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <microhttpd.h>

struct fn_guard {
        uint64_t limit_ms;
        bool bound_idle; /* the time between requests counts as receiving */
        bool paused;     /* the worker is frozen: its time does not count (h->mu not needed) */
};

typedef struct gconn {
        fn_guard *g;
        int fd;
        fn_guard_phase phase;
        uint64_t t0;
        struct gconn *prev, *next;
} gconn;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static gconn *conns;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool bounded(const gconn *k)
{
        return k->phase == FN_GUARD_RECEIVING || k->phase == FN_GUARD_SENDING;
}

/* Every 100 ms: a bounded phase past the limit ends with the socket shut down; MHD then sees
 * EOF (or an error) and closes the connection itself. The time is read with mu held: every t0
 * is stamped under mu too (or before its connection is listed), so none is later than `now`.
 * Read before the lock, a t0 stamped while the watchdog waited for mu was later than `now`,
 * now - t0 wrapped, and a connection whose phase had just changed was cut at once: the worker's
 * runtime lost its /next or its /response (the TCG guest's lost invocations, issue 14). */
static void *watchdog_main(void *arg)
{
        (void)arg;
        for (;;) {
                struct timespec ts = { 0, 100000000 };
                nanosleep(&ts, NULL);
                pthread_mutex_lock(&mu);
                uint64_t now = mono_ms();
                for (gconn *k = conns; k; k = k->next) {
                        if (__atomic_load_n(&k->g->paused, __ATOMIC_RELAXED)) {
                                k->t0 = now;
                                continue;
                        }
                        if (bounded(k) && fn_guard_overdue(now, k->t0, k->g->limit_ms)) {
                                (void)shutdown(k->fd, SHUT_RDWR);
                                k->phase = FN_GUARD_CUT;
                        }
                }
                pthread_mutex_unlock(&mu);
        }
        return NULL;
}

/* Caller holds mu. */
static void conn_drop(gconn *k)
{
        if (k->prev)
                k->prev->next = k->next;
        else
                conns = k->next;
        if (k->next)
                k->next->prev = k->prev;
        close(k->fd);
        free(k);
}

static void start_watchdog(void)
{
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        /* Without it the daemons still run, bounded only by MHD's idle timeout. */
        (void)pthread_create(&t, &at, watchdog_main, NULL);
        pthread_attr_destroy(&at);
}

fn_guard *fn_guard_new(uint64_t limit_ms, bool bound_idle)
{
        pthread_once(&once, start_watchdog);
        fn_guard *g = xcalloc(1, sizeof(*g));
        g->limit_ms = limit_ms;
        g->bound_idle = bound_idle;
        return g;
}

void fn_guard_free(fn_guard *g)
{
        if (!g)
                return;
        /* After MHD_stop_daemon each connection was reported closed; should one not have been,
         * its record goes here, so the watchdog never reaches a freed guard. */
        pthread_mutex_lock(&mu);
        for (gconn *k = conns, *nx; k; k = nx) {
                nx = k->next;
                if (k->g == g)
                        conn_drop(k);
        }
        pthread_mutex_unlock(&mu);
        free(g);
}

void fn_guard_pause(fn_guard *g, bool paused)
{
        if (g)
                __atomic_store_n(&g->paused, paused, __ATOMIC_RELAXED);
}

void fn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
        fn_guard *g = cls;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *i =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
                int fd = i ? fcntl(i->connect_fd, F_DUPFD_CLOEXEC, 3) : -1;
                if (fd < 0)
                        return; /* not guarded: MHD's idle timeout still applies */
                gconn *k = xcalloc(1, sizeof(*k));
                k->g = g;
                k->fd = fd;
                k->phase = FN_GUARD_RECEIVING;
                k->t0 = mono_ms();
                pthread_mutex_lock(&mu);
                k->next = conns;
                if (conns)
                        conns->prev = k;
                conns = k;
                pthread_mutex_unlock(&mu);
                *socket_context = k;
                return;
        }
        gconn *k = *socket_context;
        if (!k)
                return;
        pthread_mutex_lock(&mu);
        conn_drop(k);
        pthread_mutex_unlock(&mu);
        *socket_context = NULL;
}

void fn_guard_set(struct MHD_Connection *c, fn_guard_phase phase)
{
        const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        gconn *k = i ? i->socket_context : NULL;
        if (!k)
                return;
        pthread_mutex_lock(&mu);
        if (k->phase != FN_GUARD_CUT) {
                if (phase == FN_GUARD_IDLE && k->g->bound_idle)
                        phase = FN_GUARD_RECEIVING; /* waiting for the next request */
                if (phase != k->phase)
                        k->t0 = mono_ms();
                k->phase = phase;
        }
        pthread_mutex_unlock(&mu);
}

void *fn_guard_uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
        (void)cls;
        (void)uri;
        fn_guard_set(c, FN_GUARD_RECEIVING);
        return NULL; /* the access handler's *con_cls starts NULL */
}
