# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A fleet of balancer pairs in one inventory: the checks that span pairs, and VRIDs chosen for them.

A pair is the balancers that share a ``keepalived_group`` (one group per pair; a one-pair inventory
is the fleet of its ``lb`` group). Each pair may name its layer-2 domain, ``keepalived_l2_domain``:
VRRP routers that hear each other must not share a VRID, so VRIDs are unique within a domain (for
each IP version: VRRP for IPv4 and for IPv6 are separate protocols). Pairs that name no domain
share one, the safe assumption.

``fleet(data)`` takes, for every balancer of the inventory (not only those of the run)::

    balancers  {host: {pair, l2_domain, instances, services, listen_address, listen_port}}
    play_hosts the hosts of the run
    allow_partial_pair  true to accept a run on part of a pair (``--limit`` one balancer)
    reserved_vrids  VRIDs never chosen for an instance without one (``1-9`` ranges or numbers)

and returns ``{pairs, vrids, errors}``: each pair's members, domain, VIPs and instances' VRIDs
(given or chosen), the chosen VRIDs as ``{pair: {instance: vrid}}``, and every problem, in words
that name the variable and the fix. Nothing here reads a host.
"""

from __future__ import annotations

import hashlib
import math
import re

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.preflight import (
    _list, _mapping, parse_vip as _vip,
)

DEFAULT_DOMAIN = 'default'
VRID_RANGE = range(1, 256)
_RANGE = re.compile(r'^\s*(\d+)\s*-\s*(\d+)\s*$')


def _vrid(value):
    text = str(value).strip() if value is not None else ''
    return int(text) if text.isdigit() and int(text) in VRID_RANGE else None


def reserved_set(values):
    """``[1, '200-255']`` -> the set of VRIDs; raises ValueError naming a bad entry."""
    out = set()
    for value in _list(values):
        match = _RANGE.match(str(value))
        if match:
            low, high = int(match.group(1)), int(match.group(2))
        elif str(value).strip().isdigit():
            low = high = int(str(value).strip())
        else:
            raise ValueError(value)
        if not (1 <= low <= high <= 255):
            raise ValueError(value)
        out.update(range(low, high + 1))
    return out


def _family(instance):
    """4 or 6 from the instance's first VIP (an instance holds one family; the role checks that)."""
    for vip in _list(_mapping(instance).get('virtual_ipaddresses')):
        address = _vip(vip)
        if address is not None:
            return address.version
    return 4


def candidates(pair, instance, free):
    """The order in which a pair's instance tries the VRIDs of ``free``: a start and a step drawn from a
    hash of both names (double hashing), so that it depends on no other pair, and two instances that
    want the same VRID go on to unrelated ones instead of queueing up on the next."""
    count = len(free)
    if not count:
        return []
    digest = hashlib.sha256(('%s/%s' % (pair, instance)).encode()).digest()
    start = int.from_bytes(digest[:4], 'big') % count
    step = 1 + int.from_bytes(digest[4:8], 'big') % max(count - 1, 1)
    while math.gcd(step, count) != 1:
        step += 1
    return [free[(start + k * step) % count] for k in range(count)]


def _pairs(balancers):
    pairs = {}
    for host in sorted(balancers):
        entry = _mapping(balancers[host])
        pairs.setdefault(str(entry.get('pair') or 'lb'), []).append(host)
    return pairs


def _split_errors(pairs, play_hosts, allow_partial):
    if allow_partial:
        return []
    errors = []
    for pair, members in sorted(pairs.items()):
        inside = [host for host in members if host in play_hosts]
        outside = [host for host in members if host not in play_hosts]
        if inside and outside:
            errors.append(
                'The run splits the pair %s: %s %s in it, %s %s not (--limit). A pair\'s checks and its rolling '
                'update need every balancer of the pair: limit the run to whole pairs (--limit %s), or set '
                'keepalived_allow_partial_pair=true to run on part of a pair (its checks then compare only the '
                'balancers in the run, and a balancer holding VIPs is updated in place).'
                % (pair, ', '.join(inside), 'is' if len(inside) == 1 else 'are', ', '.join(outside),
                   'is' if len(outside) == 1 else 'are', pair))
    return errors


def _domain_errors(pairs, balancers):
    errors = []
    domains = {}
    for pair, members in sorted(pairs.items()):
        seen = sorted({str(_mapping(balancers[host]).get('l2_domain') or DEFAULT_DOMAIN) for host in members})
        if len(seen) > 1:
            errors.append('keepalived_l2_domain differs between the balancers of the pair %s (%s): the balancers of a '
                          'pair share one layer-2 network; set one keepalived_l2_domain for the pair (its group_vars).'
                          % (pair, ', '.join(seen)))
        domains[pair] = seen[0]
    return domains, errors


def _vip_errors(pair_vips):
    errors = []
    owners = {}
    for pair in sorted(pair_vips):
        for address in pair_vips[pair]:
            owners.setdefault(address, []).append(pair)
    for address in sorted(owners, key=lambda a: (a.version, a)):
        if len(owners[address]) > 1:
            errors.append('The VIP %s belongs to the pairs %s: a VIP belongs to one pair of the fleet (keepalived '
                          'deletes the address it gives up, and two pairs would answer ARP for it). Give each pair its '
                          'own VIPs in keepalived_instances.' % (address, ', '.join(owners[address])))
    return errors


def _socket_errors(pairs, balancers, pair_vips):
    """A service that binds a VIP of another pair: one VIP:port belongs to one pair's service."""
    owner = {address: pair for pair in sorted(pair_vips) for address in pair_vips[pair]}
    errors = []
    for pair, members in sorted(pairs.items()):
        entry = _mapping(balancers[members[0]])
        for service in _list(entry.get('services')):
            service = _mapping(service)
            address = _vip(service.get('listen_address', entry.get('listen_address', '')))
            if address is None or owner.get(address, pair) == pair:
                continue
            errors.append('nginx_lb_services[%s] of the pair %s listens on %s port %s, a VIP of the pair %s: no two '
                          'services of the fleet share one VIP:port. Bind the service to a VIP of %s.'
                          % (service.get('name', '?'), pair, address, service.get('port', entry.get('listen_port', 80)),
                             owner[address], pair))
    return errors


def _count(value):
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ''
    return int(text) if text.isdigit() else None


def _canary(value):
    """fleet_canary as a boolean (true/false, yes/no, on/off, 1/0, any case), or None when it is none of them."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in ('true', 'yes', 'on', '1') else False if text in ('false', 'no', 'off', '0') else None


def wave_settings(settings):
    """The settings stop_reason reads, as plan_waves understood them (a bad value: its default)."""
    settings = _mapping(settings)
    canary = _canary(settings.get('fleet_canary', True))
    return {'fleet_canary': True if canary is None else canary,
            'fleet_max_fail_percentage': min(_count(settings.get('fleet_max_fail_percentage', 0)) or 0, 100)}


def plan_waves(pairs, settings):
    """The run's pairs (in order) in waves: the canary pair alone first (``fleet_canary``, the pair
    ``fleet_canary_pair`` or else the first), then ``fleet_wave_size`` pairs at a time (0: all the
    others together). Returns ``(waves, errors)``; ``fleet_max_fail_percentage`` is checked here too."""
    settings = _mapping(settings)
    errors = []
    size = _count(settings.get('fleet_wave_size', 0))
    if size is None:
        errors.append('fleet_wave_size=%r is not a count: set it to the number of pairs updated together after the '
                      'canary (0: all of them).' % (settings.get('fleet_wave_size'),))
        size = 0
    percentage = _count(settings.get('fleet_max_fail_percentage', 0))
    if percentage is None or percentage > 100:
        errors.append('fleet_max_fail_percentage=%r is not a percentage: set it to 0-100 (the share of the run\'s pairs '
                      'that may fail before the update stops; 0 stops at the first).'
                      % (settings.get('fleet_max_fail_percentage'),))
    canary = _canary(settings.get('fleet_canary', True))
    if canary is None:
        errors.append('fleet_canary=%r is not a boolean: set it to true (one pair first, alone) or false.'
                      % (settings.get('fleet_canary'),))
        canary = True
    wanted = str(settings.get('fleet_canary_pair') or '')
    if wanted and wanted not in pairs:
        errors.append('fleet_canary_pair=%s is not a pair of this run (%s): name the group of one of them, or leave it '
                      'empty for the first.' % (wanted, ', '.join(pairs) or 'none'))
        wanted = ''
    rest = list(pairs)
    waves = []
    if canary and len(rest) > 1:
        first = wanted or rest[0]
        waves.append([first])
        rest.remove(first)
    step = size or len(rest) or 1
    waves += [rest[i:i + step] for i in range(0, len(rest), step)]
    return waves, errors


def rounds(order, pair_of, waves):
    """The rolling update's rounds: within a wave, one balancer of each pair at a time, in ``order``
    (the running balancers, those holding no VIP first)."""
    out = []
    for number, wave in enumerate(waves):
        members = {pair: [host for host in order if pair_of.get(host) == pair] for pair in wave}
        for step in range(max((len(m) for m in members.values()), default=0)):
            out.append({'wave': number, 'pairs': list(wave),
                        'balancers': [m[step] for m in members.values() if len(m) > step]})
    return [entry for entry in out if entry['balancers']]


def to_update(order, would_change):
    """The balancers of ``order`` that take a round of the rolling update, in that order (``would_change``:
    host -> role -> what check mode found the role would change): those whose nginx would change, and those
    with a new keepalived package. keepalived's configuration is not a reason: it is applied on every
    balancer together, after the rounds."""
    out = []
    for host in _list(order):
        found = _mapping(_mapping(would_change).get(host))
        if _list(found.get('nginx_lb')) or any(str(c).startswith('packages ') for c in _list(found.get('keepalived'))):
            out.append(host)
    return out


def stop_reason(waves, pairs, failed_hosts, settings):
    """Why the rolling update stops before its next round, or '' to go on: the canary pair failed, or
    more of the run's pairs failed than ``fleet_max_fail_percentage`` allows."""
    failed_hosts = set(_list(failed_hosts))
    run = [pair for wave in _list(waves) for pair in wave]
    failed = [pair for pair in run if failed_hosts & set(_mapping(_mapping(pairs).get(pair)).get('members') or [])]
    if not failed:
        return ''
    settings = _mapping(settings)
    canary = len(_list(waves)) > 1 and len(_list(waves)[0]) == 1 and _canary(settings.get('fleet_canary', True)) is not False
    percentage = _count(settings.get('fleet_max_fail_percentage', 0)) or 0
    share = 100.0 * len(failed) / len(run)
    if canary and _list(waves)[0][0] in failed:
        why = 'the canary pair %s failed' % _list(waves)[0][0]
    elif share > percentage:
        why = '%d of the run\'s %d pairs failed (%s: %.0f%%), more than fleet_max_fail_percentage=%d' % (
            len(failed), len(run), ', '.join(failed), share, percentage)
    else:
        return ''
    return ('The rolling update stops: %s. The pairs not yet updated keep their configuration; fix the failure '
            'and run site.yml again.' % why)


def summary_lines(pairs, hosts):
    """One line per pair of what a run did: ``hosts`` says of each balancer whether it was in the run
    (``in_run``), what changed on it (``changes``), whether it got to the end (``done``) or was stopped by
    the rolling update's stop (``stopped``)."""
    lines = []
    for pair, info in sorted(_mapping(pairs).items()):
        members = _list(_mapping(info).get('members'))
        states = {host: _mapping(hosts.get(host)) for host in members}
        if not any(state.get('in_run') for state in states.values()):
            continue
        failed = [h for h in members if states[h].get('in_run') and not states[h].get('done') and not states[h].get('stopped')]
        changed = ['%s: %s' % (h, ', '.join(_list(states[h].get('changes')))) for h in members if states[h].get('changes')]
        if failed:
            verdict = 'FAILED on %s' % ', '.join(failed)
        elif any(states[h].get('stopped') for h in members):
            verdict = 'stopped before its turn' if not changed else 'stopped'
        else:
            verdict = 'changed' if changed else 'unchanged'
        lines.append('%s: %s%s' % (pair, verdict, ' (%s)' % '; '.join(changed) if changed else ''))
    return lines


def fleet(data):
    data = _mapping(data)
    balancers = {host: _mapping(entry) for host, entry in _mapping(data.get('balancers')).items()}
    play_hosts = set(_list(data.get('play_hosts')))
    errors = []
    try:
        reserved = reserved_set(data.get('reserved_vrids'))
    except ValueError as bad:
        reserved = set()
        errors.append('keepalived_reserved_vrids: %r is neither a VRID (1-255) nor a range such as 200-255. Fix it '
                      'in the inventory.' % (bad.args[0],))
    pairs = _pairs(balancers)
    errors += _split_errors(pairs, play_hosts, bool(data.get('allow_partial_pair')))
    domains, domain_errors = _domain_errors(pairs, balancers)
    errors += domain_errors

    # Each pair's instances as its first balancer has them (the role checks that a pair agrees).
    instances = {pair: [_mapping(i) for i in _list(_mapping(balancers[members[0]]).get('instances'))]
                 for pair, members in pairs.items()}
    pair_vips = {pair: sorted({_vip(v) for i in instances[pair] for v in _list(i.get('virtual_ipaddresses'))
                               if _vip(v) is not None}, key=lambda a: (a.version, a))
                 for pair in instances}
    errors += _vip_errors(pair_vips)
    errors += _socket_errors(pairs, balancers, pair_vips)

    # VRIDs: the given ones must not collide within a domain and IP version; the missing ones are chosen.
    given = {}
    missing = []
    for pair in sorted(instances):
        for instance in instances[pair]:
            key = (domains[pair], _family(instance))
            name = str(instance.get('name', '?'))
            if instance.get('virtual_router_id') in (None, ''):
                missing.append((key, pair, name))
                continue
            vrid = _vrid(instance.get('virtual_router_id'))
            if vrid is not None:
                given.setdefault(key + (vrid,), []).append('%s (%s)' % (pair, name))
    for (domain, family, vrid), users in sorted(given.items()):
        if len({user.split(' ', 1)[0] for user in users}) > 1:
            errors.append('virtual_router_id %d is used by %s in the layer-2 domain %s (IPv%d): VRRP routers that hear '
                          'each other need distinct VRIDs. Give one of them another virtual_router_id, or set '
                          'keepalived_l2_domain when the pairs are on separate networks.'
                          % (vrid, ', '.join(users), domain, family))
    chosen = {}
    taken = {}
    for (domain, family, vrid) in given:
        taken.setdefault((domain, family), set()).add(vrid)
    for key, pair, name in missing:
        used = taken.setdefault(key, set())
        free = [v for v in VRID_RANGE if v not in reserved]
        vrid = next((v for v in candidates(pair, name, free) if v not in used), None)
        if vrid is None:
            errors.append('No free virtual_router_id for %s (%s) in the layer-2 domain %s (IPv%d): every VRID of 1-255 '
                          'is used or reserved (keepalived_reserved_vrids). Split the fleet into more '
                          'keepalived_l2_domain, or free some.' % (pair, name, key[0], key[1]))
            continue
        used.add(vrid)
        chosen.setdefault(pair, {})[name] = vrid

    waves, wave_errors = plan_waves([pair for pair, members in sorted(pairs.items())
                                     if any(host in play_hosts for host in members)], data.get('waves'))
    errors += wave_errors

    summary = {}
    for pair, members in sorted(pairs.items()):
        summary[pair] = {
            'members': members,
            'l2_domain': domains[pair],
            'vips': [str(a) for a in pair_vips[pair]],
            'vrids': {str(i.get('name', '?')): (chosen.get(pair, {}).get(str(i.get('name', '?')))
                                                or _vrid(i.get('virtual_router_id')))
                      for i in instances[pair]},
        }
    return {'pairs': summary, 'vrids': chosen, 'waves': waves, 'wave_settings': wave_settings(data.get('waves')),
            'errors': errors}
