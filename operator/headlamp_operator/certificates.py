"""A self-signed CA and a server certificate for the admission webhook, made with ``cryptography``.

kopf's own generator relies on oscrypto, whose released version fails against OpenSSL 3; this
module makes the same two files with the ``cryptography`` package instead. In a cluster with
cert-manager, its certificate is used instead and this module is not needed.
"""
from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import pathlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclasses.dataclass(frozen=True)
class Bundle:
    """Paths of the PEM files: the CA (for clients and the caBundle) and the server's certificate and key."""

    cafile: pathlib.Path
    certfile: pathlib.Path
    pkeyfile: pathlib.Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "headlamp-operator"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_names(hostnames: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def generate(directory: pathlib.Path, hostnames: Sequence[str], *, days: int = 365) -> Bundle:
    """Write ``ca.pem``, ``tls.crt`` and ``tls.key`` (mode 0600) for ``hostnames`` into ``directory``."""
    if not hostnames:
        raise ValueError("a webhook certificate needs at least one hostname or IP address")
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("headlamp-operator webhook CA"))
          .issuer_name(_name("headlamp-operator webhook CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(hostnames[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(_alt_names(hostnames)), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    bundle = Bundle(cafile=directory / "ca.pem", certfile=directory / "tls.crt", pkeyfile=directory / "tls.key")
    bundle.cafile.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    bundle.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    bundle.pkeyfile.touch(mode=0o600)
    bundle.pkeyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return bundle
