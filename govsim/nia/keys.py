"""The simulated NIA's own secrets: its signing key pair and the key of its pseudonyms.

No private key is committed. Unless the settings name files (`GOVSIM_NIA_KEY_FILE`,
`GOVSIM_NIA_CERT_FILE`, `GOVSIM_NIA_PSEUDONYM_SECRET`), a development RSA key, a self-signed
certificate and a random pseudonym secret are generated on first use under
`VAR_DIR/govsim/nia/` and kept there, so signatures and pseudonyms stay the same across restarts.
"""

import datetime
import fcntl
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

KEY_NAME, CERT_NAME, SECRET_NAME = "idp-key.pem", "idp-cert.pem", "pseudonym-secret"
CERT_VALID_DAYS = 3650


@dataclass(frozen=True)
class KeyPair:
    """The files of a private key and of its certificate (PEM): NIA's, or another simulated
    party's (`generated_key_pair`)."""

    key_file: Path
    cert_file: Path

    @property
    def key_pem(self) -> str:
        return self.key_file.read_text(encoding="ascii")

    @property
    def cert_pem(self) -> str:
        return self.cert_file.read_text(encoding="ascii")

    @property
    def cert_base64(self) -> str:
        """The certificate's DER in base64 on one line, as metadata and KeyInfo carry it."""
        return "".join(
            line for line in self.cert_pem.strip().splitlines() if not line.startswith("-----")
        )


def key_dir() -> Path:
    """Where the development key pair and secret are kept: `VAR_DIR/govsim/nia/`."""
    return Path(settings.VAR_DIR) / "govsim" / "nia"


@contextmanager
def _generation_lock(folder: Path):
    """Serialise generation between processes (the web server, a worker, parallel tests), so two
    of them never write a key and a certificate that do not belong together."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def make_key_pair(common_name: str) -> tuple[bytes, bytes]:
    """A new RSA-2048 key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Simulated state systems"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
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
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def signing_key_pair() -> KeyPair:
    """The IdP's key pair: the configured files, or the development pair (made on first use)."""
    key_file = getattr(settings, "GOVSIM_NIA_KEY_FILE", None)
    cert_file = getattr(settings, "GOVSIM_NIA_CERT_FILE", None)
    if key_file and cert_file:
        return KeyPair(Path(key_file), Path(cert_file))
    return generated_key_pair(key_dir(), "NIA simulator (development)")


def generated_key_pair(
    folder: Path, common_name: str, *, key_name: str = KEY_NAME, cert_name: str = CERT_NAME
) -> KeyPair:
    """The development key pair kept in `folder`, made on first use (`make_key_pair`) under the
    folder's generation lock, so concurrent first uses agree on one pair."""
    pair = KeyPair(folder / key_name, folder / cert_name)
    if pair.key_file.exists() and pair.cert_file.exists():
        return pair
    with _generation_lock(folder):
        if not (pair.key_file.exists() and pair.cert_file.exists()):
            key_pem, cert_pem = make_key_pair(common_name)
            _write_private(pair.key_file, key_pem)
            _write_private(pair.cert_file, cert_pem)
    return pair


def pseudonym_secret() -> bytes:
    """The key of the SP-specific pseudonyms: the setting, or a development secret on disk."""
    configured = getattr(settings, "GOVSIM_NIA_PSEUDONYM_SECRET", "")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    folder = key_dir()
    path = folder / SECRET_NAME
    if not path.exists():
        with _generation_lock(folder):
            if not path.exists():
                _write_private(path, secrets.token_hex(32).encode())
    return path.read_bytes().strip()
