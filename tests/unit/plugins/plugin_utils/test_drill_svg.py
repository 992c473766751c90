# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The drill report's timeline picture: valid SVG, every mark present, one colour per backend."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_analysis import (
    DrillError,
    build_report,
    compute_budget,
    parse_probe_output,
    render_markdown,
)
from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.drill_svg import (
    BACKEND_COLOURS,
    FAILED_COLOUR,
    render_svg,
)

from test_drill_analysis import ev, simulate  # pylint: disable=import-error

NS = '{http://www.w3.org/2000/svg}'


def stop_report(outage_end=3.85, backends=('web-1', 'web-2')):
    probe = parse_probe_output(simulate(17.5, outages=[(3.0, outage_end)], backends=backends))
    events = [dict(ev(2.98), name='fault'), dict(ev(3.82), name='vip_moved'),
              dict(ev(9.5), name='restore'), dict(ev(13.3), name='failback')]
    return build_report('stop', probe, events, compute_budget('stop'),
                        observations={'vip_moved': True, 'holders_after_restore': ['lb-1']}, meta={'run': 1})


def parse(report):
    root = ET.fromstring(render_svg(report))
    assert root.tag == NS + 'svg'
    return root


def by_class(root, name):
    return [e for e in root.iter() if e.get('class') == name]


def texts(root):
    return [e.text or '' for e in root.iter(NS + 'text')]


def test_valid_xml_with_size():
    root = parse(stop_report())
    assert int(root.get('width')) == 1200
    assert int(root.get('height')) > 300


@pytest.mark.parametrize('event', ['fault', 'vip_moved', 'restore', 'failback'])
def test_event_marks_present(event):
    root = parse(stop_report())
    assert by_class(root, 'mark-%s' % event), 'no mark for %s' % event


def test_colour_per_backend_and_red_failures():
    report = stop_report(backends=('web-1', 'web-2', 'web-3'))
    root = parse(report)
    answered = by_class(root, 'answered')
    colours = set(e.get('fill') for e in answered)
    assert colours == set(BACKEND_COLOURS[:3])
    # Each backend keeps its colour in both panels: every bar titled web-2 is web-2's colour.
    for rect in answered:
        title = rect.find(NS + 'title').text
        assert rect.get('fill') == BACKEND_COLOURS[int(title.split(':')[0][-1]) - 1]
    failed = by_class(root, 'failed')
    assert failed and set(e.get('fill') for e in failed) == {FAILED_COLOUR}
    assert FAILED_COLOUR not in BACKEND_COLOURS


def test_every_request_appears_in_the_close_up():
    report = stop_report()
    root = parse(report)
    titles = [e.find(NS + 'title').text for e in by_class(root, 'failed')]
    # The close-up draws each failed request on its own (4 timeouts of 200 ms): overview 1 merged + 4.
    assert sum(int(t.split(': ')[1].split(' ')[0]) for t in titles) == 2 * report['analysis']['probe']['failed']


def test_budget_beside_the_measured_figures():
    report = stop_report()
    root = parse(report)
    words = ' '.join(texts(root))
    assert 'budget %.3f s' % report['budget']['max_downtime'] in words
    assert '%.3f s' % report['analysis']['failover']['downtime'] in words
    assert by_class(root, 'budget') and by_class(root, 'measured') and by_class(root, 'downtime')
    assert 'stop #1: PASS' in words


def test_over_budget_is_red():
    report = stop_report(outage_end=5.0)
    assert not report['passed']
    root = parse(report)
    assert by_class(root, 'verdict')[0].get('fill') == FAILED_COLOUR
    assert by_class(root, 'measured')[0].get('fill') == FAILED_COLOUR
    assert any('OVER' in t for t in texts(root))


def test_report_without_samples_still_renders():
    report = stop_report()
    del report['timeline']
    root = parse(report)
    assert any('no probe samples' in t for t in texts(root))


def test_text_is_escaped():
    report = stop_report()
    report['meta']['error'] = 'task <x> & "y" failed'
    ET.fromstring(render_svg(report))


def test_markdown_embeds_or_references_the_picture():
    reports = [stop_report(), stop_report()]
    inline = render_markdown(reports, title='Drill')
    assert inline.count('<svg xmlns=') == 2
    # An HTML block in Markdown ends at a blank line: the SVG must have none.
    for block in inline.split('<svg xmlns=')[1:]:
        assert '\n\n' not in block.split('</svg>')[0]
    files = render_markdown(reports, title='Drill', timelines=['d-1.svg', 'd-2.svg'])
    assert '<svg' not in files
    assert '](d-1.svg)' in files and '](d-2.svg)' in files
    assert '<svg' not in render_markdown(reports, timelines='none')
    with pytest.raises(DrillError, match='one file name per report'):
        render_markdown(reports, timelines=['only-one.svg'])
