# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""playbooks/fleet_check.yml on the example fleet (inventories/fleet-example, twenty pairs): it passes,
and refuses a VRID or a VIP shared by two pairs and a --limit that splits a pair, in its own words,
without connecting to any host (the example's addresses exist nowhere)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from _render import REPO

EXAMPLE = REPO / 'inventories' / 'fleet-example'


def _check(inventory, *args):
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'), ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory),
                          'playbooks/fleet_check.yml', *args], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    return run.returncode, ' '.join(run.stdout.split())


def _edited(tmp_path, old, new):
    copy = tmp_path / 'fleet'
    shutil.copytree(EXAMPLE, copy)
    hosts = copy / 'hosts.yml'
    text = hosts.read_text()
    assert old in text
    hosts.write_text(text.replace(old, new, 1))
    return copy


def test_the_example_fleet_passes_with_a_line_per_pair():
    code, out = _check(EXAMPLE)
    assert code == 0, out
    assert '20 pair(s) checked together: no VRID, VIP or service collides.' in out
    assert "pair_07: lb-07a, lb-07b; layer-2 domain dc1; VIPs 10.20.7.100; VRIDs VI_07 107" in out
    assert 'unreachable=0' in out and 'changed=0' in out


@pytest.mark.parametrize('old, new, message', [
    ('virtual_router_id: 107', 'virtual_router_id: 103',
     'virtual_router_id 103 is used by pair_03 (VI_03), pair_07 (VI_07) in the layer-2 domain dc1 (IPv4)'),
    ('- 10.20.9.100/24', '- 10.20.4.100/24', 'The VIP 10.20.4.100 belongs to the pairs pair_04, pair_09'),
])
def test_a_collision_between_two_pairs_is_refused(tmp_path, old, new, message):
    code, out = _check(_edited(tmp_path, old, new))
    assert code != 0 and message in out, out


def test_a_limit_that_splits_a_pair_is_refused_and_can_be_allowed():
    code, out = _check(EXAMPLE, '--limit', 'lb-03a,pair_04')
    assert code != 0
    assert 'The run splits the pair pair_03: lb-03a is in it, lb-03b is not (--limit).' in out
    assert 'pair_04' not in out.split('The run splits')[1]
    code, out = _check(EXAMPLE, '--limit', 'lb-03a', '-e', 'keepalived_allow_partial_pair=true')
    assert code == 0, out


def test_a_vrid_is_proposed_for_an_instance_without_one(tmp_path):
    inventory = _edited(tmp_path, '                virtual_router_id: 112\n', '')
    code, out = _check(inventory, '-e', '{"keepalived_reserved_vrids": ["1-110", "200-255"]}')
    assert code == 0, out
    proposed = out.split("pair_12: VI_12: virtual_router_id ")[1].split("'")[0].split()[0]
    # Outside the reserved ranges, and none of the VRIDs the other pairs use (101-111, 113-120).
    assert 111 <= int(proposed) <= 199 and int(proposed) not in set(range(101, 121)) - {112}
