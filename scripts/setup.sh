#!/usr/bin/env bash
# Build .venv and .collections offline-friendly (PyPI only; Ansible Galaxy is not needed).
# Idempotent: each step is skipped when its stamp is newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
# amazon.aws and community.aws are taken from PyPI's `ansible` distribution, extracting only
# those two collections.
ansible_dist=${ANSIBLE_DIST:-ansible==12.3.0}

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
if [ ! -f .venv/.stamp ] || [ requirements.txt -nt .venv/.stamp ] || [ requirements-test.txt -nt .venv/.stamp ] \
   || [ constraints.txt -nt .venv/.stamp ]; then
  echo "setup: installing Python requirements (the versions in constraints.txt)"
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt -c constraints.txt
  touch .venv/.stamp
fi

collections=.collections/ansible_collections
if [ ! -f "$collections/amazon/aws/MANIFEST.json" ] || [ ! -f "$collections/community/aws/MANIFEST.json" ]; then
  echo "setup: extracting amazon.aws and community.aws from PyPI's $ansible_dist"
  dl=$(mktemp -d)
  trap 'rm -rf "$dl"' EXIT
  .venv/bin/pip download -q --disable-pip-version-check --no-deps "$ansible_dist" -d "$dl"
  mkdir -p .collections
  .venv/bin/python - "$dl"/*.whl "$collections" <<'PY'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
prefixes = ("ansible_collections/amazon/aws/", "ansible_collections/community/aws/")
with zipfile.ZipFile(wheel) as zf:
    for name in zf.namelist():
        if name.startswith(prefixes) and not name.endswith("/"):
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
version_of() { sed -n 's/.*"version": "\([^"]*\)".*/\1/p' "$collections/$1/MANIFEST.json" | head -1; }
echo "setup: ready (.venv/bin/ansible-playbook, amazon.aws $(version_of amazon/aws), community.aws $(version_of community/aws))"
