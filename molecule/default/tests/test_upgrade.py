# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A package upgrade of nginx (backends and balancers) and keepalived through site.yml, measured by the
drill's probe through the VIP. The lab's repository offers a higher version of both (labctl.py
offer-upgrades: the same files with "+lab1" in their version), and site.yml runs with every
package_state at latest: the packages' own scripts restart the services, one host at a time."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO, client_probe, holds, longest_gap, run_playbook

SITE = REPO / 'playbooks' / 'site.yml'
LABCTL = REPO / 'lab' / 'labctl.py'
LATEST = {'nginx_web_package_state': 'latest', 'nginx_lb_package_state': 'latest', 'keepalived_package_state': 'latest'}
PACKAGES = {'web-1': ['nginx'], 'web-2': ['nginx'], 'lb-1': ['nginx', 'keepalived'], 'lb-2': ['nginx', 'keepalived']}
MAX_GAP = 0.1


def _labctl(command: str):
    result = subprocess.run([sys.executable, str(LABCTL), command], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def _versions(host, packages) -> list[str]:
    return host.check_output(f"dpkg-query -W -f '${{Version}}\\n' {' '.join(packages)}").split()


def test_a_package_upgrade_rolls_over_every_host_without_a_failed_request(hosts, vip, interface, vip_answering):
    client = hosts['client']
    before = {name: _versions(hosts[name], packages) for name, packages in PACKAGES.items()}
    assert not any('+lab1' in version for versions in before.values() for version in versions), before
    _labctl('offer-upgrades')
    try:
        with client_probe(client, '--url', f'http://{vip}/', duration=900) as probe:
            run = run_playbook(SITE, '-e', json.dumps(LATEST), timeout=900)
            assert run.returncode == 0, run.stdout[-3000:]
        after = {name: _versions(hosts[name], packages) for name, packages in PACKAGES.items()}
        assert all(version.endswith('+lab1') for versions in after.values() for version in versions), after
        # The holder handed its VIP over before its upgrade, and took it back.
        assert 'lb-1 is in maintenance for' in run.stdout and 'lb-1 is out of maintenance for' in run.stdout
        assert holds(hosts['lb-1'], vip, interface)
        # A second run finds nothing newer: nothing changes.
        again = run_playbook(SITE, '-e', json.dumps(LATEST), timeout=600)
        assert again.returncode == 0 and all(' changed=0 ' in line for line in again.stdout.splitlines()
                                             if ' changed=' in line), again.stdout[-3000:]
    finally:
        _labctl('withdraw-upgrades')
    samples = probe.samples()
    failed = [sample for sample in samples if not sample['ok']]
    assert probe.end['samples'] > 1000, probe.end
    # Two VIP moves (the holder's hand-over and its return): each may reset the one connection in
    # flight at the instant of the move (docs/switchover.md), and nothing else may fail.
    assert len(failed) <= 1 and all(sample['error'] == 'reset' for sample in failed), failed
    assert longest_gap(samples) <= MAX_GAP
