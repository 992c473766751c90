# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nginx_lb's services and pools: what nginx.conf is rendered from, and every problem with the input."""

from __future__ import annotations

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.services import build, group_backends
from tls_fixtures import NOW, Pki

SETTINGS = {
    'nginx_lb_listen_port': 80, 'nginx_lb_listen_address': '', 'nginx_lb_listen_ipv6': False,
    'nginx_lb_server_name': '_', 'nginx_lb_health_location': '/healthz', 'nginx_lb_upstream_name': 'web_backends',
    'nginx_lb_backend_group': 'web', 'nginx_lb_backend_port': 80, 'nginx_lb_backends': [],
    'nginx_lb_method': 'round_robin', 'nginx_lb_hash_key': '$remote_addr', 'nginx_lb_hash_consistent': False,
    'nginx_lb_max_fails': 1, 'nginx_lb_fail_timeout': '10s',
    'nginx_lb_proxy_next_upstream': 'error timeout http_502 http_503 http_504', 'nginx_lb_proxy_next_upstream_tries': 0,
    'nginx_lb_proxy_connect_timeout': '1s', 'nginx_lb_proxy_read_timeout': '30s', 'nginx_lb_proxy_send_timeout': '30s',
    'nginx_lb_proxy_buffering': True, 'nginx_lb_response_headers': {}, 'nginx_lb_upstream_keepalive': 64,
    'nginx_lb_upstream_keepalive_requests': 10000, 'nginx_lb_upstream_keepalive_timeout': '60s',
    'nginx_lb_tls_expiry_warning_days': 21,
}
GROUPS = {'web': [{'host': 'web-1', 'address': '198.51.100.11', 'port': None},
                  {'host': 'web-2', 'address': '198.51.100.12', 'port': 8080}],
          'db': [{'host': 'db-1', 'address': '198.51.100.41', 'port': None}]}


@pytest.fixture(scope='module')
def pki():
    return Pki(names=('www.lab.test', 'lab.test'))


def data(services=(), pools=None, tls=None, version='1.22.1', **settings):
    return {'services': list(services), 'pools': pools or {}, 'settings': dict(SETTINGS, **settings),
            'groups': GROUPS, 'tls': tls or {}, 'tls_dir': '/etc/nginx/tls', 'nginx_version': version, 'now': NOW}


def ok(*args, **kwargs):
    model, errors, warnings = build(data(*args, **kwargs))
    assert errors == [], errors
    return model


def errors_of(*args, **kwargs):
    return build(data(*args, **kwargs))[1]


def https(pki, **changes):
    service = {'name': 'www', 'server_names': ['www.lab.test'], 'pool': 'web',
               'tls': {'certificate': pki.chain, 'key': pki.key, 'redirect_http': True}}
    service.update(changes)
    return service


POOLS = {'web': {'backend_group': 'web'}, 'db': {'backend_group': 'db', 'port': 5432, 'method': 'least_conn'}}


def test_without_services_one_http_service_as_before():
    model = ok()
    [service] = model['http_services']
    assert service['listens'] == ['80 default_server reuseport'] and service['server_names'] == ['_']
    assert service['implicit'] and [loc['pool'] for loc in service['locations']] == ['web_backends']
    [pool] = model['http_pools']
    assert [(s['address'], s['port']) for s in pool['servers']] == [('198.51.100.11', 80), ('198.51.100.12', 8080)]
    assert model['stream_services'] == [] and model['tls'] is False and model['tls_files'] == []


def test_a_specific_address_is_bound_with_its_loopback_copy():
    model = ok(nginx_lb_listen_address='198.51.100.140')
    assert model['http_services'][0]['listens'] == ['198.51.100.140:80 reuseport', '127.0.0.1:80 reuseport']
    assert model['nonlocal_bind_keys'] == ['net.ipv4.ip_nonlocal_bind']
    v6 = ok(nginx_lb_listen_address='2001:db8::140')
    assert v6['http_services'][0]['listens'] == ['[2001:db8::140]:80 reuseport', '[::1]:80 reuseport']
    assert v6['nonlocal_bind_keys'] == ['net.ipv6.ip_nonlocal_bind']


def test_https_with_redirect_and_http2_on_nginx_1_22(pki):
    model = ok([https(pki)], POOLS, tls={'www': {'certificate': pki.chain, 'key': pki.key}})
    [service] = model['http_services']
    assert service['listens'] == ['443 ssl http2 default_server reuseport']
    assert service['redirect_listens'] == ['80 default_server reuseport']
    assert service['http2_directive'] is False
    assert model['tls_files'] == [
        {'service': 'www', 'kind': 'certificate', 'dest': '/etc/nginx/tls/www.crt', 'mode': '0644', 'diff': True},
        {'service': 'www', 'kind': 'key', 'dest': '/etc/nginx/tls/www.key', 'mode': '0600', 'diff': False}]
    assert [p['name'] for p in model['http_pools']] == ['web'] and model['tls'] is True


def test_http2_is_a_directive_from_nginx_1_25_1(pki):
    model = ok([https(pki)], POOLS, tls={'www': {'certificate': pki.chain, 'key': pki.key}}, version='1.26.3')
    assert model['http_services'][0]['listens'] == ['443 ssl default_server reuseport']
    assert model['http_services'][0]['http2_directive'] is True


def test_a_stream_service_and_a_pool_shared_by_two_services(pki):
    services = [https(pki), {'name': 'db', 'mode': 'stream', 'port': 5432, 'pool': 'db', 'proxy_protocol': True},
                {'name': 'api', 'port': 8080,
                 'locations': [{'path': '/', 'pool': 'web'}, {'path': '/v2', 'pool': 'web', 'proxy_read_timeout': '5s'}]}]
    model = ok(services, POOLS, tls={'www': {'certificate': pki.chain, 'key': pki.key}})
    [stream] = model['stream_services']
    assert stream['listens'] == ['5432 reuseport'] and stream['proxy_protocol'] is True
    [db] = model['stream_pools']
    assert db['method'] == 'least_conn' and [(s['address'], s['port']) for s in db['servers']] == [('198.51.100.41', 5432)]
    api = model['http_services'][1]
    assert [loc['proxy_read_timeout'] for loc in api['locations']] == ['30s', '5s']
    assert [p['name'] for p in model['http_pools']] == ['web']


def test_explicit_backends_with_their_own_settings():
    pools = {'app': {'backends': [{'address': '10.0.0.1', 'port': 81, 'weight': 3},
                                  {'address': '10.0.0.2', 'backup': True, 'max_fails': 0}], 'port': 82}}
    model = ok([{'name': 'app', 'pool': 'app'}], pools)
    servers = model['http_pools'][0]['servers']
    assert [(s['address'], s['port'], s['weight'], s['backup'], s['max_fails']) for s in servers] == [
        ('10.0.0.1', 81, 3, False, 1), ('10.0.0.2', 82, None, True, 0)]


def test_name_based_virtual_hosts_share_a_port():
    services = [{'name': 'a', 'server_names': ['a.lab.test'], 'pool': 'web'},
                {'name': 'b', 'server_names': ['b.lab.test'], 'pool': 'web'}]
    model = ok(services, POOLS)
    assert [s['listens'] for s in model['http_services']] == [['80 default_server reuseport'], ['80']]


@pytest.mark.parametrize('services, message', [
    ([{'name': 'a', 'pool': 'web'}, {'name': 'b', 'pool': 'web'}],
     'nginx_lb_services[a] and nginx_lb_services[b] both listen on every address port 80: give one of them another '
     'port or address, or give them server_names of their own'),
    ([{'name': 'a', 'pool': 'web', 'port': 5432}, {'name': 'db', 'mode': 'stream', 'port': 5432, 'pool': 'db'}],
     'nginx_lb_services[a] and nginx_lb_services[db] both listen on every address port 5432: give one of them '
     'another port or address (a port is plain HTTP, HTTPS or one stream service).'),
    ([{'name': 'a', 'pool': 'web', 'listen_address': '198.51.100.140'}, {'name': 'b', 'pool': 'web'}],
     'nginx_lb_services[a] and nginx_lb_services[b] both listen on every address port 80'),
    ([{'name': 'a', 'server_names': ['a.lab.test'], 'pool': 'web'},
      {'name': 'b', 'server_names': ['A.lab.test'], 'pool': 'web'}], 'both listen on every address port 80'),
])
def test_colliding_ports(services, message):
    assert any(message in e for e in errors_of(services, POOLS)), errors_of(services, POOLS)


def test_a_redirect_port_collides_with_a_service_of_the_same_name(pki):
    errors = errors_of([https(pki), {'name': 'plain', 'server_names': ['www.lab.test'], 'pool': 'web'}], POOLS,
                       tls={'www': {'certificate': pki.chain, 'key': pki.key}})
    assert errors == ['nginx_lb_services[www] and nginx_lb_services[plain] both listen on every address port 80: give '
                      'one of them another port or address, or give them server_names of their own (virtual hosts on '
                      'one port need distinct names, and at most one of them the catch-all _).']


def test_a_catch_all_is_the_default_server_of_a_shared_port(pki):
    model = ok([https(pki), {'name': 'plain', 'pool': 'web'}], POOLS,
               tls={'www': {'certificate': pki.chain, 'key': pki.key}})
    www, plain = model['http_services']
    assert www['redirect_listens'] == ['80'] and plain['listens'] == ['80 default_server reuseport']
    assert www['listens'] == ['443 ssl http2 default_server reuseport']
    plain_on_vip = {'name': 'plain', 'pool': 'web', 'listen_address': '198.51.100.140'}
    on_vip = ok([https(pki, listen_address='198.51.100.140'), plain_on_vip], POOLS,
                tls={'www': {'certificate': pki.chain, 'key': pki.key}})
    assert on_vip['http_services'][1]['listens'] == ['198.51.100.140:80 default_server reuseport',
                                                     '127.0.0.1:80 default_server reuseport']
    assert on_vip['http_services'][0]['redirect_listens'] == ['198.51.100.140:80', '127.0.0.1:80']


@pytest.mark.parametrize('services, pools, message', [
    ([{'name': 'a', 'pool': 'nosuch'}], POOLS,
     'nginx_lb_services[a] points at the pool nosuch, which does not exist: define it in nginx_lb_pools (pools: db, '
     'web, web_backends).'),
    ([{'name': 'a', 'pool': 'empty'}], {'empty': {'backend_group': 'nosuch'}},
     'nginx_lb_pools[empty] has no backends: the group nosuch is empty or missing and it lists no backends.'),
    ([{'name': 'db', 'mode': 'stream', 'port': 3306, 'pool': 'db'}], {'db': {'backend_group': 'db', 'method': 'ip_hash'}},
     'nginx_lb_pools[db].method=ip_hash does not exist for stream services'),
    ([{'name': 'db', 'mode': 'stream', 'pool': 'db'}], POOLS,
     'nginx_lb_services[db].port= is not a TCP port: set it to 1-65535 (a stream service has no default).'),
    ([{'name': 'a', 'pool': 'web', 'prot': 81}], POOLS, 'nginx_lb_services[a]: unknown key prot (allowed:'),
    ([{'name': 'a', 'pool': 'web'}], {'web': {'backend_group': 'web', 'keepalives': 2}},
     'nginx_lb_pools[web]: unknown key keepalives'),
    ([{'name': 'a', 'pool': 'web'}, {'name': 'a', 'pool': 'web', 'port': 81}], POOLS,
     'nginx_lb_services[a]: two services have this name'),
    ([{'name': 'a b', 'pool': 'web'}], POOLS, 'nginx_lb_services[a b] needs a name: one word'),
    ([{'name': 'a', 'pool': 'web', 'locations': [{'path': '/', 'pool': 'web'}]}], POOLS,
     'nginx_lb_services[a]: give either pool (one location /) or locations, not both.'),
    ([{'name': 'a', 'locations': [{'path': '/healthz', 'pool': 'web'}]}], POOLS,
     'nginx_lb_services[a].locations[0].path=/healthz is the health location'),
    ([{'name': 'a', 'mode': 'udp', 'pool': 'web'}], POOLS, 'nginx_lb_services[a].mode=udp is unknown'),
    ([{'name': 'a', 'pool': 'web', 'server_names': ['a b;']}], POOLS, 'nginx_lb_services[a].server_names must be a list'),
    ([{'name': 'db', 'mode': 'stream', 'port': 3306, 'pool': 'db', 'tls': {}}], POOLS,
     'nginx_lb_services[db].tls applies to http services only'),
    ([{'name': 'a', 'pool': 'web', 'tls': {'certificate': 'x'}}], POOLS,
     'nginx_lb_services[a].tls needs exactly one of key (the PEM text, e.g. from a vault) and key_file'),
    ([{'name': 'a', 'pool': 'web', 'proxy_timeout': '1m'}], POOLS, 'nginx_lb_services[a].proxy_timeout applies to '
                                                                   'stream services only.'),
])
def test_problems(services, pools, message):
    errors = errors_of(services, pools)
    assert any(message in e for e in errors), errors


def test_certificate_problems_name_the_service(pki):
    other = Pki()
    errors = errors_of([https(pki, server_names=['shop.lab.test'])], POOLS,
                       tls={'www': {'certificate': pki.chain, 'key': other.key}})
    assert [e.split(':')[1].strip()[:40] for e in errors] == [
        'the key does not match the certificate w', 'the certificate does not cover shop.lab.']
    assert all(e.startswith('nginx_lb_services[www].tls: ') for e in errors)


def test_a_warning_for_a_certificate_close_to_expiry():
    soon = Pki(names=('www.lab.test',), days=(-80, 7))
    model, errors, warnings = build(data([https(soon)], POOLS, tls={'www': {'certificate': soon.chain, 'key': soon.key}}))
    assert errors == [] and warnings == ['nginx_lb_services[www].tls: the certificate expires on 2026-12-08 (in 7 '
                                         'days): renew it.']


def test_the_default_pool_is_only_built_when_used():
    model = ok([{'name': 'a', 'pool': 'web'}], POOLS, nginx_lb_backend_group='nosuch')
    assert [p['name'] for p in model['http_pools']] == ['web']


def test_group_backends_reads_hostvars():
    hostvars = {'web-1': {'ansible_host': '198.51.100.11'}, 'web-2': {'nginx_web_port': 8080}}
    assert group_backends(hostvars, {'web': ['web-1', 'web-2', 'gone']}, ['web', 'none']) == {
        'web': [{'host': 'web-1', 'address': '198.51.100.11', 'port': None},
                {'host': 'web-2', 'address': 'web-2', 'port': 8080},
                {'host': 'gone', 'address': 'gone', 'port': None}],
        'none': []}


def test_vip_checks_cover_every_service():
    from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.services import vip_checks
    services = [{'name': 'web', 'pool': 'p'}, {'name': 'www', 'tls': {}, 'pool': 'p'},
                {'name': 'tcp', 'mode': 'stream', 'port': 8081, 'pool': 'p'},
                {'name': 'own', 'listen_address': '198.51.100.150', 'port': 8080, 'pool': 'p'},
                {'name': 'quiet', 'port': 81, 'pool': 'p', 'health_check': False}]
    assert vip_checks(services, ['198.51.100.140'], 80) == [
        {'service': 'web', 'url': 'http://198.51.100.140:80/'}, {'service': 'www', 'url': 'https://198.51.100.140:443/'},
        {'service': 'tcp', 'host': '198.51.100.140', 'port': 8081},
        {'service': 'own', 'url': 'http://198.51.100.150:8080/'}]
    assert vip_checks([], ['198.51.100.140', '198.51.100.141'], 8080) == [
        {'service': 'default', 'url': 'http://198.51.100.140:8080/'},
        {'service': 'default', 'url': 'http://198.51.100.141:8080/'}]


def test_health_targets_ask_every_service_on_the_loopback_address():
    from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.services import health_targets
    services = [{'name': 'web', 'pool': 'p'},
                {'name': 'www', 'tls': {'redirect_http': True}, 'pool': 'p'},
                {'name': 'api', 'port': 8443, 'tls': {'redirect_http': True, 'redirect_port': 8080}, 'pool': 'p'},
                {'name': 'tcp', 'mode': 'stream', 'port': 8081, 'pool': 'p'},
                {'name': 'own', 'listen_address': '198.51.100.150', 'port': 8088, 'pool': 'p'},
                {'name': 'v6', 'listen_address': '2001:db8::150', 'mode': 'stream', 'port': 5432, 'pool': 'p'},
                {'name': 'quiet', 'port': 81, 'pool': 'p', 'health_check': False}]
    assert health_targets(services, '/healthz') == [
        'http://127.0.0.1:80/healthz',       # web, and www's redirect port once
        'https://127.0.0.1:443/healthz',
        'https://127.0.0.1:8443/healthz', 'http://127.0.0.1:8080/healthz',
        'tcp://127.0.0.1:8081',
        'http://127.0.0.1:8088/healthz',     # bound to a VIP: nginx listens on the loopback copy too
        'tcp://[::1]:5432']
    assert health_targets([], '/healthz') == [] and health_targets(None) == []
    # The address a service takes when it names none; a wildcard (IPv6 spelling included) is 127.0.0.1.
    assert health_targets([{'name': 'web', 'pool': 'p'}], '/h', '2001:db8::140') == ['http://[::1]:80/h']
    assert health_targets([{'name': 'web', 'pool': 'p'}], '/h', '198.51.100.140') == ['http://127.0.0.1:80/h']
    assert health_targets([{'name': 'web', 'pool': 'p', 'listen_address': '::'}], '/h') == ['http://127.0.0.1:80/h']
    # A stream service without a port is the preflight's to report, not a target.
    assert health_targets([{'name': 'x', 'mode': 'stream', 'pool': 'p'}]) == []


def test_a_drained_backend_is_down_in_every_pool_and_listed_once():
    pools = {'web': {'backend_group': 'web'}, 'tcp': {'backend_group': 'web', 'port': 9000},
             'app': {'backends': [{'address': '10.0.0.1'}, {'address': '10.0.0.2', 'backup': True}]}}
    services = [{'name': 'web', 'pool': 'web'}, {'name': 'tcp', 'mode': 'stream', 'port': 9000, 'pool': 'tcp'},
                {'name': 'app', 'port': 81, 'pool': 'app'}]
    model, errors, warnings = build(data(services, pools, nginx_lb_drained_backends=['web-2', '10.0.0.1']))
    assert errors == []
    down = {(pool['name'], server['address'], server['port']) for pool in model['http_pools'] + model['stream_pools']
            for server in pool['servers'] if server['drained']}
    assert down == {('web', '198.51.100.12', 8080), ('tcp', '198.51.100.12', 9000), ('app', '10.0.0.1', 80)}
    assert model['drained'] == [{'address': '10.0.0.1', 'port': 80}, {'address': '198.51.100.12', 'port': 9000},
                                {'address': '198.51.100.12', 'port': 8080}]
    # Only the backup is left in app: allowed, with a warning.
    assert warnings == ['nginx_lb_pools[app]: nginx_lb_drained_backends leaves only backup servers in this pool.']
    assert ok(services, pools)['drained'] == []


@pytest.mark.parametrize(('drained', 'message'), [
    (['web-3'], 'nginx_lb_drained_backends: web-3 is no backend of any pool: use inventory host names or addresses '
                "of the pools' backends (198.51.100.41, web-1, web-2)."),
    (['web-1', 'web-2'], 'nginx_lb_pools[web]: nginx_lb_drained_backends takes out every backend of this pool '
                         '(web-1, web-2): keep at least one in it.'),
    ('web-2', 'nginx_lb_drained_backends must be a list of backends'),
    ([''], 'nginx_lb_drained_backends must be a list of backends'),
])
def test_drain_problems(drained, message):
    pools = {'web': {'backend_group': 'web'}, 'db': {'backends': [{'address': '198.51.100.41'}]}}
    services = [{'name': 'web', 'pool': 'web'}, {'name': 'db', 'port': 81, 'pool': 'db'}]
    found = errors_of(services, pools, nginx_lb_drained_backends=drained)
    assert any(error.startswith(message) for error in found), found


def test_a_host_drained_by_name_is_drained_where_a_pool_lists_its_address():
    pools = {'web': {'backend_group': 'web'},
             'api': {'backends': [{'address': '198.51.100.12', 'port': 9090}, {'address': '2001:db8::13'}]}}
    services = [{'name': 'web', 'pool': 'web'}, {'name': 'api', 'port': 81, 'pool': 'api'}]
    model = ok(services, pools, nginx_lb_drained_backends=['web-2'])
    down = {(pool['name'], server['address'], server['port']) for pool in model['http_pools']
            for server in pool['servers'] if server['drained']}
    assert down == {('web', '198.51.100.12', 8080), ('api', '198.51.100.12', 9090)}
    # An IPv6 backend by its address: the model keeps the plain address (the drain's wait brackets it).
    model = ok(services, pools, nginx_lb_drained_backends=['2001:db8::13'])
    assert model['drained'] == [{'address': '2001:db8::13', 'port': 80}]


def test_a_pool_of_backup_servers_alone_gives_no_warning_without_a_drain():
    pools = {'spare': {'backends': [{'address': '10.0.0.9', 'backup': True}]}, 'web': {'backend_group': 'web'}}
    services = [{'name': 'web', 'pool': 'web'}, {'name': 'spare', 'port': 81, 'pool': 'spare'}]
    assert build(data(services, pools))[2] == []
    assert build(data(services, pools, nginx_lb_drained_backends=['web-1']))[2] == []
