# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Failover drill arithmetic: what the client saw, what the configuration allows, the verdict.

Pure functions on plain data, used on the controller by the drill_report
filter and unit-tested without hosts.

Timeline: everything is converted to the probe's clock (CLOCK_MONOTONIC of
the client, the ``t`` of probe samples). An event recorded on another host
is placed on that timeline either by its own monotonic reading (valid when
the hosts share a kernel, as containers on one machine do) or by its wall
clock, mapped through the probe's start record, which holds both clocks read
back to back.

Event names the analysis understands (others are kept and shown):
  fault     the fault was injected (required)
  vip_moved the VIP was seen on its new holder
  restore   the cluster was repaired (keepalived started, nginx fixed, link up)
  failback  the VIP was seen back on the original holder
"""

from __future__ import annotations

import json

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_faults import fault_entry, fault_names
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_svg import render_svg

# The kinds in the order of the fault table (drill_faults.py); reports list them in this order.
FAULT_KINDS = fault_names()


class DrillError(ValueError):
    """Input to the analysis is missing or inconsistent."""


# ---------------------------------------------------------------------------
# probe output
# ---------------------------------------------------------------------------

def parse_probe_output(text):
    """Split vip_probe.py JSON lines into ``{'start': dict, 'samples': [...], 'end': dict or None}``."""
    start, end, samples = None, None, []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise DrillError('probe output line %d is not JSON: %.80s' % (number, line))
        kind = record.get('type')
        if kind == 'start':
            start = record
        elif kind == 'end':
            end = record
        elif kind == 'sample':
            samples.append(record)
    if start is None:
        raise DrillError('probe output has no start record')
    samples.sort(key=lambda s: s['t'])
    return {'start': start, 'samples': samples, 'end': end}


# ---------------------------------------------------------------------------
# budget
# ---------------------------------------------------------------------------

def skew_time(backup_priority, advert_int):
    """VRRP skew time of a backup: (256 - priority) / 256 * advert_int (RFC 5798 with VRRPv2 seconds)."""
    return (256 - backup_priority) / 256.0 * advert_int


def _skew_budget(v):
    """Graceful stop: the standby takes over after its skew time."""
    return v['skew'], 'skew (256-%d)/256*%g = %.3f s' % (v['backup_priority'], v['advert_int'], v['skew'])


def _master_down_budget(v):
    """Hard failure: the standby waits for the master-down interval."""
    return v['master_down'], 'master-down 3*%g + skew %.3f = %.3f s' % (v['advert_int'], v['skew'], v['master_down'])


def _detection_budget(v):
    """nginx stopped: the health check notices it and the health script starts it again."""
    return v['detection'], 'health check %g*%d + restart %g = %.3f s' % (
        v['check_interval'], v['check_fall'], v['nginx_restart_time'], v['detection'])


def _failing_check_budget(v):
    """nginx cannot start: the health check fails until FAULT, or the health script stops keepalived."""
    if v['check_fails_fast']:
        base = v['check_interval'] + v['nginx_restart_time'] + v['skew']
        return base, ('one health check %g + the start that fails %g, then the VIP is given up at once (%s): skew '
                      '%.3f = %.3f s' % (v['check_interval'], v['nginx_restart_time'], 'keepalived stops itself'
                                         if v['check_stops_keepalived'] else 'FAULT', v['skew'], base))
    if v['check_stops_keepalived']:
        base = v['check_interval'] + v['nginx_restart_time'] + v['check_start_wait'] + v['skew']
        return base, ('one failing health check %g + start attempt %g + start wait %g, then keepalived stops itself: '
                      'skew %.3f = %.3f s' % (v['check_interval'], v['nginx_restart_time'], v['check_start_wait'],
                                              v['skew'], base))
    base = v['check_interval'] * v['check_fall'] + v['check_fall'] * v['check_start_wait'] + v['skew']
    return base, 'health check %g*%d + start wait %d*%g + skew %.3f = %.3f s' % (
        v['check_interval'], v['check_fall'], v['check_fall'], v['check_start_wait'], v['skew'], base)


# A planned switchover: the holder keeps answering until its peer has taken the VIP, so the client
# sees no more than the probe's own spacing; the figure is a limit, so no margin is added to it.
PLANNED_DOWNTIME = 0.1


def _planned_budget(v):
    """The holder hands the VIP over on purpose (maintenance): no outage, at most a short gap."""
    return PLANNED_DOWNTIME, 'a planned move, the holder answers until the peer has the VIP: %g s' % PLANNED_DOWNTIME


def _no_outage_budget(v):
    """Nothing the client should notice."""
    return 0.0, 'no outage expected'


# The downtime formulas a fault kind's ``budget`` names (drill_faults.py): each takes the budget's
# inputs with skew, master_down and detection computed, and returns (seconds, formula text).
BUDGET_FORMULAS = {
    'skew': _skew_budget,
    'master_down': _master_down_budget,
    'detection': _detection_budget,
    'failing_check': _failing_check_budget,
    'planned': _planned_budget,
    'none': _no_outage_budget,
}


def _check_budget_inputs(backup_priority, advert_int, check_interval, check_fall, margin, nginx_restart_time,
                         check_start_wait):
    """Refuse budget inputs no deployed configuration can have."""
    if not 1 <= backup_priority <= 254:
        raise DrillError('backup_priority must be 1-254, got %r' % backup_priority)
    if advert_int <= 0 or check_interval <= 0 or check_fall < 1 or margin < 0 or nginx_restart_time < 0 \
            or check_start_wait < 0:
        raise DrillError('advert_int and check_interval must be > 0, check_fall >= 1, margin, restart time and '
                         'start wait >= 0')


def compute_budget(fault, advert_int=1.0, backup_priority=50, check_interval=2.0, check_fall=2,
                   nginx_restart_time=1.0, margin=0.25, failback_max_failed=0, check_start_wait=0.0,
                   check_stops_keepalived=False, check_fails_fast=False):
    """Allowed client-visible downtime and failures for one fault kind, derived from the configuration.

    The kind's entry in the fault table (drill_faults.py) names its formula (BUDGET_FORMULAS),
    its failed-request limit and what it does to the VIP:

    skew:          graceful stop, (256 - backup priority) / 256 * advert_int
    master_down:   hard failure, 3 * advert_int + skew (master-down interval)
    detection:     check_interval * check_fall + nginx_restart_time (the health script restarts nginx)
    failing_check: every failing check first tries to start nginx and waits ``check_start_wait`` for it,
                   so detection takes check_interval * check_fall + check_fall * check_start_wait; then a
                   graceful hand-over: + skew. When the health script stops keepalived itself
                   (``check_stops_keepalived``, the behaviour restart_then_stop) the first failing check
                   ends it: check_interval + nginx_restart_time (the failed start) + check_start_wait + skew.
                   When a start that fails gives up the VIP at once (``check_fails_fast``, the keepalived
                   role's keepalived_health_check_fail_fast), neither the start wait nor ``fall`` applies:
                   check_interval + nginx_restart_time + skew.
    planned:       a planned switchover: PLANNED_DOWNTIME (0.1 s), a limit without margin
    none:          no outage (a backend down: passive health checks retry the other backend)
    plus ``margin`` seconds on every other downtime figure.
    """
    if fault not in FAULT_KINDS:
        raise DrillError('unknown fault %r, expected one of %s' % (fault, ', '.join(FAULT_KINDS)))
    kind = fault_entry(fault)
    _check_budget_inputs(backup_priority, advert_int, check_interval, check_fall, margin, nginx_restart_time,
                         check_start_wait)
    skew = skew_time(backup_priority, advert_int)
    master_down = 3 * advert_int + skew
    values = {
        'advert_int': advert_int, 'backup_priority': backup_priority, 'check_interval': check_interval,
        'check_fall': check_fall, 'nginx_restart_time': nginx_restart_time, 'check_start_wait': check_start_wait,
        'check_stops_keepalived': check_stops_keepalived, 'check_fails_fast': bool(check_fails_fast), 'skew': skew,
        'master_down': master_down,
        'detection': check_interval * check_fall + nginx_restart_time,
    }
    base, formula = BUDGET_FORMULAS[kind['budget']](values)
    if kind['budget'] == 'planned':
        margin = 0.0
    return {
        'fault': fault,
        'inputs': {'advert_int': advert_int, 'backup_priority': backup_priority, 'check_interval': check_interval,
                   'check_fall': check_fall, 'nginx_restart_time': nginx_restart_time, 'margin': margin,
                   'check_start_wait': check_start_wait, 'check_stops_keepalived': bool(check_stops_keepalived),
                   'check_fails_fast': bool(check_fails_fast)},
        'skew_time': round(skew, 6),
        'master_down_interval': round(master_down, 6),
        'max_downtime': round(base + margin, 6),
        'formula': '%s + margin %g s' % (formula, margin),
        'max_failed': kind['max_failed'],
        'failback_max_failed': failback_max_failed,
        'vip_moves': kind['vip_moves'],
        'two_holders': kind['two_holders'],
        'detection': kind['detection'],
    }


# ---------------------------------------------------------------------------
# timeline
# ---------------------------------------------------------------------------

def event_time(event, start, clock='monotonic'):
    """Place an event on the probe's monotonic timeline.

    ``clock='monotonic'`` uses the event's own ``mono`` reading (hosts share
    a kernel) and falls back to ``wall``; ``clock='wall'`` always maps the
    wall clock through the probe's start record.
    """
    if clock not in ('monotonic', 'wall'):
        raise DrillError("clock must be 'monotonic' or 'wall', got %r" % clock)
    if clock == 'monotonic' and event.get('mono') is not None:
        return float(event['mono'])
    if event.get('wall') is None:
        raise DrillError('event %r has no usable timestamp (mono/wall)' % event.get('name'))
    return float(start['mono']) + float(event['wall']) - float(start['wall'])


def _normalise_events(events, start, clock):
    if isinstance(events, dict):
        events = [dict(value, name=name) for name, value in events.items()]
    placed = {}
    for event in events:
        name = event.get('name')
        if not name:
            raise DrillError('every event needs a name: %r' % (event,))
        placed[name] = event_time(event, start, clock)
    if 'fault' not in placed:
        raise DrillError('events must include the fault injection time ("fault")')
    return placed


def _answer_time(sample):
    return sample['t'] + sample.get('dur', 0.0)


def window_stats(samples, begin, end, probe_end):
    """Client figures for requests started in [begin, end).

    Downtime is the longest interval between two consecutive successful
    answers (answer = request start + duration) that overlaps the window.
    When the failures that start in or after the window are never followed
    by a success, the gap runs to the end of the probe and ``recovered`` is False.
    """
    in_window = [s for s in samples if begin <= s['t'] < end]
    failed = [s for s in in_window if not s['ok']]
    answers = [_answer_time(s) for s in samples if s['ok']]
    longest, gap_from, gap_to = 0.0, None, None
    previous = None
    for answer in answers:
        if previous is not None and answer > begin and previous < end and answer - previous > longest:
            longest, gap_from, gap_to = answer - previous, previous, answer
        previous = answer
    # Recovered: every failure from the window on is followed by a success.
    later_failures = [s['t'] for s in samples if s['t'] >= begin and not s['ok']]
    recovered = not later_failures or any(s['ok'] and s['t'] > later_failures[-1] for s in samples)
    if not recovered:
        last = answers[-1] if answers else begin
        longest, gap_from, gap_to = max(0.0, probe_end - last), last, None
    errors = {}
    for sample in failed:
        key = sample.get('error') or 'failed'
        errors[key] = errors.get(key, 0) + 1
    backends = {}
    for sample in in_window:
        if sample['ok'] and sample.get('backend'):
            backends[sample['backend']] = backends.get(sample['backend'], 0) + 1
    return {
        'requests': len(in_window),
        'failed': len(failed),
        'errors': errors,
        'backends': backends,
        'downtime': round(longest, 6),
        'gap_start': round(gap_from - begin, 6) if gap_from is not None else None,
        'gap_end': round(gap_to - begin, 6) if gap_to is not None else None,
        'recovered': recovered,
        'first_failure': round(failed[0]['t'] - begin, 6) if failed else None,
        'last_failure': round(failed[-1]['t'] - begin, 6) if failed else None,
    }


def analyze(probe, events, clock='monotonic'):
    """Client-visible figures of one drill.

    ``probe``: the dict from parse_probe_output. ``events``: a list of
    ``{'name', 'mono', 'wall'}`` dicts or a ``{name: {'mono', 'wall'}}`` dict.
    Times in the result are seconds; those named ``*_at`` are relative to the fault.
    """
    start, samples = probe['start'], probe['samples']
    if not samples:
        raise DrillError('the probe recorded no samples')
    placed = _normalise_events(events, start, clock)
    fault = placed['fault']
    probe_end = probe['end']['mono'] if probe.get('end') else _answer_time(samples[-1])
    if not samples[0]['t'] <= fault <= probe_end:
        raise DrillError('the fault (%.3f) lies outside the probe run (%.3f-%.3f): clocks not comparable? '
                         'use clock=wall for hosts that do not share a kernel' % (fault, samples[0]['t'], probe_end))
    restore = placed.get('restore', probe_end)
    result = {
        'clock': clock,
        'probe': {
            'url': start.get('url'),
            'interval_ms': start.get('interval_ms'),
            'timeout_ms': start.get('timeout_ms'),
            'requests': len(samples),
            'failed': sum(1 for s in samples if not s['ok']),
            'duration': round(probe_end - start['mono'], 3),
            'max_late': round(max(s.get('late', 0.0) for s in samples), 6),
            'missed_slots': sum(s.get('missed', 0) for s in samples),
            'ended_by': probe['end'].get('reason') if probe.get('end') else None,
        },
        'events': dict((name, round(t - fault, 6)) for name, t in sorted(placed.items(), key=lambda kv: kv[1])),
        'baseline': window_stats(samples, start['mono'], fault, probe_end),
        'failover': window_stats(samples, fault, restore, probe_end),
        'failback': None,
        'vip_moved_after': round(placed['vip_moved'] - fault, 6) if 'vip_moved' in placed else None,
        'failback_after': None,
    }
    if 'restore' in placed:
        result['failback'] = window_stats(samples, restore, probe_end + 1e-9, probe_end)
        if 'failback' in placed:
            result['failback_after'] = round(placed['failback'] - restore, 6)
        if probe_end < restore:
            raise DrillError('the probe ended before the restore: failback cannot be judged')
    return result


# ---------------------------------------------------------------------------
# verdict and report
# ---------------------------------------------------------------------------

def evaluate(analysis, budget, observations=None):
    """Compare a drill's figures with its budget. Returns a list of checks, each with ``ok``.

    ``observations`` are facts the drill saw on the balancers:
      vip_moved (bool), two_holders (bool: a double holder was seen after the
      fault), holders_after_restore (list of hosts holding the VIP at the end),
      not_restored (list of what the restore could not bring back: services, VIP holders).
    """
    observations = observations or {}
    checks = []

    def check(name, ok, measured, limit, message):
        checks.append({'name': name, 'ok': bool(ok), 'measured': measured, 'limit': limit, 'message': message})

    failover = analysis['failover']
    check('recovered', failover['recovered'], failover['recovered'], True,
          'a request succeeded after the fault' if failover['recovered'] else 'no request succeeded after the fault')
    if budget.get('max_downtime') is not None:
        ok = failover['downtime'] <= budget['max_downtime']
        check('downtime', ok, failover['downtime'], budget['max_downtime'],
              'client-visible downtime %.3f s %s budget %.3f s (%s)' % (
                  failover['downtime'], 'within' if ok else 'OVER', budget['max_downtime'], budget['formula']))
    if budget.get('max_failed') is not None:
        ok = failover['failed'] <= budget['max_failed']
        check('failed_requests', ok, failover['failed'], budget['max_failed'],
              '%d failed requests (at most %d allowed)' % (failover['failed'], budget['max_failed']))
    if 'vip_moved' in observations:
        moved = bool(observations['vip_moved'])
        did = 'moved' if moved else 'stayed'
        if moved == budget['vip_moves']:
            message = 'the VIP %s, as expected' % did
        else:
            message = 'the VIP %s, but it should have %s' % (did, 'moved' if budget['vip_moves'] else 'stayed')
        check('vip_move', moved == budget['vip_moves'], moved, budget['vip_moves'], message)
    if budget.get('detection') and budget.get('max_downtime') is not None:
        moved_after = analysis.get('vip_moved_after')
        ok = moved_after is not None and moved_after <= budget['max_downtime']
        check('detection', ok, moved_after, budget['max_downtime'],
              'the standby held the VIP %s after the fault, budget %.3f s (%s)' % (
                  'never' if moved_after is None else '%.3f s' % moved_after, budget['max_downtime'], budget['formula']))
    if 'two_holders' in observations:
        seen = bool(observations['two_holders'])
        expected = budget['two_holders']
        check('double_holder', seen == expected, seen, expected,
              ('two holders seen and reported' if seen else 'never more than one holder')
              + ('' if seen == expected else (' (expected %s)' % ('two holders' if expected else 'one holder'))))
    if 'holders_after_restore' in observations or 'not_restored' in observations:
        holders = observations.get('holders_after_restore')
        not_restored = [str(item) for item in observations.get('not_restored') or []]
        if holders is None:
            ok, message = True, 'every service and VIP is back as the drill found it'
        elif len(holders) == 1:
            ok, message = True, 'exactly one holder after the restore: %s' % holders[0]
        else:
            ok, message = False, 'after the restore the VIP is held by %s' % (', '.join(holders) or 'nobody')
        if not_restored:
            ok, message = False, 'not restored: %s (%s)' % ('; '.join(not_restored), message)
        check('restored', ok, None if holders is None else list(holders), 1, message)
    if analysis.get('failback') is not None and budget.get('failback_max_failed') is not None:
        lost = analysis['failback']['failed']
        check('failback_losses', lost <= budget['failback_max_failed'], lost, budget['failback_max_failed'],
              '%d failed requests during failback (at most %d allowed)' % (lost, budget['failback_max_failed']))
    return checks


def timeline(probe, fault_time):
    """Every probe request, compact, for the report's picture: times in seconds relative to the fault.

    ``samples`` rows are ``[t, dur, ok, backend, error]``: ``ok`` 1 or 0, ``backend`` an
    index into ``backends`` (-1 when none answered), ``error`` an index into ``errors`` (-1 when none).
    """
    backends = sorted(set(s['backend'] for s in probe['samples'] if s.get('ok') and s.get('backend')))
    errors = sorted(set(s.get('error') or 'failed' for s in probe['samples'] if not s['ok']))
    rows = []
    for sample in probe['samples']:
        rows.append([
            round(sample['t'] - fault_time, 4),
            round(sample.get('dur', 0.0), 4),
            1 if sample['ok'] else 0,
            backends.index(sample['backend']) if sample['ok'] and sample.get('backend') in backends else -1,
            -1 if sample['ok'] else errors.index(sample.get('error') or 'failed'),
        ])
    end = probe['end']['mono'] if probe.get('end') else _answer_time(probe['samples'][-1])
    return {
        'origin': 'fault',
        'start': round(float(probe['start']['mono']) - fault_time, 4),
        'end': round(end - fault_time, 4),
        'backends': backends,
        'errors': errors,
        'samples': rows,
    }


def build_report(fault, probe, events, budget, observations=None, clock='monotonic', meta=None):
    """Everything about one drill in one dict: figures, budget, checks, verdict, and the probe's timeline."""
    analysis = analyze(probe, events, clock=clock)
    checks = evaluate(analysis, budget, observations)
    fault_time = _normalise_events(events, probe['start'], clock)['fault']
    return {
        'fault': fault,
        'passed': all(c['ok'] for c in checks),
        'failed_checks': [c['name'] for c in checks if not c['ok']],
        'analysis': analysis,
        'budget': budget,
        'observations': observations or {},
        'checks': checks,
        'meta': meta or {},
        'timeline': timeline(probe, fault_time),
    }


def _median(values):
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2.0


def summarize(reports):
    """Per fault kind: number of runs, passes and medians of the headline figures.

    Works on full reports and on their briefs (see ``brief``), which keep every figure used here.
    """
    by_fault = {}
    for report in reports:
        by_fault.setdefault(report['fault'], []).append(report)
    summary = []
    for fault in sorted(by_fault, key=lambda f: (FAULT_KINDS.index(f) if f in FAULT_KINDS else len(FAULT_KINDS), f)):
        runs = by_fault[fault]
        moved = [r['analysis']['vip_moved_after'] for r in runs if r['analysis']['vip_moved_after'] is not None]
        failback = [r['analysis']['failback']['failed'] for r in runs if r['analysis']['failback'] is not None]
        summary.append({
            'fault': fault,
            'runs': len(runs),
            'passed': sum(1 for r in runs if r['passed']),
            # The verdict failover_drill_verdict=median gives: more than half of the kind's runs passed.
            'most_passed': 2 * sum(1 for r in runs if r['passed']) > len(runs),
            'median_downtime': _median([r['analysis']['failover']['downtime'] for r in runs]),
            'median_failed': _median([r['analysis']['failover']['failed'] for r in runs]),
            'median_vip_moved_after': _median(moved),
            'median_failback_failed': _median(failback),
            'max_downtime_budget': runs[0]['budget'].get('max_downtime'),
        })
    return summary


def _fmt(value, unit=''):
    if value is None:
        return '-'
    if isinstance(value, float):
        return '%.3f%s' % (value, unit)
    return '%s%s' % (value, unit)


def render_section(report, number, timeline='inline'):
    """The Markdown section of one drill: its heading, timeline picture, figures and checks.

    ``timeline``: ``'inline'`` embeds the picture as SVG, ``'none'`` leaves it out, any other
    string is the picture's file name relative to the Markdown file.
    """
    analysis = report['analysis']
    failover = analysis['failover']
    lines = ['## %d. %s: %s' % (number, report['fault'], 'PASS' if report['passed'] else 'FAIL'), '']
    if timeline == 'inline':
        lines += [render_svg(report).rstrip('\n'), '']
    elif timeline != 'none':
        lines += ['![Timeline of drill %d (%s): every probe request, the fault, the VIP move and the failback](%s)'
                  % (number, report['fault'], timeline), '']
    probe = analysis['probe']
    lines.append('Probe: %s every %s ms, timeout %s ms; %d requests, %d failed, max lateness %.1f ms.' % (
        probe['url'], _fmt(probe['interval_ms']), _fmt(probe['timeout_ms']), probe['requests'], probe['failed'],
        probe['max_late'] * 1000))
    lines.append('')
    lines.append('- client-visible downtime: %s (budget %s: %s)' % (
        _fmt(failover['downtime'], ' s'), _fmt(report['budget'].get('max_downtime'), ' s'),
        report['budget'].get('formula')))
    lines.append('- failed requests after the fault: %d %s' % (
        failover['failed'], json.dumps(failover['errors'], sort_keys=True) if failover['errors'] else ''))
    lines.append('- VIP moved after: %s' % _fmt(analysis['vip_moved_after'], ' s'))
    if analysis['failback'] is not None:
        lines.append('- failback after restore: %s, failed requests during failback: %d' % (
            _fmt(analysis['failback_after'], ' s'), analysis['failback']['failed']))
    lines.append('- backends answering after the fault: %s' % (
        ', '.join('%s (%d)' % kv for kv in sorted(failover['backends'].items())) or 'none'))
    lines += ['', '| check | result | measured | limit | detail |', '|---|---|---|---|---|']
    for c in report['checks']:
        lines.append('| %s | %s | %s | %s | %s |' % (
            c['name'], 'ok' if c['ok'] else 'FAIL', _fmt(c['measured']), _fmt(c['limit']), c['message']))
    return '\n'.join(lines)


def brief(report, number, timeline='inline'):
    """The small part of a drill report that a run of many drills keeps: verdict, headline figures, Markdown section.

    Everything ``summarize`` and ``render_markdown`` need, without the probe's samples: a long soak keeps
    one brief per drill in memory and writes each full report to its own file once.
    """
    analysis = report['analysis']
    failover = analysis['failover']
    failback = analysis.get('failback')
    return {
        'number': number,
        'fault': report['fault'],
        'passed': report['passed'],
        'failed_checks': list(report['failed_checks']),
        'meta': dict(report.get('meta') or {}),
        'analysis': {
            'failover': {key: failover[key] for key in ('downtime', 'failed', 'requests')},
            'vip_moved_after': analysis['vip_moved_after'],
            'failback_after': analysis['failback_after'],
            'failback': None if failback is None else {'failed': failback['failed']},
        },
        'budget': {'max_downtime': report['budget'].get('max_downtime')},
        'markdown': render_section(report, number, timeline),
    }


def is_brief(entry):
    return isinstance(entry, dict) and 'markdown' in entry and 'timeline' not in entry


def render_markdown(reports, title='Failover drill report', timelines='inline'):
    """A Markdown report: a summary table (medians per fault kind), then each drill's timeline and checks.

    ``reports``: full reports, or briefs (made by ``brief``), which carry their own section.
    ``timelines`` (full reports only): ``'inline'`` embeds each drill's timeline picture as SVG in the
    Markdown; a list of file names (one per report, relative to the Markdown file, written with
    drill_svg.render_svg) references them as images; ``'none'`` leaves the pictures out.
    """
    briefs = [entry for entry in reports if is_brief(entry)]
    if briefs and len(briefs) != len(reports):
        raise DrillError('render_markdown takes full reports or briefs, not a mix of both')
    per_report = timelines not in ('inline', 'none')
    if not briefs and per_report and (isinstance(timelines, str) or len(timelines) != len(reports)):
        raise DrillError("timelines must be 'inline', 'none' or one file name per report")
    lines = ['# %s' % title, '']
    lines += ['| fault | runs | passed | median downtime | budget | median failed | median VIP move '
              '| median failback losses |',
              '|---|---|---|---|---|---|---|---|']
    for row in summarize(reports):
        lines.append('| %s | %d | %d | %s | %s | %s | %s | %s |' % (
            row['fault'], row['runs'], row['passed'], _fmt(row['median_downtime'], ' s'),
            _fmt(row['max_downtime_budget'], ' s'), _fmt(row['median_failed']),
            _fmt(row['median_vip_moved_after'], ' s'), _fmt(row['median_failback_failed'])))
    for number, report in enumerate(reports, 1):
        if briefs:
            section = report['markdown']
        else:
            section = render_section(report, number, timelines if timelines in ('inline', 'none')
                                     else timelines[number - 1])
        lines += ['', section]
    return '\n'.join(lines) + '\n'


def render_json(reports):
    """The machine-readable report: summary plus every drill."""
    return json.dumps({'summary': summarize(reports), 'drills': reports}, indent=2, sort_keys=True) + '\n'
