# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Draining a backend for maintenance and putting it back: no request fails, the backend gets no
new request once drained, and site.yml returns only when the request in flight to it has ended."""

from __future__ import annotations

import json
import re
import shlex

from conftest import PROBE_DIR, REPO, client_probe, curl_many, run_playbook, wait_until

SITE = REPO / 'playbooks' / 'site.yml'
DOWNLOAD = f'{PROBE_DIR}/download.txt'
PARTIAL = f'{PROBE_DIR}/slow.part'
# A file only web-2 has, served there at 100 KB/s: about 150 s in flight to that backend, longer than
# site.yml takes to reach its drain on a loaded machine (over 60 s was seen).
SLOW_SIZE = 15_000_000
# The drain waits for it: longer than the download, whatever the default.
DRAIN_TIMEOUT = 400
SLOW_LOCATION = 'location = /slow.bin { limit_rate 100k; }'


def _connections_to(host, address: str, port: int) -> int:
    return len(host.check_output(f'ss -Htn state established dst {address} dport = :{port}').splitlines())


def _serve_slowly(web):
    web.check_output(f'head -c {SLOW_SIZE} /dev/zero > /var/www/html/slow.bin')
    # By hand, so the file is served slowly; the drain's site.yml run writes nginx.conf back (while web-2 is
    # drained: its old worker finishes the download).
    web.check_output(f"sed -i 's|        location / {{|        {SLOW_LOCATION}\\n        location / {{|' "
                     '/etc/nginx/nginx.conf && nginx -t -q && systemctl reload nginx')


def _start_slow_download(client, vip):
    """Request /slow.bin through the VIP until a balancer sends it to web-2 (web-1 answers 404 at once);
    the answer's status and size land in DOWNLOAD."""
    loop = (f'for i in $(seq 20); do code=$(curl -s --max-time 400 -w "%{{http_code}} '
            f'%{{size_download}} %{{time_total}}" -o {PARTIAL} http://{vip}/slow.bin); '
            f'case "$code" in 200*) echo "$code" > {DOWNLOAD}; break;; esac; done')
    client.run(f'rm -f {DOWNLOAD} {PARTIAL}; nohup bash -c {shlex.quote(loop)} >/dev/null 2>&1 &')


def test_a_drained_backend_finishes_its_requests_and_loses_none(hosts, hostvars, vip, vip_answering):
    client, web2 = hosts['client'], hosts['web-2']
    address, port = hostvars['web-2']['ansible_host'], hostvars['web-2'].get('nginx_web_port', 80)
    _serve_slowly(web2)
    try:
        with client_probe(client, '--url', f'http://{vip}/', duration=900) as probe:
            _start_slow_download(client, vip)
            # Bytes of /slow.bin arriving: a balancer has a request in flight to web-2.
            wait_until(lambda: int(client.check_output(f'stat -c %s {PARTIAL} 2>/dev/null || echo 0')) > 100_000, 20,
                       message='the download from web-2 under way')
            drain = {'nginx_lb_drained_backends': ['web-2'], 'nginx_lb_drain_timeout': DRAIN_TIMEOUT}
            drained = run_playbook(SITE, '-e', json.dumps(drain), timeout=600)
            assert drained.returncode == 0, drained.stdout[-3000:]
            # site.yml waited for the request in flight: it had ended when the run returned.
            code, size, _seconds = client.check_output(f'cat {DOWNLOAD}').split()
            assert (code, int(size)) == ('200', SLOW_SIZE)
            assert re.search(r'RETRYING: \[lb-\d\]: Wait until this balancer has no connection left', drained.stdout)
            assert all(_connections_to(hosts[lb], address, port) == 0 for lb in ('lb-1', 'lb-2'))
            # Drained: every answer comes from web-1, on both balancers' configuration.
            assert set(curl_many(client, f'http://{vip}/', 10)) == {('200', 'web-1')}
            for lb in ('lb-1', 'lb-2'):
                assert f'server {address}:{port} max_fails' in hosts[lb].check_output('grep down /etc/nginx/nginx.conf')
            # Back in the pools: the inventory again (which also writes web-2's nginx.conf back).
            back = run_playbook(SITE, timeout=400)
            assert back.returncode == 0, back.stdout[-3000:]
            wait_until(lambda: {body for _code, body in curl_many(client, f'http://{vip}/', 6)} == {'web-1', 'web-2'},
                       30, message='both backends answering again')
        assert probe.end['failed'] == 0 and probe.end['samples'] > 500, probe.end
        backends = {sample['backend'] for sample in probe.samples() if sample['ok']}
        assert backends == {'web-1', 'web-2'}
    finally:
        web2.run('rm -f /var/www/html/slow.bin')
        if SLOW_LOCATION in web2.check_output('cat /etc/nginx/nginx.conf'):
            assert run_playbook(SITE, timeout=400).returncode == 0
