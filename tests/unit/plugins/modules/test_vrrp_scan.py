# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""vrrp_scan on this machine's loopback interface: adverts sent there are heard and read; the module
refuses bad input in its own words."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.vrrp import build_advert, routers
from ansible_collections.ha_lb.keepalived_nginx.plugins.modules import vrrp_scan

ROOT = pytest.mark.skipif(os.geteuid() != 0, reason='raw sockets need root')


class Done(Exception):
    pass


def _send(packets, delay=0.3):
    """Send raw IPv4 packets to 127.0.0.1 after ``delay`` seconds, 50 ms apart."""
    def run():
        time.sleep(delay)
        sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        try:
            for packet in packets:
                sender.sendto(packet, ('127.0.0.1', 0))
                time.sleep(0.05)
        finally:
            sender.close()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


@ROOT
def test_adverts_on_the_interface_are_heard_for_the_duration():
    adverts = [build_advert('127.0.0.1', '127.0.0.1', 80, 9, ['127.0.0.50'], version=3, advert_int=0.1)] * 3
    adverts.append(build_advert('127.0.0.1', '127.0.0.1', 7, 200, ['127.0.0.51'], password='x'))
    thread = _send(adverts)
    started = time.monotonic()
    heard, packets = vrrp_scan.listen('lo', 1.5)
    thread.join()
    assert 1.4 <= time.monotonic() - started < 3
    assert packets >= 4
    found = routers(heard)
    assert [(r['vrid'], r['version'], r['adverts'], r['addresses']) for r in found] == [
        (7, 2, 1, ['127.0.0.51']), (80, 3, 3, ['127.0.0.50'])]
    assert found[0]['auth_type'] == 'PASS' and 'x' not in repr(found[0]['addresses'])


@pytest.mark.parametrize('args, message', [
    ({'interface': 'no-such-if0'}, 'interface=no-such-if0 does not exist on this host.'),
    ({'interface': 'lo', 'duration': 0}, 'duration=0.0: listen for more than 0 and at most 120 seconds.'),
    ({'interface': 'lo', 'duration': 0.1, 'arp': ['2001:db8::1']}, "arp: '2001:db8::1' is not an IPv4 address"),
])
def test_bad_input_fails_in_words(monkeypatch, args, message):
    def fail_json(self, **kwargs):
        raise Done(kwargs['msg'])
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(vrrp_scan, 'listen', lambda interface, duration: ([], 0))
    with patch_module_args(args), pytest.raises(Done, match=message.replace('(', r'\(').replace(')', r'\)')):
        vrrp_scan.main()
