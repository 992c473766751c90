# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filters of the failover_drill role: the drills of a run and the cluster they work on.

Documented in the sidecar YAML files. Each reads its values as the role's Jinja read them before:
numbers as the ``int`` and ``float`` filters convert them, flags as the ``bool`` filter does, and
node lists sorted as the ``sort`` filter sorts (stable, strings ignoring case).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import to_bool

UNREACHABLE_STATE = 'unknown (host unreachable)'


def _int(value):
    """What the ``int`` filter makes of a value: 0 when it is no number."""
    try:
        return int(value, 10) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return 0


def _float(value):
    """What the ``float`` filter makes of a value: 0.0 when it is no number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _mapping(value):
    """The value when it is a dict, else an empty one (a missing or malformed part of the inventory)."""
    return value if isinstance(value, Mapping) else {}


def _sort_key(value):
    """The ``sort`` filter's key: strings compare ignoring case."""
    return value.lower() if isinstance(value, str) else value


def _unique(values):
    """The values in their order, each once (the ``unique`` filter)."""
    out = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def drill_plan(kinds, runs):
    """One drill per kind and run, kinds interleaved run by run: [{'fault', 'run'}]."""
    return [{'fault': kind, 'run': run} for run in range(1, _int(runs) + 1) for kind in kinds]


def _sorted_nodes(pairs, instance, field):
    """(host, node) pairs sorted by the node's ``field``, highest first, as ``sort(reverse=true)`` sorts them."""
    try:
        return sorted(pairs, key=lambda pair: _sort_key(_mapping(pair[1]).get(field)), reverse=True)
    except TypeError:
        raise AnsibleFilterError('the nodes of instance %r need comparable %s values'
                                 % (_mapping(instance).get('name'), field))


def _nodes(instance):
    """The instance's nodes as (host, node) pairs, in the inventory's order."""
    return list(_mapping(_mapping(instance).get('nodes')).items())


def _master(instance):
    """The MASTER node, or with nopreempt (every node BACKUP) the highest priority; ties in inventory order."""
    ranked = _sorted_nodes(_sorted_nodes(_nodes(instance), instance, 'priority'), instance, 'state')
    return ranked[0][0] if ranked else ''


def drill_nodes(instance):
    """The node expected to hold the VIP (the MASTER, or with nopreempt the highest priority) and the standby.

    The standby is the highest priority of the other nodes; '' when there is none.
    """
    master = _master(instance)
    others = _sorted_nodes([pair for pair in _nodes(instance) if pair[0] != master], instance, 'priority')
    return {'master': master, 'standby': others[0][0] if others else ''}


def _instance_vips(instance, drilled, timeout):
    """The drill_vips entries of one instance's VIPs."""
    master = _master(instance)
    nopreempt = None
    out = []
    for vip in instance.get('virtual_ipaddresses') or []:
        if nopreempt is None:
            nopreempt = to_bool(instance.get('nopreempt', False))
        out.append({'address': str(vip), 'instance': instance.get('name'), 'drilled': drilled, 'master': master,
                    'nopreempt': nopreempt, 'timeout': timeout})
    return out


def drill_vips(instances, drilled, failback_timeout, timeout):
    """Every VIP of every instance, the drilled instance's first, with its master, nopreempt and timeout.

    ``timeout`` of a VIP is ``failback_timeout`` for the drilled instance, else ``timeout`` plus the
    instance's preempt_delay: how long its return may take.
    """
    drilled = _mapping(drilled)
    name = drilled.get('name')
    others = [inst for inst in instances or [] if isinstance(inst, Mapping) and inst.get('name') != name]
    out = _instance_vips(drilled, True, _float(failback_timeout))
    for inst in others:
        out += _instance_vips(inst, False, _float(timeout) + _float(inst.get('preempt_delay', 0)))
    return out


def drill_check_vips(vips, holders=None):
    """drill_vips as cluster_check takes them: address, instance and the master expected to hold each.

    Without ``holders`` (before a drill) the master is the VIP's master for the drilled instance and
    for preempting ones, and none (any one holder) for a nopreempt VIP of another instance. With
    ``holders`` (address: balancer, as the drill found them) each VIP's master is its holder.
    """
    out = []
    for vip in vips or []:
        if holders is None:
            master = vip['master'] if vip['drilled'] or not vip['nopreempt'] else None
        elif vip['address'] in holders:
            master = holders[vip['address']]
        else:
            raise AnsibleFilterError('drill_check_vips: no holder recorded for %s' % vip['address'])
        out.append({'address': vip['address'], 'instance': vip['instance'], 'master': master})
    return out


def drill_service_hosts(balancers, balancer_services, backends, backend_services):
    """The hosts whose services a drill records and brings back: each balancer, then each other backend."""
    out = [{'host': host, 'services': list(balancer_services)} for host in balancers]
    for host in _unique(backends or []):
        if host not in balancers:
            out.append({'host': host, 'services': list(backend_services)})
    return out


def drill_running(results):
    """Registered ``systemctl is-active`` results (one per drill_service_hosts item) -> the active services per host.

    Hosts with no active service are left out.
    """
    out = []
    for result in results or []:
        item = result['item']
        states = result.get('stdout_lines') or []
        active = [service for service, state in zip(item['services'], states) if state == 'active']
        if active:
            out.append({'host': item['host'], 'services': active})
    return out


def drill_not_running(results):
    """Registered ``systemctl is-active`` results -> one message per service that is not active (again)."""
    out = []
    for result in results or []:
        item = result['item']
        states = result.get('stdout_lines') or []
        for index, service in enumerate(item['services']):
            state = states[index] if len(states) > index else UNREACHABLE_STATE
            if state != 'active':
                out.append('%s on %s is %s (it was active before the drill)' % (service, item['host'], state))
    return out


def _host_interface(hostvars, host):
    try:
        return hostvars[host]['keepalived_interface']
    except KeyError:
        return ''


def drill_interfaces(balancers, instance, hostvars):
    """Each balancer's VRRP interface for the instance: its node's, else the instance's, else keepalived_interface."""
    instance = _mapping(instance)
    nodes = _mapping(instance.get('nodes'))
    out = {}
    for host in balancers:
        node = _mapping(nodes.get(host))
        if 'interface' in node:
            interface = node['interface']
        elif 'interface' in instance:
            interface = instance['interface']
        else:
            interface = _host_interface(hostvars, host)
        out[host] = str(interface)
    return out


def drill_stray_holders(results):
    """cluster_check results -> every balancer that holds a VIP it should not, once each."""
    strays = []
    for result in results or []:
        if not result['ok']:
            strays += [host for host in result['holders'] if host != result['master']]
    return _unique(strays)


def drill_probe_target(services, service, url, vip, listen_port):
    """What the probe requests: ``{url, connect_to, error}``.

    ``url`` given: that URL, resolved by the client. Else the nginx_lb service named ``service``
    (``services`` is the master's nginx_lb_services): https://<its first server name>:<port>/ for a
    TLS service, http://<name>:<port>/ for plain HTTP, http://<VIP>:<port>/ for a stream service
    (the probe speaks HTTP through the pass-through), every one sent to the VIP. Neither: the VIP
    on ``listen_port``, as before services existed. ``error`` says what is wrong, or is empty.
    """
    vip = str(vip)
    if url:
        return {'url': str(url), 'connect_to': '', 'error': ''}
    if not service:
        return {'url': 'http://%s:%d/' % (vip, _int(listen_port) or 80), 'connect_to': '', 'error': ''}
    known = [entry for entry in (services or []) if isinstance(entry, Mapping)]
    found = [entry for entry in known if entry.get('name') == service]
    if not found:
        return {'url': '', 'connect_to': '', 'error': 'failover_drill_service=%s is no service of the balancers '
                '(nginx_lb_services: %s).' % (service, ', '.join(str(e.get('name')) for e in known) or 'none')}
    entry = found[0]
    tls = isinstance(entry.get('tls'), Mapping)
    port = _int(entry.get('port')) or (443 if tls else 80)
    if entry.get('mode', 'http') == 'stream':
        return {'url': 'http://%s:%d/' % (vip, port), 'connect_to': '', 'error': ''}
    names = [name for name in (entry.get('server_names') or []) if name not in ('_', '') and not str(name).startswith(('~', '*', '.'))]
    host = names[0] if names else vip
    default = 443 if tls else 80
    return {'url': '%s://%s%s/' % ('https' if tls else 'http', host, '' if port == default else ':%d' % port),
            'connect_to': vip if host != vip else '', 'error': ''}


class FilterModule:
    def filters(self):
        return {
            'drill_plan': drill_plan,
            'drill_nodes': drill_nodes,
            'drill_vips': drill_vips,
            'drill_check_vips': drill_check_vips,
            'drill_service_hosts': drill_service_hosts,
            'drill_running': drill_running,
            'drill_not_running': drill_not_running,
            'drill_interfaces': drill_interfaces,
            'drill_stray_holders': drill_stray_holders,
            'drill_probe_target': drill_probe_target,
        }
