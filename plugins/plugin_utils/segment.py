# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a scan of the balancers' segments (the vrrp_scan module) means for the cluster: foreign VRRP
routers on a VRID we use, and VIPs that another host answers ARP for, are refusals; foreign routers
on other VRIDs are warnings. Controller-side and pure.
"""

from __future__ import annotations

from collections.abc import Mapping


def _list(value):
    return list(value) if isinstance(value, (list, tuple)) else []


def _mapping(value):
    return value if isinstance(value, Mapping) else {}


def plan(instances, host, default_interface):
    """The scans a balancer makes: one per interface its instances use, with the VRIDs and the IPv4 VIPs
    there, and how long to listen (3 x the largest advert interval + 1 s, at least 2 s)."""
    scans = {}
    for instance in _list(instances):
        instance = _mapping(instance)
        node = _mapping(_mapping(instance.get('nodes')).get(host))
        if not node:
            continue
        interface = node.get('interface', instance.get('interface', default_interface))
        scan = scans.setdefault(interface, {'interface': interface, 'vrids': {}, 'vips': [], 'advert_int': 0.0})
        scan['vrids'][int(instance.get('virtual_router_id', 0))] = str(instance.get('name', '?'))
        scan['vips'] += [str(vip).split()[0].split('/')[0] for vip in _list(instance.get('virtual_ipaddresses'))
                         if ':' not in str(vip)]
        scan['advert_int'] = max(scan['advert_int'], float(instance.get('advert_int', 1)))
    out = []
    for scan in scans.values():
        scan['duration'] = round(max(2.0, 3 * scan.pop('advert_int') + 1.0), 2)
        out.append(scan)
    return out


def ours(hostvars, balancers):
    """The addresses and hardware addresses of our balancers, from their gathered facts and inventory, and
    the balancers whose facts were not gathered (``unknown``: outside the run)."""
    addresses, macs, unknown = set(), set(), []
    for name in _list(balancers):
        values = _mapping(_mapping(hostvars).get(name))
        if values.get('ansible_host'):
            addresses.add(str(values['ansible_host']))
        facts = _mapping(values.get('ansible_facts'))
        if 'interfaces' not in facts:
            unknown.append(name)
        addresses.update(str(a) for a in _list(facts.get('all_ipv4_addresses')))
        for interface in _list(facts.get('interfaces')):
            entry = _mapping(facts.get(str(interface).replace('-', '_').replace('.', '_')))
            if entry.get('macaddress'):
                macs.add(str(entry['macaddress']).lower())
        for instance in _list(values.get('keepalived_instances')):
            for node in _mapping(_mapping(instance).get('nodes')).values():
                if _mapping(node).get('address'):
                    addresses.add(str(node['address']))
    return {'addresses': sorted(addresses), 'macs': sorted(macs), 'unknown': unknown}


def findings(scans, own):
    """The vrrp_scan results of one balancer (each with its plan's interface, vrids and vips) against
    ``own`` (see ``ours``) -> {'errors': [...], 'warnings': [...]}."""
    addresses = set(_list(_mapping(own).get('addresses')))
    macs = {str(mac).lower() for mac in _list(_mapping(own).get('macs'))}
    errors, warnings = [], []
    for scan in _list(scans):
        scan = _mapping(scan)
        interface = scan.get('interface')
        vrids = {int(vrid): name for vrid, name in _mapping(scan.get('vrids')).items()}
        for router in _list(scan.get('routers')):
            router = _mapping(router)
            if router.get('source') in addresses:
                continue
            seen = ('%s (priority %s, VRRPv%s, addresses %s)'
                    % (router.get('source'), router.get('priority'), router.get('version'),
                       ', '.join(_list(router.get('addresses'))) or 'none'))
            vrid = int(router.get('vrid', 0))
            if vrid in vrids:
                errors.append('VRID %d, the virtual_router_id of keepalived_instances[%s], is advertised on %s by %s, '
                              'which is not one of the balancers. Two clusters with one VRID on a segment fight over '
                              'their VIPs: give %s another virtual_router_id, or stop that router (docs/security.md).'
                              % (vrid, vrids[vrid], interface, seen, vrids[vrid]))
            else:
                warnings.append('VRRP router %s on %s uses VRID %d: not one of the balancers, and no instance of '
                                'theirs uses that VRID. Keep it that way when you add instances.'
                                % (seen, interface, vrid))
        for vip, answered in sorted(_mapping(scan.get('arp')).items()):
            foreign = [mac for mac in _list(answered) if str(mac).lower() not in macs]
            if foreign and _list(_mapping(own).get('unknown')):
                # A balancer outside the run (--limit) may be the one answering: its interfaces are not known.
                warnings.append('%s, a VIP on %s, answers ARP from %s, which is no interface of the balancers whose '
                                'facts this run gathered; %s did not take part, so it may be theirs. Run without '
                                '--limit to tell.' % (vip, interface, ', '.join(foreign),
                                                      ', '.join(_list(_mapping(own).get('unknown')))))
            elif foreign:
                errors.append('%s, a VIP on %s, answers ARP from %s, which is no interface of the balancers: another '
                              'host uses that address. Free it, or choose another VIP.'
                              % (vip, interface, ', '.join(foreign)))
    return {'errors': errors, 'warnings': warnings}
