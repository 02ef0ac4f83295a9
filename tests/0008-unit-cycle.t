#!/bin/sh
# The C unit test of --counters=2's cycle finder: see unit-cycle.c.
exec "$(dirname "$0")/unit-cycle"
