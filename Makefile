# proccount: make, make check, make mutants, make bench, make install.

PREFIX	?= /usr/local
MANDIR	?= $(PREFIX)/share/man
CC	?= cc
CFLAGS	?= -O2 -g
WERROR	?=
PCFLAGS	 = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic $(WERROR) $(CFLAGS)
LDLIBS	 = -lpthread -lm

HDR = counter.h parse.h report.h run.h procs/procs.h procs/shared.h \
	procs/histogram.h filelock/text.h shm/pause.h bench/matrix.h bench/plot.h
OBJ = proccount.o parse.o report.o run.o procs/procs.o procs/worker.o \
	procs/histogram.o filelock/filelock.o shm/shm.o bench/matrix.o \
	bench/plot.o
UNIT = tests/unit-parse tests/unit-text tests/unit-histogram tests/unit-locks

all: proccount

proccount: $(OBJ)
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

.c.o:
	$(CC) $(PCFLAGS) -c -o $@ $<

$(OBJ): $(HDR)

tests/unit-parse: tests/unit-parse.c parse.o tests/tap.h parse.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-parse.c parse.o $(LDLIBS)

tests/unit-text: tests/unit-text.c tests/tap.h filelock/text.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-text.c $(LDLIBS)

tests/unit-histogram: tests/unit-histogram.c procs/histogram.o tests/tap.h $(HDR)
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-histogram.c \
		procs/histogram.o $(LDLIBS)

tests/unit-locks: tests/unit-locks.c tests/tap.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ tests/unit-locks.c $(LDLIBS)

bench/floor: bench/floor.c filelock/text.h shm/pause.h
	$(CC) $(PCFLAGS) $(LDFLAGS) -o $@ bench/floor.c $(LDLIBS)

check: proccount $(UNIT)
	prove -j2 tests/

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
