/* SPDX-License-Identifier: Apache-2.0 */
/* Option parsing shared by every command, and signal names. */
#include "cli.h"
#include "util/util.h"

#include <signal.h>
#include <string.h>
#include <strings.h>

void cli_usage(const cli_cmd *cmd, const cli_opt *opts, FILE *out)
{
        fprintf(out, "Usage: husk [global options] %s%s%s%s\n\n%s\n", cmd->name,
                opts && opts[0].name ? " [options]" : "", cmd->args[0] ? " " : "", cmd->args,
                cmd->summary);
        if (!opts || !opts[0].name)
                return;
        fprintf(out, "\nOptions:\n");
        for (const cli_opt *o = opts; o->name; o++) {
                char left[64];
                const char *arg = o->type == OPT_BOOL ? "" : o->type == OPT_UINT ? " N" : " VALUE";
                if (o->short_name)
                        snprintf(left, sizeof(left), "--%s, -%c%s", o->name, o->short_name, arg);
                else
                        snprintf(left, sizeof(left), "--%s%s", o->name, arg);
                fprintf(out, "  %-28s %s\n", left, o->help);
        }
        fprintf(out, "  %-28s %s\n", "--help, -h", "show this help");
}

static const cli_opt *find_long(const cli_opt *opts, const char *name, size_t len)
{
        for (const cli_opt *o = opts; o && o->name; o++)
                if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
                        return o;
        return NULL;
}

static const cli_opt *find_short(const cli_opt *opts, char ch)
{
        for (const cli_opt *o = opts; o && o->name; o++)
                if (o->short_name && o->short_name == ch)
                        return o;
        return NULL;
}

/* Store value (may be NULL: the flag had no "=value") into o. *consumed: the next argv was used. */
static int set_opt(cli_ctx *c, const cli_opt *o, const char *shown, const char *value,
                   const char *next, bool *consumed)
{
        *consumed = false;
        if (o->type == OPT_BOOL) {
                bool v = true;
                if (value) {
                        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
                                v = true;
                        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
                                v = false;
                        else
                                return -cli_fail(c, "%s: invalid boolean value \"%s\" for %s", c->command,
                                                 value, shown);
                }
                *(bool *)o->ptr = v;
                return 0;
        }
        if (!value) {
                if (!next)
                        return -cli_fail(c, "%s: option %s needs a value", c->command, shown);
                value = next;
                *consumed = true;
        }
        if (o->type == OPT_STRING) {
                *(const char **)o->ptr = value;
                return 0;
        }
        uint32_t u;
        if (parse_uint32(value, &u) < 0)
                return -cli_fail(c, "%s: option %s needs a non-negative integer, got \"%s\"", c->command,
                                 shown, value);
        *(unsigned *)o->ptr = u;
        return 0;
}

/* One argv element that starts with '-'. Returns 0, 1 (help) or -1. */
static int parse_one(cli_ctx *c, const cli_opt *opts, char *arg, const char *next, bool *consumed)
{
        const char *name = arg + 1;
        if (*name == '-')
                name++;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
        if ((len == 4 && strncmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h'))
                return 1;
        const cli_opt *o = NULL;
        if (arg[1] != '-' && len == 1)
                o = find_short(opts, name[0]);
        if (!o)
                o = find_long(opts, name, len);
        if (!o)
                return -cli_fail(c, "%s: unknown option %.*s (see husk %s --help)", c->command,
                                 (int)(len + (size_t)(name - arg)), arg, c->command);
        char shown[80];
        snprintf(shown, sizeof(shown), "%.*s", (int)(len + (size_t)(name - arg)), arg);
        return set_opt(c, o, shown, value, next, consumed);
}

int cli_parse(cli_ctx *c, const cli_cmd *cmd, const cli_opt *opts, int argc, char **argv,
              char ***ret_pos, int *ret_npos)
{
        char **pos = xcalloc((size_t)argc + 1, sizeof(char *));
        int npos = 0;
        bool only_pos = false;
        for (int i = 1; i < argc; i++) {
                char *a = argv[i];
                if (only_pos || a[0] != '-' || a[1] == '\0') {
                        pos[npos++] = a;
                        continue;
                }
                if (strcmp(a, "--") == 0) {
                        only_pos = true;
                        continue;
                }
                bool consumed = false;
                int r = parse_one(c, opts, a, i + 1 < argc ? argv[i + 1] : NULL, &consumed);
                if (r == 1) {
                        free(pos);
                        cli_usage(cmd, opts, stdout);
                        return 1;
                }
                if (r < 0) {
                        free(pos);
                        return -1;
                }
                if (consumed)
                        i++;
        }
        *ret_pos = pos;
        *ret_npos = npos;
        return 0;
}

int cli_want_args(cli_ctx *c, int npos, int min, int max)
{
        if (npos < min) {
                const cli_cmd *cmd = cli_find_command(c->command);
                cli_fail(c, "%s: missing argument: usage: husk %s %s", c->command, c->command,
                         cmd ? cmd->args : "");
                return -1;
        }
        if (npos > max) {
                cli_fail(c, "%s: too many arguments (expected at most %d)", c->command, max);
                return -1;
        }
        return 0;
}

static const struct {
        const char *name;
        int num;
} signals[] = {
        { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
        { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
        { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
        { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CLD", SIGCHLD },    { "CONT", SIGCONT },
        { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
        { "URG", SIGURG },     { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
        { "PROF", SIGPROF },   { "WINCH", SIGWINCH },   { "IO", SIGIO },       { "POLL", SIGPOLL },
        { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

int cli_parse_signal(const char *s, int *ret)
{
        int n;
        if (!s || !*s)
                return -EINVAL;
        if (s[0] >= '0' && s[0] <= '9') {
                if (parse_int(s, &n) < 0 || n < 0 || n >= NSIG)
                        return -EINVAL;
                *ret = n;
                return 0;
        }
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
                if (strcasecmp(s, signals[i].name) == 0) {
                        *ret = signals[i].num;
                        return 0;
                }
        }
        /* Real-time signals: RTMIN, RTMIN+N, RTMAX, RTMAX-N. */
        bool min = strncasecmp(s, "RTMIN", 5) == 0, max = strncasecmp(s, "RTMAX", 5) == 0;
        if (!min && !max)
                return -EINVAL;
        int off = 0;
        if (s[5]) {
                if (s[5] != (min ? '+' : '-') || parse_int(s + 6, &off) < 0 || off < 0 ||
                    off > SIGRTMAX - SIGRTMIN)
                        return -EINVAL;
        }
        *ret = min ? SIGRTMIN + off : SIGRTMAX - off;
        return 0;
}
