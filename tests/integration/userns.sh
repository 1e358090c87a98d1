#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A new user namespace: the host side writes the id maps while the child waits.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

b=$(new_bundle)
cfg "$b" '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
out=$(run_in "$b" u1 /bin/sh -c 'tr -s " " < /proc/self/uid_map; tr -s " " < /proc/self/gid_map; id -u; id -g; echo $$' 2>&1)
is "$out" " 0 100000 65536
 0 200000 65536
0
0
1" "uid_map/gid_map written, root inside, pid 1"

cfg "$b" '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5]}'
out=$(run_in "$b" u2 /bin/sh -c 'grep -E "^(Uid|Gid|Groups)" /proc/self/status | tr -s "\t" " "' 2>&1)
is "$out" "Uid: 1000 1000 1000 1000
Gid: 1000 1000 1000 1000
Groups: 5 " "user and additionalGids inside the user namespace"

# On the host the container process runs as the mapped ids.
cfg "$b" '.process.user = {"uid": 0, "gid": 0} | .process.args = ["/bin/sleep", "30"]'
hk create -b "$b" --pid-file "$T/u3.pid" u3
ok $? "create in a user namespace"
hk start u3
pid=$(cat "$T/u3.pid")
hostuid=$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)
is "$hostuid" 100000 "the container's root is uid 100000 on the host"

# A second container joins u3's user and network namespaces by path and creates its own mount,
# pid, ipc and uts namespaces inside that user namespace (setns first, then unshare, then fork).
b2=$(new_bundle)
cfg "$b2" --arg u "/proc/$pid/ns/user" --arg n "/proc/$pid/ns/net" \
        '.linux.namespaces = [{"type": "user", "path": $u}, {"type": "network", "path": $n},
                              {"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]'
out=$(run_in "$b2" u5 /bin/sh -c 'tr -s " " < /proc/self/uid_map; readlink /proc/self/ns/net; readlink /proc/self/ns/user; echo $$' 2>&1)
is "$out" " 0 100000 65536
$(readlink /proc/$pid/ns/net)
$(readlink /proc/$pid/ns/user)
1" "joined user and network namespaces by path, new pid namespace inside"
hk delete --force u3

# A missing mapping is a clear error.
cfg "$b" 'del(.linux.uidMappings)'
err=$(hk create -b "$b" u4 2>&1)
isnt $? 0 "user namespace without uidMappings fails"
like "$err" "uidMappings" "error names uidMappings"
done_testing
