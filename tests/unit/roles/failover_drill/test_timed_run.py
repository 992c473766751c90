# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'failover_drill', 'files', 'timed_run.py')
_spec = importlib.util.spec_from_file_location('timed_run', SCRIPT)
timed_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(timed_run)


def test_records_start_on_both_clocks(tmp_path, capsys):
    out = tmp_path / 'events.jsonl'
    before = time.monotonic()
    rc = timed_run.main(['--name', 'restore', '--output', str(out), '--', sys.executable, '-c',
                         'import time; time.sleep(0.05); print("done")'])
    after = time.monotonic()
    assert rc == 0
    record = json.loads(capsys.readouterr().out)
    assert record == json.loads(out.read_text())
    assert record['name'] == 'restore' and record['rc'] == 0 and record['stdout'] == 'done\n'
    assert before <= record['mono'] <= record['end_mono'] <= after
    assert record['end_mono'] - record['mono'] >= 0.05
    assert abs(record['wall'] - time.time()) < 5


def test_failure_and_missing_command(capsys):
    assert timed_run.main(['--', sys.executable, '-c', 'import sys; sys.exit(3)']) == 1
    assert json.loads(capsys.readouterr().out)['rc'] == 3
    assert timed_run.main(['--', '/nonexistent/command']) == 1
    assert json.loads(capsys.readouterr().out)['rc'] == 127
    with pytest.raises(SystemExit):
        timed_run.main([])
