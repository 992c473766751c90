# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.cluster_summary import cluster_queries, cluster_vips
from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.pending_reloads import FilterModule

pending_reloads = FilterModule().filters()['pending_reloads']


def test_flags_become_actions_in_name_order():
    facts = {
        'ha_lb_nginx_lb_reload': {'pending': True, 'unit': 'nginx', 'action': 'reloaded'},
        'ha_lb_keepalived_loopback_vips': {'pending': True, 'unit': 'keepalived-loopback-vips.service',
                                           'action': 'restarted'},
        'ha_lb_keepalived_reload': {'pending': True, 'unit': 'keepalived'},
    }
    assert pending_reloads(facts) == [
        {'flag': 'ha_lb_keepalived_loopback_vips', 'unit': 'keepalived-loopback-vips.service', 'action': 'restarted'},
        {'flag': 'ha_lb_keepalived_reload', 'unit': 'keepalived', 'action': 'reloaded'},
        {'flag': 'ha_lb_nginx_lb_reload', 'unit': 'nginx', 'action': 'reloaded'},
    ]


def test_other_facts_and_incomplete_flags_are_left_alone():
    facts = {
        'other_fact': {'pending': True, 'unit': 'nginx'},
        'ha_lb_nginx_web_reload': {'pending': True},  # written by 1.1.0: the role rewrites it first
        'ha_lb_x': {'pending': 'yes', 'unit': 'nginx'},
        'ha_lb_y': {'pending': True, 'unit': 'nginx', 'action': 'stopped'},
        'ha_lb_z': 'not a dict',
        'ha_lb_w': {'pending': True, 'unit': ''},
    }
    assert pending_reloads(facts) == []
    assert pending_reloads(None) == [] and pending_reloads([]) == []


def test_loopback_hosts():
    from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.vip_lists import loopback_hosts
    instances = [{'virtual_ipaddresses': ['198.51.100.140/24', '2001:db8::140/64', '198.51.100.141']},
                 {'virtual_ipaddresses': ['198.51.100.140/24 dev host0']}, {'name': 'no VIPs'}, 'junk']
    assert loopback_hosts(instances) == ['198.51.100.140/32', '2001:db8::140/128', '198.51.100.141/32']
    assert loopback_hosts(None) == []


def _answer(host, address, held, configured=False, state='MASTER', unreachable=False):
    if unreachable:
        return {'item': [host, {'address': address}], 'unreachable': True}
    return {'item': [host, {'address': address}], 'held': held, 'configured': configured,
            'keepalived': {'vrrp_state': state}}


def test_cluster_summary_verdicts():
    from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.cluster_summary import cluster_summary
    vips = [{'address': '198.51.100.140/24', 'instance': 'VI_WEB', 'master': 'lb-1'},
            {'address': '198.51.100.141/24', 'instance': 'VI_B', 'master': 'lb-2'},
            {'address': '198.51.100.142/24'}, {'address': '198.51.100.143/24', 'master': 'lb-1'}]
    answers = [
        _answer('lb-1', '198.51.100.140/24', True), _answer('lb-2', '198.51.100.140/24', False, state='BACKUP'),
        _answer('lb-1', '198.51.100.141/24', True), _answer('lb-2', '198.51.100.141/24', True),
        _answer('lb-1', '198.51.100.142/24', False, configured=True, state='BACKUP'),
        _answer('lb-2', '198.51.100.142/24', False, unreachable=True),
        _answer('lb-1', '198.51.100.143/24', False, state='BACKUP'),
        _answer('lb-2', '198.51.100.143/24', True, state='MASTER'),
    ]
    result = cluster_summary(answers, vips, expect_master=True)
    assert [r['message'] for r in result] == [
        '198.51.100.140/24 is held by lb-1 (keepalived: lb-1 MASTER, lb-2 BACKUP)',
        'split brain: 198.51.100.141/24 is held by 2 hosts: lb-1, lb-2 (keepalived: lb-1 MASTER, lb-2 MASTER); '
        'two MASTERs: lb-1, lb-2',
        'nobody holds 198.51.100.142/24 (configured but not usable on lb-1) (unreachable: lb-2) (keepalived: lb-1 BACKUP)',
        '198.51.100.143/24 is held by lb-2, expected its master lb-1 (keepalived: lb-1 BACKUP, lb-2 MASTER)',
    ]
    assert [r['ok'] for r in result] == [True, False, False, False]
    assert result[0]['states'] == {'lb-1': 'MASTER', 'lb-2': 'BACKUP'} and result[0]['instance'] == 'VI_WEB'
    assert cluster_summary(answers, vips[3:])[0]['ok'] is True  # without expect_master any single holder is fine
    assert result[1]['masters'] == ['lb-1', 'lb-2'] and result[0]['findings'] == []


def test_cluster_summary_keepalived_findings():
    """keepalived's states are findings of their own, even when the addresses look right."""
    from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.cluster_summary import cluster_summary
    vip = [{'address': '198.51.100.140/24', 'instance': 'VI_WEB', 'master': 'lb-1'}]
    two = cluster_summary([_answer('lb-1', '198.51.100.140/24', True),
                           _answer('lb-2', '198.51.100.140/24', False, state='MASTER')], vip)[0]
    assert two['ok'] is False and two['findings'] == ['two MASTERs: lb-1, lb-2', 'MASTER without the address: lb-2']
    assert two['message'] == ('198.51.100.140/24 is held by lb-1 (keepalived: lb-1 MASTER, lb-2 MASTER); '
                              'two MASTERs: lb-1, lb-2; MASTER without the address: lb-2')
    alone = cluster_summary([_answer('lb-1', '198.51.100.140/24', False, state='MASTER'),
                             _answer('lb-2', '198.51.100.140/24', False, state='BACKUP')], vip)[0]
    assert alone['findings'] == ['MASTER without the address: lb-1'] and not alone['ok']
    # A state vip_owner does not trust (stale file, keepalived stopped) is no MASTER.
    stale = cluster_summary([_answer('lb-1', '198.51.100.140/24', True, state='MASTER'),
                             _answer('lb-2', '198.51.100.140/24', False, state='STOP'),
                             _answer('lb-3', '198.51.100.140/24', False, state='unknown')], vip)[0]
    assert stale['ok'] and stale['findings'] == [] and stale['masters'] == ['lb-1']


def test_cluster_vips_ask_each_vip_of_the_hosts_that_list_it():
    def pair(name, vip):
        return {'keepalived_instances': [{'name': 'VI_1', 'virtual_ipaddresses': [vip],
                                          'nodes': {name + 'a': {'state': 'MASTER'}, name + 'b': {'state': 'BACKUP'}}}]}
    hostvars = {'p1a': pair('p1', '10.0.1.100/24'), 'p1b': pair('p1', '10.0.1.100/24'),
                'p2a': pair('p2', '10.0.2.100/24'), 'p2b': pair('p2', '10.0.2.100/24'), 'web': {}}
    vips = cluster_vips(hostvars, ['p1a', 'p1b', 'p2a', 'p2b', 'web', 'gone'])
    assert vips == [{'address': '10.0.1.100/24', 'instance': 'VI_1', 'master': 'p1a', 'hosts': ['p1a', 'p1b']},
                    {'address': '10.0.2.100/24', 'instance': 'VI_1', 'master': 'p2a', 'hosts': ['p2a', 'p2b']}]
    assert [[h, v['address']] for h, v in cluster_queries(['p1a', 'p2b'], vips)] == [
        ['p1a', '10.0.1.100/24'], ['p2b', '10.0.2.100/24']]
    # A VIP that names no hosts is asked of every host.
    assert len(cluster_queries(['p1a', 'p2b'], [{'address': '10.0.9.1'}])) == 2
