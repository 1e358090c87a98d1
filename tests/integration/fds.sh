#!/bin/sh
. "$HUSK_SRCDIR/tests/integration/lib.sh"
require_root
done_testing
