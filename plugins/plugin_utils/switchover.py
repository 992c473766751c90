# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The planned switchover of the keepalived role: which VIPs move, to whom, and what keepalived says.

Internal to the collection and controller-only; standard library only.

A balancer in maintenance has a 1 in the maintenance file of an instance. keepalived tracks that file
with a weight of -253 (MAINTENANCE_WEIGHT), so the balancer's priority for the instance falls to 1, the
lowest there is: a preempting peer takes the VIP over as a higher-priority backup does (it keeps
answering until the peer has taken it, so no client waits), and the balancer stays a standby of last
resort. A 0 gives the priority back. The file lives on disk, so maintenance survives a reboot and a
run of site.yml, which never writes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAINTENANCE_WEIGHT = -253
STATES = ('away', 'back')
# What an instance name may be: it names a file and a keepalived track_file.
NAME_PATTERN = re.compile(r'^[A-Za-z0-9_.-]+$')

_SECTION = re.compile(r'^-+<\s*(.*?)\s*>-+$')
_INSTANCE = re.compile(r'^ VRRP Instance = (\S+)$')
_TRACK_FILE = re.compile(r'^ Track file = (\S+)$')
_FIELD = re.compile(r'^\s+(State|Effective priority|Priority|Status|File) = (.*)$')


def _int(value):
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def parse_data(text):
    """The VRRP states keepalived writes on its data signal (keepalived.data), as
    ``{'instances': {name: {state, priority, effective_priority}}, 'track_files': {name: {file, status}}}``.
    Only the 'VRRP Topology' and 'VRRP Track files' sections are read; every other line (an
    authentication password among them) is ignored."""
    instances, track_files = {}, {}
    section, current = None, None
    for line in str(text or '').splitlines():
        line = line.rstrip()
        found = _SECTION.match(line)
        if found:
            section, current = found.group(1), None
            continue
        if section == 'VRRP Topology':
            found = _INSTANCE.match(line)
            if found:
                current = instances.setdefault(found.group(1), {})
                continue
            found = _FIELD.match(line)
            if current is not None and found:
                key, value = found.groups()
                if key == 'State' and 'state' not in current:
                    current['state'] = value.strip()
                elif key == 'Priority' and 'priority' not in current:
                    current['priority'] = _int(value)
                elif key == 'Effective priority' and 'effective_priority' not in current:
                    current['effective_priority'] = _int(value)
        elif section == 'VRRP Track files':
            found = _TRACK_FILE.match(line)
            if found:
                current = track_files.setdefault(found.group(1), {})
                continue
            found = _FIELD.match(line)
            if current is not None and found:
                key, value = found.groups()
                if key == 'File' and 'file' not in current:
                    current['file'] = value.strip()
                elif key == 'Status' and 'status' not in current:
                    current['status'] = _int(value)
    return {'instances': instances, 'track_files': track_files}


def maintenance_track(instance_name):
    """The track_file name of an instance's maintenance file."""
    return 'maintenance_%s' % instance_name


def _nodes(instance):
    nodes = instance.get('nodes') if isinstance(instance, Mapping) else None
    return nodes if isinstance(nodes, Mapping) else {}


def _priority(node):
    value = _int(node.get('priority', 0)) if isinstance(node, Mapping) else None
    return value or 0


def _vips(instance):
    return [str(vip).split()[0] for vip in instance.get('virtual_ipaddresses') or [] if str(vip).strip()]


def plan(instances, host, state, selected=None):
    """What a switchover of ``host`` does to each of its instances.

    ``state`` 'away' puts the host in maintenance for the instances (``selected`` names, or every
    instance the host is a node of); 'back' takes it out. Returns ``{'moves': [...], 'errors': [...]}``;
    each move is ``{instance, vips, nopreempt, receiver}``: receiver is the node that takes the VIPs
    (away: the highest-priority other node; back: the host when it is the instance's preferred holder
    and the instance preempts, else None: the VIPs stay where they are).
    """
    errors, moves = [], []
    if state not in STATES:
        errors.append('keepalived_switchover_state is %r: use away (maintenance on) or back (maintenance off).'
                      % (state,))
    instances = [instance for instance in instances or [] if isinstance(instance, Mapping)]
    own = [instance for instance in instances if host in _nodes(instance)]
    names = [instance.get('name') for instance in own]
    selected = [str(name) for name in selected or []]
    unknown = [name for name in selected if name not in names]
    if not host:
        errors.append('keepalived_switchover_host is empty: name the balancer whose VIPs move '
                      '(-e switchover_host=<host>).')
    elif not own:
        errors.append('%s is a node of no instance of keepalived_instances: name a balancer of the VRRP cluster.'
                      % host)
    if unknown:
        errors.append('keepalived_switchover_instances names %s, which %s is no node of (its instances: %s).'
                      % (', '.join(unknown), host or '?', ', '.join(str(name) for name in names) or 'none'))
    if errors:
        return {'moves': [], 'errors': errors}
    for instance in own:
        if selected and instance.get('name') not in selected:
            continue
        nodes = _nodes(instance)
        others = sorted((name for name in nodes if name != host), key=lambda name: (-_priority(nodes[name]), name))
        nopreempt = bool(instance.get('nopreempt', False))
        if not others:
            errors.append('%s has no other node to take its VIPs: the switchover needs a peer.' % instance.get('name'))
            continue
        if state == 'away':
            receiver = others[0]
        else:
            preferred = _priority(nodes[host]) > max(_priority(nodes[name]) for name in others)
            receiver = host if preferred and not nopreempt else None
        moves.append({'instance': instance.get('name'), 'vips': _vips(instance), 'nopreempt': nopreempt,
                      'receiver': receiver})
    return {'moves': moves, 'errors': errors}


def check_vips(moves):
    """The moves' VIPs as the cluster check takes them: ``[{address, instance}]``."""
    return [{'address': vip, 'instance': move['instance']} for move in moves or [] for vip in move['vips']]


def in_maintenance(states, name):
    """The value of the instance's maintenance file as keepalived read it (0 when it has none)."""
    track = ((states or {}).get('track_files') or {}).get(maintenance_track(name)) or {}
    return track.get('status') or 0


def refusals(moves, host, states, holders):
    """Why the switchover must not go on, in the operator's words (an empty list: it may).

    ``states``: host -> parse_data() of the balancers (None when keepalived is not running there);
    ``holders``: VIP address -> the hosts that hold it now. Away: every receiver runs keepalived, is BACKUP (or already MASTER) for the
    instance and is not in maintenance itself; a nopreempt instance that the host holds is refused (a
    lowered priority does not make a nopreempt peer take over). Back: the host runs keepalived and is not
    FAULT."""
    problems = []
    for move in moves:
        receiver, name = move['receiver'], move['instance']
        if receiver is None:
            continue
        if states.get(receiver) is None:
            problems.append('%s: keepalived does not run on %s, which would take the VIPs; start it (site.yml) '
                            'first.' % (name, receiver))
            continue
        state = (states[receiver].get('instances') or {}).get(name)
        if state is None:
            problems.append('%s: keepalived on %s does not know the instance; run site.yml first.' % (name, receiver))
            continue
        if state.get('state') not in ('BACKUP', 'MASTER'):
            problems.append('%s: %s is %s, not BACKUP: it could not take the VIPs. Repair it first (its health check, '
                            'its interface).' % (name, receiver, state.get('state', 'in an unknown state')))
        if receiver != host and in_maintenance(states[receiver], name):
            problems.append('%s: %s is in maintenance itself; take it out (switchback.yml -e switchover_host=%s) '
                            'before putting %s in.' % (name, receiver, receiver, host))
        held_by_host = any(host in holders.get(vip.split('/')[0], []) for vip in move['vips'])
        if move['nopreempt'] and receiver != host and held_by_host:
            problems.append('%s is nopreempt: a lowered priority does not make %s take its VIPs from %s. Hand them '
                            'over with `systemctl restart keepalived` on %s (a graceful stop: the peer takes over '
                            'after its skew time), then run the switchover.' % (name, receiver, host, host))
    return problems
