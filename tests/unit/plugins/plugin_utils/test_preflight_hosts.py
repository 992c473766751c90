# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the keepalived preflight takes from hostvars."""

from __future__ import annotations

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight import keepalived_preflight_hosts

FACTS = {'interfaces': ['lo', 'eth0'], 'eth0': {'ipv4': {'address': '10.0.0.21'}}}
INSTANCES = [{'name': 'VI_1', 'nodes': {'lb-1': {}, 'lb-2': {}, 'lb-9': {}}}]
HOSTVARS = {
    'lb-1': {'ansible_host': '10.0.0.21', 'ansible_facts': FACTS, 'keepalived_instances': INSTANCES},
    'lb-2': {'ansible_host': '10.0.0.22', 'ansible_facts': {'os_family': 'Debian'},
             'keepalived_instances': INSTANCES},
    'web-1': {'ansible_facts': FACTS, 'nginx_web_port': 80},
}


def run(host='lb-1', play_members=('lb-1', 'lb-2')):
    return keepalived_preflight_hosts(HOSTVARS, ['lb-1', 'lb-2', 'web-1'], INSTANCES, host, list(play_members))


def test_every_host_and_node_gets_its_address():
    hosts = run()
    assert list(hosts) == ['lb-1', 'lb-2', 'web-1', 'lb-9']
    assert [hosts[name]['ansible_host'] for name in hosts] == ['10.0.0.21', '10.0.0.22', 'web-1', 'lb-9']


def test_facts_only_of_others_whose_interfaces_were_gathered():
    hosts = run()
    assert 'facts' not in hosts['lb-1']
    assert 'facts' not in hosts['lb-2']
    assert hosts['web-1']['facts'] is FACTS
    assert 'facts' in run(host='lb-2')['lb-1']


def test_instances_only_of_the_play_members():
    hosts = run(play_members=('lb-1',))
    assert hosts['lb-1']['keepalived_instances'] == INSTANCES
    assert 'keepalived_instances' not in hosts['lb-2']
    assert 'keepalived_instances' not in hosts['web-1']
    assert 'nginx_web_port' not in hosts['web-1']


def test_malformed_instances_add_no_nodes():
    hosts = keepalived_preflight_hosts(HOSTVARS, ['lb-1'], [{'nodes': ['lb-5']}, 'VI_2'], 'lb-1', [])
    assert list(hosts) == ['lb-1']
