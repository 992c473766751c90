# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run one command and report, as a JSON line, when it started on this host's clocks.

    python3 timed_run.py [--output FILE] [--name fault] -- systemctl stop keepalived

Prints {"name": ..., "mono": ..., "wall": ..., "end_mono": ..., "rc": ..., "stdout": ..., "stderr": ...}.
``mono`` is CLOCK_MONOTONIC read right before the command starts and ``wall`` the
wall clock read back to back with it, so the failover drill can place the fault on
the probe's timeline: by ``mono`` when the hosts share a kernel (containers), else
by ``wall``. With --output the line is also appended to FILE (written before exit
even when the command cuts this host off, e.g. a link going down).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description='Run a command and record when it started.')
    parser.add_argument('--name', default='fault', help='event name to record (default: fault)')
    parser.add_argument('--output', help='also append the JSON line to this file')
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds the command may run (default 60)')
    parser.add_argument('command', nargs=argparse.REMAINDER, help='the command, after --')
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('a command is required after --')
    record = {'name': args.name, 'command': command}
    mono = time.monotonic()
    wall = time.time()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=args.timeout,
                              check=False, universal_newlines=True)
        record.update(rc=done.returncode, stdout=done.stdout[-2000:], stderr=done.stderr[-2000:])
    except (OSError, subprocess.TimeoutExpired) as exc:
        record.update(rc=127 if isinstance(exc, OSError) else 124, stdout='', stderr=str(exc))
    record.update(mono=round(mono, 6), wall=round(wall, 6), end_mono=round(time.monotonic(), 6))
    line = json.dumps(record, sort_keys=True)
    if args.output:
        with open(args.output, 'a') as handle:
            handle.write(line + '\n')
    print(line)
    return 0 if record['rc'] == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
