# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Addresses a host already uses never become a VIP or a wrong unicast peer; every configuration value is checked."""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight import (
    keepalived_preflight,
    nginx_lb_preflight,
    nginx_web_preflight,
)
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight_settings import (
    KINDS,
    SETTINGS,
    check_settings,
    check_vrrp_scripts,
    problem,
)

ROLES = pathlib.Path(__file__).resolve().parents[4] / 'roles'
SECRET = 'labpass1'
INSTANCE = {
    'name': 'VI_WEB', 'virtual_router_id': 80, 'advert_int': 1,
    'nodes': {'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}},
    'authentication': {'auth_type': 'PASS', 'auth_pass': SECRET},
    'virtual_ipaddresses': ['198.51.100.140/24'],
}


def facts(address, secondaries=(), lo_secondaries=(), gateway=None, ipv6=()):
    """Network facts of a guest with one NIC, host0, as ansible's setup reports them."""
    result = {
        'interfaces': ['lo', 'host0'],
        'host0': {'ipv4': {'address': address, 'netmask': '255.255.255.0', 'network': '198.51.100.0'},
                  'ipv4_secondaries': [{'address': a, 'netmask': '255.255.255.0'} for a in secondaries],
                  'ipv6': [{'address': a, 'prefix': '64', 'scope': 'global'} for a in ipv6]},
        'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0', 'network': '127.0.0.0'},
               'ipv4_secondaries': [{'address': a, 'netmask': '255.255.255.255'} for a in lo_secondaries]},
    }
    if gateway:
        result['default_ipv4'] = {'gateway': gateway, 'interface': 'host0'}
    return result


def cluster(host='lb-1', instances=None, host_facts=None, others=None, settings=None):
    """lb-1/lb-2 with web-1, web-2 (facts gathered) and the client (inventory address only)."""
    instances = copy.deepcopy(instances if instances is not None else [INSTANCE])
    hosts = {
        'lb-1': {'ansible_host': '198.51.100.21', 'facts': facts('198.51.100.21')},
        'lb-2': {'ansible_host': '198.51.100.22', 'facts': facts('198.51.100.22')},
        'web-1': {'ansible_host': '198.51.100.11', 'facts': facts('198.51.100.11')},
        'web-2': {'ansible_host': '198.51.100.12', 'facts': facts('198.51.100.12')},
        'client': {'ansible_host': '198.51.100.31'},
    }
    hosts.update(others or {})
    for name in ('lb-1', 'lb-2'):
        hosts[name]['keepalived_instances'] = copy.deepcopy(instances)
    own = hosts[host].pop('facts') if host_facts is None else host_facts
    hosts[host].pop('facts', None)
    return {
        'host': host, 'os_family': 'Debian', 'supported_os_families': ['Debian', 'RedHat'], 'group': 'lb',
        'group_members': ['lb-1', 'lb-2'], 'play_members': ['lb-1', 'lb-2'], 'instances': instances,
        'interface': 'host0', 'facts': own, 'hosts': hosts,
        'health_check': {'enabled': True, 'mode': 'http', 'behaviour': 'restart_then_fault', 'interval': 1,
                         'fall': 2, 'rise': 2, 'script_path': '/etc/keepalived/check_nginx.sh'},
        'settings': settings or {},
    }


def with_vips(*vips, **changes):
    return [dict(copy.deepcopy(INSTANCE), virtual_ipaddresses=list(vips), **changes)]


@pytest.mark.parametrize('host', ['lb-1', 'lb-2'])
def test_the_lab_is_fine(host):
    assert keepalived_preflight(cluster(host)) == []


def test_a_vip_held_now_is_not_taken_for_a_host_address():
    # A re-run: the master holds the VIP on host0 and its copy on lo, the backup its copy on lo.
    master = facts('198.51.100.21', secondaries=['198.51.100.140'], lo_secondaries=['198.51.100.140'])
    backup = {'lb-2': {'ansible_host': '198.51.100.22', 'facts': facts('198.51.100.22',
                                                                       lo_secondaries=['198.51.100.140'])}}
    assert keepalived_preflight(cluster('lb-1', host_facts=master, others=backup)) == []
    data = cluster('lb-2', others={'lb-1': {'ansible_host': '198.51.100.21', 'facts': master}})
    assert keepalived_preflight(data) == []


@pytest.mark.parametrize('vip, where', [
    ('198.51.100.22/24', 'lb-2: its ansible_host; lb-2: an address of its interface host0'),
    ('198.51.100.21/24', 'lb-1: its ansible_host; lb-1: an address of its interface host0'),
    ('198.51.100.11', 'web-1: its ansible_host; web-1: an address of its interface host0'),
    ('198.51.100.31/24', 'client: its ansible_host'),
])
def test_a_vip_that_a_host_uses_is_refused(vip, where):
    problems = [p for p in keepalived_preflight(cluster(instances=with_vips(vip))) if 'cannot be a VIP' in p]
    assert len(problems) == 1, problems
    assert problems[0].startswith('keepalived_instances[VI_WEB].virtual_ipaddresses: %s cannot be a VIP' % vip)
    assert where in problems[0]
    assert 'Use a free address of the subnet' in problems[0]


def test_a_backend_address_seen_only_in_its_facts_is_refused():
    # web-2 answers on a second address of the subnet that the inventory does not name.
    others = {'web-2': {'ansible_host': '198.51.100.12', 'facts': facts('198.51.100.12', secondaries=['198.51.100.150'])}}
    problems = keepalived_preflight(cluster(instances=with_vips('198.51.100.150/24'), others=others))
    assert len(problems) == 1 and 'web-2: an address of its interface host0' in problems[0], problems


def test_a_secondary_of_a_balancer_that_is_no_vip_still_counts():
    others = {'lb-2': {'ansible_host': '198.51.100.22', 'facts': facts('198.51.100.22', secondaries=['198.51.100.150'])}}
    data = cluster(instances=[INSTANCE, dict(copy.deepcopy(INSTANCE), name='VI_B', virtual_router_id=81,
                                             virtual_ipaddresses=['198.51.100.151/24'])], others=others)
    assert keepalived_preflight(data) == []


@pytest.mark.parametrize('vip, reason', [
    ('198.51.100.1/24', 'lb-1: its default gateway'),
    ('198.51.100.0/24', 'network or broadcast address of 198.51.100.0/24'),
    ('198.51.100.255/24', 'network or broadcast address of 198.51.100.0/24'),
    ('224.0.0.18', 'unspecified, loopback, multicast or link-local'),
    ('0.0.0.0', 'unspecified, loopback, multicast or link-local'),
    ('fe80::140/64', 'unspecified, loopback, multicast or link-local'),
])
def test_reserved_and_gateway_addresses_are_refused(vip, reason):
    data = cluster(instances=with_vips(vip), host_facts=facts('198.51.100.21', gateway='198.51.100.1'))
    problems = [p for p in keepalived_preflight(data) if 'cannot be a VIP' in p]
    assert len(problems) == 1 and reason in problems[0], problems


def test_a_vip_claimed_by_two_instances_is_refused_once():
    second = dict(copy.deepcopy(INSTANCE), name='VI_B', virtual_router_id=81)
    problems = keepalived_preflight(cluster(instances=[INSTANCE, second]))
    assert problems == ['keepalived_instances[VI_WEB].virtual_ipaddresses: 198.51.100.140/24 cannot be a VIP: the '
                        'instances VI_WEB, VI_B all claim it. Use a free address of the subnet that no host, gateway '
                        'or other instance uses.']


def test_a_unicast_source_of_another_balancer_is_refused():
    instance = copy.deepcopy(INSTANCE)
    instance['nodes']['lb-1']['address'] = '198.51.100.22'
    instance['nodes']['lb-2']['address'] = '198.51.100.21'
    problems = keepalived_preflight(cluster(instances=[instance]))
    assert problems == [
        'keepalived_instances[VI_WEB].nodes[lb-1].address (default: its ansible_host)=198.51.100.22 is not an address '
        "of lb-1 itself (it has 198.51.100.21): keepalived could not send from it. Set the node's address to one of "
        "lb-1's own addresses.",
        'keepalived_instances[VI_WEB].nodes[lb-2].address (default: its ansible_host)=198.51.100.21 is not an address '
        "of lb-2 (it has 198.51.100.22): lb-1 would send its adverts to the wrong host. Set that node's address to "
        "one of lb-2's own addresses."]


def test_a_unicast_source_that_is_a_vip_is_refused():
    problems = keepalived_preflight(cluster(instances=with_vips('198.51.100.140/24', unicast_src_ip='198.51.100.140'),
                                            host_facts=facts('198.51.100.21', secondaries=['198.51.100.140'])))
    assert len(problems) == 1 and problems[0].startswith(
        'keepalived_instances[VI_WEB].unicast_src_ip=198.51.100.140 is not an address of lb-1 itself') \
        and 'and it is a VIP' in problems[0], problems


def test_a_peer_without_facts_is_checked_against_the_others():
    # --limit lb-1: lb-2's facts were not gathered; its address must at least not be lb-1's own.
    instance = copy.deepcopy(INSTANCE)
    instance['nodes']['lb-2']['address'] = '198.51.100.21'
    data = cluster(instances=[instance])
    del data['hosts']['lb-2']['facts']
    problems = keepalived_preflight(data)
    assert len(problems) == 1 and 'it is a VIP or belongs to lb-1: its ansible_host' in problems[0], problems
    instance['nodes']['lb-2']['address'] = '198.51.100.22'
    data = cluster(instances=[instance])
    del data['hosts']['lb-2']['facts']
    assert keepalived_preflight(data) == []


def test_ipv6_addresses_are_compared_too():
    others = {'web-1': {'ansible_host': '198.51.100.11', 'facts': facts('198.51.100.11', ipv6=['2001:db8::11'])}}
    problems = keepalived_preflight(cluster(instances=with_vips('198.51.100.140/24', '2001:db8::11/64'), others=others))
    assert len(problems) == 1 and '2001:db8::11/64 cannot be a VIP' in problems[0], problems


def test_no_address_message_shows_the_secret():
    instance = copy.deepcopy(INSTANCE)
    instance['nodes']['lb-1']['address'] = '198.51.100.22'
    instance['virtual_ipaddresses'] = ['198.51.100.12/24']
    problems = keepalived_preflight(cluster(instances=[instance]))
    assert len(problems) == 2 and not [p for p in problems if SECRET in p]


# Settings ------------------------------------------------------------------------------------

VALID = {
    'port': [1, '8080', 65535], 'count': [0, '3'], 'positive': [1, '64'], 'workers': ['auto', 2, '4'],
    'nginx_time': ['30s', '500ms', '1m30s', 60, '10'], 'nginx_size': ['64k', '1m', 1024],
    'word': ['web_backends', 'director-1'], 'unit': ['nginx', 'nginx@lb.service'],
    'server_names': ['_', 'example.com www.example.com', '~^www\\d+$'], 'location': ['/healthz', '/-/ready'],
    'access_log': ['off', '/var/log/nginx/access.log', 'syslog:server=unix:/dev/log', 'stderr'],
    'error_log': ['/var/log/nginx/error.log', 'stderr'], 'root': ['', '/srv/www'],
    'absolute_path': ['/etc/keepalived/check.sh'], 'url': ['http://127.0.0.1/healthz', 'https://[::1]:8443/x'],
    'next_upstream': ['error timeout', 'off', 'error timeout http_502 non_idempotent'],
    'headers': [{}, {'X-Served-By': 'lb-1', 'X-Count': 3}], 'nginx_value': ['$remote_addr', '$host$uri'],
    'listen_address': ['', '*', '198.51.100.140', '[2001:db8::1]', '2001:db8::1'], 'user': ['root', 'keepalived_script'],
    'raw_lines': [[], ['vrrp_garp_master_delay 1', 'notification_email { ops@example.com }']],
    'weight': [0, -253, '253', 10], 'seconds': [1, 0.5, '2', '1.5'], 'wait_seconds': [0, '2'],
    'delay': [0, '0', 5, 2.5, '1.5'], 'tag': ['ha-lb-keepalived', 'kad_1.x'],
    'listen': [':9113', '127.0.0.1:9113', '[::1]:9113'],
    'tls_protocols': [['TLSv1.2', 'TLSv1.3'], ['TLSv1.3']], 'tls_session_cache': ['shared:ha_lb_tls:10m', 'off', 'none'],
    'days': [0, 21, '30'], 'nginx_version': ['', '1.22.1', '1.26'], 'keepalived_version': ['', '2.2.7', '2.3'],
    'health_targets': [[], ['http://127.0.0.1/healthz', 'https://127.0.0.1:8443/healthz', 'tcp://127.0.0.1:5432',
                            'tcp://[::1]:5432']],
}
INVALID = {
    'port': [0, 65536, 'http', True, None], 'count': [-1, '1.5', 'x', True], 'positive': [0, '-1', '', None],
    'workers': ['many', 0], 'nginx_time': ['30 s', '30sec', '', '-1s', True, 1.5],
    'nginx_size': ['64 k', '1t', ''], 'word': ['', 'two words', 'semi;colon', 'br{ace', 'quo"te', "it's", 'a#b', None],
    'unit': ['', 'a b', 'x;y'], 'server_names': ['', '   ', 'a;b', 'a {b}'], 'location': ['healthz', '/a b', '/a;'],
    'access_log': ['relative.log', '/var/log/a b.log', 'on', ''], 'error_log': ['off', 'x.log', ''],
    'root': ['www', '/a b'], 'absolute_path': ['check.sh', '/a b', ''], 'url': ['ftp://x', 'http://a b', '127.0.0.1'],
    'next_upstream': ['', 'error off', 'http_999', 'error;timeout'],
    'headers': [[], {'Bad Name': 'x'}, {'X': 'a"b'}, {'X': 'a\nb'}, {'X': None}, {'X': True}],
    'nginx_value': ['', 'a;b', 'a{', 'x\ny'], 'listen_address': ['vip', '198.51.100.300', '0.0.0.0/0'],
    'user': ['Root', 'a b', '', '1x'], 'raw_lines': ['line', [''], ['a\nb'], ['open {'], [3]],
    'weight': [254, -254, '1.5', True], 'seconds': [0, '-1', 'x', True, '1e3'], 'wait_seconds': [-1, '1.5', None],
    'delay': [-1, '-0.5', 'x', True, None, '5s'], 'tag': ['', 'a b', 'x' * 33, 3, None, 'a;b'],
    'listen': ['9113', ':0', 'host:9113', ':70000', None, '1.2.3.4:'],
    'tls_protocols': [[], ['TLSv1'], 'TLSv1.2', ['SSLv3', 'TLSv1.3']], 'tls_session_cache': ['builtin', 'shared:x', ''],
    'days': [-1, 'x', None], 'nginx_version': ['latest', '1', 1.22], 'keepalived_version': ['2', 2.3, 'v2.3.3'],
    'health_targets': ['http://127.0.0.1/', ['ftp://x/'], ['tcp://127.0.0.1'], ['tcp://a b:1'], ["http://x/'"]],
}


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_every_kind_accepts_and_refuses(kind):
    for value in VALID[kind]:
        assert problem('v', value, kind) is None, (kind, value)
    for value in INVALID[kind]:
        message = problem('v', value, kind)
        assert message and message.startswith('v=') and 'Fix it in the inventory.' in message, (kind, value)
        assert 'e.g. ' in message


def test_a_message_names_the_variable_the_value_the_rule_and_the_fix():
    assert check_settings('nginx_lb', {'nginx_lb_proxy_read_timeout': '30 seconds'}) == [
        "nginx_lb_proxy_read_timeout='30 seconds' is not valid: it must be an nginx time: digits with an optional unit "
        'ms, s, m, h, d, w, M or y, without blanks (e.g. 30s). Fix it in the inventory.']


def _defaults(role):
    return yaml.safe_load((ROLES / role / 'defaults' / 'main.yml').read_text())


# Variables with checks of their own (or that reach no configuration file).
OWN_CHECKS = {
    'nginx_web': {'nginx_web_package_state', 'nginx_web_port', 'nginx_web_root', 'nginx_web_page_content'},
    'nginx_lb': {'nginx_lb_package_state', 'nginx_lb_listen_port', 'nginx_lb_listen_ipv6', 'nginx_lb_backend_group',
                 'nginx_lb_backend_port', 'nginx_lb_backends', 'nginx_lb_method', 'nginx_lb_hash_consistent',
                 'nginx_lb_proxy_buffering', 'nginx_lb_services', 'nginx_lb_pools', 'nginx_lb_tls_session_tickets',
                 'nginx_lb_drained_backends', 'nginx_lb_access_log_format', 'nginx_lb_metrics_enabled'},
    'keepalived': {'keepalived_package_state', 'keepalived_group', 'keepalived_interface', 'keepalived_instances',
                   'keepalived_vrrp_scripts', 'keepalived_health_check_enabled', 'keepalived_health_check_mode',
                   'keepalived_health_check_fail_fast',
                   'keepalived_health_check_behaviour', 'keepalived_health_check_interval',
                   'keepalived_health_check_fall', 'keepalived_health_check_rise', 'keepalived_loopback_vips',
                   'keepalived_notify_enabled', 'keepalived_metrics_enabled', 'keepalived_vrrp_scan',
                   'keepalived_firewall_enabled',
                   # Checked by the switchover's plan (plugin_utils/switchover.py) when it runs.
                   'keepalived_switchover_host', 'keepalived_switchover_state', 'keepalived_switchover_instances'},
}


@pytest.mark.parametrize('role', sorted(SETTINGS))
def test_every_variable_of_a_role_has_a_check(role):
    defaults = set(_defaults(role))
    assert set(SETTINGS[role]) | OWN_CHECKS[role] == defaults


@pytest.mark.parametrize('role', sorted(SETTINGS))
def test_the_defaults_pass(role):
    values = {name: value for name, value in _defaults(role).items() if '{{' not in str(value)}
    assert check_settings(role, values) == []


def test_the_roles_pass_their_settings_to_the_checks():
    web = {'os_family': 'Debian', 'supported_os_families': ['Debian'], 'port': 80, 'page_content': 'x', 'root': '',
           'settings': {'nginx_web_worker_processes': 'lots'}}
    assert [p.split('=')[0] for p in nginx_web_preflight(web)] == ['nginx_web_worker_processes']
    lb = {'os_family': 'Debian', 'supported_os_families': ['Debian'], 'listen_port': 80, 'method': 'round_robin',
          'methods': ['round_robin'], 'backend_group': 'web', 'group_backends': [], 'backend_port': 80,
          'backends': [{'address': 'web-1', 'weight': 0, 'fail_timeout': '5 s'}],
          'settings': {'nginx_lb_upstream_name': 'two words'}}
    assert [p.split('=')[0] for p in nginx_lb_preflight(lb)] == [
        'nginx_lb_backends[web-1].weight', 'nginx_lb_backends[web-1].fail_timeout', 'nginx_lb_upstream_name']
    web['settings'] = {}
    web['root'] = '/srv/my www'
    assert [p.split('=')[0] for p in nginx_web_preflight(web)] == ['nginx_web_root']


@pytest.mark.parametrize('changes, message', [
    ({'advert_int': 0}, 'keepalived_instances[VI_WEB].advert_int=0 is not valid: it must be with VRRP version 2, a '
                        'whole number of seconds 1-255.'),
    ({'advert_int': 0.5}, 'advert_int=0.5 is not valid: it must be with VRRP version 2'),
    ({'advert_int': 41, 'vrrp_version': 3, 'authentication': None}, 'with VRRP version 3, 0.01-40.95 seconds'),
    ({'preempt_delay': 1001}, 'keepalived_instances[VI_WEB].preempt_delay=1001 is not valid'),
    ({'track_scripts': ['chk_db']}, "keepalived_instances[VI_WEB].track_scripts=['chk_db'] names vrrp_scripts that "
                                    'are not defined (chk_db): use the names of keepalived_vrrp_scripts or of the '
                                    'enabled health check (chk_nginx).'),
    ({'notify_master': '/bin/notify "x"'}, 'keepalived_instances[VI_WEB].notify_master=\'/bin/notify "x"\' is not valid'),
    ({'name': 'VI WEB'}, "keepalived_instances[0].name='VI WEB' is not valid"),
    ({'name': 'VI/WEB'}, 'the instance name VI/WEB may hold only letters, digits, _, . and -'),
    ({'interface': 'host0;'}, "keepalived_instances[VI_WEB].interface='host0;' is not valid"),
])
def test_instance_values(changes, message):
    instance = dict(copy.deepcopy(INSTANCE), **changes)
    if instance.get('authentication') is None:
        instance.pop('authentication', None)
    data = cluster(instances=[instance], settings={'keepalived_health_check_name': 'chk_nginx'})
    problems = [p for p in keepalived_preflight(data) if 'interface \'host0;\' does not exist' not in p]
    assert len(problems) == 1 and message in problems[0], problems


def test_valid_instance_values():
    instance = dict(copy.deepcopy(INSTANCE), advert_int=0.5, vrrp_version=3, preempt_delay=30,
                    track_scripts=['chk_db', 'chk_nginx'], notify='/usr/local/bin/notify.sh')
    del instance['authentication']
    data = cluster(instances=[instance], settings={
        'keepalived_health_check_name': 'chk_nginx',
        'keepalived_vrrp_scripts': [{'name': 'chk_db', 'script': '/usr/local/bin/check_db.sh', 'interval': 2,
                                     'weight': -20}]})
    assert keepalived_preflight(data) == []


def test_vrrp_scripts():
    assert check_vrrp_scripts([], 'chk_nginx') == []
    problems = check_vrrp_scripts([{'name': 'chk_nginx', 'script': '/x'}, {'name': 'a b'}, 'nope',
                                   {'name': 'chk_db', 'script': '/x', 'interval': 0, 'weight': 300}], 'chk_nginx')
    assert [p.split(' ', 1)[0] for p in problems] == [
        "keepalived_vrrp_scripts[0].name='chk_nginx'", "keepalived_vrrp_scripts[1].name='a",
        'keepalived_vrrp_scripts[1].script=unset', "keepalived_vrrp_scripts[2]='nope'",
        'keepalived_vrrp_scripts[3].interval=0', 'keepalived_vrrp_scripts[3].weight=300']
    assert check_vrrp_scripts('x', 'chk_nginx')[0].startswith("keepalived_vrrp_scripts='x' is not valid")


@pytest.mark.parametrize('secret', ['ab cd', 'a"b', 'a#b', 'x!y', 'a{b'])
def test_a_secret_keepalived_cannot_read_is_refused_without_showing_it(secret):
    instance = dict(copy.deepcopy(INSTANCE), authentication={'auth_type': 'PASS', 'auth_pass': secret})
    problems = keepalived_preflight(cluster(instances=[instance]))
    assert len(problems) == 1 and 'auth_pass holds a blank, a quote' in problems[0], problems
    assert secret not in problems[0]


def test_global_defs_extra_does_not_repeat_a_setting_of_its_own():
    problems = keepalived_preflight(cluster(settings={'keepalived_global_defs_extra': [
        'vrrp_garp_master_refresh 60', 'vrrp_garp_interval 0.001', 'vrrp_startup_delay 5']}))
    assert problems == [
        'keepalived_global_defs_extra sets vrrp_garp_master_refresh, which the role writes from '
        'keepalived_garp_master_refresh: set that variable instead and remove the line.',
        'keepalived_global_defs_extra sets vrrp_startup_delay, which the role writes from '
        'keepalived_vrrp_startup_delay: set that variable instead and remove the line.']
    assert keepalived_preflight(cluster(settings={'keepalived_vrrp_startup_delay': '-1'})) == [
        "keepalived_vrrp_startup_delay='-1' is not valid: it must be a number of seconds, 0 or more (decimals "
        'allowed) (e.g. 5). Fix it in the inventory.']


def test_an_http_health_check_with_nothing_to_ask_is_refused():
    data = cluster()
    data['health_check'] = dict(data['health_check'], targets=[])
    assert keepalived_preflight(data) == [
        'keepalived_health_check_targets: every service of nginx_lb_services has health_check off, so the http '
        'health check would ask nothing: turn health_check on for a service, list targets in '
        'keepalived_health_check_targets, or set keepalived_health_check_mode: process.']
    data['health_check'] = dict(data['health_check'], targets=['http://127.0.0.1/healthz'])
    assert keepalived_preflight(data) == []
