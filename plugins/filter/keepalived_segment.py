# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filters of the keepalived role's scan for foreign VRRP routers (plugins/plugin_utils/segment.py)."""

from __future__ import annotations

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.segment import findings, ours, plan


def keepalived_scan_plan(instances, host, default_interface):
    """The scans a balancer makes: interface, VRIDs and IPv4 VIPs there, seconds to listen."""
    return plan(instances, host, default_interface)


def keepalived_scan_ours(hostvars, balancers):
    """The addresses and hardware addresses of the balancers."""
    return ours(hostvars, balancers)


def keepalived_scan_findings(scans, own):
    """One balancer's scans against the balancers' own addresses: errors and warnings."""
    return findings(scans, own)


class FilterModule:
    def filters(self):
        return {'keepalived_scan_plan': keepalived_scan_plan, 'keepalived_scan_ours': keepalived_scan_ours,
                'keepalived_scan_findings': keepalived_scan_findings}
