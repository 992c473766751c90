# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters that turn failover drill measurements into a report (documented in the sidecar YAML files)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_analysis import (
    DrillError,
    brief,
    build_report,
    compute_budget,
    parse_probe_output,
    render_json,
    render_markdown,
    summarize,
)
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_svg import render_svg

_BUDGET_KEYS = ('advert_int', 'backup_priority', 'check_interval', 'check_fall', 'nginx_restart_time', 'margin',
                'failback_max_failed', 'check_start_wait', 'check_stops_keepalived', 'check_fails_fast')


def drill_report(probe_output, fault, events, config=None, observations=None, clock='monotonic', meta=None):
    """Analyse one drill: probe JSON lines + events + deployed configuration -> report dict."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(_BUDGET_KEYS))
    if unknown:
        raise AnsibleFilterError('drill_report: unknown config keys %s (known: %s)'
                                 % (', '.join(unknown), ', '.join(_BUDGET_KEYS)))
    for key in ('check_stops_keepalived', 'check_fails_fast'):
        if key in config:
            config[key] = boolean(config[key], strict=False)
    if not isinstance(probe_output, str):
        raise AnsibleFilterError('drill_report: input must be the probe output text (JSON lines)')
    try:
        budget = compute_budget(fault, **config)
        return build_report(fault, parse_probe_output(probe_output), events, budget,
                            observations=observations, clock=clock, meta=meta)
    except (DrillError, KeyError, TypeError) as exc:
        raise AnsibleFilterError('drill_report: %s' % exc)


def drill_summary(reports):
    """Per fault kind: runs, passes and medians (of full reports or of their briefs)."""
    return summarize(list(reports))


def drill_brief(report, number, timeline='inline'):
    """The small part of one drill report kept across a long run: verdict, headline figures, Markdown section."""
    if not isinstance(report, dict) or 'analysis' not in report:
        raise AnsibleFilterError('drill_brief: input must be a drill report made by drill_report')
    try:
        return brief(report, int(number), timeline=timeline)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('drill_brief: input is not a drill report (%s)' % exc)


def drill_markdown(reports, title='Failover drill report', timelines='inline'):
    """Markdown report of one or more drills (full reports or briefs), with each drill's timeline picture."""
    try:
        return render_markdown(list(reports), title=title, timelines=timelines)
    except DrillError as exc:
        raise AnsibleFilterError('drill_markdown: %s' % exc)


def drill_timeline_svg(report):
    """Timeline picture (SVG text) of one drill report."""
    try:
        return render_svg(report)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('drill_timeline_svg: input is not a drill report (%s)' % exc)


def drill_json(reports):
    """JSON report (summary and drills) of one or more drills."""
    return render_json(list(reports))


class FilterModule:
    def filters(self):
        return {
            'drill_report': drill_report,
            'drill_brief': drill_brief,
            'drill_summary': drill_summary,
            'drill_markdown': drill_markdown,
            'drill_json': drill_json,
            'drill_timeline_svg': drill_timeline_svg,
        }
