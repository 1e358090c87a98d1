#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runtime, rootfs and config behaviour that runc and crun share (issue 16): bundles they run, husk
# runs too, with the same effect seen from inside the container (and, for propagation, from the
# host). Each block names the difference it guards against.
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
require_cmd jq

# ---- runc spec's capabilities: ambient CAP_KILL... without an inheritable set. runc and crun skip
# an ambient capability that is not also permitted and inheritable (CapAmb 0); husk failed with
# "raise ambient CAP_CAP_KILL".
b=$(new_bundle)
cfg "$b" '.process.capabilities.ambient = .process.capabilities.bounding'
cfg "$b" '.process.args = ["/bin/sh", "-c", "grep -E \"^Cap(Inh|Amb)\" /proc/self/status | tr -s \"\\t\" \" \""]'
out=$(hk --log "$T/amb.log" run -b "$b" a1 2>&1)
is "$out" "CapInh: 0000000000000000
CapAmb: 0000000000000000" "ambient caps outside inheritable are skipped (runc spec's bundle runs)"
like "$(cat "$T/amb.log" 2>/dev/null)" 'warning.*ambient: CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE not raised' \
        "the skipped ambient caps are named in a --log warning"
unlike "$out $(cat "$T/amb.log" 2>/dev/null)" 'CAP_CAP_' "capability names carry one CAP_ prefix"

done_testing
