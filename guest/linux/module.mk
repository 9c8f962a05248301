# guest/linux/ — the real Linux test guest: Debian's linux-image-686 kernel and
# busybox-static:i386 in an initramfs, fetched by package name at build time.
# Nothing third-party is committed; everything downloaded lands in build/.
# Outputs (docs/guest-linux.md): build/guest/linux/{vmlinux,bzImage,initrd.img,cmdline},
# and demo-initrd.img: the same initramfs with demo-init.in as /init (`make demo`).
GUEST_LINUX_DIR := build/guest/linux
GUEST_LINUX_OUT := $(addprefix $(GUEST_LINUX_DIR)/,vmlinux bzImage initrd.img cmdline demo-initrd.img)
GUESTS += $(GUEST_LINUX_OUT)
INTEGRATION_TESTS += tests/integration/test_guest_linux_qemu.sh

.PHONY: guest-linux
guest-linux: $(GUEST_LINUX_OUT)

# The stamps keep the download and the unpacked tree until `make clean`; the
# kernel ABI is resolved afresh then (fetch-debs.sh).
$(GUEST_LINUX_DIR)/debs/.fetched: guest/linux/fetch-debs.sh
	guest/linux/fetch-debs.sh $(@D)
	@touch $@

$(GUEST_LINUX_DIR)/root/.unpacked: $(GUEST_LINUX_DIR)/debs/.fetched guest/linux/unpack.sh
	guest/linux/unpack.sh $(GUEST_LINUX_DIR)/debs $(@D)
	@touch $@

$(GUEST_LINUX_DIR)/bzImage: $(GUEST_LINUX_DIR)/root/.unpacked
	cp $(GUEST_LINUX_DIR)/root/boot/vmlinuz-$$(cat $(GUEST_LINUX_DIR)/root/kernel-version) $@

$(GUEST_LINUX_DIR)/vmlinux: $(GUEST_LINUX_DIR)/bzImage guest/linux/extract-vmlinux.sh
	guest/linux/extract-vmlinux.sh $< $@

$(GUEST_LINUX_DIR)/initrd.img: $(GUEST_LINUX_DIR)/root/.unpacked guest/linux/mkinitrd.sh \
		guest/linux/init.in guest/linux/modules.list
	guest/linux/mkinitrd.sh $(GUEST_LINUX_DIR)/root guest/linux/init.in guest/linux/modules.list $@

$(GUEST_LINUX_DIR)/demo-initrd.img: $(GUEST_LINUX_DIR)/root/.unpacked guest/linux/mkinitrd.sh \
		guest/linux/demo-init.in guest/linux/modules.list
	guest/linux/mkinitrd.sh $(GUEST_LINUX_DIR)/root guest/linux/demo-init.in guest/linux/modules.list $@

$(GUEST_LINUX_DIR)/cmdline: guest/linux/cmdline
	@mkdir -p $(@D)
	cp $< $@
