# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The scan for foreign VRRP routers and VIP users (plugins/plugin_utils/segment.py)."""

from __future__ import annotations

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.segment import findings, ours, plan

INSTANCES = [
    {'name': 'VI_WEB', 'virtual_router_id': 80, 'advert_int': 1,
     'nodes': {'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}},
     'virtual_ipaddresses': ['198.51.100.140/24', '2001:db8::140/64']},
    {'name': 'VI_API', 'virtual_router_id': 81, 'advert_int': 2, 'interface': 'eth1',
     'nodes': {'lb-1': {'state': 'BACKUP', 'priority': 50}, 'lb-2': {'state': 'MASTER', 'priority': 100}},
     'virtual_ipaddresses': ['203.0.113.10/24 dev eth1']},
    {'name': 'VI_ELSEWHERE', 'virtual_router_id': 90, 'nodes': {'lb-3': {'state': 'MASTER', 'priority': 100}},
     'virtual_ipaddresses': ['198.51.100.150/24']},
]
OWN = {'addresses': ['198.51.100.21', '198.51.100.22'], 'macs': ['02:00:00:00:00:21', '02:00:00:00:00:22']}


def _router(source, vrid, priority=1, version=2):
    return {'source': source, 'vrid': vrid, 'priority': priority, 'version': version, 'addresses': ['198.51.100.140']}


def test_one_scan_per_interface_long_enough_to_hear_every_router():
    assert plan(INSTANCES, 'lb-1', 'host0') == [
        {'interface': 'host0', 'vrids': {80: 'VI_WEB'}, 'vips': ['198.51.100.140'], 'duration': 4.0},
        {'interface': 'eth1', 'vrids': {81: 'VI_API'}, 'vips': ['203.0.113.10'], 'duration': 7.0}]
    assert plan([dict(INSTANCES[0], advert_int=0.1)], 'lb-2', 'host0')[0]['duration'] == 2.0
    assert plan(INSTANCES, 'web-1', 'host0') == []


def test_a_foreign_router_on_our_vrid_refuses_and_on_another_vrid_warns():
    scan = dict(plan(INSTANCES, 'lb-1', 'host0')[0], routers=[
        _router('198.51.100.22', 80, 50), _router('198.51.100.31', 80, 1), _router('198.51.100.31', 7, 9, 3)],
        arp={'198.51.100.140': ['02:00:00:00:00:22']})
    found = findings([scan], OWN)
    assert found['errors'] == [
        'VRID 80, the virtual_router_id of keepalived_instances[VI_WEB], is advertised on host0 by 198.51.100.31 '
        '(priority 1, VRRPv2, addresses 198.51.100.140), which is not one of the balancers. Two clusters with one '
        'VRID on a segment fight over their VIPs: give VI_WEB another virtual_router_id, or stop that router '
        '(docs/security.md).']
    assert found['warnings'] == [
        'VRRP router 198.51.100.31 (priority 9, VRRPv3, addresses 198.51.100.140) on host0 uses VRID 7: not one of '
        'the balancers, and no instance of theirs uses that VRID. Keep it that way when you add instances.']


def test_a_vip_answered_by_a_foreign_mac_refuses():
    arp = {'198.51.100.140': ['02:00:00:00:00:31'], '198.51.100.141': []}
    scan = dict(plan(INSTANCES, 'lb-1', 'host0')[0], routers=[], arp=arp)
    assert findings([scan], OWN)['errors'] == [
        '198.51.100.140, a VIP on host0, answers ARP from 02:00:00:00:00:31, which is no interface of the balancers: '
        'another host uses that address. Free it, or choose another VIP.']
    # A balancer outside the run (--limit: no facts) may be the one answering: a warning only.
    partial = findings([scan], dict(OWN, unknown=['lb-2']))
    assert partial['errors'] == [] and 'lb-2 did not take part, so it may be theirs' in partial['warnings'][0]
    # Our own balancer holding the VIP (its MAC in any case) is no finding; nor is a quiet segment.
    scan['arp'] = {'198.51.100.140': ['02:00:00:00:00:21'.upper()]}
    assert findings([scan], OWN) == {'errors': [], 'warnings': []}


def test_our_addresses_come_from_the_inventory_facts_and_node_addresses():
    hostvars = {
        'lb-1': {'ansible_host': '198.51.100.21', 'keepalived_instances': [
            {'nodes': {'lb-1': {'address': '10.0.0.1'}, 'lb-2': {}}}],
            'ansible_facts': {'all_ipv4_addresses': ['198.51.100.21', '198.51.100.140'], 'interfaces': ['host0', 'lo'],
                              'host0': {'macaddress': '02:00:00:00:00:21'}, 'lo': {'macaddress': '00:00:00:00:00:00'}}},
        'lb-2': {'ansible_host': '198.51.100.22'},
    }
    assert ours(hostvars, ['lb-1', 'lb-2', 'lb-9']) == {
        'addresses': ['10.0.0.1', '198.51.100.140', '198.51.100.21', '198.51.100.22'],
        'macs': ['00:00:00:00:00:00', '02:00:00:00:00:21'], 'unknown': ['lb-2', 'lb-9']}
