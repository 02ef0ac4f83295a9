#!/bin/sh
# The C unit test of locks: see unit-locks.c.
exec "$(dirname "$0")/unit-locks"
