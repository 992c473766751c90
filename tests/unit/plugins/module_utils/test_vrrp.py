# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""VRRP adverts read from raw IPv4 packets (plugins/module_utils/vrrp.py)."""

from __future__ import annotations

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.vrrp import (
    VrrpError,
    build_advert,
    checksum,
    parse_packet,
    routers,
)

# A VRRPv2 advert laid out by hand after RFC 3768 (lb-1 to lb-2 in the local lab, VRID 80, priority
# 100, PASS authentication with the password "secret"), checksums filled in below.
# IPv4: TTL 255, protocol 112, 198.51.100.21 -> .22; VRRP: version 2, VRID 80, priority 100, one address,
# PASS, 1 s, the VIP, the password.
CAPTURED_V2 = bytes.fromhex(
    '45c0002800000000ff700000c6336415c6336416'
    '2150640101010000c633648c7365637265740000')


def _with_checksums(packet: bytes) -> bytes:
    vrrp = packet[20:]
    vrrp = vrrp[:6] + checksum(vrrp[:6] + b'\0\0' + vrrp[8:]).to_bytes(2, 'big') + vrrp[8:]
    ip = packet[:10] + b'\0\0' + packet[12:20]
    return ip[:10] + checksum(ip).to_bytes(2, 'big') + ip[12:] + vrrp


def test_a_version_2_advert_never_shows_its_password():
    advert = parse_packet(_with_checksums(CAPTURED_V2))
    assert advert == {'source': '198.51.100.21', 'destination': '198.51.100.22', 'ttl': 255, 'version': 2, 'type': 1,
                      'vrid': 80, 'priority': 100, 'count': 1, 'addresses': ['198.51.100.140'], 'auth_type': 'PASS',
                      'advert_int': 1.0, 'checksum_ok': True}
    assert 'secret' not in repr(advert)


def test_built_adverts_read_back_in_both_versions():
    v3 = parse_packet(build_advert('198.51.100.31', '224.0.0.18', 80, 200, ['198.51.100.140', '198.51.100.141'],
                                   version=3, advert_int=0.1))
    assert (v3['version'], v3['vrid'], v3['priority'], v3['addresses'], v3['advert_int'], v3['checksum_ok']) == (
        3, 80, 200, ['198.51.100.140', '198.51.100.141'], 0.1, True)
    v2 = parse_packet(build_advert('198.51.100.31', '224.0.0.18', 81, 50, ['198.51.100.150'], password='x'))
    assert (v2['version'], v2['vrid'], v2['auth_type'], v2['advert_int'], v2['checksum_ok']) == (2, 81, 'PASS', 1.0, True)
    # A corrupted advert still reads, with its checksum marked wrong.
    broken = bytearray(build_advert('198.51.100.31', '224.0.0.18', 80, 200, ['198.51.100.140'], version=3))
    broken[22] ^= 0xFF
    assert parse_packet(bytes(broken))['checksum_ok'] is False


@pytest.mark.parametrize('packet, message', [
    (b'\x60' + b'\0' * 39, 'not an IPv4 packet'),
    (build_advert('198.51.100.31', '224.0.0.18', 80, 1, ['198.51.100.140'])[:9] + b'\x06'
     + build_advert('198.51.100.31', '224.0.0.18', 80, 1, ['198.51.100.140'])[10:], 'not VRRP'),
    (build_advert('198.51.100.31', '224.0.0.18', 80, 1, ['198.51.100.140'])[:30], 'carries fewer'),
])
def test_anything_else_is_refused(packet, message):
    with pytest.raises(VrrpError, match=message):
        parse_packet(packet)


def test_routers_group_adverts_by_source_vrid_and_version():
    adverts = [parse_packet(build_advert(source, '224.0.0.18', vrid, priority, ['198.51.100.140'], version=version))
               for source, vrid, priority, version in (('198.51.100.21', 80, 100, 2), ('198.51.100.21', 80, 100, 2),
                                                       ('198.51.100.31', 80, 254, 3), ('198.51.100.31', 7, 9, 2))]
    found = routers(adverts)
    assert [(r['vrid'], r['source'], r['version'], r['adverts'], r['priority']) for r in found] == [
        (7, '198.51.100.31', 2, 1, 9), (80, '198.51.100.21', 2, 2, 100), (80, '198.51.100.31', 3, 1, 254)]
