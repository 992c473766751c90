# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures for the fleet tests: a lab of several balancer pairs (`labctl.py fleet-inventory N`,
then `labctl.py up` with HA_LB_LAB_INVENTORY), reached over SSH like the one-pair lab. The helpers
(probe, polling, the repository's ansible.cfg) are those of the one-pair lab's tests."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess

import pytest
import testinfra

REPO = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = pathlib.Path(os.environ.get('HA_LB_LAB_INVENTORY') or REPO / 'build' / 'fleet-lab' / 'hosts.yml').absolute()
_SPEC = importlib.util.spec_from_file_location('lab_helpers', REPO / 'molecule' / 'default' / 'tests' / 'conftest.py')
lab = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(lab)


def run_playbook(playbook, *args, timeout=3600) -> subprocess.CompletedProcess:
    """ansible-playbook against the fleet lab, with forks for every host."""
    return subprocess.run([str(lab.BIN / 'ansible-playbook'), '-i', str(INVENTORY), '-f', '50', str(playbook), *args],
                          cwd=REPO, env=lab.ansible_env(), capture_output=True, text=True, check=False, timeout=timeout)


@pytest.fixture(scope='session')
def hostvars() -> dict:
    if not INVENTORY.is_file():
        pytest.fail(f'{INVENTORY} is missing: `python lab/labctl.py fleet-inventory N` writes it (make fleet-test)')
    result = subprocess.run([str(lab.BIN / 'ansible-inventory'), '-i', str(INVENTORY), '--list'], cwd=REPO,
                            env=lab.ansible_env(), capture_output=True, text=True, check=True, timeout=120)
    return json.loads(result.stdout)['_meta']['hostvars']


@pytest.fixture(scope='session')
def hosts(hostvars) -> dict:
    return {name: testinfra.get_host(f"ssh://{values.get('ansible_user', 'root')}@{values['ansible_host']}",
                                     ssh_identity_file=values.get('ansible_ssh_private_key_file'),
                                     ssh_extra_args=values.get('ansible_ssh_common_args', ''))
            for name, values in hostvars.items()}


@pytest.fixture(scope='session')
def pairs(hostvars) -> dict:
    """pair -> {members, vip, master}: each pair's balancers, its first VIP and its instance's MASTER node."""
    out = {}
    for name, values in sorted(hostvars.items()):
        if 'keepalived_group' not in values:
            continue
        instance = values['keepalived_instances'][0]
        master = next(node for node, spec in instance['nodes'].items() if spec['state'] == 'MASTER')
        entry = out.setdefault(values['keepalived_group'], {'members': [], 'master': master,
                                                            'vip': instance['virtual_ipaddresses'][0].split('/')[0]})
        entry['members'].append(name)
    return out
