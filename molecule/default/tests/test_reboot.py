# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A reboot of each balancer with the drill's probe on: the backup's costs no request and moves
nothing; the master's costs at most the hard-failure budget (its VIP goes to the backup and comes
back once it is up again), and neither causes a storm of VRRP transitions."""

from __future__ import annotations

import time

from conftest import client_probe, holds, journal_cursor, reboot, transitions, wait_until

# The master-down interval (3 * advert_int 1 + skew 0.805 s for priority 50) plus the drills' margin.
HARD_FAILURE_BUDGET = 3 * 1 + (256 - 50) / 256 + 0.25


def _outage(samples) -> tuple[float, int]:
    """The longest time without an answer, and the failed requests."""
    answers = sorted(sample['t'] + sample['dur'] for sample in samples if sample['ok'])
    return max(later - earlier for earlier, later in zip(answers, answers[1:])), \
        sum(1 for sample in samples if not sample['ok'])


def test_a_reboot_of_the_backup_costs_no_request(hosts, vip, interface, vip_answering):
    lb1, lb2 = hosts['lb-1'], hosts['lb-2']
    assert holds(lb1, vip, interface)
    cursor = journal_cursor(lb1)
    with client_probe(hosts['client'], '--url', f'http://{vip}/', duration=300) as probe:
        reboot(lb2)
        time.sleep(5)
    gap, failed = _outage(probe.samples())
    assert failed == 0 and gap <= 0.1, (failed, gap)
    assert holds(lb1, vip, interface) and not holds(lb2, vip, interface)
    assert transitions(lb1, cursor) == []
    # The rebooted backup came back as BACKUP, without a detour through MASTER.
    assert all('BACKUP' in line for line in transitions(lb2))


def test_a_reboot_of_the_master_costs_at_most_a_hard_failure(hosts, vip, interface, vip_answering):
    lb1, lb2 = hosts['lb-1'], hosts['lb-2']
    assert holds(lb1, vip, interface)
    cursor = journal_cursor(lb2)
    with client_probe(hosts['client'], '--url', f'http://{vip}/', duration=300) as probe:
        reboot(lb1)
        wait_until(lambda: holds(lb1, vip, interface), 30, message='the master taking its VIP back')
        time.sleep(5)
    gap, failed = _outage(probe.samples())
    assert gap <= HARD_FAILURE_BUDGET, (failed, gap)
    assert holds(lb1, vip, interface) and not holds(lb2, vip, interface)
    # The backup took the VIP once and gave it back once: no storm.
    assert len(transitions(lb2, cursor)) <= 2, transitions(lb2, cursor)
    assert len(transitions(lb1)) <= 2, transitions(lb1)
