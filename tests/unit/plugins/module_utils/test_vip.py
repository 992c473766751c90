# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import time

import pytest

from ansible_collections.ha_lb.keepalived_nginx.plugins.module_utils.vip import (
    VipError,
    default_state_file,
    find_vip,
    keepalived_view,
    parse_ip_addr,
    parse_ip_link,
    parse_state_text,
    parse_vip,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


# Captured with iproute2 6.1 (Debian 12) on veth interfaces in a network namespace:
# host0 up with a /32 VIP, secondary addresses and an alias label, IPv6 with dynamic,
# deprecated, noprefixroute and nodad flags; eth1 administratively down; eth2 up
# without carrier; va/vb a duplicate IPv6 address (dadfailed on va).
ADDR = fixture('ip_addr_lb.txt')
LINK = fixture('ip_link_lb.txt')
# The same host 0.3 s after the addresses were added: DAD still running.
ADDR_TENTATIVE = fixture('ip_addr_lb_tentative.txt')
# A systemd-nspawn guest: the veth peer lives in the host namespace (host0@if2).
ADDR_NSPAWN = fixture('ip_addr_nspawn.txt')
LINK_NSPAWN = fixture('ip_link_nspawn.txt')
LINK_NSPAWN_NOCARRIER = fixture('ip_link_nspawn_nocarrier.txt')


class TestParseVip:
    @pytest.mark.parametrize('text, address, prefix', [
        ('198.51.100.140', '198.51.100.140', None),
        ('198.51.100.140/24', '198.51.100.140', 24),
        (' 198.51.100.140/32 ', '198.51.100.140', 32),
        ('2001:db8:58:0:0::140/64', '2001:db8:58::140', 64),
        ('2001:DB8:58::140', '2001:db8:58::140', None),
    ])
    def test_valid(self, text, address, prefix):
        ip, prefixlen = parse_vip(text)
        assert str(ip) == address
        assert prefixlen == prefix

    @pytest.mark.parametrize('text, message', [
        ('', 'must not be empty'),
        ('lb-vip', 'not an IPv4 or IPv6 address'),
        ('198.51.100.300', 'not an IPv4 or IPv6 address'),
        ('198.51.100.140/33', 'exceeds 32'),
        ('2001:db8::1/129', 'exceeds 128'),
        ('198.51.100.140/x', 'invalid prefix'),
        ('198.51.100.140/', 'invalid prefix'),
    ])
    def test_invalid(self, text, message):
        with pytest.raises(VipError, match=message):
            parse_vip(text)


class TestParseIpAddr:
    def entries(self, output=ADDR):
        return {(e['interface'], e['address']): e for e in parse_ip_addr(output)}

    def test_every_line_parsed(self):
        assert len(parse_ip_addr(ADDR)) == len(ADDR.strip().splitlines())

    def test_primary_ipv4(self):
        e = self.entries()[('host0', '198.51.100.21')]
        assert e['family'] == 'ipv4'
        assert e['prefixlen'] == 24
        assert e['scope'] == 'global'
        assert e['secondary'] is False
        assert e['label'] == 'host0'
        assert e['flags'] == []
        assert e['usable'] is True

    def test_slash_32(self):
        e = self.entries()[('host0', '198.51.100.140')]
        assert e['prefixlen'] == 32
        assert e['secondary'] is False

    def test_secondary_and_alias_label(self):
        sec = self.entries()[('host0', '198.51.100.141')]
        alias = self.entries()[('host0', '198.51.100.142')]
        assert sec['secondary'] and sec['flags'] == ['secondary']
        assert alias['secondary'] and alias['label'] == 'host0:1'
        # The label is the alias, the interface stays host0.
        assert alias['interface'] == 'host0'

    def test_ipv6_flags(self):
        entries = self.entries()
        assert entries[('host0', '2001:db8:63::5')]['flags'] == ['dynamic']
        assert entries[('host0', '2001:db8:62::5')]['flags'] == ['deprecated', 'dynamic']
        assert entries[('host0', '2001:db8:61::5')]['flags'] == ['noprefixroute']
        assert entries[('host0', '2001:db8:58::140')]['flags'] == ['nodad']
        assert entries[('host0', '2001:db8:58::140')]['prefixlen'] == 128
        for key in [('host0', '2001:db8:63::5'), ('host0', '2001:db8:62::5'), ('host0', '2001:db8:61::5')]:
            assert entries[key]['usable'] is True
            assert entries[key]['label'] is None

    def test_ipv6_link_local_and_loopback(self):
        entries = self.entries()
        assert entries[('host0', 'fe80::80ed:f4ff:fe3b:5673')]['scope'] == 'link'
        assert entries[('lo', '::1')]['scope'] == 'host'
        assert entries[('lo', '127.0.0.1')]['prefixlen'] == 8

    def test_dadfailed_and_tentative_not_usable(self):
        entries = self.entries()
        failed = entries[('va', '2001:db8:60::1')]
        assert failed['flags'] == ['dadfailed', 'tentative']
        assert failed['usable'] is False
        assert entries[('vb', '2001:db8:60::1')]['usable'] is True
        assert entries[('eth1', '2001:db8:59::1')]['usable'] is False

    def test_tentative_during_dad(self):
        entries = self.entries(ADDR_TENTATIVE)
        assert entries[('host0', '2001:db8:58::21')]['usable'] is False
        assert entries[('host0', '2001:db8:62::5')]['flags'] == ['deprecated', 'tentative', 'dynamic']
        # nodad addresses never go through DAD.
        assert entries[('host0', '2001:db8:58::140')]['usable'] is True

    def test_point_to_point_peer_prefix(self):
        line = '5: tun0    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\\       valid_lft forever preferred_lft forever'
        (entry,) = parse_ip_addr(line)
        assert entry['address'] == '10.8.0.1'
        assert entry['prefixlen'] == 32
        assert entry['label'] == 'tun0'

    def test_broadcast_and_non_address_lines(self):
        text = ('4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever\n'
                '4: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400\n'
                '\n')
        (entry,) = parse_ip_addr(text)
        assert entry['address'] == '192.0.2.2'
        assert entry['flags'] == []

    def test_garbage_address_raises(self):
        with pytest.raises(VipError, match='cannot parse address'):
            parse_ip_addr('3: host0    inet not-an-ip/24 scope global host0')


class TestParseIpLink:
    def test_states(self):
        links = parse_ip_link(LINK)
        assert links['host0']['up'] is True
        assert links['host0']['operstate'] == 'UP'
        assert links['lo']['up'] is True
        assert links['lo']['operstate'] == 'UNKNOWN'
        assert links['eth1']['admin_up'] is False
        assert links['eth1']['up'] is False
        assert links['eth1']['operstate'] == 'DOWN'
        assert links['eth2']['admin_up'] is True
        assert links['eth2']['lower_up'] is False
        assert links['eth2']['operstate'] == 'LOWERLAYERDOWN'
        assert 'NO-CARRIER' in links['eth2']['flags']

    def test_veth_peer_suffix_dropped(self):
        links = parse_ip_link(LINK_NSPAWN)
        assert sorted(links) == ['host0', 'lo']
        assert links['host0']['index'] == 3
        assert links['host0']['up'] is True
        assert parse_ip_link(LINK_NSPAWN_NOCARRIER)['host0']['up'] is False


class TestFindVip:
    def test_held_slash_32(self):
        r = find_vip('198.51.100.140', ADDR, LINK)
        assert r['held'] is True and r['configured'] is True
        assert r['interface'] == 'host0'
        assert r['prefixlen'] == 32
        assert r['prefix_match'] is None
        assert r['reason'] == '198.51.100.140/32 is held on host0'

    def test_prefix_match(self):
        assert find_vip('198.51.100.140/32', ADDR, LINK)['prefix_match'] is True
        r = find_vip('198.51.100.140/24', ADDR, LINK)
        assert r['held'] is True
        assert r['prefix_match'] is False

    def test_secondary_alias_counts_for_its_interface(self):
        r = find_vip('198.51.100.142/24', ADDR, LINK, interface='host0')
        assert r['held'] is True
        assert r['matches'][0]['label'] == 'host0:1'

    def test_not_configured(self):
        r = find_vip('198.51.100.199', ADDR, LINK)
        assert r['held'] is False and r['configured'] is False
        assert r['interface'] is None and r['prefixlen'] is None
        assert r['matches'] == []
        assert r['reason'] == '198.51.100.199 is not configured'

    def test_other_interface_does_not_count(self):
        r = find_vip('198.51.100.140', ADDR, LINK, interface='eth2')
        assert r['held'] is False and r['configured'] is False
        assert r['reason'] == '198.51.100.140 is not configured on eth2'

    def test_admin_down_interface(self):
        r = find_vip('198.51.100.150', ADDR, LINK)
        assert r['configured'] is True and r['held'] is False
        assert r['interface'] == 'eth1'
        assert 'administratively down' in r['reason']

    def test_no_carrier_interface(self):
        r = find_vip('198.51.100.160', ADDR, LINK)
        assert r['configured'] is True and r['held'] is False
        assert 'no carrier (state LOWERLAYERDOWN)' in r['reason']

    def test_nspawn_guest(self):
        r = find_vip('198.51.100.140/24', ADDR_NSPAWN, LINK_NSPAWN)
        assert r['held'] is True and r['interface'] == 'host0' and r['prefix_match'] is True
        r = find_vip('198.51.100.140/24', ADDR_NSPAWN, LINK_NSPAWN_NOCARRIER)
        assert r['held'] is False and r['configured'] is True

    def test_ipv6_normalised(self):
        r = find_vip('2001:DB8:58:0::140/128', ADDR, LINK)
        assert r['held'] is True and r['family'] == 'ipv6'
        assert r['address'] == '2001:db8:58::140'
        assert r['prefix_match'] is True

    def test_ipv6_deprecated_still_held(self):
        # A deprecated address still answers for existing and incoming traffic.
        assert find_vip('2001:db8:62::5', ADDR, LINK)['held'] is True

    def test_ipv6_dadfailed_vs_healthy_copy(self):
        r = find_vip('2001:db8:60::1', ADDR, LINK)
        assert r['held'] is True
        assert r['interface'] == 'vb'
        assert [(m['interface'], m['held']) for m in r['matches']] == [('vb', True), ('va', False)]
        r = find_vip('2001:db8:60::1', ADDR, LINK, interface='va')
        assert r['held'] is False and r['configured'] is True
        assert 'dadfailed/tentative' in r['reason']

    def test_ipv6_tentative_not_held(self):
        r = find_vip('2001:db8:58::21', ADDR_TENTATIVE, LINK)
        assert r['configured'] is True and r['held'] is False
        assert 'tentative' in r['reason']
        assert find_vip('2001:db8:58::21', ADDR, LINK)['held'] is True

    def test_link_missing_from_link_output(self):
        r = find_vip('198.51.100.140', ADDR, LINK_NSPAWN.replace('host0', 'other'))
        assert r['held'] is False
        assert 'missing from ip link output' in r['reason']

    def test_without_link_output_assumes_up(self):
        assert find_vip('198.51.100.150', ADDR)['held'] is True

    def test_ipv4_does_not_match_ipv6_text(self):
        assert find_vip('::ffff:198.51.100.140', ADDR, LINK)['configured'] is False


class TestStateText:
    @pytest.mark.parametrize('text, state', [
        ('MASTER\n', 'MASTER'),
        ('backup', 'BACKUP'),
        ('INSTANCE VI_1 MASTER 100\n', 'MASTER'),
        ('INSTANCE "VI_1" FAULT 100\n', 'FAULT'),
        ('INSTANCE VI_1 BACKUP 50\nINSTANCE VI_1 MASTER 50\n\n', 'MASTER'),
        ('GROUP G1 STOP\n', 'STOP'),
        ('', None),
        ('garbage here\n', None),
    ])
    def test_parse(self, text, state):
        assert parse_state_text(text) == state


def make_proc(tmp_path, processes, btime=1000):
    """A fake /proc: processes is {pid: (comm, state, starttime_ticks)}."""
    proc = tmp_path / 'proc'
    proc.mkdir()
    (proc / 'stat').write_text('cpu  1 2 3\nbtime %d\nprocesses 10\n' % btime)
    for pid, (comm, state, start) in processes.items():
        d = proc / str(pid)
        d.mkdir()
        (d / 'comm').write_text(comm + '\n')
        fields = [state] + ['0'] * 18 + [str(start)] + ['0'] * 30
        (d / 'stat').write_text('%d (%s) %s\n' % (pid, comm, ' '.join(fields)))
    return str(proc)


class TestKeepalivedView:
    def test_running_with_fresh_state_file(self, tmp_path):
        proc = make_proc(tmp_path, {812: ('keepalived', 'S', 100), 813: ('keepalived', 'S', 101)})
        (tmp_path / 'keepalived.pid').write_text('812\n')
        (tmp_path / 'vrrp.pid').write_text('813\n')
        state = tmp_path / 'VI_1.state'
        state.write_text('INSTANCE VI_1 MASTER 100\n')
        view = keepalived_view('VI_1', str(state), str(tmp_path / 'keepalived.pid'),
                               str(tmp_path / 'vrrp.pid'), proc, now=time.time())
        assert view['running'] is True and view['pid'] == 812 and view['found_by'] == 'pid_file'
        assert view['vrrp_pid'] == 813
        assert view['vrrp_state'] == 'MASTER'
        assert view['state_source'] == 'state_file'
        assert 0 <= view['state_file_age'] < 60

    def test_stale_state_file_from_earlier_run(self, tmp_path):
        # keepalived started at btime + 100 s; the file is from long before.
        proc = make_proc(tmp_path, {900: ('keepalived', 'S', 100 * os.sysconf('SC_CLK_TCK'))}, btime=int(time.time()) - 50)
        (tmp_path / 'keepalived.pid').write_text('900')
        state = tmp_path / 'VI_1.state'
        state.write_text('MASTER\n')
        old = time.time() - 3600
        os.utime(str(state), (old, old))
        view = keepalived_view('VI_1', str(state), str(tmp_path / 'keepalived.pid'),
                               str(tmp_path / 'vrrp.pid'), proc)
        assert view['running'] is True
        assert view['state_file_state'] == 'MASTER'
        assert view['vrrp_state'] == 'unknown'
        assert view['state_source'] == 'stale_state_file'
        assert view['vrrp_pid'] is None

    def test_killed_daemon_leaves_pid_file(self, tmp_path):
        # SIGKILL leaves the pid file and the last state behind; the pid now names another program.
        proc = make_proc(tmp_path, {812: ('bash', 'S', 5)})
        (tmp_path / 'keepalived.pid').write_text('812\n')
        state = tmp_path / 'VI_1.state'
        state.write_text('MASTER\n')
        view = keepalived_view('VI_1', str(state), str(tmp_path / 'keepalived.pid'),
                               str(tmp_path / 'vrrp.pid'), proc)
        assert view['running'] is False and view['pid'] is None
        assert view['state_file_state'] == 'MASTER'
        assert view['vrrp_state'] == 'STOP'
        assert view['state_source'] == 'not_running'

    def test_found_in_process_list_without_pid_file(self, tmp_path):
        proc = make_proc(tmp_path, {77: ('keepalived', 'Z', 1), 78: ('keepalived', 'S', 1), 5: ('nginx', 'S', 1)})
        view = keepalived_view(None, None, str(tmp_path / 'missing.pid'), str(tmp_path / 'vrrp.pid'), proc)
        assert view['running'] is True and view['pid'] == 78 and view['found_by'] == 'process_list'
        assert view['vrrp_state'] == 'unknown' and view['state_source'] is None

    def test_running_without_state_file(self, tmp_path):
        proc = make_proc(tmp_path, {10: ('keepalived', 'S', 1)})
        (tmp_path / 'keepalived.pid').write_text('10')
        view = keepalived_view('VI_1', str(tmp_path / 'nope.state'), str(tmp_path / 'keepalived.pid'),
                               str(tmp_path / 'vrrp.pid'), proc)
        assert view['vrrp_state'] == 'unknown'
        assert view['state_file_state'] is None

    def test_garbage_pid_file(self, tmp_path):
        proc = make_proc(tmp_path, {})
        (tmp_path / 'keepalived.pid').write_text('not a pid')
        view = keepalived_view(None, None, str(tmp_path / 'keepalived.pid'), str(tmp_path / 'vrrp.pid'), proc)
        assert view['running'] is False and view['vrrp_state'] == 'STOP'


def test_default_state_file():
    assert default_state_file('VI_1') == '/run/keepalived/VI_1.state'
    assert default_state_file(None) is None
    with pytest.raises(VipError):
        default_state_file('../etc/passwd')


class TestLoopbackCopies:
    """keepalived_loopback_vips: every balancer has the VIP on lo; only the master on host0."""

    # Captured with iproute2 6.1 in a network namespace: the VIP as /32 and /128 on lo,
    # host0 up; the master's copy adds the VIP/24 on host0.
    BACKUP = fixture('ip_addr_loopback_backup.txt')
    MASTER = fixture('ip_addr_loopback_master.txt')
    LINKS = fixture('ip_link_loopback_backup.txt')

    def test_backup_with_only_a_loopback_copy_does_not_hold_it(self):
        result = find_vip('198.51.100.140/24', self.BACKUP, self.LINKS)
        assert result['held'] is False
        assert result['configured'] is False
        assert result['loopback'] is True
        assert result['prefix_match'] is None
        assert 'only on the loopback interface lo' in result['reason']

    def test_master_holds_it_on_the_vrrp_interface(self):
        result = find_vip('198.51.100.140/24', self.MASTER, self.LINKS)
        assert result['held'] is True
        assert result['interface'] == 'host0'
        assert result['prefix_match'] is True
        assert result['loopback'] is True

    def test_ipv6_loopback_copy_does_not_hold_it(self):
        result = find_vip('2001:db8:58::140', self.BACKUP, self.LINKS)
        assert result['held'] is False and result['loopback'] is True

    def test_loopback_recognised_by_name_without_link_output(self):
        result = find_vip('198.51.100.140', self.BACKUP)
        assert result['held'] is False and result['loopback'] is True

    def test_asking_for_lo_explicitly_still_is_not_holding(self):
        result = find_vip('198.51.100.140', self.BACKUP, self.LINKS, interface='lo')
        assert result['held'] is False
