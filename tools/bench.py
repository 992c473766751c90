# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmarks on the local lab, reported as medians over repeated rounds.

  converge     per round: fresh guests (lab down, lab up), then playbooks/site.yml twice:
               the cold converge and the idempotent re-run (which must report changed=0)
  floor        per round on a converged lab, back to back: tools/bench_floor.yml (only the
               module calls a re-run makes) and the idempotent re-run of playbooks/site.yml;
               their ratio is what the roles' checks and bookkeeping cost on top of the modules
  throughput   per round, back to back from the client: wrk straight to one web backend,
               then through the VIP; reports both rates and their ratio (installs wrk on the
               client from the lab's local apt repository first)
  tls          per round, back to back from the client, through the VIP: wrk over plain HTTP,
               then over HTTPS (keep-alive connections, the lab's service www), their ratio, and
               the CPU per request for each that the MASTER's nginx spends (its processes' /proc
               counters) and that wrk spends on the client; then new TLS connections per second
               with `openssl s_time`: full handshakes (TLS 1.3 and 1.2) and TLS 1.2 ones that
               resume a cached session
  cost         what nginx_lb's settings cost per plain HTTP request: for each variant of a
               small table (the defaults, then one setting changed), the balancers are deployed
               with it (site.yml --limit lb -e ...), then per round, back to back, wrk straight
               to a backend and through the VIP, with the CPU the MASTER's nginx spends per
               request; the defaults are deployed again at the end

  rolling      what clients see while site.yml updates a running cluster: per round, the drill's
               probe runs on the client through the VIP while site.yml applies a change (--change
               config: nginx on every host and keepalived on the balancers, then the inventory
               again; --change upgrade: the lab's repository offers higher nginx and keepalived
               packages, labctl.py offer-upgrades, and every package_state is latest). Reports the
               failed requests and the longest gap between two answers of each run, and draws each
               run's timeline with every host's reloads, restarts and VRRP transitions marked
               (reports/bench-rolling-<stamp>-<run>.svg)
  soak         false failovers: per round, the lab runs as deployed (--profile FILE deploys that
               extra-vars file with site.yml first) for --minutes, idle or (--load wrk) under wrk
               from the client through the VIP, then counts the VRRP transitions each balancer's
               keepalived logged meanwhile (an unexpected one is a false failover) and checks that
               the VIP holder is the one it started with

Each prints a Markdown table and write it with the raw figures to reports/bench-<kind>-<stamp>.{md,json}.
The figures drift on a shared machine: compare the numbers of one report with each other.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
INVENTORY = REPO / 'inventories' / 'local'
REPORTS = REPO / 'reports'


def _env() -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               PATH=f'{BIN}{os.pathsep}{env.get("PATH", "")}')
    return env


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout, check=False)


def _lab(action: str) -> None:
    done = _run([sys.executable, str(REPO / 'lab' / 'labctl.py'), action], timeout=900)
    if done.returncode != 0:
        raise SystemExit(f'bench: lab {action} failed:\n{done.stdout}{done.stderr}')


def _timed_site(playbook: pathlib.Path = REPO / 'playbooks' / 'site.yml') -> tuple[float, str]:
    start = time.monotonic()
    done = _run([str(BIN / 'ansible-playbook'), '-i', str(INVENTORY), str(playbook)], timeout=600)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f'bench: {playbook.name} failed after {elapsed:.1f} s:\n'
                         f'{done.stdout[-3000:]}{done.stderr[-2000:]}')
    return elapsed, done.stdout


def _changed(output: str) -> int:
    return sum(int(count) for count in re.findall(r' changed=(\d+) ', output))


def converge(rounds: int) -> dict:
    cold, warm = [], []
    for number in range(1, rounds + 1):
        _lab('down')
        _lab('up')
        seconds, _output = _timed_site()
        cold.append(round(seconds, 2))
        seconds, output = _timed_site()
        if _changed(output):
            raise SystemExit(f'bench: the re-run of round {number} changed {_changed(output)} things:\n{output[-3000:]}')
        warm.append(round(seconds, 2))
        print(f'round {number}: cold {cold[-1]:.2f} s, idempotent re-run {warm[-1]:.2f} s (changed=0)', flush=True)
    return {
        'rows': [('cold converge, five fresh guests (s)', cold), ('idempotent re-run, changed=0 (s)', warm)],
        'raw': {'cold_s': cold, 'rerun_s': warm},
    }


def floor(rounds: int) -> dict:
    modules, site, ratio = [], [], []
    _timed_site()
    for number in range(1, rounds + 1):
        seconds, _output = _timed_site(REPO / 'tools' / 'bench_floor.yml')
        modules.append(round(seconds, 2))
        seconds, output = _timed_site()
        if _changed(output):
            raise SystemExit(f'bench: the re-run of round {number} changed {_changed(output)} things:\n{output[-3000:]}')
        site.append(round(seconds, 2))
        ratio.append(round(site[-1] / modules[-1], 3))
        print(f'round {number}: module calls only {modules[-1]:.2f} s, site.yml re-run {site[-1]:.2f} s, '
              f'ratio {ratio[-1]:.2f}', flush=True)
    return {
        'rows': [('module calls only (s)', modules), ('site.yml idempotent re-run (s)', site),
                 ('ratio re-run / module calls', ratio)],
        'raw': {'modules_s': modules, 'rerun_s': site, 'ratio': ratio},
    }


def _wrk(url: str, seconds: int, connections: int) -> float:
    return _wrk_client(url, seconds, connections)[0]


def _wrk_client(url: str, seconds: int, connections: int) -> tuple[float, float]:
    """Requests per second, and the CPU seconds wrk itself used on the client (its shell's children counters)."""
    command = f'wrk -t2 -c{connections} -d{seconds}s {url}'
    # Fields 16 and 17 of /proc/<shell>/stat: user and system ticks of the children it waited for.
    shell = f"{command}; echo wrk-ticks $(cut -d' ' -f16,17 /proc/$$/stat) hz $(getconf CLK_TCK)"
    done = _run([str(BIN / 'ansible'), 'client', '-i', str(INVENTORY), '-m', 'ansible.builtin.shell',
                 '-a', shell], timeout=seconds + 60)
    match = re.search(r'Requests/sec:\s+([\d.]+)', done.stdout)
    if done.returncode != 0 or not match:
        raise SystemExit(f'bench: {command} on the client failed:\n{done.stdout[-2000:]}{done.stderr[-1000:]}')
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)|Socket errors: .*', done.stdout)
    if errors:
        raise SystemExit(f'bench: {command} saw errors: {errors.group(0)}')
    ticks = re.search(r'wrk-ticks (\d+) (\d+) hz (\d+)', done.stdout)
    cpu = (int(ticks.group(1)) + int(ticks.group(2))) / int(ticks.group(3)) if ticks else float('nan')
    return float(match.group(1)), cpu


def _on(host: str, command: str, timeout: int = 120) -> str:
    done = _run([str(BIN / 'ansible'), host, '-i', str(INVENTORY), '-m', 'ansible.builtin.shell', '-a', command],
                timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f'bench: {command} on {host} failed:\n{done.stdout[-2000:]}{done.stderr[-1000:]}')
    return done.stdout


# Clock ticks the processes called {name} have used (user + system), read from /proc on the host.
_TICKS = ("for p in $(pgrep -x {name}); do cut -d' ' -f14,15 /proc/$p/stat; done "
          "| awk '{t += $1 + $2} END {print \"ticks\", t}'; getconf CLK_TCK | sed 's/^/hz /'")


def _nginx_cpu(host: str) -> float:
    return _process_cpu(host, 'nginx')


def _process_cpu(host: str, name: str) -> float:
    """CPU seconds (user + system) the processes called ``name`` on the host have used."""
    out = _on(host, _TICKS.replace('{name}', name))
    ticks = float(re.search(r'ticks (\d+)', out).group(1))
    return ticks / float(re.search(r'hz (\d+)', out).group(1))


def _wrk_cpu(url: str, seconds: int, connections: int, balancer: str) -> tuple[float, float, float]:
    """Requests per second, and CPU microseconds per request spent by the balancer's nginx and by wrk."""
    before = _nginx_cpu(balancer)
    rate, client = _wrk_client(url, seconds, connections)
    spent = _nginx_cpu(balancer) - before
    requests = rate * seconds
    return rate, round(spent / requests * 1e6, 1), round(client / requests * 1e6, 1)


def _s_time(target: str, seconds: int, options: str) -> float:
    """New TLS connections per second from the client (openssl s_time: handshakes, no request)."""
    out = _on('client', f'openssl s_time -connect {target} -time {seconds} {options} 2>&1 | grep "real seconds"',
              timeout=seconds + 60)
    match = re.search(r'(\d+) connections in (\d+) real seconds', out)
    if not match:
        raise SystemExit(f'bench: openssl s_time on the client printed no rate:\n{out[-2000:]}')
    return round(int(match.group(1)) / max(1, int(match.group(2))), 1)


def tls(rounds: int, seconds: int, connections: int) -> dict:
    _install_wrk()
    lab = _lab_targets()
    balancer, vip = lab['balancer'], lab['vip']
    services = lab['hostvars'][balancer].get('nginx_lb_services') or []
    www = next((s for s in services if isinstance(s.get('tls'), dict)), None)
    if www is None:
        raise SystemExit('bench: tls needs an HTTPS service in nginx_lb_services of inventories/local')
    name = www['server_names'][0]
    port = www.get('port', 443)
    rows = {key: [] for key in ('http', 'https', 'ratio', 'http_cpu', 'https_cpu', 'http_wrk', 'https_wrk',
                                'new13', 'new12', 'resumed12')}
    for number in range(1, rounds + 1):
        http, http_cpu, http_wrk = _wrk_cpu(f'http://{vip}:80/', seconds, connections, balancer)
        https, https_cpu, https_wrk = _wrk_cpu(f'https://{name}:{port}/', seconds, connections, balancer)
        # s_time reuses a session only through a TLS 1.2 session ID (the server's shared cache).
        new13 = _s_time(f'{vip}:{port}', seconds, '-new')
        new12 = _s_time(f'{vip}:{port}', seconds, '-new -tls1_2')
        resumed12 = _s_time(f'{vip}:{port}', seconds, '-reuse -tls1_2')
        for key, value in (('http', http), ('https', https), ('ratio', round(https / http, 3)),
                           ('http_cpu', http_cpu), ('https_cpu', https_cpu), ('http_wrk', http_wrk),
                           ('https_wrk', https_wrk), ('new13', new13), ('new12', new12),
                           ('resumed12', resumed12)):
            rows[key].append(value)
        print(f'round {number}: http {http:.0f} req/s ({http_cpu} us of nginx CPU each, {http_wrk} us of wrk), '
              f'https {https:.0f} req/s ({https_cpu} us, {https_wrk} us), ratio {rows["ratio"][-1]:.2f}; '
              f'new TLS connections/s: TLS 1.3 {new13}, TLS 1.2 {new12}, TLS 1.2 resumed {resumed12}', flush=True)
    return {
        'rows': [('plain HTTP through the VIP, keep-alive (req/s)', rows['http']),
                 ('HTTPS through the VIP, keep-alive (req/s)', rows['https']),
                 ('ratio HTTPS / HTTP', rows['ratio']),
                 (f'nginx CPU per plain request on {balancer} (us)', rows['http_cpu']),
                 (f'nginx CPU per HTTPS request on {balancer} (us)', rows['https_cpu']),
                 ('wrk CPU per plain request on the client (us)', rows['http_wrk']),
                 ('wrk CPU per HTTPS request on the client (us)', rows['https_wrk']),
                 ('new TLS 1.3 connections, full handshake (per s)', rows['new13']),
                 ('new TLS 1.2 connections, full handshake (per s)', rows['new12']),
                 ('TLS 1.2 connections resuming a cached session (per s)', rows['resumed12'])],
        'raw': dict(rows, seconds=seconds, connections=connections),
    }


# One setting changed against the defaults per variant (extra vars for site.yml).
COST_VARIANTS = (
    ('defaults', {}),
    ('access log off', {'nginx_lb_access_log': 'off'}),
    ('no upstream keep-alive', {'nginx_lb_upstream_keepalive': 0}),
    ('proxy buffering off', {'nginx_lb_proxy_buffering': False}),
    ('one worker', {'nginx_lb_worker_processes': 1}),
)


def _lab_targets() -> dict:
    """What the load benchmarks aim at, from inventories/local: the first backend and balancer, the first
    VIP, their ports (explicit: a minimal guest has no /etc/services to resolve "http")."""
    inventory = json.loads(_run([str(BIN / 'ansible-inventory'), '-i', str(INVENTORY), '--list'], timeout=60).stdout)
    hostvars = inventory['_meta']['hostvars']
    web = hostvars[inventory['web']['hosts'][0]]
    balancer = inventory['lb']['hosts'][0]
    return {'hostvars': hostvars, 'balancer': balancer, 'backend': web['ansible_host'],
            'backend_port': web.get('nginx_web_port', 80),
            'vip': hostvars[balancer]['keepalived_instances'][0]['virtual_ipaddresses'][0].split('/')[0],
            'vip_port': hostvars[balancer].get('nginx_lb_listen_port', 80)}


def _deploy_balancers(extra: dict) -> None:
    argv = [str(BIN / 'ansible-playbook'), '-i', str(INVENTORY), str(REPO / 'playbooks' / 'site.yml'),
            '--limit', 'lb']
    if extra:
        argv += ['-e', json.dumps(extra)]
    done = _run(argv, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f'bench: site.yml with {extra} failed:\n{done.stdout[-3000:]}')


def cost(rounds: int, seconds: int, connections: int) -> dict:
    _install_wrk()
    lab = _lab_targets()
    backend, backend_port, balancer, vip, vip_port = (lab[key] for key in (
        'backend', 'backend_port', 'balancer', 'vip', 'vip_port'))
    rows, raw = [], {}
    try:
        for label, extra in COST_VARIANTS:
            _deploy_balancers(extra)
            rates, ratios, cpus = [], [], []
            for number in range(1, rounds + 1):
                direct = _wrk(f'http://{backend}:{backend_port}/', seconds, connections)
                rate, cpu, _client = _wrk_cpu(f'http://{vip}:{vip_port}/', seconds, connections, balancer)
                rates.append(round(rate))
                ratios.append(round(rate / direct, 3))
                cpus.append(cpu)
                print(f'{label}, round {number}: direct {direct:.0f} req/s, through the VIP {rate:.0f} req/s '
                      f'(ratio {ratios[-1]:.2f}), {cpu} us of nginx CPU per request on {balancer}', flush=True)
            rows += [(f'{label}: through the VIP (req/s)', rates), (f'{label}: ratio VIP / direct', ratios),
                     (f'{label}: nginx CPU per request on {balancer} (us)', cpus)]
            raw[label] = {'settings': extra, 'vip_rps': rates, 'ratio': ratios, 'nginx_cpu_us': cpus}
    finally:
        _deploy_balancers({})
    return {'rows': rows, 'raw': {'variants': raw, 'seconds': seconds, 'connections': connections}}


def _install_wrk() -> None:
    """wrk comes from the lab's local apt repository; the client is a throwaway guest."""
    done = _run([str(BIN / 'ansible'), 'client', '-i', str(INVENTORY), '-m', 'ansible.builtin.apt',
                 '-a', 'name=wrk state=present'], timeout=300)
    if done.returncode != 0:
        raise SystemExit(f'bench: installing wrk on the client failed:\n{done.stdout[-2000:]}{done.stderr[-1000:]}')


def throughput(rounds: int, seconds: int, connections: int) -> dict:
    _install_wrk()
    lab = _lab_targets()
    backend, backend_port, vip, vip_port = (lab[key] for key in ('backend', 'backend_port', 'vip', 'vip_port'))
    direct, through, ratio = [], [], []
    for number in range(1, rounds + 1):
        direct.append(_wrk(f'http://{backend}:{backend_port}/', seconds, connections))
        through.append(_wrk(f'http://{vip}:{vip_port}/', seconds, connections))
        ratio.append(round(through[-1] / direct[-1], 3))
        print(f'round {number}: direct {direct[-1]:.0f} req/s, through the VIP {through[-1]:.0f} req/s, '
              f'ratio {ratio[-1]:.2f}', flush=True)
    return {
        'rows': [(f'direct to {backend} (req/s)', direct), (f'through the VIP {vip} (req/s)', through),
                 ('ratio VIP / direct', ratio)],
        'raw': {'direct_rps': direct, 'vip_rps': through, 'ratio': ratio, 'seconds': seconds,
                'connections': connections},
    }


ROLLING_CHANGES = {
    'config': {'nginx_web_keepalive_requests': 9999, 'nginx_lb_worker_connections': 8000,
               'keepalived_health_check_rise': 3},
    'upgrade': {'nginx_web_package_state': 'latest', 'nginx_lb_package_state': 'latest',
                'keepalived_package_state': 'latest'},
}
PROBE = REPO / 'roles' / 'failover_drill' / 'files' / 'vip_probe.py'
PROBE_DIR = '/var/tmp/ha-lb-bench'
# What a host's journal says about an update: (pattern, label) for nginx and keepalived.
JOURNAL_MARKS = ((r'^Reloaded ', 'reload'), (r'^Started nginx|^Started keepalived', 'start'),
                 (r'^Stopped nginx|^Stopped keepalived', 'stop'), (r'Entering MASTER STATE', 'MASTER'),
                 (r'Entering BACKUP STATE', 'BACKUP'), (r'Entering FAULT STATE', 'FAULT'))


def _probe_start(url: str) -> None:
    _on('client', f'mkdir -p {PROBE_DIR}')
    copied = _run([str(BIN / 'ansible'), 'client', '-i', str(INVENTORY), '-m', 'ansible.builtin.copy',
                   '-a', f'src={PROBE} dest={PROBE_DIR}/vip_probe.py mode=0755'], timeout=120)
    if copied.returncode != 0:
        raise SystemExit(f'bench: copying the probe to the client failed:\n{copied.stdout[-2000:]}')
    _on('client', f'rm -f {PROBE_DIR}/probe.jsonl {PROBE_DIR}/stop; nohup python3 {PROBE_DIR}/vip_probe.py '
                  f'--url {url} --duration 1800 --stop-file {PROBE_DIR}/stop --output {PROBE_DIR}/probe.jsonl '
                  '>/dev/null 2>&1 &')
    time.sleep(1)


def _probe_stop() -> list[dict]:
    _on('client', f'touch {PROBE_DIR}/stop')
    for _attempt in range(20):
        out = _on('client', f'cat {PROBE_DIR}/probe.jsonl')
        records = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
        if any(record.get('type') == 'end' for record in records):
            return records
        time.sleep(0.5)
    raise SystemExit('bench: the probe did not end')


def _journal_marks(hosts: list[str], since: float) -> list[tuple[str, float, str]]:
    """(host, wall time, label) of every reload, start, stop and VRRP transition since ``since``."""
    marks = []
    for host in hosts:
        out = _on(host, f'journalctl -u nginx -u keepalived --since @{since:.3f} -o json --no-pager')
        for line in out.splitlines():
            if not line.startswith('{'):
                continue
            entry = json.loads(line)
            message = str(entry.get('MESSAGE', ''))
            unit = str(entry.get('UNIT') or entry.get('_SYSTEMD_UNIT') or '').replace('.service', '')
            for pattern, label in JOURNAL_MARKS:
                if re.search(pattern, message):
                    marks.append((host, int(entry['__REALTIME_TIMESTAMP']) / 1e6,
                                  label if label in ('MASTER', 'BACKUP', 'FAULT') else f'{label} {unit}'.strip()))
                    break
    return marks


def _timeline_svg(title: str, records: list[dict], marks: list[tuple[str, float, str]], hosts: list[str]) -> str:
    """The probe's requests (failed ones in red) and each host's marks on one time axis."""
    start = next(record for record in records if record.get('type') == 'start')
    samples = [record for record in records if record.get('type') == 'sample']
    t0, t1 = samples[0]['t'], samples[-1]['t'] + samples[-1]['dur']
    width, left, lane = 1200, 110, 26
    scale = (width - left - 20) / max(t1 - t0, 1e-6)

    def x(t):
        return left + (t - t0) * scale

    lanes = ['requests'] + hosts
    height = 70 + lane * len(lanes) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
             f'<text x="20" y="24" font-size="16" font-weight="bold">{title}</text>']
    failed = [sample for sample in samples if not sample['ok']]
    parts.append(f'<text x="20" y="44">{len(samples)} requests, {len(failed)} failed; marks: each host\'s '
                 'reloads, starts, stops (nginx, keepalived) and VRRP transitions</text>')
    for index, name in enumerate(lanes):
        y = 60 + index * lane
        parts.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{name}</text>')
        parts.append(f'<line x1="{left}" y1="{y + lane}" x2="{width - 20}" y2="{y + lane}" stroke="#E0E0E0"/>')
    parts.append(f'<rect x="{left}" y="66" width="{width - left - 20}" height="14" fill="#009E73" fill-opacity="0.35">'
                 '<title>answered</title></rect>')
    answers = sorted(sample['t'] + sample['dur'] for sample in samples if sample['ok'])
    for earlier, later in zip(answers, answers[1:]):
        if later - earlier > 0.1:
            parts.append(f'<rect x="{x(earlier):.1f}" y="64" width="{max(x(later) - x(earlier), 2):.1f}" height="18" '
                         f'fill="#E69F00"><title>no answer for {later - earlier:.3f} s</title></rect>')
    for sample in failed:
        parts.append(f'<circle cx="{x(sample["t"]):.1f}" cy="73" r="4" fill="#D7191C"><title>'
                     f'{sample.get("error")}</title></circle>')
    for host, wall, label in marks:
        t = start['mono'] + wall - start['wall']
        if t0 <= t <= t1:
            y = 60 + (1 + hosts.index(host)) * lane
            colour = {'MASTER': '#6A3D9A', 'BACKUP': '#B15928', 'FAULT': '#D7191C'}.get(label, '#0072B2')
            parts.append(f'<line x1="{x(t):.1f}" y1="{y + 3}" x2="{x(t):.1f}" y2="{y + lane - 3}" stroke="{colour}" '
                         f'stroke-width="2"><title>{host} {label} at {t - t0:.2f} s</title></line>')
            parts.append(f'<text x="{x(t) + 3:.1f}" y="{y + 12}" font-size="9" fill="{colour}">{label}</text>')
    axis = 60 + lane * len(lanes) + 14
    step = max(1, round((t1 - t0) / 12))
    for second in range(0, int(t1 - t0) + 1, step):
        parts.append(f'<text x="{x(t0 + second):.1f}" y="{axis}" font-size="10" text-anchor="middle">{second} s</text>')
    parts.append('</svg>')
    return '\n'.join(parts) + '\n'


def _measured_site(extra: dict, url: str, hosts: list[str], name: str) -> dict:
    _probe_start(url)
    since = time.time()
    argv = [str(BIN / 'ansible-playbook'), '-i', str(INVENTORY), str(REPO / 'playbooks' / 'site.yml')]
    started = time.monotonic()
    done = _run(argv + (['-e', json.dumps(extra)] if extra else []), timeout=1800)
    elapsed = time.monotonic() - started
    records = _probe_stop()
    if done.returncode != 0:
        raise SystemExit(f'bench: site.yml {name} failed:\n{done.stdout[-3000:]}')
    samples = [record for record in records if record.get('type') == 'sample']
    answers = sorted(sample['t'] + sample['dur'] for sample in samples if sample['ok'])
    gap = max(later - earlier for earlier, later in zip(answers, answers[1:]))
    failed = sum(1 for sample in samples if not sample['ok'])
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    REPORTS.mkdir(exist_ok=True)
    picture = REPORTS / f'bench-rolling-{stamp}-{name}.svg'
    picture.write_text(_timeline_svg(f'site.yml {name}: {failed} failed, longest gap {gap:.3f} s, {elapsed:.0f} s',
                                     records, _journal_marks(hosts, since - 1), hosts))
    print(f'{name}: {len(samples)} requests, {failed} failed, longest gap {gap:.3f} s, site.yml {elapsed:.0f} s '
          f'({picture.name})', flush=True)
    return {'failed': failed, 'gap': round(gap, 3), 'seconds': round(elapsed, 1), 'requests': len(samples)}


def rolling(rounds: int, change: str) -> dict:
    lab = _lab_targets()
    url = f'http://{lab["vip"]}:{lab["vip_port"]}/'
    inventory = json.loads(_run([str(BIN / 'ansible-inventory'), '-i', str(INVENTORY), '--list'], timeout=60).stdout)
    hosts = inventory['web']['hosts'] + inventory['lb']['hosts']
    runs = []
    try:
        for number in range(1, rounds + 1):
            if change == 'upgrade':
                # A number above any earlier round's (and any the lab's tests offered): a higher version each time.
                _lab_upgrades('offer-upgrades', str(int(time.time())))
                runs.append(_measured_site(ROLLING_CHANGES[change], url, hosts, f'upgrade-{number}'))
            else:
                runs.append(_measured_site(ROLLING_CHANGES[change], url, hosts, f'config-{number}'))
                runs.append(_measured_site({}, url, hosts, f'config-back-{number}'))
    finally:
        if change == 'upgrade':
            _lab_upgrades('withdraw-upgrades')
    return {
        'rows': [('failed requests per run', [run['failed'] for run in runs]),
                 ('longest gap between two answers (s)', [run['gap'] for run in runs]),
                 ('site.yml (s)', [run['seconds'] for run in runs])],
        'raw': {'change': change, 'extra_vars': ROLLING_CHANGES[change], 'runs': runs},
    }


# keepalived's log lines for a change of state (or of the daemon) in an instance.
TRANSITIONS = r'Entering (MASTER|BACKUP|FAULT) STATE|entering FAULT state|Stopping|Starting VRRP child'


def _holder(vip: str, balancers: list[str]) -> list[str]:
    # The VRRP interface, not the loopback copy that keepalived_loopback_vips keeps on every balancer.
    return [host for host in balancers
            if re.search(rf'^\d+: (?!lo\b)\S+\s+inet {re.escape(vip)}/', _on(host, 'ip -4 -o addr show'), re.M)]


def _wrk_errors(url: str, seconds: int, connections: int) -> tuple[float, str]:
    """Requests per second and wrk's error lines (none: ''), for a long run that must not stop at an error."""
    done = _run([str(BIN / 'ansible'), 'client', '-i', str(INVENTORY), '-m', 'ansible.builtin.shell',
                 '-a', f'wrk -t2 -c{connections} -d{seconds}s {url}'], timeout=seconds + 120)
    match = re.search(r'Requests/sec:\s+([\d.]+)', done.stdout)
    if done.returncode != 0 or not match:
        raise SystemExit(f'bench: wrk on the client failed:\n{done.stdout[-2000:]}{done.stderr[-1000:]}')
    errors = re.findall(r'Non-2xx or 3xx responses: \d+|Socket errors: .*', done.stdout)
    return float(match.group(1)), '; '.join(errors)


def soak(rounds: int, minutes: float, load: str, connections: int, profile: str | None) -> dict:
    lab = _lab_targets()
    url = f'http://{lab["vip"]}:{lab["vip_port"]}/'
    inventory = json.loads(_run([str(BIN / 'ansible-inventory'), '-i', str(INVENTORY), '--list'], timeout=60).stdout)
    balancers = inventory['lb']['hosts']
    if profile:
        done = _run([str(BIN / 'ansible-playbook'), '-i', str(INVENTORY), str(REPO / 'playbooks' / 'site.yml'),
                     '-e', '@' + str(pathlib.Path(profile).resolve())], timeout=900)
        if done.returncode != 0:
            raise SystemExit(f'bench: site.yml with {profile} failed:\n{done.stdout[-3000:]}')
    if load == 'wrk':
        _install_wrk()
    seconds = round(minutes * 60)
    runs = []
    for number in range(1, rounds + 1):
        holder = _holder(lab['vip'], balancers)
        cpu = {host: _process_cpu(host, 'keepalived') for host in balancers}
        since = time.time()
        rate, errors = 0.0, ''
        if load == 'wrk':
            rate, errors = _wrk_errors(url, seconds, connections)
        else:
            time.sleep(seconds)
        found = {}
        for host in balancers:
            out = _on(host, f"journalctl -u keepalived --since @{since:.3f} --no-pager -o short-iso-precise "
                            f"| grep -E '{TRANSITIONS}' || true")
            found[host] = [line for line in out.splitlines() if re.search(TRANSITIONS, line)]
        after = _holder(lab['vip'], balancers)
        elapsed = time.time() - since
        cpu = {host: round(100 * (_process_cpu(host, 'keepalived') - cpu[host]) / elapsed, 2) for host in balancers}
        count = sum(len(lines) for lines in found.values())
        print(f'round {number}: {minutes:g} min {load}, {count} transitions '
              f'({", ".join(f"{host} {len(lines)}" for host, lines in found.items())}), VIP on {holder} then {after}'
              + (f', wrk {rate:.0f} req/s {errors or "no errors"}' if load == 'wrk' else '')
              + f', keepalived CPU {cpu} %', flush=True)
        for host, lines in found.items():
            for line in lines:
                print(f'  {host}: {line}', flush=True)
        runs.append({'transitions': count, 'lines': found, 'holder_before': holder, 'holder_after': after,
                     'wrk_rps': round(rate), 'wrk_errors': errors, 'keepalived_cpu_percent': cpu})
    rows = [('VRRP transitions logged', [run['transitions'] for run in runs]),
            ('VIP holder changed (0/1)', [int(run['holder_before'] != run['holder_after']) for run in runs])]
    rows += [(f'keepalived CPU on {host} (% of one core)', [run['keepalived_cpu_percent'][host] for run in runs])
             for host in balancers]
    if load == 'wrk':
        rows.append(('wrk through the VIP (req/s)', [run['wrk_rps'] for run in runs]))
    return {
        'rows': rows,
        'raw': {'minutes': minutes, 'load': load, 'connections': connections, 'profile': profile, 'runs': runs},
    }


def _lab_upgrades(*arguments: str) -> None:
    done = _run([sys.executable, str(REPO / 'lab' / 'labctl.py'), *arguments], timeout=600)
    if done.returncode != 0:
        raise SystemExit(f'bench: labctl {" ".join(arguments)} failed:\n{done.stdout}{done.stderr}')


def _report(kind: str, result: dict, argv: list[str]) -> str:
    lines = [f'# Benchmark: {kind}', '', f'Command: `python tools/bench.py {" ".join(argv)}`', '',
             '| measure | rounds | median |', '|---|---|---|']
    for name, values in result['rows']:
        lines.append(f'| {name} | {" / ".join(f"{v:g}" for v in values)} | **{statistics.median(values):g}** |')
    text = '\n'.join(lines) + '\n'
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / f'bench-{kind}-{stamp}.md').write_text(text)
    (REPORTS / f'bench-{kind}-{stamp}.json').write_text(json.dumps(
        {'kind': kind, 'utc': stamp, 'medians': {name: statistics.median(values) for name, values in result['rows']},
         **result['raw']}, indent=2) + '\n')
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='kind', required=True)
    one = sub.add_parser('converge', help='cold converge and idempotent re-run on fresh guests')
    one.add_argument('--rounds', type=int, default=3)
    low = sub.add_parser('floor', help='the module calls of a re-run alone, against the re-run (needs `make lab`)')
    low.add_argument('--rounds', type=int, default=3)
    two = sub.add_parser('throughput', help='wrk from the client: direct to a backend, then through the VIP')
    two.add_argument('--rounds', type=int, default=3)
    two.add_argument('--seconds', type=int, default=8)
    two.add_argument('--connections', type=int, default=64)
    three = sub.add_parser('tls', help='plain HTTP against HTTPS through the VIP, and TLS handshakes per second')
    three.add_argument('--rounds', type=int, default=3)
    three.add_argument('--seconds', type=int, default=8)
    three.add_argument('--connections', type=int, default=64)
    four = sub.add_parser('cost', help="what nginx_lb's settings cost per plain request (redeploys the balancers)")
    four.add_argument('--rounds', type=int, default=3)
    four.add_argument('--seconds', type=int, default=8)
    four.add_argument('--connections', type=int, default=64)
    five = sub.add_parser('rolling', help='the probe through the VIP while site.yml updates the running cluster')
    five.add_argument('--rounds', type=int, default=3)
    five.add_argument('--change', choices=sorted(ROLLING_CHANGES), default='config')
    six = sub.add_parser('soak', help='count the VRRP transitions while the lab runs idle or under wrk')
    six.add_argument('--rounds', type=int, default=1)
    six.add_argument('--minutes', type=float, default=30)
    six.add_argument('--load', choices=('idle', 'wrk'), default='idle')
    six.add_argument('--connections', type=int, default=16)
    six.add_argument('--profile', help='an extra-vars file to deploy with site.yml first')
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    if args.kind == 'converge':
        result = converge(args.rounds)
    elif args.kind == 'floor':
        result = floor(args.rounds)
    elif args.kind == 'rolling':
        result = rolling(args.rounds, args.change)
    elif args.kind == 'soak':
        if args.minutes <= 0 or args.connections < 1:
            parser.error('--minutes must be above 0 and --connections at least 1')
        result = soak(args.rounds, args.minutes, args.load, args.connections, args.profile)
    else:
        if args.seconds < 1 or args.connections < 1:
            parser.error('--seconds and --connections must be at least 1')
        run = {'throughput': throughput, 'tls': tls, 'cost': cost}[args.kind]
        result = run(args.rounds, args.seconds, args.connections)
    print(_report(args.kind, result, sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
