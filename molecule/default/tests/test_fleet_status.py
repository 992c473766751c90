# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet status on the lab's pair: who holds the VIP and keepalived's states, as the balancers say;
no drift while both balancers run what site.yml wrote; a hand edit on one balancer is drift, and
fleet_status_fail=true then fails the run. Reports in JSON and Markdown; no secret in any of it."""

from __future__ import annotations

import json
import re

from conftest import REPO, run_playbook

STATUS = REPO / 'playbooks' / 'fleet_status.yml'
NGINX_CONF = '/etc/nginx/nginx.conf'


def _status(tmp_path, *args):
    run = run_playbook(STATUS, '-e', f'fleet_status_report_dir={tmp_path}', *args, timeout=120)
    reports = sorted(tmp_path.glob('fleet-status-*.json'))
    return run, (json.loads(reports[-1].read_text()) if reports else None)


def _holder(hosts, vip):
    return [name for name in ('lb-1', 'lb-2')
            if hosts[name].run(f'ip -o addr show dev host0 | grep -qw "inet {vip}"').rc == 0]


def test_the_status_names_the_holder_and_no_drift(hosts, vip, vip_answering, tmp_path):
    run, status = _status(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    [row] = status['pairs']
    assert row['pair'] == 'lb' and sorted(row['members']) == ['lb-1', 'lb-2']
    [entry] = [v for v in row['vips'] if v['vip'] == vip]
    holders = _holder(hosts, vip)
    assert entry['holders'] == holders and len(holders) == 1
    assert entry['states'] == {name: 'MASTER' if name in holders else 'BACKUP' for name in ('lb-1', 'lb-2')}
    assert row['drift'] == [] and row['ok'], row['problems']
    # Both balancers' nginx.conf digests are those of the files on them.
    for name in ('lb-1', 'lb-2'):
        digest = hosts[name].check_output(f'sha256sum {NGINX_CONF}').split()[0]
        assert row['configs'][name][NGINX_CONF] == digest
    markdown = next(tmp_path.glob('fleet-status-*.md')).read_text()
    assert re.search(rf'^\| lb \| OK \| {re.escape(vip)}: {holders[0]} ', markdown, re.M), markdown
    assert f"lb: OK; {vip} on {holders[0]}" in ' '.join(run.stdout.split())
    # The VRRP password is in keepalived.conf: never in the output nor in the reports.
    password = hosts['lb-1'].check_output("awk '/auth_pass/ {print $2; exit}' /etc/keepalived/keepalived.conf")
    assert password and all(password not in text for text in
                            (run.stdout, markdown, next(tmp_path.glob('fleet-status-*.json')).read_text()))


def test_a_hand_edit_on_one_balancer_is_drift(hosts, vip_answering, tmp_path):
    lb2 = hosts['lb-2']
    lb2.check_output(f'cp -p {NGINX_CONF} {NGINX_CONF}.status-test')
    try:
        lb2.check_output(f'echo "# edited by hand" >> {NGINX_CONF}')
        run, status = _status(tmp_path, '-e', 'fleet_status_fail=true')
        assert run.returncode != 0
        [row] = status['pairs']
        assert row['drift'] == [NGINX_CONF] and not row['ok']
        assert f'{NGINX_CONF} differs between lb-1, lb-2' in row['problems']
        assert '1 problem(s): lb need attention' in ' '.join(run.stdout.split()), run.stdout[-2000:]
    finally:
        lb2.check_output(f'mv {NGINX_CONF}.status-test {NGINX_CONF}')
    run, status = _status(tmp_path)
    assert status['pairs'][0]['drift'] == []
