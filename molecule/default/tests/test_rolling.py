# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A rolling update through site.yml: a change of nginx on every host and of keepalived on both
balancers, measured by the drill's probe through the VIP while it runs, then back."""

from __future__ import annotations

import json
import re

from conftest import REPO, client_probe, holds, journal_cursor, longest_gap, run_playbook, transitions

SITE = REPO / 'playbooks' / 'site.yml'
CHANGE = {'nginx_web_keepalive_requests': 9999, 'nginx_lb_worker_connections': 8000,
          'keepalived_health_check_rise': 3}
MAX_GAP = 0.1


def _updates(stdout: str) -> dict:
    """host -> what site.yml said it changes there."""
    flat = ' '.join(stdout.split())
    return dict(re.findall(r"msg: '?((?:web|lb)-\d): ([^']*?)(?:; it holds VIPs[^']*)?'", flat))


def _pair_changes(stdout: str) -> dict:
    """balancer -> what the summary of the pair says changed on it."""
    flat = ' '.join(stdout.split())
    line = re.search(r"'lb: changed \((.*?)\)'", flat)
    assert line, flat[-3000:]
    return dict(part.split(': ', 1) for part in line.group(1).split('; '))


def _roll(client, vip, *arguments):
    with client_probe(client, '--url', f'http://{vip}/', duration=600) as probe:
        run = run_playbook(SITE, *arguments, timeout=600)
        assert run.returncode == 0, run.stdout[-3000:]
    return run, probe


def test_a_change_rolls_over_every_host_without_a_failed_request(hosts, vip, interface, vip_answering):
    client = hosts['client']
    assert holds(hosts['lb-1'], vip, interface)
    cursor, cursor_backup = journal_cursor(hosts['lb-1']), journal_cursor(hosts['lb-2'])
    try:
        run, probe = _roll(client, vip, '-e', json.dumps(CHANGE))
        updates = _updates(run.stdout)
        assert all('/etc/nginx/nginx.conf' in updates[web] for web in ('web-1', 'web-2')), updates
        # The backends one at a time. Each balancer's nginx takes the new configuration when it takes
        # a backend out of its pools, so no balancer needs a round of its own afterwards: nothing moves
        # the VIP (a reload loses no request, a VIP move may). keepalived's configuration is reloaded
        # on both balancers together.
        assert list(updates) == ['web-1', 'web-2'], updates
        assert all('worker_connections 8000;' in hosts[lb].file('/etc/nginx/nginx.conf').content_string
                   for lb in ('lb-1', 'lb-2'))
        changes = _pair_changes(run.stdout)
        assert all('/etc/keepalived/keepalived.conf' in changes[lb] for lb in ('lb-1', 'lb-2')), changes
        assert 'is in maintenance for' not in run.stdout
        assert transitions(hosts['lb-1'], cursor) == [] and transitions(hosts['lb-2'], cursor_backup) == []
    finally:
        back, back_probe = _roll(client, vip)
    assert holds(hosts['lb-1'], vip, interface)
    for measured in (probe, back_probe):
        samples = measured.samples()
        assert measured.end['samples'] > 1000, measured.end
        assert measured.end['failed'] == 0, [sample for sample in samples if not sample['ok']]
        assert longest_gap(samples) <= MAX_GAP
