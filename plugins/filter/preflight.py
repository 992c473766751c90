# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters that list every problem with a role's input (documented in the sidecar YAML files)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight import (
    PreflightError,
    keepalived_preflight as _keepalived_preflight,
    keepalived_preflight_hosts,
    nginx_lb_checks,
    nginx_web_preflight as _nginx_web_preflight,
)


def _run(check, data):
    try:
        return check(data)
    except PreflightError as exc:
        raise AnsibleFilterError(str(exc))


def nginx_web_preflight(data):
    """A web backend's input -> one message per problem (empty when fine)."""
    return _run(_nginx_web_preflight, data)


def nginx_lb_preflight(data):
    """A balancer's nginx input -> one message per problem (empty when fine); warnings (a certificate
    close to its expiry) are shown as Ansible warnings."""
    errors, warnings = _run(nginx_lb_checks, data)
    for warning in warnings:
        Display().warning(warning)
    return errors


def keepalived_preflight(data):
    """A balancer's VRRP input and the cluster's view of it -> one message per problem (empty when fine)."""
    return _run(_keepalived_preflight, data)


class FilterModule:
    def filters(self):
        return {
            'nginx_web_preflight': nginx_web_preflight,
            'nginx_lb_preflight': nginx_lb_preflight,
            'keepalived_preflight': keepalived_preflight,
            'keepalived_preflight_hosts': keepalived_preflight_hosts,
        }
