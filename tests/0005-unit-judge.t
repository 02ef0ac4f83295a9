#!/bin/sh
# The C unit test of the verdict: see unit-judge.c.
exec "$(dirname "$0")/unit-judge"
