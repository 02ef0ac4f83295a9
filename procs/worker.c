/*
 * A worker process: attach to the counter, report ready, wait at the start
 * gate, then update until its count is done, its time is up, or it is told
 * to stop.  It reports only through its slot and its exit status.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "histogram.h"
#include "shared.h"

void
worker_pause(uint64_t ns)
{
	struct timespec left = {
		(time_t)(ns / 1000000000), (long)(ns % 1000000000)
	};

	while (nanosleep(&left, &left) == -1 && errno == EINTR)
		;
}

/*
 * Spreads the workers over the CPUs this process may use, one after the
 * other, so that they run at the same time instead of taking turns on one
 * CPU until the scheduler moves them apart.
 */
static unsigned
take_cpu(unsigned index)
{
	cpu_set_t allowed, mine;
	unsigned count, cpu, nth;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) == -1)
		return 1;
	count = (unsigned)CPU_COUNT(&allowed);
	if (count < 2)
		return 1;
	nth = index % count;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &allowed) && nth-- == 0)
			break;
	CPU_ZERO(&mine);
	CPU_SET(cpu, &mine);
	sched_setaffinity(0, sizeof(mine), &mine);
	return count;
}

/*
 * Blocks until the parent closes the gate's write end (end of file), then
 * waits for the other workers to come through too: waking a thousand
 * sleepers takes longer than a short run.  Where every worker has a CPU of
 * its own it spins; yielding would hand the CPU to any other process for a
 * whole time slice.  Where workers share CPUs it must yield to let the
 * others in.  A worker that died on the way must not hold the rest back for
 * long, hence the bound.
 */
static void
wait_at_gate(struct shared *shared, int gate_fd, bool shared_cpus)
{
	unsigned spins = 0;
	int64_t give_up = 0;
	char byte;

	while (read(gate_fd, &byte, 1) == -1 && errno == EINTR)
		;
	close(gate_fd);
	atomic_fetch_add(&shared->arrived, 1);
	while (atomic_load(&shared->arrived) < shared->workers &&
	    !atomic_load(&shared->stop)) {
		if (++spins % 64 != 0)
			continue;
		if (shared_cpus)
			sched_yield();
		if (give_up == 0)
			give_up = clock_ns() + 1000000000;
		else if (clock_ns() > give_up)
			break;
	}
}

void
worker_main(const struct run *run, struct counter *c, struct shared *shared,
    unsigned index, int ready_fd, int gate_fd, pid_t parent)
{
	struct slot *slot = &shared->slots[index];
	struct worker w = {
		.slot = slot,
		.stop = &shared->stop,
		.iterations = run->iterations,
		.delta = index < run->incrementers ? 1 : -1,
		.crash_at = index == 0 ? run->crash_at : 0,
		.delay_ns = run->delay_ns,
		.timeout_ns = run->timeout_ns,
		.latency = run->latency,
	};
	sigset_t none;
	unsigned cpus;
	int error;

	/* A terminal's ^C reaches the whole group; the parent handles it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Never outlive proccount. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	slot->pid = getpid();
	slot->delta = w.delta;
	slot->span = 1;
	cpus = take_cpu(index);
	if ((error = c->ops->attach(c, &w)) != UPDATE_OK) {
		slot->error = error;
		slot->error_errno = errno;
		_exit(1);
	}
	if (write(ready_fd, "", 1) != 1)
		_exit(1);
	close(ready_fd);
	wait_at_gate(shared, gate_fd, shared->workers > cpus);
	slot->start_ns = clock_ns();
	if ((error = c->run(c, &w)) != UPDATE_OK) {
		slot->error = error;
		slot->error_errno = errno;
	}
	/* Whatever was marked mid-update, this many are done. */
	atomic_store(&slot->progress, 2 * w.done);
	slot->end_ns = clock_ns();
	_exit(error == UPDATE_OK ? 0 : 1);
}
