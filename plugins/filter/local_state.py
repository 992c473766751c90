# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The local fact that reports a role's packages, services and files, and the test of what it reported.

Documented in local_state_fact.yml and local_state_in_place.yml.
"""

from __future__ import annotations

import hashlib
import re

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# Package and unit names as Debian, RPM and systemd allow them; anything else would
# have to be quoted for the shell, so it is refused instead.
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9+._@:-]*$')
_PATH = re.compile(r'^/[A-Za-z0-9+._@:/-]*$')

_INSTALLED = {
    'Debian': """dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'""",
    'RedHat': 'rpm -q --quiet "$1" 2>/dev/null',
}

_SCRIPT = """#!/bin/sh
# Ansible local fact of ha_lb.keepalived_nginx: are the packages installed, the
# services running and enabled, and what do the managed files hold (SHA-1, mode,
# owner)? Read-only; prints one JSON object. The signature is
# this file's SHA-1, so the role can tell whether the file is the one it would write.
installed() {{
    {installed}
}}
printf '{{"signature": "%s", "packages": {{' "$(sha1sum "$0" | cut -c1-40)"
sep=
for package in {packages}; do
    if installed "$package"; then state=true; else state=false; fi
    printf '%s"%s": %s' "$sep" "$package" "$state"
    sep=', '
done
printf '}}, "services": {{'
sep=
for service in {services}; do
    printf '%s"%s": {{"active": "%s", "enabled": "%s"}}' "$sep" "$service" \\
        "$(systemctl is-active "$service" 2>/dev/null)" "$(systemctl is-enabled "$service" 2>/dev/null)"
    sep=', '
done
printf '}}, "files": {{'
sep=
for file in {files}; do
    content= meta=
    if [ -f "$file" ]; then
        content=$(sha1sum < "$file" | cut -c1-40)
        meta=$(stat -c '%a %U %G' "$file")
    fi
    printf '%s"%s": {{"sha1": "%s", "mode": "%s", "owner": "%s", "group": "%s"}}' "$sep" "$file" "$content" \\
        "${{meta%% *}}" "$(echo "$meta" | cut -d' ' -f2)" "${{meta##* }}"
    sep=', '
done
printf '}}}}\\n'
{end}
"""

# The last line of the script: with the shebang it brackets the body, so blockinfile
# can write the whole file in one step (and create the facts directory with it).
END_MARKER = '# end of the ha_lb.keepalived_nginx local state fact'


def _names(value, what, pattern=_NAME, advice='use plain package or unit names', who='local_state_fact'):
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise AnsibleFilterError('%s: %s must be a list of names, got %r' % (who, what, value))
    names = [str(name) for name in value]
    bad = [name for name in names if not pattern.match(name)]
    if bad:
        raise AnsibleFilterError('%s: %s %s: %s' % (who, what, ', '.join(repr(name) for name in bad), advice))
    return names


def local_state_fact(packages, services, os_family, files=()):
    """Shell script for /etc/ansible/facts.d that reports the packages, the services and the files."""
    if os_family not in _INSTALLED:
        raise AnsibleFilterError('local_state_fact: OS family %r is not supported (%s)'
                                 % (os_family, ', '.join(sorted(_INSTALLED))))
    package_names = _names(packages, 'packages')
    service_names = _names(services, 'services')
    file_paths = _names(list(files), 'files', _PATH, 'use absolute paths without spaces or shell characters')
    if not package_names and not service_names:
        raise AnsibleFilterError('local_state_fact: nothing to report: give packages or services')
    return _SCRIPT.format(installed=_INSTALLED[os_family], packages=' '.join(package_names),
                          services=' '.join(service_names), files=' '.join(file_paths), end=END_MARKER)


_RUNNING = {'active': 'active', 'enabled': 'enabled'}


def _sha1(text):
    return hashlib.sha1(str(text).encode('utf-8', 'surrogateescape')).hexdigest()


def local_state_in_place(state, script, packages=None, services=None, path=None, content=None, mode=None,
                         owner='root', group='root'):
    """Whether the reported state can be trusted and shows what is asked in place.

    Trusted only when the host's script is ``script`` (its reported signature is the SHA-1 of
    ``script``). Then every package must be installed, every service active and enabled, and the
    file at ``path`` must hold ``content`` with ``mode``, ``owner`` and ``group``.
    """
    if not isinstance(state, Mapping) or state.get('signature') != _sha1(script):
        return False
    if packages is not None:
        reported = state.get('packages') or {}
        if not all(reported.get(str(name)) is True for name in _names(packages, 'packages', who='local_state_in_place')):
            return False
    if services is not None:
        reported = state.get('services') or {}
        if not all(reported.get(str(name)) == _RUNNING for name in _names(services, 'services', who='local_state_in_place')):
            return False
    if path is not None:
        if content is None or mode is None:
            raise AnsibleFilterError('local_state_in_place: a path needs its content and mode')
        try:
            octal = '%o' % int(str(mode), 8)
        except ValueError:
            raise AnsibleFilterError('local_state_in_place: mode %r is not an octal mode such as "0644"' % (mode,))
        wanted = {'sha1': _sha1(content), 'mode': octal, 'owner': owner, 'group': group}
        if (state.get('files') or {}).get(str(path)) != wanted:
            return False
    return True


class FilterModule:
    """Local fact filters."""

    def filters(self):
        return {'local_state_fact': local_state_fact, 'local_state_in_place': local_state_in_place}
