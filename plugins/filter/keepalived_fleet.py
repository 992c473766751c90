# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filters of the fleet check (plugins/plugin_utils/fleet.py): the pairs of an inventory,
checked together; and of the fleet status (plugins/plugin_utils/fleet_status.py)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.fleet import (
    fleet, rounds, stop_reason, summary_lines, to_update,
)
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.fleet_status import (
    drill_summaries, fleet_status, line, markdown,
)

# What the fleet check reads of each balancer, and the role default when the host does not set it.
_READ = {'pair': ('keepalived_group', 'lb'), 'l2_domain': ('keepalived_l2_domain', ''),
         'instances': ('keepalived_instances', []), 'services': ('nginx_lb_services', []),
         'listen_address': ('nginx_lb_listen_address', ''), 'listen_port': ('nginx_lb_listen_port', 80)}
# Of an instance, only what the checks need: never its authentication.
_INSTANCE_KEYS = ('name', 'virtual_router_id', 'virtual_ipaddresses')
_SERVICE_KEYS = ('name', 'listen_address', 'port')


def _only(value, keys):
    return {key: value[key] for key in keys if key in value} if isinstance(value, Mapping) else {}


def keepalived_fleet_input(hostvars, balancers, play_hosts, allow_partial_pair=False, reserved_vrids=(), waves=None):
    """The fleet check's input from hostvars: every balancer of the inventory (``balancers``), the run's hosts,
    and the settings of the rolling update's waves (``waves``: fleet_canary, fleet_canary_pair, fleet_wave_size,
    fleet_max_fail_percentage)."""
    out = {}
    for host in balancers:
        values = hostvars[host]
        entry = {key: values.get(name, default) for key, (name, default) in _READ.items()}
        entry['instances'] = [_only(i, _INSTANCE_KEYS) for i in entry['instances'] or []]
        entry['services'] = [_only(s, _SERVICE_KEYS) for s in entry['services'] or []]
        out[host] = entry
    return {'balancers': out, 'play_hosts': list(play_hosts), 'allow_partial_pair': allow_partial_pair,
            'reserved_vrids': list(reserved_vrids or []), 'waves': dict(waves or {})}


def keepalived_fleet(data):
    """Pairs, chosen VRIDs and problems of the fleet (see plugins/plugin_utils/fleet.py)."""
    return fleet(data)


def keepalived_fleet_rounds(order, hostvars, waves):
    """The rolling update's rounds: ``order`` (the running balancers, in update order) one per pair at a time,
    wave after wave (``waves``: the fleet check's)."""
    pair_of = {host: str(hostvars[host].get('keepalived_group') or 'lb') for host in order}
    return rounds(order, pair_of, waves)


def keepalived_fleet_to_update(order, hostvars):
    """The running balancers of ``order`` (in that order) that take a round of the rolling update, from what
    each one's check (``__site_would_change``) found."""
    return to_update(order, {host: hostvars[host].get('__site_would_change') if host in hostvars else None
                             for host in order})


def keepalived_fleet_stop(fleet_result, failed_hosts):
    """Why the rolling update stops now ('' to go on), from the fleet check's result and the failed hosts."""
    return stop_reason(fleet_result['waves'], fleet_result['pairs'], failed_hosts, fleet_result['wave_settings'])


def keepalived_fleet_summary(fleet_result, hostvars, live_hosts):
    """One line per pair of the run: what changed on its balancers, or that it failed or was stopped
    (``live_hosts``: the balancers that have not failed)."""
    hosts = {}
    for info in fleet_result['pairs'].values():
        for host in info['members']:
            values = hostvars[host] if host in hostvars else {}
            stopped = bool(values.get('__site_stopped'))
            hosts[host] = {'in_run': '__fleet' in values, 'changes': values.get('__site_changes') or [],
                           'done': host in live_hosts and not stopped, 'stopped': stopped}
    return summary_lines(fleet_result['pairs'], hosts)


def keepalived_fleet_status(pairs, hostvars, hosts, drill_dir, now, warning_days=21):
    """The fleet status of ``pairs`` (the fleet check's): each host's ``__fleet_status`` result, the drill
    reports of ``drill_dir`` on the controller; ``now``: the controller's time (UTC)."""
    balancers = {}
    for host in hosts:
        result = hostvars[host].get('__fleet_status') if host in hostvars else None
        if isinstance(result, Mapping):
            balancers[host] = dict(result)
    if not isinstance(now, datetime.datetime):
        now = datetime.datetime.fromisoformat(str(now))
    now = now if now.tzinfo else now.replace(tzinfo=datetime.timezone.utc)
    return fleet_status({'pairs': pairs, 'balancers': balancers, 'drills': drill_summaries(str(drill_dir)),
                         'now': now, 'warning_days': warning_days})


def keepalived_fleet_status_vips(instances):
    """What balancer_status looks for: each VIP of ``keepalived_instances`` with its instance."""
    return [{'vip': str(vip).split()[0], 'instance': instance.get('name')}
            for instance in instances or [] if isinstance(instance, Mapping)
            for vip in instance.get('virtual_ipaddresses') or [] if str(vip).split()]


def keepalived_fleet_status_stamp(time):
    """The status's time (ISO 8601) as the report files name it: 20261206T010203Z."""
    moment = datetime.datetime.fromisoformat(str(time))
    return moment.astimezone(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')


def keepalived_fleet_status_lines(status):
    """One line of text per pair."""
    return [line(row) for row in status['pairs']]


def keepalived_fleet_status_markdown(status):
    """The status as Markdown."""
    return markdown(status)


class FilterModule:
    def filters(self):
        return {'keepalived_fleet_input': keepalived_fleet_input, 'keepalived_fleet': keepalived_fleet,
                'keepalived_fleet_rounds': keepalived_fleet_rounds, 'keepalived_fleet_stop': keepalived_fleet_stop,
                'keepalived_fleet_to_update': keepalived_fleet_to_update,
                'keepalived_fleet_summary': keepalived_fleet_summary,
                'keepalived_fleet_status': keepalived_fleet_status,
                'keepalived_fleet_status_lines': keepalived_fleet_status_lines,
                'keepalived_fleet_status_vips': keepalived_fleet_status_vips,
                'keepalived_fleet_status_stamp': keepalived_fleet_status_stamp,
                'keepalived_fleet_status_markdown': keepalived_fleet_status_markdown}
