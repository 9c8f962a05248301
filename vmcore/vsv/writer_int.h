/* vmcore/vsv — the writer's state, shared by writer.c (container, device
 * sections, commit) and ram_write.c (RAM passes). */
#ifndef HAVM_VMCORE_VSV_WRITER_INT_H
#define HAVM_VMCORE_VSV_WRITER_INT_H

#include "vmcore/vsv/format_int.h"

#define VSV_OUT_BUF (1u << 20)  /* bytes handed to the sink at a time */
#define VSV_RAM_VERSION 1       /* version of the RAM pass section format */

struct vsv_writer {
	vsv_write_fn *fn;
	void *opaque;
	char *path;                 /* file writers: final path and "<path>.tmp" */
	char *tmp;
	char *label;                /* destination in messages */
	int fd;                     /* -1 for sinks */
	uint64_t file_off;          /* bytes the sink has taken */
	uint8_t *buf;               /* output buffer, VSV_OUT_BUF bytes */
	size_t buf_len;
	struct vsv_machine_desc desc;
	uint8_t written[VSV_MAX_DEVICES];
	uint32_t sections;
	uint32_t passes;
	uint32_t digest;
	int final_disks;            /* the final disks record is written */
	int failed;                 /* sticky negative errno */
	struct havm_err ferr;       /* the first failure */
	/* the device section being built */
	int sec_dev;                /* index in desc.devices, -1 if none open */
	uint8_t *sec_buf;
	size_t sec_len, sec_cap;
};

/* Copies @len bytes into the output (flushing as it fills), continuing
 * *crc over the copied bytes when @crc is not NULL. */
int vsv_out_put(struct vsv_writer *w, const void *src, size_t len, uint32_t *crc);
int vsv_out_zero(struct vsv_writer *w, size_t len);
/* Records a failure: the writer refuses everything afterwards. */
int vsv_writer_fail(struct vsv_writer *w, struct havm_err *err, enum havm_err_kind kind, int code,
		    const char *fmt, ...) HAVM_PRINTF(5, 6);
/* Returns the sticky failure (copied to @err) or 0. */
int vsv_writer_check(struct vsv_writer *w, struct havm_err *err);
/* Fills a 48-byte section header. */
void vsv_sec_header(uint8_t *h, enum vsv_section_kind kind, const char *name, uint32_t instance,
		    uint32_t version, uint64_t length);
/* Emits a section's tail and updates the counters and the digest. */
int vsv_sec_finish(struct vsv_writer *w, const uint8_t *hdr, uint64_t length, uint32_t crc,
		   struct havm_err *err);

#endif
