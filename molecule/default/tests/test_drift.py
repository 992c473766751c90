# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A run puts back what drifted: every step runs its idempotent module, so a stopped service is
started, a hand-edited file is written back and reloaded, and the loopback copies follow the VIPs.
The roles keep no state on the hosts beyond a flag while a reload is pending."""

from __future__ import annotations

import copy
import json

import pytest

from conftest import GUESTS, REPO, run_playbook, wait_until

SITE = REPO / 'playbooks' / 'site.yml'
FACTS = '/etc/ansible/facts.d'
EXTRA_VIP = '198.51.100.141'


def _loopback_addresses(host) -> set[str]:
    return set(host.check_output("ip -o -4 addr show dev lo | awk '{print $4}'").split())


def _nginx_workers(host) -> set[str]:
    return set(host.check_output('pgrep -f "^nginx: worker process" || true').split())


@pytest.mark.parametrize('name', [g for g in GUESTS if g != 'client'])
def test_no_state_is_kept_on_the_hosts(hosts, name):
    # After a converge every reload is done: no flag is left, and no other local fact was ever written.
    assert hosts[name].run(f'ls -A {FACTS} 2>/dev/null').stdout.split() == []


def test_a_service_stopped_outside_ansible_is_started_again(hosts):
    web = hosts['web-2']
    web.run('systemctl disable --now nginx')
    try:
        assert not web.service('nginx').is_running
        run = run_playbook(SITE, '--limit', 'web-2')
        assert run.returncode == 0, run.stdout[-3000:]
        assert web.service('nginx').is_running and web.service('nginx').is_enabled
        assert 'Served by web-2' in web.check_output('curl -s --max-time 2 http://127.0.0.1/')
    finally:
        web.run('systemctl enable --now nginx')


def test_a_file_edited_on_the_host_is_written_back_and_reloaded(hosts):
    web = hosts['web-1']
    conf = '/etc/nginx/nginx.conf'
    original = web.file(conf).content_string
    web.run(f"sed -i 's/^worker_processes .*/worker_processes 1;/' {conf} && systemctl reload nginx")
    assert wait_until(lambda: len(_nginx_workers(web)) == 1, 10, message='one worker after the hand edit')
    workers = _nginx_workers(web)
    run = run_playbook(SITE, '--limit', 'web-1')
    assert run.returncode == 0, run.stdout[-3000:]
    assert web.file(conf).content_string == original
    # Reloaded with the written-back file: new workers, as many as the role configures.
    assert wait_until(lambda: _nginx_workers(web) and not _nginx_workers(web) & workers, 10, message='nginx reloaded')
    assert 'changed: [web-1] => (item=nginx reloaded)' in run.stdout, run.stdout[-3000:]
    assert 'Served by web-1' in web.check_output('curl -s --max-time 2 http://127.0.0.1/')


def test_loopback_copies_follow_the_vip_list(hosts, hostvars):
    instances = copy.deepcopy(hostvars['lb-1']['keepalived_instances'])
    instances[0]['virtual_ipaddresses'].append(f'{EXTRA_VIP}/24')
    balancers = [hosts['lb-1'], hosts['lb-2']]
    try:
        grown = run_playbook(SITE, '--limit', 'lb', '-e', json.dumps({'keepalived_instances': instances}))
        assert grown.returncode == 0, grown.stdout[-3000:]
        for lb in balancers:
            assert f'{EXTRA_VIP}/32' in _loopback_addresses(lb)
    finally:
        restored = run_playbook(SITE, '--limit', 'lb')
    assert restored.returncode == 0, restored.stdout[-3000:]
    vip = hostvars['lb-1']['keepalived_instances'][0]['virtual_ipaddresses'][0].split('/')[0]
    for lb in balancers:
        # The restart after the list shrank removed the copy it had added before.
        assert f'{EXTRA_VIP}/32' not in _loopback_addresses(lb)
        assert f'{vip}/32' in _loopback_addresses(lb)
