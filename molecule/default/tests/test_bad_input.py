# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each invalid input fails in the preflight with its message, and no host changes."""

from __future__ import annotations

import concurrent.futures
import copy
import json

import pytest

from conftest import REPO, run_playbook

SITE = REPO / 'playbooks' / 'site.yml'
# Files and states that a run past the preflight would touch.
SNAPSHOT = (
    'sha256sum /etc/nginx/nginx.conf /etc/keepalived/keepalived.conf /etc/keepalived/check_nginx.sh '
    '/var/www/html/index.html /etc/sysctl.d/60-ha-lb-nonlocal-bind.conf 2>&1; ls /etc/ansible/facts.d 2>&1; '
    'for unit in nginx keepalived; do systemctl show -p ActiveState -p ExecMainStartTimestamp -p ExecMainPID "$unit"; done'
)


def _instances(hostvars, **changes):
    instances = copy.deepcopy(hostvars['lb-1']['keepalived_instances'])
    for key, value in changes.items():
        instances[0][key] = value
    return instances


# Keepalived cases run on the balancers only (they are what the checks read); a few run
# on every host to show that the web backends are not deployed either.
FULL_RUNS = {'two MASTERs', 'interface missing on the host', 'backend port out of range', 'unknown load-balancing method'}


def _cases(hostvars):
    base = _instances(hostvars)
    vip = base[0]['virtual_ipaddresses'][0]
    second = dict(copy.deepcopy(base[0]), name='VI_OTHER', virtual_ipaddresses=[vip.replace('.140/', '.141/')])
    return {
        'priority above 254': (
            {'keepalived_instances': _instances(hostvars, nodes={
                'lb-1': {'state': 'MASTER', 'priority': 255}, 'lb-2': {'state': 'BACKUP', 'priority': 50}})},
            'keepalived_instances[VI_WEB].nodes[lb-1]: state=MASTER priority=255'),
        'MASTER not the highest priority': (
            {'keepalived_instances': _instances(hostvars, nodes={
                'lb-1': {'state': 'MASTER', 'priority': 50}, 'lb-2': {'state': 'BACKUP', 'priority': 100}})},
            'MASTER nodes lb-1, highest priority lb-2'),
        'two MASTERs': (
            {'keepalived_instances': _instances(hostvars, nodes={
                'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'MASTER', 'priority': 50}})},
            'MASTER nodes lb-1, lb-2'),
        'no MASTER': (
            {'keepalived_instances': _instances(hostvars, nodes={
                'lb-1': {'state': 'BACKUP', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}})},
            'MASTER nodes none'),
        'virtual_router_id above 255': (
            {'keepalived_instances': _instances(hostvars, virtual_router_id=256)},
            'keepalived_instances[VI_WEB].virtual_router_id=256'),
        'virtual_router_id shared by two instances': (
            {'keepalived_instances': base + [second]},
            'VI_WEB, VI_OTHER use it on'),
        'interface missing on the host': (
            {'keepalived_interface': 'nosuch0'},
            "interface 'nosuch0' does not exist on"),
        'VIP outside the interface subnet': (
            {'keepalived_instances': _instances(hostvars, virtual_ipaddresses=['10.99.0.140/24'])},
            '10.99.0.140/24 is not an address/prefix, or it lies outside the subnet of'),
        'auth_pass longer than 8 characters': (
            {'keepalived_instances': _instances(hostvars, authentication={'auth_type': 'PASS',
                                                                          'auth_pass': 'muchtoolong'})},
            'auth_pass must be 1-8 characters'),
        'unicast peers not the other balancer': (
            {'keepalived_instances': _instances(hostvars, unicast_peers=['198.51.100.99'])},
            'must be exactly the other balancers'),
        'balancer missing from nodes': (
            {'keepalived_instances': _instances(hostvars, nodes={'lb-1': {'state': 'MASTER', 'priority': 100}})},
            'nodes lists lb-1 but the group keepalived_group=lb holds lb-1, lb-2'),
        # A VIP that is a balancer's own address: live, keepalived would delete it from that balancer.
        "VIP equal to a balancer's address": (
            {'keepalived_instances': _instances(hostvars, virtual_ipaddresses=[
                hostvars['lb-2']['ansible_host'] + '/' + vip.split('/')[1]])},
            f"cannot be a VIP: it is already in use (lb-2: its ansible_host; lb-2: an address of its interface "
            f"{hostvars['lb-2']['keepalived_interface']})"),
        "unicast source that is the other balancer's address": (
            {'keepalived_instances': _instances(hostvars, nodes={
                'lb-1': {'state': 'MASTER', 'priority': 100, 'address': hostvars['lb-2']['ansible_host']},
                'lb-2': {'state': 'BACKUP', 'priority': 50}})},
            f"keepalived_instances[VI_WEB].nodes[lb-1].address (default: its ansible_host)="
            f"{hostvars['lb-2']['ansible_host']} is not an address of lb-1 itself"),
        # Caught before by nginx -t alone, with its bare "failed to validate".
        'nginx time with a blank': (
            {'nginx_lb_proxy_read_timeout': '30 seconds'},
            "nginx_lb_proxy_read_timeout='30 seconds' is not valid: it must be an nginx time"),
        'keepalived router_id with a blank': (
            {'keepalived_router_id': 'lb one'},
            "keepalived_router_id='lb one' is not valid: it must be one word"),
        'unknown load-balancing method': (
            {'nginx_lb_method': 'random_walk'},
            'value of nginx_lb_method must be one of: round_robin, least_conn, ip_hash, hash, got: random_walk'),
        'backend port out of range': (
            {'nginx_web_port': 70000},
            'nginx_web_port=70000 is not a TCP port: set it to 1-65535.'),
    }


def _snapshot(hosts):
    return {name: hosts[name].run(SNAPSHOT).stdout for name in ('web-1', 'web-2', 'lb-1', 'lb-2')}


@pytest.fixture(scope='module')
def bad_runs(hosts, hostvars):
    """Every invalid case, run in parallel against the lab, between two snapshots of the hosts."""
    cases = _cases(hostvars)
    before = _snapshot(hosts)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_playbook, SITE, '-e', json.dumps(extra),
                                     *(() if name in FULL_RUNS else ('--limit', 'lb')))
                   for name, (extra, _message) in cases.items()}
        results = {name: future.result() for name, future in futures.items()}
    after = _snapshot(hosts)
    return cases, results, before, after


def test_no_host_changed(bad_runs):
    _cases_run, _results, before, after = bad_runs
    assert after == before


# The case names only; their values come from the inventory at run time.
CASE_NAMES = list(_cases({'lb-1': {'keepalived_instances': [{'virtual_ipaddresses': ['0.0.0.0/0']}]},
                          'lb-2': {'ansible_host': '0.0.0.0', 'keepalived_interface': 'x'}}))


@pytest.mark.parametrize('case', CASE_NAMES)
def test_fails_in_preflight_with_its_message(bad_runs, case):
    cases, results, _before, _after = bad_runs
    result = results[case]
    output = ' '.join(result.stdout.split())
    assert result.returncode != 0, output[-2000:]
    assert ' '.join(cases[case][1].split()) in output, output[-3000:]
    # The failure stops the run in the first play: no later play starts.
    assert 'PLAY [Install the packages on every host]' not in result.stdout
    assert 'changed=' in result.stdout and all(
        ' changed=0 ' in line for line in result.stdout.splitlines() if ' changed=' in line)
