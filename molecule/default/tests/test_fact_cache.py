# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""With a persistent fact cache (what AWX's "use fact cache" gives), a re-run still repairs drift:
a service stopped by hand, a managed file edited by hand and a reload left pending."""

from __future__ import annotations

import base64

import pytest

from conftest import REPO, run_playbook, wait_until

SITE = REPO / 'playbooks' / 'site.yml'
HAND_EDIT = '# edited by hand, outside Ansible'
RELOAD_FLAG = '/etc/ansible/facts.d/ha_lb_nginx_lb_reload.fact'


def _nginx_workers(host) -> set[str]:
    return set(host.check_output('pgrep -f "^nginx: worker process" || true').split())


@pytest.fixture()
def cache_env(tmp_path):
    return {'ANSIBLE_CACHE_PLUGIN': 'ansible.builtin.jsonfile', 'ANSIBLE_CACHE_PLUGIN_CONNECTION': str(tmp_path),
            'ANSIBLE_CACHE_PLUGIN_TIMEOUT': '86400', 'ANSIBLE_GATHERING': 'smart'}


def test_a_rerun_with_a_fact_cache_repairs_drift(hosts, cache_env, vip_answering):
    web, lb2, lb1 = hosts['web-2'], hosts['lb-2'], hosts['lb-1']
    first = run_playbook(SITE, env=cache_env)
    assert first.returncode == 0, first.stdout[-3000:]
    try:
        web.run('systemctl stop nginx')
        lb2.run(f"echo '{HAND_EDIT}' >> /etc/keepalived/keepalived.conf")
        # A reload lost to an interrupted run: the flag the role leaves on disk until it has reloaded.
        flag = base64.b64encode(b'{"pending": true}\n').decode()
        lb1.run(f'mkdir -p /etc/ansible/facts.d && echo {flag} | base64 -d > {RELOAD_FLAG}')
        workers = _nginx_workers(lb1)
        assert not web.service('nginx').is_running and workers

        rerun = run_playbook(SITE, env=cache_env)
        assert rerun.returncode == 0, rerun.stdout[-3000:]
        assert web.service('nginx').is_running
        assert HAND_EDIT not in lb2.file('/etc/keepalived/keepalived.conf').content_string
        # nginx on lb-1 reloaded: new workers, and the flag is consumed.
        assert wait_until(lambda: _nginx_workers(lb1) and not _nginx_workers(lb1) & workers, 10,
                          message='nginx on lb-1 reloaded')
        assert not lb1.file(RELOAD_FLAG).exists
    finally:
        web.run('systemctl start nginx')
        restore = run_playbook(SITE)
    assert restore.returncode == 0, restore.stdout[-3000:]
