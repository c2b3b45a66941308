"""The collection as users get it.

The tarball: `ansible-galaxy collection build` of a copy of the working tree's files (tracked and
new) in which the clutter of a working tree is planted (outputs, test output, caches, benchmark
results, logs, old tarballs, the .venv and .collections links): galaxy.yml's allowlist ships what
users run and read and none of that. Its licence, changelog and documentation link are real.

Installed: the tarball installed offline into a fresh collections path next to amazon.aws and
community.aws, then `ansible-playbook immersionday.ha_web.<name> -i stacks.yml` from a directory
outside the repository (no ansible.cfg, no region in the environment) with the three-line
inventory of the README, on a private embedded cloud: deploy, rerun with changed=0, load test
from the outputs file, teardown. The tests after the tarball's run in order on one cloud.
"""
import json
import os
import re
import subprocess
import tarfile
import time

import pytest
import yaml

from lab_env import BIN, ROOT, Run, check_lab
from collection_env import build, galaxy, install

# The README's inventory ("Use it from another project").
STACKS_YML = "stacks:\n  hosts:\n    lab: {stack_name: lab}\n"
REGION = "ap-northeast-2"

# Planted in the copy the tarball is built from: what a working tree collects and must not ship.
CLUTTER = [
    "outputs/lab.ap-northeast-2.json", "outputs/lab.ap-northeast-2.load-test.html",
    "tests/output/junit/python3.11-units.xml", "tests/output/.tmp/sanity/pylint.txt",
    "bench/results/bench.json", "bench/results/logs/fresh-1.log",
    ".cloud/moto-5000.log", ".cloud/moto-5000.pid",
    ".pytest_cache/v/cache/nodeids", "tests/unit/.pytest_cache/v/cache/lastfailed",
    "plugins/modules/__pycache__/stack_info.cpython-311.pyc", "plugins/module_utils/stack.pyc",
    "roles/web_ami/files/__pycache__/ha_web_app.cpython-311.pyc", "tests/unit/plugins/__pycache__/x.cpython-311.pyc",
    ".build/immersionday-ha_web-0.0.9.tar.gz", "immersionday-ha_web-0.0.9.tar.gz",
    ".build/ee/Containerfile", "context/_build/requirements.txt",
    "ansible.log", "roles/network/tasks/debug.log", "roles/asg/tasks/.main.yml.swp", "roles/asg/tasks/main.yml~",
    "tests/integration/__pycache__/lab_env.cpython-311.pyc",
]
CLUTTER_PATTERN = re.compile(r"(^|/)(__pycache__|outputs|bench|context|\.[^/]+)(/|$)|\.pyc$|\.log$|\.tar\.gz$|\.swp$|~$|^tests/(?!unit(/|$))")
# What users run and read; tests/unit for `ansible-test units` on the installed collection.
SHIPPED = {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.rst", "COPYING", "requirements.txt", "requirements.yml",
           "meta", "plugins", "roles", "playbooks", "docs", "changelogs", "tests"}


def working_tree_files():
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, stdout=subprocess.PIPE, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name and os.path.isfile(os.path.join(ROOT, name))]


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    source = tmp_path_factory.mktemp("source") / "ha_web"
    for name in working_tree_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(open(os.path.join(ROOT, name), "rb").read())
    for name in CLUTTER:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("clutter\n")
    # The links of a working tree; .collections holds a link back to the tree itself.
    os.symlink(os.path.join(ROOT, ".venv"), str(source / ".venv"))
    os.symlink(os.path.join(ROOT, ".collections"), str(source / ".collections"))
    path = build(source, tmp_path_factory.mktemp("dist"))
    with tarfile.open(path) as archive:
        members = [m.name for m in archive.getmembers()]
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    return {"path": path, "members": members, "manifest": manifest}


def test_the_tarball_ships_the_allowlist_and_no_clutter(tarball):
    members = tarball["members"]
    assert {name.split("/")[0] for name in members} == SHIPPED
    assert [name for name in members if CLUTTER_PATTERN.search(name)] == []
    assert {name.split("/")[1] for name in members if name.startswith("tests/") and "/" in name.rstrip("/")} == {"unit"}


def test_the_tarball_ships_every_file_users_run(tarball):
    shipped = set(tarball["members"])
    needed = [name for name in working_tree_files()
              if (name.split("/")[0] in ("meta", "plugins", "roles", "playbooks", "docs", "changelogs") or name.startswith("tests/unit/"))
              and not any(part.startswith(".") for part in name.split("/"))]  # changelogs/fragments/.keep
    assert [name for name in needed if name not in shipped] == []
    for name in ("meta/runtime.yml", "playbooks/site.yml", "playbooks/teardown.yml", "playbooks/load_test.yml",
                 "plugins/modules/stack_info.py", "roles/web_ami/files/ha_web_app.py", "requirements.txt", "COPYING"):
        assert name in shipped, name


def test_the_manifest_names_the_version_licence_and_dependencies_of_galaxy_yml(tarball):
    meta, info = galaxy(), tarball["manifest"]["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (meta["namespace"], meta["name"], meta["version"])
    assert info["license"] == meta["license"] == ["GPL-3.0-or-later"]
    assert info["dependencies"] == meta["dependencies"]


def test_the_licence_file_is_the_one_galaxy_yml_and_the_file_headers_name():
    with open(os.path.join(ROOT, "COPYING"), encoding="utf-8") as handle:
        text = handle.read()
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text
    headers = [name for name in working_tree_files() if name.startswith("plugins/") and name.endswith(".py")]
    for name in headers:
        with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
            head = handle.read(400)
        assert "GNU General Public License v3.0+ (see COPYING" in head, name


def test_the_documentation_link_points_at_a_shipped_file_of_the_repository(tarball):
    meta = galaxy()
    prefix = meta["repository"] + "/blob/main/"
    assert meta["documentation"].startswith(prefix), meta["documentation"]
    path = meta["documentation"][len(prefix):].split("#")[0]
    assert os.path.isfile(os.path.join(ROOT, path)) and path in tarball["members"], path


def test_the_changelog_is_generated_from_changelogs_with_a_release_of_galaxy_yml_version(tmp_path):
    with open(os.path.join(ROOT, "changelogs", "changelog.yaml"), encoding="utf-8") as handle:
        releases = yaml.safe_load(handle)["releases"]
    assert galaxy()["version"] in releases
    # antsibull-changelog writes the same CHANGELOG.rst again: nobody edited it by hand. It lists
    # the plugins with ansible-doc, which finds the copy (and the doc fragments of amazon.aws)
    # through the collections path.
    copy = tmp_path / "ansible_collections" / "immersionday" / "ha_web"
    for name in working_tree_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(open(os.path.join(ROOT, name), "rb").read())
    for namespace in ("amazon", "community"):
        os.symlink(os.path.join(ROOT, ".collections", "ansible_collections", namespace), str(tmp_path / "ansible_collections" / namespace))
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], ANSIBLE_COLLECTIONS_PATH=str(tmp_path))
    completed = subprocess.run([os.path.join(BIN, "antsibull-changelog"), "generate"], cwd=str(copy), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert completed.returncode == 0, completed.stdout
    assert (copy / "CHANGELOG.rst").read_text() == open(os.path.join(ROOT, "CHANGELOG.rst"), encoding="utf-8").read()


# --- installed, run from outside the repository ---------------------------------------------------

@pytest.fixture(scope="module")
def user(tarball, cloud, tmp_path_factory):
    collections = install(tarball["path"], tmp_path_factory.mktemp("collections"))
    project = tmp_path_factory.mktemp("project")
    assert not str(project).startswith(ROOT + os.sep)
    (project / "stacks.yml").write_text(STACKS_YML)
    (project / "nothing.yml").write_text("web:\n  hosts:\n    www1:\n")
    return {"cloud": cloud, "collections": collections, "project": project,
            "installed": os.path.join(collections, "ansible_collections", "immersionday", "ha_web")}


def installed_playbook(user, name, *args, inventory="stacks.yml"):
    env = user["cloud"].env(ANSIBLE_COLLECTIONS_PATH=user["collections"])
    for variable in ("ANSIBLE_CONFIG", "AWS_REGION", "AWS_DEFAULT_REGION", "ANSIBLE_INVENTORY"):
        env.pop(variable, None)
    started = time.monotonic()
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, "immersionday.ha_web." + name] + list(args),
                               cwd=str(user["project"]), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, check=False)
    return Run(completed, time.monotonic() - started)


# The embedded cloud runs no instance and no load balancer answers: what a moto user passes.
EMULATED = ("-e", "ha_web_cloud_is_emulated=true", "-e", "web_ami_probe_http=false")


def test_installed_playbooks_without_stacks_fail_and_say_what_inventory_they_need(user):
    for name in ("site", "teardown", "load_test"):
        run = installed_playbook(user, name, inventory="nothing.yml")
        assert run.rc != 0, run.output[-3000:]
        assert "No stack to work on" in run.output and "Use it from another project" in run.output, run.output[-3000:]
        assert "lab" not in run.recap and "www1" not in run.recap


def test_installed_site_deploys_from_outside_the_repository(user):
    run = installed_playbook(user, "site", *EMULATED)
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() > 0
    look = check_lab(user["cloud"], "present")
    assert look.returncode == 0, look.stdout
    written = user["project"] / "outputs" / "lab.ap-northeast-2.json"
    document = json.loads(written.read_text())
    assert (document["stack_name"], document["region"]) == ("lab", REGION) and document["alb"]["url"]
    assert "Outputs: %s" % os.path.realpath(str(written)) in run.output
    assert not os.path.exists(os.path.join(user["installed"], "outputs"))


def test_installed_site_rerun_changes_nothing(user):
    run = installed_playbook(user, "site", *EMULATED)
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() == 0, run.output[-4000:]


def test_installed_load_test_reads_the_outputs_file(user):
    run = installed_playbook(user, "load_test", *EMULATED)
    assert run.rc == 0, run.output[-4000:]
    # The stack came from outputs/lab.ap-northeast-2.json: the look-up for a missing file did not run.
    assert re.search(r"TASK \[[^\]]*no outputs file[^\]]*\][^\n]*\nskipping: \[lab\]", run.output), run.output[-4000:]
    assert "Web-ASG" in run.output


def test_installed_teardown_removes_the_stack_and_its_outputs_file(user):
    run = installed_playbook(user, "teardown", *EMULATED)
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() > 0
    look = check_lab(user["cloud"], "absent")
    assert look.returncode == 0, look.stdout
    assert list((user["project"] / "outputs").iterdir()) == []
