# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.preflight import FilterModule
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight import (
    parse_vip,
    to_bool,
    to_int,
)

FILTERS = FilterModule().filters()
SECRET = 'labpass1'

# The local lab: inventories/local/group_vars/lb and hosts.yml, seen from lb-1.
LAB_INSTANCES = [{
    'name': 'VI_WEB',
    'virtual_router_id': 80,
    'advert_int': 1,
    'nodes': {'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}},
    'authentication': {'auth_type': 'PASS', 'auth_pass': SECRET},
    'virtual_ipaddresses': ['198.51.100.140/24'],
}]
LAB_FACTS = {
    'os_family': 'Debian',
    'interfaces': ['lo', 'host0'],
    'host0': {'ipv4': {'address': '198.51.100.21', 'netmask': '255.255.255.0', 'network': '198.51.100.0'}},
    'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0', 'network': '127.0.0.0'}},
}


def keepalived_input(host='lb-1', **changes):
    data = {
        'host': host,
        'os_family': 'Debian',
        'supported_os_families': ['Debian', 'RedHat'],
        'group': 'lb',
        'group_members': ['lb-1', 'lb-2'],
        'play_members': ['lb-1', 'lb-2'],
        'instances': copy.deepcopy(LAB_INSTANCES),
        'interface': 'host0',
        'facts': copy.deepcopy(LAB_FACTS),
        'hosts': {
            'lb-1': {'ansible_host': '198.51.100.21', 'keepalived_instances': copy.deepcopy(LAB_INSTANCES)},
            'lb-2': {'ansible_host': '198.51.100.22', 'keepalived_instances': copy.deepcopy(LAB_INSTANCES)},
        },
        'health_check': {'enabled': True, 'mode': 'http', 'behaviour': 'restart_then_fault', 'interval': 1,
                         'fall': 2, 'rise': 2, 'script_path': '/etc/keepalived/check_nginx.sh'},
    }
    data.update(changes)
    return data


def instance(**changes):
    """The lab's instance with some keys changed (None removes a key)."""
    result = copy.deepcopy(LAB_INSTANCES[0])
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def with_instances(*instances, **changes):
    """Input where every balancer defines these instances (so they agree)."""
    data = keepalived_input(instances=list(instances), **changes)
    for entry in data['hosts'].values():
        entry['keepalived_instances'] = copy.deepcopy(list(instances))
    return data


def nodes(lb1, lb2):
    return {'lb-1': lb1, 'lb-2': lb2}


def nginx_web_input(**changes):
    data = {'os_family': 'Debian', 'supported_os_families': ['Debian', 'RedHat'], 'port': 80,
            'page_content': 'Served by web-1\n', 'root': ''}
    data.update(changes)
    return data


def nginx_lb_input(**changes):
    data = {'os_family': 'RedHat', 'supported_os_families': ['Debian', 'RedHat'], 'listen_port': 80,
            'method': 'round_robin', 'methods': ['round_robin', 'least_conn', 'ip_hash', 'hash'],
            'backend_group': 'web', 'group_backends': ['web-1', 'web-2'], 'backends': [], 'backend_port': 80}
    data.update(changes)
    return data


def keepalived(data):
    return FILTERS['keepalived_preflight'](data)


def only(problems):
    assert len(problems) == 1, problems
    return problems[0]


def test_filters_registered():
    assert sorted(FILTERS) == ['keepalived_preflight', 'keepalived_preflight_hosts', 'nginx_lb_preflight',
                               'nginx_web_preflight']


# A valid input has no problem ---------------------------------------------------------------

@pytest.mark.parametrize('host', ['lb-1', 'lb-2'])
def test_keepalived_lab_input_is_fine(host):
    data = keepalived_input(host=host)
    data['facts']['host0']['ipv4']['address'] = '198.51.100.%d' % (20 + int(host[-1]))
    assert keepalived(data) == []


@pytest.mark.parametrize('data', [
    pytest.param(with_instances(instance(nopreempt=True, nodes=nodes({'state': 'BACKUP', 'priority': 100},
                                                                     {'state': 'BACKUP', 'priority': 50}))),
                 id='nopreempt all BACKUP'),
    pytest.param(with_instances(instance(unicast=False, unicast_src_ip='not-an-address')), id='multicast'),
    pytest.param(with_instances(instance(unicast_peers=['198.51.100.22'])), id='explicit peers'),
    pytest.param(with_instances(instance(unicast_src_ip='2001:db8::21'),
                                facts=dict(LAB_FACTS, host0=dict(LAB_FACTS['host0'], ipv6=[
                                    {'address': '2001:db8::21', 'prefix': '64', 'scope': 'global'}]))),
                 id='IPv6 unicast source'),
    pytest.param(with_instances(instance(virtual_ipaddresses=['198.51.100.140', '2001:db8:58::140/64',
                                                              '2001:db8:99::1'])),
                 id='VIP without prefix and IPv6 VIPs outside the IPv4 subnet'),
    pytest.param(with_instances(instance(vrrp_version=3, authentication=None)), id='VRRPv3 without authentication'),
    pytest.param(with_instances(instance(authentication={'auth_type': 'AH', 'auth_pass': 'x'})), id='AH'),
    pytest.param(with_instances(instance(authentication={'auth_pass': '12345678'})), id='8-character secret'),
    pytest.param(with_instances(instance(virtual_router_id='80')), id='VRID as a string'),
    pytest.param(with_instances(instance(), instance(name='VI_OTHER', interface='eth1', virtual_ipaddresses=['10.1.0.140/24']),
                                facts=dict(LAB_FACTS, interfaces=['lo', 'host0', 'eth1'], eth1={'ipv4': {
                                    'address': '10.1.0.21', 'netmask': '255.255.255.0', 'network': '10.1.0.0'}})),
                 id='one VRID on two interfaces'),
    pytest.param(with_instances(instance(nodes=nodes({'state': 'MASTER', 'priority': 100, 'address': '10.0.0.1'},
                                                     {'state': 'BACKUP', 'priority': 50, 'address': '10.0.0.2'}),
                                         unicast_peers=['10.0.0.2']),
                                facts=dict(LAB_FACTS, interfaces=['lo', 'host0', 'eth1'], eth1={'ipv4': {
                                    'address': '10.0.0.1', 'netmask': '255.255.255.0', 'network': '10.0.0.0'}})),
                 id='node addresses'),
    pytest.param(keepalived_input(health_check={'enabled': False, 'mode': 'nope', 'behaviour': 'nope', 'interval': 0,
                                                'fall': 0, 'rise': 0, 'script_path': 'relative'}),
                 id='health check disabled'),
    pytest.param(keepalived_input(play_members=['lb-1']), id='limited to one balancer'),
    pytest.param(with_instances(instance(virtual_ipaddresses=['10.0.0.1/24']), interface='lo0',
                                facts=dict(LAB_FACTS, interfaces=['lo0', 'host0'])),
                 id='no subnet test without IPv4 facts'),
])
def test_keepalived_valid_variants(data):
    assert keepalived(data) == []


def test_nginx_inputs_are_fine():
    assert FILTERS['nginx_web_preflight'](nginx_web_input()) == []
    assert FILTERS['nginx_web_preflight'](nginx_web_input(root='/srv/www', port='8080')) == []
    assert FILTERS['nginx_lb_preflight'](nginx_lb_input()) == []
    assert FILTERS['nginx_lb_preflight'](nginx_lb_input(group_backends=[], backends=[
        {'address': '192.0.2.10'}, {'address': 'web-2.example', 'port': 8080}])) == []


# keepalived: each problem gives its message -------------------------------------------------

def _priority_255():
    return with_instances(instance(nodes=nodes({'state': 'MASTER', 'priority': 255}, {'state': 'BACKUP', 'priority': 50})))


def _master_not_highest():
    return with_instances(instance(nodes=nodes({'state': 'MASTER', 'priority': 50}, {'state': 'BACKUP', 'priority': 100})))


def _two_masters():
    return with_instances(instance(nodes=nodes({'state': 'MASTER', 'priority': 100}, {'state': 'MASTER', 'priority': 50})))


def _no_master():
    return with_instances(instance(nodes=nodes({'state': 'BACKUP', 'priority': 100}, {'state': 'BACKUP', 'priority': 50})))


def _shared_vrid():
    return with_instances(instance(), instance(name='VI_OTHER', virtual_ipaddresses=['198.51.100.141/24']))


def _differing_balancer():
    data = keepalived_input()
    data['hosts']['lb-2']['keepalived_instances'][0]['virtual_ipaddresses'] = ['198.51.100.141/24']
    return data


KEEPALIVED_CASES = {
    'priority above 254': (
        _priority_255,
        'keepalived_instances[VI_WEB].nodes[lb-1]: state=MASTER priority=255. The state must be MASTER or BACKUP and '
        "the priority 1-254 (255 is reserved for the address owner): fix that node's entry."),
    'priority missing and state unknown': (
        lambda: with_instances(instance(nodes=nodes({'state': 'MASTER', 'priority': 100}, {'state': 'SLAVE'}))),
        'keepalived_instances[VI_WEB].nodes[lb-2]: state=SLAVE priority=unset.'),
    'priority not a number': (
        lambda: with_instances(instance(nodes=nodes({'state': 'MASTER', 'priority': 100},
                                                    {'state': 'BACKUP', 'priority': '5x'}))),
        'keepalived_instances[VI_WEB].nodes[lb-2]: state=BACKUP priority=5x.'),
    'MASTER not the highest priority': (
        _master_not_highest,
        'keepalived_instances[VI_WEB]: MASTER nodes lb-1, highest priority lb-2. Give exactly one node state MASTER '
        'and a priority above every BACKUP (with nopreempt, make every node BACKUP and one priority the highest).'),
    'two MASTERs': (_two_masters, 'MASTER nodes lb-1, lb-2, highest priority lb-1.'),
    'no MASTER': (_no_master, 'MASTER nodes none, highest priority lb-1.'),
    'two highest priorities': (
        lambda: with_instances(instance(nodes=nodes({'state': 'MASTER', 'priority': 100},
                                                    {'state': 'BACKUP', 'priority': 100}))),
        'MASTER nodes lb-1, highest priority lb-1, lb-2.'),
    'nopreempt with a MASTER': (
        lambda: with_instances(instance(nopreempt=True)), 'MASTER nodes lb-1, highest priority lb-1.'),
    'virtual_router_id above 255': (
        lambda: with_instances(instance(virtual_router_id=256)),
        'keepalived_instances[VI_WEB].virtual_router_id=256: a VRID is 1-255 and unique among the instances on one '
        'network, and VI_WEB use it on host0. Give each instance its own virtual_router_id.'),
    'virtual_router_id 0': (
        lambda: with_instances(instance(virtual_router_id=0)), 'keepalived_instances[VI_WEB].virtual_router_id=0:'),
    'interface missing on the host': (
        lambda: keepalived_input(interface='nosuch0'),
        "keepalived_instances[VI_WEB]: interface 'nosuch0' does not exist on lb-1 (it has host0, lo). Set "
        "keepalived_interface (or the instance's or node's interface) in the inventory."),
    "the node's interface wins": (
        lambda: with_instances(instance(interface='lo', nodes=nodes(
            {'state': 'MASTER', 'priority': 100, 'interface': 'nosuch1'}, {'state': 'BACKUP', 'priority': 50}))),
        "interface 'nosuch1' does not exist on lb-1"),
    "the instance's interface wins": (
        lambda: with_instances(instance(interface='nosuch2')), "interface 'nosuch2' does not exist on lb-1"),
    'VIP outside the interface subnet': (
        lambda: with_instances(instance(virtual_ipaddresses=['10.99.0.140/24'])),
        'keepalived_instances[VI_WEB].virtual_ipaddresses: 10.99.0.140/24 is not an address/prefix, or it lies '
        'outside the subnet of host0 on lb-1 (198.51.100.21/255.255.255.0). Use a free address of that subnet.'),
    'VIP not an address': (
        lambda: with_instances(instance(virtual_ipaddresses=['lb-vip/24'])),
        'lb-vip/24 is not an address/prefix, or it lies outside the subnet of host0'),
    'VIP with a bad prefix': (
        lambda: with_instances(instance(virtual_ipaddresses=['198.51.100.140/x'])),
        '198.51.100.140/x is not an address/prefix'),
    'VIP on an interface without IPv4 facts': (
        lambda: with_instances(instance(virtual_ipaddresses=['lb-vip']), interface='lo0',
                               facts=dict(LAB_FACTS, interfaces=['lo0', 'host0'])),
        'outside the subnet of lo0 on lb-1 (no IPv4/?).'),
    'auth_pass longer than 8 characters': (
        lambda: with_instances(instance(authentication={'auth_type': 'PASS', 'auth_pass': 'muchtoolong'})),
        'keepalived_instances[VI_WEB].authentication: auth_pass must be 1-8 characters (keepalived truncates longer '
        'ones, so a secret that differs after the 8th character is not what it seems), auth_type PASS or AH, and '
        'VRRP version 3 (vrrp_version=2) has no authentication. Fix the secret or the version.'),
    'empty auth_pass': (
        lambda: with_instances(instance(authentication={'auth_pass': ''})), 'auth_pass must be 1-8 characters'),
    'authentication with VRRP version 3': (
        lambda: with_instances(instance(vrrp_version=3)), 'VRRP version 3 (vrrp_version=3) has no authentication.'),
    'unknown VRRP version': (
        lambda: with_instances(instance(vrrp_version=4, authentication=None)), '(vrrp_version=4) has no authentication'),
    'unicast peers not the other balancer': (
        lambda: with_instances(instance(unicast_peers=['198.51.100.99'])),
        "keepalived_instances[VI_WEB]: unicast needs IP addresses (this node: 198.51.100.21, peers: 198.51.100.22; "
        "set a node's address or ansible_host), and unicast_peers (198.51.100.99) must be exactly the other "
        "balancers' addresses: 198.51.100.22. Remove unicast_peers to use that default."),
    'unicast source not an address': (
        lambda: with_instances(instance(unicast_src_ip='lb-1.example')),
        'unicast needs IP addresses (this node: lb-1.example, peers: 198.51.100.22;'),
    'peer without an address falls back to its name': (
        lambda: keepalived_input(hosts={'lb-1': {'ansible_host': '198.51.100.21', 'keepalived_instances': LAB_INSTANCES},
                                        'lb-2': {'keepalived_instances': LAB_INSTANCES}}),
        'unicast needs IP addresses (this node: 198.51.100.21, peers: lb-2;'),
    'balancer missing from nodes': (
        lambda: with_instances(instance(nodes={'lb-1': {'state': 'MASTER', 'priority': 100}})),
        'keepalived_instances[VI_WEB].nodes lists lb-1 but the group keepalived_group=lb holds lb-1, lb-2: give every '
        'balancer (and only them) a nodes entry with its state and priority.'),
    'nodes not a mapping': (
        lambda: with_instances(instance(nodes=['lb-1', 'lb-2'])),
        'keepalived_instances[VI_WEB].nodes lists  but the group keepalived_group=lb holds lb-1, lb-2:'),
    'OS family unsupported': (
        lambda: keepalived_input(os_family='Suse'),
        'keepalived: OS family Suse is not supported (Debian, RedHat), or lb-1 is not in the group keepalived_group=lb: '
        'add it to that group or set keepalived_group.'),
    'host outside the group': (
        lambda: keepalived_input(host='web-1', hosts=dict(keepalived_input()['hosts'],
                                                          **{'web-1': {'ansible_host': '198.51.100.11'}})),
        'or web-1 is not in the group keepalived_group=lb'),
    'no instances': (
        with_instances,
        'keepalived_instances is empty or repeats an instance name (): define each VRRP instance once.'),
    'duplicate instance names': (
        lambda: with_instances(instance(), instance(name='vi_web', virtual_router_id=81,
                                                    virtual_ipaddresses=['198.51.100.141/24'])),
        'keepalived_instances is empty or repeats an instance name (VI_WEB, vi_web): define each VRRP instance once.'),
    'health check settings': (
        lambda: keepalived_input(health_check={'enabled': 'yes', 'mode': 'tcp', 'behaviour': 'restart_then_stop',
                                               'interval': 1, 'fall': 2, 'rise': 2,
                                               'script_path': '/etc/keepalived/check_nginx.sh'}),
        'keepalived_health_check_*: mode must be http or process (is tcp), behaviour restart_then_fault or '
        'restart_then_stop (is restart_then_stop), fall/rise at least 1 and script_path absolute. '
        'Fix them in the inventory.'),
    'health check interval 0': (
        lambda: keepalived_input(health_check=dict(keepalived_input()['health_check'], interval='0')),
        'keepalived_health_check_interval=0 is not valid: keepalived before 2.3 reads only whole seconds, 1 or more'),
    'health check fall 0': (
        lambda: keepalived_input(health_check=dict(keepalived_input()['health_check'], fall=0)),
        'fall/rise at least 1'),
    'health check script path relative': (
        lambda: keepalived_input(health_check=dict(keepalived_input()['health_check'], script_path='check_nginx.sh')),
        'script_path absolute'),
    'instances differ between balancers': (
        _differing_balancer,
        'keepalived_instances differ between lb-1 and lb-2 (names, virtual_router_id, nodes or VIPs): define the list '
        'once for the group keepalived_group=lb.'),
}


@pytest.mark.parametrize('case', list(KEEPALIVED_CASES))
def test_keepalived_problem(case):
    make, message = KEEPALIVED_CASES[case]
    problem = only(keepalived(make()))
    assert message in problem
    assert SECRET not in problem


def test_shared_vrid_reported_for_each_instance():
    problems = keepalived(_shared_vrid())
    assert [p.split(':', 1)[0] for p in problems] == ['keepalived_instances[VI_WEB].virtual_router_id=80',
                                                      'keepalived_instances[VI_OTHER].virtual_router_id=80']
    assert all('VI_WEB, VI_OTHER use it on host0.' in p for p in problems)


def test_one_message_per_bad_vip_in_order():
    problems = keepalived(with_instances(instance(virtual_ipaddresses=[
        '198.51.100.140/24', '10.0.0.1', 'fd00::140/64', 'nope', '198.51.100.141/33', '256.1.1.1', '198.51.100.142'])))
    assert [p.split(': ', 1)[1].split(' ', 1)[0] for p in problems] == ['10.0.0.1', 'nope', '198.51.100.141/33',
                                                                        '256.1.1.1']


def test_nodes_in_instance_order():
    problems = keepalived(with_instances(
        instance(nodes=nodes({'state': 'MASTER', 'priority': 300}, {'state': 'BACKUP', 'priority': 0})),
        instance(name='VI_B', virtual_router_id=81, virtual_ipaddresses=['198.51.100.141/24'],
                 nodes=nodes({'state': 'BACKUP', 'priority': 50}, {'state': 'MASTER'}))))
    prefixes = [p.split(':', 1)[0] for p in problems]
    assert prefixes[:3] == ['keepalived_instances[VI_WEB].nodes[lb-1]', 'keepalived_instances[VI_WEB].nodes[lb-2]',
                            'keepalived_instances[VI_B].nodes[lb-2]']


def test_peers_default_to_ansible_host_sorted_by_name():
    data = with_instances(instance(nodes={'lb-1': {'state': 'MASTER', 'priority': 100},
                                          'LB-3': {'state': 'BACKUP', 'priority': 40},
                                          'lb-2': {'state': 'BACKUP', 'priority': 50, 'address': '10.0.0.2'}},
                                   unicast_peers=['x']),
                          group_members=['lb-1', 'lb-2', 'LB-3'], play_members=['lb-1'])
    data['hosts']['LB-3'] = {'ansible_host': '198.51.100.23'}
    assert "must be exactly the other balancers' addresses: 10.0.0.2, 198.51.100.23." in only(keepalived(data))


def test_keepalived_secret_never_shown():
    secret = 'verysecretpassword'
    data = with_instances(instance(authentication={'auth_type': 'PASS', 'auth_pass': secret}, vrrp_version=3,
                                   virtual_router_id=999, virtual_ipaddresses=['10.0.0.1/8']))
    problems = keepalived(data)
    assert len(problems) == 3
    assert not [p for p in problems if secret in p]


def test_keepalived_reports_every_problem_at_once():
    data = with_instances(instance(
        virtual_router_id=256,
        nodes=nodes({'state': 'MASTER', 'priority': 255}, {'state': 'BACKUP', 'priority': 50}),
        authentication={'auth_type': 'PASS', 'auth_pass': 'muchtoolong'},
        virtual_ipaddresses=['10.99.0.140/24'],
        unicast_peers=['198.51.100.99'],
    ), interface='nosuch0')
    data['facts']['nosuch0'] = {'ipv4': {'address': '198.51.100.21', 'netmask': '255.255.255.0',
                                         'network': '198.51.100.0'}}
    problems = keepalived(data)
    expected = [
        'keepalived_instances[VI_WEB].nodes[lb-1]: state=MASTER priority=255',
        'keepalived_instances[VI_WEB].virtual_router_id=256',
        'auth_pass must be 1-8 characters',
        "interface 'nosuch0' does not exist on",
        '10.99.0.140/24 is not an address/prefix, or it lies outside the subnet of nosuch0',
        'must be exactly the other balancers',
    ]
    assert len(problems) == len(expected), problems
    for problem, message in zip(problems, expected):
        assert message in problem


def test_interface_facts_key():
    # Facts name "eth0.100" and "br-lan" as eth0_100 and br_lan.
    data = with_instances(instance(interface='br-lan.7', virtual_ipaddresses=['192.0.2.140/24']))
    data['facts']['interfaces'].append('br-lan.7')
    data['facts']['br_lan_7'] = {'ipv4': {'address': '192.0.2.21', 'netmask': '255.255.255.0', 'network': '192.0.2.0'}}
    assert keepalived(data) == []
    data['facts']['br_lan_7']['ipv4']['network'] = '192.0.3.0'
    assert '(192.0.2.21/255.255.255.0)' in only(keepalived(data))


def test_instances_compared_in_order_and_type():
    data = keepalived_input()
    data['hosts']['lb-2']['keepalived_instances'][0]['virtual_router_id'] = '80'
    assert 'differ between lb-1 and lb-2' in only(keepalived(data))
    data = keepalived_input()
    data['hosts']['lb-2']['keepalived_instances'][0]['authentication']['auth_pass'] = 'other'
    data['hosts']['lb-2']['keepalived_instances'][0]['advert_int'] = 3
    assert keepalived(data) == []


def test_keepalived_rejects_a_malformed_input():
    data = keepalived_input()
    del data['facts']
    with pytest.raises(AnsibleFilterError, match='lacks facts'):
        keepalived(data)
    with pytest.raises(AnsibleFilterError, match='must be a dict'):
        keepalived(['not', 'a', 'dict'])


# nginx_web and nginx_lb ---------------------------------------------------------------------

@pytest.mark.parametrize('changes, message', [
    ({'port': 70000}, 'nginx_web_port=70000 is not a TCP port: set it to 1-65535.'),
    ({'port': 0}, 'nginx_web_port=0 is not a TCP port'),
    ({'port': 'http'}, 'nginx_web_port=http is not a TCP port'),
    ({'page_content': ''}, 'nginx_web_page_content must not be empty and nginx_web_root () must be empty (the OS '
                           'default) or an absolute path: fix them in the inventory.'),
    ({'root': 'www'}, 'nginx_web_root (www) must be empty'),
    ({'os_family': 'Archlinux'}, 'nginx_web: OS family Archlinux is not supported (supported: Debian, RedHat).'),
])
def test_nginx_web_problem(changes, message):
    assert message in only(FILTERS['nginx_web_preflight'](nginx_web_input(**changes)))


@pytest.mark.parametrize('changes, message', [
    ({'listen_port': 70000}, 'nginx_lb_listen_port=70000 is not a TCP port: set it to 1-65535.'),
    ({'method': 'random_walk'}, 'nginx_lb_method=random_walk is unknown: use one of round_robin, least_conn, ip_hash, '
                                'hash.'),
    ({'group_backends': [], 'backend_group': 'nosuch'},
     'nginx_lb: no backends: the group nginx_lb_backend_group=nosuch is empty or missing and nginx_lb_backends is '
     'empty. Add hosts to that group or list them in nginx_lb_backends.'),
    ({'backends': [{'port': 80}]}, "nginx_lb_backends entry {'port': 80} needs an address and a port 1-65535."),
    ({'backends': [{'address': '', 'port': 80}]}, "nginx_lb_backends entry {'address': '', 'port': 80} needs"),
    ({'backends': [{'address': 'web-1', 'port': 70000}]}, "entry {'address': 'web-1', 'port': 70000} needs"),
    ({'backends': [{'address': 'web-1'}], 'backend_port': 0}, "entry {'address': 'web-1'} needs an address"),
    ({'os_family': 'Suse'}, 'nginx_lb: OS family Suse is not supported (supported: Debian, RedHat).'),
])
def test_nginx_lb_problem(changes, message):
    assert message in only(FILTERS['nginx_lb_preflight'](nginx_lb_input(**changes)))


def test_nginx_reports_every_problem_at_once():
    assert len(FILTERS['nginx_web_preflight'](nginx_web_input(os_family='Suse', port=0, root='www'))) == 3
    problems = FILTERS['nginx_lb_preflight'](nginx_lb_input(
        listen_port=0, method='x', group_backends=[],
        backends=[{'address': 'web-1', 'port': 0}, {'address': 'web-2'}, {'address': 'web-3', 'port': 65536}]))
    assert [p.split(' ', 1)[0] for p in problems] == ['nginx_lb_listen_port=0', 'nginx_lb_method=x',
                                                      'nginx_lb_backends', 'nginx_lb_backends']
    assert "{'address': 'web-1', 'port': 0}" in problems[2] and "'web-3'" in problems[3]


def test_nginx_rejects_a_malformed_input():
    with pytest.raises(AnsibleFilterError, match='nginx_lb_preflight: the input lacks backends, backend_port'):
        FILTERS['nginx_lb_preflight']({k: v for k, v in nginx_lb_input().items() if not k.startswith('backend')
                                       or k == 'backend_group'})


# Conversions as Ansible's filters make them -------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    (80, 80), ('80', 80), ('80.7', 80), (80.7, 80), (True, 1), ('http', 0), (None, 0), ('', 0), (float('inf'), 0),
])
def test_to_int(value, expected):
    assert to_int(value) == expected


@pytest.mark.parametrize('value, expected', [
    (True, True), ('yes', True), ('True', True), ('on', True), ('1', True), (1, True),
    (False, False), ('no', False), ('false', False), (0, False), ('maybe', False), (None, False), ([], False),
])
def test_to_bool(value, expected):
    assert to_bool(value) is expected


@pytest.mark.parametrize('vip', ['198.51.100.140', '198.51.100.140/24', '198.51.100.140/0', '198.51.100.140/32',
                                 '2001:db8::140', '2001:db8::140/64', '2001:db8::140/128', 'fe80::1%host0'])
def test_vip_accepted(vip):
    assert parse_vip(vip) is not None


@pytest.mark.parametrize('vip', ['', 'lb-vip', '198.51.100.140/', '198.51.100.140/x', '198.51.100.140/1234',
                                 '198.51.100.140/33', '2001:db8::140/129', '198.051.100.140', '256.1.1.1',
                                 '198.51.100.140/24 dev host0', ' 198.51.100.140', '198.51.100.140/255.255.255.0', 3232235776])
def test_vip_rejected(vip):
    assert parse_vip(vip) is None


def _health(interval, version):
    return keepalived_input(health_check={'enabled': True, 'mode': 'http', 'behaviour': 'restart_then_fault',
                                          'interval': interval, 'fall': 2, 'rise': 2, 'keepalived_version': version,
                                          'script_path': '/etc/keepalived/check_nginx.sh'})


@pytest.mark.parametrize('interval, version', [
    (1, '2.2.7'), (2, '2.2.7'), ('3', ''), (1.0, '2.2.8'),
    (0.5, '2.3.3'), (0.1, '2.3.0'), ('0.25', '2.3.3'), (1.5, '2.3.3'), (0.125, '2.4'),
])
def test_health_check_interval_accepted_by_the_keepalived_it_renders_for(interval, version):
    assert keepalived(_health(interval, version)) == []


@pytest.mark.parametrize('interval, version, message', [
    (0.5, '2.2.7', 'keepalived_health_check_interval=0.5 is not valid: keepalived 2.2.7 reads only whole seconds, 1 '
                   'or more (decimals from 0.1 need keepalived 2.3, as Debian 13 ships; set keepalived_version'),
    (1.5, '', 'keepalived_health_check_interval=1.5 is not valid: keepalived before 2.3 reads only whole seconds'),
    (0, '2.2.7', 'keepalived_health_check_interval=0 is not valid: keepalived 2.2.7 reads only whole seconds'),
    (0.05, '2.3.3', 'keepalived_health_check_interval=0.05 is not valid: with keepalived 2.3.3 it must be a number '
                    'of seconds, 0.1 or more, with at most 3 decimals.'),
    (0.1234, '2.3.3', 'keepalived_health_check_interval=0.1234 is not valid: with keepalived 2.3.3'),
    ('often', '2.3.3', "keepalived_health_check_interval=often is not valid"),
])
def test_health_check_interval_refused_with_the_version_and_the_fix(interval, version, message):
    errors = keepalived(_health(interval, version))
    assert len(errors) == 1 and message in errors[0], errors
