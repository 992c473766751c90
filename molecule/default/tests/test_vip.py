# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which balancer holds the VIP, and which services run."""

from __future__ import annotations

import pytest

from conftest import holds, wait_until


def test_the_master_and_only_the_master_holds_the_vip(hosts, instance, vip, interface, vip_answering):
    master = next(name for name, node in instance['nodes'].items() if node['state'] == 'MASTER')
    backups = [name for name in instance['nodes'] if name != master]
    assert master == 'lb-1'
    wait_until(lambda: holds(hosts[master], vip, interface), 15, message=f'{master} holding {vip}')
    for name in backups:
        assert not holds(hosts[name], vip, interface), f'{name} also holds {vip}'


@pytest.mark.parametrize('name', ['lb-1', 'lb-2'])
@pytest.mark.parametrize('service', ['nginx', 'keepalived'])
def test_balancer_services_run_and_start_at_boot(hosts, name, service):
    unit = hosts[name].service(service)
    assert unit.is_running
    assert unit.is_enabled


@pytest.mark.parametrize('name', ['web-1', 'web-2'])
def test_backends_run_nginx(hosts, name):
    assert hosts[name].service('nginx').is_running
    assert hosts[name].service('nginx').is_enabled
