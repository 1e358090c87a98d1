/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the config module: a config with every field, the shapes podman and containerd
 * write, the default spec, and a table of malformed configs with the exact error each one gets.
 * JSON in this file is written with single quotes ('), turned into double quotes before parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "caps/caps.h"
#include "config/oci_config.h"
#include "process/process.h"
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char *dq(const char *s)
{
        char *t = xstrdup(s);
        for (char *p = t; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return t;
}

static husk_config *parse_ok(const char *sq)
{
        _cleanup_free_ char *json = dq(sq);
        husk_error_t err = { 0 };
        husk_config *c = NULL;
        int r = config_parse(json, strlen(json), "config.json", &c, &err);
        if (r < 0)
                fail_msg("unexpected error: %s", err.msg);
        assert_non_null(c);
        return c;
}

static void config_freep_(husk_config **c)
{
        config_free(*c);
}
#define _cleanup_config_ _cleanup_(config_freep_)

/* ---------- a config with every field ---------- */

static const char full_json[] =
        "{'ociVersion':'1.2.0',"
        "'process':{'terminal':true,'consoleSize':{'height':25,'width':80},"
        " 'user':{'uid':1000,'gid':1001,'umask':18,'additionalGids':[5,4294967295],'username':'x'},"
        " 'args':['/bin/sh','-c','echo hi'],'env':['PATH=/bin','A=b=c'],'cwd':'/work',"
        " 'capabilities':{'bounding':['CAP_KILL','CAP_SYS_ADMIN'],'effective':['CAP_KILL'],"
        "  'inheritable':[],'permitted':['CAP_KILL','CAP_CHOWN'],'ambient':['CAP_NET_RAW']},"
        " 'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096},"
        "  {'type':'RLIMIT_CORE','soft':18446744073709551615,'hard':18446744073709551615}],"
        " 'noNewPrivileges':true,'oomScoreAdj':-500,'apparmorProfile':'','selinuxLabel':'',"
        " 'someFutureField':{'x':1}},"
        "'root':{'path':'/var/lib/r','readonly':true},"
        "'hostname':'box','domainname':'example.org',"
        "'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
        " {'destination':'data','type':'bind','source':'/srv','options':['rbind','ro']},"
        " {'destination':'/tmp','type':'','source':''}],"
        "'hooks':{'prestart':[{'path':'/bin/pre'}],"
        " 'createRuntime':[{'path':'/bin/cr','args':['cr','x'],'env':['K=V'],'timeout':5}],"
        " 'createContainer':[{'path':'/bin/cc'}],'startContainer':[{'path':'/bin/sc'}],"
        " 'poststart':[{'path':'/bin/ps1'},{'path':'/bin/ps2'}],'poststop':[{'path':'/bin/po'}]},"
        "'annotations':{'org.example.a':'1','b':''},"
        "'linux':{"
        " 'namespaces':[{'type':'pid'},{'type':'network','path':'/run/netns/n1'},{'type':'mount'},"
        "  "
        "{'type':'ipc'},{'type':'uts'},{'type':'user'},{'type':'cgroup'},{'type':'time','path':''}]"
        ","
        " 'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
        " 'gidMappings':[{'containerID':0,'hostID':200000,'size':1000},"
        "  {'containerID':1000,'hostID':1000,'size':1}],"
        " 'timeOffsets':{'monotonic':{'secs':-10,'nanosecs':5},'boottime':{'secs':3600}},"
        " 'devices':[{'type':'c','path':'/dev/fuse','major':10,'minor':229,'fileMode':438,"
        "   'uid':0,'gid':0},{'type':'p','path':'/dev/fifo'}],"
        " 'cgroupsPath':'/husk/c1',"
        " 'resources':{"
        "  'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':1,"
        "    'minor':3,'access':'mwr'},{'allow':true,'type':'b','major':8,'access':'r'}],"
        "  'memory':{'limit':536870912,'reservation':-1,'swap':1073741824,'kernel':0,"
        "    'kernelTCP':1024,'swappiness':60,'disableOOMKiller':true,'useHierarchy':false,"
        "    'checkBeforeUpdate':true},"
        "  'cpu':{'shares':1024,'quota':50000,'burst':1000,'period':100000,"
        "    'realtimeRuntime':950,'realtimePeriod':1000,'cpus':'0-1','mems':'0','idle':1},"
        "  'pids':{'limit':-1},"
        "  'blockIO':{'weight':500,'leafWeight':300,"
        "    'weightDevice':[{'major':8,'minor':0,'weight':600}],"
        "    'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
        "    'throttleWriteBpsDevice':[{'major':8,'minor':16,'rate':2}],"
        "    'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':3}],"
        "    'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':4},{'major':9,'minor':1,"
        "     'rate':5}]},"
        "  'hugepageLimits':[{'pageSize':'2MB','limit':209715200}],"
        "  'network':{},"
        "  'unified':{'memory.high':'max','io.weight':'default 100'}},"
        " 'rootfsPropagation':'rslave',"
        " 'maskedPaths':['/proc/kcore','/sys/firmware'],'readonlyPaths':['/proc/sys'],"
        " 'mountLabel':'',"
        " 'sysctl':{'net.ipv4.ip_forward':'1','kernel.shmmax':'1000','fs.mqueue.msg_max':'10',"
        "  'kernel.hostname':'x','kernel.msgmax':'8192','kernel.sem':'1 2 3 4',"
        "  'kernel.shm_next_id':'-1'},"
        " 'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
        "  'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],"
        "  'flags':['SECCOMP_FILTER_FLAG_LOG','SECCOMP_FILTER_FLAG_SPEC_ALLOW'],"
        "  'listenerPath':'/run/notify.sock','listenerMetadata':'meta',"
        "  'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
        "   {'names':['personality'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':8,"
        "     'op':'SCMP_CMP_EQ'},{'index':5,'value':255,'valueTwo':4,'op':'SCMP_CMP_MASKED_EQ'}]},"
        "   {'names':['mkdir'],'action':'SCMP_ACT_ERRNO','errnoRet':38},"
        "   {'names':['openat'],'action':'SCMP_ACT_NOTIFY'}]},"
        " 'personality':{'domain':'LINUX32'},"
        " 'intelRdt':null}}";

static void test_full_process(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(full_json);
        assert_string_equal(c->filename, "config.json");
        assert_string_equal(c->oci_version, "1.2.0");
        const config_process *p = c->process;
        assert_non_null(p);
        assert_true(p->terminal);
        assert_true(p->has_console_size);
        assert_int_equal(p->console_height, 25);
        assert_int_equal(p->console_width, 80);
        assert_int_equal(p->user.uid, 1000);
        assert_int_equal(p->user.gid, 1001);
        assert_true(p->user.has_umask);
        assert_int_equal(p->user.umask, 022);
        assert_int_equal(p->user.n_additional_gids, 2);
        assert_int_equal(p->user.additional_gids[0], 5);
        assert_int_equal(p->user.additional_gids[1], 4294967295u);
        assert_int_equal(p->n_args, 3);
        assert_string_equal(p->args[2], "echo hi");
        assert_null(p->args[3]);
        assert_int_equal(p->n_env, 2);
        assert_string_equal(p->env[1], "A=b=c");
        assert_null(p->env[2]);
        assert_string_equal(p->cwd, "/work");
        assert_true(p->has_capabilities);
        const config_caps *k = &p->capabilities;
        assert_true(k->has_bounding && k->has_effective && k->has_inheritable && k->has_permitted &&
                    k->has_ambient);
        assert_int_equal(k->bounding, (1ULL << CAP_KILL) | (1ULL << CAP_SYS_ADMIN));
        assert_int_equal(k->effective, 1ULL << CAP_KILL);
        assert_int_equal(k->inheritable, 0);
        assert_int_equal(k->permitted, (1ULL << CAP_KILL) | (1ULL << CAP_CHOWN));
        assert_int_equal(k->ambient, 1ULL << CAP_NET_RAW);
        assert_int_equal(p->n_rlimits, 2);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(p->rlimits[0].soft, 1024);
        assert_int_equal(p->rlimits[0].hard, 4096);
        assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
        assert_true(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX);
        assert_true(p->no_new_privileges);
        assert_true(p->has_oom_score_adj);
        assert_int_equal(p->oom_score_adj, -500);
        assert_false(p->has_io_priority || p->has_scheduler || p->has_exec_cpu_affinity);
}

static void test_full_root_mounts_hooks(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(full_json);
        assert_true(c->has_root);
        assert_string_equal(c->root.path, "/var/lib/r");
        assert_true(c->root.readonly);
        assert_string_equal(c->hostname, "box");
        assert_string_equal(c->domainname, "example.org");
        assert_int_equal(c->n_mounts, 3);
        assert_string_equal(c->mounts[0].destination, "/proc");
        assert_string_equal(c->mounts[0].type, "proc");
        assert_int_equal(c->mounts[0].n_options, 0);
        assert_non_null(c->mounts[0].options);
        assert_null(c->mounts[0].options[0]);
        /* relative destination: taken relative to "/" */
        assert_string_equal(c->mounts[1].destination, "/data");
        assert_string_equal(c->mounts[1].source, "/srv");
        assert_int_equal(c->mounts[1].n_options, 2);
        assert_string_equal(c->mounts[1].options[1], "ro");
        /* empty type and source count as absent */
        assert_null(c->mounts[2].type);
        assert_null(c->mounts[2].source);
        assert_int_equal(c->hooks.n_hooks[HOOK_PRESTART], 1);
        assert_string_equal(c->hooks.hooks[HOOK_PRESTART][0].path, "/bin/pre");
        assert_false(c->hooks.hooks[HOOK_PRESTART][0].has_timeout);
        assert_int_equal(c->hooks.hooks[HOOK_PRESTART][0].n_args, 0);
        assert_non_null(c->hooks.hooks[HOOK_PRESTART][0].args);
        const config_hook *h = &c->hooks.hooks[HOOK_CREATE_RUNTIME][0];
        assert_string_equal(h->path, "/bin/cr");
        assert_int_equal(h->n_args, 2);
        assert_string_equal(h->args[1], "x");
        assert_string_equal(h->env[0], "K=V");
        assert_true(h->has_timeout);
        assert_int_equal(h->timeout, 5);
        assert_string_equal(c->hooks.hooks[HOOK_CREATE_CONTAINER][0].path, "/bin/cc");
        assert_string_equal(c->hooks.hooks[HOOK_START_CONTAINER][0].path, "/bin/sc");
        assert_int_equal(c->hooks.n_hooks[HOOK_POSTSTART], 2);
        assert_string_equal(c->hooks.hooks[HOOK_POSTSTART][1].path, "/bin/ps2");
        assert_string_equal(c->hooks.hooks[HOOK_POSTSTOP][0].path, "/bin/po");
        assert_int_equal(c->n_annotations, 2);
        assert_string_equal(c->annotations[0].key, "org.example.a");
        assert_string_equal(c->annotations[0].value, "1");
        assert_string_equal(c->annotations[1].value, "");
}

static void test_full_linux(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(full_json);
        const config_linux *l = &c->linux_;
        assert_true(c->has_linux);
        assert_int_equal(l->n_namespaces, 8);
        assert_int_equal(l->namespaces[0].type, NS_PID);
        assert_int_equal(l->namespaces[0].clone_flag, CLONE_NEWPID);
        assert_null(l->namespaces[0].path);
        assert_int_equal(l->namespaces[1].type, NS_NETWORK);
        assert_int_equal(l->namespaces[1].clone_flag, CLONE_NEWNET);
        assert_string_equal(l->namespaces[1].path, "/run/netns/n1");
        assert_int_equal(l->namespaces[5].clone_flag, CLONE_NEWUSER);
        assert_int_equal(l->namespaces[7].type, NS_TIME);
        assert_null(l->namespaces[7].path); /* "" = create */
        assert_ptr_equal(config_find_namespace(c, NS_UTS), &l->namespaces[4]);
        assert_ptr_equal(config_find_namespace(c, NS_CGROUP), &l->namespaces[6]);
        assert_int_equal(l->n_uid_mappings, 1);
        assert_int_equal(l->uid_mappings[0].host_id, 100000);
        assert_int_equal(l->uid_mappings[0].size, 65536);
        assert_int_equal(l->n_gid_mappings, 2);
        assert_int_equal(l->gid_mappings[1].container_id, 1000);
        assert_true(l->time_monotonic.set);
        assert_int_equal(l->time_monotonic.secs, -10);
        assert_int_equal(l->time_monotonic.nanosecs, 5);
        assert_true(l->time_boottime.set);
        assert_int_equal(l->time_boottime.secs, 3600);
        assert_int_equal(l->n_devices, 2);
        assert_int_equal(l->devices[0].type, 'c');
        assert_string_equal(l->devices[0].path, "/dev/fuse");
        assert_int_equal(l->devices[0].major, 10);
        assert_int_equal(l->devices[0].minor, 229);
        assert_true(l->devices[0].has_file_mode);
        assert_int_equal(l->devices[0].file_mode, 0666);
        assert_true(l->devices[0].has_uid && l->devices[0].has_gid);
        assert_int_equal(l->devices[1].type, 'p');
        assert_false(l->devices[1].has_file_mode);
        assert_string_equal(l->cgroups_path, "/husk/c1");
        assert_int_equal(l->rootfs_propagation, PROPAGATION_RSLAVE);
        assert_int_equal(l->n_masked_paths, 2);
        assert_string_equal(l->masked_paths[1], "/sys/firmware");
        assert_null(l->masked_paths[2]);
        assert_int_equal(l->n_readonly_paths, 1);
        assert_int_equal(l->n_sysctl, 7);
        assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
        assert_string_equal(l->sysctl[0].value, "1");
        assert_true(l->has_personality);
        assert_string_equal(l->personality_domain, "LINUX32");
        assert_false(l->has_intel_rdt);
}

static void test_full_resources(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(full_json);
        const config_resources *r = c->linux_.resources;
        assert_non_null(r);
        assert_int_equal(r->n_devices, 3);
        assert_false(r->devices[0].allow);
        assert_int_equal(r->devices[0].type, 'a');
        assert_int_equal(r->devices[0].major, -1);
        assert_int_equal(r->devices[0].minor, -1);
        assert_string_equal(r->devices[0].access, "rwm");
        assert_true(r->devices[1].allow);
        assert_int_equal(r->devices[1].type, 'c');
        assert_int_equal(r->devices[1].major, 1);
        assert_int_equal(r->devices[1].minor, 3);
        assert_string_equal(r->devices[1].access, "rwm"); /* "mwr" normalised */
        assert_int_equal(r->devices[2].type, 'b');
        assert_int_equal(r->devices[2].minor, -1);
        assert_string_equal(r->devices[2].access, "r");
        const config_memory *m = &r->memory;
        assert_true(r->has_memory);
        assert_true(m->has_limit && m->has_reservation && m->has_swap && m->has_kernel &&
                    m->has_kernel_tcp && m->has_swappiness);
        assert_int_equal(m->limit, 536870912);
        assert_int_equal(m->reservation, -1);
        assert_int_equal(m->swap, 1073741824);
        assert_int_equal(m->kernel_tcp, 1024);
        assert_int_equal(m->swappiness, 60);
        assert_true(m->has_disable_oom_killer && m->disable_oom_killer);
        assert_true(m->has_use_hierarchy && !m->use_hierarchy);
        assert_true(m->has_check_before_update && m->check_before_update);
        const config_cpu *k = &r->cpu;
        assert_true(r->has_cpu);
        assert_int_equal(k->shares, 1024);
        assert_int_equal(k->quota, 50000);
        assert_int_equal(k->burst, 1000);
        assert_int_equal(k->period, 100000);
        assert_int_equal(k->realtime_runtime, 950);
        assert_int_equal(k->realtime_period, 1000);
        assert_string_equal(k->cpus, "0-1");
        assert_string_equal(k->mems, "0");
        assert_true(k->has_idle);
        assert_int_equal(k->idle, 1);
        assert_true(r->has_pids);
        assert_int_equal(r->pids_limit, -1);
        const config_blkio *b = &r->blkio;
        assert_true(r->has_blkio);
        assert_int_equal(b->weight, 500);
        assert_int_equal(b->leaf_weight, 300);
        assert_int_equal(b->n_weight_device, 1);
        assert_true(b->weight_device[0].has_weight);
        assert_false(b->weight_device[0].has_leaf_weight);
        assert_int_equal(b->weight_device[0].weight, 600);
        assert_int_equal(b->throttle_read_bps[0].rate, 1048576);
        assert_int_equal(b->throttle_write_bps[0].minor, 16);
        assert_int_equal(b->throttle_read_iops[0].rate, 3);
        assert_int_equal(b->n_throttle_write_iops, 2);
        assert_int_equal(b->throttle_write_iops[1].major, 9);
        assert_int_equal(r->n_hugepage_limits, 1);
        assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
        assert_int_equal(r->hugepage_limits[0].limit, 209715200);
        assert_false(r->has_network); /* {} counts as unset */
        assert_int_equal(r->n_unified, 2);
        assert_string_equal(r->unified[1].key, "io.weight");
        assert_string_equal(r->unified[1].value, "default 100");
}

static void test_full_seccomp(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(full_json);
        const config_seccomp *s = c->linux_.seccomp;
        assert_non_null(s);
        assert_int_equal(s->default_action, HUSK_SCMP_ERRNO);
        assert_true(s->has_default_errno_ret);
        assert_int_equal(s->default_errno_ret, 1);
        assert_int_equal(s->n_architectures, 2);
        assert_string_equal(s->architectures[1], "SCMP_ARCH_X86");
        assert_null(s->architectures[2]);
        assert_int_equal(s->n_flags, 2);
        assert_string_equal(s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
        assert_string_equal(s->listener_path, "/run/notify.sock");
        assert_string_equal(s->listener_metadata, "meta");
        assert_int_equal(s->n_syscalls, 4);
        assert_int_equal(s->syscalls[0].n_names, 2);
        assert_string_equal(s->syscalls[0].names[1], "write");
        assert_null(s->syscalls[0].names[2]);
        assert_int_equal(s->syscalls[0].action, HUSK_SCMP_ALLOW);
        assert_int_equal(s->syscalls[1].n_args, 2);
        assert_int_equal(s->syscalls[1].args[0].index, 0);
        assert_int_equal(s->syscalls[1].args[0].value, 8);
        assert_int_equal(s->syscalls[1].args[0].op, HUSK_SCMP_CMP_EQ);
        assert_int_equal(s->syscalls[1].args[1].index, 5);
        assert_int_equal(s->syscalls[1].args[1].value_two, 4);
        assert_int_equal(s->syscalls[1].args[1].op, HUSK_SCMP_CMP_MASKED_EQ);
        assert_true(s->syscalls[2].has_errno_ret);
        assert_int_equal(s->syscalls[2].errno_ret, 38);
        assert_false(s->syscalls[0].has_errno_ret);
        assert_int_equal(s->syscalls[3].action, HUSK_SCMP_NOTIFY);
}

/* ---------- what the engines write (ENGINES.md §8) ---------- */

static const char podman_json[] =
        "{'ociVersion':'1.0.2-dev',"
        "'process':{'user':{'uid':0,'gid':0,'umask':18},'args':['/bin/sh'],"
        " 'env':['PATH=/usr/bin','TERM=xterm','container=podman','HOSTNAME=abc'],'cwd':'/',"
        " 'capabilities':{'bounding':['CAP_CHOWN','CAP_KILL'],'effective':['CAP_CHOWN','CAP_KILL'],"
        "  'permitted':['CAP_CHOWN','CAP_KILL']},"
        " 'rlimits':[{'type':'RLIMIT_NOFILE','hard':1048576,'soft':1048576},"
        "  {'type':'RLIMIT_NPROC','hard':4194304,'soft':4194304}],'oomScoreAdj':0},"
        "'root':{'path':'/var/lib/containers/storage/overlay/abc/merged'},"
        "'hostname':'abc',"
        "'mounts':[{'destination':'/proc','type':'proc','source':'proc',"
        "  'options':['nosuid','noexec','nodev']},"
        " {'destination':'/dev','type':'tmpfs','source':'tmpfs',"
        "  'options':['nosuid','strictatime','mode=755','size=65536k']},"
        " {'destination':'/sys','type':'sysfs','source':'sysfs',"
        "  'options':['nosuid','noexec','nodev','ro']},"
        " {'destination':'/dev/pts','type':'devpts','source':'devpts',"
        "  'options':['nosuid','noexec','newinstance','ptmxmode=0666','mode=0620','gid=5']},"
        " {'destination':'/dev/mqueue','type':'mqueue','source':'mqueue',"
        "  'options':['nosuid','noexec','nodev']},"
        " {'destination':'/etc/resolv.conf','type':'bind','source':'/run/c/resolv.conf',"
        "  'options':['bind','rprivate']},"
        " {'destination':'/dev/shm','type':'bind','source':'/var/lib/c/shm',"
        "  'options':['bind','rprivate','nosuid','noexec','nodev']},"
        " {'destination':'/sys/fs/cgroup','type':'cgroup','source':'cgroup',"
        "  'options':['rprivate','nosuid','noexec','nodev','relatime','ro']}],"
        "'hooks':null,"
        "'annotations':{'io.podman.annotations.autoremove':'FALSE',"
        " 'io.kubernetes.cri-o.Created':'2023-01-01T00:00:00Z','org.opencontainers.image."
        "stopSignal':'15'},"
        "'linux':{'sysctl':{'net.ipv4.ping_group_range':'0 0'},"
        " 'resources':{'devices':[{'allow':false,'access':'rwm'}],'pids':{'limit':2048}},"
        " 'cgroupsPath':'/libpod_parent/libpod-abc',"
        " 'namespaces':[{'type':'pid'},{'type':'network','path':'/run/netns/netns-1234'},"
        "  {'type':'ipc'},{'type':'uts'},{'type':'mount'}],"
        " 'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':38,"
        "  'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86','SCMP_ARCH_X32'],"
        "  "
        "'syscalls':[{'names':['bdflush','io_pgetevents'],'action':'SCMP_ACT_ERRNO','errnoRet':1},"
        "   {'names':['accept','read'],'action':'SCMP_ACT_ALLOW'},"
        "   {'names':['personality'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':0,"
        "    'valueTwo':0,'op':'SCMP_CMP_EQ'}]},"
        "   {'names':['clone'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':2114060288,"
        "    'valueTwo':0,'op':'SCMP_CMP_MASKED_EQ'}]}]},"
        " 'maskedPaths':['/proc/acpi','/proc/kcore','/sys/firmware'],"
        " 'readonlyPaths':['/proc/asound','/proc/bus','/proc/sys']}}";

static void test_podman_shape(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(podman_json);
        assert_int_equal(c->process->user.umask, 022);
        assert_int_equal(c->process->rlimits[1].resource, RLIMIT_NPROC);
        assert_false(c->process->terminal);
        assert_int_equal(c->n_mounts, 8);
        assert_string_equal(c->mounts[7].type, "cgroup");
        for (int k = 0; k < HOOK_KIND_COUNT; k++)
                assert_int_equal(c->hooks.n_hooks[k], 0);
        const config_namespace *net = config_find_namespace(c, NS_NETWORK);
        assert_non_null(net);
        assert_string_equal(net->path, "/run/netns/netns-1234");
        assert_null(config_find_namespace(c, NS_USER));
        assert_null(config_find_namespace(c, NS_CGROUP));
        assert_int_equal(c->linux_.resources->n_devices, 1);
        assert_true(c->linux_.resources->has_pids);
        assert_int_equal(c->linux_.resources->pids_limit, 2048);
        assert_false(c->linux_.resources->has_memory);
        assert_int_equal(c->linux_.seccomp->default_errno_ret, 38);
        assert_int_equal(c->linux_.seccomp->n_syscalls, 4);
        assert_int_equal(c->linux_.seccomp->syscalls[3].args[0].value, 2114060288);
        assert_string_equal(c->linux_.cgroups_path, "/libpod_parent/libpod-abc");
        assert_int_equal(c->linux_.rootfs_propagation, PROPAGATION_UNSET);
        assert_int_equal(c->n_annotations, 3);
}

static const char containerd_json[] =
        "{'ociVersion':'1.1.0',"
        "'process':{'user':{'uid':0,'gid':0,'additionalGids':[0,1,2,3,4,6,10,11,20,26,27]},"
        " 'args':['sh'],'env':['PATH=/bin'],'cwd':'/',"
        " 'capabilities':{'bounding':['CAP_CHOWN','CAP_DAC_OVERRIDE','CAP_FSETID','CAP_FOWNER',"
        "  'CAP_MKNOD','CAP_NET_RAW','CAP_SETGID','CAP_SETUID','CAP_SETFCAP','CAP_SETPCAP',"
        "  'CAP_NET_BIND_SERVICE','CAP_SYS_CHROOT','CAP_KILL','CAP_AUDIT_WRITE']},"
        " 'rlimits':[{'type':'RLIMIT_NOFILE','hard':1024,'soft':1024}],'noNewPrivileges':true},"
        "'root':{'path':'rootfs'},"
        "'mounts':[{'destination':'/proc','type':'proc','source':'proc',"
        "  'options':['nosuid','noexec','nodev']}],"
        "'linux':{'resources':{'devices':[{'allow':false,'access':'rwm'},"
        "  {'allow':true,'type':'c','major':1,'minor':3,'access':'rwm'},"
        "  {'allow':true,'type':'c','major':136,'access':'rwm'},"
        "  {'allow':true,'type':'c','major':5,'minor':2,'access':'rwm'}],"
        "  'cpu':{'shares':1024}},"
        " 'cgroupsPath':'/default/c1',"
        " 'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'uts'},{'type':'mount'},"
        "  {'type':'network'}],"
        " 'maskedPaths':['/proc/acpi'],'readonlyPaths':['/proc/bus']}}";

static void test_containerd_shape(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(containerd_json);
        assert_string_equal(c->root.path, "rootfs");
        assert_int_equal(c->process->user.n_additional_gids, 11);
        assert_int_equal(c->process->user.additional_gids[10], 27);
        assert_int_equal(__builtin_popcountll(c->process->capabilities.bounding), 14);
        assert_false(c->process->capabilities.has_effective);
        assert_int_equal(c->linux_.resources->devices[2].major, 136);
        assert_int_equal(c->linux_.resources->devices[2].minor, -1);
        assert_true(c->linux_.resources->cpu.has_shares);
        assert_false(c->linux_.resources->cpu.has_quota);
        assert_null(c->linux_.resources->cpu.cpus);
        assert_null(config_find_namespace(c, NS_NETWORK)->path);
        assert_null(c->hostname);
        assert_null(c->linux_.seccomp);
}

/* ---------- smaller positive cases ---------- */

static void test_minimal(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok("{'ociVersion':'1.0.0','root':{'path':'r'}}");
        assert_null(c->process);
        assert_false(c->has_linux);
        assert_null(c->linux_.resources);
        assert_null(config_find_namespace(c, NS_PID));
        assert_int_equal(c->n_mounts, 0);
}

static void test_nulls_and_unknowns(void **state)
{
        /* null is "absent"; unknown keys are ignored; a repeated key: the last one wins. */
        _cleanup_config_ husk_config *c = parse_ok(
                "{'ociVersion':'1.0.0','root':{'path':'a'},'root':{'path':'b'},'hostname':null,"
                "'mounts':null,'windows':{'x':1},'vm':{},"
                "'process':{'args':['x'],'cwd':'/','env':null,'user':null,'rlimits':null},"
                "'linux':{'namespaces':null,'resources':null,'seccomp':null,'sysctl':null,"
                "'netDevicesFuture':{'a':1}}}");
        assert_string_equal(c->root.path, "b");
        assert_null(c->hostname);
        assert_int_equal(c->process->n_env, 0);
        assert_non_null(c->process->env);
        assert_null(c->process->env[0]);
        assert_null(c->linux_.resources);
        assert_null(c->linux_.seccomp);
}

static void test_userns_join(void **state)
{
        _cleanup_config_ husk_config *c = parse_ok(
                "{'ociVersion':'1.0.0','root':{'path':'r'},'linux':{'namespaces':"
                "[{'type':'user','path':'/proc/1/ns/user'},{'type':'network','path':'/x'}],"
                "'sysctl':{'net.core.somaxconn':'1024'}}}");
        assert_string_equal(config_find_namespace(c, NS_USER)->path, "/proc/1/ns/user");
        assert_int_equal(c->linux_.n_uid_mappings, 0);
}

static void test_names(void **state)
{
        assert_int_equal(config_rlimit_from_name("RLIMIT_CPU"), RLIMIT_CPU);
        assert_int_equal(config_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
        assert_int_equal(config_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
        assert_int_equal(config_rlimit_from_name("rlimit_nofile"), -1);
        assert_int_equal(config_rlimit_from_name("NOFILE"), -1);
        assert_string_equal(config_rlimit_name(RLIMIT_MEMLOCK), "RLIMIT_MEMLOCK");
        assert_null(config_rlimit_name(1000));
        for (int r = 0; r < RLIM_NLIMITS; r++)
                assert_int_equal(config_rlimit_from_name(config_rlimit_name(r)), r);
        assert_int_equal(config_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
        assert_int_equal(config_cap_from_name("CAP_CHOWN"), 0);
        assert_int_equal(config_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_int_equal(config_cap_from_name("cap_sys_admin"), -1);
        assert_int_equal(config_cap_from_name("SYS_ADMIN"), -1);
        assert_int_equal(config_cap_from_name("CAP_"), -1);
        assert_int_equal(config_cap_from_name("CAP_12"), -1);
        assert_int_equal(config_cap_from_name("CAP_NOPE"), -1);
}

/* ---------- the default spec ---------- */

static void check_spec(bool rootless)
{
        _cleanup_free_ char *text = config_default_spec(rootless);
        assert_non_null(text);
        /* pretty: one key per line, ending in a newline */
        assert_non_null(strstr(text, "\n\t\"ociVersion\": \"" HUSK_OCI_VERSION "\""));
        assert_int_equal(text[strlen(text) - 1], '\n');
        husk_error_t err = { 0 };
        husk_config *c = NULL;
        if (config_parse(text, strlen(text), "spec", &c, &err) < 0)
                fail_msg("default spec does not parse: %s", err.msg);
        _cleanup_config_ husk_config *cc = c;
        assert_string_equal(c->process->args[0], "sh");
        assert_null(c->process->args[1]);
        assert_true(c->process->terminal);
        assert_true(c->process->no_new_privileges);
        uint64_t caps =
                (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE);
        assert_int_equal(c->process->capabilities.bounding, caps);
        assert_int_equal(c->process->capabilities.effective, caps);
        assert_int_equal(c->process->capabilities.permitted, caps);
        assert_int_equal(c->process->n_rlimits, 1);
        assert_int_equal(c->process->rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(c->process->rlimits[0].hard, 1024);
        assert_string_equal(c->root.path, "rootfs");
        assert_non_null(config_find_namespace(c, NS_PID));
        assert_non_null(config_find_namespace(c, NS_MOUNT));
        assert_non_null(config_find_namespace(c, NS_UTS));
        assert_true(c->linux_.n_masked_paths > 5);
        assert_true(c->linux_.n_readonly_paths > 3);
        bool sys = false;
        for (size_t i = 0; i < c->n_mounts; i++)
                if (strcmp(c->mounts[i].destination, "/sys") == 0) {
                        sys = true;
                        if (rootless) {
                                assert_string_equal(c->mounts[i].source, "/sys");
                                assert_string_equal(c->mounts[i].options[0], "rbind");
                        } else
                                assert_string_equal(c->mounts[i].type, "sysfs");
                }
        assert_true(sys);
        /* linux.seccomp comes from the seccomp module when it has a default profile. */
        _cleanup_free_ char *profile = seccomp_default_profile_json();
        if (profile)
                assert_non_null(c->linux_.seccomp);
        else
                assert_null(c->linux_.seccomp);
        if (rootless) {
                assert_null(config_find_namespace(c, NS_NETWORK));
                assert_non_null(config_find_namespace(c, NS_USER));
                assert_int_equal(c->linux_.uid_mappings[0].host_id, getuid());
                assert_int_equal(c->linux_.gid_mappings[0].host_id, getgid());
                assert_int_equal(c->linux_.uid_mappings[0].size, 1);
        } else {
                assert_non_null(config_find_namespace(c, NS_NETWORK));
                assert_null(config_find_namespace(c, NS_USER));
                assert_int_equal(c->linux_.resources->n_devices, 1);
        }
}

static void test_spec_default(void **state)
{
        check_spec(false);
}

static void test_spec_rootless(void **state)
{
        check_spec(true);
}

/* ---------- standalone process and resources ---------- */

static void test_process_file(void **state)
{
        _cleanup_free_ char *ok = dq("{'args':['ls','-l'],'cwd':'/tmp','terminal':false,"
                                     "'env':['A=1'],'user':{'uid':5,'gid':6}}");
        husk_error_t err = { 0 };
        config_process *p = NULL;
        assert_int_equal(config_parse_process(ok, strlen(ok), "process.json", &p, &err), 0);
        assert_string_equal(p->args[1], "-l");
        assert_int_equal(p->user.uid, 5);
        config_process_free(p);

        p = NULL;
        _cleanup_free_ char *bad = dq("{'args':3,'cwd':'/'}");
        assert_int_equal(config_parse_process(bad, strlen(bad), "process.json", &p, &err), -EINVAL);
        assert_null(p);
        assert_string_equal(err.msg, "process.json: .args: expected an array of strings, got a "
                                     "number");
        _cleanup_free_ char *bad2 = dq("{'args':['x'],'cwd':'/','rlimits':[{'type':'RLIMIT_X',"
                                       "'soft':1,'hard':1}]}");
        assert_int_equal(config_parse_process(bad2, strlen(bad2), "p.json", &p, &err), -EINVAL);
        assert_string_equal(err.msg, "p.json: .rlimits[0].type: unknown rlimit \"RLIMIT_X\"");
        assert_int_equal(config_parse_process("[", 1, "p.json", &p, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "p.json: invalid JSON at line 1"));
}

static void test_resources_file(void **state)
{
        _cleanup_free_ char *ok = dq("{'memory':{'limit':1048576},'pids':{'limit':10},"
                                     "'cpu':{'quota':-1,'period':100000}}");
        husk_error_t err = { 0 };
        config_resources *r = NULL;
        assert_int_equal(config_parse_resources(ok, strlen(ok), "resources.json", &r, &err), 0);
        assert_true(r->has_memory && r->memory.has_limit);
        assert_int_equal(r->memory.limit, 1048576);
        assert_false(r->memory.has_swap);
        assert_int_equal(r->pids_limit, 10);
        assert_int_equal(r->cpu.quota, -1);
        config_resources_free(r);

        r = NULL;
        _cleanup_free_ char *bad = dq("{'memory':{'limit':'1G'}}");
        assert_int_equal(config_parse_resources(bad, strlen(bad), "resources.json", &r, &err),
                         -EINVAL);
        assert_null(r);
        assert_string_equal(err.msg, "resources.json: .memory.limit: expected an integer, got a "
                                     "string");
        _cleanup_free_ char *bad2 = dq("[1]");
        assert_int_equal(config_parse_resources(bad2, strlen(bad2), "-", &r, &err), -EINVAL);
        assert_string_equal(err.msg, "-: .: expected an object, got an array");
}

/* ---------- files ---------- */

static void test_load_bundle(void **state)
{
        char dir[] = "/tmp/husk-test-config-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
        husk_error_t err = { 0 };
        husk_config *c = NULL;

        assert_int_equal(config_load_bundle(dir, &c, &err), -ENOENT);
        assert_non_null(strstr(err.msg, path));
        assert_non_null(strstr(err.msg, "No such file or directory"));

        _cleanup_free_ char *good = dq("{'ociVersion':'1.0.0','root':{'path':'rootfs'},"
                                       "'process':{'args':['true'],'cwd':'/'}}");
        assert_int_equal(write_file_atomic_at(AT_FDCWD, path, good, strlen(good), 0600), 0);
        assert_int_equal(config_load_bundle(dir, &c, &err), 0);
        assert_string_equal(c->filename, path);
        assert_string_equal(c->process->args[0], "true");
        config_free(c);

        _cleanup_free_ char *bad = dq("{'ociVersion':'1.0.0','root':{'path':'rootfs'},"
                                      "'process':{'args':7,'cwd':'/'}}");
        assert_int_equal(write_file_atomic_at(AT_FDCWD, path, bad, strlen(bad), 0600), 0);
        c = NULL;
        assert_int_equal(config_load_bundle(dir, &c, &err), -EINVAL);
        assert_null(c);
        _cleanup_free_ char *want =
                xasprintf("%s: .process.args: expected an array of strings, got a number", path);
        assert_string_equal(err.msg, want);

        /* 5 MiB of spaces around a valid object: over the cap. */
        size_t big = 5u << 20;
        _cleanup_free_ char *huge = xmalloc(big);
        memset(huge, ' ', big);
        memcpy(huge, good, strlen(good));
        assert_int_equal(write_file_atomic_at(AT_FDCWD, path, huge, big, 0600), 0);
        assert_int_equal(config_load_bundle(dir, &c, &err), -EFBIG);
        assert_non_null(strstr(err.msg, "file too large"));
        assert_int_equal(config_parse(huge, big, "x.json", &c, &err), -EFBIG);
        assert_non_null(strstr(err.msg, "x.json: file too large"));

        unlink(path);
        rmdir(dir);
}

static void test_nul_byte(void **state)
{
        const char text[] = "{\"ociVersion\":\"1.0.0\",\0\"root\":{\"path\":\"r\"}}";
        husk_error_t err = { 0 };
        husk_config *c = NULL;
        assert_int_equal(config_parse(text, sizeof(text) - 1, "n.json", &c, &err), -EINVAL);
        assert_string_equal(err.msg, "n.json: invalid JSON: contains a NUL byte");
}

/* Every strict prefix of a valid config is invalid JSON; every one-character mutation either parses
 * or fails with an error message, and never crashes or leaks (run under the sanitizers too). */
static void test_truncations_and_mutations(void **state)
{
        _cleanup_free_ char *json = dq(full_json);
        size_t len = strlen(json);
        husk_error_t err = { 0 };
        for (size_t n = 0; n < len; n++) {
                husk_config *c = NULL;
                err.msg[0] = '\0';
                assert_int_equal(config_parse(json, n, "t.json", &c, &err), -EINVAL);
                assert_null(c);
                assert_non_null(strstr(err.msg, "t.json: invalid JSON at line 1, column "));
        }
        static const char subst[] = { '0', '"', '-', '{', ']', 'a', '/' };
        size_t ok = 0, failed = 0;
        for (size_t i = 0; i < len; i++)
                for (size_t k = 0; k < sizeof(subst); k++) {
                        char saved = json[i];
                        json[i] = subst[k];
                        husk_config *c = NULL;
                        err.msg[0] = '\0';
                        if (config_parse(json, len, "m.json", &c, &err) == 0) {
                                assert_non_null(c);
                                config_free(c);
                                ok++;
                        } else {
                                assert_null(c);
                                assert_int_equal(strncmp(err.msg, "m.json: ", 8), 0);
                                failed++;
                        }
                        json[i] = saved;
                }
        assert_true(ok > 0 && failed > 0);
}

/* ---------- malformed configs: each gets one exact error ---------- */

#define BASE "'ociVersion':'1.2.0','root':{'path':'r'}"
#define CFG(extra) "{" BASE extra "}"
#define PROC(extra) CFG(",'process':{'args':['sh'],'cwd':'/'" extra "}")
#define LNX(extra) CFG(",'linux':{" extra "}")
#define NS(...) "'namespaces':[" __VA_ARGS__ "]"
#define RES(extra) LNX("'resources':{" extra "}")
#define SEC(extra) LNX("'seccomp':{'defaultAction':'SCMP_ACT_ALLOW'" extra "}")

typedef struct bad_case {
        const char *name;
        const char *json; /* single-quoted */
        const char *want; /* substring of the error (most are the whole message) */
} bad_case;

static const bad_case bad_cases[] = {
        /* JSON and top level */
        { "bad_json_eof", "{'ociVersion':",
          "config.json: invalid JSON at line 1, column 15: "
          "parse error: premature EOF" },
        { "bad_json_token", "{\n'a': [1,,2]}", "config.json: invalid JSON at line 2, column 9" },
        { "bad_json_trailing", "{} x", "config.json: invalid JSON at line 1, column 4" },
        { "empty_text", "", "config.json: invalid JSON at line 1, column 1" },
        { "top_not_object", "[]", "config.json: .: expected an object, got an array" },
        { "no_oci_version", "{'root':{'path':'r'}}",
          "config.json: .ociVersion: required, but missing" },
        { "oci_version_number", "{'ociVersion':1,'root':{'path':'r'}}",
          "config.json: .ociVersion: expected a string, got a number" },
        { "oci_version_2", "{'ociVersion':'2.0.0','root':{'path':'r'}}",
          "config.json: .ociVersion: unsupported version \"2.0.0\" (husk supports 1.x)" },
        { "no_root", "{'ociVersion':'1.0.0'}", "config.json: .root: required, but missing" },
        { "root_string", "{'ociVersion':'1.0.0','root':'r'}",
          "config.json: .root: expected an object, got a string" },
        { "root_path_missing", "{'ociVersion':'1.0.0','root':{}}",
          "config.json: .root.path: required, but missing" },
        { "root_path_empty", "{'ociVersion':'1.0.0','root':{'path':''}}",
          "config.json: .root.path: must not be empty" },
        { "root_readonly_string", "{'ociVersion':'1.0.0','root':{'path':'r','readonly':'yes'}}",
          "config.json: .root.readonly: expected a boolean, got a string" },
        { "hostname_number", CFG(",'hostname':5"),
          "config.json: .hostname: expected a string, got a number" },
        { "hostname_without_uts", CFG(",'hostname':'h'"),
          "config.json: .hostname: setting the hostname requires a uts namespace" },
        { "domainname_without_uts", CFG(",'domainname':'d','linux':{" NS("{'type':'pid'}") "}"),
          "config.json: .domainname: setting the domainname requires a uts namespace" },
        { "annotations_array", CFG(",'annotations':['a']"),
          "config.json: .annotations: expected an object of strings, got an array" },
        { "annotation_value_number", CFG(",'annotations':{'a':'x','b':1}"),
          "config.json: .annotations[\"b\"]: expected a string, got a number" },
        /* process */
        { "process_array", CFG(",'process':[]"),
          "config.json: .process: expected an object, got an array" },
        { "args_number", CFG(",'process':{'args':1,'cwd':'/'}"),
          "config.json: .process.args: expected an array of strings, got a number" },
        { "args_element_number", CFG(",'process':{'args':['a',2],'cwd':'/'}"),
          "config.json: .process.args[1]: expected a string, got a number" },
        { "args_empty", CFG(",'process':{'args':[],'cwd':'/'}"),
          "config.json: .process.args: must contain at least one element (the program to run)" },
        { "args_missing", CFG(",'process':{'cwd':'/'}"),
          "config.json: .process.args: must contain at least one element" },
        { "args0_empty", CFG(",'process':{'args':[''],'cwd':'/'}"),
          "config.json: .process.args: the program to run (args[0]) is an empty string" },
        { "cwd_missing", CFG(",'process':{'args':['sh']}"),
          "config.json: .process.cwd: required, but missing" },
        { "cwd_relative", CFG(",'process':{'args':['sh'],'cwd':'tmp'}"),
          "config.json: .process.cwd: expected an absolute path, got \"tmp\"" },
        { "cwd_bool", CFG(",'process':{'args':['sh'],'cwd':true}"),
          "config.json: .process.cwd: expected a string, got a boolean" },
        { "terminal_string", PROC(",'terminal':'true'"),
          "config.json: .process.terminal: expected a boolean, got a string" },
        { "console_size_no_width", PROC(",'consoleSize':{'height':1}"),
          "config.json: .process.consoleSize.width: required, but missing" },
        { "user_array", PROC(",'user':[0]"),
          "config.json: .process.user: expected an object, got an array" },
        { "uid_negative", PROC(",'user':{'uid':-1,'gid':0}"),
          "config.json: .process.user.uid: -1 is out of range (0..4294967295)" },
        { "gid_too_big", PROC(",'user':{'uid':0,'gid':4294967296}"),
          "config.json: .process.user.gid: 4294967296 is out of range (0..4294967295)" },
        { "uid_huge", PROC(",'user':{'uid':123456789012345678901234567890}"),
          "config.json: .process.user.uid: 123456789012345678901234567890 is out of range" },
        { "uid_fraction", PROC(",'user':{'uid':1.5}"),
          "config.json: .process.user.uid: expected an integer, got 1.5" },
        { "uid_exponent", PROC(",'user':{'uid':1e3}"),
          "config.json: .process.user.uid: expected an integer, got 1e3" },
        { "uid_string", PROC(",'user':{'uid':'0'}"),
          "config.json: .process.user.uid: expected an integer, got a string" },
        { "umask_too_big", PROC(",'user':{'umask':512}"),
          "config.json: .process.user.umask: 512 is out of range (0..511)" },
        { "additional_gid_string", PROC(",'user':{'additionalGids':[1,'2']}"),
          "config.json: .process.user.additionalGids[1]: expected an integer, got a string" },
        { "additional_gids_object", PROC(",'user':{'additionalGids':{}}"),
          "config.json: .process.user.additionalGids: expected an array, got an object" },
        { "env_number", PROC(",'env':['A=1',2]"),
          "config.json: .process.env[1]: expected a string, got a number" },
        { "env_no_equals", PROC(",'env':['FOO']"),
          "config.json: .process.env[0]: expected \"NAME=value\", got \"FOO\"" },
        { "env_empty_name", PROC(",'env':['=x']"),
          "config.json: .process.env[0]: expected \"NAME=value\", got \"=x\"" },
        { "caps_array", PROC(",'capabilities':['CAP_KILL']"),
          "config.json: .process.capabilities: expected an object, got an array" },
        { "caps_set_object", PROC(",'capabilities':{'effective':{}}"),
          "config.json: .process.capabilities.effective: expected an array of strings, got an "
          "object" },
        { "caps_inheritable_number", PROC(",'capabilities':{'inheritable':[1]}"),
          "config.json: .process.capabilities.inheritable[0]: expected a string, got a number" },
        { "rlimits_object", PROC(",'rlimits':{}"),
          "config.json: .process.rlimits: expected an array, got an object" },
        { "rlimit_not_object", PROC(",'rlimits':[1]"),
          "config.json: .process.rlimits[0]: expected an object, got a number" },
        { "rlimit_unknown",
          PROC(",'rlimits':[{'type':'RLIMIT_CPU','soft':1,'hard':1},"
               "{'type':'RLIMIT_FOO','soft':1,'hard':1}]"),
          "config.json: .process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"" },
        { "rlimit_duplicate",
          PROC(",'rlimits':[{'type':'RLIMIT_CPU','soft':1,'hard':1},"
               "{'type':'RLIMIT_CPU','soft':1,'hard':1}]"),
          "config.json: .process.rlimits[1].type: duplicate rlimit \"RLIMIT_CPU\"" },
        { "rlimit_soft_above_hard",
          PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':10,'hard':5}]"),
          "config.json: .process.rlimits[0]: soft limit 10 exceeds hard limit 5" },
        { "rlimit_no_hard", PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':10}]"),
          "config.json: .process.rlimits[0].hard: required, but missing" },
        { "rlimit_no_type", PROC(",'rlimits':[{'soft':10,'hard':10}]"),
          "config.json: .process.rlimits[0].type: required, but missing" },
        { "rlimit_too_big",
          PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':18446744073709551616}]"),
          "config.json: .process.rlimits[0].hard: 18446744073709551616 is out of range "
          "(0..18446744073709551615)" },
        { "rlimit_negative", PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':-1,'hard':1}]"),
          "config.json: .process.rlimits[0].soft: -1 is out of range" },
        { "nnp_string", PROC(",'noNewPrivileges':'yes'"),
          "config.json: .process.noNewPrivileges: expected a boolean, got a string" },
        { "oom_too_big", PROC(",'oomScoreAdj':1001"),
          "config.json: .process.oomScoreAdj: 1001 is out of range (-1000..1000)" },
        { "apparmor", PROC(",'apparmorProfile':'docker-default'"),
          "config.json: .process.apparmorProfile: not supported by husk (no AppArmor support)" },
        { "selinux_label", PROC(",'selinuxLabel':'system_u:system_r:container_t:s0'"),
          "config.json: .process.selinuxLabel: not supported by husk (no SELinux support)" },
        { "io_priority_class", PROC(",'ioPriority':{'class':'IOPRIO_CLASS_X','priority':1}"),
          "config.json: .process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_X\"" },
        { "io_priority_range", PROC(",'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}"),
          "config.json: .process.ioPriority.priority: 8 is out of range" },
        { "scheduler_policy", PROC(",'scheduler':{'policy':'SCHED_FAST'}"),
          "config.json: .process.scheduler.policy: unknown scheduling policy \"SCHED_FAST\"" },
        { "scheduler_no_policy", PROC(",'scheduler':{'nice':1}"),
          "config.json: .process.scheduler.policy: required, but missing" },
        { "scheduler_flag", PROC(",'scheduler':{'policy':'SCHED_OTHER','flags':['SCHED_FLAG_X']}"),
          "config.json: .process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_X\"" },
        { "scheduler_nice", PROC(",'scheduler':{'policy':'SCHED_OTHER','nice':20}"),
          "config.json: .process.scheduler.nice: 20 is out of range" },
        { "cpu_affinity", PROC(",'execCPUAffinity':{'final':'0-a'}"),
          "config.json: .process.execCPUAffinity.final: invalid CPU list \"0-a\"" },
        /* mounts */
        { "mounts_object", CFG(",'mounts':{}"),
          "config.json: .mounts: expected an array, got an object" },
        { "mount_string", CFG(",'mounts':['/proc']"),
          "config.json: .mounts[0]: expected an object, got a string" },
        { "mount_no_destination", CFG(",'mounts':[{'type':'proc'}]"),
          "config.json: .mounts[0].destination: required, but missing" },
        { "mount_empty_destination", CFG(",'mounts':[{'destination':'/a'},{'destination':''}]"),
          "config.json: .mounts[1].destination: must not be empty" },
        { "mount_options_string", CFG(",'mounts':[{'destination':'/a','options':'ro'}]"),
          "config.json: .mounts[0].options: expected an array of strings, got a string" },
        { "mount_type_number", CFG(",'mounts':[{'destination':'/a','type':1}]"),
          "config.json: .mounts[0].type: expected a string, got a number" },
        { "mount_idmapped_size",
          CFG(",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1,"
              "'size':0}]}]"),
          "config.json: .mounts[0].uidMappings[0]: size must be greater than 0" },
        /* hooks */
        { "hooks_array", CFG(",'hooks':[]"),
          "config.json: .hooks: expected an object, got an "
          "array" },
        { "hook_kind_object", CFG(",'hooks':{'createRuntime':{}}"),
          "config.json: .hooks.createRuntime: expected an array, got an object" },
        { "hook_relative", CFG(",'hooks':{'prestart':[{'path':'bin/x'}]}"),
          "config.json: .hooks.prestart[0].path: expected an absolute path, got \"bin/x\"" },
        { "hook_no_path", CFG(",'hooks':{'startContainer':[{'args':[]}]}"),
          "config.json: .hooks.startContainer[0].path: required, but missing" },
        { "hook_timeout_zero",
          CFG(",'hooks':{'poststop':[{'path':'/a'},{'path':'/b','timeout':0}]}"),
          "config.json: .hooks.poststop[1].timeout: must be greater than 0, got 0" },
        { "hook_timeout_string", CFG(",'hooks':{'poststart':[{'path':'/a','timeout':'5'}]}"),
          "config.json: .hooks.poststart[0].timeout: expected an integer, got a string" },
        { "hook_args_number", CFG(",'hooks':{'createContainer':[{'path':'/a','args':[1]}]}"),
          "config.json: .hooks.createContainer[0].args[0]: expected a string, got a number" },
        /* linux: namespaces and id mappings */
        { "linux_array", CFG(",'linux':[]"),
          "config.json: .linux: expected an object, got an array" },
        { "ns_unknown", LNX(NS("{'type':'pid'},{'type':'ipc'},{'type':'foo'}")),
          "config.json: .linux.namespaces[2].type: unknown namespace type \"foo\"" },
        { "ns_duplicate", LNX(NS("{'type':'pid'},{'type':'pid','path':'/proc/1/ns/pid'}")),
          "config.json: .linux.namespaces[1].type: duplicate namespace type \"pid\"" },
        { "ns_no_type", LNX(NS("{'path':'/x'}")),
          "config.json: .linux.namespaces[0].type: required, but missing" },
        { "ns_relative_path", LNX(NS("{'type':'network','path':'run/netns/x'}")),
          "config.json: .linux.namespaces[0].path: expected an absolute path, got "
          "\"run/netns/x\"" },
        { "ns_string", LNX(NS("'pid'")),
          "config.json: .linux.namespaces[0]: expected an object, got a string" },
        { "mappings_without_userns",
          LNX(NS("{'type':'pid'}") ",'uidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
          "config.json: .linux.uidMappings: id mappings require a user namespace in "
          ".linux.namespaces" },
        { "gid_mappings_without_userns",
          LNX("'gidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
          "config.json: .linux.gidMappings: id mappings require a user namespace" },
        { "mappings_with_joined_userns",
          LNX(NS("{'type':'user','path':'/proc/1/ns/user'}") ",'uidMappings':[{'containerID':0,"
                                                             "'hostID':1000,'size':1}]"),
          "config.json: .linux.uidMappings: must be absent when joining an existing user "
          "namespace" },
        { "new_userns_without_mappings", LNX(NS("{'type':'user'}")),
          "config.json: .linux.uidMappings: a new user namespace needs at least one uid mapping" },
        { "new_userns_without_gid_mappings",
          LNX(NS("{'type':'user'}") ",'uidMappings':[{'containerID':0,'hostID':1,'size':1}]"),
          "config.json: .linux.gidMappings: a new user namespace needs at least one gid mapping" },
        { "mapping_size_zero",
          LNX(NS("{'type':'user'}") ",'uidMappings':[{'containerID':0,'hostID':1,'size':0}]"),
          "config.json: .linux.uidMappings[0]: size must be greater than 0" },
        { "mapping_no_host_id", LNX("'uidMappings':[{'containerID':0,'size':1}]"),
          "config.json: .linux.uidMappings[0].hostID: required, but missing" },
        { "mapping_overflow", LNX("'gidMappings':[{'containerID':4294967295,'hostID':0,'size':2}]"),
          "config.json: .linux.gidMappings[0]: the range does not fit in 32-bit ids" },
        { "mapping_negative", LNX("'uidMappings':[{'containerID':0,'hostID':-5,'size':1}]"),
          "config.json: .linux.uidMappings[0].hostID: -5 is out of range (0..4294967295)" },
        /* linux: sysctl, time, devices, paths, unsupported */
        { "sysctl_not_namespaced", LNX("'sysctl':{'vm.swappiness':'10'}"),
          "config.json: .linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl (or its "
          "namespace is not configured)" },
        { "sysctl_net_without_netns",
          LNX(NS("{'type':'ipc'}") ",'sysctl':{'net.ipv4.ip_forward':'1'}"),
          "config.json: .linux.sysctl[\"net.ipv4.ip_forward\"]: not a namespaced sysctl" },
        { "sysctl_ipc_without_ipcns",
          LNX(NS("{'type':'network'}") ",'sysctl':{'kernel.shmmax':'1'}"),
          "config.json: .linux.sysctl[\"kernel.shmmax\"]: not a namespaced sysctl" },
        { "sysctl_mqueue_without_ipcns", LNX("'sysctl':{'fs.mqueue.msg_max':'1'}"),
          "config.json: .linux.sysctl[\"fs.mqueue.msg_max\"]: not a namespaced sysctl" },
        { "sysctl_hostname_without_uts",
          LNX(NS("{'type':'ipc'}") ",'sysctl':{'kernel.hostname':'x'}"),
          "config.json: .linux.sysctl[\"kernel.hostname\"]: not a namespaced sysctl" },
        { "sysctl_kernel_prefix_only", LNX(NS("{'type':'ipc'}") ",'sysctl':{'kernel.shm':'1'}"),
          "config.json: .linux.sysctl[\"kernel.shm\"]: not a namespaced sysctl" },
        { "sysctl_sem_lookalike", LNX(NS("{'type':'ipc'}") ",'sysctl':{'kernel.semx':'1'}"),
          "config.json: .linux.sysctl[\"kernel.semx\"]: not a namespaced sysctl" },
        { "sysctl_kernel_other",
          LNX(NS("{'type':'ipc'},{'type':'uts'}") ",'sysctl':{'kernel.pid_max':'9'}"),
          "config.json: .linux.sysctl[\"kernel.pid_max\"]: not a namespaced sysctl" },
        { "sysctl_value_number",
          LNX(NS("{'type':'network'}") ",'sysctl':{'net.ipv4.ip_forward':1}"),
          "config.json: .linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got a number" },
        { "time_offsets_without_timens", LNX("'timeOffsets':{'monotonic':{'secs':1}}"),
          "config.json: .linux.timeOffsets: time offsets require a time namespace" },
        { "time_offsets_nanosecs",
          LNX(NS("{'type':'time'}") ",'timeOffsets':{'boottime':{'nanosecs':1000000000}}"),
          "config.json: .linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range "
          "(0..999999999)" },
        { "time_offsets_unknown_clock",
          LNX(NS("{'type':'time'}") ",'timeOffsets':{'realtime':{'secs':1}}"),
          "config.json: .linux.timeOffsets.realtime: unknown clock (expected monotonic or "
          "boottime)" },
        { "device_type", LNX("'devices':[{'type':'x','path':'/dev/x','major':1,'minor':1}]"),
          "config.json: .linux.devices[0].type: unknown device type \"x\" (expected c, b, u or "
          "p)" },
        { "device_relative", LNX("'devices':[{'type':'c','path':'dev/x','major':1,'minor':1}]"),
          "config.json: .linux.devices[0].path: expected an absolute path, got \"dev/x\"" },
        { "device_no_major", LNX("'devices':[{'type':'b','path':'/dev/sda','minor':1}]"),
          "config.json: .linux.devices[0].major: required, but missing" },
        { "device_mode", LNX("'devices':[{'type':'p','path':'/dev/f','fileMode':4096}]"),
          "config.json: .linux.devices[0].fileMode: 4096 is out of range (0..4095)" },
        { "device_negative_minor",
          LNX("'devices':[{'type':'c','path':'/dev/f','major':1,'minor':-1}]"),
          "config.json: .linux.devices[0].minor: -1 is out of range (0..4294967295)" },
        { "propagation", LNX("'rootfsPropagation':'bogus'"),
          "config.json: .linux.rootfsPropagation: unknown propagation \"bogus\"" },
        { "masked_relative", LNX("'maskedPaths':['/proc/kcore','proc/keys']"),
          "config.json: .linux.maskedPaths[1]: expected an absolute path, got \"proc/keys\"" },
        { "readonly_number", LNX("'readonlyPaths':[1]"),
          "config.json: .linux.readonlyPaths[0]: expected a string, got a number" },
        { "cgroups_path_number", LNX("'cgroupsPath':1"),
          "config.json: .linux.cgroupsPath: expected a string, got a number" },
        { "intel_rdt", LNX("'intelRdt':{'closID':'x'}"),
          "config.json: .linux.intelRdt: not supported by husk (no resctrl support)" },
        { "personality_domain", LNX("'personality':{'domain':'SVR4'}"),
          "config.json: .linux.personality.domain: unsupported personality \"SVR4\"" },
        { "personality_flags", LNX("'personality':{'domain':'LINUX','flags':['x']}"),
          "config.json: .linux.personality.flags: not supported by husk" },
        /* linux.resources */
        { "resources_array", LNX("'resources':[]"),
          "config.json: .linux.resources: expected an object, got an array" },
        { "res_device_access", RES("'devices':[{'allow':true,'access':'xy'}]"),
          "config.json: .linux.resources.devices[0].access: invalid access \"xy\" (expected a "
          "subset of \"rwm\")" },
        { "res_device_no_allow", RES("'devices':[{'access':'r'}]"),
          "config.json: .linux.resources.devices[0].allow: required, but missing" },
        { "res_device_type", RES("'devices':[{'allow':true,'type':'p'}]"),
          "config.json: .linux.resources.devices[0].type: unknown device type \"p\" (expected a, "
          "c or b)" },
        { "res_device_major", RES("'devices':[{'allow':true,'major':-2}]"),
          "config.json: .linux.resources.devices[0].major: -2 is out of range" },
        { "res_memory_string", RES("'memory':{'limit':'1G'}"),
          "config.json: .linux.resources.memory.limit: expected an integer, got a string" },
        { "res_memory_negative", RES("'memory':{'swap':-2}"),
          "config.json: .linux.resources.memory.swap: -2 is out of range "
          "(-1..9223372036854775807)" },
        { "res_memory_huge", RES("'memory':{'limit':9223372036854775808}"),
          "config.json: .linux.resources.memory.limit: 9223372036854775808 is out of range" },
        { "res_swappiness", RES("'memory':{'swappiness':101}"),
          "config.json: .linux.resources.memory.swappiness: 101 is out of range (0..100)" },
        { "res_oom_killer", RES("'memory':{'disableOOMKiller':1}"),
          "config.json: .linux.resources.memory.disableOOMKiller: expected a boolean, got a "
          "number" },
        { "res_cpu_shares", RES("'cpu':{'shares':-1}"),
          "config.json: .linux.resources.cpu.shares: -1 is out of range" },
        { "res_cpu_cpus", RES("'cpu':{'cpus':0}"),
          "config.json: .linux.resources.cpu.cpus: expected a string, got a number" },
        { "res_cpu_idle", RES("'cpu':{'idle':2}"),
          "config.json: .linux.resources.cpu.idle: 2 is out of range (0..1)" },
        { "res_pids_no_limit", RES("'pids':{}"),
          "config.json: .linux.resources.pids.limit: required, but missing" },
        { "res_blkio_weight", RES("'blockIO':{'weight':70000}"),
          "config.json: .linux.resources.blockIO.weight: 70000 is out of range (0..65535)" },
        { "res_blkio_throttle_rate",
          RES("'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0}]}"),
          "config.json: .linux.resources.blockIO.throttleReadBpsDevice[0].rate: required, but "
          "missing" },
        { "res_blkio_weight_device",
          RES("'blockIO':{'weightDevice':[{'major':8,'minor':0,'weight':-1}]}"),
          "config.json: .linux.resources.blockIO.weightDevice[0].weight: -1 is out of range" },
        { "res_hugepage_size", RES("'hugepageLimits':[{'pageSize':'2XB','limit':1}]"),
          "config.json: .linux.resources.hugepageLimits[0].pageSize: invalid page size \"2XB\"" },
        { "res_hugepage_no_limit", RES("'hugepageLimits':[{'pageSize':'2MB'}]"),
          "config.json: .linux.resources.hugepageLimits[0].limit: required, but missing" },
        { "res_unified_escape", RES("'unified':{'../../cgroup.procs':'1'}"),
          "config.json: .linux.resources.unified[\"../../cgroup.procs\"]: invalid cgroup file "
          "name" },
        { "res_unified_value", RES("'unified':{'memory.max':1}"),
          "config.json: .linux.resources.unified[\"memory.max\"]: expected a string, got a "
          "number" },
        { "res_network", RES("'network':{'classID':1048577}"),
          "config.json: .linux.resources.network: not supported by husk (no net_cls/net_prio "
          "support)" },
        { "res_rdma", RES("'rdma':{'mlx5_1':{'hcaHandles':3}}"),
          "config.json: .linux.resources.rdma: not supported by husk (no rdma cgroup support)" },
        /* linux.seccomp */
        { "seccomp_array", LNX("'seccomp':[]"),
          "config.json: .linux.seccomp: expected an object, got an array" },
        { "seccomp_no_default", LNX("'seccomp':{'syscalls':[]}"),
          "config.json: .linux.seccomp.defaultAction: required, but missing" },
        { "seccomp_default_unknown", LNX("'seccomp':{'defaultAction':'SCMP_ACT_FOO'}"),
          "config.json: .linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"" },
        { "seccomp_action_unknown",
          SEC(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW'},{'names':['write'],"
              "'action':'ALLOW'}]"),
          "config.json: .linux.seccomp.syscalls[1].action: unknown seccomp action \"ALLOW\"" },
        { "seccomp_op_unknown",
          SEC(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,"
              "'value':1,'op':'SCMP_CMP_FOO'}]}]"),
          "config.json: .linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "
          "\"SCMP_CMP_FOO\"" },
        { "seccomp_arg_index",
          SEC(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':6,"
              "'value':1,'op':'SCMP_CMP_EQ'}]}]"),
          "config.json: .linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0..5)" },
        { "seccomp_arg_no_value",
          SEC(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,"
              "'op':'SCMP_CMP_EQ'}]}]"),
          "config.json: .linux.seccomp.syscalls[0].args[0].value: required, but missing" },
        { "seccomp_flag_unknown",
          SEC(",'flags':['SECCOMP_FILTER_FLAG_TSYNC','SECCOMP_FILTER_FLAG_X']"),
          "config.json: .linux.seccomp.flags[1]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_X\"" },
        { "seccomp_arch_prefix", SEC(",'architectures':['x86_64']"),
          "config.json: .linux.seccomp.architectures[0]: unknown architecture \"x86_64\" "
          "(expected SCMP_ARCH_*)" },
        { "seccomp_names_empty", SEC(",'syscalls':[{'names':[],'action':'SCMP_ACT_ERRNO'}]"),
          "config.json: .linux.seccomp.syscalls[0].names: must contain at least one syscall "
          "name" },
        { "seccomp_names_missing", SEC(",'syscalls':[{'action':'SCMP_ACT_ERRNO'}]"),
          "config.json: .linux.seccomp.syscalls[0].names: must contain at least one syscall "
          "name" },
        { "seccomp_errno_ret_with_allow",
          SEC(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW','errnoRet':1}]"),
          "config.json: .linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
          "SCMP_ACT_TRACE" },
        { "seccomp_default_errno_ret_with_allow", SEC(",'defaultErrnoRet':1"),
          "config.json: .linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or "
          "SCMP_ACT_TRACE" },
        { "seccomp_notify_without_listener",
          SEC(",'syscalls':[{'names':['mount'],'action':'SCMP_ACT_NOTIFY'}]"),
          "config.json: .linux.seccomp.listenerPath: required when an action is "
          "SCMP_ACT_NOTIFY" },
        { "seccomp_syscalls_object", SEC(",'syscalls':{}"),
          "config.json: .linux.seccomp.syscalls: expected an array, got an object" },
        /* Which error comes first in an array of objects: most arrays check every element's
         * type before parsing any; rlimits, syscalls and args check each in turn. */
        { "order_mounts_types_first", CFG(",'mounts':[{'destination':''},5]"),
          "config.json: .mounts[1]: expected an object, got a number" },
        { "order_throttle_types_first",
          RES("'blockIO':{'throttleReadBpsDevice':[{'major':1},true]}"),
          "config.json: .linux.resources.blockIO.throttleReadBpsDevice[1]: expected an object, "
          "got a boolean" },
        { "order_rlimits_in_turn", PROC(",'rlimits':[{'type':'RLIMIT_BOGUS'},5]"),
          "config.json: .process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"" },
        { "order_syscalls_in_turn",
          SEC(",'syscalls':[{'names':[],'action':'SCMP_ACT_ALLOW'},5]"),
          "config.json: .linux.seccomp.syscalls[0].names: must contain at least one syscall name" },
        { "order_args_in_turn",
          SEC(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW','args':[{'index':9,"
              "'value':1,'op':'SCMP_CMP_EQ'},'x']}]"),
          "config.json: .linux.seccomp.syscalls[0].args[0].index: 9 is out of range (0..5)" },
};

/* runc spec's capabilities: ambient without inheritable. The config keeps what was written; the
 * caps module raises only what the kernel allows (runc and crun skip the rest), and the warning
 * names each skipped capability once, with one CAP_ prefix. */
static void test_ambient_skipped(void **state)
{
        (void)state;
        _cleanup_config_ husk_config *c = parse_ok(
                "{'ociVersion':'1.0.2','root':{'path':'r'},'process':{'args':['sh'],'cwd':'/',"
                "'capabilities':{'bounding':['CAP_KILL','CAP_CHOWN'],'permitted':['CAP_KILL',"
                "'CAP_CHOWN'],'inheritable':['CAP_CHOWN'],'ambient':['CAP_KILL','CAP_CHOWN']}}}");
        uint64_t skipped = 0;
        assert_int_equal(caps_ambient_effective(&c->process->capabilities, &skipped),
                         1ULL << CAP_CHOWN);
        assert_int_equal(skipped, 1ULL << CAP_KILL);
        _cleanup_free_ char *w = process_ambient_warning(c->process);
        assert_non_null(w);
        assert_non_null(strstr(w, "ambient: CAP_KILL not raised"));
        _cleanup_free_ char *names = caps_mask_names((1ULL << CAP_KILL) | (1ULL << CAP_SYS_ADMIN));
        assert_string_equal(names, "CAP_KILL, CAP_SYS_ADMIN");
        c->process->capabilities.inheritable |= 1ULL << CAP_KILL;
        _cleanup_free_ char *none = process_ambient_warning(c->process);
        assert_null(none);
}

/* Accepted because skipping or merging them grants nothing more (runc or crun run them): each one
 * leaves a warning, and the parsed values are what husk applies. */
/* Unknown capability names are skipped with a warning, as runc and crun run such a config
 * (runtime-tools' process_capabilities_fail): skipping only grants less. */
static void test_unknown_caps_warned(void **state)
{
        (void)state;
        _cleanup_config_ husk_config *c = parse_ok(
                "{'ociVersion':'1.2.0','root':{'path':'r'},'process':{'args':['sh'],'cwd':'/',"
                "'capabilities':{'bounding':['CAP_KILL','CAP_FOO'],'ambient':['cap_kill'],"
                "'permitted':['KILL','CAP_KILL']}}}");
        assert_true(c->process->capabilities.has_bounding);
        assert_int_equal(c->process->capabilities.bounding, UINT64_C(1) << 5);
        assert_int_equal(c->process->capabilities.permitted, UINT64_C(1) << 5);
        assert_int_equal(c->process->capabilities.ambient, 0);
        assert_int_equal(strv_length(c->warnings), 3);
        assert_string_equal(c->warnings[0], "config.json: .process.capabilities.bounding[1]: "
                                            "unknown capability \"CAP_FOO\" ignored");
        assert_string_equal(c->warnings[1], "config.json: .process.capabilities.permitted[0]: "
                                            "unknown capability \"KILL\" ignored");
        assert_string_equal(c->warnings[2], "config.json: .process.capabilities.ambient[0]: "
                                            "unknown capability \"cap_kill\" ignored");
}

static void test_accepted_with_warnings(void **state)
{
        (void)state;
        _cleanup_config_ husk_config *c = parse_ok(
                "{'ociVersion':'1.2.0','root':{'path':'r'},'process':{'args':['sh'],'cwd':'/',"
                "'commandLine':'cmd.exe','execCPUAffinity':{'initial':'0-1,3','final':''},"
                "'scheduler':{'policy':'SCHED_BATCH','nice':5,'flags':['SCHED_FLAG_RESET_ON_FORK']},"
                "'ioPriority':{'class':'IOPRIO_CLASS_IDLE','priority':7}},"
                "'linux':{'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'pid'}],"
                "'mountLabel':'system_u:object_r:container_file_t:s0',"
                "'resources':{'devices':[{'allow':false,'access':'rwm'},"
                "{'allow':true,'type':'c','major':1,'minor':11,'access':'xrm'}]}}}");
        assert_int_equal(c->linux_.n_namespaces, 2);
        assert_int_equal(c->linux_.namespaces[0].type, NS_PID);
        assert_int_equal(c->linux_.namespaces[1].type, NS_IPC);
        assert_string_equal(c->linux_.resources->devices[1].access, "rm");
        assert_true(c->process->has_scheduler);
        assert_int_equal(c->process->scheduler.policy, 3);
        assert_int_equal(c->process->scheduler.nice, 5);
        assert_int_equal(c->process->scheduler.flags, 1);
        assert_true(c->process->has_io_priority);
        assert_int_equal(c->process->io_priority.klass, 3);
        assert_int_equal(c->process->io_priority.priority, 7);
        assert_string_equal(c->linux_.mount_label, "system_u:object_r:container_file_t:s0");
        assert_non_null(c->warnings);
        assert_int_equal(strv_length(c->warnings), 3);
        assert_string_equal(c->warnings[0], "config.json: .process.commandLine: ignored (Windows only)");
        assert_string_equal(c->warnings[1], "config.json: .linux.namespaces[2].type: namespace "
                                            "\"pid\" listed twice: one is created");
        assert_string_equal(c->warnings[2], "config.json: .linux.resources.devices[1].access: "
                                            "letters other than r, w and m in \"xrm\" are ignored");
        /* execCPUAffinity is kept for exec (an empty list is absent) */
        assert_true(c->process->has_exec_cpu_affinity);
        assert_string_equal(c->process->cpu_affinity_initial, "0-1,3");
        assert_null(c->process->cpu_affinity_final);
        uint64_t set[CONFIG_CPUS_MAX / 64];
        assert_int_equal(config_parse_cpu_list("0-1,3,64", set), 0);
        assert_int_equal(set[0], 0xbu);
        assert_int_equal(set[1], 1u);
        assert_int_equal(config_parse_cpu_list("3-1", set), -EINVAL);
        assert_int_equal(config_parse_cpu_list("1,", set), 0);
        assert_int_equal(config_parse_cpu_list("x", set), -EINVAL);
        assert_int_equal(config_parse_cpu_list("1024", set), -EINVAL);
}

static void test_bad(void **state)
{
        const bad_case *bc = *state;
        _cleanup_free_ char *json = dq(bc->json);
        husk_error_t err = { 0 };
        husk_config *c = NULL;
        int r = config_parse(json, strlen(json), "config.json", &c, &err);
        if (r >= 0) {
                config_free(c);
                fail_msg("%s: parsed, but should fail with: %s", bc->name, bc->want);
        }
        assert_null(c);
        assert_int_equal(r, -EINVAL);
        assert_int_equal(err.code, EINVAL);
        if (!strstr(err.msg, bc->want))
                fail_msg("%s:\n  got:  %s\n  want: %s", bc->name, err.msg, bc->want);
}

int main(void)
{
        const struct CMUnitTest fixed[] = {
                cmocka_unit_test(test_full_process),
                cmocka_unit_test(test_full_root_mounts_hooks),
                cmocka_unit_test(test_full_linux),
                cmocka_unit_test(test_full_resources),
                cmocka_unit_test(test_full_seccomp),
                cmocka_unit_test(test_podman_shape),
                cmocka_unit_test(test_containerd_shape),
                cmocka_unit_test(test_minimal),
                cmocka_unit_test(test_nulls_and_unknowns),
                cmocka_unit_test(test_userns_join),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_spec_default),
                cmocka_unit_test(test_spec_rootless),
                cmocka_unit_test(test_process_file),
                cmocka_unit_test(test_resources_file),
                cmocka_unit_test(test_load_bundle),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_truncations_and_mutations),
                cmocka_unit_test(test_ambient_skipped),
                cmocka_unit_test(test_accepted_with_warnings),
                cmocka_unit_test(test_unknown_caps_warned),
        };
        size_t n_fixed = ARRAY_SIZE(fixed), n = n_fixed + ARRAY_SIZE(bad_cases);
        struct CMUnitTest *tests = xcalloc(n, sizeof(*tests));
        memcpy(tests, fixed, sizeof(fixed));
        for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
                struct CMUnitTest *t = &tests[n_fixed + i];
                t->name = bad_cases[i].name;
                t->test_func = test_bad;
                t->initial_state = (void *)&bad_cases[i];
        }
        int r = _cmocka_run_group_tests("config", tests, n, NULL, NULL);
        free(tests);
        return r;
}
