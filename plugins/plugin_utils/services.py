# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The balancer's services and pools: from nginx_lb's variables to what nginx.conf says.

``build(data)`` reads the services (HTTP with optional TLS, or TCP stream pass-through) and
the pools (upstreams) of one balancer and returns ``(model, errors, warnings)``: the model
the template renders, one message per problem, and the warnings (a certificate about to
expire). Without services, one HTTP service is made of the single-server variables
(nginx_lb_listen_port, nginx_lb_server_name, ...) and without pools one pool of the
nginx_lb_backend_group hosts, so the configuration is the one those variables always gave.

``data`` keys:
  services      nginx_lb_services (list of dicts)
  pools         nginx_lb_pools (dict: name -> pool)
  settings      every nginx_lb_* variable by name (the defaults of services and pools)
  groups        group -> list of {host, address, port} (see group_backends)
  tls           service name -> {certificate, key}: the PEM text, read by the nginx_lb_tls lookup
  tls_dir       where the balancer keeps certificates and keys
  nginx_version the nginx version on the balancer ('1.22.1'): which HTTP/2 syntax it takes
  now           optional datetime for the certificate checks (default: the current time)
Pure Python on plain data; messages never contain a key.
"""

from __future__ import annotations

import re

from collections.abc import Mapping

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight_settings import problem
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.tls import check_tls

MODES = ('http', 'stream')
HTTP_METHODS = ('round_robin', 'least_conn', 'ip_hash', 'hash')
STREAM_METHODS = ('round_robin', 'least_conn', 'hash')
WILDCARDS = ('', '*', '0.0.0.0', '::', '[::]')
# nginx 1.25.1 brought the `http2` directive; before it, HTTP/2 is a `listen` parameter.
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)

SERVICE_KEYS = {'name', 'mode', 'listen_address', 'port', 'ipv6', 'server_names', 'pool', 'locations', 'tls',
                'proxy_protocol', 'proxy_connect_timeout', 'proxy_timeout', 'health_check'}
LOCATION_KEYS = {'path', 'pool', 'proxy_connect_timeout', 'proxy_read_timeout', 'proxy_send_timeout',
                 'proxy_buffering', 'proxy_next_upstream', 'proxy_next_upstream_tries', 'response_headers'}
TLS_KEYS = {'certificate', 'certificate_file', 'key', 'key_file', 'http2', 'redirect_http', 'redirect_port',
            'hsts', 'hsts_max_age'}
POOL_KEYS = {'backend_group', 'backends', 'port', 'method', 'hash_key', 'hash_consistent', 'max_fails',
             'fail_timeout', 'keepalive', 'keepalive_requests', 'keepalive_timeout'}
BACKEND_KEYS = {'address', 'port', 'weight', 'max_fails', 'fail_timeout', 'backup'}

# Location settings and the nginx_lb_* variable each one defaults to.
LOCATION_DEFAULTS = {
    'proxy_connect_timeout': 'nginx_lb_proxy_connect_timeout',
    'proxy_read_timeout': 'nginx_lb_proxy_read_timeout',
    'proxy_send_timeout': 'nginx_lb_proxy_send_timeout',
    'proxy_buffering': 'nginx_lb_proxy_buffering',
    'proxy_next_upstream': 'nginx_lb_proxy_next_upstream',
    'proxy_next_upstream_tries': 'nginx_lb_proxy_next_upstream_tries',
    'response_headers': 'nginx_lb_response_headers',
}
LOCATION_KINDS = {
    'proxy_connect_timeout': 'nginx_time', 'proxy_read_timeout': 'nginx_time', 'proxy_send_timeout': 'nginx_time',
    'proxy_next_upstream': 'next_upstream', 'proxy_next_upstream_tries': 'count', 'response_headers': 'headers',
}
POOL_DEFAULTS = {
    'method': 'nginx_lb_method',
    'hash_key': 'nginx_lb_hash_key',
    'hash_consistent': 'nginx_lb_hash_consistent',
    'max_fails': 'nginx_lb_max_fails',
    'fail_timeout': 'nginx_lb_fail_timeout',
    'keepalive': 'nginx_lb_upstream_keepalive',
    'keepalive_requests': 'nginx_lb_upstream_keepalive_requests',
    'keepalive_timeout': 'nginx_lb_upstream_keepalive_timeout',
}
POOL_KINDS = {
    'hash_key': 'nginx_value', 'max_fails': 'count', 'fail_timeout': 'nginx_time', 'keepalive': 'count',
    'keepalive_requests': 'positive', 'keepalive_timeout': 'nginx_time', 'port': 'port',
}

_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
_BOOL_TRUE = frozenset(('yes', 'on', 'true', '1'))


def _bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _BOOL_TRUE


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _list(value):
    return list(value) if isinstance(value, (list, tuple)) else []


def _mapping(value):
    return value if isinstance(value, Mapping) else {}


def _shown(value):
    return '' if value is None else str(value)


def version_tuple(version):
    """'1.22.1' -> (1, 22, 1); anything unreadable -> (0,)."""
    parts = re.findall(r'\d+', str(version or ''))[:3]
    return tuple(int(part) for part in parts) if parts else (0,)


def is_wildcard(address):
    return _shown(address).strip() in WILDCARDS


def _listen_host(address):
    address = _shown(address).strip().strip('[]')
    return '[%s]' % address if ':' in address else address


def _loopback(address):
    return '[::1]' if ':' in _shown(address) else '127.0.0.1'


def _port_ok(value):
    return not isinstance(value, bool) and 1 <= _int(value) <= 65535


def group_backends(hostvars, groups, names):
    """group -> [{host, address, port}] for the inventory groups ``names`` (address: ansible_host or the name;
    port: the host's nginx_web_port, or None)."""
    result = {}
    for group in names:
        members = []
        for host in _list(_mapping(groups).get(group)):
            facts = _mapping(hostvars[host]) if host in hostvars else {}
            members.append({'host': host, 'address': _shown(facts.get('ansible_host', host)),
                            'port': facts.get('nginx_web_port')})
        result[group] = members
    return result


def referenced_groups(pools, settings):
    """The inventory groups the pools draw their backends from (the default pool's group included)."""
    names = [_shown(_mapping(settings).get('nginx_lb_backend_group', ''))]
    for pool in _mapping(pools).values():
        group = _mapping(pool).get('backend_group')
        if group:
            names.append(_shown(group))
    return sorted({name for name in names if name})


class _Checker:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def kind(self, name, value, kind):
        message = problem(name, value, kind)
        if message:
            self.errors.append(message)
        return message is None

    def unknown(self, where, entry, allowed):
        extra = sorted(str(key) for key in entry if key not in allowed)
        if extra:
            self.errors.append('%s: unknown key%s %s (allowed: %s): fix the spelling in the inventory.'
                               % (where, 's' if len(extra) > 1 else '', ', '.join(extra), ', '.join(sorted(allowed))))


def _default_pool(settings):
    pool = {'backend_group': settings.get('nginx_lb_backend_group', ''),
            'backends': settings.get('nginx_lb_backends') or []}
    return pool


def _default_service(settings):
    return {'name': 'default', 'mode': 'http', 'listen_address': settings.get('nginx_lb_listen_address', ''),
            'port': settings.get('nginx_lb_listen_port', 80), 'ipv6': settings.get('nginx_lb_listen_ipv6', False),
            'server_names': _shown(settings.get('nginx_lb_server_name', '_')).split(),
            'pool': settings.get('nginx_lb_upstream_name', 'web_backends')}


def _pool_servers(check, pool, entry, settings, groups):
    """The upstream servers of one pool: its backends list, or the hosts of its group."""
    where = pool['where']
    servers = []
    backends = _list(entry.get('backends'))
    for index, backend in enumerate(backends):
        item = _mapping(backend)
        label = '%s.backends[%d]' % (where, index)
        if not item or _shown(item.get('address')).strip() == '':
            check.errors.append('%s needs an address: fix it in the inventory.' % label)
            continue
        check.unknown(label, item, BACKEND_KEYS)
        port = item.get('port', entry.get('port', settings.get('nginx_lb_backend_port', 80)))
        if not _port_ok(port):
            check.errors.append("%s (%s) needs a port 1-65535 (its own, or the pool's port)." % (label, item['address']))
            continue
        ok = check.kind('%s.address' % label, item['address'], 'word')
        for key, kind in (('weight', 'positive'), ('max_fails', 'count'), ('fail_timeout', 'nginx_time')):
            if key in item:
                ok = check.kind('%s.%s' % (label, key), item[key], kind) and ok
        if ok:
            servers.append({'address': _listen_host(item['address']), 'port': _int(port),
                            'weight': item.get('weight'), 'max_fails': item.get('max_fails', pool['max_fails']),
                            'fail_timeout': item.get('fail_timeout', pool['fail_timeout']),
                            'backup': _bool(item.get('backup', False)), 'host': None})
    if not backends:
        group = _shown(entry.get('backend_group'))
        for member in _list(_mapping(groups).get(group)):
            port = entry.get('port') or member.get('port') or settings.get('nginx_lb_backend_port', 80)
            servers.append({'address': _listen_host(member['address']), 'port': _int(port), 'weight': None,
                            'max_fails': pool['max_fails'], 'fail_timeout': pool['fail_timeout'], 'backup': False,
                            'host': member.get('host')})
        if not servers:
            check.errors.append('%s has no backends: the group %s is empty or missing and it lists no backends. '
                                'Add hosts to that group or list them in backends.' % (where, group or '(none)'))
    return servers


def _pool(check, name, raw, settings, groups, is_default):
    where = 'nginx_lb_upstream_name=%s (the default pool)' % name if is_default else 'nginx_lb_pools[%s]' % name
    entry = _mapping(raw)
    if not is_default:
        if not isinstance(raw, Mapping):
            check.errors.append('%s must be a dict (backend_group or backends, and settings): fix it.' % where)
        check.unknown(where, entry, POOL_KEYS)
        if not _NAME.match(str(name)):
            check.errors.append('nginx_lb_pools: the pool name %s must be one word of letters, digits, _, . or -.' % name)
    pool = {'name': str(name), 'where': where, 'default': is_default}
    for key, variable in POOL_DEFAULTS.items():
        pool[key] = entry.get(key, settings.get(variable))
    for key, kind in POOL_KINDS.items():
        if key in entry and not is_default:
            check.kind('%s.%s' % (where, key), entry[key], kind)
    if pool['method'] not in HTTP_METHODS and not is_default:
        check.errors.append('%s.method=%s is unknown: use one of %s.' % (where, _shown(pool['method']), ', '.join(HTTP_METHODS)))
    pool['hash_consistent'] = _bool(pool['hash_consistent'])
    pool['keepalive'] = _int(pool['keepalive'])
    # The default pool's variables have checks of their own (nginx_lb_preflight): no second message.
    pool['servers'] = _pool_servers(_Checker() if is_default else check, pool, entry, settings, groups)
    return pool


def _locations(check, where, service, settings):
    raw = service.get('locations')
    if raw is None:
        raw = [{'path': '/', 'pool': service.get('pool', settings.get('nginx_lb_upstream_name'))}]
    elif not isinstance(raw, (list, tuple)) or not raw:
        check.errors.append('%s.locations must be a list of {path, pool}: fix it in the inventory.' % where)
        return []
    elif 'pool' in service:
        check.errors.append('%s: give either pool (one location /) or locations, not both.' % where)
    locations, paths = [], set()
    for index, item in enumerate(raw):
        entry = _mapping(item)
        label = '%s.locations[%d]' % (where, index)
        check.unknown(label, entry, LOCATION_KEYS)
        path = entry.get('path')
        if not check.kind('%s.path' % label, path, 'location'):
            continue
        if path == settings.get('nginx_lb_health_location'):
            check.errors.append('%s.path=%s is the health location (nginx_lb_health_location), which nginx answers '
                                'itself: choose another path.' % (label, path))
        if path in paths:
            check.errors.append('%s.path=%s is listed twice in this service.' % (label, path))
        paths.add(path)
        location = {'path': path, 'pool': _shown(entry.get('pool'))}
        for key, variable in LOCATION_DEFAULTS.items():
            location[key] = entry.get(key, settings.get(variable))
            if key in entry and key in LOCATION_KINDS:
                check.kind('%s.%s' % (label, key), entry[key], LOCATION_KINDS[key])
        location['proxy_buffering'] = _bool(location['proxy_buffering'])
        location['response_headers'] = dict(_mapping(location['response_headers']))
        locations.append(location)
    return locations


def _tls(check, where, service, settings, tls_pem, tls_dir, now):
    raw = service.get('tls')
    if raw is None or raw is False:
        return None
    entry = _mapping(raw)
    if not isinstance(raw, Mapping):
        check.errors.append('%s.tls must be a dict (certificate or certificate_file, key or key_file): fix it.' % where)
    check.unknown('%s.tls' % where, entry, TLS_KEYS)
    for content, path in (('certificate', 'certificate_file'), ('key', 'key_file')):
        if (content in entry) == (path in entry):
            check.errors.append('%s.tls needs exactly one of %s (the PEM text, e.g. from a vault) and %s (a file on '
                                'the controller).' % (where, content, path))
    tls = {'certificate_path': '%s/%s.crt' % (tls_dir, service['name']),
           'key_path': '%s/%s.key' % (tls_dir, service['name']),
           'http2': _bool(entry.get('http2', True)),
           'redirect_http': _bool(entry.get('redirect_http', False)),
           'redirect_port': entry.get('redirect_port', 80),
           'hsts': _bool(entry.get('hsts', False)),
           'hsts_max_age': entry.get('hsts_max_age', 31536000)}
    if tls['redirect_http'] and not _port_ok(tls['redirect_port']):
        check.errors.append('%s.tls.redirect_port=%s is not a TCP port: set it to 1-65535.' % (where, _shown(tls['redirect_port'])))
    if tls['hsts']:
        check.kind('%s.tls.hsts_max_age' % where, tls['hsts_max_age'], 'count')
    pem = _mapping(_mapping(tls_pem).get(service['name']))
    if pem.get('certificate') and pem.get('key'):
        errors, warnings = check_tls('%s.tls' % where, str(pem['certificate']), str(pem['key']),
                                     service['server_names'], now=now,
                                     warning_days=settings.get('nginx_lb_tls_expiry_warning_days', 21))
        check.errors += errors
        check.warnings += warnings
    elif not any(message.startswith('%s.tls needs' % where) for message in check.errors):
        check.errors.append('%s.tls: the certificate or the key is empty: fill it in the inventory.' % where)
    return tls


def _service(check, index, raw, settings, tls_pem, tls_dir, now, is_default=False):
    entry = _mapping(raw)
    name = _shown(entry.get('name'))
    where = 'nginx_lb_services[%s]' % (name or index)
    if not isinstance(raw, Mapping) or not _NAME.match(name):
        check.errors.append('%s needs a name: one word of letters, digits, _, . or - (it names files and '
                            'zones).' % where)
        return None
    check.unknown(where, entry, SERVICE_KEYS)
    mode = entry.get('mode', 'http')
    if mode not in MODES:
        check.errors.append('%s.mode=%s is unknown: use http or stream.' % (where, _shown(mode)))
        return None
    address = entry.get('listen_address', settings.get('nginx_lb_listen_address', ''))
    if not is_default:  # the single-server variables have checks of their own
        check.kind('%s.listen_address' % where, address, 'listen_address')
    tls_given = entry.get('tls') not in (None, False)
    default_port = 443 if tls_given else (80 if mode == 'http' else None)
    port = entry.get('port', default_port)
    if not _port_ok(port):
        if is_default:
            return None  # nginx_lb_listen_port has a check of its own
        check.errors.append('%s.port=%s is not a TCP port: set it to 1-65535%s.'
                            % (where, _shown(port), ' (a stream service has no default)' if mode == 'stream' else ''))
        return None
    service = {'name': name, 'mode': mode, 'where': where, 'address': _shown(address).strip(), 'port': _int(port),
               'ipv6': _bool(entry.get('ipv6', settings.get('nginx_lb_listen_ipv6', False))),
               'health_check': _bool(entry.get('health_check', True)), 'implicit': is_default}
    if mode == 'http':
        names = entry.get('server_names', _shown(settings.get('nginx_lb_server_name', '_')).split())
        if isinstance(names, str):
            names = names.split()
        valid = bool(names) and all(isinstance(n, str) and ' ' not in n and problem('x', n, 'server_names') is None
                                    for n in names)
        if not is_default and not valid:
            check.errors.append('%s.server_names must be a list of names without blanks, quotes, braces, semicolons '
                                'or # (e.g. [www.example.com]).' % where)
            names = []
        service['server_names'] = list(names)
        for key in ('proxy_protocol', 'proxy_timeout'):
            if key in entry:
                check.errors.append('%s.%s applies to stream services only.' % (where, key))
        service['locations'] = _locations(check, where, entry, settings)
        service['tls'] = _tls(check, where, dict(entry, name=name, server_names=names), settings, tls_pem, tls_dir, now)
    else:
        for key in ('server_names', 'locations', 'tls'):
            if key in entry:
                check.errors.append('%s.%s applies to http services only (a stream service passes TCP through).'
                                    % (where, key))
        if not entry.get('pool'):
            check.errors.append('%s needs a pool: the name of the pool it passes connections to.' % where)
        service['pool'] = _shown(entry.get('pool'))
        service['proxy_protocol'] = _bool(entry.get('proxy_protocol', False))
        service['proxy_connect_timeout'] = entry.get('proxy_connect_timeout',
                                                     settings.get('nginx_lb_proxy_connect_timeout', '1s'))
        service['proxy_timeout'] = entry.get('proxy_timeout', '10m')
        for key in ('proxy_connect_timeout', 'proxy_timeout'):
            check.kind('%s.%s' % (where, key), service[key], 'nginx_time')
        service['server_names'] = []
        service['tls'] = None
    return service


def _sockets(service):
    """What nginx listens on for one service: dicts of context, address, port, tls, names and role
    ('main', or 'redirect' for the plain-HTTP port that sends clients to HTTPS)."""
    tls = service.get('tls')
    result = []

    def add(port, secure, role):
        addresses = (['*'] + (['[::]'] if service['ipv6'] else [])) if is_wildcard(service['address']) \
            else [_listen_host(service['address']), _loopback(service['address'])]
        for address in addresses:
            result.append({'context': service['mode'], 'address': address, 'port': port, 'tls': secure,
                           'names': tuple(name.lower() for name in service['server_names']), 'role': role})

    add(service['port'], bool(tls), 'main')
    if tls and tls['redirect_http'] and _port_ok(tls['redirect_port']):
        add(_int(tls['redirect_port']), False, 'redirect')
    return result


def _catch_all(names):
    return not names or any(name in ('_', '', '""') or name.startswith('~') for name in names)


def _overlap(one, other):
    """Whether two listen addresses meet: the same, or a wildcard and an address of its family."""
    if one == other:
        return True
    v6 = ':' in one.replace('*', '') or one == '[::]'
    o_v6 = ':' in other.replace('*', '') or other == '[::]'
    return v6 == o_v6 and ('*' in (one, other) or '[::]' in (one, other))


def _drain(check, names, pools):
    """Mark the servers that nginx_lb_drained_backends takes out of every pool (``down``: no new request
    goes there, the ones in flight finish). Each name is an inventory host of a pool's group or an
    address of a pool's backends. Returns the drained servers once each: [{address, port}]."""
    if names in (None, ''):
        names = []
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) and name.strip() for name in names):
        check.errors.append('nginx_lb_drained_backends must be a list of backends (inventory host names or '
                            'addresses), e.g. [web-2]: fix it in the inventory or in -e.')
        names = []
    wanted = {name.strip().strip('[]') for name in names}
    servers = [server for pool in pools for server in pool['servers']]
    # A host named here is drained at its address too, in a pool that lists it by address.
    addresses = {server['address'].strip('[]') for server in servers if server.get('host') in wanted}
    found, drained = set(), []
    for pool in pools:
        for server in pool['servers']:
            keys = {server['address'].strip('[]')} | ({server['host']} if server.get('host') else set())
            found |= keys & wanted
            server['drained'] = bool(keys & (wanted | addresses))
            entry = {'address': server['address'].strip('[]'), 'port': server['port']}
            if server['drained'] and entry not in drained:
                drained.append(entry)
        taken = [server for server in pool['servers'] if server['drained']]
        if taken and len(taken) == len(pool['servers']):
            check.errors.append('%s: nginx_lb_drained_backends takes out every backend of this pool (%s): keep at '
                                'least one in it.' % (pool['where'], ', '.join(
                                    server.get('host') or server['address'] for server in pool['servers'])))
        elif taken and all(server['drained'] for server in pool['servers'] if not server['backup']):
            check.warnings.append('%s: nginx_lb_drained_backends leaves only backup servers in this pool.'
                                  % pool['where'])
    unknown = sorted(wanted - found)
    if unknown:
        known = sorted({server.get('host') or server['address'].strip('[]') for server in servers})
        check.errors.append('nginx_lb_drained_backends: %s %s no backend of any pool: use inventory host names or '
                            'addresses of the pools\' backends (%s).'
                            % (', '.join(unknown), 'is' if len(unknown) == 1 else 'are', ', '.join(known)))
    return drained


def _check_collisions(check, services):
    sockets = [(service, socket) for service in services for socket in _sockets(service)]
    reported = set()
    for index, (service, socket) in enumerate(sockets):
        for other, o_socket in sockets[:index]:
            if other is service or socket['port'] != o_socket['port'] or \
                    not _overlap(socket['address'], o_socket['address']):
                continue
            key = (id(other), id(service), socket['port'])
            if key in reported:
                continue
            both_http = socket['context'] == o_socket['context'] == 'http' and socket['tls'] == o_socket['tls']
            # Name-based virtual hosts on one port: distinct names, at most one catch-all (the default server).
            if both_http and not (_catch_all(socket['names']) and _catch_all(o_socket['names'])) \
                    and not set(socket['names']) & set(o_socket['names']):
                continue
            reported.add(key)
            where = 'every address' if '*' in (socket['address'], o_socket['address']) else socket['address']
            if both_http:
                hint = ('give one of them another port or address, or give them server_names of their own (virtual '
                        'hosts on one port need distinct names, and at most one of them the catch-all _)')
            else:
                hint = 'give one of them another port or address (a port is plain HTTP, HTTPS or one stream service)'
            check.errors.append('%s and %s both listen on %s port %d: %s.'
                                % (other['where'], service['where'], where, socket['port'], hint))


def _listens(services, nginx_version):
    """Each service's listen lines. On a socket several services share, the catch-all one (else the
    first) is the default server and carries the socket's options."""
    directive = version_tuple(nginx_version) >= HTTP2_DIRECTIVE_SINCE
    sockets = [(service, socket) for service in services for socket in _sockets(service)]
    h2 = {(s['address'], s['port']) for service, s in sockets
          if s['tls'] and service.get('tls') and service['tls']['http2']}
    owner = {}
    for service, socket in sockets:
        key = (socket['context'], socket['address'], socket['port'])
        if key not in owner or (_catch_all(socket['names']) and not _catch_all(owner[key][1]['names'])):
            owner[key] = (service, socket)
    for service in services:
        service['listens'], service['redirect_listens'] = [], []
    for service, socket in sockets:
        address, port = socket['address'], socket['port']
        options = []
        if socket['tls']:
            options.append('ssl')
            if not directive and (address, port) in h2:
                options.append('http2')
        if owner[(socket['context'], address, port)][1] is socket:
            if socket['context'] == 'http' and (address in ('*', '[::]') or len(
                    [1 for _s, other in sockets if (other['context'], other['address'], other['port'])
                     == (socket['context'], address, port)]) > 1):
                options.append('default_server')
            options.append('reuseport')
            if address == '[::]':
                options.append('ipv6only=on')
        line = ' '.join([str(port) if address == '*' else '%s:%d' % (address, port)] + options)
        service['listens' if socket['role'] == 'main' else 'redirect_listens'].append(line)
    for service in services:
        service['http2_directive'] = bool(directive and service.get('tls') and service['tls']['http2'])


def build(data):
    """(model, errors, warnings) for one balancer; see the module's docstring for ``data``."""
    data = _mapping(data)
    settings = dict(_mapping(data.get('settings')))
    check = _Checker()
    raw_services = _list(data.get('services'))
    if data.get('services') not in (None, '') and not isinstance(data.get('services'), (list, tuple)):
        check.errors.append('nginx_lb_services must be a list of services: fix it in the inventory.')
    services = []
    names = set()
    for index, raw in enumerate(raw_services or [_default_service(settings)]):
        service = _service(check, index, raw, settings, data.get('tls'), _shown(data.get('tls_dir', '/etc/nginx/tls')),
                           data.get('now'), is_default=not raw_services)
        if service is None:
            continue
        if service['name'] in names:
            check.errors.append('%s: two services have this name: give each its own.' % service['where'])
        names.add(service['name'])
        services.append(service)

    raw_pools = data.get('pools') or {}
    if not isinstance(raw_pools, Mapping):
        check.errors.append('nginx_lb_pools must be a dict of pool name -> pool: fix it in the inventory.')
        raw_pools = {}
    default_name = _shown(settings.get('nginx_lb_upstream_name', 'web_backends'))
    used = {}
    for service in services:
        targets = [location['pool'] for location in service.get('locations', [])] if service['mode'] == 'http' \
            else [service['pool']]
        for target in targets:
            used.setdefault(target, set()).add(service['mode'])
            if target and target not in raw_pools and target != default_name:
                check.errors.append('%s points at the pool %s, which does not exist: define it in nginx_lb_pools '
                                    '(pools: %s).' % (service['where'], target,
                                                      ', '.join(sorted(set(raw_pools) | {default_name}))))
    pools = []
    for name in sorted(set(raw_pools) | ({default_name} if default_name in used else set())):
        pool = _pool(check, name, raw_pools[name] if name in raw_pools else _default_pool(settings), settings,
                     data.get('groups'), name not in raw_pools)
        pool['contexts'] = sorted(used.get(name, set()))
        if 'stream' in pool['contexts'] and pool['method'] == 'ip_hash':
            check.errors.append('%s.method=ip_hash does not exist for stream services: use hash (with hash_key '
                                '$remote_addr) or least_conn.' % pool['where'])
        pools.append(pool)
    drained = _drain(check, settings.get('nginx_lb_drained_backends'), pools)
    _check_collisions(check, services)
    _listens(services, data.get('nginx_version'))

    nonlocal_keys = sorted({'net.ipv6.ip_nonlocal_bind' if ':' in s['address'] else 'net.ipv4.ip_nonlocal_bind'
                            for s in services if not is_wildcard(s['address'])})
    tls_files = []
    for service in services:
        if service.get('tls'):
            tls_files.append({'service': service['name'], 'kind': 'certificate',
                              'dest': service['tls']['certificate_path'], 'mode': '0644', 'diff': True})
            # The key never shows in a diff.
            tls_files.append({'service': service['name'], 'kind': 'key', 'dest': service['tls']['key_path'],
                              'mode': '0600', 'diff': False})
    model = {
        'http_pools': [pool for pool in pools if 'http' in pool['contexts']],
        'stream_pools': [pool for pool in pools if 'stream' in pool['contexts']],
        'http_services': [s for s in services if s['mode'] == 'http'],
        'stream_services': [s for s in services if s['mode'] == 'stream'],
        'tls': any(s.get('tls') for s in services),
        'nonlocal_bind_keys': nonlocal_keys,
        'bound_addresses': sorted({s['address'] for s in services if not is_wildcard(s['address'])}),
        'tls_files': tls_files,
        'drained': drained,
    }
    return model, check.errors, check.warnings


def vip_checks(services, vips, listen_port):
    """What to request through the VIPs to see every service answer: ``[{url}]`` for HTTP(S) services
    (on the service's address when it binds one, else on each VIP), ``[{host, port}]`` for stream ones.
    Without services, the single HTTP service on ``listen_port``."""
    checks = []
    entries = [entry for entry in _list(services) if isinstance(entry, Mapping)]
    if not entries:
        entries = [{'name': 'default', 'port': listen_port}]
    for entry in entries:
        if not _bool(entry.get('health_check', True)):
            continue
        tls = isinstance(entry.get('tls'), Mapping)
        port = _int(entry.get('port')) or (443 if tls else 80)
        address = _shown(entry.get('listen_address', '')).strip()
        hosts = [_listen_host(address)] if not is_wildcard(address) else [_listen_host(vip) for vip in _list(vips)]
        for host in hosts:
            if entry.get('mode', 'http') == 'stream':
                checks.append({'service': entry.get('name'), 'host': host.strip('[]'), 'port': port})
            else:
                checks.append({'service': entry.get('name'),
                               'url': '%s://%s:%d/' % ('https' if tls else 'http', host, port)})
    return checks


def _checked_on_loopback(services, listen_address):
    """Every service with ``health_check`` on, as nginx listens for it on the loopback address (there for
    every service, one bound to a VIP as well; 127.0.0.1 for a service on every address): ``(entry, tls
    (its mapping or None), mode, port, loopback)``, in the order of the services."""
    for entry in _list(services):
        if not isinstance(entry, Mapping) or not _bool(entry.get('health_check', True)):
            continue
        tls = entry.get('tls') if isinstance(entry.get('tls'), Mapping) else None
        mode = entry.get('mode', 'http')
        port = _int(entry.get('port')) or (443 if tls else (80 if mode == 'http' else 0))
        if not _port_ok(port):
            continue
        address = entry.get('listen_address', listen_address)
        yield entry, tls, mode, port, '127.0.0.1' if is_wildcard(address) else _loopback(address)


def peer_checks(services, listen_address='', listen_port=80):
    """What a balancer asks its own nginx to show that it reaches the backends: ``[{service, url}]``,
    ``/`` of every HTTP(S) service with ``health_check`` on, on the loopback address, and ``[{service,
    host, port}]`` for a stream service. Without services, the single HTTP service on ``listen_port``."""
    if not [entry for entry in _list(services) if isinstance(entry, Mapping)]:
        services = [{'name': 'default', 'port': listen_port}]
    checks = []
    for entry, tls, mode, port, loopback in _checked_on_loopback(services, listen_address):
        if mode == 'stream':
            checks.append({'service': entry.get('name'), 'host': loopback.strip('[]'), 'port': port})
        else:
            checks.append({'service': entry.get('name'),
                           'url': '%s://%s:%d/' % ('https' if tls else 'http', loopback, port)})
    return checks


def health_targets(services, health_location='/healthz', listen_address=''):
    """What keepalived's health check asks on the balancer itself to see every service with
    ``health_check`` on: ``http(s)://<loopback>:<port><health_location>`` for an HTTP service (and its
    redirect port), ``tcp://<loopback>:<port>`` for a stream service. nginx answers the health location
    on every HTTP port itself. No services: an empty list. Each target once, in the order of the services."""
    targets = []
    for _entry, tls, mode, port, loopback in _checked_on_loopback(services, listen_address):
        if mode == 'stream':
            found = ['tcp://%s:%d' % (loopback, port)]
        else:
            found = ['%s://%s:%d%s' % ('https' if tls else 'http', loopback, port, health_location)]
            if tls and _bool(tls.get('redirect_http', False)):
                redirect = _int(tls.get('redirect_port', 80))
                if _port_ok(redirect):
                    found.append('http://%s:%d%s' % (loopback, redirect, health_location))
        targets.extend(target for target in found if target not in targets)
    return targets
