# Copyright (c) 2026, ha_lb.keepalived_nginx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks of a service's certificate chain and key, on the controller, before any host changes.

Pure functions on PEM text (``cryptography``, which ansible-core depends on). A message names
the service and what to fix; it never contains the key, nor any part of it.
"""

from __future__ import annotations

import datetime
import ipaddress

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - ansible-core requires it
    HAS_CRYPTOGRAPHY = False


def _utc(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _not_after(cert):
    return _utc(getattr(cert, 'not_valid_after_utc', None) or cert.not_valid_after)


def _not_before(cert):
    return _utc(getattr(cert, 'not_valid_before_utc', None) or cert.not_valid_before)


def _subject(cert):
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else cert.subject.rfc4514_string()


def _public(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_names(cert):
    """The DNS names and IP addresses a certificate is valid for (its subjectAltName; none without one)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return ([name.lower() for name in san.get_values_for_type(x509.DNSName)],
            [str(ip) for ip in san.get_values_for_type(x509.IPAddress)])


def covers(dns_names, ips, server_name):
    """Whether a certificate valid for ``dns_names``/``ips`` covers the nginx server name ``server_name``."""
    name = server_name.lower().rstrip('.')
    try:
        return str(ipaddress.ip_address(name)) in ips
    except ValueError:
        pass
    if name.startswith('.'):
        # nginx: ".example.com" is example.com and every name below it.
        return covers(dns_names, ips, name[1:]) and covers(dns_names, ips, '*' + name)
    for entry in dns_names:
        if entry == name:
            return True
        # A wildcard covers exactly one leftmost label (RFC 6125), and only a whole label.
        if entry.startswith('*.') and '.' in name and name.split('.', 1)[1] == entry[2:]:
            if not name.startswith('*') or name == entry:
                return True
    return False


def checked_names(server_names):
    """The server names a certificate must cover: all but the catch-all ``_``, regular expressions and ``""``."""
    return [name for name in server_names if name not in ('_', '', '""') and not name.startswith('~')]


def check_tls(where, certificate, key, server_names, now=None, warning_days=21):
    """Problems and warnings with one service's PEM chain and key.

    ``where`` names the service in messages (e.g. ``nginx_lb_services[www].tls``). Returns
    ``(errors, warnings)``, two lists of messages.
    """
    errors, warnings = [], []
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover
        return ['%s: the Python library cryptography is missing on the controller: install it.' % where], []
    now = _utc(now or datetime.datetime.now(datetime.timezone.utc))
    try:
        chain = x509.load_pem_x509_certificates(certificate.encode())
    except (ValueError, TypeError, AttributeError):
        chain = []
    if not chain:
        errors.append('%s: the certificate is not a PEM certificate chain (-----BEGIN CERTIFICATE----- blocks, '
                      'the server certificate first): fix the certificate or certificate_file.' % where)
    try:
        private = serialization.load_pem_private_key(key.encode(), password=None)
    except TypeError:
        private = None
        errors.append('%s: the key is protected by a passphrase, which nginx cannot be given here: store it '
                      'unencrypted (and encrypt it with ansible-vault instead).' % where)
    except (ValueError, AttributeError):
        private = None
        errors.append('%s: the key is not a PEM private key (-----BEGIN PRIVATE KEY----- or similar): '
                      'fix the key or key_file.' % where)
    except Exception:  # noqa: BLE001 - unsupported key types raise library-specific errors
        private = None
        errors.append('%s: the key cannot be read (unsupported type): use an RSA, ECDSA or Ed25519 key.' % where)
    if not chain:
        return errors, warnings
    leaf = chain[0]
    if private is not None and _public(private.public_key()) != _public(leaf.public_key()):
        errors.append('%s: the key does not match the certificate %s (the first one of the chain): give the key '
                      'this certificate was issued for, or the certificate of this key.' % (where, _subject(leaf)))
    for position, (cert, issuer) in enumerate(zip(chain, chain[1:]), start=1):
        in_order = cert.issuer == issuer.subject
        if in_order:
            try:
                cert.verify_directly_issued_by(issuer)
            except Exception:  # noqa: BLE001 - InvalidSignature, or a key type that cannot verify
                in_order = False
        if not in_order:
            errors.append('%s: the chain is out of order: certificate %d (%s) is not issued by certificate %d (%s). '
                          'List the server certificate first, then each issuer in turn.'
                          % (where, position, _subject(cert), position + 1, _subject(issuer)))
    for position, cert in enumerate(chain, start=1):
        label = 'the certificate' if position == 1 else 'chain certificate %d (%s)' % (position, _subject(cert))
        if _not_after(cert) <= now:
            errors.append('%s: %s expired on %s: renew it.' % (where, label, _not_after(cert).strftime('%Y-%m-%d %H:%M UTC')))
        elif _not_before(cert) > now:
            errors.append('%s: %s is not valid before %s: check the clocks or wait.'
                          % (where, label, _not_before(cert).strftime('%Y-%m-%d %H:%M UTC')))
        elif _not_after(cert) - now <= datetime.timedelta(days=int(warning_days)):
            days = (_not_after(cert) - now).days
            warnings.append('%s: %s expires on %s (in %d day%s): renew it.'
                            % (where, label, _not_after(cert).strftime('%Y-%m-%d'), days, '' if days == 1 else 's'))
    dns_names, ips = certificate_names(leaf)
    missing = [name for name in checked_names(server_names) if not covers(dns_names, ips, name)]
    if missing:
        errors.append('%s: the certificate does not cover %s (it is valid for %s): issue one that names %s, or '
                      'change server_names.' % (where, ', '.join(missing),
                                                ', '.join(dns_names + ips) or 'no subjectAltName at all',
                                                'them' if len(missing) > 1 else 'it'))
    return errors, warnings
