# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A run that dies between writing a configuration and reloading the daemon loses nothing:
the next run reloads although it finds the files already up to date."""

from __future__ import annotations

import json
import time

from conftest import REPO, run_playbook, wait_until

HEADER = 'X-Reload-Probe'
ROUTER_ID = 'reload-probe'
INTERRUPTED = REPO / 'molecule' / 'default' / 'tests' / 'playbooks' / 'interrupted_run.yml'
SITE = REPO / 'playbooks' / 'site.yml'
CHANGE = json.dumps({'nginx_lb_response_headers': {HEADER: 'on'}, 'keepalived_router_id': ROUTER_ID})


def _served_header(client, address) -> bool:
    return HEADER.lower() in client.check_output(f'curl -s -o /dev/null -D - --max-time 2 http://{address}/').lower()


def _running_router_id(lb) -> str:
    """keepalived's own dump of the configuration it runs (written on SIGUSR1)."""
    lb.run('rm -f /tmp/keepalived.data; kill -s "$(keepalived --signum=DATA)" "$(cat /run/keepalived.pid)"')
    dump = wait_until(lambda: lb.run('cat /tmp/keepalived.data').stdout, 5, message='keepalived data dump')
    return next(line.split('=', 1)[1].strip() for line in dump.splitlines() if line.strip().startswith('Router ID'))


def _changed_tasks(output: str) -> list[str]:
    tasks, current = [], None
    for line in output.splitlines():
        if line.startswith('TASK ['):
            current = line[6:line.rindex(']')]
        elif line.startswith('changed: [lb-1]'):
            tasks.append(current)
    return tasks


def test_a_reload_lost_to_a_failed_run_happens_on_the_rerun(hosts, hostvars):
    lb, client = hosts['lb-1'], hosts['client']
    address = hostvars['lb-1']['ansible_host']
    original_router_id = hostvars['lb-1']['keepalived_router_id']
    try:
        interrupted = run_playbook(INTERRUPTED, '--limit', 'lb-1', '-e', CHANGE)
        assert interrupted.returncode != 0
        assert 'Interrupted after the configuration was written' in interrupted.stdout
        # On disk: the new configuration; running: still the old one.
        assert HEADER in lb.file('/etc/nginx/nginx.conf').content_string
        assert f'router_id {ROUTER_ID}' in lb.file('/etc/keepalived/keepalived.conf').content_string
        assert not _served_header(client, address)
        assert _running_router_id(lb) == original_router_id

        # One balancer of the pair, on purpose: the fleet check refuses a split pair unless told.
        rerun = run_playbook(SITE, '--limit', 'lb-1,client', '-e', CHANGE, '-e', 'keepalived_allow_partial_pair=true')
        assert rerun.returncode == 0, rerun.stdout[-3000:]
        changed = _changed_tasks(rerun.stdout)
        # Nothing left to write, yet both daemons reload.
        assert not any('Write the managed files' in task for task in changed), changed
        assert 'changed: [lb-1] => (item=nginx reloaded)' in rerun.stdout, rerun.stdout[-3000:]
        assert 'changed: [lb-1] => (item=keepalived reloaded)' in rerun.stdout, rerun.stdout[-3000:]
        assert _served_header(client, address)
        assert wait_until(lambda: _running_router_id(lb) == ROUTER_ID, 5, message='keepalived reloaded')
        assert not lb.file('/etc/ansible/facts.d/ha_lb_nginx_lb_reload.fact').exists
        assert not lb.file('/etc/ansible/facts.d/ha_lb_keepalived_reload.fact').exists
    finally:
        restore = run_playbook(SITE, '--limit', 'lb-1,client', '-e', 'keepalived_allow_partial_pair=true')
    assert restore.returncode == 0, restore.stdout[-3000:]
    assert not _served_header(client, address)
    time.sleep(0.2)
    assert _running_router_id(lb) == original_router_id
