#!/bin/sh
# A path is bytes, JSON text is Unicode: --json writes any path so that a
# JSON parser reads it back, and Python's surrogateescape turns it into the
# very bytes again.  Control characters are escaped, well-formed UTF-8
# passes through, and each byte of anything else becomes \udcXX.
. "$(dirname "$0")/lib.sh"

# roundtrip NAME PRINTF-B-TEXT: a run on the file of that name, then its
# JSON parsed strictly (UTF-8, no raw control characters) and compared.
roundtrip() {
	what=$1
	path=$(printf '%b' "$2")
	hex=$(printf '%s' "$path" | od -An -v -tx1 | tr -d ' \n')
	pc -b file -l flock -f "$path" -i 1 -d 0 -n 3 -s 4 --json
	is "$rc" 0 "$what: exit 0"
	is "$(python3 -c 'import json, sys
want = bytes.fromhex(sys.argv[1])
try:
    d = json.loads(open("out", "rb").read().decode("utf-8"))
except ValueError as e:
    sys.exit("# not strict UTF-8 JSON: %s" % e)
print(d["path"].encode("utf-8", "surrogateescape") == want,
      d["path"] == want.decode("utf-8", "surrogateescape"), d["final"])' "$hex")" \
	    "True True 7" "$what: the path comes back byte for byte"
	is "$(file_value "$path")" 7 "$what: the file of that name holds the count"
}

roundtrip "a tab" 'tab\there'
roundtrip "a newline" 'new\nline'
roundtrip "every control character, and DEL" \
    'c\01\02\03\04\05\06\07\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037\0177.'
roundtrip "quotes and backslashes" 'q"uote\\back\\\\slash"'
roundtrip "bytes that are not UTF-8" '\0377\0376'
roundtrip "well-formed UTF-8" 'caf\0303\0251 \0342\0202\0254 \0360\0237\0230\0200'
roundtrip "a sequence cut short" 'cut\0342\0202x'
roundtrip "a sequence cut short by the end" 'end\0360\0237\0230'
roundtrip "overlong forms" 'over\0300\0257long\0340\0200\0257'
roundtrip "an encoded surrogate" 'sur\0355\0240\0200'
roundtrip "past U+10FFFF" 'big\0364\0220\0200\0200'
roundtrip "lone continuation bytes" 'lone\0200\0277'
roundtrip "a five-byte form" 'five\0370\0210\0200\0200\0200'

# Well-formed UTF-8 is written as it is, not escaped.
pc -b file -f "$(printf '%b' 'caf\0303\0251')" -n 1 --json
grep -q "\"path\":\"$(printf '%b' 'caf\0303\0251')\"" out
ok $? "UTF-8 is written as UTF-8"
pc -b file -f "$(printf '%b' 'x\0377')" -n 1 --json
grep -q '"path":"x\\udcff"' out
ok $? "a stray byte is written as \\udcXX"

done_testing
