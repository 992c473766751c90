# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Internal filter of the cluster_check role: who holds each VIP, and whether that is right."""

from __future__ import annotations

from collections.abc import Mapping


def _answers_for(answers, address):
    found = []
    for answer in answers or []:
        if not isinstance(answer, Mapping):
            continue
        item = answer.get('item') or [None, {}]
        if isinstance(item[1], Mapping) and item[1].get('address') == address:
            found.append(answer)
    return found


def cluster_summary(answers, vips, expect_master=False):
    """vip_owner answers as [host, vip] items -> one verdict per VIP: holders, states, ok, message.

    The VRRP states (from keepalived's notify script, through vip_owner) add findings of their own:
    two or more MASTERs, and a MASTER that does not hold the address. A state vip_owner cannot
    trust (stale, keepalived not running) is never MASTER.
    """
    out = []
    for vip in vips or []:
        address = vip.get('address')
        mine = _answers_for(answers, address)
        unreachable = [a['item'][0] for a in mine if a.get('unreachable')]
        answered = [a for a in mine if 'held' in a]
        holders = [a['item'][0] for a in answered if a.get('held')]
        configured = [a['item'][0] for a in answered if not a.get('held') and a.get('configured')]
        states = {a['item'][0]: (a.get('keepalived') or {}).get('vrrp_state') for a in answered}
        master = vip.get('master') or None
        if len(holders) == 1 and (not expect_master or not master or holders[0] == master):
            ok, message = True, '%s is held by %s' % (address, holders[0])
        elif len(holders) == 1:
            ok, message = False, '%s is held by %s, expected its master %s' % (address, holders[0], master)
        elif not holders:
            ok, message = False, 'nobody holds %s' % address
        else:
            ok, message = False, 'split brain: %s is held by %d hosts: %s' % (address, len(holders), ', '.join(holders))
        # keepalived's own view (the notify script's state files): findings even when the addresses look right.
        masters = sorted(host for host, state in states.items() if state == 'MASTER')
        findings = []
        if len(masters) > 1:
            findings.append('%s MASTERs: %s' % ('two' if len(masters) == 2 else len(masters), ', '.join(masters)))
        findings += ['MASTER without the address: %s' % host for host in masters if host not in holders]
        if configured:
            message += ' (configured but not usable on %s)' % ', '.join(configured)
        if unreachable:
            message += ' (unreachable: %s)' % ', '.join(unreachable)
        if any(state not in (None, 'unknown') for state in states.values()):
            message += ' (keepalived: %s)' % ', '.join('%s %s' % (host, states[host]) for host in sorted(states))
        if findings:
            ok = False
            message += '; ' + '; '.join(findings)
        out.append({'address': address, 'instance': vip.get('instance') or None, 'master': master,
                    'holders': holders, 'configured_not_held': configured, 'unreachable': unreachable,
                    'states': states, 'masters': masters, 'findings': findings, 'ok': ok, 'message': message})
    return out


def cluster_vips(hostvars, hosts):
    """Every VIP of the keepalived instances of ``hosts``, once, with its instance, its MASTER node and the
    hosts whose instances list it (the first host to list a VIP gives its instance and master)."""
    out, index = [], {}
    for host in hosts or []:
        for instance in (hostvars[host].get('keepalived_instances') or []) if host in hostvars else []:
            if not isinstance(instance, Mapping):
                continue
            nodes = instance.get('nodes') if isinstance(instance.get('nodes'), Mapping) else {}
            master = next((name for name, node in nodes.items()
                           if isinstance(node, Mapping) and node.get('state') == 'MASTER'), None)
            for vip in instance.get('virtual_ipaddresses') or []:
                if str(vip) not in index:
                    index[str(vip)] = {'address': vip, 'instance': instance.get('name'), 'master': master, 'hosts': []}
                    out.append(index[str(vip)])
                if host not in index[str(vip)]['hosts']:
                    index[str(vip)]['hosts'].append(host)
    return out


def cluster_queries(hosts, vips):
    """[host, VIP] for each VIP and each of ``hosts`` that may hold it (all of them when the VIP names none)."""
    return [[host, vip] for host in hosts or [] for vip in vips or []
            if not isinstance(vip, Mapping) or vip.get('hosts') is None or host in vip['hosts']]


class FilterModule:
    def filters(self):
        return {'cluster_summary': cluster_summary, 'cluster_vips': cluster_vips, 'cluster_queries': cluster_queries}
