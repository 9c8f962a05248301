/* vmcore/vmm — what a .vsv holds for this VM and how it goes back in: the
 * machine description (RAM, CPU model, devices with their state versions,
 * disks with identity and write generation), the guest clock, the CPU and
 * every device's state section, and the restore that checks all of it
 * before anything runs. The save loops (stop-and-copy, pre-copy) are in
 * vm_save.c; the format is docs/vsv.md, the guarantees docs/save-restore.md.
 *
 * Disk write generation: a .vsv must be refused once its disks have moved
 * on. The generation is derived from the disk file's inode metadata after
 * the save's flush: a 64-bit FNV-1a over (size, mtime, ctime, inode). The
 * kernel moves ctime on every write, truncate or metadata change and no
 * user call can set it back, so any change to the file between save and
 * restore — by the guest after a checkpoint, by `havm vhd` tools, by dd —
 * changes the generation; nothing is written into the VHD (its format and
 * checksums stay untouched) and nothing lives beside it. Identity is the
 * VHD footer's unique id (zero for raw disks, which have none). */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "vmcore/disk/blk.h"
#include "vmcore/disk/vhd.h"
#include "vmcore/vmm/vm_int.h"
#include "vmcore/vmm/vm_snapshot.h"
#include "vmcore/vsv/fields.h"
#include "vmcore/vsv/vsv_cpu.h"

/* The guest-visible CPU, not the backend: a .vsv moves between backends. */
#define VM_CPU_MODEL "havm-i686"
#define CLOCK_SECTION "clock"
#define CLOCK_VERSION 1

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

int vm_disk_generation(const char *path, uint64_t *gen, struct havm_err *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "disk %s: cannot stat: %s", path, strerror(errno));
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv(h, (uint64_t)st.st_size);
	h = fnv(h, (uint64_t)st.st_mtim.tv_sec);
	h = fnv(h, (uint64_t)st.st_mtim.tv_nsec);
	h = fnv(h, (uint64_t)st.st_ctim.tv_sec);
	h = fnv(h, (uint64_t)st.st_ctim.tv_nsec);
	h = fnv(h, (uint64_t)st.st_ino);
	*gen = h;
	return 0;
}

/* Section instance of device @i: its rank among devices of the same name. */
static uint32_t dev_instance(const struct machine *m, unsigned i)
{
	uint32_t n = 0;
	for (unsigned j = 0; j < i; j++)
		if (strcmp(m->devs[j].ops->name, m->devs[i].ops->name) == 0)
			n++;
	return n;
}

static int add_disk(struct vm *vm, unsigned i, struct vsv_machine_desc *d, struct havm_err *err)
{
	const struct vblk_params *p = vm->m.devs[i].params;
	struct blk_dev *disk = vblk_disk(vm->m.devs[i].dev);
	int rc = blk_flush(disk);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "disk %s: flush before the save failed: %s",
				    blk_name(disk), strerror(-rc));
	uint8_t uuid[16] = { 0 };
	struct vhd_image *img = blk_vhd(disk);
	if (img)
		memcpy(uuid, vhd_image_footer(img)->uuid, 16);
	uint64_t gen = 0;
	rc = vm_disk_gen(vm, disk, &gen, err);
	if (rc < 0)
		return rc;
	rc = vsv_desc_add_disk(d, p->serial, uuid, gen);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_INTERNAL, rc, "disk %s: cannot describe it in the .vsv",
				    blk_name(disk));
	return 0;
}

int vm_machine_desc(struct vm *vm, struct vsv_machine_desc *d, struct havm_err *err)
{
	struct machine *m = &vm->m;
	memset(d, 0, sizeof(*d));
	d->ram_size = m->ram_size;
	snprintf(d->cpu_model, sizeof(d->cpu_model), "%s", VM_CPU_MODEL);
	int rc = vsv_desc_add_device(d, VSV_CPU_SECTION, 0, VSV_CPU_VERSION);
	if (rc == 0)
		rc = vsv_desc_add_device(d, CLOCK_SECTION, 0, CLOCK_VERSION);
	for (unsigned i = 0; i < m->nrealized && rc == 0; i++)
		rc = vsv_desc_add_device(d, m->devs[i].ops->name, dev_instance(m, i),
					 m->devs[i].ops->state_version);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_INTERNAL, rc, "machine: too many devices for a .vsv");
	for (unsigned i = 0; i < m->nrealized; i++) {
		if (m->devs[i].ops != &virtio_blk_dev_ops)
			continue;
		rc = add_disk(vm, i, d, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int write_blob(struct vsv_writer *w, const char *name, uint32_t inst, uint32_t version,
		      const void *buf, size_t len, struct havm_err *err)
{
	int rc = vsv_section_begin(w, name, inst, version, err);
	if (rc < 0)
		return rc;
	rc = vsv_section_write(w, buf, len);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "section %s/%u: write failed", name, inst);
	return vsv_section_end(w, err);
}

int vm_write_state(struct vm *vm, struct vsv_writer *w, struct havm_err *err)
{
	struct machine *m = &vm->m;
	struct cpu_state cs;
	int rc = m->cpu_ops->get_state(m->cpu, &cs);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_INTERNAL, rc, "cpu %s: get_state failed", m->cpu_ops->name);
	rc = vsv_cpu_save(w, 0, &cs, err);
	if (rc < 0)
		return rc;

	pthread_mutex_lock(&m->lock);
	struct vsv_enc e;
	vsv_enc_init(&e);
	vsv_put_u64(&e, machine_now(m));
	for (unsigned i = 0; i < m->nrealized && rc == 0; i++) {
		const struct dev_ops *ops = m->devs[i].ops;
		void *buf = calloc(1, ops->state_size ? ops->state_size : 1);
		if (!buf) {
			rc = havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "device %s: out of memory", ops->name);
			break;
		}
		ops->save(m->devs[i].dev, buf);
		struct vsv_enc de;
		vsv_enc_init(&de);
		rc = vsv_fields_encode(&de, ops->fields, ops->nfields, ops->state_version, buf);
		if (rc < 0)
			rc = havm_err_set(err, HAVM_E_INTERNAL, rc, "device %s: cannot encode its state", ops->name);
		else
			rc = write_blob(w, ops->name, dev_instance(m, i), ops->state_version, de.buf, de.len, err);
		vsv_enc_fini(&de);
		free(buf);
	}
	pthread_mutex_unlock(&m->lock);
	if (rc == 0 && e.err)
		rc = havm_err_set(err, HAVM_E_INTERNAL, e.err, "clock: out of memory");
	if (rc == 0)
		rc = write_blob(w, CLOCK_SECTION, 0, CLOCK_VERSION, e.buf, e.len, err);
	vsv_enc_fini(&e);
	return rc;
}

static int load_clock(struct vm *vm, struct vsv_reader *r, struct havm_err *err)
{
	const void *data;
	size_t len;
	uint32_t version;
	int rc = vsv_reader_section(r, CLOCK_SECTION, 0, &data, &len, &version, err);
	if (rc < 0)
		return rc;
	struct vsv_dec d;
	vsv_dec_init(&d, data, len);
	uint64_t ns = vsv_get_u64(&d);
	if (vsv_dec_finish(&d) < 0)
		return havm_err_set(err, HAVM_E_FORMAT, -EBADMSG, "section clock: %zu bytes, expected 8", len);
	vclock_set(&vm->m.clock, ns);
	return 0;
}

static int load_devices(struct vm *vm, struct vsv_reader *r, struct havm_err *err)
{
	struct machine *m = &vm->m;
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nrealized && rc == 0; i++) {
		const struct dev_ops *ops = m->devs[i].ops;
		uint32_t inst = dev_instance(m, i), version;
		const void *data;
		size_t len;
		rc = vsv_reader_section(r, ops->name, inst, &data, &len, &version, err);
		if (rc < 0)
			break;
		/* Fields newer than the file's version keep the device's current
		 * (freshly reset) values; the reader already refused newer files. */
		uint8_t *buf = calloc(1, ops->state_size ? ops->state_size : 1);
		if (!buf) {
			rc = havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "device %s: out of memory", ops->name);
			break;
		}
		ops->save(m->devs[i].dev, buf);
		rc = vsv_fields_decode(data, len, ops->fields, ops->nfields, version, buf);
		if (rc < 0)
			rc = havm_err_set(err, HAVM_E_FORMAT, rc,
					  "section %s/%u: %zu bytes do not match its version %u", ops->name, inst,
					  len, version);
		else if ((rc = ops->load(m->devs[i].dev, buf, ops->state_size, err)) < 0)
			havm_err_prefix(err, "section %s/%u", ops->name, inst);
		free(buf);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Opens the state from a file (@buf NULL) or from @len bytes at @buf. */
static int restore(struct vm *vm, const char *label, const void *buf, size_t len, struct havm_err *err)
{
	struct machine *m = &vm->m;
	struct vsv_machine_desc want;
	uint64_t t0 = vm_mono_ns();
	int rc = vm_machine_desc(vm, &want, err);
	if (rc < 0)
		return rc;
	struct vsv_reader *r = NULL;
	rc = buf ? vsv_reader_open_mem(buf, len, label, &want, &r, err) : vsv_reader_open(label, &want, &r, err);
	if (rc < 0) {
		havm_err_prefix(err, "restore refused");
		return rc;
	}
	uint64_t t_open = vm_mono_ns();
	struct cpu_state cs;
	rc = load_clock(vm, r, err);
	if (rc == 0)
		rc = vsv_cpu_load(r, 0, &cs, err);
	if (rc == 0 && m->cpu_ops->set_state(m->cpu, &cs) < 0)
		rc = havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%s: cpu %s refused the saved CPU state", label,
				  m->cpu_ops->name);
	if (rc == 0)
		rc = load_devices(vm, r, err);
	uint64_t t_dev = vm_mono_ns();
	/* A file is mapped lazily; a received stream is read (and checked). */
	if (rc == 0)
		rc = vsv_ram_load(r, m->ram, m->ram_size, buf ? VSV_RAM_ZEROED : VSV_RAM_MAP, err);
	uint64_t t_ram = vm_mono_ns();
	vsv_reader_close(r);
	if (rc < 0)
		return rc;
	hlog(LOG_NOTICE, "vm %s: restored from %s: open+validate %.3f ms, devices %.3f ms, RAM %s %.3f ms",
	     vm->cfg->name, label, (double)(t_open - t0) / 1e6, (double)(t_dev - t_open) / 1e6,
	     buf ? "load" : "map", (double)(t_ram - t_dev) / 1e6);
	return 0;
}

int vm_restore_state(struct vm *vm, const char *path, struct havm_err *err)
{
	return restore(vm, path, NULL, 0, err);
}

int vm_restore_state_mem(struct vm *vm, const void *buf, size_t len, const char *label, struct havm_err *err)
{
	return restore(vm, label, buf, len, err);
}
