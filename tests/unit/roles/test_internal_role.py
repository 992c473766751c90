# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The internal role refuses to run on its own and stays out of the public documentation."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from _render import REPO

PLAY = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Use the internal role directly
      ansible.builtin.include_role:
        name: ha_lb.keepalived_nginx._service
        tasks_from: {entry}
'''


@pytest.mark.parametrize('entry', ['main'])
def test_the_internal_role_refuses_direct_use(tmp_path, entry):
    playbook = tmp_path / 'direct.yml'
    playbook.write_text(PLAY.format(entry=entry))
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
                          '-c', 'local', '-e', f'ansible_python_interpreter={sys.executable}', str(playbook)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode != 0
    assert 'ha_lb.keepalived_nginx._service is internal to the collection' in ' '.join(run.stdout.split())


def test_the_internal_role_has_no_public_page():
    assert not (REPO / 'docs' / 'roles' / '_service.md').exists()
    assert '_service' not in (REPO / 'docs' / 'roles' / 'README.md').read_text()
