# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The planned switchover: keepalived's data dump, the plan and the refusals."""

from __future__ import annotations

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.services import peer_checks
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.switchover import (
    check_vips,
    in_maintenance,
    parse_data,
    plan,
    refusals,
)

# The lines the role's dump script keeps of keepalived 2.2's data file (grep), plus lines it would drop.
DUMP = """------< Global definitions >------
 Router ID = director1
------< VRRP Topology >------
 VRRP Instance = VI_WEB
   State = BACKUP
   Password = secret-in-the-dump
   Priority = 100
   Effective priority = 1
 VRRP Instance = VI_API
   State = FAULT
   Priority = 50
   Effective priority = 50
------< VRRP Sockpool >------
   State = idle
------< VRRP Track files >------
 Track file = maintenance_VI_WEB
   File = /var/lib/keepalived/maintenance/VI_WEB
   Status = 1
 Track file = chk_nginx_cannot_start
   File = /run/keepalived-chk_nginx.cannot-start
   Status = 0
------< Interfaces >------
   State = UP, RUNNING
"""

INSTANCES = [
    {'name': 'VI_WEB', 'virtual_ipaddresses': ['198.51.100.140/24'],
     'nodes': {'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}}},
    {'name': 'VI_API', 'virtual_ipaddresses': ['198.51.100.141/24', '198.51.100.142/24 dev eth1'],
     'nodes': {'lb-1': {'state': 'BACKUP', 'priority': 50}, 'lb-2': {'state': 'MASTER', 'priority': 100}}},
    {'name': 'VI_NP', 'nopreempt': True, 'virtual_ipaddresses': ['198.51.100.143/24'],
     'nodes': {'lb-1': {'state': 'BACKUP', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}}},
]


def test_the_dump_gives_states_priorities_and_files_and_nothing_else():
    data = parse_data(DUMP)
    assert data['instances'] == {
        'VI_WEB': {'state': 'BACKUP', 'priority': 100, 'effective_priority': 1},
        'VI_API': {'state': 'FAULT', 'priority': 50, 'effective_priority': 50}}
    assert data['track_files']['maintenance_VI_WEB'] == {'file': '/var/lib/keepalived/maintenance/VI_WEB', 'status': 1}
    assert 'secret' not in repr(data)
    assert in_maintenance(data, 'VI_WEB') == 1 and in_maintenance(data, 'VI_API') == 0
    assert parse_data('') == {'instances': {}, 'track_files': {}}


def test_away_moves_every_instance_to_the_highest_other_node():
    result = plan(INSTANCES, 'lb-1', 'away')
    assert result['errors'] == []
    assert [(m['instance'], m['receiver'], m['nopreempt']) for m in result['moves']] == [
        ('VI_WEB', 'lb-2', False), ('VI_API', 'lb-2', False), ('VI_NP', 'lb-2', True)]
    assert check_vips(result['moves'][1:2]) == [{'address': '198.51.100.141/24', 'instance': 'VI_API'},
                                                {'address': '198.51.100.142/24', 'instance': 'VI_API'}]


def test_back_returns_only_what_the_host_preempts():
    moves = plan(INSTANCES, 'lb-1', 'back')['moves']
    # VI_WEB: lb-1 is the preferred holder and preempts; VI_API: lb-2 is; VI_NP: nopreempt keeps its holder.
    assert [(m['instance'], m['receiver']) for m in moves] == [('VI_WEB', 'lb-1'), ('VI_API', None), ('VI_NP', None)]


def test_selected_instances_and_bad_input():
    assert [m['instance'] for m in plan(INSTANCES, 'lb-2', 'away', ['VI_API'])['moves']] == ['VI_API']
    assert 'VI_NOPE' in plan(INSTANCES, 'lb-2', 'away', ['VI_NOPE'])['errors'][0]
    assert 'switchover_host' in plan(INSTANCES, '', 'away')['errors'][0]
    assert 'no instance' in plan(INSTANCES, 'web-1', 'away')['errors'][0]
    assert 'away' in plan(INSTANCES, 'lb-1', 'off')['errors'][0]
    lonely = [{'name': 'VI_X', 'virtual_ipaddresses': ['198.51.100.150/24'], 'nodes': {'lb-1': {'priority': 100}}}]
    assert 'no other node' in plan(lonely, 'lb-1', 'away')['errors'][0]


def _states(**instances):
    return {'instances': {name: {'state': state} for name, state in instances.items()},
            'track_files': {}}


def test_refusals_name_the_peer_and_the_fix():
    moves = plan(INSTANCES[:1], 'lb-1', 'away')['moves']
    holders = {'198.51.100.140': ['lb-1']}
    assert refusals(moves, 'lb-1', {'lb-1': _states(VI_WEB='MASTER'), 'lb-2': _states(VI_WEB='BACKUP')}, holders) == []
    stopped = refusals(moves, 'lb-1', {'lb-1': _states(VI_WEB='MASTER'), 'lb-2': None}, holders)
    assert 'keepalived does not run on lb-2' in stopped[0]
    fault = refusals(moves, 'lb-1', {'lb-2': _states(VI_WEB='FAULT')}, holders)
    assert 'lb-2 is FAULT, not BACKUP' in fault[0]
    unknown = refusals(moves, 'lb-1', {'lb-2': _states()}, holders)
    assert 'does not know the instance' in unknown[0]
    peer_in_maintenance = dict(_states(VI_WEB='BACKUP'), track_files={'maintenance_VI_WEB': {'status': 1}})
    both = refusals(moves, 'lb-1', {'lb-2': peer_in_maintenance}, holders)
    assert 'lb-2 is in maintenance itself' in both[0] and 'switchover_host=lb-2' in both[0]


def test_a_held_nopreempt_instance_is_refused_with_the_hand_over_command():
    moves = plan(INSTANCES[2:], 'lb-1', 'away')['moves']
    states = {'lb-2': _states(VI_NP='BACKUP')}
    assert 'systemctl restart keepalived' in refusals(moves, 'lb-1', states, {'198.51.100.143': ['lb-1']})[0]
    # Not held by the balancer: only its priority changes, nothing to refuse.
    assert refusals(moves, 'lb-1', states, {'198.51.100.143': ['lb-2']}) == []


def test_back_checks_the_returning_balancer_itself():
    moves = plan(INSTANCES[:1], 'lb-1', 'back')['moves']
    assert refusals(moves, 'lb-1', {'lb-1': _states(VI_WEB='BACKUP')}, {}) == []
    assert 'lb-1 is FAULT' in refusals(moves, 'lb-1', {'lb-1': _states(VI_WEB='FAULT')}, {})[0]


def test_peer_checks_ask_every_service_on_the_loopback_address():
    services = [
        {'name': 'www', 'port': 443, 'tls': {'certificate': 'x'}},
        {'name': 'api', 'port': 8080, 'listen_address': '198.51.100.141'},
        {'name': 'v6', 'port': 8081, 'listen_address': '2001:db8::141'},
        {'name': 'db', 'mode': 'stream', 'port': 5432},
        {'name': 'quiet', 'port': 9000, 'health_check': False},
    ]
    assert peer_checks(services) == [
        {'service': 'www', 'url': 'https://127.0.0.1:443/'},
        {'service': 'api', 'url': 'http://127.0.0.1:8080/'},
        {'service': 'v6', 'url': 'http://[::1]:8081/'},
        {'service': 'db', 'host': '127.0.0.1', 'port': 5432},
    ]
    assert peer_checks([], '', 8080) == [{'service': 'default', 'url': 'http://127.0.0.1:8080/'}]
