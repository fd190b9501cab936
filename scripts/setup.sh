#!/usr/bin/env bash
# isolab host setup: installs what is missing, starts the engines, and says what it changed.
# Used by `make lab`, `make test` and the Vagrant box's provisioner (one script, not two).
#
#   scripts/setup.sh [--dry-run] [STEP...]
#     STEP: packages node kernel gvisor services npm, or all (the default, in that order)
#     --dry-run  print what would change, change nothing
#
# It changes only what it must, and never replaces or removes anything:
#   - apt installs run with --no-remove (apt refuses instead of removing a conflicting package),
#     and their output is shown;
#   - an existing container engine (any distribution's dockerd, or a docker that answers) is used
#     as it is; docker.io is installed only when there is none (a docker client alone is none);
#   - the guest kernel is downloaded and unpacked into the state folder, never installed on the host;
#   - a dockerd that setup itself starts gets --bridge=none --iptables=false --ip-forward=false;
#   - /etc/docker/daemon.json gets a "runsc" runtime merged in, every other setting kept;
#   - NodeSource only when no Node.js >= 20 can be had otherwise: key fingerprint checked,
#     repository pinned to the nodejs package, existing files left alone;
#   - npm ci --ignore-scripts, then the one native addon (@unraid/libvirt) built from source.
# Every change is printed ("setup: changed: ...") and appended to <state>/setup/changes.log; the
# README's "What setup changes on a host" lists them all and how to undo each one.
#
# Environment: ISOLAB_STATE_DIR (as for the CLI), ISOLAB_LOG_DIR (dockerd's log when setup starts it,
# default /var/log/isolab), ISOLAB_SETUP_LOCK (default /run/lock/isolab-setup.lock),
# ISOLAB_DOCKER_CONFIG (default /etc/docker/daemon.json), ISOLAB_DOCKER_PIDFILE (default
# /var/run/docker.pid), ISOLAB_RUNSC_PLATFORM (ptrace|kvm; default: kvm only if a runsc probe on it works).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_MAJOR=20
# NodeSource's repository signing key ("NSolid <nsolid-gpg@nodesource.com>").
NODESOURCE_FPR=6F71F525282841EEDAF851B42F59B5F99B1BE0B4
NODESOURCE_KEY_URL=https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key
KERNEL_META=linux-image-cloud-amd64
# Packages isolab needs besides a container engine. runsc: gVisor; kmod: depmod for the guest kernel.
BASE_PACKAGES=(
  runsc
  qemu-system-x86 libvirt-daemon-system libvirt-clients libvirt-dev pkg-config
  busybox-static e2fsprogs cpio kmod iproute2 util-linux
  python3 make g++ shellcheck
  vagrant vagrant-libvirt
)
DOCKERD_NET_FLAGS=(--bridge=none --iptables=false --ip-forward=false)
DOCKER_DROPIN=/etc/systemd/system/docker.service.d/isolab-no-network.conf

DRY_RUN=0
CHANGES=()
APT_UPDATED=0

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

state_dir() {
  if [ -n "${ISOLAB_STATE_DIR:-}" ]; then printf '%s\n' "$ISOLAB_STATE_DIR"
  elif [ "$(id -u)" -eq 0 ]; then printf '%s\n' /var/lib/isolab
  else printf '%s\n' "$HOME/.local/state/isolab"
  fi
}

init_paths() {
  STATE_DIR="$(state_dir)"
  LOG_DIR="${ISOLAB_LOG_DIR:-/var/log/isolab}"
  DOCKER_CONFIG="${ISOLAB_DOCKER_CONFIG:-/etc/docker/daemon.json}"
  DOCKER_PIDFILE="${ISOLAB_DOCKER_PIDFILE:-/var/run/docker.pid}"
  SETUP_STATE="$STATE_DIR/setup"
  KERNELS_DIR="$STATE_DIR/kernels"
}

# In a dry run: records and prints "would: ..." and succeeds, so the caller returns before changing anything.
dry() {
  if [ "$DRY_RUN" = 1 ]; then
    CHANGES+=("$*")
    say "would: $*"
    return 0
  fi
  return 1
}

# Records a change that was made: printed now, summarised at the end, appended to <state>/setup/changes.log.
changed() {
  CHANGES+=("$*")
  say "changed: $*"
  mkdir -p "$SETUP_STATE"
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$SETUP_STATE/changes.log"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The prefix that runs a command as root (empty when we are root), for commands started in the background.
root_prefix() {
  if [ "$(id -u)" -eq 0 ]; then AS_ROOT=(); else AS_ROOT=(sudo); fi
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

apt_get() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}

apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  say "apt-get update"
  apt_get update -q
  APT_UPDATED=1
}

# apt-get install that refuses (instead of removing anything) and shows apt's output.
apt_install() {
  apt_update_once
  say "apt-get install --no-remove $*"
  if ! apt_get install -y -q --no-remove --no-install-recommends "$@"; then
    die "apt-get refused or failed to install $* (see its output above); nothing was removed. Resolve the conflict by hand and run setup again."
  fi
  mkdir -p "$SETUP_STATE"
  printf '%s\n' "$@" >>"$SETUP_STATE/installed-packages"
  changed "installed with apt: $*"
}

have_systemd() { [ -d /run/systemd/system ]; }

wait_for() {
  local what="$1" secs="$2"
  shift 2
  local i
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  say "$what did not come up within ${secs}s"
  return 1
}

# ---------------------------------------------------------------------------------------------
# Container engine

# The engine's version when a docker client reaches one (DOCKER_HOST or the default socket).
docker_server_version() {
  command -v docker >/dev/null 2>&1 || return 1
  local v
  v="$(timeout 20 docker version --format '{{.Server.Version}}' 2>/dev/null)" || return 1
  [ -n "$v" ] || return 1
  printf '%s\n' "$v"
}

docker_answers() { docker_server_version >/dev/null; }

# Sets ENGINE to running | installed | none, and ENGINE_DESC. A docker client alone is no engine.
detect_engine() {
  local v
  if v="$(docker_server_version)"; then
    ENGINE=running
    ENGINE_DESC="the running Docker engine $v (reached by $(command -v docker))"
  elif command -v dockerd >/dev/null 2>&1; then
    ENGINE=installed
    ENGINE_DESC="the installed $(command -v dockerd) (not running yet)"
  else
    ENGINE=none
    if command -v docker >/dev/null 2>&1; then
      ENGINE_DESC="no Docker engine: $(command -v docker) is a client with no engine behind it and there is no dockerd"
    else
      ENGINE_DESC="no Docker engine"
    fi
  fi
}

# The pid of the running dockerd: from its pid file, or (default pid file only) the one dockerd process.
dockerd_pid() {
  local pid=''
  if [ -r "$DOCKER_PIDFILE" ]; then pid="$(tr -dc 0-9 <"$DOCKER_PIDFILE")"; fi
  if [ -z "$pid" ] && [ -z "${ISOLAB_DOCKER_PIDFILE:-}" ]; then
    pid="$(pgrep -x dockerd | head -n 1 || true)"
  fi
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

proc_start_time() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

# True when the running dockerd is the one this script started (pid and start time recorded then).
started_by_setup() {
  local pid rec
  pid="$(dockerd_pid)" || return 1
  [ -r "$SETUP_STATE/dockerd.started" ] || return 1
  rec="$(cat "$SETUP_STATE/dockerd.started")"
  [ "$rec" = "$pid $(proc_start_time "$pid")" ]
}

# The networking flags for a dockerd that setup starts, minus any the daemon config already sets
# (dockerd refuses to start when a flag and the config file set the same option).
dockerd_flags() {
  local flag key
  for flag in "${DOCKERD_NET_FLAGS[@]}"; do
    key="${flag%%=*}"
    key="${key#--}"
    if [ -r "$DOCKER_CONFIG" ] && grep -q "\"$key\"" "$DOCKER_CONFIG"; then
      say "$DOCKER_CONFIG sets \"$key\": dockerd gets no $flag"
      continue
    fi
    printf '%s\n' "$flag"
  done
}

# Under systemd, a docker.io that setup installs starts from its unit: give the unit the same flags
# before the package is installed (its postinst starts the service).
write_docker_dropin() {
  [ -e "$DOCKER_DROPIN" ] && return 0
  local flags
  mapfile -t flags < <(dockerd_flags)
  if dry "write $DOCKER_DROPIN (docker.service runs dockerd with ${flags[*]})"; then return 0; fi
  as_root mkdir -p "$(dirname "$DOCKER_DROPIN")"
  printf '%s\n' '# Written by isolab scripts/setup.sh, which installed docker.io: isolab containers have no network.' \
    '[Service]' 'ExecStart=' \
    "ExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock \$DOCKER_OPTS ${flags[*]}" \
    | as_root tee "$DOCKER_DROPIN" >/dev/null
  as_root systemctl daemon-reload
  changed "wrote $DOCKER_DROPIN"
}

start_docker() {
  local v
  if v="$(docker_server_version)"; then
    say "Docker engine $v answers"
    return 0
  fi
  if have_systemd && systemctl cat docker.service >/dev/null 2>&1; then
    if dry "systemctl start docker"; then return 0; fi
    as_root systemctl start docker
    wait_for dockerd 60 docker_answers
    changed "started docker.service"
    return 0
  fi
  local pid
  if pid="$(dockerd_pid)"; then
    say "dockerd (pid $pid) is running but does not answer yet; waiting"
    wait_for dockerd 60 docker_answers
    return 0
  fi
  local flags args dockerd
  mapfile -t flags < <(dockerd_flags)
  args=("${flags[@]}")
  [ -n "${ISOLAB_DOCKER_CONFIG:-}" ] && args+=(--config-file "$DOCKER_CONFIG")
  [ -n "${ISOLAB_DOCKER_PIDFILE:-}" ] && args+=(--pidfile "$DOCKER_PIDFILE")
  if ! dockerd="$(command -v dockerd)"; then
    if dry "start dockerd ${args[*]} (once docker.io is installed)"; then return 0; fi
    die "no dockerd to start (run: scripts/setup.sh packages)"
  fi
  if dry "start $dockerd ${args[*]} in the background (log: $LOG_DIR/dockerd.log)"; then return 0; fi
  as_root mkdir -p "$LOG_DIR"
  say "starting $dockerd ${args[*]} (log: $LOG_DIR/dockerd.log)"
  local AS_ROOT
  root_prefix
  "${AS_ROOT[@]}" setsid nohup "$dockerd" "${args[@]}" >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
  wait_for dockerd 60 docker_answers || die "dockerd did not answer; see $LOG_DIR/dockerd.log"
  if pid="$(dockerd_pid)"; then
    mkdir -p "$SETUP_STATE"
    printf '%s %s\n' "$pid" "$(proc_start_time "$pid")" >"$SETUP_STATE/dockerd.started"
  fi
  changed "started dockerd ${args[*]} (pid ${pid:-?})"
}

stop_setup_dockerd() {
  local pid i
  pid="$(dockerd_pid)" || return 0
  say "stopping dockerd (pid $pid), which setup started"
  as_root kill -TERM "$pid"
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  die "dockerd (pid $pid) did not stop within 30 s"
}

# ---------------------------------------------------------------------------------------------
# libvirt

libvirt_answers() { timeout 20 virsh -c qemu:///system version >/dev/null 2>&1; }

start_libvirt() {
  if libvirt_answers; then
    say "libvirtd answers"
    return 0
  fi
  if have_systemd && systemctl cat libvirtd.service >/dev/null 2>&1; then
    if dry "systemctl start libvirtd"; then return 0; fi
    as_root systemctl start libvirtd
    wait_for libvirtd 60 libvirt_answers
    changed "started libvirtd.service"
    return 0
  fi
  if dry "start virtlogd -d and libvirtd -d"; then return 0; fi
  pgrep -x virtlogd >/dev/null || as_root /usr/sbin/virtlogd -d
  if ! pgrep -x libvirtd >/dev/null; then
    as_root /usr/sbin/libvirtd -d
    changed "started virtlogd and libvirtd in the background"
  fi
  wait_for libvirtd 60 libvirt_answers
}

# ---------------------------------------------------------------------------------------------
# Steps

step_packages() {
  detect_engine
  local want=("${BASE_PACKAGES[@]}")
  if [ "$ENGINE" = none ]; then
    say "$ENGINE_DESC: docker.io will be installed"
    want=(docker.io "${want[@]}")
  else
    say "Docker: using $ENGINE_DESC; docker.io is not installed"
  fi
  local p missing=()
  for p in "${want[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  if [ "${#missing[@]}" -eq 0 ]; then
    say "apt packages present"
    return 0
  fi
  if [ "$DRY_RUN" = 1 ]; then
    dry "apt-get install --no-remove ${missing[*]}"
    # What apt would do (a simulation changes nothing); "Remv" lines mean a real run would refuse.
    apt-get -s -q --no-install-recommends install "${missing[@]}" 2>/dev/null \
      | grep -E '^(Inst|Remv) ' | sed 's/^/setup:   apt would: /' >&2 || true
    [ "$ENGINE" = none ] && have_systemd && write_docker_dropin
    return 0
  fi
  if [ "$ENGINE" = none ] && have_systemd; then write_docker_dropin; fi
  apt_install "${missing[@]}"
}

node_major() {
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# True when FILE (armored or binary) holds exactly one primary key, with fingerprint FPR.
key_has_fingerprint() {
  local file="$1" expected="$2" home found
  home="$(mktemp -d)"
  found="$(gpg --homedir "$home" --batch --with-colons --show-keys "$file" 2>/dev/null \
    | awk -F: '$1 == "pub" { p = 1; next } $1 == "fpr" && p { print $10 } { p = 0 }')" || true
  rm -rf "$home"
  [ "$found" = "$expected" ]
}

# The major version of the nodejs package apt would install from the sources configured now.
nodejs_candidate_major() {
  apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p' | head -n 1
}

step_node() {
  if command -v npm >/dev/null 2>&1 && [ "$(node_major)" -ge "$NODE_MAJOR" ]; then
    say "node $(node --version) present"
    return 0
  fi
  local cand
  cand="$(nodejs_candidate_major)"
  if [ -n "$cand" ] && [ "$cand" -ge "$NODE_MAJOR" ]; then
    if dry "apt-get install --no-remove nodejs (Node.js $cand from the configured apt sources)"; then return 0; fi
    apt_install nodejs
    return 0
  fi
  local keyring=/etc/apt/keyrings/nodesource.gpg
  local list=/etc/apt/sources.list.d/isolab-nodesource.list
  local pin=/etc/apt/preferences.d/isolab-nodesource
  say "Node.js >= $NODE_MAJOR is not available from the configured apt sources (candidate: ${cand:-none}): adding NodeSource"
  if [ -e "$keyring" ]; then
    key_has_fingerprint "$keyring" "$NODESOURCE_FPR" || die "$keyring exists but is not NodeSource's key $NODESOURCE_FPR; left alone, not using it"
    say "using the existing $keyring (fingerprint $NODESOURCE_FPR)"
  elif ! dry "fetch $NODESOURCE_KEY_URL, check fingerprint $NODESOURCE_FPR, store it as $keyring"; then
    if ! command -v curl >/dev/null || ! command -v gpg >/dev/null; then apt_install ca-certificates curl gnupg; fi
    local tmp
    tmp="$(mktemp -d)"
    curl -fsSL "$NODESOURCE_KEY_URL" -o "$tmp/key.asc"
    key_has_fingerprint "$tmp/key.asc" "$NODESOURCE_FPR" || { rm -rf "$tmp"; die "the key at $NODESOURCE_KEY_URL is not $NODESOURCE_FPR: refusing it"; }
    gpg --batch --dearmor -o "$tmp/key.gpg" "$tmp/key.asc"
    as_root install -d -m 0755 /etc/apt/keyrings
    as_root install -m 0644 "$tmp/key.gpg" "$keyring"
    rm -rf "$tmp"
    changed "stored NodeSource's key ($NODESOURCE_FPR) as $keyring"
  fi
  if [ -e "$list" ]; then
    say "$list exists: left as it is"
  elif ! dry "write $list (deb.nodesource.com node_$NODE_MAJOR.x, signed-by $keyring)"; then
    echo "deb [signed-by=$keyring] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main" | as_root tee "$list" >/dev/null
    changed "wrote $list"
  fi
  if [ -e "$pin" ]; then
    say "$pin exists: left as it is"
  elif ! dry "write $pin (only the nodejs package may come from deb.nodesource.com)"; then
    printf '%s\n' '# Written by isolab scripts/setup.sh: take only nodejs from NodeSource.' \
      'Package: nodejs' 'Pin: origin deb.nodesource.com' 'Pin-Priority: 600' '' \
      'Package: *' 'Pin: origin deb.nodesource.com' 'Pin-Priority: -1' | as_root tee "$pin" >/dev/null
    changed "wrote $pin"
  fi
  if dry "apt-get update; apt-get install --no-remove nodejs (from NodeSource)"; then return 0; fi
  APT_UPDATED=0
  apt_install nodejs
}

# Resolves the kernel metapackage to the versioned package it depends on: "<package> <version> <sha256>".
kernel_candidate() {
  local pkg ver sha
  pkg="$(apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null | sed -n 's/^Depends: //p' | head -n 1 \
    | tr ',' '\n' | grep -o 'linux-image-[^ |]*' | head -n 1)" || true
  [ -n "$pkg" ] || return 1
  ver="$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)"
  sha="$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^SHA256: //p' | head -n 1)"
  [ -n "$ver" ] && [ -n "$sha" ] || return 1
  printf '%s %s %s\n' "$pkg" "$ver" "$sha"
}

set_current_kernel() {
  local name="$1"
  if [ "$(readlink "$KERNELS_DIR/current" 2>/dev/null)" != "$name" ]; then
    ln -sfn "$name" "$KERNELS_DIR/.current.$$"
    mv -T "$KERNELS_DIR/.current.$$" "$KERNELS_DIR/current"
    changed "guest kernel: $KERNELS_DIR/current -> $name"
  fi
  local old
  for old in "$KERNELS_DIR"/linux-image-*; do
    if [ ! -d "$old" ] || [ "$(basename "$old")" = "$name" ]; then continue; fi
    rm -rf "$old"
    changed "removed the older guest kernel $old"
  done
}

# The guest kernel, without installing it on the host: `apt-get download` of the package the
# metapackage depends on, then `dpkg-deb -x` into <state>/kernels/<package>_<version>/, depmod
# there, and <state>/kernels/current pointing at it. The image build reads it from there.
step_kernel() {
  local cand
  if [ "$DRY_RUN" = 0 ] && [ -d "$KERNELS_DIR" ]; then
    find "$KERNELS_DIR" -maxdepth 1 -name '.incoming.*' -exec rm -rf {} + # an interrupted earlier run's
  fi
  if ! cand="$(kernel_candidate)"; then
    if dry "apt-get update (apt does not know $KERNEL_META yet), then download and unpack it into $KERNELS_DIR"; then return 0; fi
    apt_update_once
    cand="$(kernel_candidate)" || die "apt knows no $KERNEL_META (check /etc/apt/sources.list*)"
  fi
  local pkg ver sha name
  read -r pkg ver sha <<<"$cand"
  name="${pkg}_${ver}"
  if pkg_installed "$KERNEL_META"; then
    case "$(uname -r)" in
      *-cloud-amd64) ;; # the host boots a cloud kernel: it is the host's own
      *) say "note: $KERNEL_META is installed on this host (older isolab setups put it into /boot) but isolab no longer uses it; setup leaves it. If nothing else needs it: apt-get purge $KERNEL_META and its linux-image-*-cloud-amd64 (dpkg -l 'linux-image-*')" ;;
    esac
  fi
  if [ -f "$KERNELS_DIR/$name/isolab-kernel.json" ]; then
    say "guest kernel $pkg $ver present in $KERNELS_DIR/$name"
    if [ "$DRY_RUN" = 0 ]; then set_current_kernel "$name"; fi
    return 0
  fi
  if dry "download $pkg $ver (what $KERNEL_META depends on) and unpack it into $KERNELS_DIR/$name (not installed on the host)"; then return 0; fi
  mkdir -p "$KERNELS_DIR"
  local tmp deb got release
  tmp="$(mktemp -d "$KERNELS_DIR/.incoming.XXXXXX")"
  chmod 0755 "$tmp"
  # apt downloads as its unprivileged _apt user when it can write there.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
  say "apt-get download $pkg=$ver (into $tmp)"
  if ! (cd "$tmp" && apt-get download -q "$pkg=$ver"); then
    rm -rf "$tmp"
    die "apt-get download $pkg=$ver failed (run apt-get update?)"
  fi
  deb="$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)"
  got="$(sha256sum "$deb" | cut -d' ' -f1)"
  if [ "$got" != "$sha" ]; then
    rm -rf "$tmp"
    die "$deb has sha256 $got, apt's index says $sha: refusing it"
  fi
  dpkg-deb -x "$deb" "$tmp/root"
  release="$(find "$tmp/root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | head -n 1)"
  if [ -z "$release" ] || [ ! -d "$tmp/root/lib/modules/$release" ]; then
    rm -rf "$tmp"
    die "$deb holds no boot/vmlinuz-* with lib/modules"
  fi
  local depmod
  depmod="$(command -v depmod || echo /usr/sbin/depmod)"
  "$depmod" -b "$tmp/root" "$release"
  printf '{"package":"%s","version":"%s","release":"%s","debSha256":"%s","vmlinuz":"boot/vmlinuz-%s","modules":"lib/modules/%s"}\n' \
    "$pkg" "$ver" "$release" "$sha" "$release" "$release" >"$tmp/root/isolab-kernel.json"
  chown -R 0:0 "$tmp/root" 2>/dev/null || true
  rm -rf "${KERNELS_DIR:?}/$name"
  mv -T "$tmp/root" "$KERNELS_DIR/$name"
  rm -rf "$tmp"
  changed "unpacked the guest kernel $pkg $ver ($release) into $KERNELS_DIR/$name (not installed on the host)"
  set_current_kernel "$name"
}

dockerd_knows_runsc() {
  timeout 20 docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'
}

# gVisor's platform: $ISOLAB_RUNSC_PLATFORM, else kvm when `runsc --platform=kvm do` runs a program within
# 10 s, else ptrace. (On machines where /dev/kvm exists but hangs, the probe times out: ptrace.)
runsc_platform() {
  case "${ISOLAB_RUNSC_PLATFORM:-}" in
    ptrace | kvm) printf '%s\n' "$ISOLAB_RUNSC_PLATFORM"; return 0 ;;
    '') ;;
    *) die "ISOLAB_RUNSC_PLATFORM must be ptrace or kvm, got $ISOLAB_RUNSC_PLATFORM" ;;
  esac
  if [ ! -e /dev/kvm ]; then
    say "runsc platform ptrace: no /dev/kvm"
    printf 'ptrace\n'
    return 0
  fi
  local tmp out=''
  tmp="$(mktemp -d)"
  # `runsc do` runs its sandbox attached (it dies with runsc); TMPDIR keeps its bundle in our folder.
  out="$(cd "$tmp" && TMPDIR="$tmp" timeout -s KILL 10 "$(command -v runsc)" --network=none --platform=kvm "do" /bin/echo isolab-kvm-ok 2>/dev/null </dev/null)" || true
  rm -rf "$tmp"
  if [ "$out" = isolab-kvm-ok ]; then
    say "runsc platform kvm: a probe sandbox ran on it"
    printf 'kvm\n'
  else
    say "runsc platform ptrace: a probe on --platform=kvm did not run within 10 s"
    printf 'ptrace\n'
  fi
}

# Merges runtimes.runsc into the daemon config (argv: file runsc-path platform) and prints the
# new JSON. Exit 3: a "runsc" runtime is already there (left as it is); 2: the file is not a JSON object.
merge_daemon_json() {
  python3 - "$@" <<'PY'
import json, sys
path, runsc, platform = sys.argv[1:4]
try:
    with open(path) as f:
        text = f.read()
except FileNotFoundError:
    text = ''
try:
    cfg = json.loads(text) if text.strip() else {}
except ValueError as e:
    print(f'{path} is not valid JSON ({e})', file=sys.stderr)
    sys.exit(2)
if not isinstance(cfg, dict) or not isinstance(cfg.get('runtimes', {}), dict):
    print(f'{path}: expected a JSON object with an object "runtimes"', file=sys.stderr)
    sys.exit(2)
if 'runsc' in cfg.get('runtimes', {}):
    sys.exit(3)
cfg.setdefault('runtimes', {})['runsc'] = {'path': runsc, 'runtimeArgs': [f'--platform={platform}', '--network=none']}
print(json.dumps(cfg, indent=2))
PY
}

# Registers gVisor's runsc as a Docker runtime: merged into the daemon config, then dockerd reloads it
# (SIGHUP), or is restarted when setup started it and a reload was not enough.
step_gvisor() {
  local runsc
  if ! runsc="$(command -v runsc)"; then
    if dry "register runsc in $DOCKER_CONFIG (once runsc is installed)"; then return 0; fi
    die "runsc is not installed (run: scripts/setup.sh packages)"
  fi
  if docker_answers && dockerd_knows_runsc; then
    say "dockerd knows the runsc runtime"
    return 0
  fi
  local new rc=0 platform
  if [ "$DRY_RUN" = 1 ]; then platform='<ptrace, or kvm if a probe works>'; else platform="$(runsc_platform)"; fi
  new="$(merge_daemon_json "$DOCKER_CONFIG" "$runsc" "$platform")" || rc=$?
  case "$rc" in
    0)
      if [ "$DRY_RUN" = 1 ]; then
        dry "add runtimes.runsc to $DOCKER_CONFIG (other settings kept):"
        diff -u "$DOCKER_CONFIG" <(printf '%s\n' "$new") 2>/dev/null | sed 's/^/setup:   /' >&2 || true
      else
        local dir
        dir="$(dirname "$DOCKER_CONFIG")"
        as_root mkdir -p "$dir"
        if [ -e "$DOCKER_CONFIG" ] && [ ! -e "$DOCKER_CONFIG.before-isolab" ]; then
          as_root cp -p "$DOCKER_CONFIG" "$DOCKER_CONFIG.before-isolab"
          changed "saved $DOCKER_CONFIG as $DOCKER_CONFIG.before-isolab"
        fi
        printf '%s\n' "$new" | as_root tee "$DOCKER_CONFIG.isolab-tmp" >/dev/null
        as_root chmod 0644 "$DOCKER_CONFIG.isolab-tmp"
        as_root mv -f "$DOCKER_CONFIG.isolab-tmp" "$DOCKER_CONFIG"
        changed "added runtimes.runsc ($runsc --platform=$platform --network=none) to $DOCKER_CONFIG"
      fi
      ;;
    3) say "$DOCKER_CONFIG already has a runsc runtime: left as it is" ;;
    *) die "$DOCKER_CONFIG left untouched (see above); add the runsc runtime by hand" ;;
  esac
  local pid
  if ! pid="$(dockerd_pid)"; then
    say "dockerd is not running: it reads $DOCKER_CONFIG when it starts"
    return 0
  fi
  if dry "reload dockerd (kill -HUP $pid)"; then return 0; fi
  as_root kill -HUP "$pid"
  changed "reloaded dockerd (SIGHUP to pid $pid)"
  if wait_for "the runsc runtime" 10 dockerd_knows_runsc; then return 0; fi
  if started_by_setup; then
    stop_setup_dockerd
    start_docker
    wait_for "the runsc runtime" 10 dockerd_knows_runsc || say "dockerd still does not list runsc; gvisor will not be usable (see isolab doctor)"
  else
    say "dockerd (pid $pid, not started by setup) does not list runsc after a reload: restart it yourself; gvisor is not usable until then"
  fi
}

step_services() {
  start_docker
  start_libvirt
}

# node-gyp: Debian's own, else the one npm bundles (what npm itself runs for native addons).
node_gyp() {
  if command -v node-gyp >/dev/null 2>&1; then
    node-gyp "$@"
    return
  fi
  local bundled
  bundled="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$bundled" ] || die "node-gyp not found (neither on PATH nor in npm's bundle at $bundled)"
  node "$bundled" "$@"
}

# Headers of the node that runs isolab (Debian and NodeSource ship them in <prefix>/include/node),
# so node-gyp downloads nothing.
node_headers_dir() {
  local prefix
  prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$prefix/include/node/common.gypi" ] || die "no Node.js headers in $prefix/include/node (needed to build @unraid/libvirt)"
  printf '%s\n' "$prefix"
}

npm_stamp() {
  printf 'lock %s\nnode %s\nignore-scripts; @unraid/libvirt built with node-gyp\n' \
    "$(sha256sum package-lock.json | cut -d' ' -f1)" "$(node --version)"
}

# npm ci with every install script off (allowScripts in package.json denies them too); the only
# native addon, @unraid/libvirt, is then built from source against libvirt-dev. Its own install
# script (node-pre-gyp) would first try to download a prebuilt binary the lockfile does not cover.
# esbuild (for vitest) needs no script: its JS API finds the binary of @esbuild/<platform>.
step_npm() {
  cd "$ROOT"
  local addon=node_modules/@unraid/libvirt/build/Release/libvirt.node
  if [ -f node_modules/.isolab-setup ] && [ "$(cat node_modules/.isolab-setup)" = "$(npm_stamp)" ] \
    && { [ ! -d node_modules/@unraid/libvirt ] || [ -f "$addon" ]; }; then
    say "node_modules up to date"
    return 0
  fi
  if dry "npm ci --ignore-scripts in $ROOT, then node-gyp rebuild in node_modules/@unraid/libvirt"; then return 0; fi
  say "npm ci --ignore-scripts"
  npm ci --ignore-scripts --no-audit --no-fund
  changed "npm ci --ignore-scripts (node_modules in $ROOT)"
  if [ -d node_modules/@unraid/libvirt ]; then
    local nodedir
    nodedir="$(node_headers_dir)"
    say "building @unraid/libvirt from source (node-gyp rebuild --nodedir=$nodedir)"
    (cd node_modules/@unraid/libvirt && node_gyp rebuild --nodedir="$nodedir") || die "building @unraid/libvirt failed (is libvirt-dev installed? scripts/setup.sh packages)"
    [ -f "$addon" ] || die "node-gyp finished but $addon is missing"
    changed "built $addon from source"
  fi
  npm_stamp >node_modules/.isolab-setup
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

# One setup at a time (apt, dockerd, node_modules): re-runs this script under `flock -o`, so the
# lock is held by the flock process and no daemon that setup starts inherits it.
take_lock() {
  local lock="${ISOLAB_SETUP_LOCK:-/run/lock/isolab-setup.lock}"
  [ "${ISOLAB_SETUP_LOCKED:-}" = "$lock" ] && return 0
  if ! { : >>"$lock"; } 2>/dev/null; then
    mkdir -p "$STATE_DIR"
    lock="$STATE_DIR/setup.lock"
    [ "${ISOLAB_SETUP_LOCKED:-}" = "$lock" ] && return 0
  fi
  if ! flock -n "$lock" true; then say "waiting for another setup run to finish (lock $lock)"; fi
  exec env ISOLAB_SETUP_LOCKED="$lock" flock -o -w 3600 -E 75 "$lock" bash "${BASH_SOURCE[0]}" "$@"
}

main() {
  local steps=() arg
  for arg in "$@"; do
    case "$arg" in
      --dry-run | -n) DRY_RUN=1 ;;
      -h | --help) usage; exit 0 ;;
      packages | node | kernel | gvisor | services | npm) steps+=("$arg") ;;
      all) steps+=(packages node kernel gvisor services npm) ;;
      *) say "unknown argument $arg (steps: packages node kernel gvisor services npm all; --dry-run)"; exit 2 ;;
    esac
  done
  [ "${#steps[@]}" -gt 0 ] || steps=(packages node kernel gvisor services npm)
  init_paths
  if [ "$DRY_RUN" = 1 ]; then say "dry run: nothing is changed"; else take_lock "$@"; fi
  local step
  for step in "${steps[@]}"; do "step_$step"; done
  if [ "${#CHANGES[@]}" -eq 0 ]; then
    say "done: nothing to change"
  elif [ "$DRY_RUN" = 1 ]; then
    say "dry run: ${#CHANGES[@]} change(s) would be made (listed above as would:)"
  else
    say "done: ${#CHANGES[@]} change(s) (listed above as changed:; log: $SETUP_STATE/changes.log)"
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
