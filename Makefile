# proccount: make, make check, make mutants, make bench, make install.

PREFIX	?= /usr/local
MANDIR	?= $(PREFIX)/share/man
CC	?= cc
CFLAGS	?= -O2 -g
WERROR	?=
PCFLAGS	 = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic $(WERROR) $(CFLAGS)
# The pg backend's libpq: found by pkg-config, or PG=no to build without.
PG	?= $(shell pkg-config --exists libpq 2>/dev/null && echo yes || echo no)
PG_CFLAGS = $(if $(filter yes,$(PG)),-DHAVE_LIBPQ $(shell pkg-config --cflags libpq))
PG_LIBS	 = $(if $(filter yes,$(PG)),$(shell pkg-config --libs libpq))
LDLIBS	 = -lpthread -lm $(PG_LIBS)

HDR = backends.h cli.h clock.h counter.h judge.h parse.h report.h run.h \
	procs/procs.h procs/shared.h histogram.h filelock/text.h \
	shm/pause.h matrix/matrix.h matrix/plot.h matrix/machine.h units.h \
	schedule/schedule.h schedule/turnstile.h explore/explore.h \
	trace/trace.h trace/show.h server/server.h procs/cycle.h
# Every backend's objects: the registry in backends.c names them all.
BACKEND_OBJ = filelock/filelock.o shm/shm.o server/server.o server/loop.o \
	server/net.o pg/pg.o
OBJ = proccount.o backends.o cli.o judge.o parse.o report.o run.o \
	procs/procs.o procs/timing.o procs/worker.o procs/cycle.o \
	histogram.o \
	$(BACKEND_OBJ) matrix/matrix.o matrix/plot.o \
	matrix/machine.o units.o \
	schedule/schedule.o schedule/turnstile.o explore/explore.o \
	trace/trace.o trace/show.o server/serve.o
UNIT = tests/unit-parse tests/unit-text tests/unit-histogram \
	tests/unit-locks tests/unit-judge tests/unit-units tests/unit-trace \
	tests/unit-cycle

all: proccount

proccount: $(OBJ)
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

.c.o:
	$(CC) $(PCFLAGS) -c -o $@ $<

$(OBJ): $(HDR)

pg/pg.o: pg/pg.c $(HDR)
	$(CC) $(PCFLAGS) $(PG_CFLAGS) -c -o $@ pg/pg.c

tests/unit-parse: tests/unit-parse.c parse.o tests/tap.h parse.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-parse.c parse.o $(LDLIBS)

tests/unit-text: tests/unit-text.c tests/tap.h filelock/text.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-text.c $(LDLIBS)

tests/unit-histogram: tests/unit-histogram.c histogram.o tests/tap.h $(HDR)
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-histogram.c \
		histogram.o $(LDLIBS)

tests/unit-locks: tests/unit-locks.c tests/tap.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-locks.c $(LDLIBS)

JUDGE_OBJ = judge.o report.o backends.o histogram.o units.o \
	$(BACKEND_OBJ) schedule/schedule.o schedule/turnstile.o \
	trace/trace.o trace/show.o
tests/unit-judge: tests/unit-judge.c tests/tap.h $(JUDGE_OBJ) $(HDR)
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-judge.c $(JUDGE_OBJ) \
		$(LDLIBS)

tests/unit-units: tests/unit-units.c units.o tests/tap.h units.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-units.c units.o $(LDLIBS)

TRACE_OBJ = trace/trace.o trace/show.o report.o backends.o histogram.o \
	units.o $(BACKEND_OBJ) schedule/schedule.o \
	schedule/turnstile.o
tests/unit-trace: tests/unit-trace.c tests/tap.h $(TRACE_OBJ) $(HDR)
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-trace.c $(TRACE_OBJ) \
		$(LDLIBS)

tests/unit-cycle: tests/unit-cycle.c procs/cycle.o tests/tap.h procs/cycle.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-cycle.c procs/cycle.o \
		$(LDLIBS)

bench/floor: bench/floor.c filelock/text.h shm/pause.h clock.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ bench/floor.c $(LDLIBS)

# TESTS: the test files to run, all by default; JOBS: how many at once.
TESTS	?= tests/
JOBS	?= 2
check: proccount bench/floor $(UNIT)
	prove -j$(JOBS) $(TESTS)

# Not part of check: it runs the tests once for each mutant, for minutes.
mutants:
	MAKE="$(MAKE)" UNIT="$(UNIT)" sh tests/mutants/run.sh

bench: proccount bench/floor
	sh bench/bench.sh

install: proccount
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1
	install -m 755 proccount $(DESTDIR)$(PREFIX)/bin/proccount
	install -m 644 man/proccount.1 $(DESTDIR)$(MANDIR)/man1/proccount.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/proccount \
		$(DESTDIR)$(MANDIR)/man1/proccount.1

clean:
	rm -f proccount $(OBJ) $(UNIT) bench/floor

.PHONY: all check mutants bench install uninstall clean
