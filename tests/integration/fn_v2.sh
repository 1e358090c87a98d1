#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs tests/integration/fn.sh (husk fn) on a pure cgroup v2 kernel (freezer, memory.peak,
# oom_kill from memory.events), in the QEMU guest of guest.sh, with the slack TCG needs.
set -u
. "${HUSK_SRCDIR:?}/tests/integration/guest.sh"
guest_run fn.sh "fn.sh covers it" \
        "HUSK_FN_TEST_INIT_S=8 HUSK_FN_TEST_TOL_MS=8000"
