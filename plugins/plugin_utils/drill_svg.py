# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Timeline picture (SVG, standard library only) of one failover drill.

Input is one report from drill_analysis.build_report. The picture shows every
probe request against time, relative to the fault: one lane per backend in that
backend's colour, one lane for failed requests; the fault, the VIP move, the
restore and the failback as vertical lines; the client-visible downtime as a band
with the budget drawn under it; and the measured figures beside their budgets.
Two panels: the whole probe run, and a close-up of the failover.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

# Okabe-Ito colours (readable with colour-vision deficiencies); red is kept for failures.
BACKEND_COLOURS = ('#0072B2', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000', '#F0E442')
FAILED_COLOUR = '#D7191C'
OK_COLOUR = '#1A7F37'
MARKS = {
    # event name: (label, colour, dash pattern)
    'fault': ('fault', '#D7191C', ''),
    'vip_moved': ('VIP moved', '#6A3D9A', '6 3'),
    'restore': ('restore', '#444444', '2 3'),
    'failback': ('failback', '#B15928', '6 3'),
}
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


def backend_colour(index):
    return BACKEND_COLOURS[index % len(BACKEND_COLOURS)]


def _num(value):
    return ('%.2f' % value).rstrip('0').rstrip('.')


def _secs(value):
    return '-' if value is None else '%.3f s' % value


class _Svg:
    def __init__(self):
        self.parts = []

    def add(self, element, text=None, title=None, **attrs):
        attr = ''.join(' %s=%s' % (k.rstrip('_').replace('_', '-'), quoteattr(str(v))) for k, v in attrs.items() if v is not None)
        inner = ''
        if title is not None:
            inner += '<title>%s</title>' % escape(title)
        if text is not None:
            inner += escape(text)
        if inner:
            self.parts.append('<%s%s>%s</%s>' % (element, attr, inner, element))
        else:
            self.parts.append('<%s%s/>' % (element, attr))

    def raw(self, text):
        self.parts.append(text)


def _merge(intervals, tolerance):
    """Merge sorted (start, end) intervals closer than ``tolerance``; returns (start, end, count)."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start - merged[-1][1] <= tolerance:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] += 1
        else:
            merged.append([start, end, 1])
    return merged


def _ticks(lo, hi, target=10):
    span = max(hi - lo, 1e-9)
    raw = span / target
    step = 1.0
    for candidate in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300):
        step = candidate
        if candidate >= raw:
            break
    first = int(lo / step) * step
    if first < lo - 1e-9:
        first += step
    ticks = []
    value = first
    while value <= hi + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _panel(svg, report, lanes, x0, y0, width, t_lo, t_hi, title, merge_px=0.75, lane_height=22):
    """One time axis with a lane per backend plus the failed lane; returns the panel's height."""
    timeline = report['timeline']
    analysis = report['analysis']
    events = analysis.get('events', {})
    scale = width / max(t_hi - t_lo, 1e-9)

    def x(t):
        return x0 + (min(max(t, t_lo), t_hi) - t_lo) * scale

    label_rows = 3
    top = y0 + 20 + label_rows * 14
    plot_h = lane_height * len(lanes)
    svg.add('text', title, x=x0, y=y0 + 12, font_size=13, font_weight='bold')
    svg.add('rect', x=x0, y=top, width=_num(width), height=plot_h, fill='#FAFAFA', stroke='#BBBBBB')

    # Client-visible downtime (failover window) and its budget, under the requests.
    failover = analysis.get('failover') or {}
    budget = report.get('budget', {}).get('max_downtime')
    if failover.get('gap_start') is not None and failover.get('downtime', 0) > 0:
        g0 = failover['gap_start']
        g1 = failover['gap_end'] if failover.get('gap_end') is not None else timeline['end']
        if g1 > t_lo and g0 < t_hi:
            over = budget is not None and failover['downtime'] > budget
            svg.add('rect', x=_num(x(g0)), y=top, width=_num(max(x(g1) - x(g0), 1)), height=plot_h,
                    fill='#D7191C' if over else '#FDB863', fill_opacity='0.25', class_='downtime',
                    title='client-visible downtime %.3f s' % failover['downtime'])

    # Lanes: labels, separators.
    for index, (name, colour) in enumerate(lanes):
        lane_y = top + index * lane_height
        if index:
            svg.add('line', x1=x0, y1=lane_y, x2=_num(x0 + width), y2=lane_y, stroke='#E0E0E0')
        svg.add('text', name, x=x0 - 8, y=lane_y + lane_height / 2 + 4, font_size=12, text_anchor='end', fill=colour)

    # Requests: a bar from the request's start to its answer (or error), merged when closer than a pixel.
    per_lane = {}
    for t, dur, ok, backend, _error in timeline['samples']:
        if t + dur < t_lo or t > t_hi:
            continue
        lane = backend if ok else len(lanes) - 1
        if ok and backend < 0:
            lane = len(lanes) - 2 if len(lanes) > 1 else 0
        per_lane.setdefault(lane, []).append((t, t + max(dur, 0.0)))
    min_width = 1.2
    for lane, intervals in sorted(per_lane.items()):
        name, colour = lanes[lane]
        lane_y = top + lane * lane_height + 4
        failed_lane = lane == len(lanes) - 1
        for start, end, count in _merge(intervals, merge_px / scale):
            left = x(start)
            bar_width = max(x(end) - left, min_width)
            tip = '%s: %d request%s %.3f to %.3f s' % (name, count, '' if count == 1 else 's', start, end)
            svg.add('rect', x=_num(left), y=lane_y, width=_num(bar_width), height=lane_height - 8, fill=colour,
                    class_='failed' if failed_lane else 'answered', title=tip)

    # Measured downtime and its budget as two bars under the plot, both starting where they start.
    bottom = top + plot_h
    if failover.get('gap_start') is not None and failover.get('downtime', 0) > 0 and t_lo <= 0 <= t_hi:
        g0 = failover['gap_start']
        g1 = failover['gap_end'] if failover.get('gap_end') is not None else timeline['end']
        over = budget is not None and failover['downtime'] > budget
        svg.add('rect', x=_num(x(g0)), y=bottom + 4, width=_num(max(x(g1) - x(g0), 1)), height=6,
                fill=FAILED_COLOUR if over else '#E08214', class_='measured',
                title='client-visible downtime %.3f s' % failover['downtime'])
        svg.add('text', 'downtime %.3f s' % failover['downtime'], x=_num(x(g1) + 4), y=bottom + 11, font_size=11,
                fill=FAILED_COLOUR if over else '#B35806', font_weight='bold')
    if budget is not None and budget > 0 and t_lo <= 0 <= t_hi:
        svg.add('rect', x=_num(x(0)), y=bottom + 14, width=_num(max(x(budget) - x(0), 1)), height=6,
                fill='none', stroke='#333333', stroke_dasharray='3 2', class_='budget',
                title='downtime budget %.3f s' % budget)
        svg.add('text', 'budget %.3f s' % budget, x=_num(x(budget) + 4), y=bottom + 21, font_size=11, fill='#333333')

    # Event marks, labels staggered so close events stay readable.
    rows = []
    for name, t in sorted(events.items(), key=lambda kv: kv[1]):
        if not t_lo <= t <= t_hi:
            continue
        label, colour, dash = MARKS.get(name, (name, '#666666', '2 2'))
        text = '%s %s' % (label, 'at 0 s' if name == 'fault' else ('+%.3f s' % t))
        if name == 'failback' and analysis.get('failback_after') is not None:
            text = 'failback +%.3f s after restore' % analysis['failback_after']
        text_w = 6.6 * len(text)
        left = x(t) + 3
        if left + text_w > x0 + width:
            left = x(t) - 3 - text_w
        row = 0
        while row < len(rows) and any(left < r_end + 6 and left + text_w > r_start - 6 for r_start, r_end in rows[row]):
            row += 1
        while len(rows) <= row:
            rows.append([])
        rows[row].append((left, left + text_w))
        row = min(row, label_rows - 1)
        label_y = y0 + 20 + row * 14 + 10
        svg.add('line', x1=_num(x(t)), y1=label_y - 10, x2=_num(x(t)), y2=bottom, stroke=colour, stroke_width=2,
                stroke_dasharray=dash or None, class_='mark-%s' % name, title='%s at %+.3f s' % (label, t))
        svg.add('text', text, x=_num(left), y=label_y, font_size=11, fill=colour, font_weight='bold' if name == 'fault' else None)

    # Time axis.
    for tick in _ticks(t_lo, t_hi):
        tx = x(tick)
        svg.add('line', x1=_num(tx), y1=bottom, x2=_num(tx), y2=bottom + 4, stroke='#666666')
        svg.add('text', '%gs' % tick if tick else '0', x=_num(tx), y=bottom + 36, font_size=11, text_anchor='middle',
                fill='#444444')
    return bottom + 46 - y0


def render_svg(report, width=1200):
    """The timeline picture of one drill report, as SVG text."""
    analysis = report['analysis']
    timeline = report.get('timeline')
    budget = report.get('budget', {})
    failover = analysis.get('failover') or {}
    checks = dict((c['name'], c) for c in report.get('checks', []))
    meta = report.get('meta') or {}
    svg = _Svg()
    margin_left, margin_right = 90, 20
    plot_w = width - margin_left - margin_right
    y = 0

    verdict = 'PASS' if report.get('passed') else 'FAIL'
    run = ' #%s' % meta['run'] if meta.get('run') is not None else ''
    svg.add('text', '%s%s: %s' % (report['fault'], run, verdict), x=20, y=30, font_size=20, font_weight='bold',
            fill=OK_COLOUR if report.get('passed') else FAILED_COLOUR, class_='verdict')
    probe = analysis.get('probe', {})
    svg.add('text', 'probe %s every %s ms, timeout %s ms: %s requests, %s failed' % (
        probe.get('url'), probe.get('interval_ms'), probe.get('timeout_ms'), probe.get('requests'), probe.get('failed')),
        x=20, y=50, font_size=12, fill='#444444')
    y = 62

    # Measured figures beside their budgets.
    failback = analysis.get('failback')
    figures = [
        ('client-visible downtime', _secs(failover.get('downtime')),
         'budget %s' % _secs(budget.get('max_downtime')) if budget.get('max_downtime') is not None else 'no budget',
         checks.get('downtime')),
        ('failed requests', str(failover.get('failed', '-')),
         'budget %s' % budget['max_failed'] if budget.get('max_failed') is not None else 'no limit',
         checks.get('failed_requests')),
        ('VIP moved after', _secs(analysis.get('vip_moved_after')),
         'expected: %s' % ('moves' if budget.get('vip_moves') else 'stays'), checks.get('vip_move')),
        ('failback', _secs(analysis.get('failback_after')),
         '%s failed, budget %s' % (failback['failed'] if failback else '-', budget.get('failback_max_failed', '-')),
         checks.get('failback_losses')),
    ]
    box_w = (width - 40 - 3 * 12) / 4.0
    for index, (label, measured, limit, check) in enumerate(figures):
        bx = 20 + index * (box_w + 12)
        status = None if check is None else check['ok']
        border = '#BBBBBB' if status is None else (OK_COLOUR if status else FAILED_COLOUR)
        svg.add('rect', x=_num(bx), y=y, width=_num(box_w), height=58, rx=4, fill='#FFFFFF', stroke=border, stroke_width=2,
                class_='figure')
        svg.add('text', label, x=_num(bx + 10), y=y + 17, font_size=12, fill='#444444')
        svg.add('text', measured, x=_num(bx + 10), y=y + 40, font_size=18, font_weight='bold', fill='#111111')
        if status is None:
            mark = ''
        elif status:
            mark = ' \u2713'
        else:
            mark = ' \u2717 OVER' if check['name'] in ('downtime', 'failed_requests', 'failback_losses') else ' \u2717'
        svg.add('text', limit + mark, x=_num(bx + box_w - 10), y=y + 40, font_size=12, text_anchor='end',
                fill=border if status is not None else '#666666')
    y += 66
    if budget.get('formula'):
        svg.add('text', 'budget: %s' % budget['formula'], x=20, y=y + 12, font_size=11, fill='#444444', class_='formula')
        y += 18
    for note in (meta.get('finding'), meta.get('error')):
        if note:
            svg.add('text', str(note)[:180], x=20, y=y + 12, font_size=11, fill=FAILED_COLOUR)
            y += 16
    y += 8

    if not timeline or not timeline.get('samples'):
        svg.add('text', 'This report holds no probe samples: no timeline.', x=20, y=y + 16, font_size=13)
        y += 30
    else:
        lanes = [(name, backend_colour(i)) for i, name in enumerate(timeline['backends'])]
        if any(row[2] and row[3] < 0 for row in timeline['samples']):
            lanes.append(('answered', '#777777'))
        lanes.append(('failed', FAILED_COLOUR))
        events = analysis.get('events', {})
        y += _panel(svg, report, lanes, margin_left, y, plot_w, timeline['start'], timeline['end'],
                    'Every probe request of the run (time relative to the fault)', merge_px=4)
        # Close-up: the failover, from just before the fault to past the downtime, the move and the budget.
        ends = [0.5, budget.get('max_downtime') or 0, analysis.get('vip_moved_after') or 0,
                failover.get('gap_end') or 0, failover.get('last_failure') or 0]
        restore = events.get('restore')
        zoom_hi = min(max(ends) * 1.3 + 0.3, timeline['end'])
        if restore is not None and restore > 0 and not failover.get('failed'):
            zoom_hi = min(zoom_hi, max(restore, 0.5))
        zoom_lo = max(timeline['start'], -max(0.3, 0.15 * zoom_hi))
        y += 6
        y += _panel(svg, report, lanes, margin_left, y, plot_w, zoom_lo, zoom_hi,
                    'Close-up of the failover: each bar is one request, from its start to its answer or error')

        # Legend.
        lx = margin_left
        for index, name in enumerate(timeline['backends']):
            count = sum(1 for row in timeline['samples'] if row[2] and row[3] == index)
            svg.add('rect', x=lx, y=y, width=12, height=12, fill=backend_colour(index), class_='legend')
            text = '%s answered (%d)' % (name, count)
            svg.add('text', text, x=lx + 17, y=y + 11, font_size=12)
            lx += 30 + 7 * len(text)
        failed = sum(1 for row in timeline['samples'] if not row[2])
        svg.add('rect', x=lx, y=y, width=12, height=12, fill=FAILED_COLOUR, class_='legend')
        text = 'failed (%d: %s)' % (failed, ', '.join(timeline.get('errors') or []) or 'none')
        svg.add('text', text, x=lx + 17, y=y + 11, font_size=12)
        lx += 30 + 7 * len(text)
        svg.add('rect', x=lx, y=y, width=24, height=12, fill='#FDB863', fill_opacity='0.4')
        svg.add('text', 'client-visible downtime', x=lx + 29, y=y + 11, font_size=12)
        y += 24

    height = int(y + 8)
    head = ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12" '
            'role="img" aria-label=%s>' % (width, height, width, height, FONT,
                                           quoteattr('Failover drill timeline: %s %s' % (report['fault'], verdict))))
    return '\n'.join([head, '<rect width="100%" height="100%" fill="#FFFFFF"/>'] + svg.parts + ['</svg>']) + '\n'
