/* SPDX-License-Identifier: Apache-2.0 */
/* Pure helpers of the start sequence, unit tested: executable lookup and sysctl checks. */
#include "caps/caps.h"
#include "process/process.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* strerror in the lower case engines match on ("no such file or directory"). */
const char *lower_strerror(int e, char *buf, size_t len)
{
        snprintf(buf, len, "%s", strerror(e));
        if (buf[0] >= 'A' && buf[0] <= 'Z')
                buf[0] = (char)(buf[0] - 'A' + 'a');
        return buf;
}

/* 0 when path is a regular file with an x bit; -ENOENT / -EACCES otherwise. */
static int check_exec(const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                return -EACCES;
        return 0;
}

int process_find_exec(const char *arg0, char *const *env, const char *cwd, char **ret_path,
                      husk_error_t *err)
{
        if (!arg0 || !arg0[0])
                return husk_error_set(err, EINVAL, "exec: no command given in .process.args");
        if (strchr(arg0, '/')) {
                _cleanup_free_ char *full = NULL;
                if (arg0[0] != '/')
                        full = xasprintf("%s/%s", cwd && cwd[0] ? cwd : "/", arg0);
                const char *p = full ? full : arg0;
                int r = check_exec(p);
                if (r == -EACCES)
                        return husk_error_set(err, EACCES, "exec: \"%s\": permission denied", arg0);
                char ebuf[128];
                if (r < 0)
                        return husk_error_set(err, -r, "exec: \"%s\": stat %s: %s", arg0, arg0,
                                              lower_strerror(-r, ebuf, sizeof(ebuf)));
                *ret_path = xstrdup(p);
                return 0;
        }
        const char *path = NULL;
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], "PATH=", 5) == 0)
                        path = env[i] + 5; /* the last one wins, as with putenv */
        if (!path)
                path = DEFAULT_PATH;
        bool denied = false;
        const char *s = path;
        for (;;) {
                const char *e = strchrnul(s, ':');
                _cleanup_free_ char *dir = xstrndup(s, (size_t)(e - s));
                _cleanup_free_ char *cand = NULL;
                if (!dir[0])
                        cand = xasprintf("%s/%s", cwd && cwd[0] ? cwd : ".", arg0);
                else if (dir[0] == '/')
                        cand = xasprintf("%s/%s", dir, arg0);
                else
                        cand = xasprintf("%s/%s/%s", cwd && cwd[0] ? cwd : "", dir, arg0);
                int r = check_exec(cand);
                if (r == 0) {
                        *ret_path = TAKE_PTR(cand);
                        return 0;
                }
                if (r == -EACCES)
                        denied = true;
                if (!*e)
                        break;
                s = e + 1;
        }
        if (denied)
                return husk_error_set(err, EACCES, "exec: \"%s\": permission denied", arg0);
        return husk_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
                              arg0);
}

static bool key_chars_ok(const char *k)
{
        for (const char *p = k; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == '/'))
                        return false;
        return true;
}

int process_sysctl_path(const char *key, const ns_plan *plan, char **ret_path, husk_error_t *err)
{
        static const char *const ipc_keys[] = { "kernel.msgmax", "kernel.msgmnb",
                                                "kernel.msgmni", "kernel.sem",
                                                "kernel.shmall", "kernel.shmmax",
                                                "kernel.shmmni", "kernel.shm_rmid_forced" };
        if (!key || !key[0] || !key_chars_ok(key))
                return husk_error_set(err, EINVAL, "sysctl \"%s\": invalid name", key ? key : "");
        _cleanup_free_ char *k = xstrdup(key);
        /* "net/ipv4/ip_forward" and "net.ipv4.ip_forward" are the same key. */
        for (char *p = k; *p; p++)
                if (*p == '/')
                        *p = '.';
        if (k[0] == '.' || strstr(k, "..") || k[strlen(k) - 1] == '.')
                return husk_error_set(err, EINVAL, "sysctl \"%s\": invalid name", key);

        bool ok = false;
        const char *why = "it is not namespaced";
        if (strncmp(k, "net.", 4) == 0) {
                ok = plan->has_netns;
                why = "the container shares the host's network namespace";
        } else if (strncmp(k, "fs.mqueue.", 10) == 0) {
                ok = plan->has_ipcns;
                why = "the container shares the host's IPC namespace";
        } else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0) {
                ok = plan->has_utsns;
                why = "the container shares the host's UTS namespace";
        } else {
                for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
                        if (strcmp(k, ipc_keys[i]) == 0) {
                                ok = plan->has_ipcns;
                                why = "the container shares the host's IPC namespace";
                        }
        }
        if (!ok)
                return husk_error_set(err, EPERM, "sysctl \"%s\" is not allowed: %s", key, why);
        for (char *p = k; *p; p++)
                if (*p == '.')
                        *p = '/';
        *ret_path = xasprintf("/proc/sys/%s", k);
        return 0;
}

char *process_ambient_warning(const config_process *p)
{
        uint64_t skipped = 0;
        if (!p->has_capabilities)
                return NULL;
        (void)caps_ambient_effective(&p->capabilities, &skipped);
        if (!skipped)
                return NULL;
        _cleanup_free_ char *names = caps_mask_names(skipped);
        return xasprintf("process.capabilities.ambient: %s not raised: an ambient capability must "
                         "also be in the permitted and inheritable sets (runc and crun skip it too)",
                         names);
}

char *process_passwd_home(const char *passwd, uint32_t uid)
{
        for (const char *line = passwd; line && *line;) {
                const char *end = strchrnul(line, '\n');
                /* name:password:uid:gid:gecos:home:shell */
                const char *f[7];
                size_t n = 0;
                f[n++] = line;
                for (const char *p = line; p < end && n < 7; p++)
                        if (*p == ':')
                                f[n++] = p + 1;
                if (n == 7) {
                        _cleanup_free_ char *u = xstrndup(f[2], (size_t)(f[3] - f[2] - 1));
                        uint32_t v;
                        if (parse_uint32(u, &v) == 0 && v == uid) {
                                size_t hl = (size_t)(f[6] - f[5] - 1);
                                return hl ? xstrndup(f[5], hl) : NULL;
                        }
                }
                line = *end ? end + 1 : end;
        }
        return NULL;
}

char **process_env_with_home(char *const *env, const char *home)
{
        size_t n = 0;
        for (; env && env[n]; n++)
                if (strncmp(env[n], "HOME=", 5) == 0)
                        return NULL;
        char **v = xcalloc(n + 2, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                v[i] = xstrdup(env[i]);
        v[n] = xasprintf("HOME=%s", home && home[0] ? home : "/");
        return v;
}

/* /etc/passwd of the current root, never through a magic link: /proc/self/fd/N in the image
 * could otherwise name a host file the setup still holds (CVE-2024-21626's kind). */
static int open_passwd(void)
{
        struct {
                uint64_t flags, mode, resolve;
        } how = { .flags = (uint64_t)(O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK),
                  .resolve = 0x02 /* RESOLVE_NO_MAGICLINKS */ | 0x10 /* RESOLVE_IN_ROOT */ };
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -1;
        long fd = syscall(437 /* SYS_openat2 */, root, "etc/passwd", &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
                return (int)fd;
        /* before 5.6: no symlink at all on the last component */
        return openat(root, "etc/passwd", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
}

char **process_env_home_from_root(char *const *env, uint32_t uid)
{
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], "HOME=", 5) == 0)
                        return NULL;
        _cleanup_free_ char *home = NULL;
        /* The container's own /etc/passwd, after the pivot (symlinks cannot leave the root). The
         * image controls it: only a regular file is read (never a fifo or device: O_NONBLOCK,
         * fstat), and at most PASSWD_MAX bytes; anything odd means no entry, so HOME=/. */
        _cleanup_close_ int fd = open_passwd();
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
            (uint64_t)st.st_size <= PASSWD_MAX) {
                size_t len = 0, cap = (size_t)st.st_size;
                _cleanup_free_ char *text = xmalloc(cap + 1);
                ssize_t n;
                while (len < cap && ((n = read(fd, text + len, cap - len)) > 0 ||
                                     (n < 0 && errno == EINTR)))
                        if (n > 0)
                                len += (size_t)n;
                text[len] = '\0';
                home = process_passwd_home(text, uid);
        }
        return process_env_with_home(env, home);
}
