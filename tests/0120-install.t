#!/bin/sh
# make install and uninstall, under DESTDIR and PREFIX, and the installed
# manual as man(1) and mandoc read it.
. "$(dirname "$0")/lib.sh"

dest=$scratch/dest
make -s -C "$top" install DESTDIR="$dest" PREFIX=/opt/pc >make.out 2>&1
is "$?" 0 "make install exits 0"
is "$(stat -c %a "$dest/opt/pc/bin/proccount" 2>/dev/null)" 755 "the binary, mode 755"
is "$(stat -c %a "$dest/opt/pc/share/man/man1/proccount.1" 2>/dev/null)" 644 \
    "the manual, mode 644"
"$dest/opt/pc/bin/proccount" --version >out
is "$?:$(cut -d' ' -f1 out)" "0:proccount" "the installed binary runs"
if command -v mandoc >/dev/null; then
	is "$(mandoc -Tlint -W warning "$dest/opt/pc/share/man/man1/proccount.1" 2>&1)" "" \
	    "the manual lints clean"
	mandoc -Tmarkdown "$dest/opt/pc/share/man/man1/proccount.1" >man.txt
	grep -q "WHEN A HOLDER DIES" man.txt
	ok $? "the manual renders, with its sections"
else
	skip "no mandoc"
	skip "no mandoc"
fi
make -s -C "$top" uninstall DESTDIR="$dest" PREFIX=/opt/pc >make.out 2>&1
is "$?" 0 "make uninstall exits 0"
is "$(find "$dest" -type f | wc -l | tr -d ' ')" 0 "and removes both files"

done_testing
