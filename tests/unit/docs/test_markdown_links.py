# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every relative link and anchor in the repository's Markdown files points at something that exists.

External links (http, https, mailto) are not fetched: this runs without network.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SKIP_DIRS = ('collections/', 'build/', '.venv/', 'reports/', 'tests/output/')

FENCE = re.compile(r'^\s*(```|~~~)')
INLINE_CODE = re.compile(r'`+[^`]*`+')
INLINE_LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
REF_DEF = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)')
HTML_LINK = re.compile(r'\b(?:href|src)\s*=\s*"([^"]+)"')
HTML_ID = re.compile(r'<a\s[^>]*\b(?:id|name)\s*=\s*"([^"]+)"')
HEADING = re.compile(r'^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
EXTERNAL = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:')


def markdown_files(root=ROOT):
    try:
        out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '*.md'],
                             cwd=root, check=True, capture_output=True, text=True).stdout
        files = [f for f in out.split('\0') if f]
    except (OSError, subprocess.CalledProcessError):
        files = [os.path.relpath(os.path.join(d, f), root) for d, _dirs, names in os.walk(root) for f in names if f.endswith('.md')]
    return sorted(f for f in files if not f.startswith(SKIP_DIRS) and os.path.isfile(os.path.join(root, f)))


def slug(heading):
    """GitHub's anchor for a heading: formatting dropped, lower case, punctuation removed, spaces to hyphens."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)
    text = re.sub(r'<[^>]+>', '', text).replace('`', '').replace('*', '')
    text = re.sub(r'[^\w\- ]', '', text.strip().lower())
    return text.replace(' ', '-')


def prose_lines(text):
    """(line number, line, line without inline code) outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line, INLINE_CODE.sub('', line)


def anchors(path):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    found, seen = set(), {}
    for _number, line, _prose in prose_lines(text):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if not count else '%s-%d' % (base, count))
        found.update(HTML_ID.findall(line))
    return found


def links(path):
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    for number, _raw, line in prose_lines(text):
        for regex in (INLINE_LINK, REF_DEF, HTML_LINK):
            for target in regex.findall(line):
                yield number, target


def broken_links(rel_path, root=ROOT):
    path = os.path.join(root, rel_path)
    problems = []
    for number, target in links(path):
        if EXTERNAL.match(target) or target.startswith('//'):
            continue
        file_part, _hash, anchor = target.partition('#')
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(dest):
            problems.append('%s:%d: %s: no such file' % (rel_path, number, target))
        elif anchor and dest.endswith('.md') and anchor not in anchors(dest):
            problems.append('%s:%d: %s: no such anchor in %s' % (rel_path, number, target, os.path.relpath(dest, root)))
    return problems


FILES = markdown_files()


def test_markdown_files_found():
    assert 'README.md' in FILES and 'docs/quickstart.md' in FILES


@pytest.mark.parametrize('rel_path', FILES)
def test_relative_links_and_anchors_resolve(rel_path):
    assert broken_links(rel_path) == []


def test_checker_finds_broken_links(tmp_path):
    (tmp_path / 'other.md').write_text('# Other page\n\n## Second `part`: here\n\n<a id="custom"></a>\n')
    (tmp_path / 'page.md').write_text(
        '# Page\n\n'
        '[ok](other.md) [ok](other.md#second-part-here) [ok](other.md#custom) [ok](#page) [ext](https://example.org/x)\n'
        '[bad file](missing.md) [bad anchor](other.md#nope) [bad local](#nope)\n'
        '`[not a link](missing-too.md)`\n'
        '```\n[in code](missing-three.md)\n```\n'
        '<a href="other.md#wrong">html</a>\n')
    problems = broken_links('page.md', root=str(tmp_path))
    assert [p.split(': ')[1] for p in problems] == ['missing.md', 'other.md#nope', '#nope', 'other.md#wrong']


@pytest.mark.parametrize('heading, expected', [
    ('2. Put the VRRP secret in a vault', '2-put-the-vrrp-secret-in-a-vault'),
    ('The VIP is on both balancers (split brain)', 'the-vip-is-on-both-balancers-split-brain'),
    ('`keepalived_instances`', 'keepalived_instances'),
    ('Role `ha_lb.keepalived_nginx.nginx_lb`', 'role-ha_lbkeepalived_nginxnginx_lb'),
])
def test_slug_matches_github(heading, expected):
    assert slug(heading) == expected
