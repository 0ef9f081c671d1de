#include "common/procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/prom.h"

int procstat_read(struct procstat *p)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long vsize_pages = 0, rss_pages = 0;
	long page = sysconf(_SC_PAGESIZE);
	DIR *d;
	FILE *f;
	int rc = 0;

	getrusage(RUSAGE_SELF, &ru);
	p->user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	p->system_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	p->rss_bytes = p->vsize_bytes = 0;
	p->open_fds = 0;
	p->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (uint64_t)rl.rlim_cur : 0;
	f = fopen("/proc/self/statm", "re");
	if (f != NULL && fscanf(f, "%llu %llu", &vsize_pages, &rss_pages) == 2) {
		p->vsize_bytes = vsize_pages * (uint64_t)page;
		p->rss_bytes = rss_pages * (uint64_t)page;
	} else {
		rc = -1;
	}
	if (f != NULL)
		fclose(f);
	d = opendir("/proc/self/fd");
	if (d != NULL) {
		struct dirent *de;

		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				p->open_fds++;
		closedir(d);
		p->open_fds--;	/* the directory's own fd */
	} else {
		rc = -1;
	}
	return rc;
}

void procstat_prom(struct buf *b, const struct procstat *p, double start_unix_s)
{
	prom_header(b, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	prom_sample(b, "process_cpu_seconds_total", NULL, p->user_s + p->system_s);
	prom_header(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	prom_sample_u64(b, "process_resident_memory_bytes", NULL, p->rss_bytes);
	prom_header(b, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	prom_sample_u64(b, "process_virtual_memory_bytes", NULL, p->vsize_bytes);
	prom_header(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	prom_sample_u64(b, "process_open_fds", NULL, p->open_fds);
	prom_header(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
	prom_sample_u64(b, "process_max_fds", NULL, p->max_fds);
	prom_header(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	prom_sample(b, "process_start_time_seconds", NULL, start_unix_s);
}
