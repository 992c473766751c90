# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A fleet of balancer pairs on the lab, in this order: a canary that fails stops the update before
any other pair changes, and fleet_max_fail_percentage lets the others go on; a change rolled in waves
(the canary pair alone, then the others together) while the probe runs on up to six pairs' VIPs at once,
which also brings every pair to one configuration again; the fleet status reports every pair."""

from __future__ import annotations

import contextlib
import json
import os
import re

from conftest import REPO, lab, run_playbook

SITE = REPO / 'playbooks' / 'site.yml'
STATUS = REPO / 'playbooks' / 'fleet_status.yml'
CHANGE = json.dumps({'nginx_lb_worker_connections': 8000})
CHANGE_2 = json.dumps({'nginx_lb_worker_connections': 9000})
CHANGED_LINE = 'worker_connections 8000;'
CHANGED_LINE_2 = 'worker_connections 9000;'
BROKEN = '/etc/nginx/modules-enabled/zz-fleet-test-broken.conf'
# How many pairs' VIPs the probe watches at once while a change rolls (every pair of a small fleet).
PROBED_PAIRS = int(os.environ.get('HA_LB_FLEET_PROBED_PAIRS', '6'))


def _flat(text: str) -> str:
    return ' '.join(text.split())


def _summary(stdout: str) -> dict:
    """pair -> what site.yml's summary says of it."""
    flat = _flat(stdout)
    return dict(re.findall(r"- '?(pair_\d+): (.*?)'?(?= - '?pair_\d+:| PLAY | TASK )", flat))


def _holder(hosts, pair) -> str:
    found = [name for name in pair['members']
             # Not the copy on the loopback interface, which every balancer has.
             if hosts[name].run(f'ip -o addr show | grep -v "^[0-9]*: lo " | grep -qw "inet {pair["vip"]}"').rc == 0]
    assert len(found) == 1, found
    return found[0]


@contextlib.contextmanager
def _probes(client, pairs, duration=3600):
    """The drill's probe on several pairs' VIPs at once, each in a directory of its own: the canary and
    the pairs after it, PROBED_PAIRS in all (each probe sends 50 requests a second from the one client)."""
    probed = sorted(pairs)[:PROBED_PAIRS]
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(lab.client_probe(client, '--url', f"http://{pairs[name]['vip']}/",
                                                          duration=duration,
                                                          directory=f'{lab.PROBE_DIR}/fleet-{name}'))
               for name in probed}


def test_a_failing_canary_stops_the_update_and_max_fail_percentage_lets_it_go_on(hosts, pairs):
    canary, others = sorted(pairs)[0], sorted(pairs)[1:]
    # The canary's balancer that goes first (the one not holding its VIP) rejects any new nginx.conf.
    first = next(h for h in pairs[canary]['members'] if h != _holder(hosts, pairs[canary]))
    hosts[first].check_output(f'echo "fleet_test_broken on;" > {BROKEN}')
    try:
        stopped = run_playbook(SITE, '-e', CHANGE_2)
        assert stopped.returncode != 0
        flat = _flat(stopped.stdout)
        assert f'The rolling update stops: the canary pair {canary} failed.' in flat, flat[-3000:]
        summary = _summary(stopped.stdout)
        assert summary[canary].startswith(f'FAILED on {first}'), summary
        assert all(summary[p] == 'stopped before its turn' for p in others), summary
        for name, pair in pairs.items():
            for host in pair['members']:
                assert CHANGED_LINE_2 not in hosts[host].file('/etc/nginx/nginx.conf').content_string, host
            # The failed balancer kept its running configuration: every VIP still answers.
            assert lab.curl_many(hosts['client'], f"http://{pair['vip']}/", 1)[0][0] == '200', name

        # Without a canary, and with a budget of failed pairs: the other pairs go on.
        budget = 100 // len(pairs) + 1
        went_on = run_playbook(SITE, '-e', CHANGE_2, '-e', f'fleet_canary=false fleet_max_fail_percentage={budget}')
        assert went_on.returncode != 0
        summary = _summary(went_on.stdout)
        assert summary[canary].startswith(f'FAILED on {first}'), summary
        assert all(summary[p].startswith('changed (') for p in others), summary
        assert all(CHANGED_LINE_2 in hosts[h].file('/etc/nginx/nginx.conf').content_string
                   for p in others for h in pairs[p]['members'])
    finally:
        hosts[first].run(f'rm -f {BROKEN}')


def test_a_change_rolls_in_waves_and_no_request_fails_on_any_vip(hosts, pairs):
    canary, others = sorted(pairs)[0], sorted(pairs)[1:]
    with _probes(hosts['client'], pairs) as probes:
        rolled = run_playbook(SITE, '-e', CHANGE)
        assert rolled.returncode == 0, rolled.stdout[-3000:]
    assert len(probes) >= min(len(pairs), 5), 'HA_LB_FLEET_PROBED_PAIRS: probe at least five VIPs at once'
    for name, probe in probes.items():
        assert probe.end['failed'] == 0 and probe.end['samples'] > 500, (name, probe.end)
    flat = _flat(rolled.stdout)
    # Rounds: the canary's two balancers alone, then one balancer of every other pair at a time.
    rounds = re.findall(r'\(item=wave (\d+): ([^)]*)\)', flat)
    assert [wave for wave, _members in rounds] == ['1', '1', '2', '2'], rounds
    assert {host for _wave, members in rounds[:2] for host in members.split(', ')} == set(pairs[canary]['members'])
    assert all(len(members.split(', ')) == len(others) for _wave, members in rounds[2:]), rounds
    # Each balancer said what it changes; the canary's both did before any other pair's.
    said = {host: re.search(rf"msg: '?{host}: /etc/nginx/nginx.conf", flat).start()
            for pair in pairs.values() for host in pair['members']}
    assert max(said[h] for h in pairs[canary]['members']) < min(said[h] for p in others for h in pairs[p]['members'])
    summary = _summary(rolled.stdout)
    assert set(summary) == set(pairs), summary
    assert all(line.startswith('changed (') and '/etc/nginx/nginx.conf' in line for line in summary.values()), summary
    assert all(CHANGED_LINE in hosts[h].file('/etc/nginx/nginx.conf').content_string for p in pairs.values()
               for h in p['members'])
    # The pairs the probe did not watch answer too.
    for name, pair in pairs.items():
        assert lab.curl_many(hosts['client'], f"http://{pair['vip']}/", 1)[0][0] == '200', name


def test_the_fleet_status_has_a_line_per_pair(hosts, pairs, tmp_path):
    run = run_playbook(STATUS, '-e', f'fleet_status_report_dir={tmp_path} fleet_status_fail=true')
    assert run.returncode == 0, run.stdout[-3000:]
    status = json.loads(next(tmp_path.glob('fleet-status-*.json')).read_text())
    rows = {row['pair']: row for row in status['pairs']}
    assert set(rows) == set(pairs)
    for name, pair in pairs.items():
        [vip] = rows[name]['vips']
        assert vip['vip'] == pair['vip'] and vip['holders'] == [_holder(hosts, pair)]
        assert sorted(vip['states'].values()) == ['BACKUP', 'MASTER'] and rows[name]['ok'], rows[name]
