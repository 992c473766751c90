# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure logic behind the vrrp_scan module: VRRP adverts (RFC 3768 version 2, RFC 5798 version 3
over IPv4) read from raw IPv4 packets, and the routers they describe. Nothing here opens a socket.
"""

from __future__ import annotations

import ipaddress
import struct

VRRP_PROTOCOL = 112
AUTH_TYPES = {0: 'none', 1: 'PASS', 2: 'AH'}


class VrrpError(ValueError):
    """A packet that is not a VRRP advert this parser reads."""


def checksum(data):
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def parse_packet(packet):
    """An IPv4 packet carrying a VRRP advert -> dict of the advert (never the authentication data).

    Keys: source, destination, ttl, version, type, vrid, priority, count, addresses, advert_int
    (seconds), auth_type (version 2), checksum_ok. Raises VrrpError for anything else.
    """
    if len(packet) < 20 or packet[0] >> 4 != 4:
        raise VrrpError('not an IPv4 packet')
    header = (packet[0] & 0x0F) * 4
    if packet[9] != VRRP_PROTOCOL:
        raise VrrpError('not VRRP (IP protocol %d)' % packet[9])
    source = str(ipaddress.IPv4Address(packet[12:16]))
    destination = str(ipaddress.IPv4Address(packet[16:20]))
    vrrp = packet[header:]
    if len(vrrp) < 8:
        raise VrrpError('VRRP header too short')
    version, kind = vrrp[0] >> 4, vrrp[0] & 0x0F
    if version not in (2, 3) or kind != 1:
        raise VrrpError('VRRP version %d type %d is no advert' % (version, kind))
    vrid, priority, count = vrrp[1], vrrp[2], vrrp[3]
    if len(vrrp) < 8 + 4 * count:
        raise VrrpError('VRRP advert announces %d addresses and carries fewer' % count)
    addresses = [str(ipaddress.IPv4Address(vrrp[8 + 4 * i:12 + 4 * i])) for i in range(count)]
    advert = {'source': source, 'destination': destination, 'ttl': packet[8], 'version': version, 'type': kind,
              'vrid': vrid, 'priority': priority, 'count': count, 'addresses': addresses}
    if version == 2:
        advert['auth_type'] = AUTH_TYPES.get(vrrp[4], str(vrrp[4]))
        advert['advert_int'] = float(vrrp[5])
        # Version 2 always carries 8 octets of authentication data, covered by the checksum.
        advert['checksum_ok'] = len(vrrp) >= 16 + 4 * count and checksum(vrrp[:16 + 4 * count]) == 0
    else:
        advert['advert_int'] = (struct.unpack('!H', vrrp[4:6])[0] & 0x0FFF) / 100.0
        length = 8 + 4 * count
        pseudo = packet[12:20] + struct.pack('!BBH', 0, VRRP_PROTOCOL, length)
        advert['checksum_ok'] = checksum(pseudo + vrrp[:length]) == 0
    return advert


def build_advert(source, destination, vrid, priority, addresses, version=2, advert_int=1.0, password=None):
    """An IPv4 packet with a VRRP advert (for tests and the lab's rogue sender), checksums filled in."""
    count = len(addresses)
    body = b''.join(ipaddress.IPv4Address(address).packed for address in addresses)
    if version == 2:
        auth = (password or '').encode()[:8].ljust(8, b'\0')
        head = struct.pack('!BBBBBBH', 0x21, vrid, priority, count, 1 if password is not None else 0,
                           int(advert_int), 0)
        vrrp = head + body + auth
        vrrp = vrrp[:6] + struct.pack('!H', checksum(vrrp)) + vrrp[8:]
    else:
        head = struct.pack('!BBBBHH', 0x31, vrid, priority, count, int(round(advert_int * 100)) & 0x0FFF, 0)
        vrrp = head + body
        pseudo = (ipaddress.IPv4Address(source).packed + ipaddress.IPv4Address(destination).packed
                  + struct.pack('!BBH', 0, VRRP_PROTOCOL, len(vrrp)))
        vrrp = vrrp[:6] + struct.pack('!H', checksum(pseudo + vrrp)) + vrrp[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0xC0, 20 + len(vrrp), 0, 0, 255, VRRP_PROTOCOL, 0,
                     ipaddress.IPv4Address(source).packed, ipaddress.IPv4Address(destination).packed)
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    return ip + vrrp


def routers(adverts):
    """Adverts -> one entry per router (source, VRID, version): its last priority, addresses, interval,
    how many adverts it sent, and whether each one's checksum was right."""
    found = {}
    for advert in adverts:
        key = (advert['source'], advert['vrid'], advert['version'])
        entry = found.setdefault(key, {'source': advert['source'], 'vrid': advert['vrid'],
                                       'version': advert['version'], 'adverts': 0, 'checksums_ok': True})
        entry.update(priority=advert['priority'], addresses=advert['addresses'], advert_int=advert['advert_int'],
                     destination=advert['destination'])
        if 'auth_type' in advert:
            entry['auth_type'] = advert['auth_type']
        entry['adverts'] += 1
        entry['checksums_ok'] = entry['checksums_ok'] and advert['checksum_ok']
    return sorted(found.values(), key=lambda entry: (entry['vrid'], entry['source']))
