# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The roles' preflight checks: every problem with one host's input, as messages for the operator.

Pure functions on plain data. Each role's preflight task collects the variables, facts
and the other balancers' variables it needs into one dict; the function for that role
returns one message per problem (empty when the input is fine), so the operator sees
every problem of a run at once.

Values are read as Ansible reads them: numbers as the ``int`` filter converts them
(``'42'`` and ``42.5`` are 42, anything else 0), flags as the ``bool`` filter does,
lists in messages sorted as the ``sort`` filter sorts (ignoring case), and a value
in a message rendered as a template renders it (``None`` as nothing). No message
ever contains a secret.
"""

from __future__ import annotations

import ipaddress
import json
import re

from collections.abc import Mapping

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.services import build as build_services, version_tuple
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.switchover import NAME_PATTERN
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight_settings import (
    check_command,
    check_settings,
    check_vrrp_scripts,
    problem,
    vrrp_script_names,
)

NODE_STATES = ('MASTER', 'BACKUP')
HEALTH_CHECK_MODES = ('http', 'process')
HEALTH_CHECK_BEHAVIOURS = ('restart_then_fault', 'restart_then_stop')
VRRP_VERSIONS = (2, 3)
AUTH_TYPES = ('PASS', 'AH')
# keepalived silently truncates a longer secret.
AUTH_PASS_MAX = 8

NGINX_WEB_KEYS = ('os_family', 'supported_os_families', 'port', 'page_content', 'root')
NGINX_LB_KEYS = ('os_family', 'supported_os_families', 'listen_port', 'method', 'methods', 'backend_group',
                 'group_backends', 'backends', 'backend_port')
KEEPALIVED_KEYS = ('host', 'os_family', 'supported_os_families', 'group', 'group_members', 'play_members',
                   'instances', 'interface', 'facts', 'hosts', 'health_check')
HEALTH_CHECK_KEYS = ('enabled', 'mode', 'behaviour', 'interval', 'fall', 'rise', 'script_path')

_DIGITS = re.compile(r'^[0-9]+$')
# keepalived.conf reads a word up to a blank; quotes, braces, # and ! have meanings of their own.
_SECRET_UNSAFE = re.compile(r'[\s"\'{}#!\\]')
_PREFIX = re.compile(r'^[0-9]{1,3}$')
_BOOL_TRUE = frozenset(('yes', 'on', 'true', '1'))
_BOOL_FALSE = frozenset(('no', 'off', 'false', '0'))
_MISSING = object()


class PreflightError(ValueError):
    """The input dict itself is malformed (a caller's mistake, not an inventory problem)."""


# Conversions -------------------------------------------------------------------------------------

def to_int(value, default=0):
    """Integer as the ``int`` filter converts it: ``'42'`` and ``42.9`` give 42, anything else ``default``."""
    try:
        if isinstance(value, str):
            return int(value, 10)
        return int(value)
    except (TypeError, ValueError, OverflowError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return default


def to_bool(value):
    """Flag as the ``bool`` filter reads it: yes/on/true/1 (any case) or ``True`` are true."""
    if isinstance(value, str):
        value = value.lower()
    elif isinstance(value, int):
        value = str(value).lower()
    try:
        if value in _BOOL_TRUE:
            return True
        if value in _BOOL_FALSE:
            return False
        return value == 1
    except TypeError:
        return False


def plain(value):
    """A copy made of plain dicts, lists, strings and numbers (no subclasses), for rendering and comparison."""
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def text(value):
    """A value as ``{{ value }}`` renders it."""
    return '' if value is None else str(plain(value))


def join(values, sep=', '):
    """A list as ``join`` renders it."""
    return sep.join(str(plain(value)) for value in values)


def _sort_key(value):
    # Strings ignore case as the sort filter does; numbers and other values sort after them.
    if isinstance(value, str):
        return (0, value.lower(), '')
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, '', value)
    return (2, str(value), '')


def sort(values):
    return sorted(values, key=_sort_key)


def _mapping(value):
    return value if isinstance(value, Mapping) else {}


def _list(value):
    return list(value) if isinstance(value, (list, tuple)) else []


def _unique_count(values):
    # The unique filter ignores case too.
    keys = [value.lower() if isinstance(value, str) else value for value in values]
    try:
        return len(set(keys))
    except TypeError:
        return len({repr(key) for key in keys})


def _starts_with_slash(value):
    return isinstance(value, str) and value.startswith('/')


def _length(value):
    if value is None:
        return 0
    try:
        return len(value)
    except TypeError:
        return len(str(value))


def is_tcp_port(value):
    return 1 <= to_int(value) <= 65535


def ip_address(value):
    """The address, IPv4 or IPv6, or None when the value is not one."""
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def parse_vip(value):
    """A VIP ``address`` or ``address/prefix`` (IPv4 or IPv6) -> its address, or None when it is neither."""
    address, sep, prefix = str(value).partition('/')
    ip = ip_address(address)
    if ip is None:
        return None
    if sep and not (_PREFIX.match(prefix) and int(prefix) <= ip.max_prefixlen):
        return None
    return ip


def _ipv4_network(ipv4):
    """The subnet of an interface's ``ipv4`` facts, or None when the facts do not give one."""
    if 'network' not in ipv4 or 'netmask' not in ipv4:
        return None
    try:
        return ipaddress.IPv4Network('%s/%s' % (ipv4['network'], ipv4['netmask']), strict=False)
    except ValueError:
        return None


def _require(data, keys, what):
    if not isinstance(data, Mapping):
        raise PreflightError('%s: the input must be a dict' % what)
    missing = [key for key in keys if key not in data]
    if missing:
        raise PreflightError('%s: the input lacks %s' % (what, ', '.join(missing)))


# nginx_web -----------------------------------------------------------------------------------

def nginx_web_preflight(data):
    """Problems with a web backend's input.

    ``data`` keys: os_family, supported_os_families, port, page_content, root.
    """
    _require(data, NGINX_WEB_KEYS, 'nginx_web_preflight')
    errors = []
    if data['os_family'] not in _list(data['supported_os_families']):
        errors.append('nginx_web: OS family %s is not supported (supported: %s).'
                      % (text(data['os_family']), join(_list(data['supported_os_families']))))
    if not is_tcp_port(data['port']):
        errors.append('nginx_web_port=%s is not a TCP port: set it to 1-65535.' % text(data['port']))
    root = data['root']
    if _length(data['page_content']) == 0 or not (_length(root) == 0 or _starts_with_slash(root)):
        errors.append('nginx_web_page_content must not be empty and nginx_web_root (%s) must be empty '
                      '(the OS default) or an absolute path: fix them in the inventory.' % text(root))
    elif _length(root) > 0 and problem('nginx_web_root', root, 'root'):
        errors.append(problem('nginx_web_root', root, 'root'))
    errors += check_settings('nginx_web', _mapping(data.get('settings')))
    return errors


# nginx_lb ------------------------------------------------------------------------------------

def nginx_lb_preflight(data):
    """Problems with a balancer's nginx input (see nginx_lb_checks)."""
    return nginx_lb_checks(data)[0]


def nginx_lb_checks(data):
    """Problems and warnings with a balancer's nginx input: ``(errors, warnings)``.

    ``data`` keys: os_family, supported_os_families, listen_port, method, methods,
    backend_group, group_backends (the hosts of that group), backends, backend_port; optional
    ``services``: the input of services.build (the services, pools, certificates), whose
    problems come after those of the single-server variables.
    """
    _require(data, NGINX_LB_KEYS, 'nginx_lb_preflight')
    errors, warnings = [], []
    model = None
    if 'services' in data:
        model, service_errors, warnings = build_services(data['services'])
    # The single-server variables make the default service and pool: checked where they are used.
    default_pool_used = model is None or not _list(_mapping(data['services']).get('services')) or any(
        pool['default'] for pool in model['http_pools'] + model['stream_pools'])
    if data['os_family'] not in _list(data['supported_os_families']):
        errors.append('nginx_lb: OS family %s is not supported (supported: %s).'
                      % (text(data['os_family']), join(_list(data['supported_os_families']))))
    if not is_tcp_port(data['listen_port']):
        errors.append('nginx_lb_listen_port=%s is not a TCP port: set it to 1-65535.' % text(data['listen_port']))
    methods = _list(data['methods'])
    if data['method'] not in methods:
        errors.append('nginx_lb_method=%s is unknown: use one of %s.' % (text(data['method']), join(methods)))
    backends = _list(data['backends']) if default_pool_used else []
    if default_pool_used and not backends and not _list(data['group_backends']):
        errors.append('nginx_lb: no backends: the group nginx_lb_backend_group=%s is empty or missing and '
                      'nginx_lb_backends is empty. Add hosts to that group or list them in nginx_lb_backends.'
                      % text(data['backend_group']))
    for backend in backends:
        entry = _mapping(backend)
        # An address is anything that is not empty as a string (as the string filter renders None: 'None').
        has_address = 'address' in entry and str(plain(entry['address'])) != ''
        if not has_address or not is_tcp_port(entry.get('port', data['backend_port'])):
            errors.append('nginx_lb_backends entry %s needs an address and a port 1-65535.' % text(backend))
            continue
        for key, kind in (('address', 'word'), ('weight', 'positive'), ('max_fails', 'count'),
                          ('fail_timeout', 'nginx_time')):
            if key in entry:
                message = problem('nginx_lb_backends[%s].%s' % (text(entry['address']), key), entry[key], kind)
                if message:
                    errors.append(message)
    errors += check_settings('nginx_lb', _mapping(data.get('settings')))
    if model is not None:
        errors += service_errors
    errors += _check_lb_metrics(data, model)
    return errors, warnings


def _check_lb_metrics(data, model):
    """The metrics need Debian's exporter package, and stub_status a port no service listens on."""
    settings = _mapping(data.get('settings'))
    if not to_bool(settings.get('nginx_lb_metrics_enabled', False)):
        return []
    errors = []
    if data['os_family'] != 'Debian':
        errors.append('nginx_lb_metrics_enabled=true installs Debian\'s prometheus-nginx-exporter, and this host is %s. '
                      'Turn the metrics off here and run an exporter of your own against stub_status.'
                      % text(data['os_family']))
    port = settings.get('nginx_lb_stub_status_port')
    used = set()
    for service in (model or {}).get('http_services', []) + (model or {}).get('stream_services', []):
        used.add(service.get('port'))
        if service.get('tls'):
            used.add(_mapping(service['tls']).get('redirect_port'))
    if model is None:
        used.add(plain(data['listen_port']))
    if is_tcp_port(port) and to_int(port) in {to_int(value) for value in used if is_tcp_port(value)}:
        errors.append('nginx_lb_stub_status_port=%s is the port of a service: choose a port no service listens on.'
                      % text(port))
    return errors


# keepalived ----------------------------------------------------------------------------------

def instance_interface(instance, host, default):
    """The VRRP interface of an instance on a host: the node's, else the instance's, else ``default``."""
    node = _mapping(_mapping(instance.get('nodes')).get(host))
    if 'interface' in node:
        return node['interface']
    return instance.get('interface', default)


def _facts_key(interface):
    # Interface facts live under the name with '-' and '.' replaced by '_'.
    return text(interface).replace('-', '_').replace('.', '_')


def _host_address(host, hosts):
    """A host's unicast address when its node gives none: its ansible_host, else its name."""
    return _mapping(hosts.get(host)).get('ansible_host', host)


def _instances_summary(instances):
    """What the balancers must agree on, as JSON: names, VRIDs, nodes and VIPs, in order and with their types."""
    keys = ('name', 'virtual_router_id', 'nodes', 'virtual_ipaddresses')
    return json.dumps([[plain(_mapping(instance).get(key)) for key in keys] for instance in _list(instances)])


def _name(instance):
    return text(instance.get('name', '?'))


def _check_cluster(data, instances):
    errors = []
    host = data['host']
    members = _list(data['group_members'])
    supported = _list(data['supported_os_families'])
    if data['os_family'] not in supported or host not in members:
        errors.append('keepalived: OS family %s is not supported (%s), or %s is not in the group keepalived_group=%s: '
                      'add it to that group or set keepalived_group.'
                      % (text(data['os_family']), join(supported), text(host), text(data['group'])))
    names = [instance.get('name') for instance in instances]
    if not instances or _unique_count(names) != len(instances):
        errors.append('keepalived_instances is empty or repeats an instance name (%s): define each VRRP instance once.'
                      % join(instance.get('name', '?') for instance in instances))
    # A name that is no word at all has its message already (instance values).
    bad = [text(name) for name in names if isinstance(name, str) and name and not re.search(r'[\s;{}"\'#\\]', name)
           and not NAME_PATTERN.match(name)]
    if bad:
        errors.append('keepalived_instances: the instance name %s may hold only letters, digits, _, . and - (it names '
                      'the instance\'s maintenance file): rename it in the inventory.' % join(bad))
    return errors


def _check_health_check(health_check):
    if not to_bool(health_check['enabled']):
        return []
    # What the http mode asks (derived from nginx_lb_services when not given): never nothing.
    if health_check['mode'] == 'http' and health_check.get('targets') == []:
        return ['keepalived_health_check_targets: every service of nginx_lb_services has health_check off, so the '
                'http health check would ask nothing: turn health_check on for a service, list targets in '
                'keepalived_health_check_targets, or set keepalived_health_check_mode: process.']
    errors = []
    interval_error = _check_health_check_interval(health_check.get('interval'), health_check.get('keepalived_version'))
    if interval_error:
        errors.append(interval_error)
    if (health_check['mode'] in HEALTH_CHECK_MODES
            and health_check['behaviour'] in HEALTH_CHECK_BEHAVIOURS
            and all(to_int(health_check[key]) >= 1 for key in ('fall', 'rise'))
            and _starts_with_slash(health_check['script_path'])):
        return errors
    return ['keepalived_health_check_*: mode must be http or process (is %s), behaviour restart_then_fault or '
            'restart_then_stop (is %s), fall/rise at least 1 and script_path absolute. '
            'Fix them in the inventory.' % (text(health_check['mode']), text(health_check['behaviour']))] + errors


# keepalived reads a vrrp_script interval with decimals from 2.3 on (2.2.7 refuses 0.5). Below 0.1 s the
# script, which forks a request per target, would run most of the time.
SUBSECOND_SCRIPT_INTERVAL_SINCE = (2, 3)
MIN_SUBSECOND_SCRIPT_INTERVAL = 0.1


def _check_health_check_interval(interval, keepalived_version):
    """The health script's interval: whole seconds from 1, or from 0.1 s (3 decimals at most) on keepalived 2.3+."""
    try:
        value = float(interval)
    except (TypeError, ValueError):
        value = None
    subsecond = version_tuple(keepalived_version)[:2] >= SUBSECOND_SCRIPT_INTERVAL_SINCE
    if value is not None and value >= 1 and (subsecond or value == int(value)):
        return None
    if value is not None and subsecond and value >= MIN_SUBSECOND_SCRIPT_INTERVAL and round(value, 3) == value:
        return None
    if subsecond:
        return ('keepalived_health_check_interval=%s is not valid: with keepalived %s it must be a number of seconds, '
                '%s or more, with at most 3 decimals. Fix it in the inventory.'
                % (text(interval), text(keepalived_version), MIN_SUBSECOND_SCRIPT_INTERVAL))
    return ('keepalived_health_check_interval=%s is not valid: keepalived %s reads only whole seconds, 1 or more '
            '(decimals from 0.1 need keepalived 2.3, as Debian 13 ships; set keepalived_version when the '
            'balancers run another keepalived than their OS packages). Fix it in the inventory.'
            % (text(interval), text(keepalived_version) or 'before 2.3'))


def _check_nodes(data, instances):
    """Each instance names exactly the group's hosts, each node has a valid state and priority."""
    errors = []
    members = _list(data['group_members'])
    for instance in instances:
        nodes = instance.get('nodes')
        keys = sort(nodes) if isinstance(nodes, Mapping) else []
        if not isinstance(nodes, Mapping) or keys != sort(members):
            errors.append('keepalived_instances[%s].nodes lists %s but the group keepalived_group=%s holds %s: '
                          'give every balancer (and only them) a nodes entry with its state and priority.'
                          % (_name(instance), join(keys), text(data['group']), join(sort(members))))
    for instance in instances:
        nodes = instance.get('nodes')
        if not isinstance(nodes, Mapping):
            continue
        for host, node in nodes.items():
            node = _mapping(node)
            priority = node.get('priority', _MISSING)
            if (node.get('state', '') in NODE_STATES and priority is not _MISSING
                    and _DIGITS.match(str(priority)) and 1 <= to_int(priority) <= 254):
                continue
            errors.append('keepalived_instances[%s].nodes[%s]: state=%s priority=%s. The state must be MASTER or '
                          'BACKUP and the priority 1-254 (255 is reserved for the address owner): fix that node\'s entry.'
                          % (_name(instance), text(host), text(node['state']) if 'state' in node else 'unset',
                             'unset' if priority is _MISSING else text(priority)))
    return errors


def _check_masters(instances):
    """One MASTER per instance, with the highest priority (with nopreempt: none, one highest priority)."""
    errors = []
    for instance in instances:
        nodes = instance.get('nodes')
        if not isinstance(nodes, Mapping) or not nodes:
            continue  # reported by _check_nodes
        priorities = [(host, to_int(_mapping(node).get('priority'))) for host, node in nodes.items()]
        masters = [host for host, node in nodes.items() if _mapping(node).get('state') == 'MASTER']
        highest = max(priority for _host, priority in priorities)
        top = [host for host, priority in priorities if priority == highest]
        nopreempt = bool(instance.get('nopreempt', False))
        if len(masters) == (0 if nopreempt else 1) and len(top) == 1 and (nopreempt or masters == top):
            continue
        errors.append('keepalived_instances[%s]: MASTER nodes %s, highest priority %s. Give exactly one node state '
                      'MASTER and a priority above every BACKUP (with nopreempt, make every node BACKUP and one '
                      'priority the highest).' % (_name(instance), join(masters) or 'none', join(top)))
    return errors


def _check_router_ids(data, instances):
    """VRID 1-255, unique among the instances on one interface of this host."""
    errors = []
    host = data['host']
    interfaces = [instance_interface(instance, host, data['interface']) for instance in instances]
    vrids = [text(instance.get('virtual_router_id')) for instance in instances]
    for instance, interface, vrid in zip(instances, interfaces, vrids):
        same_network = [other.get('name') for other, other_interface, other_vrid in zip(instances, interfaces, vrids)
                        if other_vrid == vrid and other_interface == interface]
        if _DIGITS.match(vrid) and 1 <= to_int(vrid) <= 255 and len(same_network) == 1:
            continue
        errors.append('keepalived_instances[%s].virtual_router_id=%s: a VRID is 1-255 and unique among the instances '
                      'on one network, and %s use it on %s. Give each instance its own virtual_router_id.'
                      % (_name(instance), vrid, join(same_network), text(interface)))
    return errors


def _check_authentication(instances):
    """VRRPv2 PASS or AH with a 1-8 character secret; VRRPv3 has no authentication. Never shows the secret."""
    errors = []
    for instance in instances:
        version = instance.get('vrrp_version', 2)
        ok = to_int(version) in VRRP_VERSIONS
        if 'authentication' in instance:
            auth = _mapping(instance['authentication'])
            ok = (ok and to_int(version) == 2 and auth.get('auth_type', 'PASS') in AUTH_TYPES
                  and 1 <= _length(auth.get('auth_pass', '')) <= AUTH_PASS_MAX)
        if not ok:
            errors.append('keepalived_instances[%s].authentication: auth_pass must be 1-8 characters (keepalived '
                          'truncates longer ones, so a secret that differs after the 8th character is not what it '
                          'seems), auth_type PASS or AH, and VRRP version 3 (vrrp_version=%s) has no authentication. '
                          'Fix the secret or the version.' % (_name(instance), text(version)))
        elif 'authentication' in instance and _SECRET_UNSAFE.search(text(instance['authentication'].get('auth_pass'))):
            errors.append('keepalived_instances[%s].authentication: auth_pass holds a blank, a quote, a brace, # or !, '
                          'which keepalived.conf cannot carry (the value is not shown). Choose a secret of letters, '
                          'digits and other punctuation.' % _name(instance))
    return errors


def _check_interfaces(data, instances):
    """The interface of each instance exists on this host."""
    errors = []
    host = data['host']
    present = _list(_mapping(data['facts']).get('interfaces'))
    for instance in instances:
        interface = instance_interface(instance, host, data['interface'])
        if interface in present:
            continue
        errors.append("keepalived_instances[%s]: interface '%s' does not exist on %s (it has %s). Set "
                      "keepalived_interface (or the instance's or node's interface) in the inventory."
                      % (_name(instance), text(interface), text(host), join(sort(present))))
    return errors


def _check_vips(data, instances):
    """Each VIP is address or address/prefix; an IPv4 VIP lies in the subnet of its interface's IPv4 address."""
    errors = []
    host = data['host']
    facts = _mapping(data['facts'])
    for instance in instances:
        if 'virtual_ipaddresses' not in instance:
            continue
        interface = instance_interface(instance, host, data['interface'])
        ipv4 = _mapping(_mapping(facts.get(_facts_key(interface))).get('ipv4'))
        network = _ipv4_network(ipv4)
        for vip in _list(instance['virtual_ipaddresses']):
            ip = parse_vip(vip)
            # IPv6 VIPs and interfaces without IPv4 facts skip the subnet test.
            if ip is not None and (ip.version != 4 or network is None or ip in network):
                continue
            errors.append('keepalived_instances[%s].virtual_ipaddresses: %s is not an address/prefix, or it lies '
                          'outside the subnet of %s on %s (%s/%s). Use a free address of that subnet.'
                          % (_name(instance), text(vip), text(interface), text(host),
                             text(ipv4.get('address', 'no IPv4')), text(ipv4.get('netmask', '?'))))
    return errors


def _check_unicast(data, instances):
    """Unicast source and peers are IP addresses, and explicit unicast_peers are exactly the other balancers."""
    errors = []
    host = data['host']
    hosts = _mapping(data['hosts'])
    for instance in instances:
        if not instance.get('unicast', True):
            continue
        nodes = instance.get('nodes')
        nodes = nodes if isinstance(nodes, Mapping) else {}
        own_node = _mapping(nodes.get(host))
        own = instance.get('unicast_src_ip', own_node.get('address', _host_address(host, hosts)))
        peers = [_mapping(node).get('address', _host_address(peer, hosts))
                 for peer, node in sorted(nodes.items(), key=lambda item: _sort_key(item[0])) if peer != host]
        explicit = _list(instance['unicast_peers']) if 'unicast_peers' in instance else None
        if (ip_address(own) is not None and all(ip_address(peer) is not None for peer in peers)
                and (explicit is None or sort(explicit) == sort(peers))):
            continue
        errors.append("keepalived_instances[%s]: unicast needs IP addresses (this node: %s, peers: %s; set a node's "
                      "address or ansible_host), and unicast_peers (%s) must be exactly the other balancers' "
                      "addresses: %s. Remove unicast_peers to use that default."
                      % (_name(instance), text(own), join(peers), join(explicit or []), join(peers)))
    return errors


# Addresses a host already uses -----------------------------------------------------------------

def _fact_addresses(facts, vips, member):
    """Every IP address the facts show on any interface of a host, as (address, interface) pairs.

    On a VRRP member, an address that is one of ``vips`` and not the first IPv4 address of its
    interface is taken for a copy keepalived (or the loopback VIP unit) put there, not for an
    address of the host's own.
    """
    found = []
    facts = _mapping(facts)
    for interface in _list(facts.get('interfaces')):
        entry = _mapping(facts.get(_facts_key(interface)))
        primary = _mapping(entry.get('ipv4'))
        candidates = [(primary.get('address'), True)]
        candidates += [(_mapping(item).get('address'), False) for item in _list(entry.get('ipv4_secondaries'))]
        candidates += [(_mapping(item).get('address'), False) for item in _list(entry.get('ipv6'))]
        for value, first in candidates:
            ip = ip_address(value) if value is not None else None
            if ip is None or ip.is_loopback or ip.is_link_local:
                continue
            if member and not first and ip in vips:
                continue
            found.append((ip, text(interface)))
    return found


def _gateways(facts):
    facts = _mapping(facts)
    gateways = []
    for key in ('default_ipv4', 'default_ipv6'):
        ip = ip_address(_mapping(facts.get(key)).get('gateway', ''))
        if ip is not None:
            gateways.append(ip)
    return gateways


def _inventory_addresses(data, vips):
    """address -> [(host, where)] for every address an inventory host uses (its ansible_host and its facts)."""
    members = set(_list(data['group_members']))
    hosts = dict(_mapping(data['hosts']))
    own = dict(_mapping(hosts.get(data['host'])))
    own['facts'] = data['facts']
    hosts[data['host']] = own
    used = {}
    for host in sort(hosts):
        entry = _mapping(hosts[host])
        ip = ip_address(entry.get('ansible_host', ''))
        if ip is not None:
            used.setdefault(ip, []).append((host, 'its ansible_host'))
        if 'facts' in entry:
            for address, interface in _fact_addresses(entry['facts'], vips, host in members):
                used.setdefault(address, []).append((host, 'an address of its interface ' + interface))
            for gateway in _gateways(entry['facts']):
                used.setdefault(gateway, []).append((host, 'its default gateway'))
    return used


def _where(uses):
    seen = []
    for host, where in uses:
        if (host, where) not in seen:
            seen.append((host, where))
    return '; '.join('%s: %s' % (text(host), where) for host, where in seen)


def _vip_problem(ip, prefix):
    """Why an address cannot be a VIP at all, or None."""
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_link_local:
        return 'an unspecified, loopback, multicast or link-local address cannot be a VIP'
    if ip.version == 4 and prefix is not None and prefix < 31:
        network = ipaddress.IPv4Network('%s/%d' % (ip, prefix), strict=False)
        if ip in (network.network_address, network.broadcast_address):
            return 'it is the network or broadcast address of %s' % network
    return None


def _check_vip_addresses(data, instances):
    """No VIP is an address some host already uses, a reserved address, or a VIP of another instance."""
    errors = []
    vips = {}
    for instance in instances:
        for vip in _list(instance.get('virtual_ipaddresses')):
            ip = parse_vip(vip)
            if ip is not None:
                vips.setdefault(ip, []).append(_name(instance))
    used = _inventory_addresses(data, set(vips))
    for instance in instances:
        for vip in _list(instance.get('virtual_ipaddresses')):
            ip = parse_vip(vip)
            if ip is None:
                continue  # reported by _check_vips
            prefix = str(vip).partition('/')[2]
            problem = _vip_problem(ip, int(prefix) if prefix else None)
            if problem is None and ip in used:
                problem = 'it is already in use (%s), and keepalived deletes an address it gives up' % _where(used[ip])
            if problem is None and len(vips[ip]) > 1:
                problem = 'the instances %s all claim it' % join(vips[ip])
                vips[ip] = vips[ip][:1]  # one message per shared VIP
            if problem is None:
                continue
            errors.append('keepalived_instances[%s].virtual_ipaddresses: %s cannot be a VIP: %s. Use a free address '
                          'of the subnet that no host, gateway or other instance uses.' % (_name(instance), text(vip), problem))
    return errors


def _check_unicast_addresses(data, instances):
    """The unicast source is an address of this node, each peer an address of that peer, and none of them a VIP."""
    errors = []
    host = data['host']
    hosts = _mapping(data['hosts'])
    all_vips = {parse_vip(vip) for instance in instances for vip in _list(instance.get('virtual_ipaddresses'))}
    all_vips.discard(None)
    used = _inventory_addresses(data, all_vips)
    own = {address for address, _interface in _fact_addresses(data['facts'], all_vips, True)}
    for instance in instances:
        nodes = instance.get('nodes')
        if not instance.get('unicast', True) or not isinstance(nodes, Mapping) or host not in nodes:
            continue  # a host outside the nodes is reported by _check_nodes
        own_node = _mapping(nodes.get(host))
        source = instance.get('unicast_src_ip', own_node.get('address', _host_address(host, hosts)))
        source_ip = ip_address(source)
        if source_ip is None:
            continue  # reported by _check_unicast
        if source_ip not in own:
            variable = ('keepalived_instances[%s].unicast_src_ip' % _name(instance) if 'unicast_src_ip' in instance
                        else "keepalived_instances[%s].nodes[%s].address (default: its ansible_host)"
                        % (_name(instance), text(host)))
            errors.append('%s=%s is not an address of %s itself (it has %s)%s: keepalived could not send from it. '
                          "Set the node's address to one of %s's own addresses."
                          % (variable, text(source), text(host), join(sort(str(a) for a in own)) or 'none',
                             ' and it is a VIP' if source_ip in all_vips else '', text(host)))
        for peer, node in sorted(nodes.items(), key=lambda item: _sort_key(item[0])):
            if peer == host:
                continue
            address = _mapping(node).get('address', _host_address(peer, hosts))
            peer_ip = ip_address(address)
            if peer_ip is None:
                continue  # reported by _check_unicast
            peer_facts = _mapping(hosts.get(peer)).get('facts')
            if peer_facts is not None:
                peer_own = {a for a, _interface in _fact_addresses(peer_facts, all_vips, True)}
                wrong = peer_ip not in peer_own
            else:
                # Without the peer's facts: at least not a VIP nor an address another host uses.
                peer_own = None
                wrong = peer_ip in all_vips or any(user != peer for user, _where_ in used.get(peer_ip, []))
            if not wrong:
                continue
            errors.append("keepalived_instances[%s].nodes[%s].address (default: its ansible_host)=%s is not an address "
                          "of %s (%s): %s would send its adverts to the wrong host. Set that node's address to one of "
                          "%s's own addresses."
                          % (_name(instance), text(peer), text(address), text(peer),
                             ('it has ' + (join(sort(str(a) for a in peer_own)) or 'none')) if peer_own is not None
                             else 'it is a VIP or belongs to ' + _where(used.get(peer_ip, [])),
                             text(host), text(peer)))
    return errors


def _check_instance_settings(data, instances):
    """The instance keys that are written as they are: name, advert_int, preempt_delay, track_scripts, notify."""
    errors = []
    settings = _mapping(data.get('settings'))
    health = _mapping(data['health_check'])
    known = vrrp_script_names(settings.get('keepalived_vrrp_scripts', []))
    if to_bool(health.get('enabled')):
        known.append(settings.get('keepalived_health_check_name', health.get('name')))
    for index, instance in enumerate(instances):
        where = 'keepalived_instances[%s]' % _name(instance)
        message = problem('keepalived_instances[%d].name' % index, instance.get('name'), 'word')
        if message:
            errors.append(message)
        version = to_int(instance.get('vrrp_version', 2))
        advert = instance.get('advert_int', 1)
        if version == 3:
            ok = problem('', advert, 'seconds') is None and 0.01 <= float(advert) <= 40.95
            allowed = 'with VRRP version 3, 0.01-40.95 seconds'
        else:
            ok = problem('', advert, 'positive') is None and int(advert) <= 255
            allowed = 'with VRRP version 2, a whole number of seconds 1-255'
        if not ok:
            errors.append('%s.advert_int=%s is not valid: it must be %s. Fix it in the inventory.'
                          % (where, text(advert), allowed))
        delay = instance.get('preempt_delay', 0)
        if problem('', delay, 'count') is not None or int(delay) > 1000:
            errors.append('%s.preempt_delay=%s is not valid: it must be a whole number of seconds 0-1000 (0 leaves '
                          'it out). Fix it in the inventory.' % (where, text(delay)))
        if 'track_scripts' in instance:
            tracked = instance['track_scripts']
            unknown = [name for name in _list(tracked) if name not in known]
            if not isinstance(tracked, list) or unknown:
                errors.append('%s.track_scripts=%s names vrrp_scripts that are not defined (%s): use the names of '
                              'keepalived_vrrp_scripts or of the enabled health check (%s).'
                              % (where, text(tracked), join(unknown) or 'not a list', join(known) or 'none'))
        for event in ('notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify'):
            if event in instance:
                message = check_command('%s.%s' % (where, event), instance[event])
                if message:
                    errors.append(message)
        for host, node in sorted(_mapping(instance.get('nodes')).items(), key=lambda item: _sort_key(item[0])):
            if 'interface' in _mapping(node):
                message = problem('%s.nodes[%s].interface' % (where, text(host)), node['interface'], 'word')
                if message:
                    errors.append(message)
        if 'interface' in instance:
            message = problem(where + '.interface', instance['interface'], 'word')
            if message:
                errors.append(message)
    return errors


# global_defs settings the role writes from a variable of its own: not again in keepalived_global_defs_extra.
GLOBAL_DEFS_VARIABLES = {
    'vrrp_garp_master_delay': 'keepalived_garp_master_delay',
    'vrrp_garp_master_repeat': 'keepalived_garp_master_repeat',
    'vrrp_garp_master_refresh': 'keepalived_garp_master_refresh',
    'vrrp_garp_master_refresh_repeat': 'keepalived_garp_master_refresh_repeat',
    'vrrp_startup_delay': 'keepalived_vrrp_startup_delay',
    'router_id': 'keepalived_router_id',
    'script_user': 'keepalived_script_user',
}


def _check_settings(data):
    settings = _mapping(data.get('settings'))
    errors = check_settings('keepalived', settings)
    extra = settings.get('keepalived_global_defs_extra')
    for line in extra if isinstance(extra, list) else []:
        keyword = line.split()[0] if isinstance(line, str) and line.split() else ''
        if keyword in GLOBAL_DEFS_VARIABLES:
            errors.append('keepalived_global_defs_extra sets %s, which the role writes from %s: set that variable '
                          'instead and remove the line.' % (keyword, GLOBAL_DEFS_VARIABLES[keyword]))
    if 'keepalived_vrrp_scripts' in settings:
        errors += check_vrrp_scripts(settings['keepalived_vrrp_scripts'],
                                     settings.get('keepalived_health_check_name', 'chk_nginx'))
    if to_bool(settings.get('keepalived_metrics_enabled')) and data.get('os_family') != 'Debian':
        errors.append('keepalived_metrics_enabled=true installs Debian\'s prometheus-node-exporter, and this host is %s. '
                      'Turn the metrics off here.' % text(data.get('os_family')))
    if to_bool(settings.get('keepalived_metrics_enabled')) and not to_bool(settings.get('keepalived_notify_enabled', True)):
        errors.append('keepalived_metrics_enabled=true needs keepalived_notify_enabled=true: the notify script records '
                      'the VRRP states the metrics report. Turn keepalived_notify_enabled back on, or the metrics off.')
    return errors


def _check_agreement(data, instances):
    """The play's other balancers define the same instances (names, VRIDs, nodes, VIPs)."""
    host = data['host']
    hosts = _mapping(data['hosts'])
    own = _instances_summary(instances)
    mismatch = [other for other in _list(data['play_members']) if other != host
                and _instances_summary(_mapping(hosts.get(other)).get('keepalived_instances', [])) != own]
    if not mismatch:
        return []
    return ['keepalived_instances differ between %s and %s (names, virtual_router_id, nodes or VIPs): define the '
            'list once for the group keepalived_group=%s.' % (text(host), join(mismatch), text(data['group']))]


def keepalived_preflight(data):
    """Problems with a balancer's VRRP input, seen from one host of the cluster.

    ``data`` keys: host (inventory_hostname), os_family, supported_os_families, group
    (keepalived_group), group_members (its hosts), play_members (the play's hosts of
    that group), instances (keepalived_instances), interface (keepalived_interface),
    facts (the host's ansible_facts: interfaces and each interface's ipv4), hosts
    (host -> {ansible_host} for this host and every node, with keepalived_instances
    for the play members), health_check (enabled, mode, behaviour, interval, fall,
    rise, script_path).
    """
    _require(data, KEEPALIVED_KEYS, 'keepalived_preflight')
    _require(data['health_check'], HEALTH_CHECK_KEYS, 'keepalived_preflight health_check')
    instances = [_mapping(instance) for instance in _list(data['instances'])]
    errors = _check_cluster(data, instances)
    errors += _check_health_check(data['health_check'])
    errors += _check_nodes(data, instances)
    errors += _check_masters(instances)
    errors += _check_router_ids(data, instances)
    errors += _check_authentication(instances)
    errors += _check_interfaces(data, instances)
    errors += _check_vips(data, instances)
    errors += _check_unicast(data, instances)
    errors += _check_vip_addresses(data, instances)
    errors += _check_unicast_addresses(data, instances)
    errors += _check_instance_settings(data, instances)
    errors += _check_settings(data)
    errors += _check_agreement(data, instances)
    return errors


def keepalived_preflight_hosts(hostvars, names, instances, host, play_members):
    """What the keepalived checks read of other hosts, keyed by host name (the input's ``hosts``).

    ``names`` are the inventory's hosts; every node named in ``instances`` is added. Each entry has
    ``ansible_host`` (the host name for a node outside the inventory), ``facts`` where that host's
    interfaces were gathered (never the checked ``host`` itself: its facts are the input's own) and,
    for the play's members of the VRRP group, their ``keepalived_instances``.
    """
    nodes = [name for instance in _list(instances) for name in _mapping(_mapping(instance).get('nodes'))]
    out = {}
    for name in list(names) + nodes:
        if name in out:
            continue
        values = hostvars[name] if name in hostvars else {}
        entry = {'ansible_host': values.get('ansible_host', name)}
        facts = values.get('ansible_facts')
        if name != host and isinstance(facts, Mapping) and 'interfaces' in facts:
            entry['facts'] = facts
        if name in play_members:
            entry['keepalived_instances'] = values.get('keepalived_instances', [])
        out[name] = entry
    return out
