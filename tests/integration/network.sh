#!/bin/sh
# CNI networks of `husk run` (issue 7): husk network ls|create|rm|inspect, --network
# none|host|bridge|NAME, -p through portmap (host loopback, bridge address, another container),
# two containers by the address in network.json, generated /etc/hosts|hostname|resolv.conf,
# 20 concurrent containers, and that delete/--rm/kill -9 of husk leave no veth, lease, iptables
# rule or netns mount; a port conflict fails before the start and leaves nothing.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq curl iptables-save ip sha512sum
A=${HUSK_ARCHIVES:-$HUSK_BUILDDIR/images/out/archives}
[ -f "$A/busybox-oci.tar" ] || skip_all "missing $A (images/oci.sh)"
[ -x /usr/lib/cni/bridge ] || [ -n "${HUSK_CNI_PATH:-}" ] || skip_all "needs the CNI plugins (containernetworking-plugins)"
S="$T/store"
r() { hk run --store "$S" "$@"; }
n() { hk network --store "$S" "$@"; }
NET=net-test BR=husknt0 SUB=10.99.100.0/24 GW=10.99.100.1
IPAM=/run/husk-ipam/$NET
r --network none "$A/busybox-oci.tar" true >/dev/null 2>&1 # load the image once
# The iptables rules without counters, before anything of this test ran.
ipt() { iptables-save | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//'; }
ipt > "$T/ipt.before"
# Rules that name one of these containers: its id (comments), its address or its chains
# (CNI-<sha512(network+id)> of bridge's ipMasq and CNI-DN-<...> of portmap).
rules_of() { # rules_of NETWORK ID IP...
        _net=$1 _id=$2; shift 2
        _h=$(printf '%s%s' "$_net" "$_id" | sha512sum | cut -c1-16)
        ipt > "$T/ipt.now"
        _pat="\"$_id\"|$_h"
        for _ip in "$@"; do _pat="$_pat|${_ip%/*}/32"; done
        diff "$T/ipt.before" "$T/ipt.now" | grep '^>' | grep -E -- "$_pat"
}
leases_of() { for _ip in "$@"; do [ -e "$IPAM/${_ip%/*}" ] && echo "${_ip%/*}"; done; }
ns_mounts() { awk -v s="$S" 'index($5, s) == 1 && $5 ~ /\/netns$/' /proc/self/mountinfo; }
veths_on() { ip -o link show master "$1" 2>/dev/null; }
state_of() { jq -r "$2" "$S/containers/$1/network.json"; }
# At exit, after lib.sh's cleanup of the containers: the test network and its bridge go too.
_net_cleanup() {
        for d in "$HUSK_TEST_ROOT"/*/; do [ -d "$d" ] && hk delete --force "$(basename "$d")" >/dev/null 2>&1; done
        hk network --store "$S" rm -f "$NET" >/dev/null 2>&1
        _cleanup
}
trap _net_cleanup EXIT

# ---- husk network ----
out=$(n ls); like "$out" "^NAME +BRIDGE +SUBNET +GATEWAY" "network ls: a table"
like "$out" "husk +husk0 +10\.89\.0\.0/16 +10\.89\.0\.1" "the default network husk is written on first use"
out=$(n create --subnet "$SUB" --bridge "$BR" "$NET"); is "$?:$out" "0:$NET" "network create NAME --subnet --bridge"
is "$(n ls --format json | jq -r '[.[].name] | join(" ")')" "husk $NET" "network ls --format json"
is "$(n inspect "$NET" | jq -r '[.name, .plugins[0].bridge, .plugins[0].ipam.ranges[0][0].subnet, .plugins[0].ipam.ranges[0][0].gateway, ([.plugins[].type] | join(","))] | join(" ")')" \
        "$NET $BR $SUB $GW bridge,portmap,firewall,tuning" "network inspect: the conflist (bridge, portmap, firewall, tuning)"
[ -f "$S/networks/$NET.conflist" ]; ok $? "stored as STORE/networks/NAME.conflist"
out=$(n create --subnet 10.99.100.128/25 net-ov 2>&1); is "$?" 1 "a subnet overlapping another network is refused"
like "$out" "overlaps network \"$NET\"" "with a clear error"
out=$(n create --subnet 10.89.7.0/24 net-ov 2>&1); like "$?:$out" "^1:.*overlaps network \"husk\"" "and one inside the default network's"
out=$(n create --subnet 10.99.101.0/24 --gateway 10.99.102.1 net-gw 2>&1); like "$?:$out" "^1:.*invalid --gateway" "a gateway outside the subnet is refused"
out=$(n create --subnet 10.99.101.5/24 net-hb 2>&1); like "$?:$out" "^1:.*did you mean 10\.99\.101\.0/24" "a subnet with host bits is refused"
out=$(n create 'net/bad' 2>&1); like "$?:$out" "^1:.*invalid network name" "a bad name is refused"
out=$(n create host 2>&1); like "$?:$out" "^1:.*invalid network name" "and a reserved one"
out=$(n create --subnet 10.99.102.0/24 "$NET" 2>&1); like "$?:$out" "^1:.*already exists" "and a taken one"
out=$(n rm husk 2>&1); like "$?:$out" "^1:.*cannot be removed" "the default network cannot be removed"
out=$(n create net-auto); is "$?:$out" "0:net-auto" "create with default subnet and bridge"
like "$(n inspect net-auto | jq -r '.plugins[0].bridge + " " + .plugins[0].ipam.ranges[0][0].subnet')" "^husk[0-9]+ 10\.9[0-9]\.[0-9]+\.0/24$" "picks a free huskN and 10.9x.N.0/24"
out=$(n rm net-auto); is "$?:$out" "0:net-auto" "network rm"
n inspect net-auto >/dev/null 2>&1; is $? 1 "and it is gone"

# ---- none, host, bridge: interfaces and /etc files ----
out=$(r --network none busybox sh -c 'ls /sys/class/net | tr "\n" " "; ip -o link show lo'); like "$out" "^lo .*<LOOPBACK,UP" "--network none: only lo, and it is up"
out=$(r --network none busybox sh -c 'nc -l -p 7777 -e echo lo-ok & sleep 0.3; nc 127.0.0.1 7777'); is "$out" "lo-ok" "127.0.0.1 works inside"
mac=$(cat /sys/class/net/eth0/address 2>/dev/null || ip -o link | awk '$2 != "lo:" { print $(NF-2); exit }')
out=$(r --network host busybox cat /sys/class/net/eth0/address); is "$out" "$mac" "--network host: the host's interfaces (same eth0)"
out=$(r --network host busybox sh -c 'ls /sys/class/net | wc -l'); is "$out" "$(ls /sys/class/net | wc -l)" "and all of them"
out=$(r --name net-etc1 --network "$NET" busybox sh -c 'cat /etc/hostname; grep -c "^10\.99\.100\.[0-9]*	net-etc1$" /etc/hosts; grep -c "^127.0.0.1	localhost" /etc/hosts; grep -c "^nameserver 127\." /etc/resolv.conf; grep -c "^nameserver" /etc/resolv.conf')
is "$(echo $out)" "net-etc1 1 1 0 1" "/etc/hostname, /etc/hosts (own name and address), resolv.conf without 127.x"
echo '10.1.2.3 mine' > "$T/myhosts"
out=$(r --network "$NET" -v "$T/myhosts:/etc/hosts:ro" busybox cat /etc/hosts); is "$out" "10.1.2.3 mine" "a user's -v /etc/hosts wins"
out=$(r --network host busybox cat /etc/resolv.conf); is "$out" "$(cat /etc/resolv.conf)" "--network host: the host's resolv.conf"
out=$(r busybox sh -c 'ip -o -4 addr show eth0 | awk "{print \$4}"; ip route | grep default'); like "$(echo $out)" "^10\.89\.[0-9]+\.[0-9]+/16 default via 10\.89\.0\.1" "the default is the bridge network husk (10.89.0.0/16)"
out=$(r --network bridge busybox cat /etc/hostname); isnt "$out" "" "--network bridge is the default network"
out=$(r --network net-nope busybox true 2>&1); like "$?:$out" "^125:.*network \"net-nope\" not found" "an unknown network: 125 and a clear error"
out=$(r --network none -p 8080:80 busybox true 2>&1); like "$?:$out" "^125:.*--publish needs a bridge network" "-p with --network none is refused"
out=$(r --network "$NET" -p 80 busybox true 2>&1); like "$?:$out" "^125:.*invalid --publish" "a malformed -p is refused"

# ---- a published web server ----
mkdir -p "$T/www"; echo hello-net > "$T/www/index.html"
out=$(r -d --name net-web1 --network "$NET" -p 18080:80 -v "$T/www:/www:ro" busybox httpd -f -p 80 -h /www)
is "$?:$out" "0:net-web1" "httpd published with -p 18080:80"
ip1=$(state_of net-web1 '.ips[0]')
like "$ip1" "^10\.99\.100\.[0-9]+/24$" "network.json: its address in the network's subnet"
is "$(state_of net-web1 '[.network, .interface, .gateway, (.netns | endswith("/containers/net-web1/netns")), (.mac | test("^([0-9a-f]{2}:){5}[0-9a-f]{2}$"))] | join(" ")')" \
        "$NET eth0 $GW true true" "network.json: network, interface, gateway, netns, mac"
is "$(state_of net-web1 '.ports | map("\(.hostIP)|\(.hostPort)|\(.containerPort)|\(.protocol)") | join(",")')" "|18080|80|tcp" "network.json: the ports"
is "$(jq -r '.linux.namespaces[] | select(.type == "network") | .path' "$S/containers/net-web1/config.json")" "$S/containers/net-web1/netns" "config.json joins the netns husk made"
got=""
for i in $(seq 1 50); do got=$(curl -s -m 2 http://127.0.0.1:18080/index.html) && [ -n "$got" ] && break; sleep 0.1; done
is "$got" "hello-net" "reachable from the host on 127.0.0.1"
is "$(curl -s -m 3 http://$GW:18080/index.html)" "hello-net" "reachable from the host on the bridge address"
is "$(curl -s -m 3 http://${ip1%/*}:80/index.html)" "hello-net" "the container's own address from the host"
out=$(r --name net-cli1 --network "$NET" busybox sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 $GW 18080 | tail -n 1")
is "$out" "hello-net" "reachable from another container through the published port"
out=$(r --network "$NET" busybox sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 ${ip1%/*} 80 | tail -n 1")
is "$out" "hello-net" "two containers reach each other by the address in network.json"
# The address people look up: husk inspect's NetworkSettings, both ways between two services.
insp_ip() { hk inspect --store "$S" "$1" | jq -r '.[0].NetworkSettings.IPAddress'; }
r -d --name net-web2 --network "$NET" busybox sh -c 'while true; do nc -l -p 7070 -e echo from-web2; done' >/dev/null
ipi1=$(insp_ip net-web1) ipi2=$(insp_ip net-web2)
is "$ipi1" "${ip1%/*}" "husk inspect: IPAddress is the address in network.json"
like "$ipi2" "^10\.99\.100\.[0-9]+$" "husk inspect: the second service's address"
out=$(r --name net-cli2 --network "$NET" busybox sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 $ipi1 80 | tail -n 1; for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 3 $ipi2 7070 && break; sleep 0.2; done")
is "$out" "hello-net
from-web2" "a container reaches both services by the addresses husk inspect gives"
got=""
for i in $(seq 1 30); do got=$(hk exec net-web1 sh -c "nc -w 2 $ipi2 7070" 2>/dev/null) && [ -n "$got" ] && break; sleep 0.1; done
is "$got" "from-web2" "and one service reaches the other by it"
hk rm -f --store "$S" net-web2 >/dev/null 2>&1
out=$(r busybox sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 10.89.0.1 18080 | tail -n 1")
is "$out" "hello-net" "and from a container on the default network"

# ---- a host address, udp ----
r -d --name net-udp1 --network "$NET" -p 127.0.0.1:18087:80 -p 18086:5353/udp -v "$T/www:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null
ipu=$(state_of net-udp1 '.ips[0]')
got=""
for i in $(seq 1 50); do got=$(curl -s -m 2 http://127.0.0.1:18087/index.html) && [ -n "$got" ] && break; sleep 0.1; done
is "$got" "hello-net" "-p 127.0.0.1:18087:80: reachable on 127.0.0.1"
curl -s -m 2 "http://$GW:18087/index.html" >/dev/null; isnt $? 0 "and only there (not on the bridge address)"
like "$(iptables-save -t nat | grep -- '--dport 18086 ')" "-p udp .*-j DNAT --to-destination ${ipu%/*}:5353" "-p 18086:5353/udp: a udp DNAT rule to the container"
out=$(r --network "$NET" -p 18086:80 busybox true 2>&1); is "$?:$out" "0:" "tcp 18086 is free while udp 18086 is published"
hk delete -f net-udp1
is "$(rules_of "$NET" net-udp1 "$ipu")$(leases_of "$ipu")" "" "delete -f removes its rules and lease"

# ---- port conflicts: an error before the start, nothing left ----
out=$(r --name net-web2 --network "$NET" -p 18080:80 busybox true 2>&1)
like "$?:$out" "^125:.*port 18080/tcp is already published by container net-web1" "a port another container publishes: 125, clear error"
r -d --name net-hostl --network host busybox nc -l -p 18081 >/dev/null
for i in $(seq 1 30); do grep -qi ":46A1 .* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null && break; sleep 0.1; done
out=$(r --name net-web3 --network "$NET" -p 18081:80 busybox true 2>&1)
like "$?:$out" "^125:.*port 18081/tcp is already in use on the host" "a port a host process listens on: 125, clear error"
hk delete -f net-hostl
[ ! -e "$S/containers/net-web2" ] && [ ! -e "$S/containers/net-web3" ] && [ -z "$(hk list 2>/dev/null | grep -E 'net-web[23]')" ]
ok $? "and nothing of those containers is left"

# ---- 20 concurrent containers ----
for i in $(seq 1 20); do r -d --name "net-c$i" --network "$NET" busybox sleep 120 >/dev/null & done
wait
ips=$(for i in $(seq 1 20); do state_of "net-c$i" '.ips[0]' 2>/dev/null; done)
is "$(echo "$ips" | grep -c '^10\.99\.100\.')" 20 "20 concurrent containers all got an address"
is "$(echo "$ips" | sort -u | grep -c .)" 20 "and the addresses are distinct"
is "$(veths_on "$BR" | wc -l)" 21 "21 veths on the bridge (20 + the web server)"
for i in $(seq 1 20); do hk delete -f "net-c$i" & done
wait
hk delete -f net-web1
is "$(veths_on "$BR" | wc -l)" 0 "after delete -f: no veth is left"
is "$(leases_of $ips $ip1 | wc -l)" 0 "no lease file is left"
left=""; for i in $(seq 1 20); do left="$left$(rules_of "$NET" "net-c$i" $(echo "$ips" | sed -n "${i}p"))"; done
left="$left$(rules_of "$NET" net-web1 "$ip1")"
is "$left" "" "no iptables rule of theirs is left (iptables-save before/after)"
is "$(ns_mounts)" "" "no netns mount is left"
is "$(ls "$S/containers")" "" "no container folder is left"

# ---- --rm in the foreground, and kill -9 of husk ----
ipr=$(r --name net-rm1 --network "$NET" -p 18083:80 busybox sh -c 'ip -o -4 addr show eth0 | awk "{print \$4}"')
like "$ipr" "^10\.99\.100\." "a foreground run (removed at exit)"
is "$(leases_of "$ipr")$(rules_of "$NET" net-rm1 "$ipr")$(ns_mounts)" "" "leaves no lease, rule or netns mount"
r --name net-k1 --network "$NET" -p 18082:80 busybox sleep 120 >/dev/null 2>&1 &
hpid=$!
for i in $(seq 1 50); do [ "$(hk state net-k1 2>/dev/null | jq -r .status)" = running ] && break; sleep 0.1; done
ipk=$(state_of net-k1 '.ips[0]')
kill -9 "$hpid"; wait "$hpid" 2>/dev/null
[ -n "$(leases_of "$ipk")" ] && [ -n "$(rules_of "$NET" net-k1 "$ipk")" ]; ok $? "husk killed with -9: the lease and rules are still there"
hk delete --force net-k1; ok $? "delete --force of the orphaned container"
is "$(leases_of "$ipk")$(rules_of "$NET" net-k1 "$ipk")$(ns_mounts)$(veths_on "$BR")" "" "cleans up: no lease, rule, netns mount or veth"
[ ! -e "$S/containers/net-k1" ]; ok $? "and its folder is gone"

# ---- a user's conflist whose second plugin fails or hangs: ADD is undone, nothing left ----
mkdir -p "$T/cni"
for p in /usr/lib/cni/*; do ln -s "$p" "$T/cni/"; done
cat > "$T/cni/husk-test-fail" <<'EOF2'
#!/bin/sh
cat > /dev/null
[ "$CNI_COMMAND" = DEL ] && exit 0
echo '{"cniVersion":"1.0.0","code":100,"msg":"test failure","details":"by design"}'
exit 1
EOF2
cat > "$T/cni/husk-test-hang" <<'EOF2'
#!/bin/sh
cat > /dev/null
[ "$CNI_COMMAND" = DEL ] && exit 0
exec sleep 30
EOF2
chmod +x "$T/cni/husk-test-fail" "$T/cni/husk-test-hang"
for kind in fail hang; do
        cat > "$S/networks/net-$kind.conflist" <<EOF2
{ "cniVersion": "1.0.0", "name": "net-$kind", "plugins": [
  { "type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": true,
    "ipam": { "type": "host-local", "dataDir": "/run/husk-ipam",
              "ranges": [[ { "subnet": "$SUB", "gateway": "$GW" } ]] } },
  { "type": "husk-test-$kind" } ] }
EOF2
done
like "$(n ls)" "net-fail +$BR +10\.99\.100\.0/24" "a conflist dropped into STORE/networks is listed"
out=$(HUSK_CNI_PATH="$T/cni" r --name net-f1 --network net-fail busybox true 2>&1)
like "$?:$out" "^125:.*CNI plugin husk-test-fail ADD: test failure \(by design\)" "a failing plugin: 125 and its error"
is "$(veths_on "$BR")$(ls /run/husk-ipam/net-fail 2>/dev/null | grep -v -e lock -e last_reserved)$(ns_mounts)" "" "the ADD of the plugins before it is undone (no veth, lease, netns)"
[ ! -e "$S/containers/net-f1" ]; ok $? "and no container folder is left"
t0=$(date +%s)
out=$(HUSK_CNI_TIMEOUT=1 HUSK_CNI_PATH="$T/cni" r --name net-h1 --network net-hang busybox true 2>&1)
like "$?:$out" "^125:.*CNI plugin husk-test-hang ADD: no answer after 1 s" "a hanging plugin is killed after HUSK_CNI_TIMEOUT"
[ $(( $(date +%s) - t0 )) -lt 15 ]; ok $? "husk does not wait for it"
is "$(veths_on "$BR")$(ls /run/husk-ipam/net-hang 2>/dev/null | grep -v -e lock -e last_reserved)$(ns_mounts)" "" "and undoes the ADD"
rm -f "$S/networks/net-fail.conflist" "$S/networks/net-hang.conflist"
rm -rf /run/husk-ipam/net-fail /run/husk-ipam/net-hang

# ---- network rm while in use ----
r -d --name net-u1 --network "$NET" busybox sleep 60 >/dev/null
out=$(n rm "$NET" 2>&1); like "$?:$out" "^1:.*used by container net-u1" "network rm refuses a network in use"
out=$(n rm -f "$NET"); is "$?:$out" "0:$NET" "rm -f removes it anyway"
hk delete -f net-u1; ok $? "the container's teardown works from its own copy of the conflist"
is "$(veths_on "$BR")$(ls "$IPAM" 2>/dev/null | grep -v -e lock -e last_reserved)" "" "and releases its veth and lease"
n create --subnet "$SUB" --bridge "$BR" "$NET" >/dev/null && n rm "$NET" >/dev/null
ip link show "$BR" >/dev/null 2>&1; is $? 1 "network rm of an unused network deletes its bridge"
[ ! -e "$IPAM" ]; ok $? "and its leases folder"
done_testing
