#!/bin/sh
# The C unit test of units: see unit-units.c.
exec "$(dirname "$0")/unit-units"
