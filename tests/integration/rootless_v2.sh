#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs tests/integration/rootless_cg.sh on a pure cgroup v2 kernel, in the QEMU guest of
# guest.sh.
set -u
. "${HUSK_SRCDIR:?}/tests/integration/guest.sh"
guest_run rootless_cg.sh "rootless_cg.sh runs directly"
