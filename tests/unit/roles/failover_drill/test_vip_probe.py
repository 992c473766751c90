# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client probe against throwaway HTTP servers on loopback."""

from __future__ import annotations

import http.server
import importlib.util
import io
import json
import os
import socket
import ssl
import threading

import pytest

from tls_fixtures import Pki, cert_pem

PROBE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'failover_drill', 'files', 'vip_probe.py')
_spec = importlib.util.spec_from_file_location('vip_probe', PROBE)
vip_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vip_probe)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    body = b'<h1>web-2</h1>\n'
    status = 200
    delay = None

    def do_GET(self):
        self.server.connections.add(self.client_address)
        if self.delay is not None:
            self.delay.wait(2)
        try:
            self.send_response(self.status)
            self.send_header('Content-Length', str(len(self.body)))
            self.send_header('X-Served-By', 'lb-1')
            self.end_headers()
            self.wfile.write(self.body)
        except (BrokenPipeError, ConnectionResetError):
            # The probe gave up (timeout) before the answer: expected in the timeout test.
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    handlers = {}

    def start(tls=None, **attrs):
        handler = type('H', (Handler,), attrs)
        httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        if tls is not None:
            httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
        httpd.daemon_threads = True
        httpd.connections = set()
        thread = threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        thread.start()
        handlers['httpd'] = httpd
        return httpd
    yield start
    if 'httpd' in handlers:
        handlers['httpd'].shutdown()
        handlers['httpd'].server_close()


def run_probe(argv):
    out = io.StringIO()
    args = vip_probe.parse_args(argv)
    assert vip_probe.run(args, out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_samples_on_a_steady_grid(server):
    httpd = server()
    records = run_probe(['--url', 'http://127.0.0.1:%d/' % httpd.server_port, '--duration', '0.5',
                         '--header', 'X-Served-By'])
    start, samples, end = records[0], records[1:-1], records[-1]
    assert start['type'] == 'start' and start['interval_ms'] == 20 and start['timeout_ms'] == 200
    assert start['clock'] == 'CLOCK_MONOTONIC' and start['wall'] > 1e9
    assert end['type'] == 'end' and end['reason'] == 'duration'
    # Every 20 ms slot of the 0.5 s is either sent or counted as missed (a busy machine delays a request).
    assert 20 <= len(samples) + sum(s.get('missed', 0) for s in samples) <= 26
    assert all(s['ok'] and s['status'] == 200 and s['backend'] == 'web-2' for s in samples)
    assert samples[0]['headers'] == {'X-Served-By': 'lb-1'}
    # Scheduled against the start, not against the previous request: no drift. A sample's slot is
    # its number plus the slots missed before it (counted on the sample that overran them).
    slot = 0
    for s in samples:
        assert s['t'] - start['mono'] == pytest.approx(slot * 0.02 + s['late'], abs=1e-5)
        slot += 1 + s.get('missed', 0)
    assert end['samples'] == len(samples) and end['failed'] == 0
    # One TCP connection (client port) per request.
    assert len(httpd.connections) == len(samples)


def test_connection_refused_recorded():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    records = run_probe(['--url', 'http://127.0.0.1:%d/' % port, '--duration', '0.1'])
    samples = records[1:-1]
    assert samples and all(not s['ok'] and s['error'] == 'refused' for s in samples)
    assert all('refused' in s['detail'].lower() for s in samples)
    assert records[-1]['failed'] == len(samples)


def test_timeout_skips_missed_slots(server):
    gate = threading.Event()
    httpd = server(delay=gate)
    try:
        records = run_probe(['--url', 'http://127.0.0.1:%d/' % httpd.server_port, '--duration', '0.35',
                             '--timeout-ms', '100', '--interval-ms', '20'])
    finally:
        gate.set()
    samples = records[1:-1]
    assert all(s['error'] == 'timeout' for s in samples)
    assert all(0.09 <= s['dur'] < 0.2 for s in samples)
    # 100 ms timeouts on a 20 ms grid: about one request per 120 ms, missed slots counted.
    assert 2 <= len(samples) <= 4
    assert samples[0]['missed'] >= 4
    assert records[-1]['missed_slots'] == sum(s.get('missed', 0) for s in samples)


def test_http_error_status_and_unknown_backend(server):
    httpd = server(status=503, body=b'busy')
    samples = run_probe(['--url', 'http://127.0.0.1:%d/x?y=1' % httpd.server_port, '--duration', '0.05'])[1:-1]
    assert samples[0]['ok'] is False and samples[0]['status'] == 503 and samples[0]['error'] == 'status_503'
    assert samples[0]['backend'] is None


def test_stop_file(server, tmp_path):
    httpd = server()
    stop = tmp_path / 'stop'
    stop.write_text('')
    records = run_probe(['--url', 'http://127.0.0.1:%d/' % httpd.server_port, '--duration', '30',
                         '--stop-file', str(stop)])
    assert records[-1]['reason'] == 'stop_file' and records[-1]['samples'] == 0


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    """A CA, a server certificate for www.lab.test, and the server side's TLS context."""
    pki = Pki(names=('www.lab.test',))
    where = tmp_path_factory.mktemp('pki')
    (where / 'ca.crt').write_text(cert_pem(pki.ca))
    (where / 'chain.crt').write_text(pki.chain)
    (where / 'server.key').write_text(pki.key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(where / 'chain.crt'), str(where / 'server.key'))
    pki.server_context = context
    pki.ca_file = str(where / 'ca.crt')
    return pki


def test_https_to_an_address_with_the_name_for_sni_and_the_certificate(server, pki):
    httpd = server(tls=pki.server_context)
    records = run_probe(['--url', 'https://www.lab.test:%d/' % httpd.server_port, '--connect-to', '127.0.0.1',
                         '--ca-file', pki.ca_file, '--duration', '0.3', '--timeout-ms', '500'])
    samples = records[1:-1]
    assert records[0]['connect_to'] == '127.0.0.1'
    assert samples and all(s['ok'] and s['status'] == 200 and s['backend'] == 'web-2' for s in samples)
    # A new TCP connection, and so a new TLS handshake, per request.
    assert len(httpd.connections) == len(samples)


def test_https_with_an_unknown_ca_or_name_fails_the_requests(server, pki):
    httpd = server(tls=pki.server_context)
    untrusted = run_probe(['--url', 'https://www.lab.test:%d/' % httpd.server_port, '--connect-to', '127.0.0.1',
                           '--duration', '0.1', '--timeout-ms', '500'])[1:-1]
    wrong_name = run_probe(['--url', 'https://shop.lab.test:%d/' % httpd.server_port, '--connect-to', '127.0.0.1',
                            '--ca-file', pki.ca_file, '--duration', '0.1', '--timeout-ms', '500'])[1:-1]
    assert untrusted and all(s['error'] == 'tls_verify' and not s['ok'] for s in untrusted)
    assert wrong_name and all(s['error'] == 'tls_verify' for s in wrong_name)
    assert all("hostname mismatch" in s['detail'].lower() for s in wrong_name)


def test_plain_http_to_a_tls_port_is_an_error(server, pki):
    httpd = server(tls=pki.server_context)
    samples = run_probe(['--url', 'http://127.0.0.1:%d/' % httpd.server_port, '--duration', '0.1',
                         '--timeout-ms', '300'])[1:-1]
    assert samples and not any(s['ok'] for s in samples)


@pytest.mark.parametrize('argv', [
    ['--url', 'ftp://198.51.100.140/'],
    ['--url', 'http://198.51.100.140/', '--ca-file', '/etc/hostname'],
    ['--url', 'https://198.51.100.140/', '--ca-file', '/nonexistent/ca.crt'],
    ['--url', 'http://198.51.100.140/', '--duration', '3601'],
    ['--url', 'http://198.51.100.140/', '--interval-ms', '0'],
    ['--url', 'http://198.51.100.140/', '--timeout-ms', '-5'],
    ['--url', 'http://198.51.100.140/', '--backend-pattern', '('],
])
def test_bad_arguments(argv):
    with pytest.raises(SystemExit):
        vip_probe.parse_args(argv)
