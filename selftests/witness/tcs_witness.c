// SPDX-License-Identifier: GPL-2.0
/*
 * tcs_witness: load and attach tcs_witness.bpf.o, then answer on stdin.
 *
 *   tcs_witness
 *
 * Prints "ready HASHDANCE" once every program is attached (HASHDANCE: the
 * timewait hashing function this kernel has), then for each line "dump"
 * read from stdin prints
 *
 *   row NETNS SIDE PORT TIME_WAIT CLOSE_WAIT FIN_WAIT2 TW_OVERFLOW
 *   ...
 *   lost N            events not counted: a map was full
 *   missed PROG N     runs of PROG the kernel skipped (recursion)
 *   end
 *
 * with NETNS the inode number of the network namespace and SIDE local or
 * remote.  Exits when stdin ends.  The programs are attached with libbpf
 * rather than `bpftool prog loadall ... autoattach': Debian 12's bpftool
 * (7.1) has no autoattach, and cannot attach tracing programs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "tcs_witness.h"
#include "tcs_witness.skel.h"

#define PROG	"tcs_witness"

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Whether this kernel has function @name (BTF FUNC). */
static int have_func(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) >= 0;
}

static int dump(struct tcs_witness_bpf *skel)
{
	static const char *const sides[] = { "local", "remote" };
	int fd = bpf_map__fd(skel->maps.counts);
	struct tcs_witness_key key, next, *prev = NULL;
	struct tcs_witness_counts c;
	struct bpf_program *p;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &c))
			continue;
		printf("row %u %s %u %llu %llu %llu %llu\n", key.netns,
		       sides[key.side & 1], key.port,
		       (unsigned long long)c.n[TCS_WITNESS_TIME_WAIT],
		       (unsigned long long)c.n[TCS_WITNESS_CLOSE_WAIT],
		       (unsigned long long)c.n[TCS_WITNESS_FIN_WAIT2],
		       (unsigned long long)c.n[TCS_WITNESS_TW_OVERFLOW]);
	}
	if (errno != ENOENT) {
		fprintf(stderr, PROG ": reading the map: %s\n", strerror(errno));
		return -1;
	}
	printf("lost %llu\n", (unsigned long long)skel->bss->lost);
	bpf_object__for_each_program(p, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(p))
			continue;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len)) {
			fprintf(stderr, PROG ": %s: %s\n", bpf_program__name(p),
				strerror(errno));
			return -1;
		}
		printf("missed %s %llu\n", bpf_program__name(p),
		       (unsigned long long)info.recursion_misses);
	}
	printf("end\n");
	return fflush(stdout);
}

int main(int argc, char **argv)
{
	struct tcs_witness_bpf *skel;
	struct btf *vmlinux;
	char line[64];
	int schedule, err = 1;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: " PROG " (then \"dump\" lines on stdin)\n");
		return 2;
	}
	libbpf_set_print(print_libbpf);

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, PROG ": no kernel BTF: %s\n", strerror(errno));
		return 1;
	}
	schedule = have_func(vmlinux, "inet_twsk_hashdance_schedule");
	if (!schedule && !have_func(vmlinux, "inet_twsk_hashdance")) {
		fprintf(stderr, PROG ": no inet_twsk_hashdance{,_schedule}\n");
		btf__free(vmlinux);
		return 1;
	}
	btf__free(vmlinux);

	skel = tcs_witness_bpf__open();
	if (!skel) {
		fprintf(stderr, PROG ": open: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.tcs_w_hashdance_schedule, schedule);
	bpf_program__set_autoload(skel->progs.tcs_w_hashdance, !schedule);
	if (tcs_witness_bpf__load(skel)) {
		fprintf(stderr, PROG ": load: %s\n", strerror(errno));
		goto out;
	}
	if (tcs_witness_bpf__attach(skel)) {
		fprintf(stderr, PROG ": attach: %s\n", strerror(errno));
		goto out;
	}
	printf("ready %s\n", schedule ? "inet_twsk_hashdance_schedule" :
					"inet_twsk_hashdance");
	fflush(stdout);

	err = 0;
	while (!err && fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "dump\n")) {
			err = dump(skel) ? 1 : 0;
		} else {
			fprintf(stderr, PROG ": unknown command '%s'\n", line);
			err = 1;
		}
	}
out:
	tcs_witness_bpf__destroy(skel);
	return err;
}
