#!/usr/bin/env bash
# isolab host setup: installs what is missing and starts the engines. Idempotent.
# Used by `make lab`, `make test` and the Vagrant box's provisioner (one script, not two).
#   scripts/setup.sh [packages|services|npm|all]   (default: all)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_DIR="${ISOLAB_LOG_DIR:-/var/log/isolab}"
APT_PACKAGES=(
  docker.io
  qemu-system-x86 libvirt-daemon-system libvirt-clients libvirt-dev pkg-config
  linux-image-cloud-amd64 busybox-static e2fsprogs cpio kmod
  python3 make g++ shellcheck
  vagrant vagrant-libvirt
)
NODE_MAJOR=20

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$p"
    fi
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    say "apt packages present"
    return
  fi
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

node_major() {
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# Node.js >= NODE_MAJOR (package.json engines). Debian 12 ships 18, so a machine without it (e.g. a
# fresh Vagrant box) gets it from the NodeSource apt repository, the packaging CI machines carry.
install_node() {
  if command -v npm >/dev/null && [ "$(node_major)" -ge "$NODE_MAJOR" ]; then
    say "node $(node --version) present"
    return
  fi
  say "installing Node.js $NODE_MAJOR (NodeSource apt repository)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates curl gnupg >/dev/null
  as_root install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key \
    | as_root gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main" \
    | as_root tee /etc/apt/sources.list.d/nodesource.list >/dev/null
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
}

# systemd as PID 1 (e.g. the Vagrant box): engines are units, started with systemctl.
have_systemd() {
  [ -d /run/systemd/system ]
}

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

docker_answers() {
  [ -S /var/run/docker.sock ] && /usr/bin/docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start_docker() {
  if docker_answers; then
    say "dockerd running"
    return
  fi
  if have_systemd; then
    say "starting docker.service"
    as_root systemctl start docker
    wait_for dockerd 60 docker_answers
    return
  fi
  as_root mkdir -p "$LOG_DIR"
  if ! pgrep -x dockerd >/dev/null; then
    pgrep -x containerd >/dev/null || true
    say "starting dockerd (log: $LOG_DIR/dockerd.log)"
    as_root setsid nohup /usr/sbin/dockerd >"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
  fi
  wait_for dockerd 60 docker_answers
}

libvirt_answers() {
  virsh -c qemu:///system version >/dev/null 2>&1
}

start_libvirt() {
  if libvirt_answers; then
    say "libvirtd running"
    return
  fi
  if have_systemd; then
    say "starting libvirtd.service"
    as_root systemctl start libvirtd
    wait_for libvirtd 60 libvirt_answers
    return
  fi
  as_root mkdir -p "$LOG_DIR"
  pgrep -x virtlogd >/dev/null || as_root /usr/sbin/virtlogd -d
  if ! pgrep -x libvirtd >/dev/null; then
    say "starting libvirtd"
    as_root /usr/sbin/libvirtd -d
  fi
  wait_for libvirtd 60 libvirt_answers
}

npm_deps() {
  cd "$ROOT"
  if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
    && { [ ! -d node_modules/@unraid/libvirt ] || [ -f node_modules/@unraid/libvirt/build/Release/libvirt.node ]; }; then
    say "node_modules up to date"
    return
  fi
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
}

case "${1:-all}" in
  packages) install_packages; install_node ;;
  services) start_docker; start_libvirt ;;
  npm) npm_deps ;;
  all) install_packages; install_node; start_docker; start_libvirt; npm_deps ;;
  *) say "unknown step $1 (packages|services|npm|all)"; exit 2 ;;
esac
