# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The committed role reference (docs/roles/) is what tools/gen_role_docs.py generates now."""

from __future__ import annotations

import importlib.util
import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def _load_generator():
    spec = importlib.util.spec_from_file_location('gen_role_docs', os.path.join(ROOT, 'tools', 'gen_role_docs.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def test_reference_is_current():
    stale = gen.stale_pages(ROOT)
    assert not stale, 'docs/roles is stale, run `make docs` and commit it: %s' % ', '.join(stale)


@pytest.mark.parametrize('role', gen.roles(ROOT))
def test_every_variable_has_a_section(role):
    text = gen.render_role(role, ROOT)
    options = gen.load_spec(role, ROOT)['main']['options']
    for name in options:
        assert '### `%s`' % name in text


def test_markup_is_converted():
    assert gen.markup('C(nginx -t) and O(vip) or V(present), M(ha_lb.x.y) P(ha_lb.x.z#filter)') == (
        '`nginx -t` and `vip` or `present`, `ha_lb.x.y` `ha_lb.x.z`')
    assert gen.markup('see L(the docs, https://example.org/x)') == 'see [the docs](https://example.org/x)'


def test_long_defaults_go_in_a_code_block():
    inline, block = gen.default_text({'type': 'str', 'default': '{{ a }}\n{{ b }}'})
    assert inline.startswith('long') and block == '{{ a }}\n{{ b }}'
    assert gen.default_text({'type': 'list', 'default': []}) == ('`[]`', None)
    assert gen.default_text({'type': 'bool', 'default': False}) == ('`false`', None)
    assert gen.default_text({'type': 'str', 'default': ''}) == ('`""`', None)
    assert gen.default_text({'type': 'str', 'required': True}) == ('required', None)


def test_runbook_fault_table_is_the_table_of_fault_kinds():
    with open(os.path.join(ROOT, gen.RUNBOOK), encoding='utf-8') as handle:
        committed = handle.read()
    assert committed == gen.render_runbook(ROOT), (
        'the fault table of %s differs from plugins/plugin_utils/drill_faults.py: run `make docs` and commit it'
        % gen.RUNBOOK)


def test_fault_table_has_one_row_per_kind_in_table_order():
    table = gen.render_fault_table(ROOT).splitlines()
    names = [entry['name'] for entry in gen.load_faults(ROOT)]
    assert [row.split('`')[1] for row in table[2:]] == names
    assert table[2].startswith('| `%s` (default) |' % gen.default_faults(ROOT)[0])
    assert sum('(default)' in row for row in table) == len(gen.default_faults(ROOT))


def test_generated_part_is_replaced_in_place():
    text = 'intro\n%s\n\nold table\n\n%s\n\nafter\n' % (gen.FAULT_TABLE_BEGIN, gen.FAULT_TABLE_END)
    assert gen.replace_generated(text, gen.FAULT_TABLE_BEGIN, gen.FAULT_TABLE_END, '| new |\n', 'x.md') == (
        'intro\n%s\n\n| new |\n\n%s\n\nafter\n' % (gen.FAULT_TABLE_BEGIN, gen.FAULT_TABLE_END))
    with pytest.raises(ValueError, match='x.md needs the line'):
        gen.replace_generated('no markers\n', gen.FAULT_TABLE_BEGIN, gen.FAULT_TABLE_END, '', 'x.md')
