/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI protocol (spec 1.0.0), host side: each plugin of a network list is executed with the
 * CNI_* environment and its configuration on stdin; its result (stdout) is the prevResult of the
 * next one. stdin, stdout and stderr are memfds, so no pipe can fill up and block. */
#include "net/net.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define OUTPUT_MAX (1u << 20)
/* A plugin that hangs (e.g. on the xtables lock) must not hang husk: killed after this many
 * seconds ($HUSK_CNI_TIMEOUT overrides). */
#define PLUGIN_TIMEOUT_S 60

extern char **environ;

static char *cni_path(void)
{
        const char *p = getenv("HUSK_CNI_PATH");
        return xstrdup(p && p[0] ? p : NET_CNI_PATH_DEFAULT);
}

/* type was checked to be a plain file name (net_conflist_parse). */
static int find_plugin(const char *type, char **ret, husk_error_t *err)
{
        _cleanup_free_ char *path = cni_path();
        char *save = NULL;
        for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = xasprintf("%s/%s", d, type);
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        _cleanup_free_ char *shown = cni_path();
        return husk_error_set(err, ENOENT, "CNI plugin \"%s\" not found in %s (install "
                              "containernetworking-plugins, or set HUSK_CNI_PATH)", type, shown);
}

static int memfd_with(const char *name, const char *data, husk_error_t *err)
{
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "memfd_create");
        if (data && (write_all(fd, data, strlen(data)) < 0 || lseek(fd, 0, SEEK_SET) < 0))
                return util_syserr(err, errno, "write the CNI config");
        return TAKE_FD(fd);
}

static char *read_back(int fd)
{
        struct stat st;
        size_t n = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
        if (n > OUTPUT_MAX)
                n = OUTPUT_MAX;
        char *buf = xmalloc(n + 1);
        ssize_t got = n ? pread(fd, buf, n, 0) : 0;
        buf[got > 0 ? got : 0] = '\0';
        return buf;
}

static uint32_t plugin_timeout(void)
{
        uint32_t t = 0;
        const char *e = getenv("HUSK_CNI_TIMEOUT");
        return e && parse_uint32(e, &t) == 0 && t > 0 && t < 86400 ? t : PLUGIN_TIMEOUT_S;
}

/* Reaps pid, killing it after timeout_s (-ETIMEDOUT). Without pidfds (kernel < 5.3) it waits
 * without a limit. */
static int wait_plugin(pid_t pid, uint32_t timeout_s, int *ret_status)
{
        _cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        bool timed_out = false;
        if (pfd >= 0) {
                struct pollfd p = { .fd = pfd, .events = POLLIN };
                uint64_t end = now_ns() + (uint64_t)timeout_s * 1000000000u;
                int n;
                do {
                        uint64_t now = now_ns();
                        int left = now >= end ? 0 : (int)((end - now) / 1000000u);
                        n = poll(&p, 1, left);
                } while (n < 0 && errno == EINTR);
                if (n == 0) {
                        (void)kill(pid, SIGKILL);
                        timed_out = true;
                }
        }
        while (waitpid(pid, ret_status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return timed_out ? -ETIMEDOUT : 0;
}

/* Runs one plugin; *ret_out gets its stdout when it exits 0. */
static int exec_plugin(const char *command, const char *type, const char *config, const char *id,
                       const char *netns, const char *ifname, char **ret_out, husk_error_t *err)
{
        _cleanup_free_ char *bin = NULL, *path = cni_path();
        int r = find_plugin(type, &bin, err);
        if (r < 0)
                return r;
        _cleanup_close_ int in = memfd_with("cni-stdin", config, err);
        if (in < 0)
                return in;
        _cleanup_close_ int out = memfd_with("cni-stdout", NULL, err);
        if (out < 0)
                return out;
        _cleanup_close_ int er = memfd_with("cni-stderr", NULL, err);
        if (er < 0)
                return er;
        _cleanup_free_ char *e_cmd = xasprintf("CNI_COMMAND=%s", command);
        _cleanup_free_ char *e_id = xasprintf("CNI_CONTAINERID=%s", id);
        _cleanup_free_ char *e_ns = xasprintf("CNI_NETNS=%s", netns);
        _cleanup_free_ char *e_if = xasprintf("CNI_IFNAME=%s", ifname);
        _cleanup_free_ char *e_path = xasprintf("CNI_PATH=%s", path);
        /* The plugins run iptables and sysctl: a fixed PATH, never the caller's. */
        char *env[] = { e_cmd, e_id, e_ns, e_if, e_path,
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        char *argv[] = { bin, NULL };
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in, 0);
        posix_spawn_file_actions_adddup2(&fa, out, 1);
        posix_spawn_file_actions_adddup2(&fa, er, 2);
        /* The plugin starts with no blocked or ignored signal, whatever the caller has. */
        posix_spawnattr_t at;
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_init(&at);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &all);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid = -1;
        r = posix_spawn(&pid, bin, &fa, &at, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (r != 0)
                return util_syserr(err, r, "run CNI plugin %s", bin);
        int st = 0;
        uint32_t limit = plugin_timeout();
        if ((r = wait_plugin(pid, limit, &st)) < 0)
                return r == -ETIMEDOUT
                               ? husk_error_set(err, ETIMEDOUT, "CNI plugin %s %s: no answer "
                                                "after %u s (killed)", type, command, limit)
                               : util_syserr(err, -r, "wait for CNI plugin %s", type);
        _cleanup_free_ char *text = read_back(out);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                *ret_out = TAKE_PTR(text);
                return 0;
        }
        _cleanup_free_ char *msg = net_cni_error_text(text);
        if (!msg) {
                msg = read_back(er);
                msg[strcspn(msg, "\n")] = '\0';
        }
        if (!msg[0]) {
                free(msg);
                msg = WIFEXITED(st) ? xasprintf("exit status %d", WEXITSTATUS(st))
                                    : xasprintf("killed by signal %d", WTERMSIG(st));
        }
        return husk_error_set(err, EIO, "CNI plugin %s %s: %s", type, command, msg);
}

static int parse_result(const char *type, const char *text, json_value **ret, husk_error_t *err)
{
        char eb[96];
        if (json_parse(text, strlen(text), ret, eb, sizeof(eb)) < 0 || (*ret)->type != JSON_OBJECT) {
                json_value_free(*ret);
                *ret = NULL;
                return husk_error_set(err, EINVAL, "CNI plugin %s ADD: its result is not a JSON "
                                      "object (%s)", type, eb);
        }
        return 0;
}

int net_cni_add(const net_conflist_t *c, const char *id, const char *netns, const char *ifname,
                const net_port_t *ports, size_t n_ports, char **ret_result, husk_error_t *err)
{
        json_value *prev = NULL;
        _cleanup_free_ char *prev_text = NULL;
        int r = 0;
        for (size_t i = 0; i < c->plugins->n && r == 0; i++) {
                const char *type = json_get_str(c->plugins->items[i], "type");
                _cleanup_free_ char *cfg = net_plugin_config(c, i, prev, ports, n_ports);
                char *out = NULL;
                r = exec_plugin("ADD", type, cfg, id, netns, ifname, &out, err);
                if (r < 0)
                        break;
                json_value *res = NULL;
                r = parse_result(type, out, &res, err);
                if (r < 0) {
                        free(out);
                        break;
                }
                json_value_free(prev);
                prev = res;
                free(prev_text);
                prev_text = out;
        }
        json_value_free(prev);
        if (r < 0) {
                /* The spec asks the runtime to DEL the whole list after a failed ADD. */
                husk_error_t ignored; /* the ADD error is the one to report */
                (void)net_cni_del(c, id, netns, ifname, prev_text, ports, n_ports, &ignored);
                return r;
        }
        *ret_result = TAKE_PTR(prev_text);
        return 0;
}

int net_cni_del(const net_conflist_t *c, const char *id, const char *netns, const char *ifname,
                const char *result, const net_port_t *ports, size_t n_ports, husk_error_t *err)
{
        json_value *prev = NULL;
        char eb[64];
        int first = 0;
        if (result && result[0] && json_parse(result, strlen(result), &prev, eb, sizeof(eb)) < 0)
                prev = NULL; /* a damaged cache: DEL without prevResult still releases */
        for (size_t i = c->plugins->n; i > 0; i--) {
                const char *type = json_get_str(c->plugins->items[i - 1], "type");
                _cleanup_free_ char *cfg = net_plugin_config(c, i - 1, prev, ports, n_ports);
                _cleanup_free_ char *out = NULL;
                husk_error_t e = { 0 };
                int r = exec_plugin("DEL", type, cfg, id, netns, ifname, &out, &e);
                if (r < 0 && first == 0) {
                        first = r;
                        *err = e;
                }
        }
        json_value_free(prev);
        return first;
}
