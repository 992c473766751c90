# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The scan for foreign VRRP routers, with a rogue router on the client.

A sender on the client advertises VRID 80 (the lab's instance) by multicast: site.yml's checks
refuse, naming the VRID, the instance and the rogue's address, before any host changes. With
VRID 7 instead, the run only warns. Without a rogue, the scan hears the balancers only, and the
backup hears the master answer ARP for the VIP.
"""

from __future__ import annotations

import re

from conftest import REPO, rogue, run_playbook

SITE = REPO / 'playbooks' / 'site.yml'
SCAN = REPO / 'playbooks' / 'vrrp_scan.yml'
ALWAYS = ['-e', 'keepalived_vrrp_scan=always']


def _changed(output: str) -> list[str]:
    return re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M)


def test_a_foreign_router_on_our_vrid_is_refused_before_any_host_changes(
        hosts, hostvars, instance, vip, vip_answering):
    client_address = hostvars['client']['ansible_host']
    conf = {name: hosts[name].file('/etc/keepalived/keepalived.conf').mtime for name in ('lb-1', 'lb-2')}
    with rogue(hosts['client'], client_address, instance['virtual_router_id'], vip):
        run = run_playbook(SITE, *ALWAYS, '-e', 'nginx_lb_keepalive_timeout=66s', timeout=600)
    assert run.returncode != 0
    text = ' '.join(run.stdout.split())
    assert (f"VRID {instance['virtual_router_id']}, the virtual_router_id of keepalived_instances[{instance['name']}], "
            f'is advertised on host0 by {client_address} (priority 1, VRRPv2') in text, run.stdout[-3000:]
    # Refused in the checks: the change asked for (a new keep-alive timeout) reached no host.
    assert all(changed == '0' for _host, changed in _changed(run.stdout)), _changed(run.stdout)
    assert 'keepalive_timeout 66s' not in hosts['lb-1'].file('/etc/nginx/nginx.conf').content_string
    assert conf == {name: hosts[name].file('/etc/keepalived/keepalived.conf').mtime for name in ('lb-1', 'lb-2')}


def test_a_foreign_router_on_another_vrid_only_warns(hosts, hostvars, vip, vip_answering):
    client_address = hostvars['client']['ansible_host']
    with rogue(hosts['client'], client_address, 7, '198.51.100.199'):
        run = run_playbook(SITE, *ALWAYS, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    text = ' '.join(run.stdout.split())
    assert f'WARNING: VRRP router {client_address} (priority 1, VRRPv2, addresses 198.51.100.199) on host0 uses VRID 7' \
        in text, run.stdout[-3000:]


def test_the_scan_playbook_hears_the_balancers_and_who_answers_for_the_vip(hostvars, instance, vip, vip_answering):
    run = run_playbook(SCAN, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    text = ' '.join(run.stdout.split())
    master = hostvars['lb-1']['ansible_host']
    # lb-2, the unicast peer of the master, hears its adverts; the master answers ARP for the VIP.
    assert f"host0: VRID {instance['virtual_router_id']} from {master} (priority 100, VRRPv2)" in text, text[-3000:]
    assert re.search(rf'ARP for the VIPs: {re.escape(vip)} ([0-9a-f]{{2}}:){{5}}[0-9a-f]{{2}}', text), text[-3000:]
