#!/bin/sh
# isolab guest PID 1 (installed as /sbin/init in the root tree; the VM's initramfs switch_roots here).
# Mounts the kernel filesystems, runs the executor with the task from the kernel command line
# (isolab.task=<base64url JSON>, or read from the console after a snapshot restore with isolab.await=1), prints start/end markers on the console, then powers off.
# PID 1 must never exit, so it loops after asking for power-off.
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/tmp NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
# >>> task_from_cmdline (also run by src/image/guest-init.test.ts)
# Prints the value of isolab.task= from a kernel command line file. The line is split into words
# with pathname expansion off, and a value with anything but base64url characters is dropped.
task_from_cmdline() {
  _task=
  _line=
  read -r _line <"$1" || true
  set -f
  for _word in $_line; do
    case "$_word" in
      isolab.task=*) _task="${_word#isolab.task=}" ;;
    esac
  done
  set +f
  case "$_task" in
    *[!A-Za-z0-9_=-]*) _task= ;;
  esac
  printf '%s' "$_task"
}
# <<< task_from_cmdline
task="$(task_from_cmdline /proc/cmdline)"
# A snapshot template (isolab.await=1): the executor starts, then waits for its task on the console.
read -r cmdline </proc/cmdline
case " $cmdline " in
  *" isolab.await=1 "*)
    task=--await-task
    # sets the clock when the restored executor writes the host's time (seconds) into the FIFO, so
    # the executor does not have to fork itself (slow under emulation)
    mkfifo /run/isolab-clock
    (while read -r t </run/isolab-clock; do date -u -s "@$t" >/dev/null; done) &
    ;;
esac
read -r up _ </proc/uptime
printf "\n@isolab-guest start uptime=%s\n" "$up"
/usr/local/bin/node /opt/isolab/dist/executor/main.js "$task"
rc=$?
read -r up _ </proc/uptime
echo "@isolab-guest end rc=$rc uptime=$up"
sync
echo o >/proc/sysrq-trigger
while :; do sleep 1; done
