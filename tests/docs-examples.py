"""The examples in README.md and man/proccount.1, run and compared.

    docs-examples.py --tap [--proccount BIN] FILE...
    docs-examples.py --print [--proccount BIN] [FILE[:LINE]...]
    docs-examples.py --update [--all] [--proccount BIN] [FILE[:LINE]...]

--tap (tests/0160-docs.t) runs every documented command and prints one
TAP line for each: ok when what the program prints has the shape of what
the documentation shows after the command.  --print runs them too and
prints, for each, the documented output and then the printed one, to copy
from (in the manual, write a backslash as \\e), and says which differ;
FILE:LINE picks the examples whose display holds that line.  The FILEs
are README.md and man/proccount.1 unless named; BIN is ./proccount.

What an example is:
- In README.md, a fenced code block in which a line begins with "$ ".  In
  man/proccount.1, a .Bd -literal display in which a line begins with
  "$ ", its roff escapes (\\e, \\&, \\-, \\(aq ...) read as the reader sees
  them.  A display without such a line (a quoted report line, a build
  command) is not an example.
- A line beginning with "$ " is a command; lines after it beginning with
  "> " continue it (the shell's second prompt), as does a trailing "\\".
  The lines after it until the next command or the end of the display are
  what it prints, on stdout and stderr together: no line means it prints
  nothing.
- A display that shows commands without what they print says so with a
  comment on the line before it: "<!-- commands only -->" before the
  fence in README.md, '.\\" commands only' before the .Bd in the manual.
  Its commands are run too, and must be accepted: no exit status 2, no
  "(try proccount --help)".

How a command runs: with sh -c, in a new empty directory for each display
(the commands of one display share it, one after the other), with
"proccount" on PATH and ./proccount both the binary under test.  A command
that matches SKIP below is not run, nor what follows it in its display,
and shows as a TAP skip with the reason.  Each may take DOCS_LIMIT
seconds (30 unless set), and fails after.  Displays run two at a time, and
the same commands from the start of a display run once for README.md and
the manual both.

What is compared is the shape, not the numbers:
- The same number of lines, and on each line the same words, where every
  number is a wildcard: counts, PIDs, percentages, hex, the numbers in a
  name such as /proccount-24443-642766-0, and a duration with its unit
  ("62.0 ns", "1.25 us", "268.7 ms", "2.45 s"), so "1343 ns/update" and
  "1.34 us/update" have one shape.  Punctuation and spacing within a line
  are compared only as far as they stick to words (split on white space).
- A documented line that is only "..." stands for any number of printed
  lines, none included: the elision of a long table or list.
- A documented output that is JSON (it parses as JSON) matches printed
  JSON with the same set of keys, nested ones included (a list's objects
  by the union of their keys).
- Luck: a run whose workers are not kept apart may or may not lose
  updates.  There, and only there, a verdict line that says "correct" and
  one that says "off by N, updates were lost" match each other, and so do
  a bench row's "yes" and "lost N".  Whether the workers were kept apart
  is the program's word, not a guess from the command: the same command
  again with --json must say "excludes": false with a lock kind other than
  atomic (which takes no lock, and never loses); for a bench row, a run of
  that row's backend, lock and workers (processes or threads) says so the
  same way.  A run that keeps its workers apart is held to its verdict.

The manual also quotes what the program prints in its prose: each .Ql of
six words or more, and each line of a literal display that holds no
command (a report line shown alone).  Each must be something the program
can print, as its C sources' format strings say (tests/ and bench/ aside):
made of those strings, with a number or an "Ar" placeholder where a %d or
%s is, and a %s holding another of them, or nothing.  A display's line
must be a whole printed line, so a line wrapped to fit fails; a .Ql may
be part of one.  This cannot tell which words the program puts in a %s,
so a quote that names the wrong kind of lock may pass; a sentence the
program does not print fails.
"""
import concurrent.futures
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# Commands that cannot run in a test, with why; the first match wins.
SKIP = [
    # Reads the manual in a pager: nothing of the program's to compare.
    (r"^man\b", "reads the manual"),
    # Builds, installs or tests this very tree.
    (r"^make\b", "builds, installs or tests the tree itself"),
    # Root is not for a test.
    (r"^(sudo|su|doas)\b", "needs root"),
    # A bench at its default runs of 1 s takes a minute or more; one with
    # a short -t or --duration runs here like any example.
    (r"^(\./)?proccount bench\b(?!.*\s(-t\s*|--duration[=\s])\d)",
     "a bench of 1 s runs: a minute or more"),
]
# The pg backend needs a server, which PGHOST names where there is one.
if not os.environ.get("PGHOST"):
    SKIP.append((r"\s(-b\s*pg|--backend[=\s]pg)\b",
                 "needs a PostgreSQL server: none named by PGHOST"))

LIMIT = float(os.environ.get("DOCS_LIMIT", "30"))

ELLIPSIS = "..."

# The two verdicts luck chooses between, as shapes, and where each applies.
SWAPS = [
    (("correct",), ("off", "by", "#,", "updates", "were", "lost"), "run"),
    (("yes",), ("lost", "#"), "row"),
]

# A duration, its unit included, then any other number.
DURATION = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?\s?(?:ns|us|\u00b5s|ms|s)"
                      r"(?![A-Za-z])")
NUMBER = re.compile(r"(?<![\w.])(?:0x[0-9A-Fa-f]+|[-+]?\d+(?:[.,]\d+)*%?)")

ROFF_ESCAPES = {"\\e": "\\", "\\&": "", "\\-": "-", "\\(aq": "'",
                "\\(dq": '"', "\\(ti": "~", "\\(ha": "^", "\\(rs": "\\",
                "\\(lq": '"', "\\(rq": '"', "\\|": "", "\\ ": " "}


class Command:
    """A documented command and the lines shown after it."""

    def __init__(self, name, line, text):
        self.name, self.line, self.text = name, line, text
        self.output = []            # [(line number, text)]
        self.display = None

    def where(self):
        return "%s:%d" % (self.name, self.line)


class Display:
    """A fenced block or a .Bd -literal display that holds commands."""

    def __init__(self, name, first, commands_only):
        self.name, self.first, self.last = name, first, first
        self.commands_only = commands_only
        self.commands = []


def shape(line):
    """The words of a line, each number and duration a '#'."""
    line = DURATION.sub("#", line)
    return tuple(NUMBER.sub("#", line).split())


def read_displays(path, name):
    """The displays that hold commands in a README (markdown) or manual;
    NAME is how messages call the file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    manual = re.search(r"\.[1-9]$", path) is not None
    blocks, i = [], 0
    while i < len(lines):
        opens = (lines[i].startswith(".Bd -literal") if manual else
                 lines[i].startswith("```"))
        if not opens:
            i += 1
            continue
        before = lines[i - 1] if i > 0 else ""
        only = "commands only" in before and (
            before.startswith('.\\"') if manual else
            before.startswith("<!--"))
        first, body, i = i + 1, [], i + 1
        while i < len(lines) and not (lines[i].startswith(".Ed") if manual
                                      else lines[i].startswith("```")):
            text = lines[i]
            if manual:
                if text.startswith('.\\"'):
                    i += 1
                    continue
                if text.startswith((".", "'")):
                    raise SystemExit("%s:%d: a roff request in an example "
                                     "display" % (name, i + 1))
                text = unescape(text, name, i + 1)
            body.append((i + 1, text))
            i += 1
        if i == len(lines):
            raise SystemExit("%s:%d: a display that never ends"
                             % (name, first - 1))
        i += 1
        display = parse_display(name, first - 1, body, only)
        if display is not None:
            blocks.append(display)
    return blocks


def unescape(text, name, number):
    """A roff line of a literal display as the reader sees it."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "\\":
            out.append(text[i])
            i += 1
            continue
        for escape, means in ROFF_ESCAPES.items():
            if text.startswith(escape, i):
                out.append(means)
                i += len(escape)
                break
        else:
            raise SystemExit("%s:%d: a roff escape this test does not know: "
                             "%s" % (name, number, text[i:i + 4]))
    return "".join(out)


def parse_display(name, opening, body, only):
    """Commands and their outputs, or None when no line is a command."""
    if not any(text.startswith("$ ") for _, text in body):
        return None
    display = Display(name, opening, only)
    display.last = body[-1][0] + 1 if body else opening + 1
    command = None
    for number, text in body:
        if text.startswith("$ "):
            command = Command(name, number, text[2:])
            command.display = display
            display.commands.append(command)
        elif command is None:
            if text.strip():
                raise SystemExit("%s:%d: output before any command"
                                 % (name, number))
        elif ((text.startswith("> ") or command.text.endswith("\\"))
              and not command.output):
            command.text += "\n" + (text[2:] if text.startswith("> ")
                                    else text)
        else:
            command.output.append((number, text))
    if only:
        for command in display.commands:
            if command.output:
                n = command.output[0][0]
                raise SystemExit("%s:%d: output in a display marked "
                                 "'commands only'" % (name, n))
    return display


def skip_reason(text):
    for pattern, reason in SKIP:
        if re.search(pattern, text):
            return reason
    return None


class Runner:
    """Runs commands with the binary under test, and remembers results.

    Displays run two at a time: most of an example's time is a timed run
    or a deadlock's wait, and its shape does not depend on the load.
    """

    def __init__(self, binary, workdir):
        self.binary = os.path.abspath(binary)
        self.workdir = workdir
        self.bindir = os.path.join(workdir, "bin")
        os.makedirs(self.bindir, exist_ok=True)
        os.symlink(self.binary, os.path.join(self.bindir, "proccount"))
        self.env = dict(os.environ)
        self.env["PATH"] = self.bindir + os.pathsep + self.env["PATH"]
        self.lock = threading.Lock()
        self.cache = {}             # commands from a display's start: result
        self.kept_apart = {}
        self.groups = []            # each display's process groups

    def fresh(self):
        """A new empty directory, with ./proccount in it."""
        where = tempfile.mkdtemp(prefix="display.", dir=self.workdir)
        os.symlink(self.binary, os.path.join(where, "proccount"))
        return where

    def run(self, text, where, groups):
        """(exit status or None after LIMIT, output, seconds)."""
        out = tempfile.TemporaryFile(dir=self.workdir)
        began = time.monotonic()
        child = subprocess.Popen(["sh", "-c", text], cwd=where, env=self.env,
                                 stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT,
                                 start_new_session=True)
        # Its process group: what it left running in the background (as
        # "flock counter.txt sleep 5 &" does) lives on for the commands
        # after it, and ends with its display.
        groups.append(child.pid)
        try:
            status = child.wait(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            status = None
            end_groups(groups)
            child.wait()
        seconds = time.monotonic() - began
        out.seek(0)
        return status, out.read().decode("utf-8", "replace"), seconds

    def run_display(self, display):
        """For each command: (skip reason, None) or (None, result)."""
        where, results, skipped, done, groups = None, [], None, [], []
        self.groups.append(groups)
        for command in display.commands:
            reason = skip_reason(command.text)
            if skipped is not None:
                reason = "follows a skipped command (%s)" % skipped
            elif reason is not None:
                skipped = command.where()
            if reason is not None:
                results.append((reason, None))
                continue
            # The same commands from the start of a display print alike:
            # one run serves README.md and the manual both.
            done.append(re.sub(r"^\./proccount\b", "proccount",
                               command.text))
            key = tuple(done)
            with self.lock:
                mine = where is not None or key not in self.cache
                if mine and where is None:
                    self.cache[key] = threading.Event()
            if mine:
                if where is None:
                    # The commands before this one ran for another
                    # display: again here, for what they leave behind.
                    where = self.fresh()
                    for before in display.commands[:len(done) - 1]:
                        self.run(before.text, where, groups)
                result = self.run(command.text, where, groups)
                with self.lock:
                    waiting = self.cache.get(key)
                    self.cache[key] = result
                if isinstance(waiting, threading.Event):
                    waiting.set()
            else:
                with self.lock:
                    result = self.cache[key]
                if isinstance(result, threading.Event):
                    result.wait()
                    with self.lock:
                        result = self.cache[key]
            results.append((None, result))
        end_groups(groups)
        return results

    def end(self):
        """Ends what is still running, as when --print's reader stops."""
        for groups in self.groups:
            end_groups(groups)

    def unguarded(self, args):
        """Whether the program says a run of ARGS keeps nobody apart."""
        key = tuple(args)
        if key not in self.kept_apart:
            groups = []
            _, out, _ = self.run(" ".join(sh_quote(a) for a in args)
                                      + " --json 2>/dev/null", self.fresh(),
                                      groups)
            end_groups(groups)
            try:
                d = json.loads(out)
                self.kept_apart[key] = (d["excludes"] is False and
                                        d["lock"] != "atomic")
            except (ValueError, KeyError, TypeError):
                self.kept_apart[key] = False
        return self.kept_apart[key]


def end_groups(groups):
    """Ends the process groups of a display's commands, by their ids."""
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    del groups[:]


def sh_quote(word):
    if re.fullmatch(r"[\w@%+=:,./-]+", word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def json_keys(value, prefix=""):
    """Every key of a JSON value, as paths: a.b, workers[].pid."""
    keys = set()
    if isinstance(value, dict):
        for name, inner in value.items():
            keys.add(prefix + name)
            keys |= json_keys(inner, prefix + name + ".")
    elif isinstance(value, list):
        for inner in value:
            keys |= json_keys(inner, prefix.rstrip(".") + "[].")
    return keys


def as_json(lines):
    text = "\n".join(lines).strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


class Comparison:
    """Whether a command's printed output has its documented shape."""

    def __init__(self, runner, command, printed):
        self.runner, self.command = runner, command
        self.doc = [text for _, text in command.output]
        self.printed = printed.split("\n")
        if self.printed[-1] == "":
            self.printed.pop()
        self.luck = []              # printed lines luck's verdict matched

    def why_not(self):
        """None when the shapes match, else what differs, as lines."""
        documented = as_json(self.doc)
        if documented is not None:
            return self.json_differs(documented)
        doc = [ELLIPSIS if t.strip() == ELLIPSIS else shape(t)
               for t in self.doc]
        got = [shape(t) for t in self.printed]
        if self.match(doc, got):
            return None
        return self.shape_diff(doc, got)

    def json_differs(self, documented):
        printed = as_json(self.printed)
        if printed is None:
            return ["documented JSON, but the program printed no JSON"]
        want, have = json_keys(documented), json_keys(printed)
        if want == have:
            return None
        why = []
        if want - have:
            why.append("keys documented, not printed: " +
                       ", ".join(sorted(want - have)))
        if have - want:
            why.append("keys printed, not documented: " +
                       ", ".join(sorted(have - want)))
        return why

    def match(self, doc, got):
        """Matches with "..." lines standing for any number of lines."""
        memo = {}

        def at(i, j):
            if (i, j) in memo:
                return memo[i, j]
            if i == len(doc):
                result = j == len(got)
            elif doc[i] == ELLIPSIS:
                result = any(at(i + 1, k) for k in range(j, len(got) + 1))
            else:
                result = j < len(got) and self.same(doc[i], j) and \
                    at(i + 1, j + 1)
            memo[i, j] = result
            return result
        self.got = got
        return at(0, 0)

    def same(self, want, j):
        have = self.got[j]
        if want == have:
            return True
        for one, other, where in SWAPS:
            for a, b in ((one, other), (other, one)):
                if (want[-len(a):] == a and have[-len(b):] == b and
                        want[:-len(a)] == have[:-len(b)] and
                        self.unguarded(where, j)):
                    self.luck.append(j)
                    return True
        return False

    def unguarded(self, where, j):
        if where == "run":
            args = simple_command(self.command.text)
            return args is not None and self.runner.unguarded(args)
        # A bench row: its backend, lock and workers, from the header.
        for header in self.got[:j]:
            if header[:3] == ("backend", "lock", "as"):
                row = self.got[j]
                args = ["proccount", "-b", row[0], "--lock=" + row[1],
                        "-i", "1", "-d", "1", "-n", "1"]
                if row[2] == "threads":
                    args.append("--threads")
                return self.runner.unguarded(args)
        return False

    def shape_diff(self, doc, got):
        lines = self.command.output
        span = ("%d-%d" % (lines[0][0], lines[-1][0]) if lines else
                "%d, nothing" % self.command.line)
        why = []
        if ELLIPSIS not in doc and len(doc) != len(got):
            why.append("documented %d line%s, the program printed %d"
                       % (len(doc), "" if len(doc) == 1 else "s", len(got)))
        else:
            why.append("the lines differ")
        show = [ELLIPSIS if s == ELLIPSIS else " ".join(s) for s in doc]
        why += list(difflib.unified_diff(
            show, [" ".join(s) for s in got],
            "documented (%s:%s)" % (self.command.name, span),
            "printed", n=len(doc) + len(got), lineterm=""))
        why.append("printed, as it was:")
        why += ["  " + t for t in self.printed]
        return why


def simple_command(text):
    """The words of one proccount run with no shell syntax, or None."""
    if re.search(r"[|&;<>()$`\\\n'\"*?]", text):
        return None
    words = text.split()
    if not words or words[0] not in ("proccount", "./proccount"):
        return None
    return ["proccount"] + words[1:]


def check_accepted(status, printed):
    """For a command whose output is not shown: None, or why it failed."""
    if status == 2 or "(try proccount --help)" in printed:
        return ["the program did not accept it (exit %s):" % status] + \
            ["  " + t for t in printed.rstrip("\n").split("\n")]
    return None


# A printf directive of the program's sources.
DIRECTIVE = re.compile(r"%[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
                       r"(?:hh|h|ll|l|z|j|t|L)?([diouxXeEfgGcsp%])")
PLACEHOLDER = "\0"
MDOC_DELIMITERS = (".", ",", ";", ":", ")", "]", "?", "!")


def c_literals(text):
    """The string literals of C source, adjacent ones joined."""
    found, i, n, current = [], 0, len(text), None
    while i < n:
        if text.startswith("/*", i):
            i = text.find("*/", i + 2)
            i = n if i < 0 else i + 2
            continue
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == '"':
            i, chars = i + 1, []
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    chars.append({"n": "\n", "t": "\t", "\\": "\\",
                                  '"': '"', "'": "'"}.get(text[i + 1], ""))
                    i += 2
                else:
                    chars.append(text[i])
                    i += 1
            current = (current or "") + "".join(chars)
            i += 1
            continue
        # Anything else ends a run of adjacent literals.
        if current is not None:
            found.append(current)
            current = None
        if c == "'":
            i += 1
            while i < n and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
        i += 1
    if current is not None:
        found.append(current)
    return found


class Format:
    """A piece of a line the program prints: literal text and holes."""

    def __init__(self, text, ends_line):
        self.ends_line = ends_line
        self.parts, at = [], 0       # strings, or "num", "str", "chr" holes
        for m in DIRECTIVE.finditer(text):
            self.parts.append(text[at:m.start()])
            kind = m.group(1)
            if kind == "%":
                self.parts.append("%")
            else:
                self.parts.append({"s": "str", "c": "chr"}.get(kind, "num"))
            at = m.end()
        self.parts.append(text[at:])
        self.parts = [p for p in self.parts if p != ""]
        # Literal text side by side with a "%" is one text.
        joined = []
        for p in self.parts:
            if joined and p not in HOLES and joined[-1] not in HOLES:
                joined[-1] += p
            else:
                joined.append(p)
        self.parts = joined

    def __str__(self):
        return "".join({"num": "%d", "str": "%s", "chr": "%c"}.get(p, p)
                       for p in self.parts)


HOLES = ("num", "str", "chr")
NUMERAL = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


class ProgramText:
    """What the program can print, from its sources' format strings."""

    def __init__(self, top):
        self.formats = []
        for folder, _, files in os.walk(top):
            rel = os.path.relpath(folder, top)
            if rel.split(os.sep)[0] in ("tests", "bench", ".git", ".ci"):
                continue
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                source = open(os.path.join(folder, name),
                              encoding="utf-8", errors="replace").read()
                for literal in c_literals(source):
                    lines = literal.split("\n")
                    for k, line in enumerate(lines):
                        if line or k < len(lines) - 1:
                            self.formats.append(
                                Format(line, k < len(lines) - 1))

    def prints(self, quote, whole_line):
        """Whether QUOTE (PLACEHOLDER for a placeholder) is something the
        program prints: a whole line, or with WHOLE_LINE false any part of
        one.  A %s may hold any piece the program prints, or a
        placeholder; a number, a number or a placeholder."""
        n = len(quote)
        found = [f for f in self.formats
                 if all(p in HOLES or p in quote for p in f.parts)]
        spans = {}                   # start: {ends of a piece from it}

        def fills(at):
            """Ends of pieces and placeholders one after another."""
            seen, todo = {at}, [at]
            while todo:
                p = todo.pop()
                ends = set(spans.get(p, ()))
                if p < n and quote[p] == PLACEHOLDER:
                    ends.add(p + 1)
                for e in ends - seen:
                    seen.add(e)
                    todo.append(e)
            return seen

        def walk(parts, at, partial):
            """Ends of PARTS from AT; n if the quote ends within them and
            PARTIAL allows that."""
            frontier = {at}
            for part in parts:
                after = set()
                for p in frontier:
                    if partial and p == n:
                        after.add(n)
                    elif part == "num":
                        m = NUMERAL.match(quote, p)
                        if m:
                            after.add(m.end())
                        if p < n and quote[p] == PLACEHOLDER:
                            after.add(p + 1)
                    elif part == "chr":
                        if p < n:
                            after.add(p + 1)
                    elif part == "str":
                        after |= fills(p)
                    elif quote.startswith(part, p):
                        after.add(p + len(part))
                    elif partial and part.startswith(quote[p:]):
                        after.add(n)
                frontier = after
            return frontier

        # Pieces within pieces: until nothing more is found.
        while True:
            grown = False
            for f in found:
                for at in range(n):
                    ends = walk(f.parts, at, False) - {at}
                    if not ends <= spans.setdefault(at, set()):
                        spans[at] |= ends
                        grown = True
            if not grown:
                break
        if whole_line:
            lines = [f for f in found if f.ends_line]
            return any(n in walk(f.parts, p, False)
                       for p in fills(0) for f in lines)
        # A part of a line: it may begin within one piece and end within
        # another, or lie within one.
        starts = {0}
        for f in self.formats:
            for k, part in enumerate(f.parts):
                if part in HOLES:
                    continue
                if quote in part:
                    return True
                for size in range(1, min(len(part), n)):
                    if quote.startswith(part[len(part) - size:]):
                        starts |= walk(f.parts[k + 1:], size, True)
        for s in set(starts):
            for p in fills(s):
                if p == n:
                    return True
                for f in self.formats:
                    if n in walk(f.parts, p, True):
                        return True
        return False

    def closest(self, quote):
        """The format string most like QUOTE, to help whoever fixes it."""
        text = quote.replace(PLACEHOLDER, "%s")
        best = difflib.get_close_matches(text, [str(f) for f in self.formats],
                                         1, 0.3)
        return best[0] if best else None


def mdoc_quote(args):
    """The text of a .Ql line's arguments, PLACEHOLDER for each Ar word."""
    words, out, mode = args.split(), [], "text"
    while words and words[-1] in MDOC_DELIMITERS:
        words.pop()
    for word in words:
        if word in ("Ar", "Li", "No", "Ns", "Cm", "Ic", "Dv", "Er", "Ev",
                    "Pa", "Va", "Fl", "Sy", "Em"):
            mode = word
            continue
        if word.startswith("\\&"):
            word = word[2:]
        if mode == "Ar":
            word = PLACEHOLDER
        elif mode == "Fl":
            word = "-" + word
        if out and word in MDOC_DELIMITERS:
            out[-1] += word
        else:
            out.append(word)
    return unescape(" ".join(out), "", 0)


def read_quotes(path, name):
    """The manual's quotes of what the program prints: each .Ql of six
    words or more, and each literal display that holds no command, line by
    line.  [(where, text, whole line)]"""
    quotes, lines = [], open(path, encoding="utf-8").read().split("\n")
    display = None
    for number, line in enumerate(lines, 1):
        if line.startswith(".Bd -literal"):
            display = []
        elif line.startswith(".Ed") and display is not None:
            if not any(t.startswith("$ ") for _, t in display):
                quotes += [("%s:%d" % (name, k), t, True)
                           for k, t in display if t.strip()]
            display = None
        elif display is not None:
            if not line.startswith((".", "'")):
                display.append((number, unescape(line, name, number)))
        elif line.startswith(".Ql "):
            text = mdoc_quote(line[4:])
            if len(text.split()) >= 6:
                quotes.append(("%s:%d" % (name, number), text, False))
    return quotes


def run_all(runner, displays):
    """Each display with its results, in order, two displays at a time."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        yield from zip(displays, pool.map(runner.run_display, displays))


def shorten(text, most=60):
    return text if len(text) <= most else text[:most - 3] + "..."


def check_quote(program, text, whole):
    """None when the program can print the quoted TEXT, else why not."""
    if program.prints(text, whole):
        return None
    shown = text.replace(PLACEHOLDER, "ARG")
    why = ["no format string in the program's sources prints this %s:"
           % ("line" if whole else "quote"), "  " + shown]
    like = program.closest(text)
    if like is not None:
        why += ["the most like it:", "  " + like]
    return why


def tap(paths, runner, top):
    number, failures, began, displays = 0, 0, time.monotonic(), []
    program = ProgramText(top)
    for path in paths:
        name = os.path.relpath(path, top)
        found = read_displays(path, name)
        shown = sum(1 for d in found for c in d.commands if c.output)
        number += 1
        if shown == 0:
            failures += 1
            print("not ok %d - %s: no example shows an output: the test "
                  "finds none to compare" % (number, name))
        else:
            print("ok %d - %s: %d examples with their output"
                  % (number, name, shown))
        displays += found
        if path.endswith(".1"):
            for where, text, whole in read_quotes(path, name):
                number += 1
                why = check_quote(program, text, whole)
                title = "%s: the program prints '%s'" % (
                    where, shorten(text.replace(PLACEHOLDER, "ARG")))
                if why is None:
                    print("ok %d - %s" % (number, title))
                    continue
                failures += 1
                print("not ok %d - %s" % (number, title))
                print("# %s: %s" % (where, why[0]))
                for line in why[1:]:
                    print("#   " + line)
    for display, results in run_all(runner, displays):
        for command, (reason, result) in zip(display.commands, results):
            number += 1
            title = "%s: %s" % (command.where(), command.text.split("\n")[0])
            if reason is not None:
                print("ok %d # skip %s: %s" % (number, title, reason))
                continue
            why, note = judge(runner, command, result)
            if why is None:
                print("ok %d - %s (%.1f s%s)" % (number, title, result[2],
                                                 note and "; " + note or ""))
                continue
            failures += 1
            print("not ok %d - %s" % (number, title))
            print("# %s: %s" % (command.where(), why[0]))
            for line in why[1:]:
                print("#   " + line)
            print("#   (tests/docs-examples.py --print %s shows both)"
                  % command.where())
        sys.stdout.flush()
    print("# %.1f s" % (time.monotonic() - began))
    print("1..%d" % number)
    return 1 if failures else 0


def judge(runner, command, result):
    """(None when the command printed what is documented, else why not as
    lines; a note on how it matched, or None)."""
    status, printed, seconds = result
    if status is None:
        return ["still running after %.0f s: document a shorter command, "
                "or skip it in SKIP" % LIMIT], None
    if command.display.commands_only:
        return check_accepted(status, printed), "output not shown"
    comparison = Comparison(runner, command, printed)
    why = comparison.why_not()
    if comparison.luck:
        return why, "its verdict left to luck: nothing kept the workers apart"
    return why, None


def show(picks, runner, top):
    """--print: each example's documented output, then the printed one."""
    displays = []
    for path, lines in picks:
        for display in read_displays(path, os.path.relpath(path, top)):
            if not lines or any(display.first <= n <= display.last
                                for n in lines):
                displays.append(display)
    if not displays and not any(p.endswith(".1") for p, _ in picks):
        raise SystemExit("docs-examples.py: no example there")
    for display, results in run_all(runner, displays):
        for command, (reason, result) in zip(display.commands, results):
            first, *more = command.text.split("\n")
            print("=== " + command.where())
            print("$ " + first)
            for line in more:
                print("> " + line)
            if reason is not None:
                print("--- not run: " + reason)
                continue
            status, printed, seconds = result
            if display.commands_only:
                print("--- documented: commands only")
            else:
                print("--- documented")
                for _, text in command.output:
                    print(text)
            why, _ = judge(runner, command, result)
            print("--- printed (exit %s, %.1f s): %s" % (
                status, seconds, "matches" if why is None else
                "DIFFERS: " + why[0]))
            sys.stdout.write(printed)
            if printed and not printed.endswith("\n"):
                print()
        print()
        sys.stdout.flush()
    program = ProgramText(top)
    for path, lines in picks:
        if not path.endswith(".1"):
            continue
        for where, text, whole in read_quotes(path, os.path.relpath(path,
                                                                    top)):
            if lines and int(where.rsplit(":", 1)[1]) not in lines:
                continue
            why = check_quote(program, text, whole)
            print("=== %s: quote %s" % (where, "matches" if why is None else
                                        "DIFFERS"))
            for line in why or ["  " + text.replace(PLACEHOLDER, "ARG")]:
                print(line)
    return 0


def roff_line(text):
    """A printed line as a line of a manual's literal display, without
    the blanks at its end that the lint refuses (a counter file's padding);
    the shapes compared are the words."""
    text = text.rstrip().replace("\\", "\\e")
    return "\\&" + text if text.startswith((".", "'")) else text


def update(picks, runner, top, force):
    """--update: each differing example's display rewritten with the
    printed outputs, as --print shows them; with --all, every display.  An
    output with a '...' elision is left for a person to cut again, and said
    so."""
    for path, lines in picks:
        displays = [d for d in read_displays(path, os.path.relpath(path, top))
                    if not d.commands_only and (not lines or any(
                        d.first <= n <= d.last for n in lines))]
        edits = []
        for display, results in run_all(runner, displays):
            # One command differing, the display's others are rewritten
            # too, so that a later "cat counter.txt" shows this run's value.
            if not force and all(
                    reason is not None or judge(runner, command, result)[0]
                    is None for command, (reason, result)
                    in zip(display.commands, results)):
                continue
            for command, (reason, result) in zip(display.commands, results):
                if reason is not None:
                    continue
                if any(t.strip() == "..." for _, t in command.output):
                    print("%s: elided, update it by hand" % command.where())
                    continue
                printed = result[1].split("\n")
                if printed and printed[-1] == "":
                    printed.pop()
                if path.endswith(".1"):
                    printed = [roff_line(t) for t in printed]
                if command.output:
                    first, last = command.output[0][0], command.output[-1][0]
                else:
                    first = command.line + command.text.count("\n") + 1
                    last = first - 1
                edits.append((first, last, printed))
                print("%s: updated" % command.where())
        text = open(path, encoding="utf-8").read().split("\n")
        for first, last, printed in sorted(edits, reverse=True):
            text[first - 1:last] = printed
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(text))
    return 0


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    mode, binary, args = None, os.path.join(top, "proccount"), []
    force = False
    while argv:
        arg = argv.pop(0)
        if arg in ("--tap", "--print", "--update"):
            mode = arg
        elif arg == "--all":
            force = True
        elif arg == "--proccount" and argv:
            binary = argv.pop(0)
        elif arg.startswith("-"):
            raise SystemExit(__doc__.split("\n\n")[1])
        else:
            args.append(arg)
    if mode is None:
        raise SystemExit(__doc__.split("\n\n")[1])
    if not args:
        args = [os.path.join(top, "README.md"),
                os.path.join(top, "man", "proccount.1")]
    picks = []
    for arg in args:
        m = re.fullmatch(r"(.*):(\d+)", arg)
        path, line = (m.group(1), int(m.group(2))) if m else (arg, None)
        if not os.path.exists(path) and os.path.exists(os.path.join(top,
                                                                    path)):
            path = os.path.join(top, path)
        if not os.path.isfile(path):
            raise SystemExit("docs-examples.py: no file %s" % path)
        for known in picks:
            if known[0] == path and line is not None:
                known[1].append(line)
                break
        else:
            picks.append((path, [line] if line is not None else []))
    workdir = tempfile.mkdtemp(prefix="docs-examples.")
    runner = Runner(binary, workdir)
    try:
        if mode == "--tap":
            return tap([p for p, _ in picks], runner, top)
        if mode == "--update":
            return update(picks, runner, top, force)
        try:
            return show(picks, runner, top)
        except BrokenPipeError:
            # Read through head(1), it ends where the reader stops.
            sys.stdout = None
            return 0
    finally:
        runner.end()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
