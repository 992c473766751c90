"""The local lab: five Debian machines as systemd-nspawn guests on one bridge.

Each guest boots its own systemd, sshd and network stack; Ansible reaches it over
SSH exactly as it would reach a VM. Names and addresses come from
inventories/local/hosts.yml, so the inventory and the lab cannot disagree.

Each guest runs Debian 12 (bookworm) or 13 (trixie): the inventory variable
`lab_debian_release` (a host's or a group's, in hosts.yml) chooses it per guest, so a pair
can be mixed; HA_LB_LAB_RELEASE=bookworm|trixie (or 12|13) puts every guest on one release.
Each release has its own cached base tree and local apt repository. HA_LB_LAB_INVENTORY names
another hosts file of the same shape.

    labctl.py up        build the cached base tree if needed, start every guest,
                        wait until all answer SSH (idempotent); prints, per guest it started,
                        the time from its start to its first SSH answer
    labctl.py down      stop every guest and remove everything the lab created, whatever
                        inventory started it (also what a killed lab left behind); fine when
                        nothing exists
    labctl.py status [--json]  one line per guest (state, SSH, memory, release) and a total;
                        --json: a JSON array, one object per guest (name, address, state, ssh,
                        release, memory_bytes, memory_source: "cgroup" for memory.current, "pss"
                        for the Pss of the guest's processes added up where that is missing, "rss"
                        when some of them gave only VmRSS). Exit status 0 when every guest answers
                        SSH, else 3
    labctl.py build [RELEASE]  (re)build the cached base tree and local apt repository of a
                        release (default: every release the guests use)
    labctl.py offer-upgrades [N] add to the local repository a higher version of the packages a
                        rolling upgrade changes (nginx, keepalived): the same files, rebuilt
                        with "+labN" (default 1) added to their version (idempotent)
    labctl.py withdraw-upgrades  remove them again (guests keep what they installed)
    labctl.py fleet-inventory [PAIRS]  write build/fleet-lab/, an inventory of PAIRS (default 3, at most 20)
                        balancer pairs on the lab network sharing the backends; start it with
                        HA_LB_LAB_INVENTORY=build/fleet-lab/hosts.yml labctl.py up (or: make lab PAIRS=N)

Needs root, systemd-nspawn (systemd-container), debootstrap and dpkg-scanpackages (dpkg-dev).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
# The lab's hosts: inventories/local, or another inventory of the same shape (HA_LB_LAB_INVENTORY).
# Absolute: the guests' supervisors run from / and are given it (start_guest).
INVENTORY = Path(os.environ.get("HA_LB_LAB_INVENTORY") or REPO_ROOT / "inventories" / "local" / "hosts.yml").absolute()

LAB = "halb"
BRIDGE = "halb0"
NETWORK = ipaddress.ip_network("198.51.100.0/24")
HOST_ADDRESS = ipaddress.ip_interface("198.51.100.1/24")
# The Debian releases a guest can run: suite and major version.
RELEASES = {"bookworm": "12", "trixie": "13"}
DEFAULT_RELEASE = "bookworm"
RELEASE_VAR = "lab_debian_release"
RELEASE_ENV = "HA_LB_LAB_RELEASE"

CACHE = Path(os.environ.get("HA_LB_LAB_CACHE", "/var/lib/ha-lb-lab"))
SSH_DIR = CACHE / "ssh"
# The lab's throwaway CA and the certificate of its HTTPS service (inventories/local), never committed.
TLS_DIR = CACHE / "tls"
TLS_NAMES = ["www.lab.test", "lab.test"]
TLS_RENEW_SECONDS = 30 * 86400
LB_VARS = REPO_ROOT / "inventories" / "local" / "group_vars" / "lb" / "vars.yml"
SSH_KEY = SSH_DIR / "id_ed25519"
RUN = CACHE / "run"
LOCK = CACHE / "lock"
CGROUP_ROOTS = [Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified")]
PROC = Path("/proc")
PROPAGATE = Path("/run/systemd/nspawn/propagate")

# What the base tree holds, and what the guests' local apt repository offers.
BASE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "python3-apt",
    "iproute2", "curl", "ca-certificates", "procps", "sudo",
]
# The exporters and prometheus (its promtool) for the metrics, nftables for the firewall.
REPO_PACKAGES = ["nginx", "libnginx-mod-stream", "keepalived", "wrk", "prometheus-node-exporter",
                 "prometheus-nginx-exporter", "prometheus", "nftables"]
# Bump when the way the base tree is prepared changes, so caches are rebuilt.
RECIPE_VERSION = 3

SSH_WAIT_SECONDS = 60
# Each guest's systemd takes inotify instances and watches from the host's per-user limits, which
# are all root's here: the kernel's defaults (128 instances) stop a lab at about 40 guests.
SYSCTL = Path("/proc/sys")
INOTIFY_PER_GUEST = {"fs/inotify/max_user_instances": 64, "fs/inotify/max_user_watches": 16384}
INOTIFY_BASE = {"fs/inotify/max_user_instances": 256, "fs/inotify/max_user_watches": 65536}
STOP_WAIT_SECONDS = 10


class LabError(Exception):
    """A problem the operator can fix; the message says how."""


def release_name(value: object, where: str) -> str:
    """bookworm/trixie or 12/13 to the suite name; anything else is refused, naming where it was set."""
    text = str(value).strip().lower()
    for suite, major in RELEASES.items():
        if text in (suite, major):
            return suite
    choices = ", ".join(f"{s} ({m})" for s, m in RELEASES.items())
    raise LabError(f"{where}: Debian release {value!r} is not one the lab builds; use one of {choices}")


@dataclass(frozen=True)
class Release:
    """One Debian release's cached base tree and the guests' local apt repository built inside it."""
    suite: str

    @property
    def dir(self) -> Path:
        return CACHE / self.suite

    @property
    def base(self) -> Path:
        return self.dir / "base"

    @property
    def repo(self) -> Path:
        return self.dir / "repo"

    @property
    def stamp(self) -> Path:
        return self.dir / "base.stamp"


@dataclass(frozen=True)
class Guest:
    name: str
    address: ipaddress.IPv4Address
    release: str = DEFAULT_RELEASE

    @property
    def rel(self) -> Release:
        return Release(self.release)

    @property
    def dir(self) -> Path:
        return RUN / self.name

    @property
    def root(self) -> Path:
        return self.dir / "root"

    @property
    def pidfile(self) -> Path:
        return self.dir / "supervisor.pid"

    @property
    def veth(self) -> str:
        return veth_name(self.name)


def log(msg: str) -> None:
    print(f"lab: {msg}", flush=True)


def run(cmd: list[str], check: bool = True, quiet: bool = False, **kw) -> subprocess.CompletedProcess:
    if quiet:
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.run(cmd, text=True, check=False, **kw)
    if check and proc.returncode != 0:
        detail = (proc.stderr or "").strip() if isinstance(proc.stderr, str) else ""
        raise LabError(f"command failed ({proc.returncode}): {' '.join(cmd)}" + (f"\n{detail}" if detail else ""))
    return proc


# ---------------------------------------------------------------- topology


def load_guests(inventory: Path = INVENTORY) -> list[Guest]:
    """Guests are every host of inventories/local with an ansible_host in the lab network.

    A guest's release: HA_LB_LAB_RELEASE when set, else its own or its nearest group's
    lab_debian_release in the inventory, else bookworm."""
    if not inventory.is_file():
        raise LabError(f"inventory {inventory} not found (a fleet lab's is written by "
                       "`labctl.py fleet-inventory N`, or `make lab PAIRS=N`)")
    data = yaml.safe_load(inventory.read_text())
    found: dict[str, str] = {}
    releases: dict[str, tuple[object, str]] = {}

    def walk(group: dict, gname: str, inherited: tuple[object, str] | None) -> None:
        gvars = (group or {}).get("vars") or {}
        if RELEASE_VAR in gvars:
            inherited = (gvars[RELEASE_VAR], f"{inventory}: group {gname}")
        for name, hvars in ((group or {}).get("hosts") or {}).items():
            found[name] = (hvars or {}).get("ansible_host", "")
            if RELEASE_VAR in (hvars or {}):
                releases[name] = (hvars[RELEASE_VAR], f"{inventory}: host {name}")
            elif inherited and name not in releases:
                releases[name] = inherited
        for cname, child in ((group or {}).get("children") or {}).items():
            walk(child, cname, inherited)

    walk(data.get("all", {}), "all", None)
    forced = os.environ.get(RELEASE_ENV, "").strip()
    if forced:
        forced = release_name(forced, RELEASE_ENV)
    guests = []
    for name, addr in sorted(found.items()):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,11}", name):
            raise LabError(f"{inventory}: host name {name!r} must be 1-12 lower-case letters, digits or dashes")
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            raise LabError(f"{inventory}: host {name} needs ansible_host set to an address in {NETWORK}") from None
        if ip not in NETWORK or ip == HOST_ADDRESS.ip:
            raise LabError(f"{inventory}: host {name} address {ip} must lie in {NETWORK} and not be {HOST_ADDRESS.ip}")
        release = forced or (release_name(*releases[name]) if name in releases else DEFAULT_RELEASE)
        guests.append(Guest(name, ip, release))
    if not guests:
        raise LabError(f"{inventory}: no hosts found")
    return guests


# ---------------------------------------------------------------- checks


def require_host_tools(for_build: bool) -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network bridge, mounts, containers): run it with sudo or as root")
    tools = {"systemd-nspawn": "systemd-container", "ip": "iproute2", "ssh-keygen": "openssh-client",
             "openssl": "openssl"}
    if for_build:
        tools |= {"debootstrap": "debootstrap", "dpkg-scanpackages": "dpkg-dev"}
    missing = sorted({pkg for tool, pkg in tools.items() if shutil.which(tool) is None})
    if missing:
        raise LabError(
            "missing host packages: " + " ".join(missing)
            + f"\n  fix: apt-get install --no-install-recommends {' '.join(missing)}   (or: make setup)"
        )


def links() -> list[dict]:
    out = run(["ip", "-d", "-j", "addr", "show"], stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    return json.loads(out or "[]")


def check_network_free() -> None:
    """Refuse to start when the bridge name or the lab range is used by something else."""
    for link in links():
        name = link.get("ifname")
        addrs = [ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}") for a in link.get("addr_info", [])
                 if a.get("family") == "inet"]
        if name == BRIDGE:
            if link.get("linkinfo", {}).get("info_kind") != "bridge" or any(a != HOST_ADDRESS for a in addrs):
                raise LabError(f"interface {BRIDGE} exists but is not this lab's bridge ({HOST_ADDRESS}); "
                               f"remove it (ip link del {BRIDGE}) or free the name")
            continue
        for a in addrs:
            if a.network.overlaps(NETWORK):
                raise LabError(f"the lab network {NETWORK} is already in use on {name} ({a}); "
                               "remove that address or route before starting the lab")
    routes = run(["ip", "-j", "route", "show"], stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    for route in json.loads(routes or "[]"):
        dst = route.get("dst", "")
        if dst in ("default", "") or route.get("dev") == BRIDGE:
            continue
        with contextlib.suppress(ValueError):
            if ipaddress.ip_network(dst, strict=False).overlaps(NETWORK):
                raise LabError(f"the lab network {NETWORK} is already routed ({dst} via {route.get('dev')}); "
                               "remove that route before starting the lab")


# ---------------------------------------------------------------- base tree


# Suites whose apt source line names the main Debian archive (not -security, -updates).
MIRROR_SUITES = ("bullseye", *RELEASES)


def host_mirror() -> str:
    """The Debian mirror the host itself uses, read from its apt sources (any release's
    suites on it: the mirror serves every release, whichever the host runs)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
                suites = fields.get("Suites", "").split()
                if any(s in MIRROR_SUITES for s in suites) and "deb" in fields.get("Types", "").split():
                    return fields["URIs"].split()[0]
        else:
            for line in text.splitlines():
                m = re.match(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m and m.group(2) in MIRROR_SUITES:
                    return m.group(1)
    raise LabError(f"no Debian mirror ({', '.join(RELEASES)} suite) found in the host's apt sources "
                   "(/etc/apt/sources.list*); add one, or set HA_LB_LAB_MIRROR")


def base_fingerprint(rel: Release) -> str:
    spec = json.dumps({"suite": rel.suite, "base": BASE_PACKAGES, "repo": REPO_PACKAGES, "recipe": RECIPE_VERSION})
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def base_ready(rel: Release) -> bool:
    return (rel.stamp.is_file() and rel.stamp.read_text().strip() == base_fingerprint(rel)
            and (rel.base / "usr/bin").is_dir())


def releases_of(guests: list[Guest]) -> list[Release]:
    return [Release(s) for s in sorted({g.release for g in guests})]


def nspawn_pipe(root: Path, *cmd: str, binds: tuple[str, ...] = ()) -> None:
    """Run a command inside a tree with the host's network (no boot)."""
    args = ["systemd-nspawn", "-q", "--register=no", "--keep-unit", "--pipe", "-D", str(root),
            "-E", "DEBIAN_FRONTEND=noninteractive", *[f"--bind={b}" for b in binds], *cmd]
    proc = run(args, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise LabError(f"in base tree: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}")


def build_base(rel: Release) -> None:
    """Debootstrap a release's base tree and the guests' local apt repository, in a temp dir, then swap in."""
    require_host_tools(for_build=True)
    in_use = f"--bind-ro={rel.repo}:/srv/labrepo"
    if any(in_use in argv for argv in proc_cmdlines().values()):
        raise LabError(f"the lab is running on the current {rel.suite} base tree: "
                       "run `labctl.py down` before rebuilding it")
    mirror = os.environ.get("HA_LB_LAB_MIRROR") or host_mirror()
    rel.dir.mkdir(parents=True, exist_ok=True)
    # Trees of the single-release layout (CACHE/base, CACHE/repo) are not used any more.
    if not any(f"--bind-ro={CACHE / 'repo'}:/srv/labrepo" in argv for argv in proc_cmdlines().values()):
        for legacy in (CACHE / "base", CACHE / "repo", CACHE / "base.new", CACHE / "repo.new"):
            shutil.rmtree(legacy, ignore_errors=True)
        (CACHE / "base.stamp").unlink(missing_ok=True)
    tmp = rel.dir / "base.new"
    tmp_repo = rel.dir / "repo.new"
    for d in (tmp, tmp_repo):
        if d.exists():
            shutil.rmtree(d)
    started = time.monotonic()
    log(f"building the base tree (Debian {RELEASES[rel.suite]}, {rel.suite}, from {mirror}); once, ~1-2 min")
    proc = run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", rel.suite, str(tmp),
                mirror], check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise LabError(f"debootstrap failed ({proc.returncode}):\n{proc.stdout[-3000:]}")

    # The guests' packages, downloaded with the tree's own apt so versions match.
    (tmp / "etc/apt/sources.list").write_text(f"deb {mirror} {rel.suite} main\n")
    nspawn_pipe(tmp, "apt-get", "update", "-qq")
    nspawn_pipe(tmp, "apt-get", "install", "-y", "-qq", "--download-only", "--no-install-recommends", *REPO_PACKAGES)
    tmp_repo.mkdir()
    for deb in (tmp / "var/cache/apt/archives").glob("*.deb"):
        shutil.move(str(deb), tmp_repo / deb.name)
    index = run(["dpkg-scanpackages", "--multiversion", ".", "/dev/null"], cwd=tmp_repo,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    (tmp_repo / "Packages").write_text(index)
    run(["gzip", "-9k", "Packages"], cwd=tmp_repo)

    # The local repo is the guests' only source: a dead mirror entry would make `apt update` fail.
    (tmp / "etc/apt/sources.list").write_text("deb [trusted=yes] file:/srv/labrepo ./\n")
    (tmp / "srv/labrepo").mkdir(parents=True, exist_ok=True)
    for lists in (tmp / "var/lib/apt/lists").glob("*_dists_*"):
        lists.unlink()
    # Index it now: a role that skips `apt update` when lists look fresh must still find nginx.
    nspawn_pipe(tmp, "apt-get", "update", "-qq", binds=(f"{tmp_repo}:/srv/labrepo",))
    nspawn_pipe(tmp, "apt-get", "clean")

    # One identity per guest: no shared machine id, hostname or host keys.
    (tmp / "etc/machine-id").write_text("")
    for stale in [tmp / "var/lib/dbus/machine-id", tmp / "etc/hostname", *(tmp / "etc/ssh").glob("ssh_host_*")]:
        stale.unlink(missing_ok=True)
    systemd = tmp / "etc/systemd/system"
    for unit in ("apt-daily.timer", "apt-daily-upgrade.timer", "apt-daily.service", "apt-daily-upgrade.service",
                 "e2scrub_all.timer", "fstrim.timer", "console-getty.service", "getty@tty1.service"):
        link = systemd / unit
        link.unlink(missing_ok=True)
        link.symlink_to("/dev/null")
    wants = systemd / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit in ("systemd-networkd.service",):
        (wants / unit).unlink(missing_ok=True)
        (wants / unit).symlink_to(f"/lib/systemd/system/{unit}")
    sockets = systemd / "sockets.target.wants"
    sockets.mkdir(parents=True, exist_ok=True)
    (sockets / "systemd-networkd.socket").unlink(missing_ok=True)
    (sockets / "systemd-networkd.socket").symlink_to("/lib/systemd/system/systemd-networkd.socket")
    # Guests are reached by key only; skip reverse DNS (no resolver in the lab).
    (tmp / "etc/ssh/sshd_config.d").mkdir(parents=True, exist_ok=True)
    (tmp / "etc/ssh/sshd_config.d/lab.conf").write_text("PermitRootLogin prohibit-password\nUseDNS no\n")
    (tmp / "root/.ssh").mkdir(mode=0o700, exist_ok=True)

    for final, new in ((rel.base, tmp), (rel.repo, tmp_repo)):
        if final.exists():
            shutil.rmtree(final)
        new.rename(final)
    rel.stamp.write_text(base_fingerprint(rel) + "\n")
    log(f"{rel.suite} base tree ready in {time.monotonic() - started:.0f} s "
        f"({len(list(rel.repo.glob('*.deb')))} packages in the local repo)")


def ensure_ssh_key() -> None:
    if SSH_KEY.is_file() and SSH_KEY.with_suffix(".pub").is_file():
        return
    SSH_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    SSH_KEY.unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ha-lb-lab", "-f", str(SSH_KEY)])


def ensure_tls() -> None:
    """A CA of the lab's own and a certificate for TLS_NAMES, issued again when it expires within 30 days."""
    TLS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key, ca, key, cert = (TLS_DIR / n for n in ("ca.key", "ca.crt", "www.lab.test.key", "www.lab.test.crt"))
    if not (ca_key.is_file() and ca.is_file()):
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(ca_key), "-out", str(ca), "-days", "3650", "-subj", "/CN=ha-lb lab CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            quiet=True)
        cert.unlink(missing_ok=True)
    fresh = cert.is_file() and key.is_file() and run(
        ["openssl", "x509", "-checkend", str(TLS_RENEW_SECONDS), "-noout", "-in", str(cert)],
        check=False, quiet=True).returncode == 0
    if fresh:
        return
    request = TLS_DIR / "www.lab.test.csr"
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
         "-out", str(request), "-subj", f"/CN={TLS_NAMES[0]}"], quiet=True)
    extensions = TLS_DIR / "www.lab.test.ext"
    extensions.write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in TLS_NAMES) +
                          "\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
         "-days", "90", "-sha256", "-extfile", str(extensions), "-out", str(cert)], quiet=True)
    request.unlink()
    for path in (key, ca_key):
        os.chmod(path, 0o600)
    log(f"tls: issued {cert} for {', '.join(TLS_NAMES)} (lab CA {ca})")


def lab_vip() -> str | None:
    """The first VIP of inventories/local, which the lab's service names resolve to."""
    try:
        instances = (yaml.safe_load(LB_VARS.read_text()) or {}).get("keepalived_instances") or []
        return str(instances[0]["virtual_ipaddresses"][0]).split("/", maxsplit=1)[0]
    except (OSError, LookupError, TypeError, yaml.YAMLError):
        return None


# ---------------------------------------------------------------- processes, mounts, cgroups


def proc_cmdlines() -> dict[int, list[str]]:
    result = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                raw = (entry / "cmdline").read_bytes()
                if raw:
                    result[int(entry.name)] = raw.rstrip(b"\0").decode(errors="replace").split("\0")
    return result


def supervisor_pids(guest: Guest | None = None, cmdlines: dict[int, list[str]] | None = None) -> list[int]:
    """Supervisors found by their command line, so a lab whose pid files are gone is still found."""
    pids = []
    for pid, argv in (proc_cmdlines() if cmdlines is None else cmdlines).items():
        if "_supervise" in argv and any(a.endswith("labctl.py") for a in argv):
            if guest is None or argv[-1] == guest.name:
                pids.append(pid)
    return pids


def nspawn_pids(guest: Guest | None = None, cmdlines: dict[int, list[str]] | None = None) -> list[int]:
    pids = []
    for pid, argv in (proc_cmdlines() if cmdlines is None else cmdlines).items():
        if argv and Path(argv[0]).name == "systemd-nspawn" and f"--network-bridge={BRIDGE}" in argv:
            if guest is None or machine_name(argv) == guest.name:
                pids.append(pid)
    return pids


def machine_name(argv: list[str]) -> str | None:
    """The guest an nspawn command line boots (its -M), if it names one."""
    if "-M" in argv and argv.index("-M") + 1 < len(argv):
        return argv[argv.index("-M") + 1]
    return None


def running_guest_names(cmdlines: dict[int, list[str]] | None = None) -> set[str]:
    """Every guest of the lab's bridge that nspawn runs now, whatever inventory started it."""
    cmdlines = proc_cmdlines() if cmdlines is None else cmdlines
    return {name for pid in nspawn_pids(None, cmdlines) if (name := machine_name(cmdlines[pid]))}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def guest_running(guest: Guest) -> bool:
    return bool(nspawn_pids(guest))


def cgroup_dirs(guest: Guest, roots: list[Path] | None = None) -> list[Path]:
    """The guest's own cgroup in each hierarchy the lab uses (CGROUP_ROOTS, or roots): its supervisor
    puts itself there, so nspawn and the guest's processes are in it or the cgroups nspawn and the
    guest's systemd create below it."""
    return [root / LAB / guest.name for root in (CGROUP_ROOTS if roots is None else roots)]


def parse_memory_current(text: str) -> int | None:
    """A cgroup v2 memory.current (bytes); None for anything else."""
    text = text.strip()
    return int(text) if text.isdigit() else None


def parse_kib_field(text: str, field: str) -> int | None:
    """A "Field:   123 kB" line of /proc/<pid>/smaps_rollup or /proc/<pid>/status, in bytes; None when
    the text has no such line (e.g. a kernel thread's or a zombie's status has no VmRSS)."""
    m = re.search(rf"^{re.escape(field)}:\s+(\d+) kB$", text, re.M)
    return int(m.group(1)) * 1024 if m else None


def cgroup_pids(dirs: list[Path]) -> set[int]:
    """The processes of each cgroup in dirs and every cgroup below it (their cgroup.procs). A process
    in several hierarchies counts once; a cgroup missing or removed while walking is skipped."""
    pids: set[int] = set()
    for top in dirs:
        for path, _subdirs, files in os.walk(top):
            if "cgroup.procs" in files:
                with contextlib.suppress(OSError, ValueError):
                    pids.update(int(p) for p in Path(path, "cgroup.procs").read_text().split())
    return pids


def process_memory(pid: int, proc: Path | None = None) -> tuple[int, str] | None:
    """A process's memory in bytes and how it was read: its Pss from smaps_rollup ("pss"), or where
    that is missing or unreadable its VmRSS from status ("rss"); None when the process is gone (or,
    a zombie, has no memory left). proc: where /proc is (PROC)."""
    proc = PROC if proc is None else proc
    with contextlib.suppress(OSError):
        pss = parse_kib_field((proc / str(pid) / "smaps_rollup").read_text(), "Pss")
        if pss is not None:
            return pss, "pss"
    with contextlib.suppress(OSError):
        rss = parse_kib_field((proc / str(pid) / "status").read_text(), "VmRSS")
        if rss is not None:
            return rss, "rss"
    return None


def processes_memory(pids: set[int], proc: Path | None = None) -> tuple[int, str] | None:
    """The memory of pids added up, and how: "pss" when every process gave its Pss, "rss" when some
    gave only their VmRSS (which counts shared pages in full); None when none of them is left."""
    total, sources = 0, set()
    for pid in sorted(pids):
        figure = process_memory(pid, proc)
        if figure is not None:
            total += figure[0]
            sources.add(figure[1])
    if not sources:
        return None
    return total, "rss" if "rss" in sources else "pss"


def guest_memory(guest: Guest, roots: list[Path] | None = None,
                 proc: Path | None = None) -> tuple[int | None, str | None]:
    """The memory a guest uses (the guest with its nspawn and supervisor) and where the figure comes
    from: its cgroup's memory.current ("cgroup"), from the first hierarchy that has it; where none
    has (e.g. a host whose memory controller is on cgroup v1), the Pss of every process in its cgroups
    added up ("pss", or "rss", see processes_memory); (None, None) when neither is there. roots and
    proc: where the cgroup hierarchies (CGROUP_ROOTS) and /proc (PROC) are."""
    dirs = cgroup_dirs(guest, roots)
    for cg in dirs:
        with contextlib.suppress(OSError):
            value = parse_memory_current((cg / "memory.current").read_text())
            if value is not None:
                return value, "cgroup"
    figure = processes_memory(cgroup_pids(dirs), proc)
    return figure if figure is not None else (None, None)


def format_bytes(value: int | None) -> str:
    """Memory for people: MiB below 1 GiB, GiB above; "-" when unknown."""
    if value is None:
        return "-"
    if value < 1 << 30:
        return f"{value / (1 << 20):.1f} MiB"
    return f"{value / (1 << 30):.2f} GiB"


def lab_mounts() -> list[str]:
    """Mount points under the lab's run dir, deepest first."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point == str(RUN) or point.startswith(str(RUN) + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


# ---------------------------------------------------------------- supervisor


def supervise(guest: Guest) -> int:
    """Keep one guest's nspawn running: restart after a reboot inside (exit 133), forward SIGTERM."""
    for cg in cgroup_dirs(guest):
        with contextlib.suppress(OSError):
            cg.mkdir(parents=True, exist_ok=True)
            (cg / "cgroup.procs").write_text(str(os.getpid()))
    stopping = False
    child: subprocess.Popen | None = None

    def on_term(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)  # nspawn halts the guest cleanly

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    console = open(guest.dir / "console.log", "ab", buffering=0)
    while True:
        child = subprocess.Popen(
            ["systemd-nspawn", "-q", "-D", str(guest.root), "-M", guest.name, "--register=no", "--keep-unit", "-b",
             f"--network-bridge={BRIDGE}", f"--bind-ro={guest.rel.repo}:/srv/labrepo",
             # A VM has /sys/module; nspawn's private /sys does not.
             "--bind-ro=/sys/module", "--console=read-only"],
            stdin=subprocess.DEVNULL, stdout=console, stderr=console)
        while True:
            try:
                rc = child.wait()
                break
            except InterruptedError:
                continue
        if stopping or rc != 133:
            return 0 if stopping else rc


def prepare_guest(guest: Guest, guests: list[Guest]) -> None:
    for sub in ("upper", "work", "root"):
        (guest.dir / sub).mkdir(parents=True, exist_ok=True)
    if str(guest.root) not in lab_mounts():
        run(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={guest.rel.base},upperdir={guest.dir / 'upper'},workdir={guest.dir / 'work'}", str(guest.root)])
    root = guest.root
    (root / "etc/hostname").write_text(f"{guest.name}\n")
    hosts = ["127.0.0.1 localhost", f"127.0.1.1 {guest.name}", "::1 localhost ip6-localhost ip6-loopback"]
    hosts += [f"{g.address} {g.name}" for g in guests]
    vip = lab_vip()
    if vip:
        hosts.append(f"{vip} {' '.join(TLS_NAMES)}")
    (root / "etc/hosts").write_text("\n".join(hosts) + "\n")
    # Every guest trusts the lab CA, as a client of a real service trusts its public CA.
    ca = (TLS_DIR / "ca.crt").read_text()
    (root / "usr/local/share/ca-certificates").mkdir(parents=True, exist_ok=True)
    (root / "usr/local/share/ca-certificates/ha-lb-lab.crt").write_text(ca)
    bundle = root / "etc/ssl/certs/ca-certificates.crt"
    if bundle.is_file() and ca not in bundle.read_text():
        with bundle.open("a") as out:
            out.write(ca)
    (root / "etc/systemd/network").mkdir(parents=True, exist_ok=True)
    (root / "etc/systemd/network/10-host0.network").write_text(
        f"[Match]\nName=host0\n\n[Network]\nAddress={guest.address}/{NETWORK.prefixlen}\nLinkLocalAddressing=no\n"
        "IPv6AcceptRA=no\n")
    ssh = root / "root/.ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    (ssh / "authorized_keys").write_text(SSH_KEY.with_suffix(".pub").read_text())
    os.chmod(ssh / "authorized_keys", 0o600)
    if not list((root / "etc/ssh").glob("ssh_host_*_key")):
        run(["ssh-keygen", "-A", "-f", str(root)], quiet=True)


def start_guest(guest: Guest) -> float:
    """Start a guest's supervisor; returns when it was started (time.monotonic())."""
    with open(guest.dir / "supervisor.log", "ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_supervise", guest.name],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                                cwd="/", env={**os.environ, "HA_LB_LAB_INVENTORY": str(INVENTORY)})
    guest.pidfile.write_text(f"{proc.pid}\n")
    return started


def inotify_raises(guests: int, current: dict[str, int]) -> dict[str, int]:
    """The inotify limits to raise for this many guests: never lowered, only those below what they need."""
    need = {key: INOTIFY_BASE[key] + per * guests for key, per in INOTIFY_PER_GUEST.items()}
    return {key: value for key, value in need.items() if current.get(key, 0) < value}


def ensure_host_limits(guests: int) -> None:
    current = {key: int((SYSCTL / key).read_text()) for key in INOTIFY_PER_GUEST}
    for key, value in inotify_raises(guests, current).items():
        log(f"raising {key.replace('/', '.')} from {current[key]} to {value} for {guests} guests")
        (SYSCTL / key).write_text(f"{value}\n")


def ensure_bridge() -> None:
    if not any(link.get("ifname") == BRIDGE for link in links()):
        run(["ip", "link", "add", BRIDGE, "type", "bridge"], quiet=True)
        run(["ip", "addr", "add", str(HOST_ADDRESS), "dev", BRIDGE], quiet=True)
    # VRRP adverts are multicast: flood them to every port.
    Path(f"/sys/class/net/{BRIDGE}/bridge/multicast_snooping").write_text("0\n")
    run(["ip", "link", "set", BRIDGE, "up"], quiet=True)


def ssh_answers(address: str, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(guests: list[Guest], deadline_s: float) -> dict[str, float]:
    """Wait until every guest answers SSH; return when each first answered (time.monotonic()).

    The guests are probed together, each round, so that a guest's time does not wait on the others'."""
    deadline = time.monotonic() + deadline_s
    pending = {g.name: g for g in guests}
    answered: dict[str, float] = {}

    def probe(g: Guest) -> float | None:
        return time.monotonic() if ssh_answers(str(g.address)) else None

    with concurrent.futures.ThreadPoolExecutor(max(1, min(len(guests), 32))) as pool:
        while pending:
            probed = list(pending.values())
            for g, when in zip(probed, pool.map(probe, probed)):
                if when is not None:
                    answered[g.name] = when
                    del pending[g.name]
            cmdlines = proc_cmdlines() if pending else {}
            for name, g in pending.items():
                # Until its supervisor has started nspawn, a guest is still booting.
                if not nspawn_pids(g, cmdlines) and not supervisor_pids(g, cmdlines):
                    console = g.dir / "console.log"
                    tail = console.read_text(errors="replace")[-2000:] if console.exists() else ""
                    raise LabError(f"guest {name} stopped while booting; its console:\n{tail}")
            if pending and time.monotonic() > deadline:
                raise LabError(f"no SSH answer within {deadline_s:.0f} s from: {', '.join(sorted(pending))} "
                               f"(consoles: {RUN}/<name>/console.log)")
            if pending:
                time.sleep(0.1)
    return answered


def ssh_after_start(started: dict[str, float], answered: dict[str, float]) -> dict[str, float]:
    """Seconds from each started guest's start to its first SSH answer."""
    return {name: answered[name] - at for name, at in started.items() if name in answered}


def boot_report(guests: list[Guest], seconds: dict[str, float]) -> list[str]:
    """Lines for `up`: per guest, the time from its start to its first SSH answer, then min/median/max."""
    width = max([len("guest"), *(len(g.name) for g in guests)])
    lines = [f"{'guest':<{width}}  first SSH answer after start"]
    for g in guests:
        lines.append(f"{g.name:<{width}}  " + (f"{seconds[g.name]:5.1f} s" if g.name in seconds else "already running"))
    if seconds:
        values = sorted(seconds.values())
        lines.append(f"ssh after start: {len(values)} started, min {values[0]:.1f} s, "
                     f"median {statistics.median(values):.1f} s, "
                     f"max {values[-1]:.1f} s")
    return lines


# ---------------------------------------------------------------- operations


@contextlib.contextmanager
def locked():
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def up() -> None:
    started = time.monotonic()
    guests = load_guests()
    require_host_tools(for_build=not all(base_ready(r) for r in releases_of(guests)))
    wrong = [f"{g.name} runs {running_release(g)}, {g.release} is asked for" for g in guests
             if guest_running(g) and running_release(g) != g.release]
    if wrong:
        raise LabError("running guests are on another Debian release than asked: " + "; ".join(wrong)
                       + "\n  fix: `labctl.py down` (make lab-down) first; a guest's release is chosen when it starts")
    with locked():
        for rel in releases_of(guests):
            if not base_ready(rel):
                build_base(rel)
        check_network_free()
        ensure_ssh_key()
        ensure_tls()
        starts: dict[str, float] = {}
        answered: dict[str, float] = {}
        try:
            ensure_host_limits(len(guests))
            ensure_bridge()
            to_start = [g for g in guests if not guest_running(g)]
            with concurrent.futures.ThreadPoolExecutor(len(guests)) as pool:
                list(pool.map(lambda g: prepare_guest(g, guests), to_start))
            starts = {g.name: start_guest(g) for g in to_start}
            answered = wait_for_ssh(guests, SSH_WAIT_SECONDS)
        except BaseException:
            log("start failed; cleaning up")
            teardown(guests)
            raise
    for line in boot_report(guests, ssh_after_start(starts, answered)):
        log(line)
    log(f"up: {len(guests)} guests answer SSH ({time.monotonic() - started:.1f} s)")


def lab_guest_names(guests: list[Guest]) -> set[str]:
    """The inventory's guests and every guest the lab has started, whatever inventory started it:
    the run dir's guest dirs and the machines nspawn runs on the lab's bridge."""
    names = {g.name for g in guests} | running_guest_names()
    if RUN.is_dir():
        names |= {p.name for p in RUN.iterdir() if p.is_dir()}
    return names


def veth_name(name: str) -> str:
    """The host side of a guest's veth, as nspawn names it for --network-bridge."""
    return f"vb-{name}"[:15]


def teardown(guests: list[Guest]) -> None:
    names = lab_guest_names(guests)
    # 1. Ask every supervisor (found by pid file or command line) to stop; nspawn halts its guest.
    sups = set(supervisor_pids())
    for g in guests:
        with contextlib.suppress(OSError, ValueError):
            pid = int(g.pidfile.read_text())
            if pid in supervisor_pids(g):
                sups.add(pid)
    orphans = [p for p in nspawn_pids() if p not in sups]
    for pid in [*sups, *orphans]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline and any(alive(p) for p in [*sups, *nspawn_pids()]):
        time.sleep(0.05)
    # 2. Whatever is still alive in the lab's cgroups gets killed.
    for pid in [*sups, *nspawn_pids()]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for root in CGROUP_ROOTS:
        base = root / LAB
        if not base.is_dir():
            continue
        for attempt in range(50):
            procs = []
            for procs_file in base.rglob("cgroup.procs"):
                with contextlib.suppress(OSError):
                    procs += [int(p) for p in procs_file.read_text().split()]
            if not procs:
                break
            for pid in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
    # 3. Mounts (overlays and anything nspawn left beneath them), deepest first.
    for point in lab_mounts():
        if run(["umount", point], check=False, quiet=True).returncode != 0:
            run(["umount", "-l", point], check=False, quiet=True)
    # 4. Cgroups, deepest first.
    for root in CGROUP_ROOTS:
        base = root / LAB
        if base.is_dir():
            for d in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    d.rmdir()
            with contextlib.suppress(OSError):
                base.rmdir()
    # 5. Files, nspawn leftovers, network.
    names |= {p.name for p in RUN.iterdir()} if RUN.is_dir() else set()
    for name in names:
        shutil.rmtree(PROPAGATE / name, ignore_errors=True)
    if RUN.is_dir() and not lab_mounts():
        shutil.rmtree(RUN, ignore_errors=True)
    for link in links():
        name = link.get("ifname", "")
        is_lab_bridge = name == BRIDGE and link.get("linkinfo", {}).get("info_kind") == "bridge"
        if is_lab_bridge or (name.startswith("vb-") and link.get("master") == BRIDGE):
            run(["ip", "link", "del", name], check=False, quiet=True)
    present = {link.get("ifname") for link in links()}
    for veth in sorted({veth_name(name) for name in names} & present):
        run(["ip", "link", "del", veth], check=False, quiet=True)


def leftovers(guests: list[Guest], names: set[str] | None = None) -> list[str]:
    """What the lab left: processes, mounts, cgroups, its bridge, and the veths of the guests
    (and of ``names``: guests another inventory started) or any still on the bridge."""
    found = []
    found += [f"process {p}" for p in supervisor_pids() + nspawn_pids()]
    found += [f"mount {m}" for m in lab_mounts()]
    found += [f"cgroup {root / LAB}" for root in CGROUP_ROOTS if (root / LAB).exists()]
    veths = {g.veth for g in guests} | {veth_name(n) for n in names or ()}
    found += [f"link {link.get('ifname')}" for link in links()
              if link.get("ifname") in {BRIDGE, *veths} or link.get("master") == BRIDGE]
    return found


def down() -> None:
    started = time.monotonic()
    if os.geteuid() != 0:
        raise LabError("the lab needs root: run it with sudo or as root")
    try:
        guests = load_guests()
    except (LabError, OSError, yaml.YAMLError) as err:
        # Teardown finds guests by their processes, run dirs, mounts and cgroups, whatever started them.
        log(f"inventory unreadable ({err}); removing every guest the lab started")
        guests = []
    with locked():
        names = lab_guest_names(guests)
        teardown(guests)
        left = leftovers(guests, names)
    if left:
        raise LabError("could not remove: " + ", ".join(left))
    log(f"down: nothing left ({time.monotonic() - started:.1f} s)")


def running_release(guest: Guest) -> str:
    """What a running guest actually boots (its tree's os-release), whatever the inventory says now."""
    with contextlib.suppress(OSError):
        text = (guest.root / "etc/os-release").read_text()
        m = re.search(r"^VERSION_CODENAME=(\S+)$", text, re.M)
        if m:
            return m.group(1)
    return "unknown"


def guest_status(guest: Guest, cmdlines: dict[int, list[str]] | None = None) -> dict:
    """One guest as `status --json` shows it."""
    running = bool(nspawn_pids(guest, cmdlines))
    memory, source = guest_memory(guest) if running else (None, None)
    return {"name": guest.name, "address": str(guest.address), "state": "running" if running else "stopped",
            "ssh": running and ssh_answers(str(guest.address)),
            "release": running_release(guest) if running else guest.release,
            "memory_bytes": memory, "memory_source": source}


# How `status` marks a memory figure by its source (see guest_memory), and the note that explains the mark.
MEMORY_MARKS = {"cgroup": " ", "pss": "*", "rss": "+"}
MEMORY_NOTES = {
    "pss": "* memory: no memory.current; the Pss of the guest's processes added up",
    "rss": ("+ memory: no memory.current; the Pss of the guest's processes added up, their VmRSS (shared pages"
            " in full) where smaps_rollup is unreadable (not root)"),
}


def status_table(rows: list[dict]) -> list[str]:
    """`status`: one line per guest, then the total of the running guests and their memory, then a note
    for each mark a memory figure has (where it comes from when not from memory.current)."""
    width = max([8, *(len(r["name"]) + 1 for r in rows)])
    lines = [f"{'guest':<{width}} {'address':<15} {'state':<8} {'ssh':<4} {'memory':>10}  release"]
    for r in rows:
        mark = MEMORY_MARKS.get(r["memory_source"], " ")
        lines.append(f"{r['name']:<{width}} {r['address']:<15} {r['state']:<8} {'yes' if r['ssh'] else 'no':<4} "
                     f"{format_bytes(r['memory_bytes']):>10}{mark} {r['release']}")
    running = [r for r in rows if r["state"] == "running"]
    known = [r for r in running if r["memory_bytes"] is not None]
    sources = {r["memory_source"] for r in known}
    total = f"total: {len(running)} of {len(rows)} guests running, {sum(r['ssh'] for r in rows)} answer SSH, memory "
    if not known:
        total += "-" + (" (no memory.current, no processes in the guests' cgroups)" if running else "")
    else:
        mark = next((MEMORY_MARKS[s] for s in ("rss", "pss") if s in sources), "")
        total += format_bytes(sum(r["memory_bytes"] for r in known)) + mark + (
            f" (unknown for {len(running) - len(known)})" if len(known) < len(running) else "")
    return [*lines, total, *(MEMORY_NOTES[s] for s in ("pss", "rss") if s in sources)]


def status(as_json: bool = False) -> int:
    guests = load_guests()
    cmdlines = proc_cmdlines()
    with concurrent.futures.ThreadPoolExecutor(max(1, min(len(guests), 32))) as pool:
        rows = list(pool.map(lambda g: guest_status(g, cmdlines), guests))
    up_count = sum(r["ssh"] for r in rows)
    state = "up" if up_count == len(guests) else ("down" if up_count == 0 else "partial")
    if as_json:
        print(json.dumps(rows, indent=1))
        return 0 if state == "up" else 3
    for line in status_table(rows):
        print(line)
    others = sorted(running_guest_names(cmdlines) - {g.name for g in guests})
    if others:
        print(f"lab: also running, not in {INVENTORY}: {', '.join(others)} "
              "(HA_LB_LAB_INVENTORY names their inventory; a fleet lab's: make lab-status PAIRS=N)")
    trees = ", ".join(f"{r.suite} {'ready' if base_ready(r) else 'not built'}" for r in releases_of(guests))
    print(f"lab: {state} (base trees: {trees}; cache {CACHE})")
    return 0 if state == "up" else 3


# ---------------------------------------------------------------- a fleet of pairs

FLEET_DIR = REPO_ROOT / "build" / "fleet-lab"
FLEET_MAX_PAIRS = 20


# The health check's timeout on a fleet lab's balancers: up to forty of them share the host's cores, and
# while Ansible asks them all at once a check can wait longer than the role's default second for CPU,
# fail, and put a healthy balancer in FAULT. A lab setting, not a recommendation (docs/fleet.md).
FLEET_HEALTH_CHECK_TIMEOUT = 3


def fleet_inventory(pairs: int, directory: Path = FLEET_DIR) -> Path:
    """Write an inventory of ``pairs`` balancer pairs on the lab network, sharing web-1, web-2 and the
    client of inventories/local and its group variables (services, TLS, secrets); each pair is a group
    pair_NN of lb with its own VRID (10 + N) and VIP (.140 + N), and a health check given
    FLEET_HEALTH_CHECK_TIMEOUT seconds. Returns its hosts file."""
    if not 1 <= pairs <= FLEET_MAX_PAIRS:
        raise LabError(f"fleet-inventory: PAIRS must be 1-{FLEET_MAX_PAIRS} (the lab network has room for that many)")
    if INVENTORY.resolve().is_relative_to(directory.resolve()):
        raise LabError(f"fleet-inventory: its base inventory is {INVENTORY}, inside {directory}, which it rewrites; "
                       "unset HA_LB_LAB_INVENTORY (the base is inventories/local)")
    base = yaml.safe_load(INVENTORY.read_text()) if INVENTORY.is_file() else {}
    shared = {name: hosts for name, hosts in ((base.get("all") or {}).get("children") or {}).items() if name != "lb"}
    children: dict = {}
    pair_vars: dict = {}
    for number in range(1, pairs + 1):
        group = f"pair_{number:02d}"
        first, second = f"lb-{number:02d}a", f"lb-{number:02d}b"
        children[group] = {
            "hosts": {first: {"ansible_host": str(NETWORK.network_address + 39 + 2 * number),
                              "keepalived_router_id": first},
                      second: {"ansible_host": str(NETWORK.network_address + 40 + 2 * number),
                               "keepalived_router_id": second}}}
        # In group_vars/, as lb's are: variables of an inventory file's group lose to any group_vars/ file.
        pair_vars[group] = {
            "keepalived_group": group,
            "keepalived_health_check_timeout": FLEET_HEALTH_CHECK_TIMEOUT,
            "keepalived_instances": [{
                "name": f"VI_{number:02d}", "virtual_router_id": 10 + number, "advert_int": 1,
                "nodes": {first: {"state": "MASTER", "priority": 100}, second: {"state": "BACKUP", "priority": 50}},
                "authentication": {"auth_type": "PASS", "auth_pass": "{{ vault_keepalived_auth_pass }}"},
                "virtual_ipaddresses": [f"{NETWORK.network_address + 140 + number}/{NETWORK.prefixlen}"]}]}
    inventory = {"all": {"vars": (base.get("all") or {}).get("vars") or {},
                         "children": {**shared, "lb": {"children": children}}}}
    if directory.exists():
        shutil.rmtree(directory)
    group_vars = directory / "group_vars"
    group_vars.mkdir(parents=True)
    header = f"---\n# Generated by `labctl.py fleet-inventory {pairs}`: {pairs} balancer pairs on the lab network.\n"
    hosts = directory / "hosts.yml"
    hosts.write_text(header + yaml.safe_dump(inventory, sort_keys=False))
    for name in sorted(p.name for p in (INVENTORY.parent / "group_vars").iterdir()):
        (group_vars / name).symlink_to(os.path.relpath(INVENTORY.parent / "group_vars" / name, group_vars))
    for group, values in pair_vars.items():
        (group_vars / f"{group}.yml").write_text(header + yaml.safe_dump(values, sort_keys=False))
    return hosts


# The packages a rolling upgrade of the cluster changes, and the suffix of their higher version.
UPGRADE_PACKAGES = ("nginx", "keepalived")
UPGRADE_SUFFIX = "+lab"


def _index_repo(repo: Path) -> None:
    index = run(["dpkg-scanpackages", "--multiversion", ".", "/dev/null"], cwd=repo,
                capture_output=True).stdout
    (repo / "Packages").write_text(index)
    (repo / "Packages.gz").unlink(missing_ok=True)
    run(["gzip", "-9k", "Packages"], cwd=repo)


def offer_upgrades(number: int = 1) -> None:
    """Rebuild each package of UPGRADE_PACKAGES with a higher version (its files unchanged) into the
    repository of every release the guests use, so that a package_state of latest upgrades it."""
    for rel in releases_of(load_guests()):
        _offer_upgrades(rel, number)


def _offer_upgrades(rel: Release, number: int) -> None:
    if not base_ready(rel):
        raise LabError(f"no local {rel.suite} repository yet: run `labctl.py build` (or `make lab`) first")
    repo = rel.repo
    for name in UPGRADE_PACKAGES:
        originals = [deb for deb in repo.glob(f"{name}_*.deb") if UPGRADE_SUFFIX not in deb.name]
        if len(originals) != 1:
            raise LabError(f"expected one {name} package in {repo}, found {len(originals)}")
        version = run(["dpkg-deb", "-f", str(originals[0]), "Version"], capture_output=True).stdout.strip()
        arch = run(["dpkg-deb", "-f", str(originals[0]), "Architecture"], capture_output=True).stdout.strip()
        target = repo / f"{name}_{(version + UPGRADE_SUFFIX + str(number)).replace(':', '%3a')}_{arch}.deb"
        if target.exists():
            continue
        work = CACHE / f"rebuild-{name}"
        shutil.rmtree(work, ignore_errors=True)
        run(["dpkg-deb", "-R", str(originals[0]), str(work)])
        control = work / "DEBIAN" / "control"
        control.write_text(re.sub(r"(?m)^Version: .*$", f"Version: {version}{UPGRADE_SUFFIX}{number}", control.read_text()))
        run(["dpkg-deb", "--root-owner-group", "-b", str(work), str(target)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        log(f"offered {name} {version}{UPGRADE_SUFFIX}{number} ({rel.suite})")
    _index_repo(repo)


def withdraw_upgrades() -> None:
    for suite in RELEASES:
        repo = Release(suite).repo
        for deb in repo.glob(f"*{UPGRADE_SUFFIX}*.deb"):
            deb.unlink()
        if repo.exists():
            _index_repo(repo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "build", "offer-upgrades", "withdraw-upgrades",
                                            "fleet-inventory", "_supervise"])
    parser.add_argument("guest", nargs="?")
    parser.add_argument("--json", action="store_true", help="status: a JSON array, one object per guest")
    args = parser.parse_args(argv)
    if args.json and args.command != "status":
        parser.error("--json goes with status only")
    try:
        if args.command == "up":
            up()
        elif args.command == "down":
            down()
        elif args.command == "status":
            return status(as_json=args.json)
        elif args.command == "offer-upgrades":
            number = int(args.guest or 1)
            if number < 1:
                raise LabError("offer-upgrades N: N must be 1 or more")
            with locked():
                offer_upgrades(number)
        elif args.command == "withdraw-upgrades":
            with locked():
                withdraw_upgrades()
        elif args.command == "fleet-inventory":
            if not (args.guest or "3").isdigit():
                raise LabError(f"fleet-inventory PAIRS: a number of pairs, not {args.guest!r}")
            print(fleet_inventory(int(args.guest or 3)))
        elif args.command == "build":
            require_host_tools(for_build=True)
            wanted = ([Release(release_name(args.guest, "labctl.py build RELEASE"))] if args.guest
                      else releases_of(load_guests()))
            with locked():
                for rel in wanted:
                    build_base(rel)
        else:
            guest = next(g for g in load_guests() if g.name == args.guest)
            return supervise(guest)
    except LabError as err:
        print(f"lab: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
