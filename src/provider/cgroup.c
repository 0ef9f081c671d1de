#include "provider/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG2_ROOT "/sys/fs/cgroup"
#define CG1_CPU "/sys/fs/cgroup/cpu"
#define CFS_PERIOD_US 100000
/* The pool's group outweighs anything else on the machine (the largest
 * weight each version takes), so an instance gets its vcpu when the
 * machine is busy, as a VM gets its vCPU; each instance's quota still caps
 * it, so the pool never takes more than the sum of its quotas. */
#define CG2_POOL_WEIGHT "10000"
#define CG1_POOL_SHARES "262144"

static int write_file(const char *path, const char *text, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return err_set(e, "open %s: %s", path, strerror(errno));
	n = write(fd, text, strlen(text));
	if (n == -1) {
		err_set(e, "write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int make_dir(const char *path, struct err *e)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return err_set(e, "mkdir %s: %s", path, strerror(errno));
	return 0;
}

static int has_v2_cpu(void)
{
	char text[256] = "";
	FILE *f = fopen(CG2_ROOT "/cgroup.controllers", "re");

	if (f == NULL)
		return 0;
	if (fgets(text, sizeof(text), f) == NULL)
		text[0] = '\0';
	fclose(f);
	return strstr(text, "cpu") != NULL;
}

int cgroup_cpu_limit(const char *name, pid_t pid, double vcpu, char *dir, size_t cap,
    struct err *e)
{
	char path[512], val[64];
	long quota = (long)(vcpu * CFS_PERIOD_US);

	if (quota < 1000)
		quota = 1000;	/* the kernel's minimum */
	snprintf(val, sizeof(val), "%ld", (long)pid);
	if (has_v2_cpu()) {
		if (write_file(CG2_ROOT "/cgroup.subtree_control", "+cpu", e) == -1 ||
		    make_dir(CG2_ROOT "/poolscale", e) == -1 ||
		    write_file(CG2_ROOT "/poolscale/cgroup.subtree_control", "+cpu", e) == -1 ||
		    write_file(CG2_ROOT "/poolscale/cpu.weight", CG2_POOL_WEIGHT, e) == -1)
			return -1;
		snprintf(dir, cap, CG2_ROOT "/poolscale/%s", name);
		if (make_dir(dir, e) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s/cpu.max", dir);
		{
			char max[64];

			snprintf(max, sizeof(max), "%ld %d", quota, CFS_PERIOD_US);
			if (write_file(path, max, e) == -1)
				return -1;
		}
	} else if (access(CG1_CPU "/cpu.cfs_quota_us", F_OK) == 0) {
		char q[32];

		if (make_dir(CG1_CPU "/poolscale", e) == -1 ||
		    write_file(CG1_CPU "/poolscale/cpu.shares", CG1_POOL_SHARES, e) == -1)
			return -1;
		snprintf(dir, cap, CG1_CPU "/poolscale/%s", name);
		if (make_dir(dir, e) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
		snprintf(q, sizeof(q), "%d", CFS_PERIOD_US);
		if (write_file(path, q, e) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
		snprintf(q, sizeof(q), "%ld", quota);
		if (write_file(path, q, e) == -1)
			return -1;
	} else {
		return err_set(e, "no writable cgroup cpu controller (v2 " CG2_ROOT
		    " or v1 " CG1_CPU ")");
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	return write_file(path, val, e);
}

void cgroup_remove(const char *dir)
{
	if (dir != NULL && dir[0] != '\0')
		(void)rmdir(dir);
}
