"""Plants one mutant in a copy of the tree: apply.py MUTANT ROOT.

A mutant file says what the defect is in '#' lines, then names a file
with 'file: PATH' and gives one or more substitutions in it: the exact
original lines, each after a '-', then their replacement, each after a
'+' (none to delete them).  Another 'file:' line may follow.  A 'tests:'
line names the tests expected to catch it, which run first.  Each
original text must be in its file exactly once, as whole lines.
"""
import sys


def hunks(mutant):
    """Yields (file, original lines, replacement lines)."""
    path, old, new = None, [], []
    for number, line in enumerate(open(mutant, encoding="utf-8").read()
                                  .splitlines(), 1):
        if line.startswith("-") or line.startswith("+"):
            if path is None:
                raise SystemExit("line %d: a change before any 'file:'"
                                 % number)
            if line[0] == "-" and new:
                yield path, old, new
                old, new = [], []
            if line[0] == "+" and not old:
                raise SystemExit("line %d: '+' with no '-' before it"
                                 % number)
            (old if line[0] == "-" else new).append(line[1:])
        elif line.startswith("file:"):
            if old:
                yield path, old, new
            path, old, new = line[5:].strip(), [], []
        elif line.strip() and not line.startswith(("#", "tests:")):
            raise SystemExit("line %d: not a '#', 'file:', 'tests:', '-' "
                             "or '+' line" % number)
    if old:
        yield path, old, new
    elif path is None:
        raise SystemExit("no 'file:' line")


def main():
    mutant, root = sys.argv[1], sys.argv[2]
    changed = 0
    for path, old, new in hunks(mutant):
        where = root + "/" + path
        try:
            text = open(where, encoding="utf-8").read()
        except OSError as e:
            raise SystemExit("%s: %s" % (path, e.strerror))
        # Whole lines: the text must start a line and end with one.
        original = "\n" + "\n".join(old) + "\n"
        times = ("\n" + text).count(original)
        if times != 1:
            raise SystemExit("%s: the original text is there %d times, "
                             "not once: %s" % (path, times, old[0].strip()))
        replacement = "\n" + "".join(line + "\n" for line in new)
        text = ("\n" + text).replace(original, replacement)[1:]
        open(where, "w", encoding="utf-8").write(text)
        changed += 1
    if changed == 0:
        raise SystemExit("no change in it")


main()
