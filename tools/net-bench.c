/* SPDX-License-Identifier: Apache-2.0 */
/* tools/net-bench STORE [N] [NETWORK]: the cost of each step of a container's network, measured
 * with the library's own calls (no container): netns creation (fork, unshare, lo up, bind
 * mount), CNI ADD of the network list, CNI DEL, netns removal. Prints the mean of N rounds in
 * milliseconds. Run as root (tools/bench-net runs it). */
#include "net/net.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static double ms(uint64_t a, uint64_t b)
{
        return (double)(b - a) / 1e6;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s STORE [N] [NETWORK]\n", argv[0]);
                return 2;
        }
        int n = 20;
        if (argc > 2 && (parse_int(argv[2], &n) < 0 || n < 1)) {
                fprintf(stderr, "net-bench: N must be a positive number\n");
                return 2;
        }
        const char *network = argc > 3 ? argv[3] : NET_DEFAULT_NAME;
        husk_image_opts_t io = { .store = argv[1] };
        husk_error_t err = { 0 };
        _cleanup_free_ char *store = NULL, *dir = NULL, *netns = NULL;
        net_conflist_t c = { 0 };
        if (net_store_path(&io, &store, &err) < 0 || net_network_load(store, network, &c, NULL, &err) < 0) {
                fprintf(stderr, "net-bench: %s\n", err.msg);
                return 1;
        }
        dir = xasprintf("%s/net-bench", store);
        netns = xasprintf("%s/netns", dir);
        if (mkdir_p(dir, 0700) < 0) {
                perror("net-bench: mkdir");
                return 1;
        }
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        double t_ns = 0, t_add = 0, t_del = 0, t_rm = 0;
        for (int i = 0; i < n; i++) {
                char id[32];
                snprintf(id, sizeof(id), "net-bench-%d", i);
                _cleanup_free_ char *result = NULL;
                uint64_t t0 = now_ns();
                if (net_netns_create(dfd, "netns", netns, &err) < 0)
                        goto fail;
                uint64_t t1 = now_ns();
                if (net_cni_add(&c, id, netns, NET_IFNAME, NULL, 0, &result, &err) < 0)
                        goto fail;
                uint64_t t2 = now_ns();
                if (net_cni_del(&c, id, netns, NET_IFNAME, result, NULL, 0, &err) < 0)
                        goto fail;
                uint64_t t3 = now_ns();
                if (net_netns_remove(dfd, "netns", netns, &err) < 0)
                        goto fail;
                uint64_t t4 = now_ns();
                t_ns += ms(t0, t1);
                t_add += ms(t1, t2);
                t_del += ms(t2, t3);
                t_rm += ms(t3, t4);
        }
        printf("network %s, %d rounds, mean ms: netns create %.2f, CNI ADD %.2f, CNI DEL %.2f, "
               "netns remove %.2f, total %.2f\n", network, n, t_ns / n, t_add / n, t_del / n,
               t_rm / n, (t_ns + t_add + t_del + t_rm) / n);
        net_conflist_done(&c);
        rmdir(dir);
        return 0;
fail:
        fprintf(stderr, "net-bench: %s\n", err.msg);
        (void)net_netns_remove(dfd, "netns", netns, &err);
        net_conflist_done(&c);
        return 1;
}
