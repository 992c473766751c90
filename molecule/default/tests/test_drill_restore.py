# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A drill returns the cluster to the state it found, also when the health script stops keepalived.

Two VRRPv3 instances, one master on each balancer, and the health behaviour restart_then_stop:
nginx_broken on the instance mastered by lb-2 makes lb-2's health script stop keepalived, which
moves both VIPs to lb-1. After the drill keepalived and nginx run on both balancers again and
each VIP is back on its master.
"""

from __future__ import annotations

import json

from conftest import REPO, run_playbook, wait_until

SITE = REPO / 'playbooks' / 'site.yml'
DRILL = REPO / 'playbooks' / 'failover_drill.yml'
BALANCERS = ('lb-1', 'lb-2')
SECOND_INSTANCE = 'VI_WEB2'
SECOND_VIP = '198.51.100.141'
DEADLINE = 60


def _instances(instance) -> list[dict]:
    """The inventory's instance (lb-1 MASTER) and a second one mastered by lb-2, both VRRPv3."""
    first = {
        'name': instance['name'],
        'virtual_router_id': instance['virtual_router_id'],
        'advert_int': 1,
        'vrrp_version': 3,
        'nodes': {'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}},
        'virtual_ipaddresses': list(instance['virtual_ipaddresses']),
    }
    second = {
        'name': SECOND_INSTANCE,
        'virtual_router_id': 81,
        'advert_int': 1,
        'vrrp_version': 3,
        'nodes': {'lb-2': {'state': 'MASTER', 'priority': 100}, 'lb-1': {'state': 'BACKUP', 'priority': 50}},
        'virtual_ipaddresses': [f'{SECOND_VIP}/24'],
    }
    return [first, second]


def _holders(hosts, address: str) -> list[str]:
    """Balancers that carry ``address`` on a non-loopback interface (loopback copies are never announced)."""
    found = []
    for name in BALANCERS:
        output = hosts[name].check_output('ip -o -4 addr show')
        if any(f' {address}/' in line and line.split()[1] != 'lo' for line in output.splitlines()):
            found.append(name)
    return found


def _active(host, service: str) -> bool:
    return host.run(f'systemctl is-active --quiet {service}').rc == 0


def _all_services_active(hosts) -> bool:
    return all(_active(hosts[name], service) for name in BALANCERS for service in ('nginx', 'keepalived'))


def _wait_for_cluster(hosts, expected: dict[str, list[str]]):
    wait_until(lambda: _all_services_active(hosts), DEADLINE,
               message='nginx and keepalived active on both balancers')
    for address, holders in expected.items():
        wait_until(lambda address=address, holders=holders: _holders(hosts, address) == holders, DEADLINE,
                   message=f'{address} held by {holders or "nobody"}')


def test_restart_then_stop_drill_returns_both_vips_to_their_masters(hosts, hostvars, instance, vip, tmp_path):
    extra = json.dumps({'keepalived_health_check_behaviour': 'restart_then_stop',
                        'keepalived_instances': _instances(instance)})
    try:
        converge = run_playbook(SITE, '-e', extra, timeout=600)
        assert converge.returncode == 0, converge.stdout[-3000:]
        _wait_for_cluster(hosts, {vip: ['lb-1'], SECOND_VIP: ['lb-2']})

        drill = run_playbook(DRILL, '-e', extra, '-e', f'failover_drill_instance={SECOND_INSTANCE}',
                             '-e', 'failover_drill_faults=nginx_broken',
                             '-e', f'failover_drill_report_dir={tmp_path}', timeout=900)
        # The cluster is whole again whatever the drill's verdict: checked first.
        _wait_for_cluster(hosts, {vip: ['lb-1'], SECOND_VIP: ['lb-2']})
        assert drill.returncode == 0, drill.stdout[-5000:]
        assert 'All 1 drill(s) within budget' in drill.stdout
        report = json.loads(next(tmp_path.glob('drill-*Z.json')).read_text())
        assert [d['fault'] for d in report['drills']] == ['nginx_broken']
        assert report['drills'][0]['passed'], report['drills'][0]['failed_checks']
    finally:
        restore = run_playbook(SITE, timeout=600)
    assert restore.returncode == 0, restore.stdout[-3000:]
    # Back to the inventory: its instance alone, on its master, with the inventory's health behaviour.
    _wait_for_cluster(hosts, {vip: ['lb-1'], SECOND_VIP: []})
    behaviour = hostvars['lb-1'].get('keepalived_health_check_behaviour', 'restart_then_fault')
    for name in BALANCERS:
        conf = hosts[name].file('/etc/keepalived/keepalived.conf').content_string
        assert SECOND_INSTANCE not in conf
        assert f'behaviour {behaviour}' in hosts[name].file('/etc/keepalived/check_nginx.sh').content_string
        assert SECOND_VIP not in hosts[name].check_output('ip -o -4 addr show')
        assert not hosts[name].file('/etc/nginx/modules-enabled/zz-failover-drill-broken.conf').exists
