#!/bin/sh
# The C unit test of text: see unit-text.c.
exec "$(dirname "$0")/unit-text"
