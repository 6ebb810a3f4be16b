// SPDX-License-Identifier: GPL-2.0
/*
 * insn-count: a QEMU TCG plugin that counts the guest instructions executed
 * between two marker instructions, user and kernel apart, for the bench
 * (tools/bench/bench -c). tools/bench/setup builds it against the
 * qemu-plugin.h of the installed QEMU; tools/bench/report loads it with
 *
 *   -plugin file=insn-count.so,out=FILE[,exact=on]
 *
 * The markers are instructions nothing else executes, recognised by their
 * bytes when a block is translated (QEMU 7.2's API cannot read registers):
 *
 *   66 87 db   xchg %bx,%bx   start counting
 *   66 87 c9   xchg %cx,%cx   stop, and write one line to FILE
 *
 * Each is a register exchanged with itself: no effect, no flags. Only
 * markers at user addresses count; a stray one (start while counting,
 * stop while not) is written out as such.
 *
 * Every vCPU counts every instruction it executes, in its own counters
 * (user: address in the lower half, kernel: the upper half); a marker
 * snapshots all of them, so a window is exact for the vCPU that executed
 * the markers and the other vCPUs' work in the same window is reported
 * beside it. Counting is by block (one callback per executed translation
 * block, adding its length), corrected at the markers by the instructions
 * of their block that lie outside the window; exact=on counts with one
 * callback per instruction instead (slower; it differs only when an
 * exception leaves a block before its end). Halts (a vCPU going idle) are
 * counted too: the idle loop is kernel code, and a window in which the
 * measuring vCPU halted is flagged.
 *
 * Each window is one line of FILE:
 *   MARK  seq  cpu  user  kernel  other_user  other_kernel  halts  other_halts
 * seq counts windows from 1; cpu is the vCPU of the markers. Instructions
 * strictly between the two markers are counted.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_CPUS	64
#define KERNEL_BIT	(1ULL << 63)

static const uint8_t start_bytes[3] = { 0x66, 0x87, 0xdb };
static const uint8_t stop_bytes[3] = { 0x66, 0x87, 0xc9 };

/* One vCPU's counters: written by its own thread, read by the marking one. */
struct vcpu {
	uint64_t n[2];		/* instructions: [0] user, [1] kernel */
	uint64_t halts;
	char pad[40];		/* a cache line each */
};

static struct vcpu cpus[MAX_CPUS];
static uint64_t base[MAX_CPUS][3];	/* snapshot at the start marker */
static int ncpus;
static int owner = -1;			/* vCPU of the open window, or -1 */
static uint64_t seq;
static bool exact;
static FILE *out;

static uint64_t get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void add(uint64_t *p, uint64_t v)
{
	/* Only this vCPU's thread writes it; others read it whole. */
	__atomic_store_n(p, *p + v, __ATOMIC_RELAXED);
}

static void on_block(unsigned int cpu, void *udata)
{
	uint64_t u = (uintptr_t)udata;

	if (cpu < MAX_CPUS)
		add(&cpus[cpu].n[!!(u & KERNEL_BIT)], u & ~KERNEL_BIT);
}

static void on_idle(qemu_plugin_id_t id, unsigned int cpu)
{
	(void)id;
	if (cpu < MAX_CPUS)
		add(&cpus[cpu].halts, 1);
}

/*
 * Every vCPU's counters into @snap; @cpu's user count as it stands at the
 * marker: its block was counted whole on entry, so take off the @unseen
 * instructions of it that have not run (start: those after the marker,
 * so the marker is the last one before the window; stop: the marker and
 * those after it).
 */
static void snapshot(uint64_t snap[][3], unsigned int cpu, uint64_t unseen)
{
	int i;

	for (i = 0; i < ncpus; i++) {
		snap[i][0] = get(&cpus[i].n[0]);
		snap[i][1] = get(&cpus[i].n[1]);
		snap[i][2] = get(&cpus[i].halts);
	}
	snap[cpu][0] -= unseen;
}

static void on_start(unsigned int cpu, void *udata)
{
	if (cpu >= MAX_CPUS)
		return;
	if (owner >= 0)
		fprintf(out, "STRAY\tstart\t%u\tinside a window of cpu %d\n",
			cpu, owner);
	snapshot(base, cpu, (uintptr_t)udata);
	__atomic_store_n(&owner, (int)cpu, __ATOMIC_RELEASE);
}

static void on_stop(unsigned int cpu, void *udata)
{
	uint64_t now[MAX_CPUS][3], d[3], o[3] = { 0, 0, 0 };
	int i, j, own = __atomic_load_n(&owner, __ATOMIC_ACQUIRE);

	if (cpu >= MAX_CPUS)
		return;
	if (own < 0) {
		fprintf(out, "STRAY\tstop\t%u\toutside any window\n", cpu);
		fflush(out);
		return;
	}
	snapshot(now, cpu, (uintptr_t)udata);
	if ((unsigned int)own != cpu)
		fprintf(out, "STRAY\tstop\t%u\twindow opened on cpu %d\n", cpu,
			own);
	for (i = 0; i < ncpus; i++)
		for (j = 0; j < 3; j++) {
			uint64_t v = now[i][j] - base[i][j];

			if (i == own)
				d[j] = v;
			else
				o[j] += v;
		}
	fprintf(out, "MARK\t%" PRIu64 "\t%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
		"\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", ++seq, own,
		d[0], d[1], o[0], o[1], d[2], o[2]);
	fflush(out);
	__atomic_store_n(&owner, -1, __ATOMIC_RELEASE);
}

static void on_insn(unsigned int cpu, void *udata)
{
	on_block(cpu, udata);
}

static bool is(struct qemu_plugin_insn *insn, const uint8_t *bytes)
{
	return qemu_plugin_insn_size(insn) == 3 &&
	       !memcmp(qemu_plugin_insn_data(insn), bytes, 3);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	uint64_t kernel = (int64_t)qemu_plugin_tb_vaddr(tb) < 0 ? KERNEL_BIT : 0;

	(void)id;
	if (!exact)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block,
						     QEMU_PLUGIN_CB_NO_REGS,
						     (void *)(uintptr_t)(n | kernel));
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		/*
		 * By block, the block's count already holds the marker and
		 * what follows it; exact counting does not count markers.
		 */
		if (!kernel && is(insn, start_bytes))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start,
				QEMU_PLUGIN_CB_NO_REGS,
				(void *)(uintptr_t)(exact ? 0 : n - i - 1));
		else if (!kernel && is(insn, stop_bytes))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop,
				QEMU_PLUGIN_CB_NO_REGS,
				(void *)(uintptr_t)(exact ? 0 : n - i));
		else if (exact)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn,
				QEMU_PLUGIN_CB_NO_REGS,
				(void *)(uintptr_t)(1 | kernel));
	}
}

static void plugin_exit(qemu_plugin_id_t id, void *p)
{
	(void)id;
	(void)p;
	if (owner >= 0)
		fprintf(out, "STRAY\tend\t%d\twindow never closed\n", owner);
	fprintf(out, "END\t%" PRIu64 "\n", seq);
	fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info, int argc,
					   char **argv)
{
	const char *path = NULL;
	int i;

	if (!info->system_emulation) {
		fprintf(stderr, "insn-count: system emulation only\n");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			path = argv[i] + 4;
		} else if (!strncmp(argv[i], "exact=", 6)) {
			if (!qemu_plugin_bool_parse("exact", argv[i] + 6, &exact))
				return -1;
		} else {
			fprintf(stderr, "insn-count: unknown option %s\n",
				argv[i]);
			return -1;
		}
	}
	ncpus = info->system.max_vcpus;
	if (!path || ncpus < 1 || ncpus > MAX_CPUS) {
		fprintf(stderr, "insn-count: needs out=FILE and 1 to %d vCPUs\n",
			MAX_CPUS);
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_vcpu_idle_cb(id, on_idle);
	qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
	return 0;
}
