# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The roles' templates rendered with the Debian and RedHat variables and the inventories' values."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible.template import Templar, trust_as_template

from _render import ROLES, load_yaml, render, role_vars

OS_FAMILIES = ('Debian', 'RedHat')
# The single-server variables alone: inventories/local's services and pools left out.
FLAT = {'nginx_lb_services': [], 'nginx_lb_pools': {}}
STAND_IN_SECRET = 'stand-in'


def _blocks_balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {'{': 1, '}': -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith('#')]


# nginx_web -----------------------------------------------------------------

@pytest.mark.parametrize(('os_family', 'user', 'root', 'modules'), [
    ('Debian', 'www-data', '/var/www/html', '/etc/nginx/modules-enabled/*.conf'),
    ('RedHat', 'nginx', '/usr/share/nginx/html', '/usr/share/nginx/modules/*.conf'),
])
def test_web_conf_uses_the_os_values(os_family, user, root, modules):
    conf = render('nginx_web', 'nginx.conf.j2', role_vars('nginx_web', os_family, 'local', host='web-1'))
    lines = _lines(conf)
    assert f'user {user};' in lines
    assert f'root {root};' in lines
    assert f'include {modules};' in lines
    assert 'include /etc/nginx/mime.types;' in lines
    assert 'listen 80 default_server reuseport;' in lines
    assert 'worker_processes auto;' in lines
    assert _blocks_balanced(conf)


def test_web_conf_follows_port_and_root_variables():
    variables = role_vars('nginx_web', 'Debian', 'local', host='web-2', nginx_web_port=8080, nginx_web_root='/srv/www')
    lines = _lines(render('nginx_web', 'nginx.conf.j2', variables))
    assert 'listen 8080 default_server reuseport;' in lines
    assert 'root /srv/www;' in lines


def test_web_page_names_the_host():
    variables = role_vars('nginx_web', 'Debian', 'local', host='web-2')
    page = Templar(variables=variables).template(trust_as_template('{{ nginx_web_page_content }}'))
    assert page.strip() == 'Served by web-2'


# nginx_lb ------------------------------------------------------------------

@pytest.mark.parametrize('os_family', OS_FAMILIES)
def test_lb_upstream_holds_the_web_group(os_family):
    conf = render('nginx_lb', 'nginx.conf.j2', role_vars('nginx_lb', os_family, 'local', host='lb-1'))
    lines = _lines(conf)
    assert 'server 198.51.100.11:80 max_fails=1 fail_timeout=10s;' in lines
    assert 'server 198.51.100.12:80 max_fails=1 fail_timeout=10s;' in lines
    assert 'user {};'.format('www-data' if os_family == 'Debian' else 'nginx') in lines
    assert _blocks_balanced(conf)


def test_lb_defaults_are_tuned_for_throughput():
    lines = _lines(render('nginx_lb', 'nginx.conf.j2', role_vars('nginx_lb', 'Debian', 'local')))
    for expected in ('worker_processes auto;', 'worker_rlimit_nofile 32768;', 'worker_connections 8192;',
                     'zone web_backends 64k;', 'keepalive 64;', 'proxy_http_version 1.1;',
                     'proxy_set_header Connection "";', 'proxy_set_header X-Real-IP $remote_addr;',
                     'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;', 'proxy_set_header Host $host;',
                     'proxy_next_upstream error timeout http_502 http_503 http_504;',
                     'access_log /var/log/nginx/access.log combined buffer=64k flush=5s;'):
        assert expected in lines, expected
    # Round robin is nginx's default: no method directive.
    assert not {'least_conn;', 'ip_hash;'} & set(lines)


@pytest.mark.parametrize(('method', 'directive'), [
    ('least_conn', 'least_conn;'),
    ('ip_hash', 'ip_hash;'),
    ('hash', 'hash $request_uri consistent;'),
])
def test_lb_methods(method, directive):
    variables = role_vars('nginx_lb', 'Debian', 'local', **FLAT, nginx_lb_method=method,
                          nginx_lb_hash_key='$request_uri', nginx_lb_hash_consistent=True)
    assert directive in _lines(render('nginx_lb', 'nginx.conf.j2', variables))


def test_lb_explicit_backends_and_keepalive_off():
    variables = role_vars('nginx_lb', 'RedHat', 'local', **FLAT, nginx_lb_upstream_keepalive=0, nginx_lb_backends=[
        {'address': '10.0.0.5', 'port': 8080, 'weight': 3},
        {'address': '10.0.0.6', 'backup': True, 'max_fails': 3, 'fail_timeout': '5s'},
    ])
    lines = _lines(render('nginx_lb', 'nginx.conf.j2', variables))
    assert 'server 10.0.0.5:8080 weight=3 max_fails=1 fail_timeout=10s;' in lines
    assert 'server 10.0.0.6:80 max_fails=3 fail_timeout=5s backup;' in lines
    assert not any(line.startswith('keepalive ') for line in lines)
    assert not any('198.51.100.11' in line for line in lines)


def test_lb_binding_the_vip_needs_nonlocal_bind_and_keeps_loopback():
    variables = role_vars('nginx_lb', 'Debian', 'local', **FLAT, nginx_lb_listen_address='198.51.100.140')
    lines = _lines(render('nginx_lb', 'nginx.conf.j2', variables))
    assert 'listen 198.51.100.140:80 reuseport;' in lines
    assert 'listen 127.0.0.1:80 reuseport;' in lines
    templar = Templar(variables=variables)
    assert templar.template(trust_as_template('{{ __nginx_lb_nonlocal_bind | bool }}')) is True
    assert templar.template(trust_as_template('{{ __nginx_lb_nonlocal_bind_keys }}')) == ['net.ipv4.ip_nonlocal_bind']


def test_lb_on_every_address_needs_no_nonlocal_bind():
    templar = Templar(variables=role_vars('nginx_lb', 'Debian', 'local', **FLAT))
    assert templar.template(trust_as_template('{{ __nginx_lb_nonlocal_bind_keys }}')) == []


# keepalived ----------------------------------------------------------------

@pytest.mark.parametrize('os_family', OS_FAMILIES)
@pytest.mark.parametrize(('host', 'router_id', 'state', 'priority', 'src', 'peer'), [
    ('lb-1', 'director1', 'MASTER', 100, '198.51.100.21', '198.51.100.22'),
    ('lb-2', 'director2', 'BACKUP', 50, '198.51.100.22', '198.51.100.21'),
])
def test_keepalived_conf_holds_the_local_inventory(os_family, host, router_id, state, priority, src, peer):
    conf = render('keepalived', 'keepalived.conf.j2', role_vars('keepalived', os_family, 'local', host=host))
    lines = _lines(conf)
    for expected in (f'router_id {router_id}', 'enable_script_security', 'script_user root',
                     'vrrp_instance VI_WEB {', f'state {state}', 'interface host0', 'virtual_router_id 80',
                     f'priority {priority}', 'advert_int 1', 'version 2', 'auth_type PASS', 'auth_pass labpass1',
                     f'unicast_src_ip {src}', peer, '198.51.100.140/24 dev host0', 'chk_nginx',
                     'script "/etc/keepalived/check_nginx.sh"', 'interval 1', 'fall 2', 'rise 2', 'weight 0'):
        assert expected in lines, expected
    assert 'nopreempt' not in lines
    assert _blocks_balanced(conf)


def test_keepalived_conf_holds_the_reference_lab_inventory():
    # The lab's secret is vaulted; rendering needs no password once a stand-in replaces it.
    variables = role_vars('keepalived', 'Debian', 'lab', host='lb-2', vault_keepalived_auth_pass=STAND_IN_SECRET)
    lines = _lines(render('keepalived', 'keepalived.conf.j2', variables))
    for expected in ('router_id director2', 'state BACKUP', 'priority 50', 'interface ens33', 'virtual_router_id 80',
                     'advert_int 1', f'auth_pass {STAND_IN_SECRET}', 'unicast_src_ip 192.168.58.22', '192.168.58.21',
                     '192.168.58.140/24 dev ens33'):
        assert expected in lines, expected


def test_keepalived_several_instances_one_master_each():
    instances = [
        {'name': 'VI_A', 'virtual_router_id': 51, 'virtual_ipaddresses': ['198.51.100.140/24'],
         'nodes': {'lb-1': {'state': 'MASTER', 'priority': 100}, 'lb-2': {'state': 'BACKUP', 'priority': 50}}},
        {'name': 'VI_B', 'virtual_router_id': 52, 'virtual_ipaddresses': ['198.51.100.141/24', '2001:db8::141/64'],
         'vrrp_version': 3, 'nopreempt': True, 'preempt_delay': 5, 'notify_master': '/usr/local/bin/became-master',
         'nodes': {'lb-1': {'state': 'BACKUP', 'priority': 50}, 'lb-2': {'state': 'BACKUP', 'priority': 100}}},
    ]
    conf = render('keepalived', 'keepalived.conf.j2',
                  role_vars('keepalived', 'RedHat', 'local', host='lb-2', keepalived_instances=instances))
    blocks = dict(re.findall(r'vrrp_instance (\w+) \{(.*?)\n\}', conf, flags=re.S))
    assert set(blocks) == {'VI_A', 'VI_B'}
    assert 'state BACKUP' in blocks['VI_A'] and 'priority 50' in blocks['VI_A']
    assert 'priority 100' in blocks['VI_B'] and 'version 3' in blocks['VI_B']
    assert 'nopreempt' in blocks['VI_B'] and 'preempt_delay 5' in blocks['VI_B']
    assert 'notify_master "/usr/local/bin/became-master"' in blocks['VI_B']
    # VRRP advertises one address family: the IPv6 VIP of an IPv4 instance is excluded.
    excluded = re.search(r'virtual_ipaddress_excluded \{(.*?)\}', blocks['VI_B'], flags=re.S).group(1)
    assert '2001:db8::141/64 dev host0' in excluded and '198.51.100.141' not in excluded
    assert 'authentication' not in blocks['VI_A']
    assert _blocks_balanced(conf)


def test_keepalived_multicast_and_explicit_interface():
    instances = [{'name': 'VI_M', 'virtual_router_id': 9, 'unicast': False, 'interface': 'eth1',
                  'virtual_ipaddresses': ['10.1.1.10/24'], 'track_scripts': [],
                  'nodes': {'lb-1': {'state': 'MASTER', 'priority': 200, 'interface': 'bond0'},
                            'lb-2': {'state': 'BACKUP', 'priority': 100}}}]
    lines = _lines(render('keepalived', 'keepalived.conf.j2',
                          role_vars('keepalived', 'Debian', 'local', host='lb-1', keepalived_instances=instances)))
    assert 'interface bond0' in lines
    assert not any(line.startswith('unicast') for line in lines)
    assert 'track_script {' not in lines


@pytest.mark.parametrize('os_family', OS_FAMILIES)
@pytest.mark.parametrize('mode', ['http', 'process'])
@pytest.mark.parametrize('behaviour', ['restart_then_fault', 'restart_then_stop'])
@pytest.mark.parametrize('fail_fast', [True, False])
def test_health_script_modes_and_behaviours(os_family, mode, behaviour, fail_fast):
    variables = role_vars('keepalived', os_family, 'local', keepalived_health_check_mode=mode,
                          keepalived_health_check_behaviour=behaviour, keepalived_health_check_fail_fast=fail_fast)
    script = render('keepalived', 'check_nginx.sh.j2', variables)
    assert script.startswith('#!/bin/sh\n')
    if mode == 'http':
        # The local inventory's services, each on the loopback address (the default targets follow them).
        assert ('/usr/bin/curl --silent --fail --fail-early --max-time 1 --insecure --output /dev/null http://127.0.0.1:80/healthz '
                '--output /dev/null https://127.0.0.1:443/healthz || return 1') in script
        assert 'pgrep' not in script
    else:
        assert '/usr/bin/pgrep -x nginx >/dev/null' in script
        assert 'curl' not in script
    start = 'if ! /usr/bin/systemctl start' if fail_fast else '/usr/bin/systemctl start'
    assert f'/usr/bin/systemctl reset-failed "$SERVICE" >/dev/null 2>&1\n{start} "$SERVICE"' in script
    assert ('/usr/bin/systemctl --no-block stop keepalived' in script) == (behaviour == 'restart_then_stop')
    assert ('\nFAIL_FAST=1\n' in script) == fail_fast
    # With restart_then_fault, a start that fails writes 1 to the file keepalived tracks; healthy, 0 again.
    tracked = fail_fast and behaviour == 'restart_then_fault'
    assert ('echo 1 > "$CANNOT_START"' in script) == tracked and ('healthy && { cleared; exit 0; }' in script) == tracked
    conf = _lines(render('keepalived', 'keepalived.conf.j2', variables))
    assert ('file "/run/keepalived-chk_nginx.cannot-start"' in conf) == tracked
    assert sum('chk_nginx_cannot_start' in line for line in conf) == (2 if tracked else 0)
    assert script.rstrip().endswith('exit 1')


def test_health_script_timeout_covers_the_restart():
    conf = render('keepalived', 'keepalived.conf.j2', role_vars('keepalived', 'Debian', 'local',
                                                                keepalived_health_check_targets=[],
                                                                nginx_lb_services=[]))
    # start_wait 2 s + one 1 s check + 1 s margin.
    assert 'timeout 4' in _lines(conf)


def _health_body(variables):
    script = render('keepalived', 'check_nginx.sh.j2', variables)
    return script.split('healthy() {\n', 1)[1].split('\n}', 1)[0].splitlines()


def test_health_script_follows_the_balancers_services():
    # inventories/local: plain HTTP on 80, HTTPS on 443 with its redirect on 80, a stream service on 8081.
    variables = role_vars('keepalived', 'Debian', 'local', host='lb-2')
    # One curl for every URL (the first that fails ends it), then every socket.
    assert _health_body(variables) == [
        '    /usr/bin/curl --silent --fail --fail-early --max-time 1 --insecure --output /dev/null http://127.0.0.1:80/healthz '
        '--output /dev/null https://127.0.0.1:443/healthz || return 1',
        '    listening 127.0.0.1 8081 2>/dev/null']
    # start_wait 2 s + 1 s for each of the three targets + 1 s margin.
    assert 'timeout 6' in _lines(render('keepalived', 'keepalived.conf.j2', variables))
    # A service added to nginx_lb_services is checked with no change to keepalived's variables; one with
    # health_check off is not; the balancer's own health location is used.
    services = variables['nginx_lb_services'] + [
        {'name': 'api', 'port': 8443, 'tls': {'certificate': 'x', 'key': 'y'}, 'pool': 'web_backends'},
        {'name': 'quiet', 'port': 8082, 'pool': 'web_backends', 'health_check': False}]
    body = _health_body(role_vars('keepalived', 'Debian', 'local', host='lb-2', nginx_lb_services=services,
                                  nginx_lb_health_location='/lb-health'))
    assert [url for line in body if 'curl' in line for url in re.findall(r'https?://\S+', line)] == [
        'http://127.0.0.1:80/lb-health', 'https://127.0.0.1:443/lb-health', 'https://127.0.0.1:8443/lb-health']
    assert not any('8082' in line for line in body)
    # A list of the operator's own replaces the derived one; no services: the check's URL alone.
    assert _health_body(role_vars('keepalived', 'Debian', 'local', keepalived_health_check_targets=[
        'http://127.0.0.1:81/x'])) == [
        '    /usr/bin/curl --silent --fail --fail-early --max-time 1 --output /dev/null http://127.0.0.1:81/x']
    assert _health_body(role_vars('keepalived', 'Debian', 'local', nginx_lb_services=[])) == [
        '    /usr/bin/curl --silent --fail --fail-early --max-time 1 --output /dev/null http://127.0.0.1/healthz']


def test_the_derived_health_location_is_nginx_lbs_default():
    # Without nginx_lb_health_location in the inventory the keepalived role assumes nginx_lb's default.
    location = load_yaml(ROLES / 'nginx_lb' / 'defaults' / 'main.yml')['nginx_lb_health_location']
    variables = role_vars('keepalived', 'Debian', 'local')
    assert 'nginx_lb_health_location' not in variables
    assert ' --output /dev/null http://127.0.0.1:80%s ' % location in _health_body(variables)[0]


@pytest.mark.parametrize(('os_family', 'packages'), [('Debian', ['keepalived', 'curl']), ('RedHat', ['keepalived'])])
def test_keepalived_packages_per_os(os_family, packages):
    templar = Templar(variables=role_vars('keepalived', os_family, 'local'))
    assert templar.template(trust_as_template('{{ __keepalived_install_packages }}')) == packages


@pytest.mark.parametrize(('address', 'key'), [
    ('198.51.100.140', 'net.ipv4.ip_nonlocal_bind'),
    ('2001:db8::140', 'net.ipv6.ip_nonlocal_bind'),
])
def test_nonlocal_bind_sysctl_file(address, key):
    variables = role_vars('nginx_lb', 'Debian', 'local', **FLAT, nginx_lb_listen_address=address)
    assert f'{key} = 1' in _lines(render('nginx_lb', 'nonlocal_bind.conf.j2', variables))


def _tls_services(pki):
    return [{'name': 'web', 'pool': 'web_backends'},
            {'name': 'www', 'server_names': ['www.lab.test'], 'pool': 'web_backends',
             'tls': {'certificate': pki.chain, 'key': pki.key, 'redirect_http': True, 'hsts': True}},
            {'name': 'tcp', 'mode': 'stream', 'port': 8081, 'pool': 'tcp', 'proxy_protocol': True}]


@pytest.mark.parametrize(('os_family', 'major', 'http2'), [
    ('Debian', '12', ('listen 443 ssl http2 default_server reuseport;', None)),
    ('Debian', '13', ('listen 443 ssl default_server reuseport;', 'http2 on;')),
])
def test_lb_renders_https_stream_and_the_http2_syntax_of_the_release(os_family, major, http2):
    from tls_fixtures import Pki
    pki = Pki(names=('www.lab.test',))
    variables = role_vars('nginx_lb', os_family, 'local', nginx_lb_services=_tls_services(pki),
                          nginx_lb_pools={'tcp': {'backend_group': 'web', 'port': 80}})
    variables['ansible_facts']['distribution_major_version'] = major
    conf = render('nginx_lb', 'nginx.conf.j2', variables)
    lines = _lines(conf)
    listen, directive = http2
    assert listen in lines
    assert ('http2 on;' in lines) == (directive is not None)
    for expected in ('listen 80 default_server reuseport;', 'listen 80;', 'server_name www.lab.test;',
                     'ssl_certificate /etc/nginx/tls/www.crt;', 'ssl_certificate_key /etc/nginx/tls/www.key;',
                     'ssl_protocols TLSv1.2 TLSv1.3;', 'ssl_session_tickets off;', 'return 301 https://$host$request_uri;',
                     'add_header Strict-Transport-Security "max-age=31536000" always;', 'listen 8081 reuseport;',
                     'proxy_pass tcp;', 'proxy_protocol on;', 'zone tcp_stream 64k;',
                     'server 198.51.100.11:80 max_fails=1 fail_timeout=10s;'):
        assert expected in lines, expected
    assert _blocks_balanced(conf)
    # The certificate files come first: nginx -t on the new nginx.conf reads them.
    files = Templar(variables=variables).template(trust_as_template('{{ __nginx_lb_files }}'))
    assert [(f['dest'], f['mode'], f.get('diff')) for f in files] == [
        ('/etc/nginx/tls/www.crt', '0644', True), ('/etc/nginx/tls/www.key', '0600', False),
        ('/etc/nginx/nginx.conf', '0644', None)]
    key = render('nginx_lb', 'tls.pem.j2', dict(variables, item=files[1]))
    assert key == pki.key.strip() + '\n'


def _listening_function(script: str) -> str:
    """The health script's listening() function, with the path of ss, as a shell snippet."""
    start = script.index('listening() {')
    return script[start:script.index('\n}\n', start) + 3]


@pytest.mark.parametrize('family', [socket.AF_INET, socket.AF_INET6])
def test_health_script_listening_reads_the_kernels_listeners(family):
    """tcp:// targets: a listener on the port (wildcard or the address itself) passes, nothing listening or
    a listener on another address fails, and the check never connects (no session reaches a backend)."""
    variables = role_vars('keepalived', 'Debian', 'local', keepalived_health_check_targets=['tcp://127.0.0.1:5432'])
    function = _listening_function(render('keepalived', 'check_nginx.sh.j2', variables))
    if not shutil.which('ss'):
        pytest.skip('no ss (iproute2) on this machine')
    function = function.replace('/usr/bin/ss', shutil.which('ss'))
    loopback = '127.0.0.1' if family == socket.AF_INET else '::1'

    def listening(host: str, port: int) -> int:
        return subprocess.run(['sh', '-c', function + f'listening {host} {port}'], check=False).returncode

    try:
        server = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        pytest.skip('no IPv6 on this machine')
    with server:
        try:
            server.bind((loopback, 0))
        except OSError:
            pytest.skip('no IPv6 loopback on this machine')
        port = server.getsockname()[1]
        # Bound but not listening: no.
        assert listening(loopback, port) == 1
        server.listen()
        assert listening(loopback, port) == 0
        if family == socket.AF_INET:
            # A name is resolved, as a tcp:// target may name its host.
            assert listening('localhost', port) == 0
        # Listening on the loopback address only: another address is not served.
        other = '198.51.100.77' if family == socket.AF_INET else '2001:db8::77'
        assert listening(other, port) == 1
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert listening(loopback, port) == 1
    wildcard = socket.socket(family, socket.SOCK_STREAM)
    with wildcard:
        wildcard.bind(('0.0.0.0' if family == socket.AF_INET else '::', 0))
        wildcard.listen()
        assert listening(loopback, wildcard.getsockname()[1]) == 0


def test_health_script_checks_every_target_in_turn():
    variables = role_vars('keepalived', 'Debian', 'local', keepalived_health_check_targets=[
        'http://127.0.0.1/healthz', 'https://127.0.0.1:8443/healthz', 'tcp://127.0.0.1:5432'])
    script = render('keepalived', 'check_nginx.sh.j2', variables)
    body = script.split('healthy() {\n', 1)[1].split('\n}', 1)[0].splitlines()
    assert body == [
        '    /usr/bin/curl --silent --fail --fail-early --max-time 1 --insecure --output /dev/null http://127.0.0.1/healthz '
        '--output /dev/null https://127.0.0.1:8443/healthz || return 1',
        '    listening 127.0.0.1 5432 2>/dev/null']
    conf = render('keepalived', 'keepalived.conf.j2', variables)
    # start_wait 2 s + 1 s for each of the three targets + 1 s margin.
    assert 'timeout 6' in _lines(conf)


def test_a_drained_backend_is_written_down_in_every_upstream():
    conf = render('nginx_lb', 'nginx.conf.j2', role_vars('nginx_lb', 'Debian', 'local',
                                                         nginx_lb_drained_backends=['web-2']))
    lines = _lines(conf)
    # The web pool (http) and the TCP pass-through's pool (stream) of inventories/local.
    assert lines.count('server 198.51.100.12:80 max_fails=1 fail_timeout=10s down;') == 2
    assert lines.count('server 198.51.100.11:80 max_fails=1 fail_timeout=10s;') == 2


def test_gratuitous_arps_and_the_startup_delay_in_global_defs():
    lines = _lines(render('keepalived', 'keepalived.conf.j2', role_vars('keepalived', 'Debian', 'local')))
    # keepalived's own defaults, written out; no startup delay.
    for expected in ('vrrp_garp_master_delay 5', 'vrrp_garp_master_repeat 5', 'vrrp_garp_master_refresh 0',
                     'vrrp_garp_master_refresh_repeat 1'):
        assert expected in lines
    assert not [line for line in lines if line.startswith('vrrp_startup_delay')]
    lines = _lines(render('keepalived', 'keepalived.conf.j2', role_vars(
        'keepalived', 'Debian', 'local', keepalived_garp_master_refresh=60, keepalived_vrrp_startup_delay=2.5)))
    assert 'vrrp_garp_master_refresh 60' in lines and 'vrrp_startup_delay 2.5' in lines
    assert lines.index('vrrp_startup_delay 2.5') < lines.index('}')


def test_the_fail_fast_file_is_tracked_only_by_instances_that_track_the_health_check():
    instances = [dict(instance, track_scripts=['chk_other']) if instance['name'] == 'VI_WEB' else instance
                 for instance in role_vars('keepalived', 'Debian', 'local')['keepalived_instances']]
    conf = render('keepalived', 'keepalived.conf.j2', role_vars(
        'keepalived', 'Debian', 'local', keepalived_instances=instances,
        keepalived_vrrp_scripts=[{'name': 'chk_other', 'script': '/usr/local/bin/chk_other'}]))
    instance = conf.split('vrrp_instance VI_WEB', 1)[1]
    assert 'chk_other' in instance and 'chk_nginx_cannot_start' not in instance
    # The block itself is still there for the script to write to.
    assert 'track_file chk_nginx_cannot_start {' in _lines(conf)


def _notify_script(tmp_path, **overrides):
    """The notify script rendered for the local lab, its state directory and logger moved to tmp_path."""
    variables = role_vars('keepalived', 'Debian', 'local', __keepalived_state_dir=str(tmp_path / 'state'),
                          keepalived_log_tag='ha-lb-test', **overrides)
    script = tmp_path / 'notify.sh'
    script.write_text(render('keepalived', 'notify.sh.j2', variables))
    # A stand-in logger on the PATH records what would reach syslog.
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'logger').write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/syslog\n')
    (bin_dir / 'logger').chmod(0o755)
    return script, {'PATH': f'{bin_dir}:/usr/bin:/bin'}


def test_the_notify_script_records_each_transition_and_runs_the_instances_own_notify(tmp_path):
    script, env = _notify_script(tmp_path)
    for state in ('BACKUP', 'MASTER'):
        done = subprocess.run(['bash', str(script), 'INSTANCE', 'VI_WEB', state, '100'], env=env, check=False)
        assert done.returncode == 0
    # The last state, alone on its line (what vip_owner reads), and no temporary file left.
    assert (tmp_path / 'state' / 'VI_WEB.state').read_text() == 'MASTER\n'
    assert sorted(p.name for p in (tmp_path / 'state').iterdir()) == [
        '.VI_WEB.lock', '.VI_WEB.order', 'VI_WEB.state', 'VI_WEB.transitions']
    # Two transitions so far, the last one's time, the priority keepalived passed.
    count, when, priority = (tmp_path / 'state' / 'VI_WEB.transitions').read_text().split()
    assert count == '2' and priority == '100' and abs(float(when) - time.time()) < 60
    assert (tmp_path / 'syslog').read_text().splitlines() == [
        '-t ha-lb-test -p daemon.notice vrrp instance VI_WEB state BACKUP priority 100',
        '-t ha-lb-test -p daemon.notice vrrp instance VI_WEB state MASTER priority 100']
    # An instance's own notify command: keepalived passes it first; it runs with the four arguments.
    own = tmp_path / 'own.sh'
    own.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/own.out\n')
    own.chmod(0o755)
    done = subprocess.run(['bash', str(script), str(own), '--flag', 'INSTANCE', 'VI_WEB', 'FAULT', '100'], env=env,
                          check=False)
    assert done.returncode == 0 and (tmp_path / 'own.out').read_text() == '--flag INSTANCE VI_WEB FAULT 100\n'
    assert (tmp_path / 'state' / 'VI_WEB.state').read_text() == 'FAULT\n'
    # A sync group is logged, not written as an instance's state; a name that is no file name is refused.
    subprocess.run(['bash', str(script), 'GROUP', 'G1', 'MASTER', '0'], env=env, check=True)
    assert not (tmp_path / 'state' / 'G1.state').exists()
    assert subprocess.run(['bash', str(script), 'INSTANCE', '../x', 'MASTER', '0'], env=env, check=False).returncode == 1
    assert subprocess.run(['bash', str(script), 'too', 'few'], env=env, check=False).returncode == 0


def _hold_back(tmp_path):
    """A stand-in mkdir on the notify script's PATH that sleeps HOLD_BACK seconds first: a run so held
    has started (its place in keepalived's order is set) but has read and written nothing yet."""
    real = shutil.which('mkdir')
    held = tmp_path / 'bin' / 'mkdir'
    held.write_text(f'#!/bin/sh\nsleep "${{HOLD_BACK:-0}}"\nexec {real} "$@"\n')
    held.chmod(0o755)


def _held_run(script, env, state, priority, hold=1.0):
    """A notify run held back before its first step, with its start time (field 22 of /proc/PID/stat)."""
    run = subprocess.Popen(['bash', str(script), 'INSTANCE', 'VI_WEB', state, priority],
                           env={**env, 'HOLD_BACK': str(hold)})
    time.sleep(0.2)
    stat = Path(f'/proc/{run.pid}/stat').read_text()
    return run, int(stat.rsplit(') ', 1)[1].split()[19])


def test_a_notify_run_older_than_the_last_writer_only_counts_its_transition(tmp_path):
    script, env = _notify_script(tmp_path)
    _hold_back(tmp_path)
    state = tmp_path / 'state'
    boot = Path('/proc/sys/kernel/random/boot_id').read_text().strip()

    def transitions():
        count, when, priority = (state / 'VI_WEB.transitions').read_text().split()
        return int(count), when, priority

    # The run that writes notes its place in keepalived's order: the boot, its start, its PID.
    run, start = _held_run(script, env, 'MASTER', '100')
    assert run.wait(timeout=30) == 0
    assert (state / '.VI_WEB.order').read_text() == f'{boot} {start} {run.pid}\n'
    assert (state / 'VI_WEB.state').read_text() == 'MASTER\n'
    count, when, priority = transitions()
    assert (count, priority) == (1, '100')
    # A run keepalived started after this one wrote its state first (same boot, a later start): this
    # run's BACKUP is an older transition, counted, logged as such, not written over the newer MASTER,
    # which keeps its time and priority.
    (state / '.VI_WEB.order').write_text(f'{boot} {2 ** 62} 1\n')
    subprocess.run(['bash', str(script), 'INSTANCE', 'VI_WEB', 'BACKUP', '50'], env=env, check=True)
    assert (state / 'VI_WEB.state').read_text() == 'MASTER\n'
    assert transitions() == (2, when, '100')
    assert (state / '.VI_WEB.order').read_text() == f'{boot} {2 ** 62} 1\n'
    assert (tmp_path / 'syslog').read_text().splitlines()[-1] == (
        '-t ha-lb-test -p daemon.notice vrrp instance VI_WEB state BACKUP priority 50'
        ' (older than the state written, not written)')
    # Two runs started in one clock tick: the higher PID is the later one.
    run, start = _held_run(script, env, 'FAULT', '0')
    (state / '.VI_WEB.order').write_text(f'{boot} {start} {run.pid + 1}\n')
    assert run.wait(timeout=30) == 0
    assert (state / 'VI_WEB.state').read_text() == 'MASTER\n' and transitions()[0] == 3
    run, start = _held_run(script, env, 'FAULT', '0')
    (state / '.VI_WEB.order').write_text(f'{boot} {start} {run.pid - 1}\n')
    assert run.wait(timeout=30) == 0
    assert (state / 'VI_WEB.state').read_text() == 'FAULT\n'
    assert (state / '.VI_WEB.order').read_text() == f'{boot} {start} {run.pid}\n'
    assert transitions()[0] == 4 and transitions()[2] == '0'
    # The last writer ran in an earlier boot (a state directory that outlived a reboot): this run writes.
    (state / '.VI_WEB.order').write_text(f'another-boot {2 ** 62} 1\n')
    subprocess.run(['bash', str(script), 'INSTANCE', 'VI_WEB', 'BACKUP', '50'], env=env, check=True)
    assert (state / 'VI_WEB.state').read_text() == 'BACKUP\n'
    # An order file that is not one (emptied or edited by hand): the run writes.
    for text in ('\n', f'{boot} 08 x\n'):
        (state / '.VI_WEB.order').write_text(text)
        subprocess.run(['bash', str(script), 'INSTANCE', 'VI_WEB', 'FAULT', '0'], env=env, check=True)
        assert (state / 'VI_WEB.state').read_text() == 'FAULT\n'
        (state / 'VI_WEB.state').write_text('BACKUP\n')
    assert transitions()[0] == 7


def test_overlapping_notify_runs_leave_the_latest_transition_when_they_finish_out_of_order(tmp_path):
    # keepalived starts a run per transition without waiting for the one before. Here the older run
    # (BACKUP) is held back before its first step, so the newer run (MASTER), started after it,
    # finishes first: the older one must count its transition and leave MASTER.
    script, env = _notify_script(tmp_path)
    _hold_back(tmp_path)
    older, _start = _held_run(script, env, 'BACKUP', '50', hold=3)
    newer = subprocess.run(['bash', str(script), 'INSTANCE', 'VI_WEB', 'MASTER', '100'], env=env, check=False)
    assert newer.returncode == 0 and older.poll() is None, 'the older run finished first: the test proves nothing'
    assert (tmp_path / 'state' / 'VI_WEB.state').read_text() == 'MASTER\n'
    assert older.wait(timeout=30) == 0
    assert (tmp_path / 'state' / 'VI_WEB.state').read_text() == 'MASTER\n'
    count, _when, priority = (tmp_path / 'state' / 'VI_WEB.transitions').read_text().split()
    assert (count, priority) == ('2', '100')


def test_every_instance_runs_the_notify_script_and_keeps_its_own_notify():
    instances = [dict(instance, notify='/usr/local/bin/page-me --now', notify_master='/usr/local/bin/m')
                 for instance in role_vars('keepalived', 'Debian', 'local')['keepalived_instances']]
    lines = _lines(render('keepalived', 'keepalived.conf.j2', role_vars(
        'keepalived', 'Debian', 'local', keepalived_instances=instances)))
    assert 'notify "/etc/keepalived/notify.sh /usr/local/bin/page-me --now"' in lines
    assert 'notify_master "/usr/local/bin/m"' in lines
    assert len([line for line in lines if line.startswith('notify ')]) == 1
    lines = _lines(render('keepalived', 'keepalived.conf.j2', role_vars(
        'keepalived', 'Debian', 'local', keepalived_instances=instances, keepalived_notify_enabled=False)))
    assert 'notify "/usr/local/bin/page-me --now"' in lines
    assert not [line for line in lines if 'notify.sh' in line]


def _log_format(conf: str, name: str) -> str:
    """The format string of one log_format directive, its quoted pieces joined as nginx joins them."""
    directive = conf.split(f'log_format {name} escape=json ', 1)[1].split(';\n', 1)[0]
    return ''.join(re.findall(r"'([^']*)'", directive))


def test_the_json_access_log_is_one_json_object_per_request_and_session():
    from tls_fixtures import Pki
    pki = Pki(names=('www.lab.test',))
    variables = role_vars('nginx_lb', 'Debian', 'local', nginx_lb_access_log_format='json',
                          nginx_lb_services=_tls_services(pki), nginx_lb_pools={'tcp': {'backend_group': 'web', 'port': 80}})
    conf = render('nginx_lb', 'nginx.conf.j2', variables)
    lines = _lines(conf)
    assert 'access_log /var/log/nginx/access.log ha_lb_json buffer=64k flush=5s;' in lines
    assert 'access_log /var/log/nginx/access.log ha_lb_stream_json buffer=64k flush=5s;' in lines
    assert _blocks_balanced(conf)
    # With every variable replaced by a value of its kind, each format is a JSON object.
    for name, fields in (('ha_lb_json', ('upstream_addr', 'upstream_response_time', 'request_time', 'status')),
                         ('ha_lb_stream_json', ('upstream_addr', 'session_time', 'status'))):
        sample = re.sub(r'"\$[a-z_0-9]+"', '"x"', _log_format(conf, name))
        sample = re.sub(r'\$[a-z_0-9]+', '1', sample)
        record = json.loads(sample)
        assert set(fields) <= set(record), (name, record)
    # The default stays nginx's combined format, and off stays off.
    plain = _lines(render('nginx_lb', 'nginx.conf.j2', role_vars('nginx_lb', 'Debian', 'local')))
    assert 'access_log /var/log/nginx/access.log combined buffer=64k flush=5s;' in plain
    assert not [line for line in plain if line.startswith('log_format')]
    off = _lines(render('nginx_lb', 'nginx.conf.j2', role_vars(
        'nginx_lb', 'Debian', 'local', nginx_lb_access_log='off', nginx_lb_access_log_format='json')))
    assert 'access_log off;' in off and not [line for line in off if line.startswith('log_format')]


def _metrics(tmp_path, pid: int, started: float) -> dict:
    """Run the rendered metrics writer against files under tmp_path, keepalived (pid) started at ``started``;
    its samples by name and labels."""
    import os
    for name in ('state', 'out', 'maintenance'):
        (tmp_path / name).mkdir(exist_ok=True)
    (tmp_path / 'keepalived.pid').write_text(f'{pid}\n')
    os.utime(tmp_path / 'keepalived.pid', (started, started))
    variables = role_vars('keepalived', 'Debian', 'local', keepalived_metrics_enabled=True,
                          __keepalived_state_dir=str(tmp_path / 'state'),
                          __keepalived_pid_file=str(tmp_path / 'keepalived.pid'),
                          keepalived_maintenance_dir=str(tmp_path / 'maintenance'),
                          keepalived_metrics_textfile_dir=str(tmp_path / 'out'))
    script = tmp_path / 'metrics.py'
    script.write_text(render('keepalived', 'keepalived-metrics.py.j2', variables))
    subprocess.run([sys.executable, str(script)], check=True)
    text = (tmp_path / 'out' / 'ha_lb_keepalived.prom').read_text()
    samples = {}
    for line in text.splitlines():
        if not line.startswith('#'):
            name, value = line.rsplit(' ', 1)
            samples[name] = float(value)
    # Every family's samples follow its HELP and TYPE lines, as the text format wants.
    families = [line.split()[2] for line in text.splitlines() if line.startswith('# TYPE')]
    assert len(families) == len(set(families))
    return samples


def test_the_metrics_report_keepalived_state_and_never_a_stale_master(tmp_path):
    import os
    state = tmp_path / 'state'
    state.mkdir()
    (tmp_path / 'maintenance').mkdir()
    (state / 'VI_WEB.state').write_text('MASTER\n')
    (state / 'VI_WEB.transitions').write_text('3 1764900000.5 100\n')
    (state / 'chk_nginx.status').write_text('1\n')
    # keepalived runs (this test's own pid). A state written before it started is not trusted.
    os.utime(state / 'VI_WEB.state', (time.time() - 100, time.time() - 100))
    samples = _metrics(tmp_path, os.getpid(), started=time.time() - 50)
    assert samples['ha_lb_keepalived_up'] == 1
    assert samples['ha_lb_keepalived_vrrp_state{vrrp_instance="VI_WEB",state="unknown"}'] == 1
    assert samples['ha_lb_keepalived_vrrp_state{vrrp_instance="VI_WEB",state="MASTER"}'] == 0
    # Written since it started: the state it reports.
    os.utime(state / 'VI_WEB.state')
    (tmp_path / 'maintenance' / 'VI_WEB').write_text('1\n')
    samples = _metrics(tmp_path, os.getpid(), started=time.time() - 50)
    assert samples['ha_lb_keepalived_vrrp_state{vrrp_instance="VI_WEB",state="MASTER"}'] == 1
    assert samples['ha_lb_keepalived_vrrp_state{vrrp_instance="VI_WEB",state="BACKUP"}'] == 0
    assert samples['ha_lb_keepalived_vrrp_transitions_total{vrrp_instance="VI_WEB"}'] == 3
    assert samples['ha_lb_keepalived_vrrp_priority{vrrp_instance="VI_WEB"}'] == 100
    assert samples['ha_lb_keepalived_maintenance{vrrp_instance="VI_WEB"}'] == 1
    assert samples['ha_lb_keepalived_health_check_ok{check="chk_nginx"}'] == 0
    assert abs(samples['ha_lb_keepalived_metrics_timestamp_seconds'] - time.time()) < 60
    # keepalived died after writing MASTER: STOP, never the stale MASTER.
    gone = subprocess.Popen(['true'])
    gone.wait()
    samples = _metrics(tmp_path, gone.pid, started=time.time() - 50)
    assert samples['ha_lb_keepalived_up'] == 0
    assert samples['ha_lb_keepalived_vrrp_state{vrrp_instance="VI_WEB",state="STOP"}'] == 1
    assert samples['ha_lb_keepalived_vrrp_state{vrrp_instance="VI_WEB",state="MASTER"}'] == 0


def test_the_vrrp_firewall_accepts_vrrp_from_the_peers_only():
    lines = _lines(render('keepalived', 'vrrp-firewall.nft.j2', role_vars(
        'keepalived', 'Debian', 'local', keepalived_firewall_enabled=True)))
    assert lines[lines.index('table inet ha_lb_vrrp'):][:2] == ['table inet ha_lb_vrrp', 'delete table inet ha_lb_vrrp']
    assert 'iifname "host0" meta l4proto 112 ip saddr { 198.51.100.22 } accept' in lines
    assert lines[-3:] == ['meta l4proto 112 counter name vrrp_dropped drop', '}', '}']
    assert not [line for line in lines if 'flush' in line]
    # Multicast instances accept the VRRP groups; AH joins VRRP when an instance authenticates with it.
    instances = [dict(instance, unicast=False, authentication={'auth_type': 'AH', 'auth_pass': 'x'})
                 for instance in role_vars('keepalived', 'Debian', 'local')['keepalived_instances']]
    lines = _lines(render('keepalived', 'vrrp-firewall.nft.j2', role_vars(
        'keepalived', 'Debian', 'local', keepalived_firewall_enabled=True, keepalived_instances=instances)))
    assert 'iifname "host0" meta l4proto { 112, 51 } ip daddr 224.0.0.18 accept' in lines
    assert 'iifname "host0" meta l4proto { 112, 51 } ip6 daddr ff02::12 accept' in lines
    assert 'meta l4proto { 112, 51 } counter name vrrp_dropped drop' in lines
