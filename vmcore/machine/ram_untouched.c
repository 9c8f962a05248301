/* vmcore/machine — which pages of guest RAM were never touched, so a save
 * can record them as zero without reading them.
 *
 * Why: the first access to a page costs a fault, and on a host that is
 * itself a VM without hardware-assisted nested paging that fault costs
 * 30-60 us even for the shared zero page; reading 1 GiB of mostly untouched
 * RAM took seconds. The kernel already knows which pages were never
 * touched: /proc/self/pagemap has one 64-bit entry per virtual page with a
 * "present" and a "swapped" bit. A page of a private *anonymous* mapping
 * that is neither present nor swapped (nor a migration or marker entry,
 * which pagemap also reports as swapped) reads as zero by definition.
 * After a restore, parts of RAM are private *file* mappings of the .vsv
 * (lazy restore); there a page that is not present holds file data, so
 * only ranges that /proc/self/maps lists as anonymous (inode 0) count.
 *
 * Reading pagemap walks page tables in the kernel and touches no page. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmcore/machine/machine.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_BATCH 4096  /* entries per pread: 32 KiB */

/* Sets in @bm the pages of [first, last) that pagemap shows neither present
 * nor swapped. */
static int mark_holes(int pm, uintptr_t ram, uint64_t first, uint64_t last, uint64_t *bm)
{
	uint64_t ent[PM_BATCH];
	for (uint64_t pg = first; pg < last;) {
		uint64_t n = last - pg < PM_BATCH ? last - pg : PM_BATCH;
		off_t off = (off_t)((ram / 4096 + pg) * sizeof(uint64_t));
		ssize_t got = pread(pm, ent, n * sizeof(uint64_t), off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || got % sizeof(uint64_t))
			return got < 0 ? -errno : -EIO;
		n = (uint64_t)got / sizeof(uint64_t);
		for (uint64_t i = 0; i < n; i++, pg++)
			if (!(ent[i] & (PM_PRESENT | PM_SWAP)))
				bm[pg / 64] |= 1ull << (pg % 64);
	}
	return 0;
}

/* One /proc/self/maps line: "start-end perms offset dev inode [path]",
 * start/end/offset in hex, inode in decimal. 0, or -EINVAL. */
static int parse_maps_line(const char *line, uintmax_t *start, uintmax_t *end, char perms[8],
			   uintmax_t *inode)
{
	char *p;
	errno = 0;
	*start = strtoumax(line, &p, 16);
	if (*p != '-')
		return -EINVAL;
	*end = strtoumax(p + 1, &p, 16);
	if (*p != ' ' || errno)
		return -EINVAL;
	size_t n = strcspn(++p, " ");
	if (n == 0 || n > 7 || p[n] != ' ')
		return -EINVAL;
	memcpy(perms, p, n);
	perms[n] = '\0';
	p += n + 1;
	for (int field = 0; field < 2; field++) { /* offset, dev */
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	*inode = strtoumax(p, &p, 10);
	return errno || (*p != ' ' && *p != '\n' && *p != '\0') ? -EINVAL : 0;
}

int machine_ram_untouched(struct machine *m, uint64_t *bm)
{
	size_t npages = m->ram_size / 4096;
	memset(bm, 0, (npages + 63) / 64 * sizeof(uint64_t));
	if (!m->ram)
		return -EINVAL;
	uintptr_t lo = (uintptr_t)m->ram, hi = lo + m->ram_size;
	FILE *maps = fopen("/proc/self/maps", "re");
	if (!maps)
		return -errno;
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		int rc = -errno;
		fclose(maps);
		return rc;
	}
	int rc = 0;
	char line[512];
	while (rc == 0 && fgets(line, sizeof(line), maps)) {
		uintmax_t start, end, inode;
		char perms[8];
		if (parse_maps_line(line, &start, &end, perms, &inode) < 0) {
			rc = -EIO;
			break;
		}
		if (!strchr(line, '\n')) {  /* a long path: skip the rest of the line */
			int c;
			while ((c = fgetc(maps)) != EOF && c != '\n')
				;
		}
		if (end <= lo || start >= hi || inode != 0 || perms[3] != 'p')
			continue;
		uintptr_t a = start > lo ? (uintptr_t)start : lo, b = end < hi ? (uintptr_t)end : hi;
		rc = mark_holes(pm, lo, (a - lo) / 4096, (b - lo) / 4096, bm);
	}
	if (rc == 0 && ferror(maps))
		rc = -EIO;
	close(pm);
	fclose(maps);
	if (rc < 0)
		memset(bm, 0, (npages + 63) / 64 * sizeof(uint64_t));
	return rc;
}
