#!/bin/sh
# The manual as mandoc renders it: nothing for -Tlint to say, and no
# quotation inside another, which a quoting macro inside a parenthesis
# macro on one line makes: .Pq Ql inc or Ql dec renders (‘inc or ‘dec’’).
. "$(dirname "$0")/lib.sh"

page=$top/man/proccount.1

if ! command -v mandoc >/dev/null; then
	skip "no mandoc to render the manual"
	skip "no mandoc to render the manual"
	skip "no mandoc to render the manual"
	done_testing
	exit
fi

# Every level, style included, but for what an Xr finds among this
# machine's installed pages and their mandoc.db: that is the machine's.
mandoc -Tlint "$page" >lint 2>&1
is "$(grep -v -e 'outdated mandoc\.db lacks' -e 'referenced manual not found' lint)" \
    "" "mandoc -Tlint has nothing to say"

# The quotes, opening and closing, in the order they come, each marked
# where it is, must alternate: an opening one before a closing one.
nested() {
	python3 -c 'import sys
text = sys.stdin.read()
for opening, closing in (("\u2018", "\u2019"), ("\u201c", "\u201d")):
    depth = 0
    for at, c in enumerate(text):
        if c in (opening, closing):
            depth += 1 if c == opening else -1
            if depth not in (0, 1):
                print(" ".join(text[max(0, at - 40):at + 20].split()))
                break'
}

# Without the overstrikes that make bold and underlined characters.
mandoc -Tutf8 "$page" | python3 -c 'import re, sys
sys.stdout.write(re.sub(".\b", "", sys.stdin.read()))' >page.txt
grep -q "WHEN A HOLDER DIES" page.txt
ok $? "the manual renders"
is "$(nested <page.txt)" "" "no quotation inside another"

done_testing
