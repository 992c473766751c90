"""The collection as users get it: built with ansible-galaxy, installed into an empty path."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Build the tarball, install it into an empty collections path, and return how to use it."""
    work = tmp_path_factory.mktemp("galaxy")
    # Outside the checkout, so the repo's ansible.cfg (which points at the working tree) does not apply.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env |= {"HOME": str(work), "ANSIBLE_COLLECTIONS_PATH": str(work / "collections"),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "ANSIBLE_LOCAL_TEMP": str(work / "tmp")}
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(ROOT)], work, env)
    tarball = work / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    assert tarball.is_file()
    run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", str(tarball)], work, env)
    return {"work": work, "env": env, "tarball": tarball,
            "path": work / "collections/ansible_collections" / GALAXY["namespace"] / GALAXY["name"]}


def test_tarball_ships_the_collection_and_no_development_files(installed: dict) -> None:
    with tarfile.open(installed["tarball"]) as tar:
        names = set(tar.getnames())
    for shipped in ("MANIFEST.json", "README.md", "meta/runtime.yml", "playbooks/site.yml",
                    "playbooks/failover_drill.yml", "plugins/modules/vip_owner.py", "roles/keepalived/tasks/main.yml"):
        assert shipped in names, f"{shipped} missing from the tarball"
    for prefix in ("lab/", "tools/", "molecule/", ".venv/", "collections/", ".ci/", "build/"):
        assert not [n for n in names if n.startswith(prefix)], f"development files under {prefix} were shipped"


@pytest.mark.parametrize("playbook", ["site", "failover_drill"])
def test_playbooks_run_by_fqcn(installed: dict, playbook: str) -> None:
    """The installed playbooks resolve by FQCN against the reference inventory (connecting to nothing)."""
    inventory = str(ROOT / "inventories/lab")
    proc = run([str(BIN / "ansible-playbook"), f"{FQCN}.{playbook}", "-i", inventory, "--list-tasks"],
               installed["work"], installed["env"])
    assert "play #1" in proc.stdout
    run([str(BIN / "ansible-playbook"), f"{FQCN}.{playbook}", "-i", inventory, "--syntax-check"],
        installed["work"], installed["env"])


def test_module_documentation_renders(installed: dict) -> None:
    proc = run([str(BIN / "ansible-doc"), f"{FQCN}.vip_owner"], installed["work"], installed["env"])
    assert "vip" in proc.stdout.lower()
    assert str(installed["path"]) in proc.stdout
