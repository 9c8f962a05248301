# tests/guests — freestanding i386 guests built into flat binaries that
# the VMM loads at 1 MiB (<boot><image> in examples/*.vmc). The host cannot
# run them; only our VM does.
GUEST_BINS := ticker halt triple echo disk reboot tsccal dirty recorder
GUESTS += $(patsubst %,build/guests/%.bin,$(GUEST_BINS))
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -nostdlib -static -fno-pic -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin -O2 -Wall -Wextra -Werror \
	-Wl,--build-id=none -Wl,--no-warn-rwx-segments

build/guests/%.elf: tests/guests/%.c tests/guests/entry.S tests/guests/guest.h tests/guests/idt.h tests/guests/virtio_blk.h tests/guests/guest.ld
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -T tests/guests/guest.ld -o $@ tests/guests/entry.S $<

build/guests/%.bin: build/guests/%.elf
	objcopy -O binary $< $@
# system-level guests (tests/integration/test_cpu_system_guests.sh)
SYS_GUEST_BINS := idt paging rings fpu
GUESTS += $(patsubst %,build/guests/%.bin,$(SYS_GUEST_BINS))
$(patsubst %,build/guests/%.elf,$(SYS_GUEST_BINS)): tests/guests/trap.h
INTEGRATION_TESTS += tests/integration/test_cpu_system_guests.sh
