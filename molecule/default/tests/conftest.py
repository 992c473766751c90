# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fixtures for the lab verify tests: hosts over SSH, inventory values, playbook runs.

The tests read inventories/local (what molecule converged) and reach the guests with
testinfra's SSH backend, so they also run with plain pytest against an up lab.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pathlib
import shlex
import subprocess
import sys
import time

import pytest
import testinfra

REPO = pathlib.Path(__file__).resolve().parents[3]
INVENTORY = REPO / 'inventories' / 'local'
PROBE = REPO / 'roles' / 'failover_drill' / 'files' / 'vip_probe.py'
PROBE_DIR = '/var/tmp/ha-lb-test'
BIN = pathlib.Path(sys.executable).parent
GUESTS = ('web-1', 'web-2', 'lb-1', 'lb-2', 'client')


def ansible_env() -> dict:
    """The repository's ansible.cfg, without molecule's ANSIBLE_*/MOLECULE_* overrides."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'MOLECULE_'))}
    env.update(ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'), ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1',
               PATH=f'{BIN}{os.pathsep}{env.get("PATH", "")}')
    return env


def run_playbook(playbook, *args, timeout=180, env=None) -> subprocess.CompletedProcess:
    """ansible-playbook against the lab; ``env`` adds variables (e.g. ANSIBLE_* settings) to its environment."""
    return subprocess.run([str(BIN / 'ansible-playbook'), '-i', str(INVENTORY), str(playbook), *args],
                          cwd=REPO, env={**ansible_env(), **(env or {})}, capture_output=True, text=True, check=False,
                          timeout=timeout)


@pytest.fixture(scope='session')
def inventory() -> dict:
    result = subprocess.run([str(BIN / 'ansible-inventory'), '-i', str(INVENTORY), '--list'], cwd=REPO,
                            env=ansible_env(), capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout)


@pytest.fixture(scope='session')
def hostvars(inventory) -> dict:
    return inventory['_meta']['hostvars']


@pytest.fixture(scope='session')
def hosts(hostvars) -> dict:
    guests = {}
    for name in GUESTS:
        variables = hostvars[name]
        guests[name] = testinfra.get_host(
            f"ssh://{variables.get('ansible_user', 'root')}@{variables['ansible_host']}",
            ssh_identity_file=variables.get('ansible_ssh_private_key_file'),
            ssh_extra_args=variables.get('ansible_ssh_common_args', ''),
        )
    return guests


@pytest.fixture(scope='session')
def instance(hostvars) -> dict:
    """The inventory's first VRRP instance, as every balancer sees it."""
    return hostvars['lb-1']['keepalived_instances'][0]


@pytest.fixture(scope='session')
def vip(instance) -> str:
    return instance['virtual_ipaddresses'][0].split('/')[0]


@pytest.fixture(scope='session')
def interface(hostvars) -> str:
    return hostvars['lb-1']['keepalived_interface']


def curl_many(client, url: str, count: int, timeout: float = 2.0) -> list[tuple[str, str]]:
    """``count`` sequential GETs from the client: (HTTP status, body's last word) each."""
    script = (f'for i in $(seq {int(count)}); do '
              f'echo "$(curl -s --max-time {timeout} -w " %{{http_code}}" {shlex.quote(url)} | tr "\\n" " ")"; done')
    result = client.run(script)
    answers = []
    for line in result.stdout.splitlines():
        words = line.split()
        answers.append((words[-1] if words else '000', words[-2] if len(words) > 1 else ''))
    return answers


def wait_until(predicate, deadline: float, interval: float = 0.25, message: str = 'condition'):
    """Poll ``predicate`` until it returns a truthy value or ``deadline`` seconds pass."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f'{message} not met within {deadline} s')
        time.sleep(interval)


def main_pid(host, unit: str) -> str:
    """The main process of a systemd unit: the same before and after a reload, a new one after a restart."""
    return host.check_output(f'systemctl show -p MainPID --value {unit}')


def journal_cursor(host) -> str:
    """Where keepalived's journal on the host ends now (for ``transitions``)."""
    return host.check_output("journalctl -u keepalived -n 0 --show-cursor -o cat | sed -n 's/^-- cursor: //p'")


def transitions(host, cursor: str | None = None) -> list[str]:
    """keepalived's VRRP state changes on the host after the cursor, or (None) since the host's boot."""
    since = f"--after-cursor '{cursor}'" if cursor else '-b'
    out = host.run(f"journalctl -u keepalived {since} -o cat --no-pager | grep -E 'Entering [A-Z]+ STATE'")
    return out.stdout.splitlines()


def longest_gap(samples) -> float:
    """The longest time between two answers of the probe (each answer: its start plus its duration)."""
    answers = sorted(sample['t'] + sample['dur'] for sample in samples if sample['ok'])
    return max(later - earlier for earlier, later in zip(answers, answers[1:]))


def reboot(host):
    """Reboot a balancer and wait until it runs keepalived and nginx again."""
    boot_id = host.check_output('cat /proc/sys/kernel/random/boot_id')
    host.run('systemctl reboot')
    time.sleep(2)

    def back():
        # nspawn gives every boot of a guest its own boot id; over SSH, a guest on its way back answers nothing.
        answer = host.run('cat /proc/sys/kernel/random/boot_id; systemctl is-active keepalived nginx')
        return answer.stdout.split()[:1] not in ([], [boot_id]) and answer.stdout.split()[1:] == ['active', 'active']
    wait_until(back, 120, interval=1, message='the balancer back from its reboot')


def holds(host, address: str, interface: str) -> bool:
    output = host.check_output(f'ip -o -4 addr show dev {shlex.quote(interface)}')
    return any(f' {address}/' in line for line in output.splitlines())


@pytest.fixture(scope='session')
def vip_answering(hosts, vip):
    """The VIP answers the client (a freshly started keepalived stays BACKUP for a few seconds)."""
    wait_until(lambda: curl_many(hosts['client'], f'http://{vip}/', 1)[0][0] == '200', 20,
               message=f'VIP {vip} answering the client')
    return True


class ClientProbe:
    """The drill's probe (vip_probe.py) running on the client: one request every 20 ms, each on a new
    connection, as the drills measure. ``samples()`` reads what it recorded so far; ``end`` is its
    closing record once the ``client_probe`` block is left."""

    def __init__(self, client, directory=PROBE_DIR):
        self.client = client
        self.directory = directory
        self.end = None

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.client.check_output(f'cat {self.directory}/probe.jsonl').splitlines()]

    def samples(self) -> list[dict]:
        return [record for record in self.records() if record.get('type') == 'sample']


@contextlib.contextmanager
def client_probe(client, *arguments, duration=300, directory=PROBE_DIR):
    """Run the probe on the client for the block (``arguments``: its URL options, e.g. ``--url``); on
    leaving, stop it and wait for its closing record (``probe.end``: samples, ok, failed). Probes that
    run at once need a ``directory`` each."""
    client.run(f'mkdir -p {directory}')
    client.run(f'cat > {directory}/vip_probe.py <<"EOF"\n{PROBE.read_text()}\nEOF')
    client.run(f'rm -f {directory}/probe.jsonl {directory}/stop')
    client.run(f'nohup python3 {directory}/vip_probe.py {" ".join(shlex.quote(a) for a in arguments)} '
               f'--duration {int(duration)} --stop-file {directory}/stop --output {directory}/probe.jsonl '
               '>/dev/null 2>&1 &')
    probe = ClientProbe(client, directory)
    try:
        yield probe
    finally:
        client.run(f'touch {directory}/stop')
        probe.end = wait_until(lambda: next((record for record in probe.records() if record.get('type') == 'end'),
                                            None), 10, message='the probe ending')


def _vrrp_module():
    """plugins/module_utils/vrrp.py, the vrrp_scan module's packet builder (it imports nothing of the collection)."""
    spec = importlib.util.spec_from_file_location('vrrp', REPO / 'plugins' / 'module_utils' / 'vrrp.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def rogue(client, client_address: str, vrid: int, vip: str, seconds: int = 60, destination: str = '224.0.0.18',
          priority: int = 1):
    """VRRPv2 adverts for ``vrid`` from the client to ``destination`` (the VRRP group, or one balancer)
    every 0.3 s, without authentication (the lab's balancers authenticate theirs), for at most ``seconds``."""
    packet = _vrrp_module().build_advert(client_address, destination, vrid, priority, [vip]).hex()
    script = (
        'import socket, time\n'
        f'packet = bytes.fromhex("{packet}")\n'
        'sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)\n'
        f'sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("{client_address}"))\n'
        f'end = time.monotonic() + {seconds}\n'
        'while time.monotonic() < end:\n'
        f'    sender.sendto(packet, ("{destination}", 0))\n'
        '    time.sleep(0.3)\n')
    client.check_output(f"cat > /var/tmp/vrrp_rogue.py <<'EOF'\n{script}EOF")
    client.check_output('nohup python3 /var/tmp/vrrp_rogue.py >/var/tmp/vrrp_rogue.log 2>&1 &')
    try:
        yield
    finally:
        client.run('pkill -f /var/tmp/vrrp_rogue.py')
