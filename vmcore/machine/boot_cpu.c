/* vmcore/machine — the flat 32-bit start state shared by the loaders. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmcore/machine/boot.h"
#include "vmcore/machine/machine.h"

static const uint64_t boot_gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };

static struct cpu_segment flat_segment(uint16_t sel, uint8_t type)
{
	return (struct cpu_segment){ .base = 0, .limit = 0xffffffffu, .selector = sel, .type = type,
				     .present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1 };
}

void boot_cpu_flat32(struct machine *m, struct cpu_state *st, uint32_t eip, uint32_t esp)
{
	uint8_t *gdt = machine_ram_ptr(m, BOOT_GDT, sizeof(boot_gdt));
	if (gdt)
		memcpy(gdt, boot_gdt, sizeof(boot_gdt));
	memset(st, 0, sizeof(*st));
	st->eip = eip;
	st->gpr[CPU_ESP] = esp;
	st->eflags = 0x2;
	for (int i = 0; i < CPU_SEG_COUNT; i++)
		st->seg[i] = flat_segment(BOOT_SEL_DS, 0x3);   /* data, read/write, accessed */
	st->seg[CPU_SEG_CS] = flat_segment(BOOT_SEL_CS, 0xb); /* code, execute/read, accessed */
	st->tr = (struct cpu_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	st->ldtr = (struct cpu_segment){ .limit = 0xffff, .type = 0x2, .present = 1, .unusable = 1 };
	st->gdt = (struct cpu_dtable){ .base = BOOT_GDT, .limit = sizeof(boot_gdt) - 1 };
	st->idt = (struct cpu_dtable){ .base = 0, .limit = 0 };
	st->cr0 = 0x11;   /* PE, ET */
	st->dr[6] = 0xffff0ff0;
	st->dr[7] = 0x400;
	st->fpu.fcw = 0x37f;
	st->fpu.mxcsr = 0x1f80;
}

int boot_read_file(const char *what, const char *path, uint32_t max, uint8_t **data, uint32_t *len,
		   struct havm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return havm_err_set(err, errno == ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, -errno,
				    "%s %s: %s", what, path, strerror(errno));
	struct stat sb;
	int rc = 0;
	if (fstat(fd, &sb) < 0) {
		rc = havm_err_set(err, HAVM_E_IO, -errno, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size == 0 || (uint64_t)sb.st_size > max) {
		rc = havm_err_set(err, HAVM_E_CONFIG, -EFBIG,
				  "%s %s: size %lld bytes, expected a regular file of 1..%u bytes", what,
				  path, (long long)sb.st_size, max);
		goto out;
	}
	uint8_t *buf = malloc((size_t)sb.st_size);
	if (!buf) {
		rc = havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s %s: out of memory", what, path);
		goto out;
	}
	size_t done = 0;
	while (done < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)sb.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = havm_err_set(err, HAVM_E_IO, n < 0 ? -errno : -EIO, "%s %s: short read at %zu",
					  what, path, done);
			free(buf);
			goto out;
		}
		done += (size_t)n;
	}
	*data = buf;
	*len = (uint32_t)sb.st_size;
out:
	close(fd);
	return rc;
}
