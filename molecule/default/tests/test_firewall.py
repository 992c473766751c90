# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The VRRP firewall on the lab: with keepalived_firewall_enabled, adverts sent from the client to the
backup with the lab's VRID and a higher priority are counted and dropped before keepalived sees them,
nothing moves, and a `stop` drill still fails over and back within its budget; off again, the table
and its unit are gone and the host's other rules were never touched."""

from __future__ import annotations

import re
import time

from conftest import REPO, holds, journal_cursor, rogue, run_playbook, transitions

SITE = REPO / 'playbooks' / 'site.yml'
DRILL = REPO / 'playbooks' / 'failover_drill.yml'
ON = ['-e', 'keepalived_firewall_enabled=true']
TABLE = 'inet ha_lb_vrrp'


def _dropped(host) -> int:
    out = host.check_output(f'nft list counter {TABLE} vrrp_dropped')
    return int(re.search(r'packets (\d+)', out).group(1))


def test_the_firewall_drops_foreign_adverts_and_failover_still_works(
        hosts, hostvars, instance, vip, interface, vip_answering, tmp_path):
    backup = hosts['lb-2']
    try:
        on = run_playbook(SITE, *ON, timeout=600)
        assert on.returncode == 0, on.stdout[-3000:]
        # A table of someone else's, which the collection must leave alone, also when it loads its own again.
        backup.check_output('nft add table inet site_rules; nft add chain inet site_rules input '
                            "'{ type filter hook input priority 0; policy accept; }'")
        backup.check_output('systemctl restart ha-lb-vrrp-firewall.service')
        assert 'table inet site_rules' in backup.check_output('nft list tables')
        rules = backup.check_output(f'nft list table {TABLE}')
        # nft shows a set of one address without its braces, and protocol 112 by its name in /etc/protocols
        # where it has one (nftables 1.1 on Debian 13 lists `vrrp`, 1.0 on Debian 12 `112`).
        peer = re.escape(hostvars['lb-1']['ansible_host'])
        assert re.search(rf'iifname "{interface}" meta l4proto (112|vrrp) ip saddr (\{{ )?{peer}( \}})? accept',
                         rules), rules
        before = _dropped(backup)
        cursors = {name: journal_cursor(hosts[name]) for name in ('lb-1', 'lb-2')}
        with rogue(hosts['client'], hostvars['client']['ansible_host'], instance['virtual_router_id'], vip,
                   seconds=5, destination=hostvars['lb-2']['ansible_host'], priority=254):
            time.sleep(5)
        assert _dropped(backup) >= before + 10
        # keepalived never saw them: no transition, and nothing it logs about a bad advert.
        assert all(transitions(hosts[name], cursors[name]) == [] for name in cursors)
        log = backup.check_output(f"journalctl -u keepalived --after-cursor '{cursors['lb-2']}' -o cat --no-pager")
        assert hostvars['client']['ansible_host'] not in log, log
        assert holds(hosts['lb-1'], vip, interface) and not holds(backup, vip, interface)

        drill = run_playbook(DRILL, *ON, '-e', 'failover_drill_faults=stop', '-e', f'failover_drill_report_dir={tmp_path}',
                             timeout=600)
        assert drill.returncode == 0 and 'All 1 drill(s) within budget' in drill.stdout, drill.stdout[-3000:]
    finally:
        off = run_playbook(SITE, timeout=600)
    assert off.returncode == 0, off.stdout[-3000:]
    for name in ('lb-1', 'lb-2'):
        assert 'ha_lb_vrrp' not in hosts[name].check_output('nft list tables')
        assert not hosts[name].file('/etc/systemd/system/ha-lb-vrrp-firewall.service').exists
    assert 'table inet site_rules' in backup.check_output('nft list tables')
    backup.run('nft delete table inet site_rules')
