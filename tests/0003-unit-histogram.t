#!/bin/sh
# The C unit test of histogram: see unit-histogram.c.
exec "$(dirname "$0")/unit-histogram"
