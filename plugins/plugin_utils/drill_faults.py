# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The failover drill's fault kinds: one table, one entry per kind, in the order drills and reports use.

Internal to the collection and controller-only: the drill_analysis budget and verdict, the
drill_faults filter (for the role's tasks) and the runbook's fault table (tools/gen_role_docs.py)
all read this table, so a kind means the same everywhere. Standard library only: the docs
generator loads this file without Ansible.

Each entry holds:

  name               the kind, as failover_drill_faults names it
  description        what the drill injects, and where (Markdown, for the runbook)
  target             where the fault is injected: 'master' (the balancer holding the VIP) or
                     'backend' (failover_drill_backend)
  vip_moves          the VIP must leave the holder for the standby
  two_holders        both balancers are expected to hold the VIP after the fault
  detection          the VIP must reach the standby within the budget (the time from the fault until
                     the standby holds it is checked, not only what clients saw)
  target_unreachable the target cannot answer while the fault lasts (the drill does not ask it)
  restarted_service  the service the holder's health script must have started again, or None
  budget             the downtime formula: a key of drill_analysis.BUDGET_FORMULAS
  max_failed         failed requests allowed after the fault, or None for no limit
  finding            the FINDING line's end when two balancers hold the VIP after the fault;
                     %s is the holder
  outcome, restore   what is expected and how the drill repairs it (Markdown, for the runbook)
  fault_command      the command (argv) that injects the fault, run on the target and timed there;
                     None when the kind needs more than one command: then
  fault_tasks        the role's task file that injects it (fault_<kind>.yml), else None
  restore_command    the command that repairs what the fault broke, on the target, timed; or None and
  restore_tasks      the role's task file that repairs it (restore_<kind>.yml), else None

Adding a kind: one entry here; a task file in roles/failover_drill/tasks/ only for a fault or a
repair that one command cannot do.
"""

from __future__ import annotations

TARGETS = ('master', 'backend')

FIELDS = ('name', 'description', 'target', 'vip_moves', 'two_holders', 'detection', 'target_unreachable',
          'restarted_service', 'budget', 'max_failed', 'finding', 'outcome', 'restore',
          'fault_command', 'restore_command', 'fault_tasks', 'restore_tasks')

FAULTS = (
    {
        'name': 'stop',
        'description': '`systemctl stop keepalived` on the holder',
        'target': 'master',
        'vip_moves': True,
        'two_holders': False,
        'detection': False,
        'target_unreachable': False,
        'restarted_service': None,
        'budget': 'skew',
        'max_failed': None,
        'finding': 'after keepalived stopped on %s',
        'outcome': 'VIP moves to the standby after the skew time',
        'restore': '`systemctl start keepalived`; the master takes the VIP back',
        'fault_command': ['systemctl', 'stop', 'keepalived'],
        'restore_command': ['systemctl', 'start', 'keepalived'],
        'fault_tasks': None,
        'restore_tasks': None,
    },
    {
        'name': 'crash',
        'description': '`pkill -STOP` every keepalived process on the holder, then `pkill -KILL` the VRRP children '
                       'before the main process (systemd would otherwise let a child hand over gracefully)',
        'target': 'master',
        'vip_moves': True,
        'two_holders': True,
        'detection': False,
        'target_unreachable': False,
        'restarted_service': None,
        'budget': 'master_down',
        'max_failed': None,
        'finding': 'after the crash of %s; the restore (keepalived start) must clear the stale copy',
        'outcome': 'the standby takes the VIP after the master-down interval; the crashed node keeps a stale copy: '
                   '**two holders**, reported as a finding',
        'restore': '`systemctl start keepalived` drops the stale copy; one holder again',
        # Killing only the main PID is no crash: systemd then stops the VRRP child gracefully. Every
        # keepalived process is frozen first, then the children die before the main process: once it is
        # gone, systemd sends the rest SIGTERM and SIGCONT, and a child still alive would hand over.
        'fault_command': ['sh', '-c', 'pkill -STOP -x keepalived'
                          ' && pkill -KILL -x -P "$(pgrep -d, -x keepalived)" keepalived;'
                          ' pkill -KILL -x keepalived'],
        'restore_command': ['systemctl', 'start', 'keepalived'],
        'fault_tasks': None,
        'restore_tasks': None,
    },
    {
        'name': 'link_down',
        'description': "the holder's VRRP interface goes down for `failover_drill_link_down_seconds` (6 s); a systemd "
                       'timer on the holder brings it back, so it returns without Ansible',
        'target': 'master',
        'vip_moves': True,
        'two_holders': False,
        'detection': False,
        'target_unreachable': True,
        'restarted_service': None,
        'budget': 'master_down',
        'max_failed': None,
        'finding': 'after the link of %s went down',
        'outcome': 'VIP moves after the master-down interval',
        'restore': 'the link comes back (the drill also sets it up if the timer did not run)',
        'fault_command': None,
        'restore_command': None,
        'fault_tasks': 'fault_link_down.yml',
        'restore_tasks': 'restore_link_down.yml',
    },
    {
        'name': 'nginx_stop',
        'description': '`systemctl stop --no-block nginx` on the holder (the health script may start nginx again '
                       'before the stop job ends)',
        'target': 'master',
        'vip_moves': False,
        'two_holders': False,
        'detection': False,
        'target_unreachable': False,
        'restarted_service': 'nginx',
        'budget': 'detection',
        'max_failed': None,
        'finding': 'after nginx stopped on %s',
        'outcome': 'the health script starts nginx again; **the VIP does not move**',
        'restore': '`systemctl start nginx` if it is still down',
        # --no-block: the health script may start nginx while it is still stopping, and its start
        # job then cancels the stop job, which a blocking systemctl reports as a failure.
        'fault_command': ['systemctl', 'stop', '--no-block', 'nginx'],
        'restore_command': ['systemctl', 'start', 'nginx'],
        'fault_tasks': None,
        'restore_tasks': None,
    },
    {
        'name': 'nginx_broken',
        'description': 'writes an invalid directive to `failover_drill_nginx_broken_file` and stops nginx '
                       '(`systemctl stop --no-block nginx`), which then cannot start',
        'target': 'master',
        'vip_moves': True,
        'two_holders': False,
        'detection': False,
        'target_unreachable': False,
        'restarted_service': None,
        'budget': 'failing_check',
        'max_failed': None,
        'finding': 'after the nginx configuration of %s broke',
        'outcome': 'the health check\'s start of nginx fails, and with `keepalived_health_check_fail_fast` (the '
                   'default) that check gives the VIP up at once: the holder goes to FAULT (or, with '
                   '`keepalived_health_check_behaviour: restart_then_stop`, keepalived stops), VIP moves; without '
                   'it the check fails `fall` times, each after the start wait, before FAULT',
        'restore': 'removes the file, `systemctl start nginx` (and `systemctl start keepalived` when the health script '
                   'stopped it); the master takes the VIP back',
        'fault_command': None,
        'restore_command': None,
        'fault_tasks': 'fault_nginx_broken.yml',
        'restore_tasks': 'restore_nginx_broken.yml',
    },
    {
        'name': 'switchover',
        'description': 'a planned switchover: a 1 in the holder\'s maintenance file for the instance '
                       '(`failover_drill_maintenance_dir`), as `playbooks/switchover.yml` writes it',
        'target': 'master',
        'vip_moves': True,
        'two_holders': False,
        'detection': False,
        'target_unreachable': False,
        'restarted_service': None,
        'budget': 'planned',
        'max_failed': 0,
        'finding': 'after %s went into maintenance',
        'outcome': 'the holder\'s priority falls to 1 and the peer takes the VIP as a preempting backup does; the '
                   'holder answers until then: **no failed request** and no gap over 0.1 s',
        'restore': 'a 0 in the file (as `playbooks/switchback.yml` writes it); the master takes the VIP back',
        'fault_command': None,
        'restore_command': None,
        'fault_tasks': 'fault_switchover.yml',
        'restore_tasks': 'restore_switchover.yml',
    },
    {
        'name': 'partition',
        'description': 'cuts VRRP, and only VRRP, between the holder and the other balancers: an nftables table '
                       '(`inet ha_lb_drill`) on the holder drops IP protocol 112 in and out (needs `nft`, the '
                       '`nftables` package); SSH and client traffic go on',
        'target': 'master',
        'vip_moves': True,
        'two_holders': True,
        'detection': True,
        'target_unreachable': False,
        'restarted_service': None,
        'budget': 'master_down',
        'max_failed': None,
        'finding': 'after VRRP between %s and its peers was cut (split brain)',
        'outcome': 'the standby hears no advert and becomes MASTER after the master-down interval, the holder stays '
                   'MASTER: **two holders and two MASTERs**, which the cluster check names; detected within the '
                   'master-down interval',
        'restore': '`nft delete table inet ha_lb_drill`; the standby hears the holder again and goes back to BACKUP: '
                   'one holder',
        'fault_command': ['sh', '-c', 'command -v nft >/dev/null || { echo "the partition fault needs nft on the '
                          'balancers: install the nftables package (or set keepalived_firewall_enabled)" >&2; '
                          'exit 1; }; nft "add table inet ha_lb_drill; '
                          'add chain inet ha_lb_drill input { type filter hook input priority -20; }; '
                          'add chain inet ha_lb_drill output { type filter hook output priority -20; }; '
                          'add rule inet ha_lb_drill input meta l4proto 112 drop; '
                          'add rule inet ha_lb_drill output meta l4proto 112 drop"'],
        'restore_command': ['nft', 'delete', 'table', 'inet', 'ha_lb_drill'],
        'fault_tasks': None,
        'restore_tasks': None,
    },
    {
        'name': 'backend_down',
        'description': '`systemctl stop nginx` on a backend (`failover_drill_backend`, default the first of `web`)',
        'target': 'backend',
        'vip_moves': False,
        'two_holders': False,
        'detection': False,
        'target_unreachable': False,
        'restarted_service': None,
        'budget': 'none',
        'max_failed': 0,
        'finding': 'while a backend was down (%s held the VIP)',
        'outcome': 'no VIP move and **no failed request** (nginx retries the other backend)',
        'restore': '`systemctl start nginx` on the backend',
        'fault_command': ['systemctl', 'stop', 'nginx'],
        'restore_command': ['systemctl', 'start', 'nginx'],
        'fault_tasks': None,
        'restore_tasks': None,
    },
)


class UnknownFault(ValueError):
    """A fault kind that is not in the table."""


def fault_names():
    """Every kind's name, in table order."""
    return tuple(entry['name'] for entry in FAULTS)


def fault_entry(name):
    """A copy of the entry of kind ``name``; UnknownFault when there is none."""
    for entry in FAULTS:
        if entry['name'] == name:
            return dict(entry)
    raise UnknownFault('unknown fault %r, expected one of %s' % (name, ', '.join(fault_names())))


def fault_entries():
    """A copy of every entry, in table order."""
    return [dict(entry) for entry in FAULTS]
