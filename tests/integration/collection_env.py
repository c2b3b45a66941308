"""Helpers for the tests of the collection as users get it: build the tarball, install it."""
import os
import subprocess

import yaml

from lab_env import BIN, ROOT


def galaxy():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def tarball_name():
    meta = galaxy()
    return "%s-%s-%s.tar.gz" % (meta["namespace"], meta["name"], meta["version"])


def build(source, output):
    """`ansible-galaxy collection build` of the collection at `source` into `output`; the tarball's path."""
    completed = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output),
                                str(source)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert completed.returncode == 0, completed.stdout
    path = os.path.join(str(output), tarball_name())
    assert os.path.isfile(path), completed.stdout
    return path


def install(tarball, root):
    """A fresh collections path `root`: amazon.aws and community.aws linked from .collections (as a
    user has them), the tarball installed next to them offline, its dependencies checked."""
    collections = os.path.join(str(root), "ansible_collections")
    os.makedirs(collections)
    for namespace in ("amazon", "community"):
        os.symlink(os.path.join(ROOT, ".collections", "ansible_collections", namespace), os.path.join(collections, namespace))
    completed = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "-p", str(root), tarball],
                               cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert completed.returncode == 0, completed.stdout
    assert "immersionday.ha_web:%s was installed successfully" % galaxy()["version"] in completed.stdout, completed.stdout
    return str(root)
