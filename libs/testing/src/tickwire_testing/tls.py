"""Throwaway TLS material for tests, made with `openssl` in the test's own directory: a CA, a
broker certificate for 127.0.0.1 and localhost, and a client certificate for mutual TLS."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Short-lived on purpose: nothing made here should be usable after the test session.
_DAYS = "2"


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA's certificate (PEM): what clients and the broker trust
    broker_keystore: Path  # PKCS12: the broker's key and certificate, for the JVM
    keystore_password: str
    client_certificate: Path  # PEM, signed by the CA: a client's identity under mutual TLS
    client_key: Path  # PEM, unencrypted
    other_ca: Path  # a CA that signed nothing here: trusting it alone must not be enough


def make_certificates(directory: Path) -> Certificates:
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _self_signed(directory, "ca", "tickwire test CA")
    other_ca, _ = _self_signed(directory, "other-ca", "tickwire unrelated CA")
    broker_cert, broker_key = _signed(
        directory,
        "broker",
        "localhost",
        ca_cert,
        ca_key,
        # librdkafka and Python both check the name they dialled against the certificate.
        extensions="subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    client_cert, client_key = _signed(
        directory,
        "client",
        "tickwire-client",
        ca_cert,
        ca_key,
        extensions="extendedKeyUsage=clientAuth\n",
    )
    password = secrets.token_hex(12)
    keystore = directory / "broker.p12"
    _openssl(
        "pkcs12",
        "-export",
        "-in",
        str(broker_cert),
        "-inkey",
        str(broker_key),
        "-name",
        "broker",
        "-out",
        str(keystore),
        "-passout",
        f"pass:{password}",
    )
    return Certificates(
        ca=ca_cert,
        broker_keystore=keystore,
        keystore_password=password,
        client_certificate=client_cert,
        client_key=client_key,
        other_ca=other_ca,
    )


def _self_signed(directory: Path, name: str, subject: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-days",
        _DAYS,
        "-subj",
        f"/CN={subject}",
    )
    return cert, key


def _signed(
    directory: Path, name: str, common_name: str, ca_cert: Path, ca_key: Path, extensions: str
) -> tuple[Path, Path]:
    cert, key, request = (directory / f"{name}{suffix}" for suffix in (".pem", ".key", ".csr"))
    extfile = directory / f"{name}.ext"
    extfile.write_text(extensions)
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(request),
        "-subj",
        f"/CN={common_name}",
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        str(request),
        "-CA",
        str(ca_cert),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        _DAYS,
        "-extfile",
        str(extfile),
    )
    return cert, key


def _openssl(*args: str) -> None:
    if shutil.which("openssl") is None:
        # Debian's ca-certificates (on every machine the stack runs on) depends on it.
        raise RuntimeError("the TLS tests need 'openssl' on PATH (apt-get install openssl)")
    result = subprocess.run(
        ["openssl", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")
