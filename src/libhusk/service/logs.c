/* SPDX-License-Identifier: Apache-2.0 */
/* The container log: the monitor's writer (records, rotation to ctr.log.1) and the reader behind
 * `husk logs` (--tail, --since, --follow across a rotation). Host side. */
#include "service/service.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>

/* ---- writer ---- */

int svc_logw_open(svc_logw *w, int dirfd, uint64_t max, husk_error_t *err)
{
        memset(w, 0, sizeof(*w));
        w->dirfd = dirfd;
        w->max = max ? max : SVC_LOG_MAX_DEFAULT;
        w->fd = openat(dirfd, SVC_LOG_FILE, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                       0600);
        if (w->fd < 0)
                return util_syserr(err, errno, "open %s", SVC_LOG_FILE);
        struct stat st;
        w->size = fstat(w->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
        return 0;
}

static void rotate(svc_logw *w)
{
        /* One rotated file is kept: the rename replaces the previous ctr.log.1. */
        if (renameat(w->dirfd, SVC_LOG_FILE, w->dirfd, SVC_LOG_OLD) < 0)
                return; /* keep writing to the big file rather than lose output */
        int fd = openat(w->dirfd, SVC_LOG_FILE,
                        O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        close(w->fd);
        w->fd = fd;
        w->size = 0;
}

static void emit(svc_logw *w, int stream, bool partial, const char *text, size_t len)
{
        size_t n = 0;
        _cleanup_free_ char *rec = svc_log_format(svc_now(), stream, partial, text, len, &n);
        if (svc_log_should_rotate(w->size, n, w->max))
                rotate(w);
        /* A full disk loses output, never the container: the error is not fatal. */
        if (write_all(w->fd, rec, n) == 0)
                w->size += n;
}

void svc_logw_feed(svc_logw *w, int stream, const char *data, size_t n)
{
        int k = stream == SVC_STDERR ? 1 : 0;
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t)(nl - data) : n;
                size_t room = SVC_LOG_LINE_MAX - w->len[k];
                if (take >= room) {
                        /* The line does not fit: what fits goes out as a partial record. */
                        memcpy(w->buf[k] + w->len[k], data, room);
                        emit(w, stream, true, w->buf[k], SVC_LOG_LINE_MAX);
                        w->len[k] = 0;
                        data += room;
                        n -= room;
                        continue;
                }
                memcpy(w->buf[k] + w->len[k], data, take);
                w->len[k] += take;
                if (!nl)
                        return;
                emit(w, stream, false, w->buf[k], w->len[k]);
                w->len[k] = 0;
                data += take + 1;
                n -= take + 1;
        }
}

void svc_logw_flush(svc_logw *w, int stream)
{
        int k = stream == SVC_STDERR ? 1 : 0;
        if (w->len[k])
                emit(w, stream, true, w->buf[k], w->len[k]);
        w->len[k] = 0;
}

void svc_logw_close(svc_logw *w)
{
        svc_logw_flush(w, SVC_STDOUT);
        svc_logw_flush(w, SVC_STDERR);
        util_closep(&w->fd);
}

/* ---- reader ---- */

typedef struct line {
        int64_t ts;
        int stream;
        bool newline;
        char *text;
        size_t len;
} line_t;

typedef struct reader {
        line_t *v;
        size_t n;
        /* Partial records joined per stream until their F record. */
        char *part[2];
        size_t part_len[2];
        int64_t part_ts[2];
        int64_t since;
        const husk_service_logs_opts_t *o;
        bool collect; /* true: keep lines (for --tail); false: emit at once */
        bool stopped; /* emit returned non-zero */
} reader_t;

static void put_line(reader_t *rd, line_t *l)
{
        if (l->ts < rd->since || rd->stopped) {
                free(l->text);
                return;
        }
        if (rd->collect) {
                rd->v = xrealloc(rd->v, (rd->n + 1) * sizeof(*rd->v));
                rd->v[rd->n++] = *l;
                return;
        }
        char t[48];
        svc_time_format(l->ts, t, sizeof(t));
        husk_service_line_t out = { .stream = l->stream, .time = t, .text = l->text, .len = l->len,
                                    .newline = l->newline };
        if (rd->o->emit(rd->o->ud, &out) != 0)
                rd->stopped = true;
        free(l->text);
}

static void take_record(reader_t *rd, const char *s, size_t n)
{
        svc_log_rec r;
        if (svc_log_parse(s, n, &r) < 0)
                return; /* not ours (a hand edit): skipped */
        int k = r.stream == SVC_STDERR ? 1 : 0;
        if (!rd->part[k])
                rd->part_ts[k] = r.ts;
        rd->part[k] = xrealloc(rd->part[k], rd->part_len[k] + r.len + 1);
        memcpy(rd->part[k] + rd->part_len[k], r.text, r.len);
        rd->part_len[k] += r.len;
        rd->part[k][rd->part_len[k]] = '\0';
        if (r.partial)
                return;
        line_t l = { .ts = rd->part_ts[k], .stream = r.stream, .newline = true,
                     .text = TAKE_PTR(rd->part[k]), .len = rd->part_len[k] };
        rd->part_len[k] = 0;
        put_line(rd, &l);
}

/* Partial lines left at the end (the stream ended without a newline). */
static void flush_partials(reader_t *rd)
{
        for (int k = 0; k < 2; k++) {
                if (!rd->part[k])
                        continue;
                line_t l = { .ts = rd->part_ts[k], .stream = k ? SVC_STDERR : SVC_STDOUT,
                             .text = TAKE_PTR(rd->part[k]), .len = rd->part_len[k] };
                rd->part_len[k] = 0;
                put_line(rd, &l);
        }
}

/* Read the complete records of fd from *off on; a trailing incomplete one waits for more. */
static int read_records(reader_t *rd, int fd, uint64_t *off)
{
        char buf[65536];
        _cleanup_free_ char *acc = NULL;
        size_t acc_len = 0;
        for (;;) {
                ssize_t k = pread(fd, buf, sizeof(buf), (off_t)(*off + acc_len));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                acc = xrealloc(acc, acc_len + (size_t)k + 1);
                memcpy(acc + acc_len, buf, (size_t)k);
                acc_len += (size_t)k;
                /* Consume the complete lines so far. */
                size_t start = 0;
                for (size_t i = 0; i < acc_len; i++) {
                        if (acc[i] != '\n')
                                continue;
                        take_record(rd, acc + start, i + 1 - start);
                        start = i + 1;
                }
                *off += start;
                memmove(acc, acc + start, acc_len - start);
                acc_len -= start;
        }
        return 0;
}

static bool service_live(int dirfd)
{
        return svc_monitor_alive(dirfd, NULL, NULL);
}

/* -f: follow ctr.log (reopened after a rotation) while the monitor lives. */
static int follow(reader_t *rd, int dirfd, int fd, uint64_t off)
{
        _cleanup_close_ int cur = fd;
        for (;;) {
                bool live = service_live(dirfd);
                int r = read_records(rd, cur, &off);
                if (r < 0 || rd->stopped)
                        return r;
                struct stat a, b;
                if (fstatat(dirfd, SVC_LOG_FILE, &b, AT_SYMLINK_NOFOLLOW) == 0 && fstat(cur, &a) == 0 &&
                    (a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
                        /* Rotated: the old file was read to its end above; go on with the new. */
                        int nfd = openat(dirfd, SVC_LOG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (nfd >= 0) {
                                close(cur);
                                cur = nfd;
                                off = 0;
                                continue;
                        }
                }
                if (!live)
                        return 0; /* read once more after the monitor ended: nothing is lost */
                poll(NULL, 0, 100);
        }
}

int husk_service_logs(const char *store, const char *name, const husk_service_logs_opts_t *o,
                      husk_error_t *err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int dirfd = -1;
        int r = svc_resolve(store, name, &id, &dirfd, err);
        if (r < 0)
                return r;
        reader_t rd = { .o = o, .collect = true, .since = INT64_MIN };
        if (o->since && svc_since_parse(o->since, svc_now(), &rd.since) < 0)
                return husk_error_set(err, EINVAL, "invalid --since \"%s\": use RFC 3339 (2026-01-02T"
                                      "15:04:05Z) or a duration (10s, 5m, 1h)", o->since);
        /* The rotated file first, then the current one (kept open for -f). */
        _cleanup_close_ int old = openat(dirfd, SVC_LOG_OLD, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int cur = openat(dirfd, SVC_LOG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        uint64_t off_old = 0, off = 0;
        if (old >= 0 && (r = read_records(&rd, old, &off_old)) < 0)
                return util_syserr(err, -r, "read %s of %s", SVC_LOG_OLD, id);
        if (cur >= 0 && (r = read_records(&rd, cur, &off)) < 0)
                return util_syserr(err, -r, "read %s of %s", SVC_LOG_FILE, id);
        if (!o->follow)
                flush_partials(&rd);
        /* File order is time order: the monitor writes one record at a time. */
        size_t first = o->tail >= 0 && (size_t)o->tail < rd.n ? rd.n - (size_t)o->tail : 0;
        rd.collect = false;
        for (size_t i = 0; i < rd.n; i++) {
                if (i >= first)
                        put_line(&rd, &rd.v[i]);
                else
                        free(rd.v[i].text);
        }
        free(rd.v);
        rd.v = NULL;
        rd.n = 0;
        r = 0;
        if (o->follow && !rd.stopped) {
                if (cur < 0)
                        cur = openat(dirfd, SVC_LOG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (cur >= 0)
                        r = follow(&rd, dirfd, TAKE_FD(cur), off);
                flush_partials(&rd);
                if (r < 0)
                        r = util_syserr(err, -r, "follow the log of %s", id);
        }
        free(rd.part[0]);
        free(rd.part[1]);
        return r;
}
