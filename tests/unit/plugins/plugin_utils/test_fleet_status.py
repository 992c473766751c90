# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet status's rows (plugins/plugin_utils/fleet_status.py)."""

from __future__ import annotations

import json

from tls_fixtures import NOW, Pki, cert_pem

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.fleet_status import (
    drill_summaries, drill_summary, fleet_status, line, markdown,
)

PAIRS = {'pair_01': {'members': ['lb-01a', 'lb-01b']}, 'pair_02': {'members': ['lb-02a', 'lb-02b']}}


def balancer(number, held, state, nginx='n1', keepalived='k1', certificates=()):
    return {'keepalived_running': state != 'STOP',
            'vips': [{'vip': '10.0.%d.100/24' % number, 'address': '10.0.%d.100' % number, 'instance': 'VI_%02d' % number,
                      'held': held, 'vrrp_state': state}],
            'configs': [{'path': '/etc/nginx/nginx.conf', 'sha256': nginx},
                        {'path': '/etc/keepalived/keepalived.conf', 'sha256': keepalived}],
            'certificates': [{'path': '/etc/nginx/tls/web.crt', 'pem': pem} for pem in certificates]}


def healthy():
    return {'lb-01a': balancer(1, True, 'MASTER'), 'lb-01b': balancer(1, False, 'BACKUP'),
            'lb-02a': balancer(2, False, 'BACKUP'), 'lb-02b': balancer(2, True, 'MASTER')}


def status(balancers, drills=(), pairs=None):
    return fleet_status({'pairs': pairs or PAIRS, 'balancers': balancers, 'drills': list(drills), 'now': NOW})


def rows(result):
    return {row['pair']: row for row in result['pairs']}


def test_a_healthy_fleet_has_one_line_per_pair_and_no_problem():
    result = status(healthy())
    assert result['problems'] == 0 and [r['pair'] for r in result['pairs']] == ['pair_01', 'pair_02']
    row = rows(result)['pair_02']
    assert row['vips'] == [{'vip': '10.0.2.100', 'instance': 'VI_02', 'holders': ['lb-02b'],
                            'states': {'lb-02a': 'BACKUP', 'lb-02b': 'MASTER'}}]
    assert line(row).startswith('pair_02: OK; 10.0.2.100 on lb-02b (lb-02a BACKUP, lb-02b MASTER); drift none')


def test_two_holders_no_holder_and_two_masters_are_problems():
    balancers = healthy()
    balancers['lb-01b'] = balancer(1, True, 'MASTER')
    balancers['lb-02b'] = balancer(2, False, 'BACKUP')
    found = rows(status(balancers))
    assert found['pair_01']['problems'] == ['10.0.1.100 is held by lb-01a, lb-01b', 'VI_01: keepalived is MASTER on lb-01a, lb-01b']
    assert found['pair_02']['problems'] == ['10.0.2.100 is held by no balancer']


def test_digests_that_differ_within_a_pair_are_drift():
    balancers = healthy()
    balancers['lb-02b'] = balancer(2, True, 'MASTER', keepalived='k2')
    row = rows(status(balancers))['pair_02']
    assert row['drift'] == ['/etc/keepalived/keepalived.conf'] and not row['ok']
    assert '/etc/keepalived/keepalived.conf differs between lb-02a, lb-02b' in row['problems']


def test_an_unreachable_balancer_and_one_outside_the_run_are_named():
    balancers = healthy()
    balancers['lb-01b'] = {'unreachable': True, 'msg': 'Failed to connect to the host via ssh'}
    del balancers['lb-02a']
    found = rows(status(balancers))
    assert found['pair_01']['problems'] == ['lb-01b did not answer: Failed to connect to the host via ssh']
    assert found['pair_02']['problems'] == ['lb-02a was not asked (not in this run)']


def test_keepalived_stopped_is_a_problem():
    balancers = healthy()
    balancers['lb-01b'] = balancer(1, False, 'STOP')
    assert 'keepalived does not run on lb-01b' in rows(status(balancers))['pair_01']['problems']


def test_the_certificate_that_ends_first_and_its_warning():
    soon, later = Pki(days=(-1, 10)), Pki(days=(-1, 90))
    balancers = healthy()
    balancers['lb-01a'] = balancer(1, True, 'MASTER', certificates=[cert_pem(later.server)])
    balancers['lb-01b'] = balancer(1, False, 'BACKUP', certificates=[cert_pem(soon.server) + cert_pem(soon.intermediate)])
    row = rows(status(balancers))['pair_01']
    assert row['first_certificate']['host'] == 'lb-01b' and row['first_certificate']['days_left'] == 10.0
    assert row['problems'] == ['the certificate /etc/nginx/tls/web.crt ends in 10.0 days']
    expired = healthy()
    expired['lb-02a'] = balancer(2, False, 'BACKUP', certificates=[cert_pem(Pki(days=(-10, -1)).server), None])
    assert rows(status(expired))['pair_02']['problems'] == [
        'the certificate /etc/nginx/tls/web.crt on lb-02a is expired',
        'the certificate /etc/nginx/tls/web.crt on lb-02a is unreadable']


def report(master, standby, passed, runs=1, vip='10.0.1.100/24'):
    return {'drills': [{'meta': {'master': master, 'standby': standby, 'target': master, 'vip': vip}}],
            'summary': [{'fault': 'stop', 'runs': runs, 'passed': passed, 'median_downtime': 0.03}]}


def test_the_newest_drill_of_each_pair(tmp_path):
    for stamp, data in (('20261201T100000Z', report('lb-01a', 'lb-01b', 1)),
                        ('20261202T100000Z', report('lb-01a', 'lb-01b', 0, vip='10.0.1.100')),
                        ('20261203T100000Z', report('lb-09a', 'lb-09b', 1, vip='10.0.9.100/24'))):
        (tmp_path / ('drill-%s.json' % stamp)).write_text(json.dumps(data))
    (tmp_path / 'drill-20261204T100000Z-1.json').write_text('{"one run": "not a whole drill"}')
    (tmp_path / 'drill-20261205T100000Z.json').write_text('{not json')
    drills = drill_summaries(str(tmp_path))
    assert [d['file'] for d in drills] == ['drill-20261203T100000Z.json', 'drill-20261202T100000Z.json',
                                           'drill-20261201T100000Z.json']
    found = rows(status(healthy(), drills))
    assert found['pair_01']['last_drill']['file'] == 'drill-20261202T100000Z.json'
    assert found['pair_01']['problems'] == ['the last drill (drill-20261202T100000Z.json) did not pass']
    assert found['pair_02']['last_drill'] is None and found['pair_02']['ok']
    assert drill_summaries(str(tmp_path / 'missing')) == []


def test_a_drill_summary_in_a_few_fields():
    summary = drill_summary(report('lb-1', 'lb-2', 3, runs=3), '/x/drill-20261206T010203Z.json')
    assert summary == {'file': 'drill-20261206T010203Z.json', 'time': '2026-12-06T01:02:03+00:00',
                       'balancers': ['lb-1', 'lb-2'], 'vips': ['10.0.1.100'], 'passed': True,
                       'faults': [{'fault': 'stop', 'runs': 3, 'passed': 3, 'median_downtime': 0.03}]}


def test_markdown_has_a_row_per_pair_and_the_problems():
    balancers = healthy()
    balancers['lb-02b'] = balancer(2, True, 'MASTER', nginx='n2')
    text = markdown(status(balancers))
    assert '| pair_01 | OK | 10.0.1.100: lb-01a (lb-01a MASTER, lb-01b BACKUP) | none | - | - |' in text
    assert '| pair_02 | **ATTENTION** |' in text
    assert text.endswith('- pair_02: /etc/nginx/nginx.conf differs between lb-02a, lb-02b\n')
