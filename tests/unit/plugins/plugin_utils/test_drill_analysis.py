# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_analysis import (
    DrillError,
    analyze,
    brief,
    build_report,
    compute_budget,
    event_time,
    evaluate,
    is_brief,
    parse_probe_output,
    render_json,
    render_markdown,
    render_section,
    skew_time,
    summarize,
    window_stats,
)

START_MONO = 1000.0
START_WALL = 1764100000.0


def simulate(duration, outages=(), interval=0.02, timeout=0.2, rtt=0.002, backends=('web-1', 'web-2')):
    """Probe output as vip_probe.py writes it, for a client whose requests fail inside ``outages``.

    outages: (begin, end) offsets from the probe start; a failing request takes the full timeout,
    and the probe then skips to the next free slot on its grid, as the real probe does.
    """
    lines = [json.dumps({'type': 'start', 'mono': START_MONO, 'wall': START_WALL, 'url': 'http://198.51.100.140/',
                         'interval_ms': interval * 1000, 'timeout_ms': timeout * 1000})]
    slot, seq = 0, 0
    while slot * interval < duration:
        offset = slot * interval
        down = any(b <= offset < e for b, e in outages)
        dur = timeout if down else rtt
        sample = {'type': 'sample', 'seq': seq, 't': START_MONO + offset, 'dur': dur, 'late': 0.0001,
                  'ok': not down, 'status': None if down else 200,
                  'backend': None if down else backends[seq % len(backends)],
                  'error': 'timeout' if down else None}
        next_slot = max(slot + 1, int(round((offset + dur) / interval, 9)) + 1) if down else slot + 1
        if next_slot - slot - 1:
            sample['missed'] = next_slot - slot - 1
        lines.append(json.dumps(sample))
        slot, seq = next_slot, seq + 1
    lines.append(json.dumps({'type': 'end', 'mono': START_MONO + duration, 'wall': START_WALL + duration,
                             'reason': 'stop_file'}))
    return '\n'.join(lines) + '\n'


def ev(offset):
    """An event at ``offset`` seconds after the probe start, with both clocks."""
    return {'mono': START_MONO + offset, 'wall': START_WALL + offset}


class TestBudget:
    def test_skew_time_matches_lab(self):
        assert skew_time(50, 1.0) == pytest.approx(0.8047, abs=1e-4)
        assert skew_time(100, 2.0) == pytest.approx(1.21875)

    def test_stop(self):
        b = compute_budget('stop', advert_int=1, backup_priority=50, margin=0.25)
        assert b['max_downtime'] == pytest.approx(0.8047 + 0.25, abs=1e-4)
        assert b['vip_moves'] is True and b['two_holders'] is False
        assert b['max_failed'] is None
        assert b['formula'].startswith('skew (256-50)/256*1 = 0.805 s')

    @pytest.mark.parametrize('fault', ['crash', 'link_down'])
    def test_hard_failure(self, fault):
        b = compute_budget(fault, advert_int=1, backup_priority=50, margin=0.2)
        assert b['master_down_interval'] == pytest.approx(3.8047, abs=1e-4)
        assert b['max_downtime'] == pytest.approx(4.0047, abs=1e-4)
        assert b['two_holders'] is (fault == 'crash')

    def test_nginx_faults(self):
        stop = compute_budget('nginx_stop', check_interval=1, check_fall=1, nginx_restart_time=0.3, margin=0.2)
        assert stop['max_downtime'] == pytest.approx(1.5)
        assert stop['vip_moves'] is False
        # Two failing checks, each waiting start_wait for nginx, then a graceful hand-over.
        broken = compute_budget('nginx_broken', check_interval=2, check_fall=2, check_start_wait=0.5,
                                backup_priority=50, margin=0)
        assert broken['max_downtime'] == pytest.approx(2 * 2 + 2 * 0.5 + 0.8047, abs=1e-4)
        assert broken['formula'].startswith('health check 2*2 + start wait 2*0.5 + skew 0.805')
        assert broken['vip_moves'] is True

    def test_nginx_broken_when_the_health_script_stops_keepalived(self):
        # restart_then_stop: the first failing check (interval, the failed start, its start wait) stops
        # keepalived, which hands the VIP over gracefully; fall does not count.
        broken = compute_budget('nginx_broken', check_interval=1, check_fall=3, nginx_restart_time=1,
                                check_start_wait=2, check_stops_keepalived=True, backup_priority=50, margin=0.25)
        assert broken['max_downtime'] == pytest.approx(1 + 1 + 2 + 0.8047 + 0.25, abs=1e-4)
        assert 'keepalived stops itself' in broken['formula']
        assert broken['inputs']['check_stops_keepalived'] is True
        assert broken['vip_moves'] is True and broken['two_holders'] is False
        # Only nginx_broken depends on it: the health script restarts a stopped nginx either way.
        stopped = compute_budget('nginx_stop', check_stops_keepalived=True)
        assert stopped['max_downtime'] == compute_budget('nginx_stop')['max_downtime']

    @pytest.mark.parametrize('stops', [False, True])
    def test_nginx_broken_when_a_start_that_fails_gives_up_the_vip_at_once(self, stops):
        # Fail fast: the first check that finds nginx down tries one start; it fails, and the VIP is given up
        # at that check (FAULT through the tracked file, or keepalived stops): no start wait, no fall.
        broken = compute_budget('nginx_broken', check_interval=1, check_fall=3, nginx_restart_time=1,
                                check_start_wait=2, check_stops_keepalived=stops, check_fails_fast=True,
                                backup_priority=50, margin=0.25)
        assert broken['max_downtime'] == pytest.approx(1 + 1 + 0.8047 + 0.25, abs=1e-4)
        assert broken['formula'].startswith('one health check 1 + the start that fails 1, then the VIP is given up '
                                            'at once (%s)' % ('keepalived stops itself' if stops else 'FAULT'))
        assert broken['inputs']['check_fails_fast'] is True
        # The other kinds do not depend on it.
        for kind in ('stop', 'nginx_stop', 'link_down'):
            assert compute_budget(kind, check_fails_fast=True)['max_downtime'] == compute_budget(kind)['max_downtime']

    def test_backend_down_allows_no_failure(self):
        b = compute_budget('backend_down', margin=0.1)
        assert b['max_failed'] == 0
        assert b['max_downtime'] == pytest.approx(0.1)

    @pytest.mark.parametrize('kwargs, message', [
        ({'fault': 'meteor'}, 'unknown fault'),
        ({'fault': 'stop', 'backup_priority': 255}, 'backup_priority must be 1-254'),
        ({'fault': 'stop', 'advert_int': 0}, 'advert_int'),
        ({'fault': 'stop', 'margin': -1}, 'margin'),
        ({'fault': 'nginx_broken', 'check_start_wait': -1}, 'start wait'),
    ])
    def test_invalid(self, kwargs, message):
        with pytest.raises(DrillError, match=message):
            compute_budget(**kwargs)


class TestProbeOutput:
    def test_parse(self):
        probe = parse_probe_output(simulate(1.0))
        assert probe['start']['mono'] == START_MONO
        assert len(probe['samples']) == 50
        assert probe['end']['reason'] == 'stop_file'

    def test_truncated_output_has_no_end(self):
        text = '\n'.join(simulate(1.0).splitlines()[:-1])
        assert parse_probe_output(text)['end'] is None

    def test_errors(self):
        with pytest.raises(DrillError, match='no start record'):
            parse_probe_output('{"type": "sample", "t": 1, "ok": true}\n')
        with pytest.raises(DrillError, match='line 2 is not JSON'):
            parse_probe_output('{"type": "start", "mono": 1, "wall": 2}\n{oops\n')


class TestTimeline:
    START = {'mono': 1000.0, 'wall': 5000.0}

    def test_monotonic_preferred(self):
        assert event_time({'mono': 1003.5, 'wall': 9999.0}, self.START) == 1003.5

    def test_wall_mapped_through_probe_start(self):
        assert event_time({'mono': 7.0, 'wall': 5002.25}, self.START, clock='wall') == pytest.approx(1002.25)
        assert event_time({'wall': 5002.25}, self.START) == pytest.approx(1002.25)

    def test_no_timestamp(self):
        with pytest.raises(DrillError, match='no usable timestamp'):
            event_time({'name': 'fault'}, self.START)
        with pytest.raises(DrillError, match='clock must be'):
            event_time({'mono': 1}, self.START, clock='tai')


class TestAnalyze:
    def test_graceful_stop_outage(self):
        # Fault at 5 s; requests fail from 5.23 s to 6.035 s; restore at 10 s; failback clean.
        probe = parse_probe_output(simulate(15.0, outages=[(5.23, 6.035)]))
        events = [dict(ev(5.0), name='fault'), dict(ev(6.04), name='vip_moved'),
                  dict(ev(10.0), name='restore'), dict(ev(13.9), name='failback')]
        a = analyze(probe, events)
        f = a['failover']
        # Last success answered at 5.22+0.002. Failures start at 5.24, 5.46, 5.68 and 5.90, each
        # holding the probe for its 200 ms timeout; the next free slot, 6.12, succeeds.
        assert f['downtime'] == pytest.approx(6.122 - 5.222, abs=1e-6)
        assert f['failed'] == 4
        assert f['errors'] == {'timeout': 4}
        assert f['recovered'] is True
        assert f['gap_start'] == pytest.approx(0.222, abs=1e-6)
        assert f['first_failure'] == pytest.approx(0.24, abs=1e-6)
        assert a['vip_moved_after'] == pytest.approx(1.04)
        assert a['failback_after'] == pytest.approx(3.9)
        assert a['failback']['failed'] == 0
        assert a['failback']['downtime'] == pytest.approx(0.02, abs=1e-6)
        assert a['baseline']['failed'] == 0
        assert set(a['baseline']['backends']) == {'web-1', 'web-2'}
        assert list(a['events']) == ['fault', 'vip_moved', 'restore', 'failback']
        assert a['probe']['missed_slots'] == 4 * 10

    def test_events_as_mapping_and_wall_clock(self):
        probe = parse_probe_output(simulate(6.0, outages=[(2.0, 3.0)]))
        # Monotonic readings from a host with another kernel would be meaningless: use wall.
        events = {'fault': {'mono': 5.0, 'wall': START_WALL + 1.9}}
        a = analyze(probe, events, clock='wall')
        assert a['failover']['failed'] > 0
        with pytest.raises(DrillError, match='outside the probe run'):
            analyze(probe, events)

    def test_never_recovered(self):
        probe = parse_probe_output(simulate(4.0, outages=[(2.0, 99.0)]))
        a = analyze(probe, [dict(ev(1.9), name='fault')])
        assert a['failover']['recovered'] is False
        assert a['failover']['downtime'] == pytest.approx(4.0 - 1.982, abs=1e-6)
        assert a['failover']['gap_end'] is None

    def test_no_outage(self):
        probe = parse_probe_output(simulate(3.0))
        a = analyze(probe, [dict(ev(1.0), name='fault'), dict(ev(2.0), name='restore')])
        assert a['failover']['failed'] == 0
        assert a['failover']['downtime'] == pytest.approx(0.02, abs=1e-6)
        assert a['vip_moved_after'] is None and a['failback_after'] is None

    def test_failback_losses_counted_separately(self):
        probe = parse_probe_output(simulate(10.0, outages=[(2.0, 2.5), (7.0, 7.1)]))
        a = analyze(probe, [dict(ev(1.99), name='fault'), dict(ev(5.0), name='restore')])
        assert a['failover']['failed'] == 3
        assert a['failback']['failed'] == 1

    def test_inputs_checked(self):
        probe = parse_probe_output(simulate(2.0))
        with pytest.raises(DrillError, match='must include the fault'):
            analyze(probe, [dict(ev(1.0), name='restore')])
        with pytest.raises(DrillError, match='needs a name'):
            analyze(probe, [ev(1.0)])
        with pytest.raises(DrillError, match='no samples'):
            analyze({'start': {'mono': 0, 'wall': 0}, 'samples': [], 'end': None}, [dict(ev(1), name='fault')])
        with pytest.raises(DrillError, match='ended before the restore'):
            analyze(probe, [dict(ev(1.0), name='fault'), dict(ev(3.0), name='restore')])


def test_window_stats_gap_spanning_window_start():
    # Success at 0.0 and 1.0 only; a window opening at 0.5 still sees the 1 s gap.
    samples = [{'t': 0.0, 'dur': 0.0, 'ok': True}, {'t': 0.6, 'dur': 0.2, 'ok': False, 'error': 'refused'},
               {'t': 1.0, 'dur': 0.0, 'ok': True}]
    stats = window_stats(samples, 0.5, 2.0, 2.0)
    assert stats['downtime'] == 1.0
    assert stats['gap_start'] == -0.5
    assert stats['failed'] == 1 and stats['errors'] == {'refused': 1}


class TestVerdict:
    def report(self, fault, outages, observations, margin=0.25, **events):
        probe = parse_probe_output(simulate(15.0, outages=outages))
        evs = [dict(ev(5.0), name='fault')] + [dict(ev(v), name=k) for k, v in events.items()]
        budget = compute_budget(fault, advert_int=1, backup_priority=50, check_interval=1, check_fall=1,
                                nginx_restart_time=0.3, margin=margin)
        return build_report(fault, probe, evs, budget, observations=observations, meta={'run': 1})

    def test_stop_within_budget_passes(self):
        r = self.report('stop', [(5.23, 6.035)], {'vip_moved': True, 'two_holders': False,
                                                  'holders_after_restore': ['lb-1']}, restore=10.0, failback=13.9)
        assert r['passed'] is True, r['checks']
        assert [c['name'] for c in r['checks']] == ['recovered', 'downtime', 'vip_move', 'double_holder',
                                                    'restored', 'failback_losses']
        assert r['meta'] == {'run': 1}

    def test_stop_over_budget_fails(self):
        r = self.report('stop', [(5.23, 6.5)], {'vip_moved': True}, margin=0.05)
        assert r['passed'] is False
        assert r['failed_checks'] == ['downtime']
        check = [c for c in r['checks'] if c['name'] == 'downtime'][0]
        assert 'OVER budget 0.855 s' in check['message']

    def test_nginx_stop_must_not_move_vip(self):
        r = self.report('nginx_stop', [(5.1, 5.8)], {'vip_moved': True})
        assert r['failed_checks'] == ['vip_move']
        assert [c['message'] for c in r['checks'] if c['name'] == 'vip_move'] == [
            'the VIP moved, but it should have stayed']

    def test_crash_double_holder_is_expected_and_must_clear(self):
        ok = self.report('crash', [(5.0, 8.7)], {'vip_moved': True, 'two_holders': True,
                                                 'holders_after_restore': ['lb-1']}, restore=10.0)
        assert ok['passed'] is True, ok['checks']
        stuck = self.report('crash', [(5.0, 8.7)], {'vip_moved': True, 'two_holders': True,
                                                    'holders_after_restore': ['lb-1', 'lb-2']}, restore=10.0)
        assert stuck['failed_checks'] == ['restored']
        missed = self.report('crash', [(5.0, 8.7)], {'vip_moved': True, 'two_holders': False}, restore=10.0)
        assert missed['failed_checks'] == ['double_holder']

    def test_not_restored_fails_and_names_what(self):
        obs = {'vip_moved': True, 'holders_after_restore': ['lb-1'],
               'not_restored': ['keepalived on lb-2 is inactive (it was active before the drill)',
                                '198.51.100.141/24 is held by lb-1, expected its master lb-2']}
        r = self.report('stop', [(5.23, 6.035)], obs, restore=10.0)
        assert r['failed_checks'] == ['restored']
        check = [c for c in r['checks'] if c['name'] == 'restored'][0]
        assert check['message'].startswith('not restored: keepalived on lb-2 is inactive')
        assert '198.51.100.141/24 is held by lb-1, expected its master lb-2' in check['message']
        assert check['measured'] == ['lb-1']

    def test_nothing_left_to_restore_passes(self):
        r = self.report('stop', [(5.23, 6.035)], {'vip_moved': True, 'holders_after_restore': ['lb-1'],
                                                  'not_restored': []}, restore=10.0)
        assert r['passed'] is True, r['checks']
        without_holders = self.report('stop', [(5.23, 6.035)], {'vip_moved': True, 'not_restored': []},
                                      restore=10.0)
        assert [c['message'] for c in without_holders['checks'] if c['name'] == 'restored'] == [
            'every service and VIP is back as the drill found it']

    def test_backend_down_zero_failures(self):
        r = self.report('backend_down', [(6.0, 6.02)], {'vip_moved': False})
        assert 'failed_requests' in r['failed_checks']

    def test_failback_loss_fails(self):
        r = self.report('stop', [(5.23, 6.0), (12.0, 12.05)], {'vip_moved': True}, restore=10.0)
        assert r['failed_checks'] == ['failback_losses']

    def test_unrecovered_fails(self):
        r = self.report('link_down', [(5.1, 99)], {})
        assert set(r['failed_checks']) == {'recovered', 'downtime'}

    def test_evaluate_without_observations(self):
        probe = parse_probe_output(simulate(3.0))
        checks = evaluate(analyze(probe, [dict(ev(1.0), name='fault')]), compute_budget('stop'))
        assert [c['name'] for c in checks] == ['recovered', 'downtime']


class TestRendering:
    def reports(self):
        out = []
        for run, end in enumerate([6.03, 6.05, 6.01]):
            probe = parse_probe_output(simulate(12.0, outages=[(5.23, end)]))
            out.append(build_report('stop', probe, [dict(ev(5.0), name='fault'), dict(ev(end), name='vip_moved'),
                                                    dict(ev(9.0), name='restore')],
                                    compute_budget('stop'), observations={'vip_moved': True}, meta={'run': run}))
        probe = parse_probe_output(simulate(12.0))
        out.append(build_report('backend_down', probe, [dict(ev(5.0), name='fault')], compute_budget('backend_down'),
                                observations={'vip_moved': False}))
        return out

    def test_summary_medians(self):
        reports = self.reports()
        summary = summarize(reports)
        assert [row['fault'] for row in summary] == ['stop', 'backend_down']
        stop = summary[0]
        assert stop['runs'] == 3 and stop['passed'] == 3
        assert stop['median_downtime'] == reports[0]['analysis']['failover']['downtime']
        assert stop['median_vip_moved_after'] == pytest.approx(1.03)
        assert stop['median_failback_failed'] == 0
        assert summary[1]['median_vip_moved_after'] is None

    def test_markdown(self):
        text = render_markdown(self.reports(), title='Drill')
        assert text.startswith('# Drill\n')
        assert '| stop | 3 | 3 |' in text
        assert '## 4. backend_down: PASS' in text
        assert '| downtime | ok |' in text

    def test_json_round_trip(self):
        data = json.loads(render_json(self.reports()))
        assert len(data['drills']) == 4
        assert data['summary'][0]['fault'] == 'stop'

    def test_brief_keeps_the_figures_and_the_section_but_no_samples(self):
        report = self.reports()[0]
        small = brief(report, 7, timeline='drill-7.svg')
        assert is_brief(small) and not is_brief(report)
        assert small['number'] == 7 and small['fault'] == 'stop' and small['passed'] is True
        assert small['analysis']['failover']['downtime'] == report['analysis']['failover']['downtime']
        assert small['analysis']['failback'] == {'failed': report['analysis']['failback']['failed']}
        assert small['budget'] == {'max_downtime': report['budget']['max_downtime']}
        assert small['markdown'] == render_section(report, 7, 'drill-7.svg')
        assert small['markdown'].startswith('## 7. stop: PASS')
        assert '](drill-7.svg)' in small['markdown']
        assert 'timeline' not in small and 'samples' not in json.dumps(small)
        assert len(json.dumps(small)) < len(json.dumps(report)) / 10

    def test_markdown_from_briefs_equals_markdown_from_reports(self):
        reports = self.reports()
        names = ['d-%d.svg' % n for n in range(1, len(reports) + 1)]
        briefs = [brief(r, n, timeline=names[n - 1]) for n, r in enumerate(reports, 1)]
        assert render_markdown(briefs, title='Drill') == render_markdown(reports, title='Drill', timelines=names)
        assert summarize(briefs) == summarize(reports)
        with pytest.raises(DrillError, match='not a mix'):
            render_markdown(briefs[:1] + reports[1:])

    def test_section_without_picture(self):
        section = render_section(self.reports()[3], 4, 'none')
        assert section.startswith('## 4. backend_down: PASS\n\nProbe: ')
        assert '<svg' not in section and '![' not in section
