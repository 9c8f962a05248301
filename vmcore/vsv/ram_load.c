/* vmcore/vsv — loading RAM passes: each data run is read straight into
 * guest RAM in large sequential reads (the data area is contiguous and
 * 4 KiB aligned in the file) and checksummed in place; zero runs of the
 * first pass are skipped when RAM is fresh, so untouched pages of an
 * anonymous mmap stay unpopulated. Later passes override earlier ones. */
#define LOG_TAG HAVM_TAG_VSV
#include "vmcore/vsv/reader_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  /* Linux 5.14 */
#endif

#define CHUNK (8u << 20)  /* bytes per read: large enough to stream, small enough to interleave the CRC */
#define MAP_MIN_PAGES 64  /* runs this long are always mapped; at most RAM / 256 KiB mappings in all */

/* Reads @len bytes at @off into @dst (NULL: into @scratch, for verify),
 * continuing *crc. */
static int read_data(struct vsv_reader *r, uint8_t *dst, uint8_t *scratch, uint64_t len, uint64_t off,
		     uint32_t *crc, struct havm_err *err)
{
	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		uint8_t *p = dst ? dst : scratch;
		int rc = vsv_rd(r, p, n, off, "RAM page data", err);
		if (rc < 0)
			return rc;
		*crc = vsv_crc32c(*crc, p, n);
		if (dst)
			dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* The shortest data run worth a mapping: 1 when pass 0 has few data runs
 * (a booted Linux has ~100), else the smallest length whose runs fit the
 * budget of RAM / 256 KiB mappings (vm.max_map_count), never above
 * MAP_MIN_PAGES — whose runs alone always fit. Reading a short run costs a
 * fault per page before the guest starts; mapping it costs one mmap. */
static uint32_t map_threshold(const struct vsv_pass *p, uint64_t ram_pages)
{
	uint64_t budget = ram_pages / MAP_MIN_PAGES ? ram_pages / MAP_MIN_PAGES : 1;
	uint64_t shorter[MAP_MIN_PAGES + 1] = {0}, total = 0;  /* data runs by length, capped */
	for (size_t i = 0; i < p->nruns; i++)
		if (!(p->runs[i].flags & VSV_RUN_ZERO)) {
			shorter[p->runs[i].pages < MAP_MIN_PAGES ? p->runs[i].pages : MAP_MIN_PAGES]++;
			total++;
		}
	uint32_t t = 1;
	for (; t < MAP_MIN_PAGES && total > budget; t++)
		total -= shorter[t];  /* now: runs of at least t + 1 pages */
	return t;
}

/* Pass 0's data runs mapped copy-on-write from the file (runs of at least
 * map_threshold() pages; shorter ones are read): every run starts at a
 * page-aligned file offset because the data area is 4 KiB aligned and runs
 * are whole pages. Pass 0's data CRC is not checked on this path (see
 * vsv.h). */
static int pass_map(struct vsv_reader *r, uint8_t *ram, struct havm_err *err)
{
	const struct vsv_pass *p = &r->passes[0];
	uint64_t off = p->data_abs;
	uint32_t unused = 0;
	uint32_t min_pages = map_threshold(p, r->desc.ram_size / VSV_PAGE_SIZE);
	for (size_t i = 0; i < p->nruns; i++) {
		const struct vsv_run *run = &p->runs[i];
		if (run->flags & VSV_RUN_ZERO)
			continue;
		size_t bytes = (size_t)run->pages * VSV_PAGE_SIZE;
		uint8_t *at = ram + run->first * VSV_PAGE_SIZE;
		if (run->pages < min_pages) {
			int rc = read_data(r, at, NULL, bytes, off, &unused, err);
			if (rc < 0)
				return rc;
		} else if (mmap(at, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, r->fd, (off_t)off) ==
			   MAP_FAILED) {
			return VSV_ERR(err, HAVM_E_IO, -errno, "%s: mapping RAM pages at file offset %" PRIu64
					    ": %s", r->label, off, strerror(errno));
		}
		off += bytes;
	}
	return 0;
}

static int pass_apply(struct vsv_reader *r, size_t k, uint8_t *ram, uint8_t *scratch, unsigned flags,
		      struct havm_err *err)
{
	const struct vsv_pass *p = &r->passes[k];
	uint64_t off = p->data_abs;
	uint32_t crc = 0;
	for (size_t i = 0; i < p->nruns; i++) {
		const struct vsv_run *run = &p->runs[i];
		uint64_t bytes = (uint64_t)run->pages * VSV_PAGE_SIZE;
		if (run->flags & VSV_RUN_ZERO) {
			if (ram && !(k == 0 && (flags & VSV_RAM_ZEROED)))
				memset(ram + run->first * VSV_PAGE_SIZE, 0, bytes);
			continue;
		}
		/* Fresh RAM: populate the run in one call rather than one fault
		 * per page during the read (faults dominate the load, docs/vsv.md
		 * "Restore speed"); harmless where the kernel lacks it. */
		if (ram && k == 0 && (flags & VSV_RAM_ZEROED))
			(void)madvise(ram + run->first * VSV_PAGE_SIZE, bytes, MADV_POPULATE_WRITE);
		int rc = read_data(r, ram ? ram + run->first * VSV_PAGE_SIZE : NULL, scratch, bytes, off, &crc, err);
		if (rc < 0)
			return rc;
		off += bytes;
	}
	if (VSV_CRC_DIFFERS(crc, p->data_crc))
		return VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, "%s: RAM pass %zu: page data checksum 0x%08" PRIx32
				    " at offset %" PRIu64 ", computed 0x%08" PRIx32, r->label, k, p->data_crc,
				    p->data_abs + p->data_len, crc);
	return 0;
}

int vsv_ram_load(struct vsv_reader *r, uint8_t *ram, uint64_t size, unsigned flags, struct havm_err *err)
{
	if (size != r->desc.ram_size)
		return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: RAM of %" PRIu64 " bytes given, the state "
				    "holds %" PRIu64, r->label, size, r->desc.ram_size);
	size_t k = 0;
	if ((flags & VSV_RAM_MAP) && r->fd >= 0 && r->npasses && (uintptr_t)ram % VSV_PAGE_SIZE == 0) {
		int rc = pass_map(r, ram, err);
		if (rc < 0)
			return rc;
		k = 1;
	}
	if (flags & VSV_RAM_MAP)
		flags |= VSV_RAM_ZEROED;
	for (; k < r->npasses; k++) {
		int rc = pass_apply(r, k, ram, NULL, flags, err);
		if (rc < 0)
			return rc;
	}
	hlog(LOG_DEBUG, "%s: loaded %zu RAM passes, %" PRIu64 " data pages", r->label, r->npasses,
	     r->info.ram_data_pages);
	return 0;
}

int vsv_reader_verify(struct vsv_reader *r, struct havm_err *err)
{
	uint8_t *scratch = malloc(CHUNK);
	if (!scratch)
		return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", r->label);
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < r->npasses; k++)
		rc = pass_apply(r, k, NULL, scratch, 0, err);
	free(scratch);
	return rc;
}
