# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CHANGELOG.md and the docs ship in the collection, and the changelog covers the galaxy.yml version."""

from __future__ import annotations

import fnmatch
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))

with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as _handle:
    GALAXY = yaml.safe_load(_handle)


@pytest.mark.parametrize('path', ['CHANGELOG.md', 'changelogs/changelog.yaml', 'docs/quickstart.md', 'docs/roles/keepalived.md'])
def test_shipped_in_the_collection(path):
    ignored = [p for p in GALAXY.get('build_ignore', []) if fnmatch.fnmatch(path, p) or path.startswith(p.rstrip('/') + '/')]
    assert not ignored, '%s is excluded from the collection by build_ignore %s' % (path, ignored)


def test_changelog_covers_the_current_version():
    with open(os.path.join(ROOT, 'changelogs', 'changelog.yaml'), encoding='utf-8') as handle:
        releases = yaml.safe_load(handle)['releases']
    assert GALAXY['version'] in releases
    with open(os.path.join(ROOT, 'CHANGELOG.md'), encoding='utf-8') as handle:
        assert '## v%s' % GALAXY['version'].replace('.', '\\.') in handle.read()
