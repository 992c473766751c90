# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Configuration digests that are equal on the balancers of a pair (plugins/module_utils/balancer.py)."""

from __future__ import annotations

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.balancer import (
    config_digest, is_certificate_text, keepalived_shared_lines,
)

MASTER = """global_defs {
    router_id director1
}
vrrp_instance VI_WEB {
    state MASTER
    interface eth0
    virtual_router_id 80
    priority 100
    authentication {
        auth_type PASS
        auth_pass secret1
    }
    unicast_src_ip 10.0.0.21
    unicast_peer {
        10.0.0.22
    }
    virtual_ipaddress {
        10.0.0.140/24 dev eth0
    }
}
"""
BACKUP = (MASTER.replace('director1', 'director2').replace('state MASTER', 'state BACKUP')
          .replace('priority 100', 'priority 50').replace('unicast_src_ip 10.0.0.21', 'unicast_src_ip 10.0.0.22')
          .replace('        10.0.0.22\n', '        10.0.0.21\n').replace('eth0', 'ens33'))


def test_the_balancers_of_a_pair_have_one_keepalived_digest():
    assert config_digest(MASTER, 'keepalived') == config_digest(BACKUP, 'keepalived')
    assert config_digest(MASTER) != config_digest(BACKUP)


@pytest.mark.parametrize('change', [('virtual_router_id 80', 'virtual_router_id 81'),
                                    ('10.0.0.140/24', '10.0.0.141/24'),
                                    ('auth_type PASS', 'auth_type AH')])
def test_a_shared_line_that_differs_is_drift(change):
    assert config_digest(MASTER, 'keepalived') != config_digest(BACKUP.replace(*change), 'keepalived')


def test_the_password_and_comments_are_left_out():
    lines = keepalived_shared_lines(MASTER + '# a comment\n! another\n')
    assert not any('secret1' in line or 'comment' in line or 'another' in line for line in lines)
    assert 'virtual_router_id 80' in lines and '10.0.0.140/24' in lines
    assert config_digest(MASTER, 'keepalived') == config_digest(MASTER.replace('secret1', 'other'), 'keepalived')


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match='kind must be one of plain, keepalived'):
        config_digest('x', 'nginx')


def test_only_certificates_are_returned():
    cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    assert is_certificate_text(cert)
    assert not is_certificate_text(cert + '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n')
    assert not is_certificate_text('not a certificate')
