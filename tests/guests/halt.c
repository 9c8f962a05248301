/* Halt guest: says so on COM1, then executes HLT with interrupts disabled.
 * The VMM must stop the VM with a clear report and exit status 20. */
#include "guest.h"

void main(void);

void main(void)
{
	serial_init();
	puts_serial("halt: stopping with interrupts off\n");
	__asm__ volatile("cli; hlt");
}
