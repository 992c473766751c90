# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""No output shows the VRRP secret: a check-mode secret rotation with --diff and -v prints neither value."""

from __future__ import annotations

import base64

from conftest import REPO, run_playbook

SITE = REPO / 'playbooks' / 'site.yml'
DRILL = REPO / 'playbooks' / 'failover_drill.yml'
ROTATED = 'rotated1'


def _forms(secret: str) -> list[str]:
    """The secret as text and as it shows inside base64 output (slurp, diffs of encoded data) at any offset."""
    forms = [secret]
    # After 0, 1 or 2 bytes of other data, the secret alone decides the base64 characters from 0, 2 or 3 on.
    for offset, start in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b'x' * offset + secret.encode() + b'xx').decode()
        forms.append(encoded[start:start + 8])
    return forms


def test_a_secret_rotation_in_check_diff_mode_shows_no_secret(hostvars):
    current = hostvars['lb-1']['vault_keepalived_auth_pass']
    run = run_playbook(SITE, '--check', '--diff', '-v', '-e', f'vault_keepalived_auth_pass={ROTATED}')
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    for secret in (current, ROTATED):
        for form in _forms(secret):
            assert form not in output, f'{form!r} (from the secret {secret!r}) in the output'
    # The change is still announced, with the reason its diff is missing.
    assert ('/etc/keepalived/keepalived.conf would change; its diff is not shown because the file holds a secret.'
            in ' '.join(output.split()))


def test_a_verbose_drill_shows_no_secret(hostvars):
    # The drill reads the deployed keepalived.conf for its budget; -v prints every task result.
    current = hostvars['lb-1']['vault_keepalived_auth_pass']
    run = run_playbook(DRILL, '-v', '-e', 'failover_drill_faults=backend_down', timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    for form in _forms(current):
        assert form not in output, f'{form!r} (from the secret) in the output'
