/* libFuzzer target for the .vsv reader: any byte string must either be
 * refused with an error or yield a reader whose every section, CPU state
 * and RAM pass can be read without a sanitizer report. Seeds are in
 * tests/fuzz/corpus/vsv_fuzz/ (files written by test_vsv_crash's writer mode). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/vsv/vsv_test_util.h"
#include "vmcore/vsv/vsv.h"
#include "vmcore/vsv/vsv_cpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(struct vsv_reader *r)
{
	struct vsv_file_info info;
	vsv_reader_info(r, &info);
	const struct vsv_machine_desc *d = vsv_reader_desc(r);
	for (size_t i = 0; i < vsv_reader_section_count(r); i++) {
		const struct vsv_section_info *s = vsv_reader_section_at(r, i);
		const void *p;
		size_t len;
		uint32_t ver;
		if (s->kind != VSV_KIND_STATE || vsv_reader_section(r, s->name, s->instance, &p, &len, &ver, NULL) < 0)
			continue;
		if (strcmp(s->name, VSV_CPU_SECTION) == 0) {
			struct cpu_state st;
			(void)vsv_cpu_load(r, s->instance, &st, NULL);
		} else if (strcmp(s->name, "pic") == 0) {
			struct tu_pic pic;
			(void)vsv_state_load(r, "pic", s->instance, tu_pic_fields, tu_pic_nfields, &pic, NULL);
		}
	}
	if (d->ram_size <= (16u << 20)) {
		uint8_t *ram = calloc(1, d->ram_size ? d->ram_size : 1);
		if (ram) {
			(void)vsv_ram_load(r, ram, d->ram_size, VSV_RAM_ZEROED, NULL);
			free(ram);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vsv_reader *r;
	struct havm_err e;
	if (vsv_reader_open_mem(data, size, "fuzz.vsv", NULL, &r, &e) == 0) {
		exercise(r);
		(void)vsv_reader_verify(r, NULL);
		vsv_reader_close(r);
	}
	/* the machine comparison path, against the test machine */
	struct vsv_machine_desc want;
	tu_desc(&want);
	if (vsv_reader_open_mem(data, size, "fuzz.vsv", &want, &r, &e) == 0)
		vsv_reader_close(r);
	return 0;
}
