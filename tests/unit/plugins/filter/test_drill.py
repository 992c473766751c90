# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.drill import FilterModule


def probe_text(outage=(2.0, 2.8)):
    lines = [{'type': 'start', 'mono': 50.0, 'wall': 7000.0, 'url': 'http://198.51.100.140/',
              'interval_ms': 20, 'timeout_ms': 200}]
    for n in range(300):
        t = n * 0.02
        ok = not outage[0] <= t < outage[1]
        lines.append({'type': 'sample', 'seq': n, 't': 50.0 + t, 'dur': 0.001, 'ok': ok,
                      'status': 200 if ok else None, 'backend': 'web-%d' % (n % 2 + 1) if ok else None,
                      'error': None if ok else 'refused'})
    lines.append({'type': 'end', 'mono': 56.0, 'wall': 7006.0, 'reason': 'stop_file'})
    return '\n'.join(json.dumps(line) for line in lines)


FILTERS = FilterModule().filters()


def test_filters_registered():
    assert sorted(FILTERS) == [
        'drill_brief', 'drill_json', 'drill_markdown', 'drill_report', 'drill_summary', 'drill_timeline_svg']


def test_report_through_filters():
    events = {'fault': {'wall': 7001.9}, 'vip_moved': {'mono': 52.81}, 'restore': {'mono': 54.0}}
    report = FILTERS['drill_report'](probe_text(), 'stop', events,
                                     config={'advert_int': 1, 'backup_priority': 50, 'margin': 0.25},
                                     observations={'vip_moved': True})
    assert report['passed'] is True
    assert report['analysis']['failover']['failed'] == 40
    assert report['analysis']['failover']['downtime'] == pytest.approx(0.82, abs=1e-6)
    assert report['analysis']['vip_moved_after'] == pytest.approx(0.91, abs=1e-6)
    assert FILTERS['drill_summary']([report])[0]['runs'] == 1
    assert '| stop | 1 | 1 |' in FILTERS['drill_markdown']([report])
    assert json.loads(FILTERS['drill_json']([report]))['drills'][0]['fault'] == 'stop'


@pytest.mark.parametrize('args, kwargs, message', [
    (('stop', {'fault': {'mono': 52.0}}), {'config': {'advert': 1}}, 'unknown config keys advert'),
    (('meteor', {'fault': {'mono': 52.0}}), {}, 'unknown fault'),
    (('stop', {'restore': {'mono': 52.0}}), {}, 'must include the fault'),
])
def test_errors_are_filter_errors(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS['drill_report'](probe_text(), *args, **kwargs)


def test_input_must_be_text():
    with pytest.raises(AnsibleFilterError, match='probe output text'):
        FILTERS['drill_report']([{'type': 'start'}], 'stop', {'fault': {'mono': 1}})


def test_brief_through_filters():
    events = {'fault': {'wall': 7001.9}, 'vip_moved': {'mono': 52.81}, 'restore': {'mono': 54.0}}
    report = FILTERS['drill_report'](probe_text(), 'stop', events, config={'margin': 0.25},
                                     observations={'vip_moved': True})
    small = FILTERS['drill_brief'](report, '2', timeline='drill-2.svg')
    assert small['number'] == 2 and small['markdown'].startswith('## 2. stop: PASS')
    assert FILTERS['drill_summary']([small]) == FILTERS['drill_summary']([report])
    assert '](drill-2.svg)' in FILTERS['drill_markdown']([small])
    with pytest.raises(AnsibleFilterError, match='drill report'):
        FILTERS['drill_brief']({'fault': 'stop'}, 1)


@pytest.mark.parametrize('key, value, expected, downtime', [
    ('check_stops_keepalived', True, True, 1 + 1 + 2), ('check_stops_keepalived', 'True', True, 1 + 1 + 2),
    ('check_stops_keepalived', 'false', False, 1 * 2 + 2 * 2), ('check_stops_keepalived', False, False, 1 * 2 + 2 * 2),
    # A start that fails gives up the VIP at once: no start wait, no fall.
    ('check_fails_fast', 'True', True, 1 + 1), ('check_fails_fast', False, False, 1 * 2 + 2 * 2),
])
def test_health_script_behaviour_in_the_budget(key, value, expected, downtime):
    events = {'fault': {'mono': 52.0}, 'restore': {'mono': 54.0}}
    config = {'check_interval': 1, 'check_fall': 2, 'check_start_wait': 2, 'nginx_restart_time': 1, 'margin': 0.25,
              key: value}
    report = FILTERS['drill_report'](probe_text(), 'nginx_broken', events, config=config)
    assert report['budget']['inputs'][key] is expected
    assert report['budget']['max_downtime'] == pytest.approx(downtime + 0.8047 + 0.25, abs=1e-4)
