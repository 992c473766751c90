# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nginx_lb's internal filters for its services and pools (plugins/plugin_utils/services.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.services import (
    build,
    group_backends,
    health_targets,
    peer_checks,
    referenced_groups,
    vip_checks,
)


def nginx_lb_model(data):
    """What nginx.conf renders for one balancer. The preflight has checked the input; a problem left
    here (a role run without its preflight) still stops the run before a file is written."""
    model, errors, _warnings = build(data)
    if errors:
        raise AnsibleFilterError('nginx_lb: ' + ' '.join(errors))
    return model


def nginx_lb_group_backends(hostvars, groups, names):
    """group -> [{host, address, port}] for the groups the pools draw their backends from."""
    return group_backends(hostvars, groups, names)


def nginx_lb_pool_groups(pools, settings):
    """The inventory groups the pools (the default one included) take their backends from."""
    return referenced_groups(pools, settings)


def nginx_lb_vip_checks(services, vips, listen_port):
    """The requests that show every service answering through the VIPs."""
    return vip_checks(services, vips, listen_port)


def nginx_lb_health_targets(services, health_location='/healthz', listen_address=''):
    """What keepalived's health check asks on a balancer to see every one of its services."""
    return health_targets(services, health_location, listen_address)


def nginx_lb_peer_checks(services, listen_address='', listen_port=80):
    """What a balancer asks its own nginx to show that it reaches the backends (a switchover's peer check)."""
    return peer_checks(services, listen_address, listen_port)


class FilterModule:
    def filters(self):
        return {
            'nginx_lb_model': nginx_lb_model,
            'nginx_lb_group_backends': nginx_lb_group_backends,
            'nginx_lb_pool_groups': nginx_lb_pool_groups,
            'nginx_lb_vip_checks': nginx_lb_vip_checks,
            'nginx_lb_health_targets': nginx_lb_health_targets,
            'nginx_lb_peer_checks': nginx_lb_peer_checks,
        }
