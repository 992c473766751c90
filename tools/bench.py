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
    command = f'wrk -t2 -c{connections} -d{seconds}s {url}'
    done = _run([str(BIN / 'ansible'), 'client', '-i', str(INVENTORY), '-m', 'ansible.builtin.command',
                 '-a', command], timeout=seconds + 60)
    match = re.search(r'Requests/sec:\s+([\d.]+)', done.stdout)
    if done.returncode != 0 or not match:
        raise SystemExit(f'bench: {command} on the client failed:\n{done.stdout[-2000:]}{done.stderr[-1000:]}')
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)|Socket errors: .*', done.stdout)
    if errors:
        raise SystemExit(f'bench: {command} saw errors: {errors.group(0)}')
    return float(match.group(1))


def _install_wrk() -> None:
    """wrk comes from the lab's local apt repository; the client is a throwaway guest."""
    done = _run([str(BIN / 'ansible'), 'client', '-i', str(INVENTORY), '-m', 'ansible.builtin.apt',
                 '-a', 'name=wrk state=present'], timeout=300)
    if done.returncode != 0:
        raise SystemExit(f'bench: installing wrk on the client failed:\n{done.stdout[-2000:]}{done.stderr[-1000:]}')


def throughput(rounds: int, seconds: int, connections: int) -> dict:
    _install_wrk()
    inventory = json.loads(_run([str(BIN / 'ansible-inventory'), '-i', str(INVENTORY), '--list'], timeout=60).stdout)
    hostvars = inventory['_meta']['hostvars']
    backend = hostvars[inventory['web']['hosts'][0]]['ansible_host']
    instances = hostvars[inventory['lb']['hosts'][0]]['keepalived_instances']
    vip = instances[0]['virtual_ipaddresses'][0].split('/')[0]
    # Explicit ports: a minimal guest has no /etc/services to resolve "http".
    backend_port = hostvars[inventory['web']['hosts'][0]].get('nginx_web_port', 80)
    vip_port = hostvars[inventory['lb']['hosts'][0]].get('nginx_lb_listen_port', 80)
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
        result = throughput(args.rounds, args.seconds, args.connections)
    print(_report(args.kind, result, sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
