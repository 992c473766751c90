# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet status: one row per balancer pair, from what each balancer reported (the balancer_status
module) and the drill reports on the controller.

``fleet_status(data)`` takes::

    pairs        {pair: {members: [host, ...], ...}}, as the fleet check returns them
    balancers    {host: balancer_status's result, or {'unreachable': true, 'msg': ...} / {'failed': true, 'msg': ...}}
    drills       [summary, ...] as ``drill_summary`` makes them, newest first
    now          the time of the status, an aware datetime (UTC)
    warning_days a certificate that ends within this many days is a warning

and returns ``{time, pairs: [row, ...], problems}``. A row says, for its pair: each VIP's holders and
keepalived states, whether the balancers' configurations drifted apart (their digests differ), the
certificate that ends first, the last drill that involved the pair, and its problems in words.
Nothing here connects to a host.
"""

from __future__ import annotations

import datetime
import json
import os
import re

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.tls import HAS_CRYPTOGRAPHY, _not_after, _subject

if HAS_CRYPTOGRAPHY:
    from cryptography import x509

_SUMMARY_NAME = re.compile(r'^drill-(\d{8}T\d{6}Z)\.json$')


def _moment(stamp):
    return datetime.datetime.strptime(stamp, '%Y%m%dT%H%M%SZ').replace(tzinfo=datetime.timezone.utc)


def drill_summary(report, name):
    """A drill report (its JSON) in a few fields: when, which balancers and VIPs, each fault's runs and passes."""
    match = _SUMMARY_NAME.match(os.path.basename(name))
    drills = report.get('drills') or []
    balancers, vips = set(), set()
    for drill in drills:
        meta = drill.get('meta') or {}
        balancers.update(host for host in (meta.get('master'), meta.get('standby'), meta.get('target')) if host)
        if meta.get('vip'):
            vips.add(str(meta['vip']).split('/', 1)[0])
    faults = [{'fault': row.get('fault'), 'runs': row.get('runs', 0), 'passed': row.get('passed', 0),
               'median_downtime': row.get('median_downtime')} for row in report.get('summary') or []]
    return {'file': os.path.basename(name), 'time': _moment(match.group(1)).isoformat() if match else None,
            'balancers': sorted(balancers), 'vips': sorted(vips), 'faults': faults,
            'passed': bool(faults) and all(f['passed'] == f['runs'] for f in faults)}


def drill_summaries(directory, newest=50):
    """The ``newest`` drill reports of ``directory`` (drill-<time>.json, the reports of whole drills), newest first."""
    try:
        names = sorted((n for n in os.listdir(directory) if _SUMMARY_NAME.match(n)), reverse=True)[:newest]
    except OSError:
        return []
    out = []
    for name in names:
        try:
            with open(os.path.join(directory, name), encoding='utf-8') as handle:
                out.append(drill_summary(json.load(handle), name))
        except (OSError, ValueError):
            continue
    return out


def _certificate(path, pem, now, warning_days):
    entry = {'path': path, 'subject': None, 'not_after': None, 'days_left': None, 'state': 'unreadable'}
    if not pem or not HAS_CRYPTOGRAPHY:
        return entry
    try:
        cert = x509.load_pem_x509_certificates(pem.encode())[0]
    except ValueError:
        return entry
    not_after = _not_after(cert)
    days = (not_after - now).total_seconds() / 86400
    entry.update(subject=_subject(cert), not_after=not_after.isoformat(), days_left=round(days, 1),
                 state='expired' if days <= 0 else 'warning' if days <= warning_days else 'ok')
    return entry


def _drift(members, balancers):
    """Configuration files whose digest differs between the members that answered."""
    digests = {}
    for host in members:
        for config in balancers.get(host, {}).get('configs') or []:
            digests.setdefault(config['path'], {})[host] = config.get('sha256')
    return sorted(path for path, by_host in digests.items() if len(set(by_host.values())) > 1)


def _row(pair, info, balancers, drills, now, warning_days):
    members = list(info.get('members') or [])
    problems, vips, certificates = [], {}, []
    answered = [h for h in members if not balancers.get(h, {}).get('unreachable') and not balancers.get(h, {}).get('failed')
                and h in balancers]
    for host in members:
        result = balancers.get(host)
        if result is None:
            problems.append('%s was not asked (not in this run)' % host)
        elif host not in answered:
            problems.append('%s did not answer: %s' % (host, result.get('msg') or 'unreachable'))
    for host in answered:
        result = balancers[host]
        if not result.get('keepalived_running'):
            problems.append('keepalived does not run on %s' % host)
        for vip in result.get('vips') or []:
            entry = vips.setdefault(vip['address'], {'vip': vip['address'], 'instance': vip.get('instance'),
                                                     'holders': [], 'states': {}})
            entry['states'][host] = vip.get('vrrp_state')
            if vip.get('held'):
                entry['holders'].append(host)
        for cert in result.get('certificates') or []:
            certificates.append(dict(_certificate(cert['path'], cert.get('pem'), now, warning_days), host=host))
    for entry in vips.values():
        if len(entry['holders']) != 1:
            problems.append('%s is held by %s' % (entry['vip'], ', '.join(entry['holders']) if entry['holders'] else 'no balancer'))
        masters = [h for h, state in entry['states'].items() if state == 'MASTER']
        if len(masters) > 1:
            problems.append('%s: keepalived is MASTER on %s' % (entry['instance'] or entry['vip'], ', '.join(masters)))
    drift = _drift(answered, balancers)
    problems += ['%s differs between %s' % (path, ', '.join(answered)) for path in drift]
    first = min((c for c in certificates if c['not_after']), key=lambda c: c['not_after'], default=None)
    for cert in certificates:
        if cert['state'] in ('expired', 'unreadable'):
            problems.append('the certificate %s on %s is %s' % (cert['path'], cert['host'], cert['state']))
    if first and first['state'] == 'warning':
        problems.append('the certificate %s ends in %s days' % (first['path'], first['days_left']))
    addresses = set(vips)
    last = next((d for d in drills if set(d['balancers']) & set(members) or set(d['vips']) & addresses), None)
    if last is not None and not last['passed']:
        problems.append('the last drill (%s) did not pass' % last['file'])
    return {'pair': pair, 'members': members, 'vips': sorted(vips.values(), key=lambda v: v['vip']), 'drift': drift,
            'configs': {h: {c['path']: c.get('sha256') for c in balancers[h].get('configs') or []} for h in answered},
            'certificates': certificates, 'first_certificate': first, 'last_drill': last,
            'ok': not problems, 'problems': problems}


def fleet_status(data):
    now = data['now']
    rows = [_row(pair, info, data.get('balancers') or {}, data.get('drills') or [], now, int(data.get('warning_days', 21)))
            for pair, info in sorted((data.get('pairs') or {}).items())]
    return {'time': now.isoformat(), 'pairs': rows, 'problems': sum(len(r['problems']) for r in rows)}


def _vip_text(vip, on=' on '):
    states = ', '.join('%s %s' % item for item in sorted(vip['states'].items()))
    return '%s%s%s (%s)' % (vip['vip'], on, ', '.join(vip['holders']) or 'nobody', states)


def line(row):
    """One line of text for a pair."""
    vips = '; '.join(_vip_text(v) for v in row['vips']) or 'no VIP answered'
    cert = row['first_certificate']
    drill = row['last_drill']
    return '%s: %s; %s; drift %s; certificate %s; last drill %s%s' % (
        row['pair'], 'OK' if row['ok'] else 'ATTENTION', vips, ', '.join(row['drift']) or 'none',
        '%s days left' % cert['days_left'] if cert else 'none',
        ('%s %s' % (drill['time'], 'passed' if drill['passed'] else 'FAILED')) if drill else 'none',
        '' if row['ok'] else ' -- ' + '; '.join(row['problems']))


def markdown(status):
    """The status as a Markdown table, one row per pair, then the problems."""
    out = ['# Fleet status, %s' % status['time'], '',
           '| pair | state | VIP: holders (keepalived) | drift | first certificate end | last drill |',
           '|---|---|---|---|---|---|']
    for row in status['pairs']:
        cert, drill = row['first_certificate'], row['last_drill']
        out.append('| %s | %s | %s | %s | %s | %s |' % (
            row['pair'], 'OK' if row['ok'] else '**ATTENTION**',
            '<br>'.join(_vip_text(v, ': ') for v in row['vips']) or '-',
            ', '.join('`%s`' % path for path in row['drift']) or 'none',
            '%s (%s days)' % (cert['not_after'][:10], cert['days_left']) if cert else '-',
            '%s %s' % (drill['time'], 'passed' if drill['passed'] else 'FAILED') if drill else '-'))
    problems = [(row['pair'], problem) for row in status['pairs'] for problem in row['problems']]
    out += ['', '## Problems', ''] + (['- %s: %s' % item for item in problems] or ['None.'])
    return '\n'.join(out) + '\n'
