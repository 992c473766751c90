# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Writes report files on the controller, in the controller's own process: no module runs and no host
is connected to, whatever host the task runs for. The documentation is in plugins/modules/report_files.py."""

from __future__ import annotations

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    dest=dict(type='path', required=True),
    files=dict(type='list', elements='dict', required=True, options=dict(
        name=dict(type='str', required=True),
        content=dict(type='raw', required=True),
    )),
    mode=dict(type='raw', default='0644'),
)


def plain_name(name):
    """A file name of the report directory itself: no directory part, not '.' or '..'."""
    return bool(name) and name not in ('.', '..') and '/' not in name and '\0' not in name


def file_mode(mode):
    """An octal mode given as a string of octal digits ('0644') -> int; ValueError otherwise (an
    unquoted 644 would be the decimal number 644, not the mode rw-r--r--)."""
    if not isinstance(mode, str) or not mode or any(digit not in '01234567' for digit in mode):
        raise ValueError(mode)
    value = int(mode, 8)
    if value > 0o7777:
        raise ValueError(mode)
    return value


def problems(dest, files):
    """What is wrong with the arguments, in the words of the task's error message."""
    found = []
    if not dest:
        found.append('dest: give the directory to write to')
    elif os.path.exists(dest) and not os.path.isdir(dest):
        found.append('dest: %s exists and is not a directory' % dest)
    names = [entry['name'] for entry in files]
    bad = [name for name in names if not plain_name(name)]
    if bad:
        found.append('files: %s: each name is a file name in dest, without a directory part'
                     % ', '.join(repr(name) for name in bad))
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        found.append('files: %s named more than once' % ', '.join(repr(name) for name in twice))
    texts = [entry['name'] for entry in files if not isinstance(entry['content'], str)]
    if texts:
        found.append('files: the content of %s is not text; render it to text first (for example with '
                     'to_nice_json)' % ', '.join(repr(name) for name in texts))
    return found


def differs(path, data, mode):
    """Whether the file at path is missing, or holds other data or another mode."""
    try:
        with open(path, 'rb') as handle:
            return handle.read() != data or (os.stat(path).st_mode & 0o7777) != mode
    except OSError:
        return True


def write_file(path, data, mode):
    """Write data to path through a temporary file in the same directory, then rename it into place:
    a reader never sees half a report."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.' + os.path.basename(path) + '.')
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        dest = args['dest']
        try:
            mode = file_mode(args['mode'])
        except ValueError:
            return dict(result, failed=True, msg="mode: %r is not an octal file mode; give it as a quoted string such "
                                                 "as '0644'" % (args['mode'],))
        found = problems(dest, args['files'])
        if found:
            return dict(result, failed=True, msg='; '.join(found))
        files = [(os.path.join(dest, entry['name']), to_bytes(entry['content'], errors='surrogate_or_strict'))
                 for entry in args['files']]
        result.update(dest=dest, paths=[path for path, _data in files], changed=False)
        try:
            stale = [(path, data) for path, data in files if differs(path, data, mode)]
            if self._task.check_mode:
                result['changed'] = bool(stale)
                return result
            if stale and not os.path.isdir(dest):
                os.makedirs(dest)
                os.chmod(dest, 0o755)
                result['changed'] = True
            for path, data in stale:
                write_file(path, data, mode)
                result['changed'] = True
        except OSError as exc:
            return dict(result, failed=True, msg='could not write the report to %s: %s' % (dest, to_native(exc)))
        return result
