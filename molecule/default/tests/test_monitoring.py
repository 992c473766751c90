# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""keepalived's own view and what watches it, on the lab.

- The notify script records each instance's state: vip_owner and the cluster check report
  MASTER and BACKUP, a killed keepalived reads STOP (never its last MASTER), and the
  transitions are in the journal under one tag.
- With the metrics on, the client scrapes node_exporter (keepalived's textfile metrics) and
  prometheus-nginx-exporter on both balancers, before and after a `stop` drill; the shipped
  alert rules pass promtool's checks and tests.
- The JSON access log carries the upstream address and times of a request through the VIP.
"""

from __future__ import annotations

import json
import re
import subprocess

from conftest import BIN, INVENTORY, REPO, ansible_env, run_playbook, wait_until

SITE = REPO / 'playbooks' / 'site.yml'
DRILL = REPO / 'playbooks' / 'failover_drill.yml'
CHECK = REPO / 'molecule' / 'default' / 'tests' / 'playbooks' / 'cluster_check.yml'
RULES = REPO / 'extras' / 'prometheus'
TAG = 'ha-lb-keepalived'
METRICS = json.dumps({'keepalived_metrics_enabled': True, 'nginx_lb_metrics_enabled': True})


def _vrrp_state(host: str, vip: str, instance: str) -> dict:
    """What the vip_owner module says of keepalived on ``host`` (an inventory name)."""
    done = subprocess.run([str(BIN / 'ansible'), host, '-i', str(INVENTORY), '-m', 'ha_lb.keepalived_nginx.vip_owner',
                           '-a', f'vip={vip} instance={instance}'], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=120,
                          env={**ansible_env(), 'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # "lb-1 | SUCCESS => {...}"
    return json.loads(done.stdout.split('=>', 1)[1])['keepalived']


def test_keepalived_records_its_state_and_the_cluster_check_names_it(hosts, vip, instance, vip_answering):
    name = instance['name']
    assert hosts['lb-1'].file(f'/run/keepalived/{name}.state').content_string == 'MASTER\n'
    assert hosts['lb-2'].file(f'/run/keepalived/{name}.state').content_string == 'BACKUP\n'
    assert _vrrp_state('lb-1', vip, name)['vrrp_state'] == 'MASTER'
    assert _vrrp_state('lb-2', vip, name)['vrrp_state'] == 'BACKUP'
    journal = hosts['lb-1'].check_output(f'journalctl -t {TAG} -b --no-pager -o cat')
    assert re.search(rf'^vrrp instance {name} state MASTER priority \d+$', journal, re.M), journal
    check = run_playbook(CHECK)
    assert check.returncode == 0, check.stdout[-3000:]
    assert 'is held by lb-1 (keepalived: lb-1 MASTER, lb-2 BACKUP)' in check.stdout


def test_a_dead_keepalived_never_reads_as_its_last_state(hosts, vip, instance, vip_answering):
    name = instance['name']
    backup = hosts['lb-2']
    try:
        backup.check_output('systemctl kill -s KILL keepalived')
        wait_until(lambda: backup.run('systemctl is-active keepalived').stdout.strip() != 'active', 10,
                   message='keepalived dead on lb-2')
        # The file still says BACKUP; keepalived does not run: STOP.
        assert backup.file(f'/run/keepalived/{name}.state').content_string == 'BACKUP\n'
        view = _vrrp_state('lb-2', vip, name)
        assert view['vrrp_state'] == 'STOP' and view['state_file_state'] == 'BACKUP', view
    finally:
        backup.check_output('systemctl reset-failed keepalived; systemctl start keepalived')
    wait_until(lambda: _vrrp_state('lb-2', vip, name)['vrrp_state'] == 'BACKUP', 20,
               message='lb-2 BACKUP again, from a state written by the new keepalived')


def _scrape(client, address: str, port: int) -> dict:
    """Every sample an exporter serves, by name with labels (label order as served)."""
    text = client.check_output(f'curl -s --max-time 5 http://{address}:{port}/metrics')
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith('#'):
            key, value = line.rsplit(' ', 1)
            samples[key] = float(value)
    return samples


def _keepalived_view(client, address: str, name: str) -> dict:
    samples = _scrape(client, address, 9100)
    states = {match.group(1): value for key, value in samples.items()
              if (match := re.match(rf'ha_lb_keepalived_vrrp_state{{state="(\w+)",vrrp_instance="{name}"}}', key))}
    return {'up': samples.get('ha_lb_keepalived_up'), 'state': [s for s, v in states.items() if v == 1],
            'transitions': samples.get(f'ha_lb_keepalived_vrrp_transitions_total{{vrrp_instance="{name}"}}'),
            'health': samples.get('ha_lb_keepalived_health_check_ok{check="chk_nginx"}'),
            'heartbeat': samples.get('ha_lb_keepalived_metrics_timestamp_seconds')}


def test_the_exporters_report_the_real_state_before_and_after_a_stop_drill(
        hosts, hostvars, vip, instance, vip_answering, tmp_path):
    name = instance['name']
    client = hosts['client']
    address = {host: hostvars[host]['ansible_host'] for host in ('lb-1', 'lb-2')}
    try:
        deployed = run_playbook(SITE, '-e', METRICS, timeout=600)
        assert deployed.returncode == 0, deployed.stdout[-3000:]
        wait_until(lambda: all(_keepalived_view(client, address[h], name)['up'] == 1 for h in address), 30,
                   message='keepalived metrics on both balancers')
        before = {host: _keepalived_view(client, address[host], name) for host in address}
        assert before['lb-1']['state'] == ['MASTER'] and before['lb-2']['state'] == ['BACKUP'], before
        assert before['lb-1']['health'] == 1 and before['lb-2']['health'] == 1, before
        for host in address:
            nginx = _scrape(client, address[host], 9113)
            assert nginx['nginx_up'] == 1 and nginx['nginx_connections_accepted'] >= 1, (host, nginx)

        drill = run_playbook(DRILL, '-e', METRICS, '-e', 'failover_drill_faults=stop',
                             '-e', f'failover_drill_report_dir={tmp_path}', timeout=600)
        assert drill.returncode == 0, drill.stdout[-3000:]
        after = {host: _keepalived_view(client, address[host], name) for host in address}
        # The drill stopped lb-1's keepalived (lb-2 MASTER), started it again, and lb-1 took the VIP back.
        assert after['lb-1']['state'] == ['MASTER'] and after['lb-2']['state'] == ['BACKUP'], after
        assert after['lb-2']['transitions'] >= before['lb-2']['transitions'] + 2, (before, after)
        assert all(after[h]['heartbeat'] > before[h]['heartbeat'] for h in address), (before, after)

        # The shipped alert rules: valid, and their own tests pass (promtool from Debian's prometheus).
        client.check_output('DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends '
                            'prometheus >/dev/null; systemctl disable --now prometheus >/dev/null 2>&1 || true')
        client.check_output('mkdir -p /var/tmp/ha-lb-rules')
        for path in RULES.glob('*.yml'):
            client.check_output(f"cat > /var/tmp/ha-lb-rules/{path.name} <<'EOF'\n{path.read_text()}EOF")
        checked = client.run('cd /var/tmp/ha-lb-rules && promtool check rules ha_lb.rules.yml '
                             '&& promtool test rules ha_lb.rules.test.yml')
        assert checked.rc == 0 and 'SUCCESS' in checked.stdout, checked.stdout + checked.stderr
    finally:
        restore = run_playbook(SITE, timeout=600)
    assert restore.returncode == 0, restore.stdout[-3000:]
    # Off again: no exporter setup of the collection's is left, and no stale keepalived metrics.
    for host in ('lb-1', 'lb-2'):
        assert not hosts[host].file('/etc/systemd/system/ha-lb-keepalived-metrics.timer').exists
        assert not hosts[host].file('/var/lib/prometheus/node-exporter/ha_lb_keepalived.prom').exists
        assert hosts[host].run('systemctl is-active prometheus-nginx-exporter').stdout.strip() != 'active'


def test_the_json_access_log_names_the_backend_and_its_times(hosts, hostvars, vip, vip_answering):
    backends = {hostvars[host]['ansible_host'] for host in ('web-1', 'web-2')}
    try:
        deployed = run_playbook(SITE, '--limit', 'lb', '-e', 'nginx_lb_access_log_format=json', timeout=600)
        assert deployed.returncode == 0, deployed.stdout[-3000:]
        marker = 'ha-lb-json-log-test'
        hosts['client'].check_output(f'curl -s -o /dev/null -A {marker} http://{vip}/')

        def logged():
            # The log is written through a 5 s buffer.
            lines = hosts['lb-1'].run(f'grep -F {marker} /var/log/nginx/access.log').stdout.splitlines()
            return [json.loads(line) for line in lines]
        wait_until(logged, 15, message='the request in the access log')
        record = logged()[-1]
        assert record['status'] == 200 and record['balancer'] == 'lb-1' and record['uri'] == '/'
        assert record['upstream_addr'].rsplit(':', 1)[0] in backends, record
        assert record['upstream_status'] == '200'
        assert float(record['upstream_response_time']) <= record['request_time'] + 0.001, record
    finally:
        restore = run_playbook(SITE, '--limit', 'lb', timeout=600)
    assert restore.returncode == 0, restore.stdout[-3000:]
