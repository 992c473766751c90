# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure logic behind the balancer_status module: digests of a balancer's configuration files that
are equal on the balancers of one pair when nothing drifted.

nginx.conf is the same on every balancer of a pair: its digest is the file's. keepalived.conf has
lines that differ between the balancers by design (router_id, each instance's state, priority and
interface, the unicast source and peers, the interface after ``dev``); they are left out of its
digest, and so is the VRRP password (``auth_pass``), which a digest of a short text would give away.
Nothing here reads a file or runs a command.
"""

from __future__ import annotations

import hashlib
import re

# Lines of keepalived.conf that are per balancer by design, or secret.
_PER_BALANCER = re.compile(r'^\s*(router_id|state|priority|interface|unicast_src_ip|mcast_src_ip|auth_pass)\b')
_BLOCK_START = re.compile(r'^\s*unicast_peer\s*\{')
_DEV = re.compile(r'\s+dev\s+\S+')
KINDS = ('plain', 'keepalived')


def keepalived_shared_lines(text):
    """The lines of a keepalived.conf that the balancers of a pair share, comments and blanks left out."""
    lines, in_peers = [], False
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].split('!', 1)[0].rstrip()
        if in_peers:
            in_peers = '}' not in line
            continue
        if _BLOCK_START.match(line):
            in_peers = '}' not in line
            continue
        if not line.strip() or _PER_BALANCER.match(line):
            continue
        lines.append(_DEV.sub('', line.strip()))
    return lines


def config_digest(text, kind='plain'):
    """sha256 of a configuration: of the whole text (plain), or of the shared lines (keepalived)."""
    if kind not in KINDS:
        raise ValueError('kind must be one of %s, not %r' % (', '.join(KINDS), kind))
    if kind == 'keepalived':
        text = '\n'.join(keepalived_shared_lines(text)) + '\n'
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def is_certificate_text(text):
    """True for PEM text holding certificates and nothing private (the module returns only those)."""
    return '-----BEGIN CERTIFICATE-----' in text and 'PRIVATE KEY' not in text
