# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filters of the fleet check (plugins/plugin_utils/fleet.py): the pairs of an inventory,
checked together."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.fleet import fleet

# What the fleet check reads of each balancer, and the role default when the host does not set it.
_READ = {'pair': ('keepalived_group', 'lb'), 'l2_domain': ('keepalived_l2_domain', ''),
         'instances': ('keepalived_instances', []), 'services': ('nginx_lb_services', []),
         'listen_address': ('nginx_lb_listen_address', ''), 'listen_port': ('nginx_lb_listen_port', 80)}
# Of an instance, only what the checks need: never its authentication.
_INSTANCE_KEYS = ('name', 'virtual_router_id', 'virtual_ipaddresses')
_SERVICE_KEYS = ('name', 'listen_address', 'port')


def _only(value, keys):
    return {key: value[key] for key in keys if key in value} if isinstance(value, Mapping) else {}


def keepalived_fleet_input(hostvars, balancers, play_hosts, allow_partial_pair=False, reserved_vrids=()):
    """The fleet check's input from hostvars: every balancer of the inventory (``balancers``), the run's hosts."""
    out = {}
    for host in balancers:
        values = hostvars[host]
        entry = {key: values.get(name, default) for key, (name, default) in _READ.items()}
        entry['instances'] = [_only(i, _INSTANCE_KEYS) for i in entry['instances'] or []]
        entry['services'] = [_only(s, _SERVICE_KEYS) for s in entry['services'] or []]
        out[host] = entry
    return {'balancers': out, 'play_hosts': list(play_hosts), 'allow_partial_pair': allow_partial_pair,
            'reserved_vrids': list(reserved_vrids or [])}


def keepalived_fleet(data):
    """Pairs, chosen VRIDs and problems of the fleet (see plugins/plugin_utils/fleet.py)."""
    return fleet(data)


class FilterModule:
    def filters(self):
        return {'keepalived_fleet_input': keepalived_fleet_input, 'keepalived_fleet': keepalived_fleet}
