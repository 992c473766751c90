# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every drill filter has its sidecar documentation, which says first that the filter is internal."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

FILTERS = pathlib.Path(__file__).resolve().parents[4] / 'plugins' / 'filter'
PACKAGE = 'ansible_collections.ha_lb.keepalived_nginx.plugins.filter.'


def _drill_filters():
    names = []
    for path in sorted(FILTERS.glob('drill*.py')):
        names += sorted(importlib.import_module(PACKAGE + path.stem).FilterModule().filters())
    return names


def _doc(name):
    return yaml.safe_load((FILTERS / ('%s.yml' % name)).read_text())['DOCUMENTATION']


def _one_line(text):
    return ' '.join(text.split())


# The wording of the preflight filters, which are internal too.
OPENING = 'Internal to the collection; '
CLOSING = ' Its input may change in any release, so do not call it from playbooks of your own.'


def test_the_preflight_filters_use_the_same_wording():
    first = _one_line(_doc('keepalived_preflight')['description'][0])
    assert first.startswith(OPENING) and first.endswith(CLOSING)


@pytest.mark.parametrize('name', _drill_filters())
def test_documented_as_internal(name):
    doc = _doc(name)
    assert doc['name'] == name
    assert 'version_added' not in doc
    first = _one_line(doc['description'][0])
    assert first == OPENING + 'the P(ha_lb.keepalived_nginx.failover_drill#role) role calls it.' + CLOSING


def test_every_drill_filter_file_is_covered():
    assert len(_drill_filters()) == 17
    documented = sorted(p.stem for p in FILTERS.glob('drill*.yml'))
    assert documented == sorted(_drill_filters())
