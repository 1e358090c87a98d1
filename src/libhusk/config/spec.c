/* SPDX-License-Identifier: Apache-2.0 */
/* The default config.json that `husk spec` writes. The text is assembled compactly, then parsed
 * and re-emitted with yajl_gen so the file is consistently indented (and known to be valid JSON).
 */
#include "config/internal.h"
#include "seccomp/seccomp.h"

#include <string.h>
#include <yajl/yajl_gen.h>

static bool gen_value(yajl_gen g, yajl_val v)
{
        switch (v->type) {
        case yajl_t_string:
                return yajl_gen_string(g, (const unsigned char *)v->u.string,
                                       strlen(v->u.string)) == yajl_gen_status_ok;
        case yajl_t_number:
                return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)) ==
                       yajl_gen_status_ok;
        case yajl_t_true:
        case yajl_t_false:
                return yajl_gen_bool(g, v->type == yajl_t_true) == yajl_gen_status_ok;
        case yajl_t_null:
                return yajl_gen_null(g) == yajl_gen_status_ok;
        case yajl_t_object:
                if (yajl_gen_map_open(g) != yajl_gen_status_ok)
                        return false;
                for (size_t i = 0; i < v->u.object.len; i++) {
                        const char *k = v->u.object.keys[i];
                        if (yajl_gen_string(g, (const unsigned char *)k, strlen(k)) !=
                                    yajl_gen_status_ok ||
                            !gen_value(g, v->u.object.values[i]))
                                return false;
                }
                return yajl_gen_map_close(g) == yajl_gen_status_ok;
        case yajl_t_array:
                if (yajl_gen_array_open(g) != yajl_gen_status_ok)
                        return false;
                for (size_t i = 0; i < v->u.array.len; i++)
                        if (!gen_value(g, v->u.array.values[i]))
                                return false;
                return yajl_gen_array_close(g) == yajl_gen_status_ok;
        default:
                return false;
        }
}

/* Pretty-print JSON text; NULL if it does not parse. */
static char *json_pretty(const char *text)
{
        yajl_val tree = yajl_tree_parse(text, NULL, 0);
        if (!tree)
                return NULL;
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g) {
                yajl_tree_free(tree);
                return NULL;
        }
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "\t");
        char *out = NULL;
        if (gen_value(g, tree)) {
                const unsigned char *buf = NULL;
                size_t len = 0;
                if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
                        out = xstrndup((const char *)buf, len);
        }
        yajl_gen_free(g);
        yajl_tree_free(tree);
        return out;
}

#define CAPS "[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]"

static const char process_json[] =
        "{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
        "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
        "\"TERM=xterm\"],\"cwd\":\"/\","
        "\"capabilities\":{\"bounding\":" CAPS ",\"effective\":" CAPS ",\"permitted\":" CAPS "},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
        "\"noNewPrivileges\":true}";

/* /dev, /proc and friends; /sys and the cgroup tree depend on the mode. */
static const char mounts_common[] =
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
        "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
        "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},";

/* gid 5 (tty) only exists when the host's ids are all mapped. */
static const char devpts_root[] =
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
        "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\","
        "\"gid=5\"]},"
        "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
        "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}";

/* Without a network namespace of its own, a user namespace cannot mount a fresh sysfs: bind it. */
static const char devpts_rootless[] =
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
        "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
        "{\"destination\":\"/sys\",\"type\":\"none\",\"source\":\"/sys\","
        "\"options\":[\"rbind\",\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}";

static const char masked_readonly[] =
        "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
        "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
        "\"/proc/scsi\",\"/sys/firmware\",\"/sys/devices/virtual/powercap\"],"
        "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
        "\"/proc/sysrq-trigger\"]";

char *config_default_spec(bool rootless)
{
        _cleanup_free_ char *seccomp = seccomp_default_profile_json();
        _cleanup_free_ char *seccomp_kv =
                seccomp ? xasprintf(",\"seccomp\":%s", seccomp) : xstrdup("");
        _cleanup_free_ char *linux_json = NULL;
        if (rootless)
                linux_json = xasprintf(
                        "{\"uidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":1}],"
                        "\"gidMappings\":[{\"containerID\":0,\"hostID\":%u,\"size\":1}],"
                        "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
                        "{\"type\":\"mount\"},{\"type\":\"cgroup\"},{\"type\":\"user\"}],"
                        "%s%s}",
                        (unsigned)getuid(), (unsigned)getgid(), masked_readonly, seccomp_kv);
        else
                linux_json = xasprintf(
                        "{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
                        "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},"
                        "{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},"
                        "{\"type\":\"cgroup\"}],%s%s}",
                        masked_readonly, seccomp_kv);
        _cleanup_free_ char *text =
                xasprintf("{\"ociVersion\":\"%s\",\"process\":%s,"
                          "\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"husk\","
                          "\"mounts\":[%s%s],\"linux\":%s}",
                          HUSK_OCI_VERSION, process_json, mounts_common,
                          rootless ? devpts_rootless : devpts_root, linux_json);
        /* NULL only if the seccomp module handed us invalid JSON: refuse rather than write it. */
        char *pretty = json_pretty(text);
        if (!pretty)
                return NULL;
        char *out = xasprintf("%s\n", pretty);
        free(pretty);
        return out;
}
