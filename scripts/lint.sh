#!/usr/bin/env bash
# isolab lint (run by `make test` before vitest): shellcheck on every shell script in the repo
# (*.sh files and files whose #! line names sh/bash/dash, e.g. .ci/run and the guest scripts
# under src/image/guest/), then `vagrant validate` on the Vagrantfile, offline.
#   scripts/lint.sh            both
#   scripts/lint.sh shell      shellcheck only
#   scripts/lint.sh vagrant    vagrant validate only
#   scripts/lint.sh list       print the shell scripts shellcheck would check
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'lint: %s\n' "$*" >&2; }

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    say "$1 is not installed (run: bash scripts/setup.sh packages)"
    exit 1
  fi
}

# Candidate files: tracked and untracked-but-not-ignored when this is a git work tree,
# otherwise every file outside build output and dependencies.
candidate_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else
    find . \( -name .git -o -name node_modules -o -name dist -o -name .vagrant -o -name reports \) -prune \
      -o -type f -print0 | sed -z 's|^\./||'
  fi
}

is_shell_script() {
  local file="$1" first=''
  case "$file" in *.sh) return 0 ;; esac
  IFS= read -r first <"$file" 2>/dev/null || true
  [[ "$first" =~ ^#!.*(/|[[:space:]])(ba|da)?sh([[:space:]]|$) ]]
}

shell_scripts() {
  local file
  while IFS= read -r -d '' file; do
    [ -f "$file" ] || continue
    if is_shell_script "$file"; then printf '%s\n' "$file"; fi
  done < <(candidate_files)
}

lint_shell() {
  need shellcheck
  local scripts
  mapfile -t scripts < <(shell_scripts | LC_ALL=C sort)
  if [ "${#scripts[@]}" -eq 0 ]; then
    say "no shell scripts found"
    return 1
  fi
  say "shellcheck ${scripts[*]}"
  shellcheck --external-sources "${scripts[@]}"
}

lint_vagrant() {
  need vagrant
  say "vagrant validate"
  VAGRANT_CHECKPOINT_DISABLE=1 vagrant validate
}

case "${1:-all}" in
  shell) lint_shell ;;
  vagrant) lint_vagrant ;;
  list) shell_scripts | LC_ALL=C sort; exit 0 ;;
  all) lint_shell; lint_vagrant ;;
  *) say "unknown step $1 (shell|vagrant|list|all)"; exit 2 ;;
esac
say "ok"
