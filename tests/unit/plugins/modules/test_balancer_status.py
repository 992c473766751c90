# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The balancer_status module against recorded ip output and files in a temporary directory."""

from __future__ import annotations

import os

from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.balancer import config_digest
from ansible_collections.ha_lb.keepalived_nginx.plugins.modules import balancer_status

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'fixtures')
CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


class Done(Exception):
    pass


def exit_json(self, **kwargs):
    raise Done(kwargs)


def fail_json(self, **kwargs):
    raise Done(dict(kwargs, failed=True))


def fake_ip(args, **kwargs):
    assert args[:2] == ['/usr/sbin/ip', '-o']
    return 0, fixture('ip_addr_nspawn.txt' if args[2] == 'addr' else 'ip_link_nspawn.txt'), ''


def run(args, proc_root='/nonexistent'):
    real = balancer_status.keepalived_view
    # keepalived's view from an empty process table: the test host's own processes do not matter.
    helpers = {'exit_json': exit_json, 'fail_json': fail_json, 'run_command': lambda self, args, **kw: fake_ip(args),
               'get_bin_path': lambda self, name, required=False: '/usr/sbin/ip'}
    with mock.patch.object(balancer_status, 'keepalived_view', lambda **kw: real(proc_root=proc_root, **kw)):
        with mock.patch.multiple(basic.AnsibleModule, **helpers), patch_module_args(args), pytest.raises(Done) as done:
            balancer_status.main()
    return done.value.args[0]


def test_one_read_reports_vips_digests_and_certificates_only(tmp_path):
    (tmp_path / 'nginx.conf').write_text('events {}\n')
    (tmp_path / 'keepalived.conf').write_text('vrrp_instance VI_1 {\n    priority 100\n    auth_pass s3cret\n}\n')
    (tmp_path / 'tls').mkdir()
    (tmp_path / 'tls' / 'web.crt').write_text(CERT)
    (tmp_path / 'tls' / 'bad.crt').write_text(CERT + '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n')
    result = run({'vips': [{'vip': '198.51.100.140/24', 'instance': 'VI_WEB'}, {'vip': '198.51.100.199'}],
                  'state_dir': str(tmp_path), 'pid_file': str(tmp_path / 'none.pid'),
                  'configs': [{'path': str(tmp_path / 'nginx.conf')},
                              {'path': str(tmp_path / 'keepalived.conf'), 'kind': 'keepalived'},
                              {'path': str(tmp_path / 'missing.conf')}],
                  'certificates': [str(tmp_path / 'tls' / '*.crt'), str(tmp_path / 'none.crt')]})
    assert not result['changed'] and not result.get('failed')
    held, other = result['vips']
    assert (held['address'], held['held'], held['instance']) == ('198.51.100.140', True, 'VI_WEB')
    assert (other['held'], other['vrrp_state'], result['keepalived_running']) == (False, 'STOP', False)
    nginx, keepalived, missing = result['configs']
    assert nginx['sha256'] == config_digest('events {}\n')
    assert keepalived['sha256'] == config_digest('vrrp_instance VI_1 {\n}\n', 'keepalived')
    assert (missing['exists'], missing['sha256']) == (False, None)
    assert result['certificates'] == [{'path': str(tmp_path / 'tls' / 'bad.crt'), 'pem': None},
                                      {'path': str(tmp_path / 'tls' / 'web.crt'), 'pem': CERT}]
    assert 's3cret' not in repr(result)


def test_a_vip_that_is_no_address_fails_in_words():
    result = run({'vips': [{'vip': 'not-an-address'}]})
    assert result['failed'] and result['msg'].startswith('vips: ')
