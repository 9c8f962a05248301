/* Triple-fault guest: with the boot IDT empty (limit 0), INT3 faults, the
 * #GP cannot be delivered either (#DF), and the CPU shuts down. The VMM
 * must stop the VM with a clear report and exit status 21. */
#include "guest.h"

void main(void);

void main(void)
{
	serial_init();
	puts_serial("triple: faulting\n");
	__asm__ volatile("int $3");
}
