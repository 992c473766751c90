# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""failover_drill's public interface, and the wiring that runs it."""

from __future__ import annotations

import pathlib
import re

import yaml

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_analysis import FAULT_KINDS
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_faults import fault_entries

REPO = pathlib.Path(__file__).resolve().parents[4]
ROLE = REPO / 'roles' / 'failover_drill'


def _load(path):
    return yaml.safe_load(path.read_text())


def test_defaults_and_argument_specs_agree_key_for_key():
    defaults = _load(ROLE / 'defaults' / 'main.yml')
    options = _load(ROLE / 'meta' / 'argument_specs.yml')['argument_specs']['main']['options']
    assert sorted(defaults) == sorted(options)
    for name, option in options.items():
        assert option['default'] == defaults[name], name
        assert option.get('type') and option.get('description'), name
        assert name.startswith('failover_drill_'), name


def test_internal_variables_are_prefixed():
    assert all(name.startswith('__failover_drill_') for name in _load(ROLE / 'vars' / 'main.yml'))


def test_every_fault_kind_has_an_injection_and_a_restore():
    # A command from the table, or a task file of the role when one command cannot do it; never both.
    for entry in fault_entries():
        for step in ('fault', 'restore'):
            command, tasks = entry[step + '_command'], entry[step + '_tasks']
            assert (command is None) != (tasks is None), (entry['name'], step)
            if tasks is not None:
                assert (ROLE / 'tasks' / tasks).is_file(), entry['name']
            else:
                assert command and all(isinstance(word, str) and word for word in command), entry['name']


def test_the_role_takes_its_fault_kinds_from_the_table():
    variables = _load(ROLE / 'vars' / 'main.yml')
    assert 'ha_lb.keepalived_nginx.drill_faults' in variables['__failover_drill_fault_table']
    assert 'ha_lb.keepalived_nginx.drill_faults' in variables['__failover_drill_kind']
    drill = (ROLE / 'tasks' / 'drill.yml').read_text()
    restore = (ROLE / 'tasks' / 'restore.yml').read_text()
    assert 'include_tasks: "{{ __failover_drill_kind.fault_tasks or \'timed.yml\' }}"' in drill
    assert '__failover_drill_timed_argv: "{{ __failover_drill_kind.fault_command }}"' in drill
    assert 'include_tasks: "{{ __failover_drill_kind.restore_tasks or \'timed.yml\' }}"' in restore
    assert '__failover_drill_timed_argv: "{{ __failover_drill_kind.restore_command }}"' in restore


def test_no_fault_kind_is_named_outside_its_task_files():
    # Only fault_<kind>.yml and restore_<kind>.yml know a kind by name; the rest reads its table entry.
    hooks = {name for entry in fault_entries() for name in (entry['fault_tasks'], entry['restore_tasks']) if name}
    # A kind as a word of its own, or quoted or in a YAML list ('stop' is also an ordinary word).
    distinct = '|'.join(re.escape(kind) for kind in FAULT_KINDS if kind != 'stop')
    every = '|'.join(re.escape(kind) for kind in FAULT_KINDS)
    named = re.compile(r"\b(%s)\b|['\"\[ ](%s)['\",\]]" % (distinct, every))
    files = [p for p in sorted((ROLE / 'tasks').glob('*.yml')) if p.name not in hooks] + [ROLE / 'vars' / 'main.yml']
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not named.search(line), '%s:%d names a fault kind: %s' % (path.name, number, line.strip())


def test_probe_defaults_match_the_drill_targets():
    defaults = _load(ROLE / 'defaults' / 'main.yml')
    assert defaults['failover_drill_probe_interval_ms'] == 20
    assert defaults['failover_drill_probe_timeout_ms'] == 200
    assert defaults['failover_drill_faults'] == ['stop']


def _merged(base, over):
    """A scenario's molecule.yml over the shared .config/molecule/config.yml, as molecule merges them."""
    result = dict(base)
    for key, value in over.items():
        result[key] = _merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) \
            else value
    return result


def _scenario(name):
    return _merged(_load(REPO / '.config' / 'molecule' / 'config.yml'), _load(REPO / 'molecule' / name / 'molecule.yml'))


def _side_effect_imports(name):
    molecule = _scenario(name)
    sequence = molecule['scenario']['test_sequence']
    assert sequence.index('side_effect') == sequence.index('verify') + 1
    assert sequence.index('idempotence') == sequence.index('converge') + 1
    plays = _load(REPO / 'molecule' / name / molecule['provisioner']['playbooks']['side_effect'])
    return [(play['ansible.builtin.import_playbook'], play.get('vars', {})) for play in plays]


def test_debian13_scenario_runs_the_drills_on_debian_13_guests():
    assert _scenario('debian13')['provisioner']['env']['HA_LB_LAB_RELEASE'] == 'trixie'
    assert 'HA_LB_LAB_RELEASE' not in _scenario('default')['provisioner']['env']
    drill = '../../playbooks/failover_drill.yml'
    one = {'failover_drill_failback_max_failed': 1}
    assert _side_effect_imports('debian13') == [
        (drill, dict(one, failover_drill_faults=['stop', 'link_down', 'nginx_stop'])),
        (drill, dict(one, failover_drill_faults=['crash', 'nginx_broken', 'backend_down'])),
        (drill, dict(one, failover_drill_faults=['switchover'])),
        (drill, dict(one, failover_drill_faults=['stop'], failover_drill_service='www',
                     failover_drill_ca_file='/var/lib/ha-lb-lab/tls/ca.crt')),
        ('../../playbooks/site.yml', {'keepalived_health_check_interval': 0.5}),
        (drill, dict(one, failover_drill_faults=['nginx_stop', 'nginx_broken'], keepalived_health_check_interval=0.5)),
        ('../../playbooks/site.yml', {}),
    ]
    unplanned = {kind for kind in FAULT_KINDS if kind not in ('switchover', 'partition')}
    assert unplanned == {'stop', 'link_down', 'nginx_stop', 'crash', 'nginx_broken', 'backend_down'}


def test_molecule_runs_every_fault_kind_after_verify():
    imports = _side_effect_imports('default')
    drill, site = '../../playbooks/failover_drill.yml', '../../playbooks/site.yml'
    # Every kind with the inventory's health behaviour, then deployed and drilled with restart_then_stop
    # (keepalived stops itself), then the inventory's deployment again; then over HTTPS and through the
    # TCP service (over HTTPS the failback may reset the one TLS connection in flight at the move).
    # Every drill allows the one request in flight when the VIP moves back (docs/drill-runbook.md).
    stop = {'keepalived_health_check_behaviour': 'restart_then_stop'}
    one = {'failover_drill_failback_max_failed': 1}
    # The planned switchover on its own, three runs judged on the median (docs/switchover.md).
    # The partition needs nft on the balancers: molecule/default/tests/test_partition.py installs it and runs it.
    unplanned = [kind for kind in FAULT_KINDS if kind not in ('switchover', 'partition')]
    assert imports == [
        (drill, dict(one, failover_drill_faults=unplanned)),
        (drill, dict(one, failover_drill_faults=['switchover'], failover_drill_runs=3, failover_drill_verdict='median')),
        (site, stop),
        (drill, dict(stop, failover_drill_faults=unplanned, **one)),
        (site, {}),
        (drill, dict(one, failover_drill_faults=['stop', 'link_down', 'nginx_stop'], failover_drill_service='www',
                     failover_drill_ca_file='/var/lib/ha-lb-lab/tls/ca.crt')),
        (drill, dict(one, failover_drill_faults=['stop'], failover_drill_service='tcp')),
    ]


def test_root_entry_point_imports_the_playbook():
    plays = _load(REPO / 'failover-drill.yml')
    assert [play['ansible.builtin.import_playbook'] for play in plays] == ['playbooks/failover_drill.yml']
