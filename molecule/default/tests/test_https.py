# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lab's services through the VIP, from the client: HTTPS with the lab certificate and HTTP/2,
the redirect, the TCP pass-through, a certificate rotation without a failed request, and bad TLS
input stopped in the preflight with nothing changed."""

from __future__ import annotations

import base64
import concurrent.futures
import copy
import datetime
import json
import pathlib
import shlex

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import REPO, client_probe, main_pid, run_playbook

SITE = REPO / 'playbooks' / 'site.yml'
TLS = pathlib.Path('/var/lib/ha-lb-lab/tls')
NAME = 'www.lab.test'


def _fingerprint(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256()).hex()


def served_fingerprint(client, vip, name=NAME) -> str:
    pem = client.check_output(f'echo | openssl s_client -connect {vip}:443 -servername {name} 2>/dev/null '
                              '| openssl x509')
    return _fingerprint(pem + '\n')


def issue(where: pathlib.Path, label: str, names=(NAME, 'lab.test'), days=(-1, 90), key=None):
    """A certificate from the lab CA (and a new key unless one is given); returns (cert path, key path)."""
    ca_key = serialization.load_pem_private_key((TLS / 'ca.key').read_bytes(), password=None)
    ca = x509.load_pem_x509_certificate((TLS / 'ca.crt').read_bytes())
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days[0]))
            .not_valid_after(now + datetime.timedelta(days=days[1]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            # As a CA issues it: Python 3.13 clients (the probe on a Debian 13 client) verify strictly
            # (VERIFY_X509_STRICT) and refuse a certificate without an authority key identifier.
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = where / f'{label}.crt', where / f'{label}.key'
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return str(cert_path), str(key_path)


def services_with(hostvars, **tls):
    services = copy.deepcopy(hostvars['lb-1']['nginx_lb_services'])
    www = next(s for s in services if s['name'] == 'www')
    www['tls'].update(tls)
    return services


@pytest.fixture(scope='module')
def client(hosts, vip_answering):
    return hosts['client']


def test_https_answers_with_the_lab_certificate_over_http2(client, vip):
    # The client trusts the lab CA and resolves www.lab.test to the VIP, as a real client would.
    out = client.check_output(f'curl -s --max-time 3 -w " %{{http_version}} %{{ssl_verify_result}}" https://{NAME}/')
    assert out.split()[-2:] == ['2', '0'] and 'Served by web-' in out
    assert served_fingerprint(client, vip) == _fingerprint((TLS / 'www.lab.test.crt').read_text())


def test_https_alternates_between_the_backends(client):
    bodies = [client.check_output(f'curl -s --max-time 3 https://{NAME}/') for _request in range(6)]
    assert {body.split()[-1] for body in bodies} == {'web-1', 'web-2'}


def test_plain_http_redirects_for_the_https_name_only(client, vip):
    redirect = client.check_output(f'curl -s -o /dev/null --max-time 3 -w "%{{http_code}} %{{redirect_url}}" '
                                   f'http://{NAME}/some/path?x=1')
    assert redirect == '301 https://www.lab.test/some/path?x=1'
    assert 'Served by web-' in client.check_output(f'curl -s --max-time 3 http://{vip}/')


def test_the_stream_service_passes_bytes_both_ways(client, vip):
    # Raw bytes through the TCP pass-through: a request written by hand, the answer read back.
    script = (f"exec 3<>/dev/tcp/{vip}/8081; printf 'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3; "
              "timeout 3 cat <&3")
    answers = [client.check_output(f'bash -c {shlex.quote(script)}') for _request in range(4)]
    assert all(a.startswith('HTTP/1.1 200') for a in answers)
    assert {a.split()[-1] for a in answers} == {'web-1', 'web-2'}


def test_both_balancers_hold_the_same_certificate_and_a_private_key(hosts):
    sums = {name: hosts[name].check_output('sha256sum /etc/nginx/tls/www.crt /etc/nginx/tls/www.key')
            for name in ('lb-1', 'lb-2')}
    assert sums['lb-1'] == sums['lb-2']
    key = hosts['lb-1'].file('/etc/nginx/tls/www.key')
    assert key.mode == 0o600 and key.user == 'root'


def _nginx_main_pids(hosts):
    return {name: main_pid(hosts[name], 'nginx') for name in ('lb-1', 'lb-2')}


def test_a_certificate_rotation_loses_no_request(client, hosts, hostvars, vip, tmp_path_factory):
    where = tmp_path_factory.mktemp('rotation')
    # A renewal keeps the key; a re-key brings a new one; then the lab's own pair again.
    lab_key = serialization.load_pem_private_key((TLS / 'www.lab.test.key').read_bytes(), password=None)
    rotations = [issue(where, 'renewed', key=lab_key), issue(where, 'rekeyed'),
                 (str(TLS / 'www.lab.test.crt'), str(TLS / 'www.lab.test.key'))]
    pids = _nginx_main_pids(hosts)
    with client_probe(client, '--url', f'https://{NAME}/', '--connect-to', vip, duration=240) as probe:
        for cert, key in rotations:
            rolled = run_playbook(SITE, '--limit', 'lb', '-e', json.dumps(
                {'nginx_lb_services': services_with(hostvars, certificate_file=cert, key_file=key)}), timeout=300)
            assert rolled.returncode == 0, rolled.stdout[-3000:]
            assert served_fingerprint(client, vip) == _fingerprint(pathlib.Path(cert).read_text())
    assert probe.end['samples'] > 200 and probe.end['failed'] == 0, probe.end
    # Reloads, not restarts: the same nginx master on each balancer throughout.
    assert _nginx_main_pids(hosts) == pids


def _key_material(path) -> list[str]:
    """The base64 lines of a PEM key, and the whole file as base64 (as a slurp would show it)."""
    text = pathlib.Path(path).read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith('-----')]
    return lines + [base64.b64encode(text.encode()).decode()[8:48]]


def test_a_key_rotation_in_check_diff_mode_shows_no_key(hostvars, tmp_path_factory):
    cert, key = issue(tmp_path_factory.mktemp('quiet'), 'quiet')
    run = run_playbook(SITE, '--limit', 'lb', '--check', '--diff', '-vvv', '-e', json.dumps(
        {'nginx_lb_services': services_with(hostvars, certificate_file=cert, key_file=key)}), timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    for secret in (key, TLS / 'www.lab.test.key'):
        for form in _key_material(secret):
            assert form not in output, f'a line of {secret} in the output'
    # The certificate is public: its diff shows; the key's change is announced without it.
    assert '/etc/nginx/tls/www.key would change; its diff is not shown because the file holds a secret.' in ' '.join(
        output.split())


BAD = ('sha256sum /etc/nginx/nginx.conf /etc/nginx/tls/www.crt /etc/nginx/tls/www.key; '
       'systemctl show -p ExecMainPID -p ActiveState nginx')


def test_bad_tls_input_fails_in_preflight_with_nothing_changed(hosts, hostvars, tmp_path_factory):
    where = tmp_path_factory.mktemp('bad')
    good_cert = str(TLS / 'www.lab.test.crt')
    expired = issue(where, 'expired', days=(-60, -1))
    _other_cert, other_key = issue(where, 'other')
    uncovered = issue(where, 'uncovered', names=('shop.lab.test',))
    two_on_one_port = copy.deepcopy(hostvars['lb-1']['nginx_lb_services']) + [{'name': 'web2', 'pool': 'web_backends'}]
    cases = {
        'expired': ({'nginx_lb_services': services_with(hostvars, certificate_file=expired[0], key_file=expired[1])},
                    'nginx_lb_services[www].tls: the certificate expired on'),
        'key mismatch': ({'nginx_lb_services': services_with(hostvars, certificate_file=good_cert,
                                                             key_file=other_key)},
                         'nginx_lb_services[www].tls: the key does not match the certificate www.lab.test'),
        'name not covered': ({'nginx_lb_services': services_with(hostvars, certificate_file=uncovered[0],
                                                                 key_file=uncovered[1])},
                             'nginx_lb_services[www].tls: the certificate does not cover www.lab.test, lab.test'),
        'two services on one port': ({'nginx_lb_services': two_on_one_port},
                                     'nginx_lb_services[web] and nginx_lb_services[web2] both listen on every '
                                     'address port 80'),
    }
    before = {name: hosts[name].check_output(BAD) for name in ('lb-1', 'lb-2')}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run_playbook, SITE, '--limit', 'lb', '-e', json.dumps(extra))
                   for name, (extra, _message) in cases.items()}
        results = {name: future.result() for name, future in futures.items()}
    after = {name: hosts[name].check_output(BAD) for name in ('lb-1', 'lb-2')}
    assert after == before
    for name, (_extra, message) in cases.items():
        output = ' '.join(results[name].stdout.split())
        assert results[name].returncode != 0, (name, output[-2000:])
        assert message in output, (name, output[-3000:])
        assert all(' changed=0 ' in line for line in results[name].stdout.splitlines() if ' changed=' in line)
        assert 'BEGIN PRIVATE KEY' not in results[name].stdout


def test_the_health_check_asks_every_service(hosts):
    # The inventory lists no targets: the check follows nginx_lb_services (HTTP, HTTPS, the stream service).
    script = hosts['lb-2'].file('/etc/keepalived/check_nginx.sh').content_string
    curl = next(line for line in script.splitlines() if 'curl' in line and '://' in line)
    assert all(target in curl for target in (' http://127.0.0.1:80/healthz', ' https://127.0.0.1:443/healthz', '--insecure'))
    assert 'listening 127.0.0.1 8081' in script
    assert hosts['lb-2'].run('/etc/keepalived/check_nginx.sh').rc == 0
    # The same script with a service's port on one nothing listens on: the check fails (on the backup,
    # with restart_then_fault: nothing else happens there). The HTTPS URL comes after the HTTP one in
    # the same curl, and the stream socket after both.
    for port, other in (('https://127.0.0.1:443/', 'https://127.0.0.1:8499/'),
                        ('listening 127.0.0.1 8081', 'listening 127.0.0.1 8099')):
        broken = script.replace(port, other)
        assert broken != script
        hosts['lb-2'].run(f'cat > /var/tmp/check_broken.sh <<"BROKEN_CHECK"\n{broken}\nBROKEN_CHECK')
        assert hosts['lb-2'].run('sh /var/tmp/check_broken.sh').rc == 1, other
    hosts['lb-2'].run('rm -f /var/tmp/check_broken.sh')
