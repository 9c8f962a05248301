/* vmcore/vmc — the .vmc file: a VM's configuration in XML (docs/vmc.md).
 *
 * vmc_load reads and validates the whole file; on success the caller owns
 * the returned config (vmc_free). Every string is a plain malloc'd copy
 * (no libxml2 types leave this module). Relative paths are resolved
 * against the directory of the .vmc file. Errors are HAVM_E_CONFIG (or
 * HAVM_E_FORMAT for XML that does not parse, HAVM_E_NOTFOUND/IO for the
 * file itself) with a message "FILE:LINE: <element attr>: expected X,
 * found Y". */
#ifndef HAVM_VMCORE_VMC_VMC_H
#define HAVM_VMCORE_VMC_VMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define VMC_MAX_DISKS 4
#define VMC_MAX_SERIALS 4
#define VMC_MEMORY_MIN (1u << 20)
#define VMC_MEMORY_MAX (3072u << 20)

enum vmc_boot_kind { VMC_BOOT_LINUX, VMC_BOOT_FLAT };
enum vmc_disk_format { VMC_DISK_RAW, VMC_DISK_VHD };
enum vmc_serial_backend { VMC_SERIAL_NONE, VMC_SERIAL_STDIO, VMC_SERIAL_FILE, VMC_SERIAL_SOCKET };

struct vmc_disk {
	char *path;          /* a file, or NULL when store is set */
	char *store;         /* a region name in the VM store, or NULL */
	enum vmc_disk_format format;
	bool readonly;
};

struct vmc_serial {
	unsigned port;       /* 0 = COM1 .. 3 = COM4 */
	enum vmc_serial_backend backend;
	char *path;          /* file or socket path; NULL otherwise */
};

struct vmc_config {
	char *file;          /* the .vmc path it came from */
	char *name;
	uint32_t memory;     /* bytes */
	char *cpu_backend;   /* "interp" (default) or "kvm" */
	enum vmc_boot_kind boot;
	char *kernel, *initrd, *cmdline;    /* VMC_BOOT_LINUX; initrd/cmdline may be NULL */
	char *image;                        /* VMC_BOOT_FLAT */
	uint32_t load_addr, entry;          /* VMC_BOOT_FLAT; entry 0 = load_addr */
	struct vmc_disk disks[VMC_MAX_DISKS];
	unsigned ndisks;
	struct vmc_serial serials[VMC_MAX_SERIALS];
	unsigned nserials;
	char *control;       /* control socket path, or NULL */
};

int vmc_load(const char *path, struct vmc_config **out, struct havm_err *err) HAVM_MUST_CHECK;

/* Parses @len bytes of XML; @file names it in messages and its directory
 * anchors relative paths (NULL: paths are taken as they are). */
int vmc_parse(const char *xml, size_t len, const char *file, struct vmc_config **out,
	      struct havm_err *err) HAVM_MUST_CHECK;

void vmc_free(struct vmc_config *cfg);

const char *vmc_serial_backend_name(enum vmc_serial_backend b);

#endif
