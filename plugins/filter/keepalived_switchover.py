# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filters of the keepalived role's switchover (plugins/plugin_utils/switchover.py)."""

from __future__ import annotations

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.switchover import (
    check_vips,
    maintenance_track,
    parse_data,
    plan,
    refusals,
)


def keepalived_data_states(text):
    """keepalived's data dump -> {'instances': {name: {state, ...}}, 'track_files': {name: {file, status}}}."""
    return parse_data(text)


def keepalived_switchover_plan(instances, host, state, selected=None):
    """Which instances move off (away) or back to (back) ``host``, and which node takes their VIPs."""
    return plan(instances, host, state, selected)


def keepalived_switchover_refusals(moves, host, states, holders):
    """Why a switchover must not go on (empty: it may)."""
    return refusals(moves, host, states, holders)


def keepalived_switchover_vips(moves):
    """The VIPs of the moves as the cluster check takes them."""
    return check_vips(moves)


def keepalived_maintenance_track(instance_name):
    """The track_file name of an instance's maintenance file."""
    return maintenance_track(instance_name)


class FilterModule:
    def filters(self):
        return {
            'keepalived_data_states': keepalived_data_states,
            'keepalived_switchover_plan': keepalived_switchover_plan,
            'keepalived_switchover_refusals': keepalived_switchover_refusals,
            'keepalived_switchover_vips': keepalived_switchover_vips,
            'keepalived_maintenance_track': keepalived_maintenance_track,
        }
