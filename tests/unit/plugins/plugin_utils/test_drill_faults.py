# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fault table: complete entries, consistent with the budget formulas and the role's task files."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_analysis import (
    BUDGET_FORMULAS,
    FAULT_KINDS,
    compute_budget,
)
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_faults import (
    FAULTS,
    FIELDS,
    TARGETS,
    UnknownFault,
    fault_entries,
    fault_entry,
    fault_names,
)

TASKS = pathlib.Path(__file__).resolve().parents[4] / 'roles' / 'failover_drill' / 'tasks'


def test_kinds_in_table_order():
    assert fault_names() == ('stop', 'crash', 'link_down', 'nginx_stop', 'nginx_broken', 'switchover', 'partition',
                             'backend_down')
    assert FAULT_KINDS == fault_names()
    assert len(set(fault_names())) == len(FAULTS)


@pytest.mark.parametrize('entry', FAULTS, ids=[e['name'] for e in FAULTS])
def test_every_entry_is_complete(entry):
    assert tuple(entry) == FIELDS
    assert entry['target'] in TARGETS
    assert entry['budget'] in BUDGET_FORMULAS
    for flag in ('vip_moves', 'two_holders', 'detection', 'target_unreachable'):
        assert isinstance(entry[flag], bool), flag
    assert entry['max_failed'] is None or (isinstance(entry['max_failed'], int) and entry['max_failed'] >= 0)
    assert entry['restarted_service'] is None or entry['restarted_service'].isidentifier()
    assert entry['finding'].count('%s') == 1
    for text in ('description', 'outcome', 'restore'):
        assert entry[text] and '\n' not in entry[text] and '|' not in entry[text], text


@pytest.mark.parametrize('entry', FAULTS, ids=[e['name'] for e in FAULTS])
def test_every_entry_has_a_command_or_its_task_file(entry):
    for step in ('fault', 'restore'):
        command, tasks = entry[step + '_command'], entry[step + '_tasks']
        assert (command is None) != (tasks is None), step
        if tasks is None:
            assert isinstance(command, list) and command and all(isinstance(w, str) and w for w in command)
        else:
            assert tasks == '%s_%s.yml' % (step, entry['name'])
            assert (TASKS / tasks).is_file()


def test_every_task_file_of_a_kind_is_in_the_table():
    hooks = sorted(p.name for p in TASKS.glob('fault_*.yml')) + sorted(p.name for p in TASKS.glob('restore_*.yml'))
    assert hooks == (sorted(e['fault_tasks'] for e in FAULTS if e['fault_tasks'])
                     + sorted(e['restore_tasks'] for e in FAULTS if e['restore_tasks']))


@pytest.mark.parametrize('name', fault_names())
def test_the_budget_follows_the_entry(name):
    entry = fault_entry(name)
    budget = compute_budget(name)
    assert budget['vip_moves'] is entry['vip_moves']
    assert budget['two_holders'] is entry['two_holders']
    assert budget['max_failed'] == entry['max_failed']


def test_what_each_kind_means():
    moving = [e['name'] for e in FAULTS if e['vip_moves']]
    assert moving == ['stop', 'crash', 'link_down', 'nginx_broken', 'switchover', 'partition']
    assert [e['name'] for e in FAULTS if e['two_holders']] == ['crash', 'partition']
    assert [e['name'] for e in FAULTS if e['detection']] == ['partition']
    assert [e['name'] for e in FAULTS if e['target_unreachable']] == ['link_down']
    assert [(e['name'], e['restarted_service']) for e in FAULTS if e['restarted_service']] == [('nginx_stop', 'nginx')]
    assert [e['name'] for e in FAULTS if e['target'] == 'backend'] == ['backend_down']
    assert {e['name']: e['budget'] for e in FAULTS} == {
        'stop': 'skew', 'crash': 'master_down', 'link_down': 'master_down', 'nginx_stop': 'detection',
        'nginx_broken': 'failing_check', 'switchover': 'planned', 'partition': 'master_down', 'backend_down': 'none'}
    limits = {e['name']: e['max_failed'] for e in FAULTS if e['max_failed'] is not None}
    assert limits == {'switchover': 0, 'backend_down': 0}


def test_a_planned_switchover_has_a_fixed_budget_without_margin():
    budget = compute_budget('switchover', margin=0.25)
    assert budget['max_downtime'] == 0.1 and budget['max_failed'] == 0 and budget['vip_moves'] is True


def test_a_partition_must_reach_the_standby_within_the_master_down_interval():
    from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_analysis import evaluate
    budget = compute_budget('partition', advert_int=1.0, backup_priority=50, margin=0.25)
    analysis = {'failover': {'recovered': True, 'downtime': 0.02, 'failed': 0}, 'vip_moved_after': 3.6}
    checks = {c['name']: c for c in evaluate(analysis, budget)}
    assert checks['detection']['ok'] and checks['detection']['limit'] == budget['max_downtime']
    late = evaluate(dict(analysis, vip_moved_after=4.2), budget)
    assert [c['message'] for c in late if not c['ok']] == [
        'the standby held the VIP 4.200 s after the fault, budget 4.055 s (master-down 3*1 + skew 0.805 = 3.805 s + '
        'margin 0.25 s)']
    assert not [c for c in evaluate(analysis, compute_budget('crash')) if c['name'] == 'detection']


def test_entries_are_copies():
    entry = fault_entry('stop')
    entry['vip_moves'] = False
    fault_entries()[0]['name'] = 'changed'
    assert fault_entry('stop')['vip_moves'] is True and FAULTS[0]['name'] == 'stop'
    assert [e['name'] for e in fault_entries()] == list(fault_names())


def test_unknown_kind():
    with pytest.raises(UnknownFault, match="unknown fault 'meteor', expected one of stop, crash"):
        fault_entry('meteor')
