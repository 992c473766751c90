# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP(S) probe that measures what a client sees while a virtual IP fails over.

Run it with python3 (standard library only):

    python3 vip_probe.py --url http://198.51.100.140/ --output /tmp/probe.jsonl \
        --interval-ms 20 --timeout-ms 200 --duration 60 --stop-file /tmp/probe.stop
    python3 vip_probe.py --url https://www.example.test/ --connect-to 198.51.100.140 --ca-file ca.crt ...

With https, each request is a new TLS handshake as well (SNI and the certificate check use the
URL's host name; --ca-file adds the CA to trust, else the system's CAs are used). --connect-to
sends the requests to that address instead of resolving the host name, as curl's --resolve does.

Every interval it sends one HTTP GET over a new TCP connection (a client that
reconnects is what sees a failover) and writes one JSON object per line:

    {"type": "start", "mono": ..., "wall": ..., "url": ..., "interval_ms": ..., ...}
    {"type": "sample", "seq": 0, "t": 81234.500123, "dur": 0.0021, "ok": true,
     "status": 200, "backend": "web-1", "error": null, "late": 0.00008}
    ...
    {"type": "end", "reason": "stop_file", "mono": ..., "wall": ..., "samples": ..., ...}

``t`` is CLOCK_MONOTONIC (time.monotonic()) when the request started, ``dur``
the seconds until the answer or the error (a failed sample also carries the
error's text in ``detail``), ``late`` how far the start was
behind its schedule. Requests are scheduled on a fixed grid (start + n *
interval) so timing does not drift; when a request runs past the next slot
(a timeout), the missed slots are skipped, not sent in a burst, and counted
in ``missed`` of the sample that ran past them. ``start`` and ``end`` carry the
monotonic and the wall clock read back to back, so the probe's timeline can
be mapped onto events recorded elsewhere with either clock.

The probe stops at --duration seconds, when --stop-file exists, or on
SIGTERM/SIGINT, whichever comes first; --duration can never exceed the hard
cap of MAX_DURATION seconds.
"""

from __future__ import annotations

import argparse
import errno
import http.client
import json
import os
import re
import signal
import socket
import ssl
import sys
import time
import urllib.parse

MAX_DURATION = 3600.0

_stop_requested = []


def _on_signal(signum, frame):
    _stop_requested.append(signum)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Probe an HTTP URL at a fixed rate and record what a client sees.')
    parser.add_argument('--url', required=True, help='http:// or https:// URL to GET, e.g. http://198.51.100.140/')
    parser.add_argument('--connect-to', help='address to connect to instead of resolving the URL\'s host (e.g. the VIP)')
    parser.add_argument('--ca-file', help='https: PEM file of the CA(s) to trust (default: the system\'s)')
    parser.add_argument('--interval-ms', type=float, default=20.0, help='milliseconds between request starts (default 20)')
    parser.add_argument('--timeout-ms', type=float, default=200.0, help='per-request timeout in milliseconds (default 200)')
    parser.add_argument('--duration', type=float, default=60.0,
                        help='seconds to run at most (default 60, capped at %d)' % MAX_DURATION)
    parser.add_argument('--stop-file', help='stop as soon as this file exists')
    parser.add_argument('--output', default='-', help='JSON lines file to write (default: standard output)')
    parser.add_argument('--backend-pattern', default=r'web-\d+',
                        help='regular expression whose first match in the body names the backend (default: web-\\d+)')
    parser.add_argument('--header', action='append', default=[],
                        help='response header to record in each sample (repeatable), e.g. X-Served-By')
    args = parser.parse_args(argv)
    url = urllib.parse.urlsplit(args.url)
    if url.scheme not in ('http', 'https') or not url.hostname:
        parser.error('--url must be an http:// or https:// URL with a host')
    if args.ca_file and url.scheme != 'https':
        parser.error('--ca-file needs an https:// URL')
    args.tls = None
    if url.scheme == 'https':
        try:
            args.tls = ssl.create_default_context(cafile=args.ca_file)
        except (OSError, ssl.SSLError) as exc:
            parser.error('--ca-file: %s' % exc)
    if not 0 < args.interval_ms <= 60000:
        parser.error('--interval-ms must be in (0, 60000]')
    if not 0 < args.timeout_ms <= 60000:
        parser.error('--timeout-ms must be in (0, 60000]')
    if not 0 < args.duration <= MAX_DURATION:
        parser.error('--duration must be in (0, %d]' % MAX_DURATION)
    try:
        args.backend_re = re.compile(args.backend_pattern)
    except re.error as exc:
        parser.error('--backend-pattern: %s' % exc)
    return args


def classify_error(exc):
    """A short, stable name for a failed request."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return 'tls_verify'
    if isinstance(exc, ssl.SSLError):
        return 'tls_error'
    if isinstance(exc, socket.timeout):
        return 'timeout'
    if isinstance(exc, ConnectionRefusedError):
        return 'refused'
    if isinstance(exc, ConnectionResetError):
        return 'reset'
    if isinstance(exc, http.client.RemoteDisconnected):
        return 'disconnected'
    if isinstance(exc, http.client.HTTPException):
        return 'http_error'
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return 'unreachable'
    if isinstance(exc, OSError) and exc.errno is not None:
        return errno.errorcode.get(exc.errno, 'oserror').lower()
    return type(exc).__name__


class _Connection(http.client.HTTPConnection):
    """HTTP or HTTPS to ``address`` (default: the host), with the host's name for Host, SNI and the certificate."""

    def __init__(self, host, port, timeout, address=None, tls=None):
        super().__init__(host, port, timeout=timeout)
        self._address = address or host
        self._tls = tls

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)


def request_once(host, port, path, timeout, backend_re, headers, address=None, tls=None):
    """One GET on a fresh connection (and TLS session), bounded by ``timeout`` seconds overall."""
    started = time.monotonic()
    conn = _Connection(host, port, timeout, address=address, tls=tls)
    result = {'ok': False, 'status': None, 'backend': None, 'error': None}
    try:
        conn.connect()
        conn.sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
        conn.request('GET', path, headers={'Connection': 'close', 'User-Agent': 'vip_probe'})
        response = conn.getresponse()
        if conn.sock is not None:
            conn.sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
        body = response.read(65536)
        result['status'] = response.status
        result['ok'] = 200 <= response.status < 400
        text = body.decode('utf-8', 'replace')
        match = backend_re.search(text)
        result['backend'] = match.group(0) if match else None
        for name in headers:
            result.setdefault('headers', {})[name] = response.getheader(name)
        if not result['ok']:
            result['error'] = 'status_%d' % response.status
    except (OSError, http.client.HTTPException) as exc:
        result['error'] = classify_error(exc)
        result['detail'] = str(exc)[:200]
    finally:
        conn.close()
    return result


def clocks():
    return {'mono': round(time.monotonic(), 6), 'wall': round(time.time(), 6)}


def run(args, out):
    url = urllib.parse.urlsplit(args.url)
    path = url.path or '/'
    if url.query:
        path += '?' + url.query
    port = url.port or (443 if url.scheme == 'https' else 80)
    interval = args.interval_ms / 1000.0
    timeout = args.timeout_ms / 1000.0

    def emit(record):
        out.write(json.dumps(record, sort_keys=True) + '\n')
        out.flush()

    start = clocks()
    emit(dict(start, type='start', url=args.url, connect_to=args.connect_to, interval_ms=args.interval_ms,
              timeout_ms=args.timeout_ms,
              duration=args.duration, stop_file=args.stop_file, host=socket.gethostname(), pid=os.getpid(),
              clock='CLOCK_MONOTONIC'))
    t0 = start['mono']
    end_at = t0 + args.duration
    seq = 0
    slot = 0
    missed_total = 0
    ok_count = 0
    max_late = 0.0
    reason = 'duration'
    while True:
        if _stop_requested:
            reason = 'signal'
            break
        if args.stop_file and os.path.exists(args.stop_file):
            reason = 'stop_file'
            break
        scheduled = t0 + slot * interval
        if scheduled >= end_at:
            break
        now = time.monotonic()
        if scheduled > now:
            time.sleep(scheduled - now)
        t = time.monotonic()
        result = request_once(url.hostname, port, path, timeout, args.backend_re, args.header,
                              address=args.connect_to, tls=args.tls)
        dur = time.monotonic() - t
        late = max(0.0, t - scheduled)
        max_late = max(max_late, late)
        # The next slot on the grid that has not started yet.
        next_slot = max(slot + 1, int((time.monotonic() - t0) / interval) + 1)
        missed = next_slot - slot - 1
        missed_total += missed
        sample = {'type': 'sample', 'seq': seq, 't': round(t, 6), 'dur': round(dur, 6), 'late': round(late, 6),
                  'ok': result['ok'], 'status': result['status'], 'backend': result['backend'],
                  'error': result['error']}
        if missed:
            sample['missed'] = missed
        if 'headers' in result:
            sample['headers'] = result['headers']
        if 'detail' in result:
            sample['detail'] = result['detail']
        emit(sample)
        ok_count += 1 if result['ok'] else 0
        seq += 1
        slot = next_slot
    emit(dict(clocks(), type='end', reason=reason, samples=seq, ok=ok_count, failed=seq - ok_count,
              missed_slots=missed_total, max_late=round(max_late, 6)))
    return 0


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if args.output == '-':
        return run(args, sys.stdout)
    with open(args.output, 'w') as out:
        return run(args, out)


if __name__ == '__main__':
    sys.exit(main())
