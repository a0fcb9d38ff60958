"""The key material of a loopback control plane: a CA, serving and client certificates, a service-account key pair."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVING_DNS = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
               "kubernetes.default.svc.cluster.local")
SERVING_IPS = ("127.0.0.1", "10.96.0.1")  # loopback, and the first IP of --service-cluster-ip-range


@dataclasses.dataclass(frozen=True)
class Pki:
    """Paths of the PEM files written by :func:`generate`."""

    ca_cert: pathlib.Path
    ca_key: pathlib.Path
    serving_cert: pathlib.Path  # kube-apiserver's and kwok's (kubelet) serving certificate
    serving_key: pathlib.Path
    kubelet_client_cert: pathlib.Path  # kube-apiserver -> kubelet (kwok) client certificate
    kubelet_client_key: pathlib.Path
    sa_private_key: pathlib.Path  # RSA key signing service-account tokens (TokenRequest)
    sa_public_key: pathlib.Path


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: pathlib.Path, data: bytes) -> pathlib.Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    usages: tuple[x509.ObjectIdentifier, ...] = (),
    sans: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def generate(folder: pathlib.Path) -> Pki:
    """Write a fresh CA, the certificates signed by it and a service-account key pair into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("realpeers-ca")
    ca = _certificate(ca_name, ca_key, ca_name, ca_key, ca=True)

    serving_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVING_DNS]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVING_IPS]
    serving = _certificate(_name("kube-apiserver"), serving_key, ca_name, ca_key,
                           usages=(ExtendedKeyUsageOID.SERVER_AUTH,), sans=sans)

    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate(_name("kube-apiserver-kubelet-client", "system:masters"), client_key, ca_name, ca_key,
                          usages=(ExtendedKeyUsageOID.CLIENT_AUTH,))

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sa_public = sa_key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Pki(
        ca_cert=_write(folder / "ca.crt", ca.public_bytes(pem)),
        ca_key=_write(folder / "ca.key", _key_pem(ca_key)),
        serving_cert=_write(folder / "serving.crt", serving.public_bytes(pem)),
        serving_key=_write(folder / "serving.key", _key_pem(serving_key)),
        kubelet_client_cert=_write(folder / "kubelet-client.crt", client.public_bytes(pem)),
        kubelet_client_key=_write(folder / "kubelet-client.key", _key_pem(client_key)),
        sa_private_key=_write(folder / "sa.key", _key_pem(sa_key)),
        sa_public_key=_write(folder / "sa.pub", sa_public),
    )
