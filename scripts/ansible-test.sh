#!/usr/bin/env bash
# Run ansible-test (sanity | units) offline: ansible-test wants the collection at
# <root>/ansible_collections/<ns>/<name> with its dependencies beside it, so we mirror the
# tracked tree into .build/ and copy amazon.aws next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Outside the git work tree: inside it, ansible-test would list files with git and see none.
build=${HA_WEB_ANSIBLE_TEST_ROOT:-$HOME/.cache/ha_web-ansible-test}/ansible_collections
dest=$build/immersionday/ha_web
mkdir -p "$dest" "$build/amazon"
[ -d "$build/amazon/aws" ] || cp -a .collections/ansible_collections/amazon/aws "$build/amazon/aws"
# Tracked and new (not ignored) files only, so venvs and outputs never reach the linters.
find "$dest" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} + 2>/dev/null || true
# (a file deleted but not committed yet is listed by git, and skipped here)
git ls-files -co --exclude-standard | while IFS= read -r file; do
  if [ -e "$file" ]; then printf '%s\0' "$file"; fi
done | tar --null -T - -cf - | tar -xf - -C "$dest"
cd "$dest"
export PATH="$root/.venv/bin:$PATH"
exec ansible-test "$@" --venv --python 3.11
