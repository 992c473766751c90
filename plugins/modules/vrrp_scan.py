#!/usr/bin/python

# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vrrp_scan
short_description: List the VRRP routers heard on a network segment, and who answers ARP for given addresses
version_added: 1.2.0
description:
  - Listens on one interface for a bounded time and reports every VRRP router whose adverts arrive (IPv4,
    VRRP versions 2 and 3), with its virtual router id, source, priority, version, advert interval and addresses.
    Authentication data is never read into the result.
  - Joins the VRRP multicast group 224.0.0.18 on the interface for the scan. Unicast adverts reach only the host
    they are sent to, so a scan on one balancer hears the multicast routers of the segment and its own unicast peers.
  - With O(arp), asks the segment for each address (ARP requests from the interface) and reports the hardware
    addresses that answered, to find another host that already uses one of them.
  - Never changes anything on the host. Needs root (raw sockets).
author:
  - ha_lb maintainers (@ha-lb)
options:
  interface:
    description: The interface to listen on, and to send the ARP requests from.
    type: str
    required: true
  duration:
    description:
      - Seconds to listen. To hear every router, at least 3 x its advert interval plus its skew time
        (about 4 s for the usual advert interval of 1 s).
    type: float
    default: 4
  arp:
    description: IPv4 addresses (a prefix length is ignored) to ask the segment for.
    type: list
    elements: str
    default: []
notes:
  - Supports check mode (it changes nothing either way).
"""

EXAMPLES = r"""
- name: List the VRRP routers of the balancers' segment
  ha_lb.keepalived_nginx.vrrp_scan:
    interface: eth0
    duration: 4
    arp: [192.168.58.140/24]
  register: scan

- name: Show them
  ansible.builtin.debug:
    msg: "{{ scan.routers | map(attribute='vrid') | list }}"
"""

RETURN = r"""
routers:
  description: One entry per router heard (source address, VRID and version), sorted by VRID then source.
  returned: always
  type: list
  elements: dict
  contains:
    vrid:
      description: Virtual router id.
      type: int
      sample: 80
    source:
      description: The sender's address.
      type: str
      sample: 198.51.100.21
    destination:
      description: Where its last advert went (224.0.0.18 for multicast, a peer for unicast).
      type: str
      sample: 224.0.0.18
    version:
      description: VRRP version, 2 or 3.
      type: int
      sample: 2
    priority:
      description: Priority in its last advert.
      type: int
      sample: 100
    advert_int:
      description: Advert interval in seconds.
      type: float
      sample: 1.0
    addresses:
      description: The virtual addresses of its last advert.
      type: list
      elements: str
      sample: [198.51.100.140]
    auth_type:
      description: Version 2 only, the authentication type (V(none), V(PASS), V(AH)); never the password.
      type: str
      sample: PASS
    adverts:
      description: Adverts heard from it during the scan.
      type: int
      sample: 4
    checksums_ok:
      description: Whether every one of its adverts had a right checksum.
      type: bool
      sample: true
arp:
  description: Address -> the hardware addresses that answered ARP for it (empty list, nobody).
  returned: always
  type: dict
  sample: {198.51.100.140: ["02:00:00:00:00:21"]}
duration:
  description: Seconds listened.
  returned: always
  type: float
  sample: 4.0
packets:
  description: VRRP packets received (adverts and anything else that arrived on IP protocol 112).
  returned: always
  type: int
  sample: 4
"""

import fcntl
import ipaddress
import select
import socket
import struct
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.vrrp import (
    VRRP_PROTOCOL,
    VrrpError,
    parse_packet,
    routers,
)

VRRP_GROUP = '224.0.0.18'
ETH_P_ARP = 0x0806
SO_BINDTODEVICE = getattr(socket, 'SO_BINDTODEVICE', 25)


def listen(interface, duration):
    """The VRRP packets that reach ``interface`` within ``duration`` seconds: (adverts, packets)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, VRRP_PROTOCOL)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
        index = socket.if_nametoindex(interface)
        # struct ip_mreqn: the group, any local address, the interface's index.
        membership = socket.inet_aton(VRRP_GROUP) + socket.inet_aton('0.0.0.0') + struct.pack('@i', index)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        adverts, packets = [], 0
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return adverts, packets
            ready = select.select([sock], [], [], left)[0]
            if not ready:
                continue
            packets += 1
            try:
                adverts.append(parse_packet(sock.recv(65535)))
            except VrrpError:
                continue
    finally:
        sock.close()


def _own(interface):
    """The interface's hardware address and first IPv4 address (as bytes)."""
    with open('/sys/class/net/%s/address' % interface) as handle:
        mac = bytes.fromhex(handle.read().strip().replace(':', ''))
    # SIOCGIFADDR: the address sits at offset 20 of the struct ifreq that comes back.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        request = struct.pack('256s', interface.encode()[:15])
        address = fcntl.ioctl(probe.fileno(), 0x8915, request)[20:24]
    except OSError:
        address = b'\0\0\0\0'
    finally:
        probe.close()
    return mac, address


def ask_arp(interface, addresses, wait=1.0, tries=3):
    """address -> sorted hardware addresses that answered an ARP request for it from ``interface``."""
    answers = {address: set() for address in addresses}
    if not addresses:
        return {}
    mac, own_ip = _own(interface)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    try:
        sock.bind((interface, ETH_P_ARP))
        wanted = {ipaddress.IPv4Address(address).packed: address for address in addresses}
        for attempt in range(tries):
            for target in wanted:
                frame = (b'\xff' * 6 + mac + struct.pack('!H', ETH_P_ARP)
                         + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac + own_ip + b'\0' * 6 + target)
                sock.send(frame)
            deadline = time.monotonic() + wait / tries
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                ready = select.select([sock], [], [], left)[0]
                if not ready:
                    continue
                frame = sock.recv(65535)
                arp = frame[14:42]
                if len(arp) < 28 or struct.unpack('!H', arp[6:8])[0] != 2:
                    continue
                sender = arp[14:18]
                if sender in wanted:
                    answers[wanted[sender]].add(':'.join('%02x' % octet for octet in arp[8:14]))
    finally:
        sock.close()
    return {address: sorted(found) for address, found in answers.items()}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type='str', required=True),
            duration=dict(type='float', default=4),
            arp=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    interface = module.params['interface']
    duration = module.params['duration']
    if not 0 < duration <= 120:
        module.fail_json(msg='duration=%s: listen for more than 0 and at most 120 seconds.' % duration)
    try:
        socket.if_nametoindex(interface)
    except OSError:
        module.fail_json(msg='interface=%s does not exist on this host.' % interface)
    addresses = []
    for entry in module.params['arp']:
        try:
            addresses.append(str(ipaddress.IPv4Address(entry.split('/')[0].split()[0])))
        except (ValueError, IndexError):
            module.fail_json(msg='arp: %r is not an IPv4 address (address or address/prefix).' % entry)
    started = time.monotonic()
    try:
        adverts, packets = listen(interface, duration)
        arp = ask_arp(interface, addresses)
    except PermissionError:
        module.fail_json(msg='vrrp_scan needs root for its raw sockets: run it with become.')
    module.exit_json(changed=False, routers=routers(adverts), arp=arp, packets=packets,
                     duration=round(time.monotonic() - started, 3))


if __name__ == '__main__':
    main()
