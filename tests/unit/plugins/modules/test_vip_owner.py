# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ha_lb.keepalived_nginx.plugins.modules import vip_owner

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'fixtures')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


ADDR_HELD = fixture('ip_addr_nspawn.txt')
ADDR_FREE = '\n'.join(line for line in ADDR_HELD.splitlines() if '198.51.100.140' not in line) + '\n'
LINK = fixture('ip_link_nspawn.txt')


class AnsibleExitJson(Exception):
    pass


class AnsibleFailJson(Exception):
    pass


def exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise AnsibleExitJson(kwargs)


def fail_json(self, **kwargs):
    kwargs['failed'] = True
    raise AnsibleFailJson(kwargs)


def get_bin_path(self, arg, required=False, opt_dirs=None):
    if arg == 'ip':
        return '/usr/sbin/ip'
    if required:
        fail_json(self, msg='Failed to find required executable "%s"' % arg)
    return None


class FakeIp:
    """Answers ``ip -o addr show`` / ``ip -o link show`` from a list of address snapshots."""

    def __init__(self, addr_snapshots, link=LINK, rc=0, stderr=''):
        self.addr_snapshots = list(addr_snapshots)
        self.link = link
        self.rc = rc
        self.stderr = stderr
        self.calls = []

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        if self.rc:
            return self.rc, '', self.stderr
        assert args[0] == '/usr/sbin/ip' and args[1] == '-o'
        if args[2] == 'addr':
            snap = self.addr_snapshots[0] if len(self.addr_snapshots) == 1 else self.addr_snapshots.pop(0)
            return 0, snap, ''
        if args[2] == 'link':
            return 0, self.link, ''
        raise AssertionError('unexpected command %r' % (args,))


@pytest.fixture(autouse=True)
def module_helpers():
    with mock.patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json, get_bin_path=get_bin_path):
        yield


@pytest.fixture(autouse=True)
def no_sleep():
    with mock.patch.object(vip_owner.time, 'sleep') as sleep:
        yield sleep


@pytest.fixture
def no_keepalived(tmp_path):
    """Point keepalived's view at an empty place so the test host's processes do not matter."""
    empty = tmp_path / 'proc'
    empty.mkdir()
    real = vip_owner.keepalived_view

    def view(**kwargs):
        return real(proc_root=str(empty), **kwargs)
    with mock.patch.object(vip_owner, 'keepalived_view', side_effect=view):
        yield tmp_path


def run(args, fake, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with mock.patch.object(basic.AnsibleModule, 'run_command', side_effect=fake):
        with patch_module_args(args):
            vip_owner.main()


def test_reports_holder(no_keepalived):
    fake = FakeIp([ADDR_HELD])
    with pytest.raises(AnsibleExitJson) as exc:
        run({'vip': '198.51.100.140/24', 'pid_file': str(no_keepalived / 'keepalived.pid')}, fake)
    result = exc.value.args[0]
    assert result['changed'] is False
    assert result['held'] is True and result['configured'] is True
    assert result['interface'] == 'host0' and result['prefixlen'] == 24
    assert result['prefix_match'] is True
    assert result['elapsed'] == 0.0 and result['polls'] == 1
    assert result['keepalived']['running'] is False
    assert result['keepalived']['vrrp_state'] == 'STOP'
    assert 'requested_prefixlen' not in result
    assert fake.calls == [['/usr/sbin/ip', '-o', 'addr', 'show'], ['/usr/sbin/ip', '-o', 'link', 'show']]


def test_reports_non_holder_in_check_mode(no_keepalived):
    with pytest.raises(AnsibleExitJson) as exc:
        run({'vip': '198.51.100.140', 'pid_file': str(no_keepalived / 'k.pid')}, FakeIp([ADDR_FREE]), check_mode=True)
    result = exc.value.args[0]
    assert result['changed'] is False
    assert result['held'] is False and result['interface'] is None
    assert result['reason'] == '198.51.100.140 is not configured'


def test_uses_c_locale(no_keepalived):
    envs = []
    fake = FakeIp([ADDR_HELD])

    def run_command(self, args, **kwargs):
        envs.append(dict(self.run_command_environ_update))
        return fake(args)

    with mock.patch.object(basic.AnsibleModule, 'run_command', autospec=True, side_effect=run_command):
        with patch_module_args({'vip': '198.51.100.140', 'pid_file': str(no_keepalived / 'k.pid')}):
            with pytest.raises(AnsibleExitJson):
                vip_owner.main()
    assert envs and all(env['LC_ALL'] == 'C' for env in envs)


def test_wait_present_returns_elapsed(no_keepalived, no_sleep):
    fake = FakeIp([ADDR_FREE, ADDR_FREE, ADDR_FREE, ADDR_HELD])
    with pytest.raises(AnsibleExitJson) as exc:
        run({'vip': '198.51.100.140', 'state': 'present', 'timeout': 30, 'poll_interval': 0.05,
             'pid_file': str(no_keepalived / 'k.pid')}, fake)
    result = exc.value.args[0]
    assert result['held'] is True
    assert result['polls'] == 4
    assert no_sleep.call_count == 3
    assert all(call.args[0] == pytest.approx(0.05, abs=0.01) for call in no_sleep.call_args_list)
    assert result['elapsed'] >= 0
    assert result['changed'] is False


def test_wait_absent_already_absent(no_keepalived, no_sleep):
    with pytest.raises(AnsibleExitJson) as exc:
        run({'vip': '198.51.100.140', 'state': 'absent', 'pid_file': str(no_keepalived / 'k.pid')}, FakeIp([ADDR_FREE]))
    assert exc.value.args[0]['held'] is False
    assert exc.value.args[0]['polls'] == 1
    assert no_sleep.call_count == 0


def test_wait_times_out_with_clear_message(no_keepalived):
    clock = {'now': 1000.0}

    def monotonic():
        return clock['now']

    def sleep(seconds):
        clock['now'] += seconds

    with mock.patch.object(vip_owner.time, 'monotonic', side_effect=monotonic), \
            mock.patch.object(vip_owner.time, 'sleep', side_effect=sleep):
        with pytest.raises(AnsibleFailJson) as exc:
            run({'vip': '198.51.100.140', 'state': 'absent', 'timeout': 2, 'poll_interval': 0.5,
                 'pid_file': str(no_keepalived / 'k.pid')}, FakeIp([ADDR_HELD]))
    result = exc.value.args[0]
    assert result['msg'] == ('Timed out after 2.0 s waiting for 198.51.100.140 to be absent on this host: '
                             '198.51.100.140/24 is held on host0 (keepalived not running, VRRP state STOP)')
    assert result['held'] is True
    # Checks at 0, 0.5, 1.0, 1.5 and at the deadline itself.
    assert result['polls'] == 5
    assert result['elapsed'] == 2.0
    assert result['changed'] is False


def test_timeout_zero_checks_once(no_keepalived):
    with pytest.raises(AnsibleFailJson) as exc:
        run({'vip': '198.51.100.140', 'state': 'present', 'timeout': 0, 'pid_file': str(no_keepalived / 'k.pid')},
            FakeIp([ADDR_FREE]))
    assert exc.value.args[0]['polls'] == 1
    assert 'to be present' in exc.value.args[0]['msg']


def test_interface_down_is_not_held(no_keepalived):
    link_down = LINK.replace('<BROADCAST,MULTICAST,UP,LOWER_UP>', '<BROADCAST,MULTICAST>').replace('state UP', 'state DOWN')
    with pytest.raises(AnsibleExitJson) as exc:
        run({'vip': '198.51.100.140', 'pid_file': str(no_keepalived / 'k.pid')}, FakeIp([ADDR_HELD], link=link_down))
    result = exc.value.args[0]
    assert result['held'] is False and result['configured'] is True
    assert 'administratively down' in result['reason']


def test_prefix_mismatch_warns(no_keepalived):
    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        with pytest.raises(AnsibleExitJson) as exc:
            run({'vip': '198.51.100.140/32', 'pid_file': str(no_keepalived / 'k.pid')}, FakeIp([ADDR_HELD]))
    assert exc.value.args[0]['prefix_match'] is False
    warn.assert_called_once_with('198.51.100.140 is configured with prefix /24, not /32 as given')


def test_state_file_from_instance(no_keepalived):
    with pytest.raises(AnsibleExitJson) as exc:
        run({'vip': '198.51.100.140', 'instance': 'VI_1', 'pid_file': str(no_keepalived / 'k.pid')}, FakeIp([ADDR_HELD]))
    ka = exc.value.args[0]['keepalived']
    assert ka['instance'] == 'VI_1'
    assert ka['state_file'] == '/run/keepalived/VI_1.state'


@pytest.mark.parametrize('args, message', [
    ({'vip': 'not-an-ip'}, 'not an IPv4 or IPv6 address'),
    ({'vip': '198.51.100.140', 'timeout': -1}, 'timeout must be 0 or more'),
    ({'vip': '198.51.100.140', 'poll_interval': 0}, 'poll_interval must be more than 0'),
    ({'vip': '198.51.100.140', 'instance': '../x'}, 'cannot be used in a file name'),
])
def test_bad_arguments_fail_before_running_ip(args, message):
    fake = FakeIp([ADDR_HELD])
    with pytest.raises(AnsibleFailJson) as exc:
        run(args, fake)
    assert message in exc.value.args[0]['msg']
    assert fake.calls == []


def test_ip_failure_reports_output():
    with pytest.raises(AnsibleFailJson) as exc:
        run({'vip': '198.51.100.140'}, FakeIp([ADDR_HELD], rc=1, stderr='Cannot open netlink socket'))
    result = exc.value.args[0]
    assert result['msg'] == '/usr/sbin/ip -o addr show failed with rc 1'
    assert result['stderr'] == 'Cannot open netlink socket'
    assert result['rc'] == 1
