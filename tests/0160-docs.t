#!/bin/sh
# Every example in README.md and man/proccount.1 shows what today's program
# prints.  Each "$ " command of a README code block or a manual .Bd -literal
# display runs in a scratch directory, and what it prints must have the
# shape of the lines shown after it: as many lines, the same words, every
# number and duration a wildcard; a "..." line stands for any number of
# lines; JSON must have the same keys.  The verdict of a run whose workers
# nothing keeps apart (the program says so with --json) may be either.
# A display marked commands only, before it, shows no output: its commands
# must be accepted.  Commands that cannot run here are skipped, each with
# its reason.  The manual's quotes of a report (a .Ql of six words or more,
# a display of output with no command) must be sentences the program's
# format strings make.  tests/docs-examples.py has the details, and with
# --print shows each documented output beside the printed one, to copy.
. "$(dirname "$0")/lib.sh"

TMPDIR=$scratch python3 "$top/tests/docs-examples.py" --tap \
    --proccount "$PROCCOUNT" "$top/README.md" "$top/man/proccount.1"
