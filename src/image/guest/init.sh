#!/bin/sh
# isolab guest PID 1 (installed as /sbin/init in the root tree; the VM's initramfs switch_roots here).
# Mounts the kernel filesystems, runs the executor with the task from the kernel command line
# (isolab.task=<base64url JSON>), prints start/end markers on the console, then powers off.
# PID 1 must never exit, so it loops after asking for power-off.
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/tmp NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
task=
read -r cmdline </proc/cmdline
# Split the command line into words, but never expand a word as a file pattern.
set -f
for word in $cmdline; do
  case "$word" in
    isolab.task=*) task="${word#isolab.task=}" ;;
  esac
done
set +f
read -r up _ </proc/uptime
printf "\n@isolab-guest start uptime=%s\n" "$up"
/usr/local/bin/node /opt/isolab/dist/executor/main.js "$task"
rc=$?
read -r up _ </proc/uptime
echo "@isolab-guest end rc=$rc uptime=$up"
sync
echo o >/proc/sysrq-trigger
while :; do sleep 1; done
