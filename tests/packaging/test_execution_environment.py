"""The execution environment for AWX: `ansible-builder create` writes the build context of the image.

No container engine is needed: the context is what the image is built from, so the tests read its
Containerfile and requirement files, and run the Containerfile's ansible-galaxy commands and the
builder's requirement collection script on it, as the image build would.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"
CONSTRAINTS = {canonicalize_name(name): version for name, version in
               (line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line)}
# What Ansible loads from an installed collection; the image must hold all of it.
RUNTIME = ("meta/", "plugins/", "roles/", "playbooks/")


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def requirements(path: Path) -> list[Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [Requirement(line) for line in lines if line]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The build context as `ansible-builder create` writes it, outside the checkout."""
    work = tmp_path_factory.mktemp("ee")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    # An unreachable Galaxy server: nothing below may need one.
    env |= {"HOME": str(work), "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ANSIBLE_GALAXY_SERVER": "http://127.0.0.1:9/",
            "PATH": f"{BIN}:{env.get('PATH', '')}"}
    context = work / "context"
    run([str(BIN / "ansible-builder"), "create", "--file", str(ROOT / "execution-environment.yml"),
         "--context", str(context), "--output-filename", "Containerfile"], work, env)
    containerfile = (context / "Containerfile").read_text()
    args = dict(re.findall(r'^ARG (\w+)="(.*)"$', containerfile, re.M))
    return {"work": work, "env": env, "context": context, "containerfile": containerfile, "args": args}


@pytest.fixture(scope="module")
def installed(build: dict) -> Path:
    """Run the Containerfile's ansible-galaxy commands on the context; return the collections path they filled."""
    share = build["work"] / "share"
    lines = [line.removeprefix("RUN ") for line in build["containerfile"].splitlines()
             if line.startswith("RUN ") and "ansible-galaxy" in line and "install" in line]
    assert any("collection install" in line for line in lines), "the Containerfile installs no collection"
    env = build["env"] | {name: build["args"].get(name, "") for name in
                          ("ANSIBLE_GALAXY_CLI_COLLECTION_OPTS", "ANSIBLE_GALAXY_CLI_ROLE_OPTS")}
    for line in lines:
        # The image build runs them in /build, its copy of <context>/_build.
        run(["bash", "-euo", "pipefail", "-c", line.replace("/usr/share/ansible", str(share))],
            build["context"] / "_build", env)
    return share / "collections"


@pytest.fixture(scope="module")
def tarball(build: dict) -> Path:
    out = build["work"] / "dist"
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)], build["work"], build["env"])
    return out / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def test_ansible_core_is_pinned_as_in_constraints(build: dict) -> None:
    refs = build["args"].get("ANSIBLE_INSTALL_REFS", "").split()
    assert f"ansible-core=={CONSTRAINTS['ansible-core']}" in refs, refs
    assert [ref for ref in refs if canonicalize_name(re.split(r"[=<>~!]", ref)[0]) == "ansible-runner"], refs
    assert "RUN $PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS" in build["containerfile"]


def test_the_collection_is_in_the_context(build: dict) -> None:
    wanted = yaml.safe_load((build["context"] / "_build/requirements.yml").read_text())["collections"]
    entry = [item for item in wanted if item.get("name") == FQCN]
    assert entry and entry[0]["type"] == "dir", wanted
    source = build["context"] / "_build" / entry[0]["source"]
    galaxy = yaml.safe_load((source / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"], galaxy["version"]) == (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])


def test_the_image_build_installs_the_collection_without_a_galaxy_server(build: dict, installed: Path, tarball: Path) -> None:
    assert "--offline" in build["args"].get("ANSIBLE_GALAXY_CLI_COLLECTION_OPTS", "").split()
    path = installed / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    info = json.loads((path / "MANIFEST.json").read_text())["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
    # Everything Ansible loads from the collection, as the built tarball ships it.
    with tarfile.open(tarball) as tar:
        shipped = {m.name for m in tar.getmembers() if m.isfile() and m.name.startswith(RUNTIME)}
    in_image = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and str(p.relative_to(path)).startswith(RUNTIME)}
    assert shipped and in_image == shipped, f"missing from the image: {sorted(shipped - in_image)}, extra: {sorted(in_image - shipped)}"


def _third_party_imports() -> set[str]:
    """Top-level modules that the controller-side plugins import beyond the standard library and Ansible.

    Modules and their module_utils run on the managed hosts, not in the image.
    """
    found = set()
    for source in (ROOT / "plugins").rglob("*.py"):
        if source.relative_to(ROOT / "plugins").parts[0] in ("modules", "module_utils"):
            continue
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"__future__", "ansible", "ansible_collections"}


def test_the_python_requirements_are_what_the_collection_imports(build: dict) -> None:
    modules = _third_party_imports()
    distributions = importlib.metadata.packages_distributions()
    needed = {canonicalize_name(dist) for module in modules for dist in distributions.get(module, [module])}
    listed = {canonicalize_name(req.name): req for req in requirements(build["context"] / "_build/requirements.txt")}
    assert set(listed) == needed, f"the plugins import {sorted(modules)}; the image's requirements name {sorted(listed)}"
    for name, req in listed.items():
        assert str(req.specifier) == f"=={CONSTRAINTS[name]}", f"{req}: constraints.txt pins {name}=={CONSTRAINTS[name]}"


def test_the_image_build_installs_them_and_an_ssh_client(build: dict, installed: Path) -> None:
    for step in ("COPY _build/requirements.txt requirements.txt", "COPY _build/bindep.txt bindep.txt",
                 "--user-pip=requirements.txt", "--user-bindep=bindep.txt", "RUN /output/scripts/assemble",
                 "RUN /output/scripts/install-from-bindep"):
        assert step in build["containerfile"], f"the Containerfile lacks {step!r}"
    # The builder stage's script merges these files with what the installed collections ask for.
    out = build["work"] / "introspect"
    out.mkdir(exist_ok=True)
    context = build["context"] / "_build"
    run([sys.executable, str(context / "scripts/introspect.py"), "introspect", str(installed),
         "--user-pip", str(context / "requirements.txt"), "--user-bindep", str(context / "bindep.txt"),
         "--write-pip", str(out / "requirements.txt"), "--write-bindep", str(out / "bindep.txt")], build["work"], build["env"])
    assert [str(req) for req in requirements(out / "requirements.txt")] == [
        str(req) for req in requirements(context / "requirements.txt")]
    packages = [shlex.split(line.split("#", 1)[0])[0] for line in (out / "bindep.txt").read_text().splitlines()
                if line.split("#", 1)[0].strip()]
    assert packages == ["openssh-clients"], packages
