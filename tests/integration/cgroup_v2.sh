#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs tests/integration/cgroup.sh on a pure cgroup v2 kernel, in the QEMU guest of guest.sh.
set -u
. "${HUSK_SRCDIR:?}/tests/integration/guest.sh"
guest_run cgroup.sh "cgroup.sh covers it"
