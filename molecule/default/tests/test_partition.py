# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The partition drill: VRRP, and only VRRP, cut between the balancers. The standby becomes MASTER
within the master-down interval, the holder stays MASTER; the cluster check names both holders
and both MASTER states; the restore ends with one holder. The kind needs nft on the balancers:
installed here from the lab's repository."""

from __future__ import annotations

import json

from conftest import REPO, holds, run_playbook

DRILL = REPO / 'playbooks' / 'failover_drill.yml'


def test_a_partition_shows_two_masters_and_heals_to_one_holder(hosts, vip, interface, vip_answering, tmp_path):
    for name in ('lb-1', 'lb-2'):
        hosts[name].check_output('DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables >/dev/null')
    drill = run_playbook(DRILL, '-e', 'failover_drill_faults=partition', '-e', f'failover_drill_report_dir={tmp_path}',
                         timeout=600)
    assert drill.returncode == 0 and 'All 1 drill(s) within budget' in drill.stdout, drill.stdout[-4000:]
    text = ' '.join(drill.stdout.split())
    assert 'is held by 2 hosts: lb-1, lb-2 (keepalived: lb-1 MASTER, lb-2 MASTER); two MASTERs: lb-1, lb-2' in text, \
        text[-4000:]
    report = json.loads(next(tmp_path.glob('drill-*Z.json')).read_text())
    checks = {check['name']: check for check in report['drills'][0]['checks']}
    assert checks['detection']['ok'] and checks['detection']['measured'] <= checks['detection']['limit'], checks
    assert checks['double_holder']['measured'] is True and checks['restored']['ok'], checks
    # Healed: one holder, the drill's table gone, SSH never lost (the drill ran its restore over it).
    assert holds(hosts['lb-1'], vip, interface) and not holds(hosts['lb-2'], vip, interface)
    for name in ('lb-1', 'lb-2'):
        assert 'ha_lb_drill' not in hosts[name].check_output('nft list tables')
