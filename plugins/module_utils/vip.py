# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure logic behind the vip_owner module.

Parses ``ip -o addr show`` and ``ip -o link show`` output, decides whether a
virtual IP is held (configured on an interface that is up, and not a
tentative or DAD-failed IPv6 address), and reads keepalived's own view of
itself from pid files and a notify-script state file. Nothing here runs a
command or changes the host; callers pass text and paths in.
"""

from __future__ import annotations

import ipaddress
import os
import re

# Address flags that mean the kernel will not use an IPv6 address yet (or ever).
UNUSABLE_FLAGS = frozenset(('tentative', 'dadfailed'))

VRRP_STATES = ('MASTER', 'BACKUP', 'FAULT', 'STOP', 'DELETED')

# "3: host0    inet 198.51.100.140/32 scope global host0\       valid_lft ..."
_ADDR_RE = re.compile(
    r'^(?P<index>\d+):\s+(?P<ifname>\S+)\s+(?P<family>inet6?)\s+(?P<cidr>\S+)(?P<rest>.*)$'
)
# "3: host0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ... state UP mode DEFAULT ..."
_LINK_RE = re.compile(
    r'^(?P<index>\d+):\s+(?P<ifname>[^:\s]+):\s+<(?P<flags>[^>]*)>(?P<rest>.*)$'
)
_OPERSTATE_RE = re.compile(r'\bstate\s+(\S+)')


class VipError(ValueError):
    """A VIP or a piece of command output could not be understood."""


def parse_vip(vip):
    """Parse ``address`` or ``address/prefix`` into ``(ip_address, prefixlen or None)``.

    Raises VipError with a message suitable for a user on bad input.
    """
    text = str(vip).strip()
    if not text:
        raise VipError('vip must not be empty')
    address, sep, prefix = text.partition('/')
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise VipError('vip %r is not an IPv4 or IPv6 address (expected address or address/prefix)' % text)
    if not sep:
        return ip, None
    if not prefix.isdigit():
        raise VipError('vip %r has an invalid prefix length %r' % (text, prefix))
    prefixlen = int(prefix)
    if prefixlen > ip.max_prefixlen:
        raise VipError('vip %r: prefix length %d exceeds %d for IPv%d'
                       % (text, prefixlen, ip.max_prefixlen, ip.version))
    return ip, prefixlen


def _strip_scope_id(text):
    # "fe80::1%host0" style never appears in ip(8) output, but keep parsing robust.
    return text.split('%', 1)[0]


def parse_ip_addr(output):
    """Parse ``ip -o addr show`` output into a list of address dicts.

    Each dict: index, interface, family ('ipv4'/'ipv6'), address, prefixlen,
    scope, flags (list of words such as secondary, tentative, dadfailed,
    dynamic, noprefixroute, deprecated, nodad), secondary, label
    (IPv4 label such as 'host0:1', else None), usable (False for tentative or
    dadfailed addresses; link state is judged separately).
    Lines that are not address lines are ignored; a line that looks like one
    but cannot be parsed raises VipError.
    """
    entries = []
    for raw in output.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _ADDR_RE.match(line)
        if not m:
            continue
        cidr = _strip_scope_id(m.group('cidr'))
        # A peer address ("inet 10.0.0.1 peer 10.0.0.2/32") puts the prefix on the peer.
        address, _sep, prefix = cidr.partition('/')
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise VipError('cannot parse address %r in line: %s' % (cidr, line))
        # ip(8) ends the address part at the backslash that -o uses for newlines.
        rest = m.group('rest').split('\\', 1)[0]
        words = rest.split()
        peer_prefix = None
        scope = None
        flags = []
        label = None
        i = 0
        while i < len(words):
            word = words[i]
            if word in ('brd', 'peer', 'scope', 'metric', 'proto') and i + 1 < len(words):
                value = words[i + 1]
                if word == 'scope':
                    scope = value
                elif word == 'peer':
                    peer_prefix = value.partition('/')[2] or None
                i += 2
                continue
            flags.append(word)
            i += 1
        prefixlen = prefix or peer_prefix
        if prefixlen is None:
            prefixlen = ip.max_prefixlen
        elif not str(prefixlen).isdigit():
            raise VipError('cannot parse prefix of %r in line: %s' % (cidr, line))
        ifname = m.group('ifname')
        if ip.version == 4 and flags and flags[-1].split(':', 1)[0] == ifname:
            # The last word of an IPv4 line is its label: the interface name
            # itself, or an alias such as host0:1.
            label = flags.pop()
        entries.append({
            'index': int(m.group('index')),
            'interface': ifname,
            'family': 'ipv4' if ip.version == 4 else 'ipv6',
            'address': str(ip),
            'prefixlen': int(prefixlen),
            'scope': scope,
            'flags': flags,
            'secondary': 'secondary' in flags,
            'label': label,
            'usable': not UNUSABLE_FLAGS.intersection(flags),
        })
    return entries


def parse_ip_link(output):
    """Parse ``ip -o link show`` output into ``{ifname: link dict}``.

    The link dict holds index, interface, flags (list), operstate, admin_up
    (UP flag), lower_up (LOWER_UP flag: carrier) and up (both). The ``@peer``
    suffix of veth names (``host0@if2``) is dropped so names match ``ip addr``.
    """
    links = {}
    for raw in output.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _LINK_RE.match(line)
        if not m:
            continue
        ifname = m.group('ifname').split('@', 1)[0]
        flags = [f for f in m.group('flags').split(',') if f]
        state = _OPERSTATE_RE.search(m.group('rest').split('\\', 1)[0])
        admin_up = 'UP' in flags
        lower_up = 'LOWER_UP' in flags
        links[ifname] = {
            'index': int(m.group('index')),
            'interface': ifname,
            'flags': flags,
            'operstate': state.group(1) if state else None,
            'admin_up': admin_up,
            'lower_up': lower_up,
            'up': admin_up and lower_up,
        }
    return links


def is_loopback(ifname, link=None):
    """Whether an interface is a loopback one (from its ip link flags, or its name)."""
    if link is not None:
        return 'LOOPBACK' in link['flags']
    return ifname == 'lo'


def find_vip(vip, addr_output, link_output=None, interface=None):
    """Answer "does this host hold the VIP?" from ``ip -o addr`` / ``ip -o link`` text.

    ``vip`` is an address or address/prefix (string). ``interface`` restricts
    the search to one interface (aliases such as host0:1 belong to host0).
    Without ``link_output`` the link is assumed up.

    Returns a dict:
      address, family, requested_prefixlen: the parsed VIP;
      configured: the address is on some (matching) non-loopback interface, in any state;
      loopback: a copy is on a loopback interface (answers, never announced);
      held: it is configured on a non-loopback interface that is up with carrier
        and the address is usable (not tentative / dadfailed);
      interface, prefixlen: where it is held (or merely configured, if not held);
      prefix_match: None when no prefix was asked for, else whether it matches;
      matches: every matching address entry, each with link details and held;
      reason: one sentence a user can read.
    """
    ip, requested_prefixlen = parse_vip(vip)
    links = parse_ip_link(link_output) if link_output is not None else None
    matches = []
    for entry in parse_ip_addr(addr_output):
        if entry['address'] != str(ip):
            continue
        if interface and entry['interface'] != interface:
            continue
        match = dict(entry)
        link = links.get(entry['interface']) if links is not None else None
        if links is None:
            link_up = True
        else:
            link_up = bool(link and link['up'])
        match['link'] = link
        match['link_up'] = link_up
        # A loopback copy answers traffic that reaches the host but never attracts
        # any (ARP and neighbour discovery do not announce it): it is not holding the VIP.
        match['loopback'] = is_loopback(entry['interface'], link)
        match['held'] = link_up and entry['usable'] and not match['loopback']
        matches.append(match)

    held = [m for m in matches if m['held']]
    announced = [m for m in matches if not m['loopback']]
    best = held[0] if held else (announced[0] if announced else (matches[0] if matches else None))
    result = {
        'address': str(ip),
        'family': 'ipv4' if ip.version == 4 else 'ipv6',
        'requested_prefixlen': requested_prefixlen,
        'configured': bool(announced),
        'loopback': any(m['loopback'] for m in matches),
        'held': bool(held),
        'interface': best['interface'] if best else None,
        'prefixlen': best['prefixlen'] if best else None,
        'prefix_match': None,
        'matches': matches,
    }
    if best is not None and requested_prefixlen is not None and not best['loopback']:
        result['prefix_match'] = best['prefixlen'] == requested_prefixlen
    result['reason'] = _reason(result, best, interface)
    return result


def _reason(result, best, interface):
    where = ' on %s' % interface if interface else ''
    if best is None:
        return '%s is not configured%s' % (result['address'], where)
    if best['loopback']:
        return '%s is only on the loopback interface %s (answered there, announced by the VRRP master only)' % (
            result['address'], best['interface'])
    if result['held']:
        return '%s/%s is held on %s' % (result['address'], best['prefixlen'], best['interface'])
    problems = []
    if not best['link_up']:
        link = best['link']
        if link is None:
            problems.append('interface %s is missing from ip link output' % best['interface'])
        elif not link['admin_up']:
            problems.append('interface %s is administratively down' % best['interface'])
        else:
            problems.append('interface %s has no carrier (state %s)' % (best['interface'], link['operstate']))
    bad_flags = sorted(UNUSABLE_FLAGS.intersection(best['flags']))
    if bad_flags:
        problems.append('the address is %s' % '/'.join(bad_flags))
    return '%s is configured on %s but not usable: %s' % (
        result['address'], best['interface'], '; '.join(problems))


# ---------------------------------------------------------------------------
# keepalived's view
# ---------------------------------------------------------------------------

def read_pid_file(path):
    """Return the pid in ``path`` as int, or None if missing/empty/garbage."""
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except (IOError, OSError):
        return None
    first = text.split()[0] if text else ''
    return int(first) if first.isdigit() else None


def process_name(pid, proc_root='/proc'):
    """Return the command name (comm) of ``pid``, or None if no such process."""
    try:
        with open(os.path.join(proc_root, str(pid), 'comm')) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def _is_zombie(pid, proc_root):
    try:
        with open(os.path.join(proc_root, str(pid), 'stat')) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return True
    # Field 3, after the parenthesised comm which may contain spaces.
    return stat.rpartition(')')[2].split()[:1] == ['Z']


def find_processes(name, proc_root='/proc'):
    """Return sorted pids whose comm equals ``name`` (zombies excluded)."""
    pids = []
    try:
        entries = os.listdir(proc_root)
    except OSError:
        return pids
    for entry in entries:
        if entry.isdigit() and process_name(entry, proc_root) == name and not _is_zombie(entry, proc_root):
            pids.append(int(entry))
    return sorted(pids)


def process_start_epoch(pid, proc_root='/proc', clock_ticks=None):
    """Wall-clock start time of ``pid`` (seconds since the epoch) or None."""
    try:
        with open(os.path.join(proc_root, str(pid), 'stat')) as handle:
            fields = handle.read().rpartition(')')[2].split()
        with open(os.path.join(proc_root, 'stat')) as handle:
            btime = None
            for line in handle:
                if line.startswith('btime '):
                    btime = int(line.split()[1])
                    break
    except (IOError, OSError, ValueError, IndexError):
        return None
    if btime is None or len(fields) < 20:
        return None
    if clock_ticks is None:
        clock_ticks = os.sysconf('SC_CLK_TCK')
    # fields[0] is the state (field 3), so starttime (field 22) is fields[19].
    return btime + int(fields[19]) / float(clock_ticks)


def parse_state_text(text):
    """Extract a VRRP state from state-file text.

    Accepts a bare state ("MASTER") or the arguments keepalived passes to a
    notify script joined by spaces ("INSTANCE VI_1 MASTER 100"); the last
    non-empty line wins. Returns the upper-case state or None.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    for word in lines[-1].replace('"', ' ').split():
        if word.upper() in VRRP_STATES:
            return word.upper()
    return None


def keepalived_view(instance=None, state_file=None, pid_file='/run/keepalived.pid',
                    vrrp_pid_file='/run/vrrp.pid', proc_root='/proc', now=None):
    """keepalived's own view, read-only: is it running and which VRRP state an instance is in.

    ``state_file`` is written by a notify script (last line: a state, or the
    notify arguments). Its state is trusted only while keepalived runs and
    the file is newer than the running keepalived; otherwise vrrp_state is
    'STOP' (not running) or 'unknown' (no file, unreadable or stale).
    """
    pid = read_pid_file(pid_file)
    if pid is not None and process_name(pid, proc_root) != 'keepalived':
        pid = None
    found_by = 'pid_file' if pid is not None else None
    if pid is None:
        pids = find_processes('keepalived', proc_root)
        if pids:
            pid = pids[0]
            found_by = 'process_list'
    vrrp_pid = read_pid_file(vrrp_pid_file)
    if vrrp_pid is not None and process_name(vrrp_pid, proc_root) != 'keepalived':
        vrrp_pid = None

    view = {
        'running': pid is not None,
        'pid': pid,
        'found_by': found_by,
        'vrrp_pid': vrrp_pid,
        'instance': instance,
        'state_file': state_file,
        'state_file_state': None,
        'state_file_age': None,
        'vrrp_state': 'unknown',
        'state_source': None,
    }
    if state_file:
        try:
            with open(state_file) as handle:
                text = handle.read()
            mtime = os.stat(state_file).st_mtime
        except (IOError, OSError):
            text, mtime = None, None
        if text is not None:
            view['state_file_state'] = parse_state_text(text)
            if now is not None:
                view['state_file_age'] = round(max(0.0, now - mtime), 3)
            if view['running'] and view['state_file_state']:
                started = process_start_epoch(pid, proc_root)
                # A file older than the running daemon was left by an earlier run.
                if started is None or mtime >= started - 1.0:
                    view['vrrp_state'] = view['state_file_state']
                    view['state_source'] = 'state_file'
                else:
                    view['state_source'] = 'stale_state_file'
    if not view['running']:
        view['vrrp_state'] = 'STOP'
        view['state_source'] = 'not_running'
    return view


def default_state_file(instance, directory='/run/keepalived'):
    """Path a notify script writes for ``instance``: <directory>/<instance>.state."""
    if not instance:
        return None
    if '/' in instance or instance in ('.', '..'):
        raise VipError('instance name %r cannot be used in a file name' % instance)
    return os.path.join(directory, '%s.state' % instance)
