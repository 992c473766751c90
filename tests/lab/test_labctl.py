"""The local lab's lifecycle, on the real thing: up, idempotent up, down, and its error messages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABCTL = ROOT / "lab" / "labctl.py"
sys.path.insert(0, str(LABCTL.parent))

import labctl  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root")


def lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(LABCTL), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=300)


def leftovers() -> list[str]:
    return labctl.leftovers(labctl.load_guests())


@pytest.fixture(scope="module")
def clean_lab():
    """Every test here starts from and leaves behind a lab that is down."""
    assert lab("down").returncode == 0
    yield
    lab("down")


@pytest.mark.usefixtures("clean_lab")
def test_down_with_nothing_there_succeeds() -> None:
    proc = lab("down")
    assert proc.returncode == 0, proc.stderr
    assert leftovers() == []


@pytest.mark.usefixtures("clean_lab")
def test_up_is_idempotent_and_down_leaves_nothing() -> None:
    proc = lab("up")
    assert proc.returncode == 0, proc.stderr
    guests = labctl.load_guests()
    assert [g.name for g in guests] == ["client", "lb-1", "lb-2", "web-1", "web-2"]
    assert all(labctl.ssh_answers(str(g.address)) for g in guests)

    running = sorted(labctl.nspawn_pids())
    again = lab("up")
    assert again.returncode == 0, again.stderr
    assert sorted(labctl.nspawn_pids()) == running, "a second up must not restart running guests"

    status = lab("status")
    assert status.returncode == 0 and "lab: up" in status.stdout

    # The guests are separate machines: own hostname and machine id.
    key = str(labctl.SSH_KEY)
    ids = set()
    for g in guests:
        out = subprocess.run(
            ["ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "LogLevel=ERROR", f"root@{g.address}", "hostname; cat /etc/machine-id; ip route"],
            capture_output=True, text=True, timeout=30, check=True).stdout.split("\n")
        assert out[0] == g.name
        ids.add(out[1])
        assert "default" not in "\n".join(out[2:]), f"{g.name} must have no default route"
    assert len(ids) == len(guests)

    down = lab("down")
    assert down.returncode == 0, down.stderr
    assert leftovers() == []
    assert lab("status").returncode != 0


@pytest.mark.usefixtures("clean_lab")
def test_down_cleans_up_a_killed_lab() -> None:
    """CI starts right after every process is killed: pid files and supervisors are gone."""
    assert lab("up").returncode == 0
    for pid in labctl.supervisor_pids() + labctl.nspawn_pids():
        os.kill(pid, 9)
    for g in labctl.load_guests():
        g.pidfile.unlink(missing_ok=True)
    proc = lab("down")
    assert proc.returncode == 0, proc.stderr
    assert leftovers() == []


def test_not_root_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(labctl.os, "geteuid", lambda: 1000)
    assert labctl.main(["up"]) == 1
    assert "needs root" in capsys.readouterr().err


@pytest.mark.usefixtures("clean_lab")
def test_missing_nspawn_names_the_package(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("ip", "ssh-keygen", "debootstrap", "dpkg-scanpackages"):
        (bindir / tool).symlink_to(shutil.which(tool))
    proc = lab("up", env={**os.environ, "PATH": str(bindir)})
    assert proc.returncode == 1
    assert "systemd-container" in proc.stderr and "apt-get install" in proc.stderr
    assert leftovers() == []


@pytest.mark.usefixtures("clean_lab")
def test_bridge_name_taken_is_refused() -> None:
    subprocess.run(["ip", "link", "add", labctl.BRIDGE, "type", "veth", "peer", "name", "halbtest1"], check=True)
    try:
        proc = lab("up")
        assert proc.returncode == 1
        assert f"interface {labctl.BRIDGE} exists but is not this lab's bridge" in proc.stderr
    finally:
        subprocess.run(["ip", "link", "del", labctl.BRIDGE], check=True)
    assert leftovers() == []


@pytest.mark.usefixtures("clean_lab")
def test_lab_range_already_routed_is_refused() -> None:
    subprocess.run(["ip", "link", "add", "halbtest0", "type", "veth", "peer", "name", "halbtest1"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", "198.51.100.200/25", "dev", "halbtest0"], check=True)
        proc = lab("up")
        assert proc.returncode == 1
        assert "already in use on halbtest0" in proc.stderr
    finally:
        subprocess.run(["ip", "link", "del", "halbtest0"], check=True)
    assert leftovers() == []


def test_inventory_must_place_hosts_in_the_lab_network(tmp_path: Path) -> None:
    bad = tmp_path / "hosts.yml"
    bad.write_text("all:\n  hosts:\n    web-1:\n      ansible_host: 192.168.58.11\n")
    with pytest.raises(labctl.LabError, match="must lie in 198.51.100.0/24"):
        labctl.load_guests(bad)


MIXED = """\
all:
  children:
    lb:
      vars:
        lab_debian_release: 13
      hosts:
        lb-1: {ansible_host: 198.51.100.21, lab_debian_release: bookworm}
        lb-2: {ansible_host: 198.51.100.22}
    web:
      hosts:
        web-1: {ansible_host: 198.51.100.11}
"""


def test_release_per_guest_group_and_whole_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(MIXED)
    monkeypatch.delenv(labctl.RELEASE_ENV, raising=False)
    assert {g.name: g.release for g in labctl.load_guests(inventory)} == {
        "lb-1": "bookworm", "lb-2": "trixie", "web-1": "bookworm"}
    monkeypatch.setenv(labctl.RELEASE_ENV, "trixie")
    assert {g.release for g in labctl.load_guests(inventory)} == {"trixie"}
    monkeypatch.setenv(labctl.RELEASE_ENV, "sid")
    with pytest.raises(labctl.LabError, match=r"HA_LB_LAB_RELEASE: Debian release 'sid' is not one the lab builds; "
                                              r"use one of bookworm \(12\), trixie \(13\)"):
        labctl.load_guests(inventory)
    monkeypatch.delenv(labctl.RELEASE_ENV)
    inventory.write_text(MIXED.replace("lab_debian_release: bookworm", "lab_debian_release: buster"))
    with pytest.raises(labctl.LabError, match=r"host lb-1: Debian release 'buster'"):
        labctl.load_guests(inventory)


@pytest.mark.usefixtures("clean_lab")
def test_mixed_pair_boots_each_guest_on_its_release(tmp_path: Path) -> None:
    """lb-2 on Debian 13, every other guest on Debian 12: the middle of a rolling distribution upgrade."""
    hosts = (ROOT / "inventories" / "local" / "hosts.yml").read_text()
    assert "ansible_host: 198.51.100.22\n" in hosts
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(hosts.replace("ansible_host: 198.51.100.22\n",
                                       "ansible_host: 198.51.100.22\n          lab_debian_release: trixie\n"))
    env = {k: v for k, v in os.environ.items() if k != labctl.RELEASE_ENV}
    env["HA_LB_LAB_INVENTORY"] = str(inventory)
    try:
        proc = lab("up", env=env)
        assert proc.returncode == 0, proc.stderr
        seen = {}
        for g in labctl.load_guests(inventory):
            seen[g.name] = subprocess.run(
                ["ssh", "-i", str(labctl.SSH_KEY), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "LogLevel=ERROR", f"root@{g.address}", ". /etc/os-release; echo $VERSION_CODENAME"],
                capture_output=True, text=True, timeout=30, check=True).stdout.strip()
        assert seen == {"client": "bookworm", "lb-1": "bookworm", "lb-2": "trixie", "web-1": "bookworm",
                        "web-2": "bookworm"}
        status = lab("status", env=env)
        assert status.returncode == 0
        assert "bookworm ready" in status.stdout and "trixie ready" in status.stdout
        assert [line.split()[-1] for line in status.stdout.splitlines() if line.startswith("lb-2 ")] == ["trixie"]
        # The same guests asked for on another release: refused, with the fix, and nothing restarted.
        running = sorted(labctl.nspawn_pids())
        again = lab("up", env={**env, labctl.RELEASE_ENV: "bookworm"})
        assert again.returncode == 1
        assert "lb-2 runs trixie, bookworm is asked for" in again.stderr and "make lab-down" in again.stderr
        assert sorted(labctl.nspawn_pids()) == running
    finally:
        assert lab("down", env=env).returncode == 0
    assert leftovers() == []


def test_fleet_inventory_gives_each_pair_its_group_addresses_vrid_and_vip(tmp_path: Path) -> None:
    hosts = labctl.fleet_inventory(3, tmp_path / "fleet")
    guests = {g.name: str(g.address) for g in labctl.load_guests(hosts)}
    assert guests == {"client": "198.51.100.31", "web-1": "198.51.100.11", "web-2": "198.51.100.12",
                      "lb-01a": "198.51.100.41", "lb-01b": "198.51.100.42", "lb-02a": "198.51.100.43",
                      "lb-02b": "198.51.100.44", "lb-03a": "198.51.100.45", "lb-03b": "198.51.100.46"}
    pair = labctl.yaml.safe_load((tmp_path / "fleet" / "group_vars" / "pair_02.yml").read_text())
    instance = pair["keepalived_instances"][0]
    assert pair["keepalived_group"] == "pair_02"
    assert pair["keepalived_health_check_timeout"] == labctl.FLEET_HEALTH_CHECK_TIMEOUT > 1
    assert (instance["virtual_router_id"], instance["virtual_ipaddresses"]) == (12, ["198.51.100.142/24"])
    assert instance["nodes"] == {"lb-02a": {"state": "MASTER", "priority": 100},
                                 "lb-02b": {"state": "BACKUP", "priority": 50}}
    # The lab's own group variables (services, TLS, secrets) are shared, not copied.
    assert (tmp_path / "fleet" / "group_vars" / "lb").resolve() == ROOT / "inventories" / "local" / "group_vars" / "lb"
    with pytest.raises(labctl.LabError, match="PAIRS must be 1-20"):
        labctl.fleet_inventory(21, tmp_path / "big")
