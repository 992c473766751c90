# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A run leaves alone what it finds in place and puts back what drifted.

Each role's local state fact tells the next run whether its packages are installed and its
services run; these tests check that the fact tells the truth and that a drifted service or
VIP list is repaired although the run skips the steps for what is in place.
"""

from __future__ import annotations

import copy
import json

import pytest

from conftest import REPO, run_playbook

SITE = REPO / 'playbooks' / 'site.yml'
FACTS = '/etc/ansible/facts.d'
STATE_FACTS = [('web-1', 'nginx_web'), ('web-2', 'nginx_web'), ('lb-1', 'nginx_lb'), ('lb-2', 'nginx_lb'),
               ('lb-1', 'keepalived'), ('lb-2', 'keepalived')]
EXTRA_VIP = '198.51.100.141'


def _task_results(output: str, host: str) -> dict[str, str]:
    """Task name -> the host's last status line (ok, changed, skipping) in a run's output."""
    results, current = {}, None
    for line in output.splitlines():
        if line.startswith('TASK ['):
            current = line[6:line.rindex(']')]
        elif current and line.split(':', 1)[0] in ('ok', 'changed', 'skipping') and f'[{host}]' in line:
            results[current] = line.split(':', 1)[0]
    return results


def _loopback_addresses(host) -> set[str]:
    return set(host.check_output("ip -o -4 addr show dev lo | awk '{print $4}'").split())


@pytest.mark.parametrize('name, role', STATE_FACTS)
def test_the_state_fact_reports_what_is_installed_and_running(hosts, name, role):
    host = hosts[name]
    path = f'{FACTS}/ha_lb_{role}_state.fact'
    assert host.file(path).user == 'root' and host.file(path).mode == 0o755
    fact = json.loads(host.check_output(path))
    # The role trusts the fact only while the file is the one it writes: it reports its own SHA-1.
    assert fact['signature'] == host.check_output(f'sha1sum {path}').split()[0]
    assert fact['packages'] and all(fact['packages'].values()), fact
    assert fact['services'] and all(state == {'active': 'active', 'enabled': 'enabled'}
                                    for state in fact['services'].values()), fact


def test_a_service_stopped_outside_ansible_is_started_again(hosts):
    web = hosts['web-2']
    web.run('systemctl disable --now nginx')
    try:
        assert not web.service('nginx').is_running
        run = run_playbook(SITE, '--limit', 'web-2')
        assert run.returncode == 0, run.stdout[-3000:]
        results = _task_results(run.stdout, 'web-2')
        assert results['ha_lb.keepalived_nginx.nginx_web : Enable and start nginx'] == 'changed', results
        # The package and the files are in place: neither the package manager nor a template step runs.
        assert results['ha_lb.keepalived_nginx.nginx_web : Install the packages and the local state fact'] == 'skipping'
        assert results['ha_lb.keepalived_nginx.nginx_web : Render nginx.conf, validated with nginx -t before it goes live'] \
            == 'skipping', results
        assert web.service('nginx').is_running and web.service('nginx').is_enabled
        assert 'Served by web-2' in web.check_output('curl -s --max-time 2 http://127.0.0.1/')
    finally:
        web.run('systemctl enable --now nginx')


def test_a_file_edited_on_the_host_is_written_back_and_reloaded(hosts):
    web = hosts['web-1']
    conf = '/etc/nginx/nginx.conf'
    original = web.file(conf).content_string
    web.run(f"sed -i 's/^worker_processes .*/worker_processes 1;/' {conf} && systemctl reload nginx")
    assert web.file(conf).content_string != original
    run = run_playbook(SITE, '--limit', 'web-1')
    assert run.returncode == 0, run.stdout[-3000:]
    results = _task_results(run.stdout, 'web-1')
    assert results['ha_lb.keepalived_nginx.nginx_web : Render nginx.conf, validated with nginx -t before it goes live'] \
        == 'changed', results
    assert results['ha_lb.keepalived_nginx.nginx_web : Reload nginx'] == 'changed', results
    assert web.file(conf).content_string == original
    # The page was in place and stays untouched.
    assert results['ha_lb.keepalived_nginx.nginx_web : Write the page that names the host'] == 'skipping', results
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
