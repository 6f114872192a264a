#!/usr/bin/env bash
# Builds the Debian 12 virtual machine that end-to-end tests use as a real
# target computer (e2e/lib/vm.mjs boots it): Xorg on :0 started at boot,
# with QEMU's PS/2 keyboard and USB tablet as real evdev devices (udev and
# xserver-xorg-input-libinput), the modesetting driver on QEMU's VGA
# (bochs-drm), and qemu-guest-agent, through which the host runs commands.
#
# Kept outside the clone in ${TETHER_VM_DIR:-~/.cache/tether/vm}: rootfs.img
# (ext4, no partition table; QEMU boots it with -snapshot, so it is never
# written), vmlinuz and initrd.img (booted directly with -kernel/-initrd, no
# bootloader) and stamp, this script's hash: if it matches, there is nothing
# to do. Needs root (debootstrap, chroot) and deb.debian.org; takes about two
# minutes, once. Installs qemu-system-x86 on the host for vm.mjs.
source "$(dirname "$0")/lib.sh"

VM_DIR="${TETHER_VM_DIR:-$HOME/.cache/tether/vm}"
MIRROR="http://deb.debian.org/debian"
RECIPE="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"

# What the VM needs beyond debootstrap's minbase. No display manager, no
# window manager; xdotool gives XTEST input to compare with the physical one.
GUEST_PACKAGES=(
    linux-image-amd64 systemd systemd-sysv udev kmod procps
    xserver-xorg-core xserver-xorg-input-libinput x11-xserver-utils xinput x11-utils xdotool
    qemu-guest-agent
)

if [ -f "$VM_DIR/stamp" ] && [ "$(cat "$VM_DIR/stamp")" = "$RECIPE" ] \
    && [ -f "$VM_DIR/rootfs.img" ] && [ -f "$VM_DIR/vmlinuz" ] && [ -f "$VM_DIR/initrd.img" ]; then
    say "VM image is up to date in $VM_DIR"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "vm-image.sh needs root (debootstrap and chroot)" >&2; exit 1; }

DEBIAN_PACKAGES=(debootstrap qemu-system-x86 e2fsprogs)
ensure_debian_packages

started=$SECONDS
mkdir -p "$VM_DIR"
BUILD="$(mktemp -d "$VM_DIR/build.XXXXXX")"
ROOT="$BUILD/root"

# Unmounts what the chroot mounted; deletes the scratch only once nothing is
# mounted under it any more (never through a bind mount into the host's /dev).
cleanup() {
    for mount in dev/pts dev sys proc; do
        if mountpoint -q "$ROOT/$mount" 2>/dev/null; then umount "$ROOT/$mount" || umount -l "$ROOT/$mount"; fi
    done
    if findmnt -rn -o TARGET | grep -q "^$BUILD"; then
        echo "still mounted under $BUILD; not deleting it" >&2
    else
        rm -rf --one-file-system "$BUILD"
    fi
}
trap cleanup EXIT

say "debootstrap (minbase) of bookworm"
# Leave documentation, manual pages and translations out of every package.
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d"
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/01-tether-small" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
# Nor Mesa's drivers and the LLVM they link (some 160 MB): Xorg's libraries
# depend on them, but glamor is off (10-tether.conf) and nothing uses GL.
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/02-tether-no-gl" <<'EOF'
path-exclude /usr/lib/x86_64-linux-gnu/dri/*
path-exclude /usr/lib/x86_64-linux-gnu/libLLVM-*
path-exclude /usr/lib/x86_64-linux-gnu/libz3.so*
EOF
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$BUILD/debootstrap.log" 2>&1 \
    || { tail -n 30 "$BUILD/debootstrap.log" >&2; exit 1; }

say "installing ${GUEST_PACKAGES[*]}"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sys "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount -t devpts devpts "$ROOT/dev/pts"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# No service starts inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${GUEST_PACKAGES[@]}" >"$BUILD/apt.log" 2>&1 || { tail -n 30 "$BUILD/apt.log" >&2; exit 1; }

say "configuring the guest"
echo tether-vm >"$ROOT/etc/hostname"
# slirp's fixed addresses: the guest is 10.0.2.15, the host 10.0.2.2, DNS 10.0.2.3.
echo "nameserver 10.0.2.3" >"$ROOT/etc/resolv.conf"
cat >"$ROOT/etc/systemd/network/10-slirp.network" <<'EOF'
[Match]
Type=ether

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
EOF
# Root on the virtio disk; the host's share (virtfs, mount_tag=host) at
# /host, mounted on first use so that boot never waits for it.
cat >"$ROOT/etc/fstab" <<'EOF'
/dev/vda  /      ext4  rw,noatime  0 1
host      /host  9p    trans=virtio,version=9p2000.L,msize=512000,nofail,noauto,x-systemd.automount  0 0
EOF
mkdir -p "$ROOT/host"
# A fixed machine id: every boot (from the same image, with -snapshot) is
# not a "first boot" and nothing prompts on the console.
tr -d - </proc/sys/kernel/random/uuid >"$ROOT/etc/machine-id"

# Xorg on :0 as root, on vt7, without a display manager or TCP. It starts
# once /dev/dri/card0 (bochs-drm) exists, a device systemd only tracks with
# this rule (waiting for all of udev's coldplug instead takes seconds);
# input devices are hot-plugged from udev anyway.
echo 'SUBSYSTEM=="drm", KERNEL=="card[0-9]*", TAG+="systemd"' >"$ROOT/etc/udev/rules.d/70-tether-drm.rules"
cat >"$ROOT/etc/systemd/system/tether-xorg.service" <<'EOF'
[Unit]
Description=Xorg on :0 for Tether's end-to-end tests
Wants=dev-dri-card0.device
After=dev-dri-card0.device systemd-udevd.service

[Service]
ExecStart=/usr/lib/xorg/Xorg :0 vt7 -novtswitch -nolisten tcp -noreset
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
EOF
# No screen saver or DPMS timeouts: only a test blanks the screen. The
# modesetting driver without glamor: there is no GPU (and no Mesa, above).
mkdir -p "$ROOT/etc/X11/xorg.conf.d"
cat >"$ROOT/etc/X11/xorg.conf.d/10-tether.conf" <<'EOF'
Section "ServerFlags"
    Option "BlankTime" "0"
    Option "StandbyTime" "0"
    Option "SuspendTime" "0"
    Option "OffTime" "0"
EndSection

Section "Device"
    Identifier "QEMU VGA"
    Driver "modesetting"
    Option "AccelMethod" "none"
EndSection
EOF
chroot "$ROOT" systemctl enable -q tether-xorg.service systemd-networkd.service
# Nothing waits for the network, prompts on a console, logs in or does
# housekeeping: the VM lives for one test.
chroot "$ROOT" systemctl mask -q systemd-networkd-wait-online.service systemd-firstboot.service \
    getty@tty1.service getty-static.service serial-getty@ttyS0.service apt-daily.timer \
    apt-daily-upgrade.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer

say "trimming kernel modules the VM has no hardware for"
modules="$(ls -d "$ROOT"/lib/modules/*)"
for dir in drivers/net/wireless drivers/net/ethernet drivers/media drivers/infiniband drivers/staging \
    drivers/gpu/drm/amd drivers/gpu/drm/nouveau drivers/gpu/drm/i915 drivers/gpu/drm/radeon \
    drivers/bluetooth drivers/iio drivers/isdn drivers/usb/gadget drivers/usb/serial \
    drivers/mtd drivers/net/can drivers/target drivers/md sound net/wireless net/mac80211 \
    net/bluetooth fs/btrfs fs/xfs fs/ocfs2 fs/nfs fs/nfsd fs/ceph fs/smb fs/gfs2; do
    rm -rf "${modules:?}/kernel/$dir"
done
kernel="$(basename "$modules")"
chroot "$ROOT" depmod "$kernel"
# The initrd only has to mount an ext4 virtio disk: fewer modules for its
# udev to load, a faster boot (the VM may run without KVM).
sed -i 's/^MODULES=.*/MODULES=list/' "$ROOT/etc/initramfs-tools/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >>"$ROOT/etc/initramfs-tools/modules"
chroot "$ROOT" update-initramfs -u -k "$kernel" >>"$BUILD/apt.log" 2>&1
rm -f "$ROOT/usr/sbin/policy-rc.d"
chroot "$ROOT" apt-get clean
# What debootstrap unpacked before the path-excludes applied.
rm -rf "$ROOT"/usr/share/{doc,man,info}/* "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/*.log
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +

for mount in dev/pts dev sys proc; do umount "$ROOT/$mount"; done
cp "$ROOT/boot/vmlinuz-$kernel" "$BUILD/vmlinuz"
cp "$ROOT/boot/initrd.img-$kernel" "$BUILD/initrd.img"

say "making the ext4 image"
# Room for what the guest writes at run time (with -snapshot it never
# reaches the file); the file stays sparse.
size_mb=$(($(du -sm "$ROOT" | cut -f1) * 5 / 4 + 512))
truncate -s "${size_mb}M" "$BUILD/rootfs.img"
# No journal: the image is only ever booted with -snapshot.
mkfs.ext4 -q -F -L tether-vm -O ^has_journal -E root_owner=0:0 -d "$ROOT" "$BUILD/rootfs.img"

mv "$BUILD/rootfs.img" "$BUILD/vmlinuz" "$BUILD/initrd.img" "$VM_DIR/"
echo "$RECIPE" >"$VM_DIR/stamp"
say "VM image built in $((SECONDS - started)) s: $VM_DIR ($(du -sh --apparent-size "$VM_DIR/rootfs.img" | cut -f1) apparent, $(du -sh "$VM_DIR/rootfs.img" | cut -f1) on disk)"
