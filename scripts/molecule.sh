#!/usr/bin/env bash
# Molecule scenarios (delegated driver, each on a private embedded cloud).
#   scripts/molecule.sh            all scenarios
#   scripts/molecule.sh network    one scenario
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.collections"
cd extensions
if [ $# -gt 0 ]; then
  for scenario in "$@"; do molecule test -s "$scenario"; done
else
  molecule test --all
fi
