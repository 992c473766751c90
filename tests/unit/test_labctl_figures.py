# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The local lab's pure logic, without root or guests: `make lab PAIRS=N`'s wiring, the per-guest
figures of `labctl.py up` (start to first SSH answer) and `labctl.py status` (memory, --json, total),
and how `down` finds guests whatever inventory started them. tests/lab/test_labctl.py boots the real thing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lab"))

import labctl  # noqa: E402  pylint: disable=wrong-import-position


def make_n(*args: str) -> list[str]:
    """The commands `make -n ARGS` would run, from a clean environment (no PAIRS, no outer make)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PAIRS", "HA_LB_LAB_INVENTORY", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    proc = subprocess.run(["make", "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True,
                          timeout=60)
    return proc.stdout.splitlines()


def test_make_lab_without_pairs_runs_the_five_guest_lab() -> None:
    assert make_n("lab") == ["bash tools/setup.sh", "python lab/labctl.py up",
                             "ansible-playbook playbooks/site.yml -i inventories/local"]
    assert make_n("lab", "PAIRS=") == make_n("lab")
    assert make_n("lab-down") == ["bash tools/setup.sh", "python lab/labctl.py down"]
    assert make_n("lab-status") == ["python lab/labctl.py status"]


def test_make_lab_with_pairs_writes_the_fleet_inventory_starts_and_deploys_it() -> None:
    fleet = (labctl.FLEET_DIR / "hosts.yml").relative_to(ROOT)
    assert make_n("lab", "PAIRS=3") == [
        "bash tools/setup.sh",
        "python lab/labctl.py fleet-inventory 3",
        f"HA_LB_LAB_INVENTORY={fleet} python lab/labctl.py up",
        f"ansible-playbook playbooks/site.yml -i {fleet}",
    ]
    assert make_n("lab-up", "PAIRS=3")[1:] == ["python lab/labctl.py fleet-inventory 3",
                                               f"HA_LB_LAB_INVENTORY={fleet} python lab/labctl.py up"]
    assert make_n("lab-status", "PAIRS=3") == [f"HA_LB_LAB_INVENTORY={fleet} python lab/labctl.py status"]
    assert make_n("lab-down", "PAIRS=3")[-1] == f"HA_LB_LAB_INVENTORY={fleet} python lab/labctl.py down"


def test_memory_current_is_read_from_the_guests_cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert labctl.parse_memory_current("52428800\n") == 52428800
    assert labctl.parse_memory_current("") is None
    assert labctl.parse_memory_current("max\n") is None
    roots = [tmp_path / "systemd", tmp_path / "unified"]
    monkeypatch.setattr(labctl, "CGROUP_ROOTS", roots)
    # The named v1 hierarchy has the guest's dir but no memory.current; the v2 one has both.
    (roots[0] / labctl.LAB / "lb-1").mkdir(parents=True)
    (roots[1] / labctl.LAB / "lb-1").mkdir(parents=True)
    (roots[1] / labctl.LAB / "lb-1" / "memory.current").write_text("52428800\n")
    (roots[1] / labctl.LAB / "lb-2").mkdir(parents=True)
    address = labctl.ipaddress.ip_address("198.51.100.21")
    assert labctl.guest_memory(labctl.Guest("lb-1", address)) == (52428800, "cgroup")
    # No memory.current and no process in the guest's cgroups (or no cgroup at all): unknown.
    assert labctl.guest_memory(labctl.Guest("lb-2", address)) == (None, None)
    assert labctl.guest_memory(labctl.Guest("web-1", address)) == (None, None)


SMAPS_ROLLUP = """56403d7de000-7ffc6cacd000 ---p 00000000 00:00 0                          [rollup]
Rss:                1768 kB
Pss:                 319 kB
Pss_Dirty:           116 kB
Pss_Anon:            116 kB
Private_Dirty:       116 kB
SwapPss:               0 kB
"""

STATUS = """Name:\tnginx
State:\tS (sleeping)
VmHWM:\t    9000 kB
VmRSS:\t    8192 kB
RssAnon:\t    1024 kB
"""


def fake_process(proc: Path, pid: int, pss_kib: int | None = None, rss_kib: int | None = None) -> None:
    """/proc/<pid> with a smaps_rollup (when pss_kib is given) and a status (VmRSS when rss_kib is given)."""
    (proc / str(pid)).mkdir(parents=True)
    if pss_kib is not None:
        (proc / str(pid) / "smaps_rollup").write_text(SMAPS_ROLLUP.replace("319 kB", f"{pss_kib} kB"))
    (proc / str(pid) / "status").write_text(STATUS.replace("8192 kB", f"{rss_kib} kB") if rss_kib is not None
                                            else "Name:\tzombie\nState:\tZ (zombie)\n")


def test_pss_and_vmrss_are_parsed_in_bytes() -> None:
    assert labctl.parse_kib_field(SMAPS_ROLLUP, "Pss") == 319 * 1024  # not Pss_Dirty, Pss_Anon or SwapPss
    assert labctl.parse_kib_field(SMAPS_ROLLUP, "Rss") == 1768 * 1024
    assert labctl.parse_kib_field(STATUS, "VmRSS") == 8192 * 1024
    # A zombie's or kernel thread's status has no VmRSS; an empty file (a process gone mid-read) has nothing.
    assert labctl.parse_kib_field("Name:\tkthreadd\nState:\tS (sleeping)\n", "VmRSS") is None
    assert labctl.parse_kib_field("", "Pss") is None
    assert labctl.parse_kib_field("Pss: 12 MB\n", "Pss") is None


def test_a_process_gives_its_pss_else_its_vmrss_else_nothing(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    fake_process(proc, 10, pss_kib=300, rss_kib=1000)
    fake_process(proc, 11, rss_kib=1000)  # no smaps_rollup (a kernel before 4.14)
    fake_process(proc, 12)  # a zombie: no smaps_rollup to read, no VmRSS
    fake_process(proc, 13, pss_kib=300, rss_kib=1000)
    (proc / "13" / "smaps_rollup").write_text("")  # read as the process exits
    assert labctl.process_memory(10, proc) == (300 * 1024, "pss")
    assert labctl.process_memory(11, proc) == (1000 * 1024, "rss")
    assert labctl.process_memory(12, proc) is None
    assert labctl.process_memory(13, proc) == (1000 * 1024, "rss")
    assert labctl.process_memory(14, proc) is None  # gone


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc")
def test_this_process_has_a_memory_figure() -> None:
    memory, source = labctl.process_memory(os.getpid())
    assert memory > 0
    assert source == ("pss" if Path("/proc/self/smaps_rollup").exists() else "rss")


def test_processes_are_found_in_every_cgroup_below_the_guests(tmp_path: Path) -> None:
    systemd, unified = tmp_path / "systemd" / "halb" / "lb-1", tmp_path / "unified" / "halb" / "lb-1"
    for top in (systemd, unified):
        (top / "payload" / "system.slice" / "nginx.service").mkdir(parents=True)
        (top / "supervisor").mkdir()
        (top / "cgroup.procs").write_text("100\n")
        (top / "payload" / "cgroup.procs").write_text("")
        (top / "supervisor" / "cgroup.procs").write_text("101\n")
    (systemd / "payload" / "system.slice" / "nginx.service" / "cgroup.procs").write_text("200\n201\n")
    (unified / "payload" / "system.slice" / "nginx.service" / "cgroup.procs").write_text("201\n200\n202\n")
    (unified / "payload" / "system.slice" / "cgroup.procs").mkdir()  # unreadable: skipped
    assert labctl.cgroup_pids([systemd, unified, tmp_path / "missing"]) == {100, 101, 200, 201, 202}
    assert labctl.cgroup_pids([tmp_path / "missing"]) == set()


def test_the_memory_of_processes_is_added_up_skipping_those_gone(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    fake_process(proc, 1, pss_kib=100, rss_kib=500)
    fake_process(proc, 2, pss_kib=200, rss_kib=500)
    fake_process(proc, 3, rss_kib=500)
    fake_process(proc, 4)
    assert labctl.processes_memory({1, 2, 9}, proc) == (300 * 1024, "pss")
    # One process counted by its VmRSS makes the whole figure "rss".
    assert labctl.processes_memory({1, 2, 3, 4}, proc) == (800 * 1024, "rss")
    assert labctl.processes_memory({4, 9}, proc) is None
    assert labctl.processes_memory(set(), proc) is None


def test_without_memory_current_a_guests_memory_is_its_processes_pss(tmp_path: Path) -> None:
    roots, proc = [tmp_path / "systemd", tmp_path / "unified"], tmp_path / "proc"
    for root in roots:
        (root / labctl.LAB / "lb-1" / "payload").mkdir(parents=True)
        (root / labctl.LAB / "lb-1" / "cgroup.procs").write_text("10\n")
        (root / labctl.LAB / "lb-1" / "payload" / "cgroup.procs").write_text("11\n12\n")
        (root / labctl.LAB / "web-1").mkdir(parents=True)
        (root / labctl.LAB / "web-1" / "cgroup.procs").write_text("20\n")
    fake_process(proc, 10, pss_kib=1024, rss_kib=2048)
    fake_process(proc, 11, pss_kib=2048, rss_kib=4096)  # 12 is gone
    fake_process(proc, 20, rss_kib=3072)
    address = labctl.ipaddress.ip_address("198.51.100.21")
    assert labctl.guest_memory(labctl.Guest("lb-1", address), roots, proc) == (3 << 20, "pss")
    assert labctl.guest_memory(labctl.Guest("web-1", address), roots, proc) == (3 << 20, "rss")
    assert labctl.guest_memory(labctl.Guest("lb-2", address), roots, proc) == (None, None)
    # memory.current, where there is one, wins.
    (roots[1] / labctl.LAB / "lb-1" / "memory.current").write_text("52428800\n")
    assert labctl.guest_memory(labctl.Guest("lb-1", address), roots, proc) == (52428800, "cgroup")


def test_memory_is_shown_in_mib_or_gib_and_unknown_as_a_dash() -> None:
    assert labctl.format_bytes(None) == "-"
    assert labctl.format_bytes(0) == "0.0 MiB"
    assert labctl.format_bytes(52428800) == "50.0 MiB"
    assert labctl.format_bytes(3 << 30) == "3.00 GiB"


def row(name: str, number: int, memory: int | None, running: bool = True, source: str = "cgroup") -> dict:
    known = running and memory is not None
    return {"name": name, "address": f"198.51.100.{number}", "state": "running" if running else "stopped",
            "ssh": running, "release": "bookworm", "memory_bytes": memory if known else None,
            "memory_source": source if known else None}


def test_status_table_stays_aligned_for_45_guests_and_sums_memory() -> None:
    rows = [row(f"lb-{n:02d}a", 40 + n, 100 << 20) for n in range(1, 43)]
    rows += [row("web-1", 11, 200 << 20), row("a-long-name1", 12, None), row("client", 31, None, running=False)]
    lines = labctl.status_table(rows)
    assert len(lines) == 1 + 45 + 1
    header, body, total = lines[0], lines[1:-1], lines[-1]
    # Every column starts where its header does (memory ends where its header does), whatever the name's length.
    for line in body:
        assert line.index("198.51.100.") == header.index("address")
        assert line[header.index("state"):].startswith(("running ", "stopped "))
        assert line[header.index("ssh"):].startswith(("yes ", "no "))
        assert line[:header.index("memory") + len("memory")].endswith(("MiB", " -"))
        assert line[header.index("release"):] == "bookworm"
    assert body[0].split() == ["lb-01a", "198.51.100.41", "running", "yes", "100.0", "MiB", "bookworm"]
    assert body[-2].split() == ["a-long-name1", "198.51.100.12", "running", "yes", "-", "bookworm"]
    assert body[-1].split() == ["client", "198.51.100.31", "stopped", "no", "-", "bookworm"]
    assert total == "total: 44 of 45 guests running, 44 answer SSH, memory 4.30 GiB (unknown for 1)"


def test_status_total_without_memory_controller() -> None:
    assert labctl.status_table([row("lb-1", 21, None)])[-1] == (
        "total: 1 of 1 guests running, 1 answer SSH, memory - (no memory.current, no processes in the guests' cgroups)")
    assert labctl.status_table([row("lb-1", 21, None, running=False)])[-1] == (
        "total: 0 of 1 guests running, 0 answer SSH, memory -")


def test_status_marks_memory_not_from_memory_current_and_says_how_it_was_read() -> None:
    rows = [row("lb-01a", 41, 100 << 20, source="pss"), row("lb-01b", 42, 50 << 20, source="pss"),
            row("client", 31, None, running=False)]
    lines = labctl.status_table(rows)
    header = lines[0]
    assert lines[1].split() == ["lb-01a", "198.51.100.41", "running", "yes", "100.0", "MiB*", "bookworm"]
    # The mark sits after the figure: the figure still ends under the header, the release starts under its own.
    assert lines[1][:header.index("memory") + len("memory")].endswith("MiB")
    assert lines[1][header.index("release"):] == "bookworm"
    assert lines[3].split() == ["client", "198.51.100.31", "stopped", "no", "-", "bookworm"]
    assert lines[4:] == ["total: 2 of 3 guests running, 2 answer SSH, memory 150.0 MiB*",
                         "* memory: no memory.current; the Pss of the guest's processes added up"]
    # A guest counted partly by VmRSS (smaps_rollup unreadable) is marked "+", and so is the total.
    lines = labctl.status_table([*rows[:2], row("web-1", 11, 10 << 20, source="rss")])
    assert lines[3].split()[-2:] == ["MiB+", "bookworm"]
    assert lines[4] == "total: 3 of 3 guests running, 3 answer SSH, memory 160.0 MiB+"
    assert lines[5].startswith("* memory: ") and lines[6].startswith("+ memory: ") and len(lines) == 7
    # memory.current figures have no mark and no note.
    assert labctl.status_table([row("lb-1", 21, 1 << 20)])[1:] == [
        "lb-1     198.51.100.21   running  yes     1.0 MiB  bookworm",
        "total: 1 of 1 guests running, 1 answer SSH, memory 1.0 MiB"]


def nspawn(name: str) -> list[str]:
    return ["systemd-nspawn", "-q", "-D", f"/run/{name}/root", "-M", name, "--register=no",
            f"--network-bridge={labctl.BRIDGE}"]


@pytest.fixture
def fake_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Three guests of an inventory, lb-1 and web-1 running, and lb-01a running from another inventory;
    lb-1's cgroup has a memory.current, web-1's has not (its memory is its processes' Pss)."""
    guests = [labctl.Guest("client", labctl.ipaddress.ip_address("198.51.100.31")),
              labctl.Guest("lb-1", labctl.ipaddress.ip_address("198.51.100.21")),
              labctl.Guest("web-1", labctl.ipaddress.ip_address("198.51.100.11"), "trixie")]
    cmdlines = {101: nspawn("lb-1"), 102: nspawn("web-1"), 103: nspawn("lb-01a"), 104: ["sshd"]}
    roots = [tmp_path / "cgroup"]
    (roots[0] / labctl.LAB / "lb-1").mkdir(parents=True)
    (roots[0] / labctl.LAB / "lb-1" / "memory.current").write_text("104857600\n")
    (roots[0] / labctl.LAB / "web-1" / "payload").mkdir(parents=True)
    (roots[0] / labctl.LAB / "web-1" / "cgroup.procs").write_text("102\n")
    (roots[0] / labctl.LAB / "web-1" / "payload" / "cgroup.procs").write_text("105\n106\n")
    fake_process(tmp_path / "proc", 102, pss_kib=2048, rss_kib=4096)
    fake_process(tmp_path / "proc", 105, pss_kib=4096, rss_kib=8192)  # 106 is gone
    monkeypatch.setattr(labctl, "load_guests", lambda *args: guests)
    monkeypatch.setattr(labctl, "proc_cmdlines", lambda: cmdlines)
    monkeypatch.setattr(labctl, "ssh_answers", lambda address, timeout=0.5: True)
    monkeypatch.setattr(labctl, "running_release", lambda guest: "bookworm")
    monkeypatch.setattr(labctl, "base_ready", lambda rel: True)
    monkeypatch.setattr(labctl, "CGROUP_ROOTS", roots)
    monkeypatch.setattr(labctl, "PROC", tmp_path / "proc")
    monkeypatch.setattr(labctl, "RUN", tmp_path / "run")
    return {"guests": guests, "cmdlines": cmdlines}


@pytest.mark.usefixtures("fake_lab")
def test_status_json_gives_one_object_per_guest(capsys: pytest.CaptureFixture) -> None:
    assert labctl.main(["status", "--json"]) == 3
    assert json.loads(capsys.readouterr().out) == [
        {"name": "client", "address": "198.51.100.31", "state": "stopped", "ssh": False, "release": "bookworm",
         "memory_bytes": None, "memory_source": None},
        {"name": "lb-1", "address": "198.51.100.21", "state": "running", "ssh": True, "release": "bookworm",
         "memory_bytes": 104857600, "memory_source": "cgroup"},
        {"name": "web-1", "address": "198.51.100.11", "state": "running", "ssh": True, "release": "bookworm",
         "memory_bytes": 6291456, "memory_source": "pss"},
    ]
    with pytest.raises(SystemExit):
        labctl.main(["up", "--json"])


@pytest.mark.usefixtures("fake_lab")
def test_status_names_guests_running_from_another_inventory(capsys: pytest.CaptureFixture) -> None:
    assert labctl.main(["status"]) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["guest", "address", "state", "ssh", "memory", "release"]
    assert out[2].split() == ["lb-1", "198.51.100.21", "running", "yes", "100.0", "MiB", "bookworm"]
    assert out[3].split() == ["web-1", "198.51.100.11", "running", "yes", "6.0", "MiB*", "bookworm"]
    assert out[4] == "total: 2 of 3 guests running, 2 answer SSH, memory 106.0 MiB*"
    assert out[5] == "* memory: no memory.current; the Pss of the guest's processes added up"
    assert out[6].startswith("lab: also running, not in ") and ": lb-01a (" in out[6]
    assert out[7].startswith("lab: partial (base trees: bookworm ready, trixie ready;")


def test_wait_for_ssh_returns_when_each_guest_first_answered(fake_lab: dict,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    probes: dict[str, int] = {}

    def answers(address: str, timeout: float = 0.5) -> bool:  # noqa: ARG001
        probes[address] = probes.get(address, 0) + 1
        return address != "198.51.100.11" or probes[address] >= 3

    monkeypatch.setattr(labctl, "ssh_answers", answers)
    running = fake_lab["guests"][1:]
    before = time.monotonic()
    answered = labctl.wait_for_ssh(running, 5)
    assert sorted(answered) == ["lb-1", "web-1"]
    assert before <= answered["lb-1"] < answered["web-1"] <= time.monotonic()
    assert probes == {"198.51.100.21": 1, "198.51.100.11": 3}
    # A guest whose nspawn and supervisor are gone stopped while booting: its console says why.
    client = fake_lab["guests"][0]
    client.dir.mkdir(parents=True)
    (client.dir / "console.log").write_text("Failed to start ...\n")
    monkeypatch.setattr(labctl, "ssh_answers", lambda address, timeout=0.5: False)
    with pytest.raises(labctl.LabError, match=r"guest client stopped while booting; its console:\nFailed to start"):
        labctl.wait_for_ssh([client], 5)


def test_start_guest_returns_its_start_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Popen:  # pylint: disable=too-few-public-methods
        def __init__(self, argv: list[str], **kwargs) -> None:  # noqa: ARG002
            assert argv[-2:] == ["_supervise", "lb-1"]
            self.pid = 4242

    monkeypatch.setattr(labctl, "RUN", tmp_path)
    monkeypatch.setattr(labctl.subprocess, "Popen", Popen)
    guest = labctl.Guest("lb-1", labctl.ipaddress.ip_address("198.51.100.21"))
    guest.dir.mkdir()
    before = time.monotonic()
    started = labctl.start_guest(guest)
    assert before <= started <= time.monotonic()
    assert guest.pidfile.read_text() == "4242\n"


def test_up_reports_each_started_guests_time_to_ssh() -> None:
    guests = [labctl.Guest(name, labctl.ipaddress.ip_address(f"198.51.100.{n}"))
              for n, name in ((31, "client"), (41, "lb-01a"), (11, "web-1"))]
    seconds = labctl.ssh_after_start({"client": 10.0, "lb-01a": 11.0}, {"client": 11.0, "lb-01a": 14.0, "web-1": 2.0})
    assert seconds == {"client": 1.0, "lb-01a": 3.0}
    assert labctl.boot_report(guests, seconds) == [
        "guest   first SSH answer after start",
        "client    1.0 s",
        "lb-01a    3.0 s",
        "web-1   already running",
        "ssh after start: 2 started, min 1.0 s, median 2.0 s, max 3.0 s",
    ]
    assert labctl.boot_report(guests, {})[-1] == "web-1   already running"


def test_down_finds_guests_of_any_inventory(fake_lab: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "run" / "lb-02b").mkdir(parents=True)
    (tmp_path / "run" / "stray-file").write_text("")
    assert labctl.lab_guest_names(fake_lab["guests"][:1]) == {"client", "lb-1", "web-1", "lb-01a", "lb-02b"}
    links = [{"ifname": "halb0"}, {"ifname": "vb-lb-02b"}, {"ifname": "vb-other", "master": labctl.BRIDGE},
             {"ifname": "eth0"}, {"ifname": "vb-lb-1"}]
    monkeypatch.setattr(labctl, "links", lambda: links)
    monkeypatch.setattr(labctl, "lab_mounts", lambda: [])
    monkeypatch.setattr(labctl, "proc_cmdlines", lambda: {})
    monkeypatch.setattr(labctl, "CGROUP_ROOTS", [tmp_path / "no-cgroup"])
    assert labctl.leftovers([], {"lb-02b"}) == ["link halb0", "link vb-lb-02b", "link vb-other"]
    assert labctl.veth_name("a-long-name1") == "vb-a-long-name1"[:15]


def test_down_without_a_readable_inventory_removes_what_the_lab_started(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    torn: list[list] = []

    def missing(*args):
        raise labctl.LabError("inventory build/fleet-lab/hosts.yml not found")

    monkeypatch.setattr(labctl.os, "geteuid", lambda: 0)
    monkeypatch.setattr(labctl, "load_guests", missing)
    monkeypatch.setattr(labctl, "CACHE", tmp_path)
    monkeypatch.setattr(labctl, "LOCK", tmp_path / "lock")
    monkeypatch.setattr(labctl, "RUN", tmp_path / "run")
    monkeypatch.setattr(labctl, "proc_cmdlines", lambda: {103: nspawn("lb-01a")})
    monkeypatch.setattr(labctl, "teardown", torn.append)
    monkeypatch.setattr(labctl, "leftovers", lambda guests, names=None: [])
    assert labctl.main(["down"]) == 0
    assert torn == [[]]
    assert "removing every guest the lab started" in capsys.readouterr().out


def test_missing_inventory_and_bad_pairs_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(labctl.LabError, match=r"not found \(a fleet lab's is written by"):
        labctl.load_guests(tmp_path / "hosts.yml")
    assert labctl.main(["fleet-inventory", "three"]) == 1
    assert "a number of pairs, not 'three'" in capsys.readouterr().err
    # With HA_LB_LAB_INVENTORY naming the fleet inventory itself, rewriting it would delete its own base.
    monkeypatch.setattr(labctl, "INVENTORY", tmp_path / "fleet" / "hosts.yml")
    with pytest.raises(labctl.LabError, match="unset HA_LB_LAB_INVENTORY"):
        labctl.fleet_inventory(2, tmp_path / "fleet")


def test_inotify_limits_grow_with_the_guests_and_are_never_lowered():
    kernel_defaults = {"fs/inotify/max_user_instances": 128, "fs/inotify/max_user_watches": 8192}
    assert labctl.inotify_raises(5, kernel_defaults) == {
        "fs/inotify/max_user_instances": 256 + 5 * 64, "fs/inotify/max_user_watches": 65536 + 5 * 16384}
    # Forty-three guests (twenty pairs) need more instances than the kernel's 128.
    raised = labctl.inotify_raises(43, kernel_defaults)
    assert raised["fs/inotify/max_user_instances"] == 256 + 43 * 64
    # A host set higher already is left alone.
    assert labctl.inotify_raises(43, {"fs/inotify/max_user_instances": 10**6, "fs/inotify/max_user_watches": 10**7}) == {}
