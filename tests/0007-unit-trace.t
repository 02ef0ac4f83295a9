#!/bin/sh
# The C unit test of the trace's exact count of lost updates: see unit-trace.c.
exec "$(dirname "$0")/unit-trace"
