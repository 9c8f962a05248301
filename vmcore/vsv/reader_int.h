/* vmcore/vsv — the reader's index, shared by reader.c (open, validation,
 * device sections) and ram_load.c (loading RAM passes). */
#ifndef HAVM_VMCORE_VSV_READER_INT_H
#define HAVM_VMCORE_VSV_READER_INT_H

#include "vmcore/vsv/format_int.h"

struct vsv_run {
	uint64_t first;
	uint32_t pages;
	uint32_t flags;
};

struct vsv_pass {
	uint64_t data_abs;        /* file offset of the data area */
	uint64_t data_len;
	uint32_t data_crc;        /* from the section tail */
	size_t nruns;
	struct vsv_run *runs;
};

struct vsv_rsec {
	struct vsv_section_info info;
	uint8_t *data;            /* device sections: the checked payload */
};

struct vsv_reader {
	vsv_read_fn *fn;
	void *opaque;
	int fd;                   /* file readers, else -1 */
	const uint8_t *mem;       /* memory readers */
	uint64_t size;
	char *label;
	struct vsv_machine_desc desc;
	struct vsv_file_info info;
	struct vsv_rsec *secs;
	size_t nsecs, secs_cap;
	struct vsv_pass *passes;
	size_t npasses;
	int final_disks;          /* the final disks record was read */
};

/* Reads from the source, turning errors into a message naming the offset. */
int vsv_rd(struct vsv_reader *r, void *buf, size_t len, uint64_t off, const char *what, struct havm_err *err);

/* The final disks record (final_disks.c): checks it and puts its disks
 * into r->desc. */
int vsv_read_final_disks(struct vsv_reader *r, const struct vsv_section_info *in, uint32_t crc,
			 struct havm_err *err);

#endif
