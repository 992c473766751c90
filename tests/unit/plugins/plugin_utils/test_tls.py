# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The certificate checks: a good chain passes; each problem has its message, never the key."""

from __future__ import annotations

import pytest

from cryptography.hazmat.primitives import serialization

from ansible_collections.ha_lb.keepalived_nginx.plugins.plugin_utils.tls import check_tls, covers
from tls_fixtures import NOW, Pki, cert_pem, key, key_pem

WHERE = 'nginx_lb_services[www].tls'


@pytest.fixture(scope='module')
def pki():
    return Pki()


def test_a_good_chain_passes(pki):
    assert check_tls(WHERE, pki.chain, pki.key, ['www.lab.test', 'v1.api.lab.test'], now=NOW) == ([], [])


def test_a_leaf_alone_passes(pki):
    assert check_tls(WHERE, cert_pem(pki.server), pki.key, ['www.lab.test'], now=NOW) == ([], [])


def test_a_key_that_does_not_match(pki):
    errors = check_tls(WHERE, pki.chain, key_pem(key()), ['www.lab.test'], now=NOW)[0]
    assert errors == ['nginx_lb_services[www].tls: the key does not match the certificate www.lab.test (the first '
                      'one of the chain): give the key this certificate was issued for, or the certificate of this key.']


def test_a_chain_out_of_order(pki):
    errors = check_tls(WHERE, cert_pem(pki.intermediate) + cert_pem(pki.server), pki.key, [], now=NOW)[0]
    assert any('the chain is out of order: certificate 1 (Lab Intermediate) is not issued by certificate 2 '
               '(www.lab.test)' in e for e in errors)


def test_a_chain_with_a_foreign_issuer_of_the_same_name(pki):
    other = Pki()
    errors = check_tls(WHERE, cert_pem(pki.server) + cert_pem(other.intermediate), pki.key, [], now=NOW)[0]
    assert any('out of order' in e for e in errors)


def test_an_expired_certificate(pki):
    old = Pki(days=(-100, -1))
    errors = check_tls(WHERE, old.chain, old.key, ['www.lab.test'], now=NOW)[0]
    assert errors == ['nginx_lb_services[www].tls: the certificate expired on 2026-11-30 12:00 UTC: renew it.']


def test_a_certificate_not_yet_valid():
    future = Pki(days=(2, 90))
    errors = check_tls(WHERE, future.chain, future.key, ['www.lab.test'], now=NOW)[0]
    assert errors == ['nginx_lb_services[www].tls: the certificate is not valid before 2026-12-03 12:00 UTC: '
                      'check the clocks or wait.']


def test_a_certificate_close_to_its_end_warns_inside_the_window():
    soon = Pki(days=(-80, 10))
    assert check_tls(WHERE, soon.chain, soon.key, ['www.lab.test'], now=NOW) == (
        [], ['nginx_lb_services[www].tls: the certificate expires on 2026-12-11 (in 10 days): renew it.'])
    assert check_tls(WHERE, soon.chain, soon.key, ['www.lab.test'], now=NOW, warning_days=5) == ([], [])


def test_a_name_the_certificate_does_not_cover(pki):
    errors = check_tls(WHERE, pki.chain, pki.key, ['www.lab.test', 'shop.lab.test', 'a.b.api.lab.test'], now=NOW)[0]
    assert errors == ['nginx_lb_services[www].tls: the certificate does not cover shop.lab.test, a.b.api.lab.test '
                      '(it is valid for www.lab.test, *.api.lab.test): issue one that names them, or change '
                      'server_names.']


@pytest.mark.parametrize('name, covered', [
    ('www.lab.test', True), ('WWW.Lab.Test', True), ('x.api.lab.test', True), ('api.lab.test', False),
    ('x.y.api.lab.test', False), ('*.api.lab.test', True), ('*.lab.test', False), ('.api.lab.test', False),
])
def test_name_matching(name, covered):
    assert covers(['www.lab.test', '*.api.lab.test'], [], name) is covered


def test_catch_all_and_regex_names_need_no_coverage(pki):
    assert check_tls(WHERE, pki.chain, pki.key, ['_', '~^app\\d+\\.lab\\.test$'], now=NOW) == ([], [])


def test_garbage_is_named_and_the_key_is_never_shown(pki):
    secret = pki.key
    errors = check_tls(WHERE, 'not a certificate', secret.replace('A', 'B', 5)[:200], ['www.lab.test'], now=NOW)[0]
    assert errors[0].startswith('nginx_lb_services[www].tls: the certificate is not a PEM certificate chain')
    assert 'the key is not a PEM private key' in errors[1]
    body = ''.join(secret.splitlines()[1:-1])
    assert all(body[:20] not in e for e in errors)


def test_a_key_with_a_passphrase(pki):
    locked = pki.server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.BestAvailableEncryption(b'secret1')).decode()
    errors = check_tls(WHERE, pki.chain, locked, ['www.lab.test'], now=NOW)[0]
    assert errors == ['nginx_lb_services[www].tls: the key is protected by a passphrase, which nginx cannot be '
                      'given here: store it unencrypted (and encrypt it with ansible-vault instead).']
