# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The local fact script: what it reports, its signature, and the names it refuses.

The script runs for real under /bin/sh; dpkg-query, rpm and systemctl are small stand-ins
on PATH that answer for a fixed set of packages and units.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ha_lb.keepalived_nginx.plugins.filter.local_state import FilterModule

local_state_fact = FilterModule().filters()['local_state_fact']

STANDINS = {
    # Installed: nginx and curl. dpkg-query prints the abbreviated status of one package.
    'dpkg-query': 'for a; do p=$a; done\ncase $p in nginx|curl) printf "ii ";; *) exit 1;; esac\n',
    'rpm': 'for a; do p=$a; done\ncase $p in nginx|curl) exit 0;; *) exit 1;; esac\n',
    # nginx runs and is enabled; keepalived is installed but stopped and disabled.
    'systemctl': ('case "$1 $2" in\n'
                  '"is-active nginx") echo active;;\n"is-enabled nginx") echo enabled;;\n'
                  '"is-active keepalived") echo inactive; exit 3;;\n"is-enabled keepalived") echo disabled; exit 1;;\n'
                  '*) exit 4;;\nesac\n'),
}


@pytest.fixture()
def run_fact(tmp_path):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    for name, body in STANDINS.items():
        path = bindir / name
        path.write_text('#!/bin/sh\n' + body)
        path.chmod(0o755)

    def run(script):
        path = tmp_path / 'state.fact'
        path.write_text(script)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        env = dict(os.environ, PATH='%s:%s' % (bindir, os.environ['PATH']))
        done = subprocess.run([str(path)], capture_output=True, text=True, env=env, check=True, timeout=10)
        assert done.stderr == ''
        return json.loads(done.stdout)

    return run


@pytest.mark.parametrize('os_family', ['Debian', 'RedHat'])
def test_reports_packages_and_services(run_fact, os_family):
    script = local_state_fact(['nginx', 'keepalived', 'curl'], ['nginx', 'keepalived', 'nosuch.service'], os_family)
    fact = run_fact(script)
    assert fact['packages'] == {'nginx': True, 'keepalived': False, 'curl': True}
    assert fact['services'] == {
        'nginx': {'active': 'active', 'enabled': 'enabled'},
        'keepalived': {'active': 'inactive', 'enabled': 'disabled'},
        'nosuch.service': {'active': '', 'enabled': ''},
    }


def test_signature_is_the_sha1_of_the_file_the_role_writes(run_fact):
    script = local_state_fact(['nginx'], ['nginx'], 'Debian')
    assert run_fact(script)['signature'] == hashlib.sha1(script.encode()).hexdigest()
    # A different package list is a different file, so an old fact is not trusted.
    other = local_state_fact(['nginx', 'curl'], ['nginx'], 'Debian')
    assert hashlib.sha1(other.encode()).hexdigest() != run_fact(script)['signature']


def test_reports_the_files_with_their_sha1_mode_and_owner(run_fact, tmp_path):
    managed = tmp_path / 'managed.conf'
    managed.write_text('worker_processes auto;\n')
    managed.chmod(0o640)
    missing = tmp_path / 'missing.conf'
    fact = run_fact(local_state_fact(['nginx'], ['nginx'], 'Debian', [str(managed), str(missing)]))
    reported = fact['files'][str(managed)]
    assert reported['sha1'] == hashlib.sha1(b'worker_processes auto;\n').hexdigest()
    assert reported['mode'] == '640'
    assert reported['owner'] and reported['group']
    assert fact['files'][str(missing)] == {'sha1': '', 'mode': '', 'owner': '', 'group': ''}


def test_empty_package_list_still_reports_services(run_fact):
    fact = run_fact(local_state_fact([], ['nginx'], 'Debian'))
    assert fact['packages'] == {}
    assert fact['services']['nginx']['active'] == 'active'


@pytest.mark.parametrize('packages, services, os_family, message', [
    (['nginx; rm -rf /'], ['nginx'], 'Debian', "packages 'nginx; rm -rf /'"),
    (['nginx'], ['$(reboot)'], 'Debian', "services '$(reboot)'"),
    ('nginx', ['nginx'], 'Debian', 'packages must be a list of names'),
    (['nginx'], ['nginx'], 'Suse', "OS family 'Suse' is not supported"),
    ([], [], 'Debian', 'nothing to report'),
])
def test_refuses_what_it_cannot_write_safely(packages, services, os_family, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        local_state_fact(packages, services, os_family)


@pytest.mark.parametrize('path', ['etc/nginx/nginx.conf', '/etc/my nginx.conf', '/etc/$(reboot)'])
def test_refuses_files_that_are_not_plain_absolute_paths(path):
    with pytest.raises(AnsibleFilterError, match='use absolute paths'):
        local_state_fact(['nginx'], ['nginx'], 'Debian', [path])


def test_the_script_is_bracketed_by_its_shebang_and_end_marker():
    lines = local_state_fact(['nginx'], ['nginx'], 'Debian', ['/etc/nginx/nginx.conf']).splitlines()
    assert lines[0] == '#!/bin/sh'
    assert lines[-1].startswith('# end of ')


local_state_in_place = FilterModule().filters()['local_state_in_place']

RUNNING = {'active': 'active', 'enabled': 'enabled'}


def _reported(script, **changes):
    """A fact as the script reports it on a host where everything is in place."""
    fact = {
        'signature': hashlib.sha1(script.encode()).hexdigest(),
        'packages': {'nginx': True, 'curl': True},
        'services': {'nginx': dict(RUNNING)},
        'files': {'/etc/nginx/nginx.conf': {'sha1': hashlib.sha1(b'events {}\n').hexdigest(), 'mode': '644',
                                            'owner': 'root', 'group': 'root'}},
    }
    fact.update(changes)
    return fact


SCRIPT = local_state_fact(['nginx', 'curl'], ['nginx'], 'Debian', ['/etc/nginx/nginx.conf'])
CONF = {'path': '/etc/nginx/nginx.conf', 'content': 'events {}\n', 'mode': '0644'}


def test_in_place_when_trusted_and_everything_matches():
    fact = _reported(SCRIPT)
    assert local_state_in_place(fact, SCRIPT)
    assert local_state_in_place(fact, SCRIPT, packages=['nginx', 'curl'])
    assert local_state_in_place(fact, SCRIPT, services=['nginx'])
    assert local_state_in_place(fact, SCRIPT, **CONF)


@pytest.mark.parametrize('fact', [
    {},
    None,
    # Written by another version of the role: nothing it says counts.
    _reported('#!/bin/sh\necho {}\n'),
])
def test_never_in_place_without_a_trusted_report(fact):
    assert not local_state_in_place(fact, SCRIPT)
    assert not local_state_in_place(fact, SCRIPT, services=['nginx'])
    assert not local_state_in_place(fact, SCRIPT, **CONF)


@pytest.mark.parametrize('ask, changes', [
    ({'packages': ['nginx', 'curl']}, {'packages': {'nginx': True, 'curl': False}}),
    ({'packages': ['nginx', 'keepalived']}, {}),
    ({'services': ['nginx']}, {'services': {'nginx': {'active': 'inactive', 'enabled': 'enabled'}}}),
    ({'services': ['nginx']}, {'services': {'nginx': {'active': 'active', 'enabled': 'disabled'}}}),
    ({'services': ['keepalived']}, {}),
    (CONF, {'files': {'/etc/nginx/nginx.conf': {'sha1': 'edited', 'mode': '644', 'owner': 'root', 'group': 'root'}}}),
    (CONF, {'files': {'/etc/nginx/nginx.conf': {'sha1': hashlib.sha1(b'events {}\n').hexdigest(), 'mode': '666',
                                                'owner': 'root', 'group': 'root'}}}),
    (CONF, {'files': {'/etc/nginx/nginx.conf': {'sha1': '', 'mode': '', 'owner': '', 'group': ''}}}),
    (dict(CONF, owner='www-data'), {}),
])
def test_not_in_place_when_anything_differs(ask, changes):
    assert not local_state_in_place(_reported(SCRIPT, **changes), SCRIPT, **ask)


@pytest.mark.parametrize('ask, message', [
    ({'path': '/etc/nginx/nginx.conf', 'mode': '0644'}, 'a path needs its content and mode'),
    (dict(CONF, mode='rw-r--r--'), 'is not an octal mode'),
    ({'packages': 'nginx'}, 'local_state_in_place: packages must be a list of names'),
])
def test_refuses_an_incomplete_question(ask, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        local_state_in_place(_reported(SCRIPT), SCRIPT, **ask)
