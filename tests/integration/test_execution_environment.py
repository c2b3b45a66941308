"""The execution environment, offline: `ansible-builder create` writes the build context of
execution-environment.yml, and the context holds what the image needs (the collection's tarball,
its Python requirements, amazon.aws and community.aws at galaxy.yml's versions). The Python
requirements are resolved as the image build resolves them: by ansible-builder's own introspection
of the collections installed side by side. ansible-navigator.yml runs site.yml in that image.
Building the image itself needs a container engine and the internet (README).
"""
import os
import re
import shutil
import subprocess

import pytest
import yaml
from packaging.requirements import Requirement

from collection_env import build, galaxy, install, tarball_name
from lab_env import BIN, ROOT

# What only the test suite and the development environment need: none of it goes into the image.
TEST_TOOLS = {"moto", "pytest", "ansible-lint", "molecule", "ansible-builder", "antsibull-changelog", "distlib", "ansible-core"}


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def requirement_names(path):
    with open(path, encoding="utf-8") as handle:
        return {Requirement(line.split("#")[0].strip()).name.lower() for line in handle if line.split("#")[0].strip()}


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The EE definition beside the files it names (requirements.txt, .build/<tarball>), as in the
    repository after `make build`; then `ansible-builder create`."""
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt"):
        shutil.copy(os.path.join(ROOT, name), str(work / name))
    tarball = build(ROOT, work / ".build")
    completed = subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context",
                                "--output-filename", "Containerfile"], cwd=str(work), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert completed.returncode == 0, completed.stdout
    assert "No matches" not in completed.stdout and "does not exist" not in completed.stdout, completed.stdout
    return {"work": work, "dir": work / "context", "tarball": tarball, "definition": load(str(work / "execution-environment.yml"))}


def test_the_context_holds_the_containerfile_and_every_dependency_file(context):
    build_dir = context["dir"] / "_build"
    for name in ("requirements.txt", "requirements.yml", "scripts/introspect.py", "scripts/assemble",
                 "collections/" + tarball_name()):
        assert (build_dir / name).is_file(), name
    containerfile = (context["dir"] / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % context["definition"]["images"]["base_image"]["name"] in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "introspect.py introspect --user-pip=requirements.txt" in containerfile
    # The collection in the image is the tarball of galaxy.yml's version, byte for byte.
    with open(context["tarball"], "rb") as built:
        assert (build_dir / "collections" / tarball_name()).read_bytes() == built.read()


def test_the_galaxy_requirements_are_galaxy_yml_dependencies_and_the_collection(context):
    listed = load(str(context["dir"] / "_build" / "requirements.yml"))["collections"]
    versions = {entry["name"]: entry.get("version") for entry in listed}
    assert {name: versions.get(name) for name in galaxy()["dependencies"]} == galaxy()["dependencies"]
    ours = [entry for entry in listed if entry.get("type") == "file"]
    assert [entry["name"] for entry in ours] == ["/build/collections/" + tarball_name()]


def test_the_image_gets_the_ansible_core_the_collection_admits(context):
    containerfile = (context["dir"] / "Containerfile").read_text()
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile).group(1).split()
    core = [Requirement(ref) for ref in refs if Requirement(ref).name == "ansible-core"]
    runtime = load(os.path.join(ROOT, "meta", "runtime.yml"))["requires_ansible"]
    assert len(core) == 1 and core[0].specifier.contains(runtime.lstrip(">="))
    assert any(Requirement(ref).name == "ansible-runner" for ref in refs)


def test_the_python_requirements_are_the_collections_and_no_test_tool(context, tmp_path):
    user = context["dir"] / "_build" / "requirements.txt"
    assert requirement_names(str(user)) == {"boto3", "botocore"}
    # What the image build resolves: ansible-builder's introspection of the collections installed
    # side by side (ours from the tarball) plus the EE's own list.
    collections = install(context["tarball"], tmp_path / "collections")
    resolved, bindep = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    completed = subprocess.run([os.path.join(BIN, "python"), str(context["dir"] / "_build" / "scripts" / "introspect.py"), "introspect",
                                collections, "--user-pip", str(user), "--write-pip", str(resolved), "--write-bindep", str(bindep)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert completed.returncode == 0, completed.stdout
    lines = [line for line in resolved.read_text().splitlines() if line.strip()]
    sources = {line.split("# from collection ")[1] for line in lines}
    assert sources == {"immersionday.ha_web", "amazon.aws", "community.aws", "user"}, lines
    assert {Requirement(line.split("#")[0]).name.lower() for line in lines} == {"boto3", "botocore"}
    assert not TEST_TOOLS & {Requirement(line.split("#")[0]).name.lower() for line in lines}
    # One version meets every constraint at once: the one the tests run on.
    import boto3  # pylint: disable=import-outside-toplevel
    import botocore  # pylint: disable=import-outside-toplevel
    installed = {"boto3": boto3.__version__, "botocore": botocore.__version__}
    for line in lines:
        requirement = Requirement(line.split("#")[0])
        assert requirement.specifier.contains(installed[requirement.name.lower()]), line


def test_navigator_runs_site_yml_in_that_image(context):
    settings = load(os.path.join(ROOT, "ansible-navigator.yml"))["ansible-navigator"]
    assert settings["execution-environment"]["image"] in context["definition"]["options"]["tags"]
    assert settings["execution-environment"]["enabled"] is True
    assert settings["ansible"]["playbook"]["path"] == "playbooks/site.yml"
    for entry in settings["ansible"]["inventory"]["entries"]:
        assert os.path.exists(os.path.join(ROOT, entry)), entry
    # The image's collections, not the checkout's .collections (ansible.cfg), and the AWS credentials.
    assert settings["execution-environment"]["environment-variables"]["set"]["ANSIBLE_COLLECTIONS_PATH"] == "/usr/share/ansible/collections"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} <= set(settings["execution-environment"]["environment-variables"]["pass"])
