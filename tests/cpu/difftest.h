/* tests/cpu — differential tester: our interpreter against unicorn. */
#ifndef HAVM_TESTS_CPU_DIFFTEST_H
#define HAVM_TESTS_CPU_DIFFTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* One generated instruction and what the checker needs to know about it. */
struct gen_insn {
	uint8_t bytes[16];
	unsigned len;
	uint16_t op;        /* opcode, 0x0fxx for two-byte */
	uint8_t reg, mod, rm; /* ModRM fields (if any) */
	uint8_t immsz;      /* size of the trailing immediate (1, 2, 4) */
	uint8_t rep;        /* 0, 0xf2, 0xf3 */
	uint8_t imm;        /* the imm8, when there is one */
	bool o32, a32, string;
	bool cs_override;  /* has a 2E prefix */
};

uint64_t rng_next(uint64_t *s);
void gen_insn(uint64_t *s, struct gen_insn *g, bool mode32);
uint32_t gen_undef_flags(const struct gen_insn *g, unsigned cnt);
bool is_near_branch(const struct gen_insn *g);

#endif
