# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The report_files action: run by ansible-playbook on the controller (it connects to no host)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.action import report_files

REPO = pathlib.Path(__file__).resolve().parents[4]
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ha_lb.keepalived_nginx.report_files: {args}
      register: written
      run_once: true
    - ansible.builtin.copy:
        content: "{{{{ written | to_json }}}}"
        dest: "{out}"
      delegate_to: localhost
      run_once: true
      check_mode: false
"""


def run(tmp_path, args, *options):
    """The action with args, for two hosts that do not exist (nothing may connect to them)."""
    out = tmp_path / 'result.json'
    playbook = tmp_path / 'play.yml'
    playbook.write_text(PLAYBOOK.format(args=json.dumps(args), out=out))
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / 'ansible-playbook'),
                           '-i', 'nowhere-1.invalid,nowhere-2.invalid', str(playbook), *options],
                          cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_writes_the_files_once_creating_the_directory(tmp_path):
    dest = tmp_path / 'reports' / 'fleet'
    args = {'dest': str(dest), 'files': [{'name': 'a.json', 'content': '{"x": 1}\n'},
                                         {'name': 'a.md', 'content': '# ok\n'}]}
    old_umask = os.umask(0o077)  # the directory gets its mode whatever the umask
    try:
        proc, result = run(tmp_path, args, '-v', '--diff')
    finally:
        os.umask(old_umask)
    assert proc.returncode == 0, proc.stdout
    assert result['changed'] is True and result['paths'] == [str(dest / 'a.json'), str(dest / 'a.md')]
    assert (dest / 'a.json').read_text() == '{"x": 1}\n' and (dest / 'a.md').read_text() == '# ok\n'
    assert oct(os.stat(dest / 'a.md').st_mode & 0o7777) == '0o644' and oct(os.stat(dest).st_mode & 0o777) == '0o755'
    # The content is in neither the result nor the diff (the task's banner shows no arguments by default).
    assert '# ok' not in proc.stdout and 'content' not in result
    again, result = run(tmp_path, args, '--diff')
    assert again.returncode == 0 and result['changed'] is False, again.stdout
    assert not [p for p in dest.iterdir() if p.name.startswith('.')]  # no temporary file left


def test_check_mode_reports_the_change_and_writes_nothing(tmp_path):
    dest = tmp_path / 'reports'
    proc, result = run(tmp_path, {'dest': str(dest), 'files': [{'name': 'a.md', 'content': 'x'}]}, '--check')
    assert proc.returncode == 0 and result['changed'] is True, proc.stdout
    assert not dest.exists()


def test_a_new_content_or_mode_is_written(tmp_path):
    dest = tmp_path
    run(tmp_path, {'dest': str(dest), 'files': [{'name': 'a.md', 'content': 'one'}]})
    proc, result = run(tmp_path, {'dest': str(dest), 'files': [{'name': 'a.md', 'content': 'two'}], 'mode': '0600'})
    assert proc.returncode == 0 and result['changed'] is True
    assert (dest / 'a.md').read_text() == 'two' and oct(os.stat(dest / 'a.md').st_mode & 0o7777) == '0o600'


@pytest.mark.parametrize('args, message', [
    ({'files': [{'name': '../a.md', 'content': 'x'}]}, "files: '../a.md': each name is a file name in dest"),
    ({'files': [{'name': 'a.md', 'content': 'x'}], 'mode': 'rw'}, "mode: 'rw' is not an octal file mode"),
    ({'files': [{'name': 'a.md', 'content': 'x'}], 'mode': 644}, "mode: 644 is not an octal file mode; give it as a quoted"),
    ({'files': [{'content': 'x'}]}, 'missing required arguments: name'),
    ({'files': [{'name': 'a.json', 'content': {'x': 1}}]}, "files: the content of 'a.json' is not text"),
    ({'files': [{'name': 'a.md', 'content': None}]}, "files: the content of 'a.md' is not text"),
    ({'files': [{'name': 'a.md', 'content': 'x'}, {'name': 'a.md', 'content': 'y'}]},
     "files: 'a.md' named more than once"),
])
def test_bad_arguments_are_refused_in_our_words(tmp_path, args, message):
    proc, _result = run(tmp_path, dict(args, dest=str(tmp_path / 'reports')))
    assert proc.returncode != 0 and message in ' '.join(proc.stdout.split()), proc.stdout
    assert not (tmp_path / 'reports').exists()


def test_a_dest_that_is_a_file_is_refused_and_nothing_changes(tmp_path):
    (tmp_path / 'reports').write_text('not a directory')
    for options in ((), ('--check',)):
        proc, _result = run(tmp_path, {'dest': str(tmp_path / 'reports'), 'files': [{'name': 'a.md', 'content': 'x'}]},
                            *options)
        assert proc.returncode != 0 and 'exists and is not a directory' in proc.stdout, proc.stdout
        assert 'changed: true' not in proc.stdout
    assert (tmp_path / 'reports').read_text() == 'not a directory'


def test_plain_names_and_modes():
    assert report_files.plain_name('fleet-status-20261206T010203Z.json')
    assert not any(report_files.plain_name(name) for name in ('', '.', '..', 'a/b', '/a', 'a\0b'))
    assert report_files.file_mode('0644') == 0o644 and report_files.file_mode('600') == 0o600
    for bad in ('u+rw', '999', '17777', '', 0o644, 644, True, 1.5):
        with pytest.raises(ValueError):
            report_files.file_mode(bad)
