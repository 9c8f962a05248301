/* vmcore/machine — the PC board; see pc.h. */
#define LOG_TAG HAVM_TAG_DEV
#include "vmcore/machine/pc.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"

static uint64_t cpu_insns(void *opaque)
{
	struct machine *m = opaque;
	struct cpu_stats st;
	m->cpu_ops->get_stats(m->cpu, &st);
	return st.instructions;
}

static int add_dev(struct machine *m, const struct dev_ops *ops, const void *params)
{
	if (m->ndevs == MACHINE_MAX_DEVS)
		return -ENOSPC;
	m->devs[m->ndevs++] = (struct machine_dev){ .ops = ops, .params = params };
	return 0;
}

/* The board, in init order. Parameters are borrowed: the uart ones from
 * @cfg (which the caller keeps alive), the CMOS ones from @m. */
static int describe_board(struct machine *m, const struct pc_config *cfg,
			  const struct cmos_params *cmos)
{
	int rc = 0;
	rc |= add_dev(m, &pic_dev_ops, NULL);
	rc |= add_dev(m, &pit_dev_ops, NULL);
	rc |= add_dev(m, &cmos_dev_ops, cmos);
	for (unsigned i = 0; i < cfg->nuarts; i++)
		rc |= add_dev(m, &uart_dev_ops, &cfg->uart[i]);
	rc |= add_dev(m, &i8042_dev_ops, NULL);
	rc |= add_dev(m, &port92_dev_ops, NULL);
	rc |= add_dev(m, &port80_dev_ops, NULL);
	rc |= add_dev(m, &pci_host_dev_ops, NULL);
	for (unsigned i = 0; i < cfg->ndisks; i++)
		rc |= add_dev(m, &virtio_blk_dev_ops, &cfg->disk[i]);
	return rc;
}

static void unrealize_all(struct machine *m)
{
	while (m->nrealized > 0) {
		struct machine_dev *d = &m->devs[--m->nrealized];
		d->ops->unrealize(d->dev);
		d->dev = NULL;
	}
}

static int create_cpu(struct machine *m, const struct pc_config *cfg, struct havm_err *err)
{
	struct cpu_config cc = { .bus = &m->bus, .tsc_hz = m->clock.insn_hz };
	int rc = cfg->cpu_ops->create(&cc, &m->cpu, err);
	if (rc < 0) {
		havm_err_prefix(err, "cpu %s", cfg->cpu_ops->name);
		return rc;
	}
	m->cpu_ops = cfg->cpu_ops;
	rc = m->cpu_ops->add_ram(m->cpu, 0, m->ram_size, m->ram);
	if (rc < 0) {
		m->cpu_ops->free(m->cpu);
		m->cpu = NULL;
		m->cpu_ops = NULL;
		return havm_err_set(err, HAVM_E_INTERNAL, rc, "cpu %s: cannot map %u MiB of RAM",
				    cfg->cpu_ops->name, m->ram_size >> 20);
	}
	m->cpu_ops->reset(m->cpu);
	vclock_init(&m->clock, cpu_insns, m, m->clock.insn_hz);
	return 0;
}

int pc_init(struct machine *m, const struct pc_config *cfg, struct havm_err *err)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->loop = cfg->loop;
	vclock_init(&m->clock, NULL, NULL, cfg->insn_hz);
	machine_bus_init(m);
	int rc = io_bus_init(&m->io);
	if (rc < 0) {
		havm_err_set(err, HAVM_E_INTERNAL, rc, "machine: out of memory");
		goto fail_lock;
	}
	rc = machine_ram_alloc(m, cfg->ram_size, err);
	if (rc < 0)
		goto fail_io;
	if (cfg->cpu_ops) {
		rc = create_cpu(m, cfg, err);
		if (rc < 0)
			goto fail_ram;
	}
	/* PCI interrupt lines are level-triggered, as a BIOS would set ELCR. */
	for (unsigned i = 0; i < cfg->ndisks && i < PC_MAX_DISKS; i++)
		m->elcr_level |= (uint16_t)(1u << (cfg->disk[i].irq & 15));
	m->cmos_params = (struct cmos_params){ .ram_size = cfg->ram_size, .host_time = cfg->rtc_time };
	if (describe_board(m, cfg, &m->cmos_params) < 0) {
		rc = havm_err_set(err, HAVM_E_INTERNAL, -ENOSPC, "machine: more than %d devices",
				  MACHINE_MAX_DEVS);
		goto fail_cpu;
	}
	pthread_mutex_lock(&m->lock);
	for (; m->nrealized < m->ndevs; m->nrealized++) {
		struct machine_dev *d = &m->devs[m->nrealized];
		rc = d->ops->realize(m, d->params, &d->dev, err);
		if (rc < 0) {
			havm_err_prefix(err, "device %s", d->ops->name);
			unrealize_all(m);
			pthread_mutex_unlock(&m->lock);
			goto fail_cpu;
		}
		hlog(LOG_DEBUG, "machine: device %s realized", d->ops->name);
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
fail_cpu:
	if (m->cpu)
		m->cpu_ops->free(m->cpu);
	m->cpu = NULL;
fail_ram:
	machine_ram_free(m);
fail_io:
	io_bus_fini(&m->io);
fail_lock:
	pthread_mutex_destroy(&m->lock);
	return rc;
}

void pc_fini(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	unrealize_all(m);
	pthread_mutex_unlock(&m->lock);
	if (m->cpu)
		m->cpu_ops->free(m->cpu);
	m->cpu = NULL;
	machine_ram_free(m);
	io_bus_fini(&m->io);
	pthread_mutex_destroy(&m->lock);
}

void pc_reset_devices(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nrealized; i++)
		m->devs[i].ops->reset(m->devs[i].dev);
	pthread_mutex_unlock(&m->lock);
}

void *pc_find_dev(struct machine *m, const char *name)
{
	for (unsigned i = 0; i < m->nrealized; i++)
		if (strcmp(m->devs[i].ops->name, name) == 0)
			return m->devs[i].dev;
	return NULL;
}
