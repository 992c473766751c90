# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A reboot of each balancer with the drill's probe on: the backup's costs no request and moves
nothing; the master's costs at most the hard-failure budget (its VIP goes to the backup and comes
back once it is up again), and neither causes a storm of VRRP transitions."""

from __future__ import annotations

import time

from conftest import client_probe, holds, journal_cursor, longest_gap, reboot, transitions, wait_until

# The master-down interval (3 * advert_int 1 + skew 0.805 s for priority 50) plus the drills' margin.
HARD_FAILURE_BUDGET = 3 * 1 + (256 - 50) / 256 + 0.25


def _reboot_under_probe(hosts, vip, interface, rebooted: str, other: str):
    """Reboot a balancer while the probe runs and until the VIP is back on lb-1; returns the probe and
    the other balancer's keepalived transitions meanwhile."""
    assert holds(hosts['lb-1'], vip, interface)
    # The client starts from the holder: after a split brain (the partition test) it may still send to the
    # other balancer's MAC address, which answers through its loopback copy of the VIP until the client's
    # entry ages; the next request resolves the VIP afresh.
    hosts['client'].run(f'ip neigh flush to {vip}')
    cursor = journal_cursor(hosts[other])
    with client_probe(hosts['client'], '--url', f'http://{vip}/', duration=300) as probe:
        reboot(hosts[rebooted])
        wait_until(lambda: holds(hosts['lb-1'], vip, interface), 30, message='lb-1 holding the VIP')
        time.sleep(5)
    assert holds(hosts['lb-1'], vip, interface) and not holds(hosts['lb-2'], vip, interface)
    return probe, transitions(hosts[other], cursor)


def test_a_reboot_of_the_backup_costs_no_request(hosts, vip, interface, vip_answering):
    probe, master_transitions = _reboot_under_probe(hosts, vip, interface, 'lb-2', 'lb-1')
    assert probe.end['failed'] == 0 and longest_gap(probe.samples()) <= 0.1, probe.end
    assert master_transitions == []
    # The rebooted backup came back as BACKUP, without a detour through MASTER.
    assert all('BACKUP' in line for line in transitions(hosts['lb-2']))


def test_a_reboot_of_the_master_costs_at_most_a_hard_failure(hosts, vip, interface, vip_answering):
    probe, backup_transitions = _reboot_under_probe(hosts, vip, interface, 'lb-1', 'lb-2')
    assert longest_gap(probe.samples()) <= HARD_FAILURE_BUDGET, probe.end
    # The backup took the VIP once and gave it back once, the master took it back once: no storm.
    assert len(backup_transitions) <= 2, backup_transitions
    assert len(transitions(hosts['lb-1'])) <= 2, transitions(hosts['lb-1'])
