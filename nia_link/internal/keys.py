"""The portal's key pair as NIA's service provider (the eObčanka route): it signs AuthnRequests
and NIA encrypts assertions to its certificate.

No private key is committed. Unless the settings name files (`NIA_SP_KEY_FILE`,
`NIA_SP_CERT_FILE`), a development RSA key and a self-signed certificate are made on first use
under `VAR_DIR/nia_link/` and kept there, so the metadata NIA holds stays valid across restarts.
A real deployment names its files (the certificate is the one registered with NIA).
"""

import datetime
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

KEY_NAME, CERT_NAME = "sp-key.pem", "sp-cert.pem"
CERT_VALID_DAYS = 3650


@dataclass(frozen=True)
class KeyPair:
    key_pem: str
    cert_pem: str


def service_provider_pair() -> KeyPair:
    """The configured key and certificate, or the development pair (made on first use)."""
    key_file, cert_file = settings.NIA_SP_KEY_FILE, settings.NIA_SP_CERT_FILE
    if not (key_file and cert_file):
        folder = Path(settings.VAR_DIR) / "nia_link"
        key_file, cert_file = folder / KEY_NAME, folder / CERT_NAME
        if not (key_file.exists() and cert_file.exists()):
            _make_development_pair(folder, key_file, cert_file)
    return KeyPair(Path(key_file).read_text("ascii"), Path(cert_file).read_text("ascii"))


def _make_development_pair(folder: Path, key_file: Path, cert_file: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # Under a lock: the web server, a worker and parallel tests must not write a key and a
    # certificate that do not belong together.
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if key_file.exists() and cert_file.exists():
            return
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
                x509.NameAttribute(NameOID.COMMON_NAME, "MojeID (development)"),
            ]
        )
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CERT_VALID_DAYS))
            .sign(key, hashes.SHA256())
        )
        _write_private(
            key_file,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        _write_private(cert_file, certificate.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
