# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A configuration change of the balancers under load: site.yml reloads nginx and keepalived on both,
and neither moves the VIP nor fails a request."""

from __future__ import annotations

import json
import re

from conftest import PROBE_DIR, REPO, client_probe, holds, main_pid, run_playbook, wait_until

SITE = REPO / 'playbooks' / 'site.yml'
BALANCERS = ('lb-1', 'lb-2')
# One change for each daemon of the balancers: nginx, and keepalived's health check. (A change of the
# backends' nginx reloads every backend at once: see docs/changing-a-running-pair.md.)
CHANGE = {'nginx_lb_proxy_read_timeout': '31s', 'keepalived_health_check_rise': 3}
WRK = f'{PROBE_DIR}/wrk.txt'


def _pids(host, unit):
    main = main_pid(host, unit)
    children = host.check_output(f'pgrep -P {main} || true').split()
    return main, set(children)


def _transitions(host, since):
    """keepalived's state changes logged since ``since`` (a `date +%s` of that host)."""
    log = host.run(f'journalctl -u keepalived --since @{since} --no-pager -o cat').stdout
    return [line for line in log.splitlines() if 'Entering' in line and 'STATE' in line]


def test_reloads_under_load_keep_the_vip_and_every_request(hosts, vip, interface, vip_answering):
    client = hosts['client']
    holder = next(name for name in BALANCERS if holds(hosts[name], vip, interface))
    client.check_output('DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null')
    since = {name: hosts[name].check_output('date +%s') for name in BALANCERS}
    before = {(name, unit): _pids(hosts[name], unit) for name in BALANCERS for unit in ('nginx', 'keepalived')}
    with client_probe(client, '--url', f'http://{vip}/', duration=300) as probe:
        # Steady load beside the probe: 8 keep-alive connections for the whole change and its revert.
        client.run(f'rm -f {WRK}; nohup timeout 200 wrk -t1 -c8 -d150s http://{vip}:80/ > {WRK} 2>&1 &')
        changed = run_playbook(SITE, '-e', json.dumps(CHANGE), timeout=300)
        assert changed.returncode == 0, changed.stdout[-3000:]
        assert re.search(r'lb-1\s+: ok=\d+\s+changed=[1-9]', changed.stdout)
        for name in BALANCERS:
            assert 'rise 3' in hosts[name].check_output('grep rise /etc/keepalived/keepalived.conf')
            assert 'proxy_read_timeout 31s;' in hosts[name].check_output('cat /etc/nginx/nginx.conf')
        after = {(name, unit): _pids(hosts[name], unit) for name in BALANCERS for unit in ('nginx', 'keepalived')}
        reverted = run_playbook(SITE, timeout=300)
        assert reverted.returncode == 0, reverted.stdout[-3000:]
        client.run('pkill -INT -x wrk || true')
        wait_until(lambda: 'Requests/sec' in client.check_output(f'cat {WRK}'), 30, message='wrk finishing')
    failed = [(round(s['t'], 2), s['error'], s.get('detail')) for s in probe.samples() if not s['ok']]
    assert probe.end['failed'] == 0 and probe.end['samples'] > 500, (probe.end, failed[:5], failed[-5:])
    # Reloads, not restarts: the same main processes; nginx has new workers.
    for name in BALANCERS:
        assert after[(name, 'nginx')][0] == before[(name, 'nginx')][0]
        assert not after[(name, 'nginx')][1] & before[(name, 'nginx')][1]
        assert after[(name, 'keepalived')][0] == before[(name, 'keepalived')][0]
    # The VIP never moved: still on its holder, and no keepalived logged a state change.
    assert holds(hosts[holder], vip, interface)
    assert {name: _transitions(hosts[name], since[name]) for name in BALANCERS} == {name: [] for name in BALANCERS}
    # wrk's keep-alive connections saw no error answer (a connection the old workers close is
    # reopened; what counts is that no request was answered with an error).
    report = client.check_output(f'cat {WRK}')
    assert 'Non-2xx or 3xx responses' not in report, report
