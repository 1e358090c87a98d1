#!/bin/sh
. "$HUSK_SRCDIR/tests/integration/lib.sh"
skip_all "not written yet"
