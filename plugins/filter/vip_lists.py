# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filters of the keepalived role: address lists derived from keepalived_instances."""

from __future__ import annotations

from collections.abc import Mapping


def _vips(instances):
    for instance in instances if isinstance(instances, list) else []:
        if isinstance(instance, Mapping):
            for vip in instance.get('virtual_ipaddresses') or []:
                # "address/prefix", optionally followed by keepalived options: the address alone.
                address = str(vip).split()[0].split('/')[0] if str(vip).strip() else ''
                if address:
                    yield address


def loopback_hosts(instances):
    """Every VIP of every instance, once, in order, as the host address the loopback interface gets (/32 or /128)."""
    hosts = []
    for address in _vips(instances):
        host = address + ('/128' if ':' in address else '/32')
        if host not in hosts:
            hosts.append(host)
    return hosts


def unicast_peers(instance, host, hostvars):
    """The unicast peers of ``host`` in an instance: each other node's address, else its ansible_host, else its name."""
    nodes = instance.get('nodes') if isinstance(instance, Mapping) else None
    peers = []
    for name, node in sorted((nodes or {}).items()):
        if name == host:
            continue
        node = node if isinstance(node, Mapping) else {}
        values = hostvars[name] if name in hostvars else {}
        peers.append(str(node.get('address') or values.get('ansible_host') or name))
    return peers


class FilterModule:
    def filters(self):
        return {'loopback_hosts': loopback_hosts, 'keepalived_unicast_peers': unicast_peers}
