/* SPDX-License-Identifier: Apache-2.0 */
/* Image names from an archive (docker save's RepoTags, the io.containerd.image.name and
 * org.opencontainers.image.ref.name annotations) are untrusted: they are stored and printed, so
 * only the grammars the formats define are accepted (issue 12: a name with a newline and "../"
 * was stored and printed raw). Pure functions, unit tested. */
#include "image/image.h"

#include <string.h>

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool path_component_valid(const char *s, size_t n)
{
        size_t i = 0;
        if (n == 0 || !is_lower_alnum(s[0]))
                return false;
        while (i < n) {
                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == n)
                        return true;
                size_t sep = i;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
                else
                        while (i < n && s[i] == '-')
                                i++;
                if (i == sep || i == n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

/* domain := host [":" port]; host := label ("." label)* | "[" IPv6 "]";
 * label := [A-Za-z0-9] ([A-Za-z0-9-]* [A-Za-z0-9])? */
static bool domain_valid(const char *s, size_t n)
{
        const char *colon = memchr(s, ':', n);
        size_t host = n;
        if (n > 0 && s[0] == '[') {
                const char *end = memchr(s, ']', n);
                if (!end || end == s + 1)
                        return false;
                for (const char *p = s + 1; p < end; p++)
                        if (!strchr("0123456789abcdefABCDEF:", *p))
                                return false;
                host = (size_t)(end - s) + 1;
                colon = host < n ? s + host : NULL;
                if (colon && *colon != ':')
                        return false;
        } else {
                if (colon)
                        host = (size_t)(colon - s);
                size_t i = 0;
                while (i < host) {
                        size_t start = i;
                        while (i < host && (is_alnum(s[i]) || s[i] == '-'))
                                i++;
                        if (i == start || s[start] == '-' || s[i - 1] == '-')
                                return false;
                        if (i < host && s[i] != '.')
                                return false;
                        if (i < host && ++i == host)
                                return false; /* a trailing dot */
                }
                if (host == 0)
                        return false;
        }
        if (colon) {
                size_t port = n - (size_t)(colon - s) - 1;
                if (port == 0)
                        return false;
                for (const char *p = colon + 1; p < s + n; p++)
                        if (*p < '0' || *p > '9')
                                return false;
        }
        return true;
}

/* tag := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127} */
static bool tag_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 128 || !(is_alnum(s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

/* digest := algorithm ":" hex; algorithm := [a-z0-9]+ ([+._-] [a-z0-9]+)*; hex := [a-f0-9]{32,} */
static bool digest_valid(const char *s)
{
        const char *colon = strchr(s, ':');
        if (!colon || colon == s)
                return false;
        for (const char *p = s; p < colon; p++)
                if (!is_lower_alnum(*p) &&
                    (p == s || p + 1 == colon || !strchr("+._-", *p) || !is_lower_alnum(p[1])))
                        return false;
        size_t hex = strlen(colon + 1);
        if (hex < 32)
                return false;
        for (const char *p = colon + 1; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

bool image_reference_valid(const char *ref)
{
        if (!ref || strlen(ref) > 512)
                return false;
        _cleanup_free_ char *s = xstrdup(ref);
        char *at = strchr(s, '@');
        if (at) {
                *at = '\0';
                if (!digest_valid(at + 1))
                        return false;
        }
        char *slash = strrchr(s, '/');
        char *colon = strrchr(slash ? slash : s, ':');
        if (colon) {
                *colon = '\0';
                if (!tag_valid(colon + 1))
                        return false;
        }
        size_t len = strlen(s);
        if (len == 0 || len > 255)
                return false;
        const char *c = s;
        for (bool first = true;; first = false) {
                const char *end = strchr(c, '/');
                size_t n = end ? (size_t)(end - c) : strlen(c);
                /* The first of several components may be a registry (upper case, dots, port). */
                if (!path_component_valid(c, n) && !(first && end && domain_valid(c, n)))
                        return false;
                if (!end)
                        return true;
                c = end + 1;
        }
}

/* ref := component ("/" component)*; component := alphanum (separator alphanum)*;
 * alphanum := [A-Za-z0-9]+; separator := [-._:@+] | "--" (OCI image-spec, annotations). */
bool image_ref_name_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 512)
                return false;
        for (size_t i = 0; i < n;) {
                if (!is_alnum(s[i]))
                        return false;
                while (i < n && is_alnum(s[i]))
                        i++;
                if (i == n)
                        return true;
                if (s[i] == '/')
                        i++;
                else if (s[i] == '-' && i + 1 < n && s[i + 1] == '-')
                        i += 2;
                else if (strchr("-._:@+", s[i]))
                        i++;
                else
                        return false;
                if (i == n)
                        return false;
        }
        return true;
}

char *image_name_escape(const char *s)
{
        size_t n = strlen(s), max = 120;
        char *out = xmalloc(4 * (n < max ? n : max) + 4);
        size_t w = 0;
        for (size_t i = 0; i < n && i < max; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '\n') {
                        out[w++] = '\\';
                        out[w++] = 'n';
                } else if (c == '\\' || c == '"') {
                        out[w++] = '\\';
                        out[w++] = (char)c;
                } else if (c < 0x20 || c >= 0x7f)
                        w += (size_t)snprintf(out + w, 5, "\\x%02x", c);
                else
                        out[w++] = (char)c;
        }
        if (n > max) {
                memcpy(out + w, "...", 3);
                w += 3;
        }
        out[w] = '\0';
        return out;
}
