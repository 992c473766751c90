# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each role's public interface: defaults/main.yml and meta/argument_specs.yml agree key for key."""

from __future__ import annotations

import pytest
import yaml

from _render import ROLE_NAMES, ROLES


def _defaults(role):
    return yaml.safe_load((ROLES / role / 'defaults' / 'main.yml').read_text()) or {}


def _options(role):
    specs = yaml.safe_load((ROLES / role / 'meta' / 'argument_specs.yml').read_text())
    return specs['argument_specs']['main']['options']


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_specs_and_defaults_have_the_same_keys(role):
    assert sorted(_options(role)) == sorted(_defaults(role))


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_spec_defaults_equal_the_defaults(role):
    defaults = _defaults(role)
    for name, option in _options(role).items():
        assert 'default' in option, f'{role}: {name} documents no default'
        assert option['default'] == defaults[name], f'{role}: {name} default differs between spec and defaults/main.yml'


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_every_option_is_documented_and_typed(role):
    for name, option in _options(role).items():
        assert option.get('description'), f'{role}: {name} has no description'
        assert option.get('type'), f'{role}: {name} has no type'


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_public_variables_carry_the_role_prefix(role):
    assert all(name.startswith(f'{role}_') for name in _defaults(role))


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_internal_variables_are_double_underscore_prefixed(role):
    for path in (ROLES / role / 'vars').glob('*.yml'):
        for name in yaml.safe_load(path.read_text()) or {}:
            assert name.startswith(f'__{role}_'), f'{path.name}: {name}'


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_os_vars_files_define_the_same_keys(role):
    debian = yaml.safe_load((ROLES / role / 'vars' / 'Debian.yml').read_text())
    redhat = yaml.safe_load((ROLES / role / 'vars' / 'RedHat.yml').read_text())
    assert sorted(debian) == sorted(redhat)


@pytest.mark.parametrize('role', ROLE_NAMES)
def test_every_entry_point_takes_the_role_variables(role):
    specs = yaml.safe_load((ROLES / role / 'meta' / 'argument_specs.yml').read_text())['argument_specs']
    assert {'main', 'preflight'} <= set(specs)
    for entry, spec in specs.items():
        assert sorted(spec['options']) == sorted(_defaults(role)), f'{role}: entry point {entry}'
        assert (ROLES / role / 'tasks' / f'{entry}.yml').is_file()
