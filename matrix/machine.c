/*
 * What a bench ran on; see machine.h.  Everything here is read from the
 * kernel: /proc/cpuinfo for the CPU's name, sysconf and sched_getaffinity
 * for the counts, uname for the kernel, and statfs and
 * /proc/self/mountinfo for the counter's filesystem.
 */
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine.h"

/*
 * The keys /proc/cpuinfo names the CPU by, best first: x86 and most others
 * say "model name"; older ARM kernels "Hardware" or "Processor", MIPS "cpu
 * model", POWER "cpu", RISC-V "uarch".
 */
static const char *const model_keys[] = {
	"model name", "cpu model", "Hardware", "Processor", "cpu", "uarch",
};

/* Strips the blanks around s, in place. */
static char *
trimmed(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n'))
		*--end = '\0';
	return s;
}

static void
read_cpu_model(struct machine *m)
{
	const size_t nkeys = sizeof(model_keys) / sizeof(model_keys[0]);
	size_t best = nkeys, i;
	char line[512], *colon, *key;
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "re")) == NULL)
		return;
	while (best > 0 && fgets(line, sizeof(line), f) != NULL) {
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		key = trimmed(line);
		for (i = 0; i < best; i++)
			if (strcmp(key, model_keys[i]) == 0)
				break;
		if (i == best || *trimmed(colon + 1) == '\0')
			continue;
		best = i;
		snprintf(m->cpu_model, sizeof(m->cpu_model), "%s",
		    trimmed(colon + 1));
	}
	fclose(f);
}

/* The CPUs this process may run on: all of them unless taskset said less. */
static long
cpus_allowed(void)
{
	size_t ncpus, size;
	cpu_set_t *set;
	long count;

	/* A machine of more CPUs than the set holds wants a larger set. */
	for (ncpus = 1024; ncpus <= 1024 * 1024; ncpus *= 2) {
		if ((set = CPU_ALLOC(ncpus)) == NULL)
			return -1;
		size = CPU_ALLOC_SIZE(ncpus);
		if (sched_getaffinity(0, size, set) == 0) {
			count = CPU_COUNT_S(size, set);
			CPU_FREE(set);
			return count;
		}
		CPU_FREE(set);
		if (errno != EINVAL)
			return -1;
	}
	return -1;
}

/*
 * Filesystem names by statfs magic, for when /proc/self/mountinfo does not
 * say: ext2, ext3 and ext4 share theirs.
 */
static const struct {
	unsigned long	 magic;
	const char	*name;
} filesystems[] = {
	{ 0xef53, "ext2/ext3/ext4" },
	{ 0x01021994, "tmpfs" },
	{ 0x858458f6, "ramfs" },
	{ 0x58465342, "xfs" },
	{ 0x9123683e, "btrfs" },
	{ 0x2fc12fc1, "zfs" },
	{ 0xf2f52010, "f2fs" },
	{ 0xca451a4e, "bcachefs" },
	{ 0x794c7630, "overlay" },
	{ 0x6969, "nfs" },
	{ 0xff534d42, "cifs" },
	{ 0xfe534d42, "smb2" },
	{ 0x00c36400, "ceph" },
	{ 0x01021997, "9p" },
	{ 0x65735546, "fuse" },
	{ 0x4d44, "vfat" },
	{ 0x5346544e, "ntfs" },
	{ 0x7366746e, "ntfs3" },
	{ 0x3153464a, "jfs" },
	{ 0x52654973, "reiserfs" },
};

/*
 * The type mountinfo gives the mount of st_dev, the name mount(8) shows:
 * it tells ext4 from ext2, which statfs cannot.  Returns whether found.
 */
static bool
mounted_type(dev_t dev, char *type, size_t size)
{
	char line[4096], *at, *dash, *fstype;
	unsigned maj, min;
	bool found = false;
	FILE *f;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return false;
	/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if ((at = strchr(line, ' ')) == NULL ||
		    (at = strchr(at + 1, ' ')) == NULL ||
		    sscanf(at, " %u:%u", &maj, &min) != 2 ||
		    maj != major(dev) || min != minor(dev) ||
		    (dash = strstr(at, " - ")) == NULL)
			continue;
		fstype = dash + 3;
		fstype[strcspn(fstype, " \n")] = '\0';
		if (*fstype != '\0') {
			snprintf(type, size, "%s", fstype);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void
read_counter_fs(struct machine *m, const char *counter)
{
	char dir[4096], *slash;
	struct statfs fs;
	struct stat st;
	size_t i;

	/* The counter file may not be made yet: its directory is. */
	snprintf(dir, sizeof(dir), "%s", counter);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (statfs(dir, &fs) == -1)
		return;
	m->fs_known = true;
	m->fs_magic = (unsigned long)fs.f_type & 0xffffffffUL;
	if (stat(dir, &st) == 0 &&
	    mounted_type(st.st_dev, m->fs_type, sizeof(m->fs_type)))
		return;
	for (i = 0; i < sizeof(filesystems) / sizeof(filesystems[0]); i++)
		if (filesystems[i].magic == m->fs_magic)
			snprintf(m->fs_type, sizeof(m->fs_type), "%s",
			    filesystems[i].name);
}

void
machine_read(struct machine *m, const char *counter)
{
	memset(m, 0, sizeof(*m));
	read_cpu_model(m);
	m->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
	m->cpus_allowed = cpus_allowed();
	if (uname(&m->host) == -1)
		memset(&m->host, 0, sizeof(m->host));
	if (counter != NULL) {
		m->has_counter = true;
		read_counter_fs(m, counter);
	}
}
