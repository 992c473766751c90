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

Both print a Markdown table and write it with the raw figures to reports/bench-<kind>-<stamp>.{md,json}.
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


# Clock ticks nginx's processes have used (user + system), read from /proc on the balancer.
_NGINX_TICKS = ("for p in $(pgrep -x nginx); do cut -d' ' -f14,15 /proc/$p/stat; done "
                "| awk '{t += $1 + $2} END {print \"ticks\", t}'; getconf CLK_TCK | sed 's/^/hz /'")


def _nginx_cpu(host: str) -> float:
    out = _on(host, _NGINX_TICKS)
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
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    if args.kind == 'converge':
        result = converge(args.rounds)
    elif args.kind == 'floor':
        result = floor(args.rounds)
    else:
        if args.seconds < 1 or args.connections < 1:
            parser.error('--seconds and --connections must be at least 1')
        run = {'throughput': throughput, 'tls': tls, 'cost': cost}[args.kind]
        result = run(args.rounds, args.seconds, args.connections)
    print(_report(args.kind, result, sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
