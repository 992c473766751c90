# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failover_drill role's internal filters: plan, nodes, VIPs, services, interfaces."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.drill_plan import FilterModule

F = FilterModule().filters()

DRILLED = {
    'name': 'VI_WEB',
    'nodes': {'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}},
    'virtual_ipaddresses': ['198.51.100.140/24', '2001:db8::140/64'],
}
SECOND = {
    'name': 'VI_2',
    'nodes': {'lb-1': {'state': 'BACKUP', 'priority': 50}, 'lb-2': {'state': 'MASTER', 'priority': 100}},
    'virtual_ipaddresses': ['198.51.100.141/24'],
    'preempt_delay': 5,
}
NOPREEMPT = {
    'name': 'VI_NP',
    'nopreempt': 'yes',
    'nodes': {'lb-1': {'state': 'BACKUP', 'priority': 90}, 'lb-2': {'state': 'BACKUP', 'priority': 110}},
    'virtual_ipaddresses': ['198.51.100.142/24'],
}


def test_every_filter_registered():
    assert sorted(F) == ['drill_check_vips', 'drill_interfaces', 'drill_nodes', 'drill_not_running', 'drill_plan',
                         'drill_probe_target', 'drill_running', 'drill_service_hosts', 'drill_stray_holders', 'drill_vips']


class TestPlan:
    def test_kinds_interleaved_run_by_run(self):
        assert F['drill_plan'](['stop', 'crash'], 2) == [
            {'fault': 'stop', 'run': 1}, {'fault': 'crash', 'run': 1},
            {'fault': 'stop', 'run': 2}, {'fault': 'crash', 'run': 2}]

    @pytest.mark.parametrize('runs, count', [('3', 3), (2.7, 2), ('2.5', 2), ('x', 0), (None, 0), (0, 0)])
    def test_runs_read_as_the_int_filter_reads_them(self, runs, count):
        assert len(F['drill_plan'](['stop'], runs)) == count


class TestNodes:
    def test_master_and_standby(self):
        assert F['drill_nodes'](DRILLED) == {'master': 'lb-1', 'standby': 'lb-2'}
        assert F['drill_nodes'](SECOND) == {'master': 'lb-2', 'standby': 'lb-1'}

    def test_nopreempt_takes_the_highest_priority(self):
        assert F['drill_nodes'](NOPREEMPT) == {'master': 'lb-2', 'standby': 'lb-1'}

    def test_a_master_comes_before_a_higher_backup(self):
        nodes = {'a': {'state': 'BACKUP', 'priority': 200}, 'b': {'state': 'MASTER', 'priority': 10},
                 'c': {'state': 'BACKUP', 'priority': 150}}
        assert F['drill_nodes']({'nodes': nodes}) == {'master': 'b', 'standby': 'a'}

    def test_ties_keep_the_inventory_order_and_states_ignore_case(self):
        nodes = {'a': {'state': 'backup', 'priority': 100}, 'b': {'state': 'BACKUP', 'priority': 100},
                 'c': {'state': 'Backup', 'priority': 100}}
        assert F['drill_nodes']({'nodes': nodes}) == {'master': 'a', 'standby': 'b'}

    def test_no_nodes(self):
        assert F['drill_nodes']({}) == {'master': '', 'standby': ''}
        assert F['drill_nodes']({'nodes': {'a': {'state': 'MASTER', 'priority': 1}}}) == {'master': 'a', 'standby': ''}

    def test_incomparable_priorities(self):
        nodes = {'a': {'state': 'MASTER', 'priority': 100}, 'b': {'state': 'BACKUP', 'priority': '50'}}
        with pytest.raises(AnsibleFilterError, match='comparable'):
            F['drill_nodes']({'name': 'X', 'nodes': nodes})


class TestVips:
    def test_every_vip_the_drilled_instance_first(self):
        vips = F['drill_vips']([SECOND, DRILLED, NOPREEMPT], DRILLED, 35.0, '30')
        assert vips == [
            {'address': '198.51.100.140/24', 'instance': 'VI_WEB', 'drilled': True, 'master': 'lb-1',
             'nopreempt': False, 'timeout': 35.0},
            {'address': '2001:db8::140/64', 'instance': 'VI_WEB', 'drilled': True, 'master': 'lb-1',
             'nopreempt': False, 'timeout': 35.0},
            {'address': '198.51.100.141/24', 'instance': 'VI_2', 'drilled': False, 'master': 'lb-2',
             'nopreempt': False, 'timeout': 35.0},
            {'address': '198.51.100.142/24', 'instance': 'VI_NP', 'drilled': False, 'master': 'lb-2',
             'nopreempt': True, 'timeout': 30.0},
        ]

    def test_timeouts_read_as_the_float_filter_reads_them(self):
        other = dict(SECOND, preempt_delay='')
        vips = F['drill_vips']([other], {'name': 'none'}, 'x', 30)
        assert [v['timeout'] for v in vips] == [30.0]
        assert F['drill_vips']([], dict(DRILLED, virtual_ipaddresses=None), 1, 1) == []

    def test_check_vips_before_a_drill(self):
        vips = F['drill_vips']([DRILLED, SECOND, NOPREEMPT], NOPREEMPT, 30, 30)
        check = F['drill_check_vips'](vips)
        # The drilled instance is on its master even with nopreempt; another nopreempt VIP may be anywhere.
        assert check[0] == {'address': '198.51.100.142/24', 'instance': 'VI_NP', 'master': 'lb-2'}
        vips = F['drill_vips']([DRILLED, SECOND, NOPREEMPT], DRILLED, 30, 30)
        assert [v['master'] for v in F['drill_check_vips'](vips)] == ['lb-1', 'lb-1', 'lb-2', None]

    def test_check_vips_for_the_restore(self):
        vips = F['drill_vips']([DRILLED, NOPREEMPT], DRILLED, 30, 30)
        holders = {'198.51.100.140/24': 'lb-1', '2001:db8::140/64': 'lb-1', '198.51.100.142/24': 'lb-1'}
        assert F['drill_check_vips'](vips, holders) == [
            {'address': '198.51.100.140/24', 'instance': 'VI_WEB', 'master': 'lb-1'},
            {'address': '2001:db8::140/64', 'instance': 'VI_WEB', 'master': 'lb-1'},
            {'address': '198.51.100.142/24', 'instance': 'VI_NP', 'master': 'lb-1'},
        ]
        with pytest.raises(AnsibleFilterError, match='no holder recorded for 198.51.100.142/24'):
            F['drill_check_vips'](vips, {'198.51.100.140/24': 'lb-1', '2001:db8::140/64': 'lb-1'})


class TestServices:
    def test_service_hosts(self):
        assert F['drill_service_hosts'](['lb-1', 'lb-2'], ['nginx', 'keepalived'], ['web-1'], ['nginx']) == [
            {'host': 'lb-1', 'services': ['nginx', 'keepalived']},
            {'host': 'lb-2', 'services': ['nginx', 'keepalived']},
            {'host': 'web-1', 'services': ['nginx']},
        ]
        assert F['drill_service_hosts'](['lb-1'], ['nginx'], ['lb-1'], ['nginx']) == [
            {'host': 'lb-1', 'services': ['nginx']}]
        assert F['drill_service_hosts'](['lb-1'], ['nginx'], [], ['nginx']) == [{'host': 'lb-1', 'services': ['nginx']}]

    def test_running(self):
        results = [
            {'item': {'host': 'lb-1', 'services': ['nginx', 'keepalived']}, 'stdout_lines': ['active', 'active']},
            {'item': {'host': 'lb-2', 'services': ['nginx', 'keepalived']}, 'stdout_lines': ['inactive', 'active']},
            {'item': {'host': 'web-1', 'services': ['nginx']}, 'stdout_lines': ['failed']},
            {'item': {'host': 'web-2', 'services': ['nginx']}},
        ]
        assert F['drill_running'](results) == [
            {'host': 'lb-1', 'services': ['nginx', 'keepalived']}, {'host': 'lb-2', 'services': ['keepalived']}]
        assert F['drill_running'](None) == []

    def test_not_running(self):
        results = [
            {'item': {'host': 'lb-1', 'services': ['nginx', 'keepalived']}, 'stdout_lines': ['active', 'active']},
            {'item': {'host': 'lb-2', 'services': ['nginx', 'keepalived']}, 'stdout_lines': ['active', 'inactive']},
            {'item': {'host': 'web-1', 'services': ['nginx']}, 'unreachable': True, 'msg': 'timed out'},
            {'item': {'host': 'lb-3', 'services': ['nginx', 'keepalived']}, 'stdout_lines': ['activating']},
        ]
        assert F['drill_not_running'](results) == [
            'keepalived on lb-2 is inactive (it was active before the drill)',
            'nginx on web-1 is unknown (host unreachable) (it was active before the drill)',
            'nginx on lb-3 is activating (it was active before the drill)',
            'keepalived on lb-3 is unknown (host unreachable) (it was active before the drill)',
        ]
        assert F['drill_not_running'](None) == []


def test_interfaces_node_then_instance_then_host():
    hostvars = {'lb-1': {'keepalived_interface': 'eth0'}, 'lb-2': {'keepalived_interface': 'eth1'}, 'lb-3': {}}
    nodes = {'lb-1': {'state': 'MASTER', 'priority': 100, 'interface': 'ens4'}, 'lb-2': {'state': 'BACKUP'}}
    assert F['drill_interfaces'](['lb-1', 'lb-2', 'lb-3'], {'nodes': nodes}, hostvars) == {
        'lb-1': 'ens4', 'lb-2': 'eth1', 'lb-3': ''}
    assert F['drill_interfaces'](['lb-1', 'lb-2'], {'nodes': nodes, 'interface': 'bond0'}, hostvars) == {
        'lb-1': 'ens4', 'lb-2': 'bond0'}
    assert F['drill_interfaces'](['lb-1'], {}, hostvars) == {'lb-1': 'eth0'}


def test_stray_holders():
    results = [
        {'ok': True, 'master': 'lb-1', 'holders': ['lb-1']},
        {'ok': False, 'master': 'lb-1', 'holders': ['lb-2']},
        {'ok': False, 'master': 'lb-2', 'holders': ['lb-1', 'lb-2']},
        {'ok': False, 'master': 'lb-2', 'holders': []},
    ]
    assert F['drill_stray_holders'](results) == ['lb-2', 'lb-1']
    assert F['drill_stray_holders']([]) == []


@pytest.mark.parametrize('service, url, expected', [
    ('', '', {'url': 'http://198.51.100.140:80/', 'connect_to': '', 'error': ''}),
    ('', 'https://www.example.test/x', {'url': 'https://www.example.test/x', 'connect_to': '', 'error': ''}),
    ('www', '', {'url': 'https://www.lab.test/', 'connect_to': '198.51.100.140', 'error': ''}),
    ('alt', '', {'url': 'https://alt.lab.test:8443/', 'connect_to': '198.51.100.140', 'error': ''}),
    ('web', '', {'url': 'http://198.51.100.140/', 'connect_to': '', 'error': ''}),
    ('tcp', '', {'url': 'http://198.51.100.140:8081/', 'connect_to': '', 'error': ''}),
    ('nosuch', '', {'url': '', 'connect_to': '', 'error': 'failover_drill_service=nosuch is no service of the '
                    'balancers (nginx_lb_services: web, www, alt, tcp).'}),
])
def test_drill_probe_target(service, url, expected):
    from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.drill_plan import drill_probe_target
    services = [{'name': 'web', 'server_names': ['_']}, {'name': 'www', 'server_names': ['www.lab.test'], 'tls': {}},
                {'name': 'alt', 'server_names': ['*.lab.test', 'alt.lab.test'], 'port': 8443, 'tls': {}},
                {'name': 'tcp', 'mode': 'stream', 'port': 8081}]
    assert drill_probe_target(services, service, url, '198.51.100.140', 80) == expected
