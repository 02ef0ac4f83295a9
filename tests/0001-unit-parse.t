#!/bin/sh
# The C unit test of parse: see unit-parse.c.
exec "$(dirname "$0")/unit-parse"
