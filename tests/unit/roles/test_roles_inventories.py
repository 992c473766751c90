# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inventories parse, share one variable shape, and the lab's needs no vault password to be read."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from _render import INVENTORIES, REPO

BIN = pathlib.Path(sys.executable).parent


def _env():
    env = dict(os.environ)
    for name in ('ANSIBLE_VAULT_PASSWORD_FILE', 'ANSIBLE_VAULT_IDENTITY_LIST'):
        env.pop(name, None)
    env['ANSIBLE_CONFIG'] = str(REPO / 'ansible.cfg')
    return env


@pytest.fixture(scope='module', params=['lab', 'local'])
def inventory(request):
    result = subprocess.run([str(BIN / 'ansible-inventory'), '-i', str(INVENTORIES / request.param), '--list'],
                            cwd=REPO, env=_env(), capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    return request.param, json.loads(result.stdout)


def test_groups_and_hosts(inventory):
    data = inventory[1]
    assert data['web']['hosts'] == ['web-1', 'web-2']
    assert data['lb']['hosts'] == ['lb-1', 'lb-2']
    assert data['client']['hosts'] == ['client']


def test_balancer_variables(inventory):
    name, data = inventory
    subnet, interface = {'lab': ('192.168.58.', 'ens33'), 'local': ('198.51.100.', 'host0')}[name]
    hostvars = data['_meta']['hostvars']
    for host, router_id in (('lb-1', 'director1'), ('lb-2', 'director2')):
        variables = hostvars[host]
        assert variables['keepalived_router_id'] == router_id
        assert variables['keepalived_interface'] == interface
        (instance,) = variables['keepalived_instances']
        assert instance['virtual_router_id'] == 80
        assert instance['advert_int'] == 1
        assert instance['nodes'] == {'lb-1': {'state': 'MASTER', 'priority': 100},
                                     'lb-2': {'state': 'BACKUP', 'priority': 50}}
        assert instance['virtual_ipaddresses'] == [f'{subnet}140/24']
        assert instance['authentication'] == {'auth_type': 'PASS', 'auth_pass': '{{ vault_keepalived_auth_pass }}'}
        assert variables['ansible_host'].startswith(subnet)


def test_lab_secret_is_vaulted():
    text = (INVENTORIES / 'lab' / 'group_vars' / 'lb' / 'vault.yml').read_text()
    assert 'vault_keepalived_auth_pass: !vault |' in text
    assert '$ANSIBLE_VAULT;1.2;AES256;lab' in text


def test_inventories_share_one_variable_shape():
    def shape(name):
        root = INVENTORIES / name
        return sorted(str(path.relative_to(root)) for path in root.rglob('*.yml'))
    assert shape('lab') == shape('local')


def test_site_playbook_parses_against_the_lab_without_vault_password():
    result = subprocess.run([str(BIN / 'ansible-playbook'), '-i', str(INVENTORIES / 'lab'), 'site.yml', '--syntax-check'],
                            cwd=REPO, env=_env(), capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
