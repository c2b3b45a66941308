#!/usr/bin/env bash
# Build .venv and .collections offline-friendly (PyPI only; Ansible Galaxy is not needed).
# Idempotent: each step is skipped when its stamp is newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
# amazon.aws is taken from PyPI's `ansible` distribution, extracting only that collection.
ansible_dist=${ANSIBLE_DIST:-ansible==12.3.0}

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
if [ ! -f .venv/.stamp ] || [ requirements.txt -nt .venv/.stamp ] || [ requirements-test.txt -nt .venv/.stamp ]; then
  echo "setup: installing Python requirements"
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
  touch .venv/.stamp
fi

collections=.collections/ansible_collections
if [ ! -f "$collections/amazon/aws/MANIFEST.json" ]; then
  echo "setup: extracting amazon.aws from PyPI's $ansible_dist"
  dl=$(mktemp -d)
  trap 'rm -rf "$dl"' EXIT
  .venv/bin/pip download -q --disable-pip-version-check --no-deps "$ansible_dist" -d "$dl"
  mkdir -p .collections
  .venv/bin/python - "$dl"/*.whl "$collections" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
prefix = "ansible_collections/amazon/aws/"
with zipfile.ZipFile(wheel) as zf:
    for name in zf.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = os.path.join(dest, name[len("ansible_collections/"):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(name) as src, open(target, "wb") as out:
                out.write(src.read())
PY
fi
# Our own collection is used in place, through a link in the collections path.
mkdir -p "$collections/immersionday"
ln -sfn "$root" "$collections/immersionday/ha_web"

# ansible-test bootstraps pip in its venvs by downloading get-pip, which is unreachable
# offline; it uses this cached file instead when present.
getpip=~/.ansible/test/cache/get_pip_24_2.py
if [ ! -f "$getpip" ]; then
  mkdir -p "$(dirname "$getpip")"
  cat > "$getpip" <<'PY'
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
PY
fi
echo "setup: ready (.venv/bin/ansible-playbook, amazon.aws $(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' "$collections/amazon/aws/MANIFEST.json" | head -1))"
