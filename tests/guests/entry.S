/* Guest entry: the VMM starts us in flat 32-bit protected mode at 1 MiB
 * with interrupts off. Set a stack below the image and call main(). The
 * IRQ 0 stub counts ticks and acknowledges the PIC; every other vector
 * returns at once. */
	.section .text.entry, "ax"
	.globl _start
_start:
	movl $0x9f000, %esp
	call main
1:	cli
	hlt
	jmp 1b

	.text
	.globl irq0_stub
irq0_stub:
	pushl %eax
	incl ticks
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret

	.globl eoi_stub
eoi_stub:
	pushl %eax
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret

	.globl ignore_stub
ignore_stub:
	iret

	.bss
	.globl ticks
	.align 4
ticks:
	.long 0

	.section .note.GNU-stack, "", @progbits
