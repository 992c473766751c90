# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Throwaway certificates for the TLS checks' tests, made with cryptography."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(private):
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def issue(subject_key, common_name, issuer_key=None, issuer_name=None, names=(), ca=False, days=(-1, 90)):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_name or subject)
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + datetime.timedelta(days=days[0]))
               .not_valid_after(NOW + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(issuer_key or subject_key, hashes.SHA256())


class Pki:
    """A CA, an intermediate and a server certificate for www.lab.test and *.api.lab.test."""

    def __init__(self, names=('www.lab.test', '*.api.lab.test'), days=(-1, 90)):
        self.ca_key = key()
        self.ca = issue(self.ca_key, 'Lab CA', ca=True, days=(-10, 3650))
        self.int_key = key()
        self.intermediate = issue(self.int_key, 'Lab Intermediate', self.ca_key, self.ca.subject, ca=True,
                                  days=(-10, 1000))
        self.server_key = key()
        self.server = issue(self.server_key, names[0], self.int_key, self.intermediate.subject, names=names, days=days)

    @property
    def chain(self):
        return cert_pem(self.server) + cert_pem(self.intermediate)

    @property
    def key(self):
        return key_pem(self.server_key)
