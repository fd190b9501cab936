#!/bin/sh
# isolab initramfs /init: loads the virtio modules listed in /etc/modules (in order; /etc/modules.mmio
# instead when the kernel command line says isolab.bus=mmio, QEMU's microvm machine),
# mounts the read-only root disk /dev/vda, moves /dev there and switch_roots to its /sbin/init.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
list=/etc/modules
read -r cmdline </proc/cmdline
case " $cmdline " in
  *" isolab.bus=mmio "*) list=/etc/modules.mmio ;;
esac
while read -r m; do
  [ -z "$m" ] && continue
  insmod "/lib/modules/$m.ko" || echo "isolab-initramfs: insmod $m failed"
done <"$list"
i=0
while [ ! -b /dev/vda ] && [ "$i" -lt 200 ]; do
  usleep 20000
  i=$((i + 1))
done
mkdir -p /newroot
if ! mount -t ext4 -o ro /dev/vda /newroot; then
  echo "isolab-initramfs: cannot mount /dev/vda; powering off"
  echo o >/proc/sysrq-trigger
  while :; do sleep 1; done
fi
umount /sys /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
