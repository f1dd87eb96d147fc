"""The desk checks the server's certificate: a server whose certificate no known authority
signed is refused, and the same server is accepted once its authority is configured
(``AGENTDESK_CA_BUNDLE``). The real server serves HTTPS on loopback."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agentdesk.sync.client import ApiClient, Offline, tls_context
from tests.conftest import SECRET, free_port, seed


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-made authority's certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AgentDesk test authority")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _certificate(tmp_path)
    db_url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    seed(db_url)
    port = free_port()
    env = {**os.environ, "AGENTDESK_SECRET_KEY": SECRET}
    command = [sys.executable, "-m", "agentdesk", "server", "--db", db_url, "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--tls-cert", str(cert), "--tls-key", str(key)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz", verify=tls_context(str(cert)), timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the HTTPS server did not start") from None
                time.sleep(0.1)
        yield url, cert
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_the_servers_certificate_is_checked_unless_its_authority_is_configured(
    https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = https_server
    monkeypatch.delenv("AGENTDESK_CA_BUNDLE", raising=False)
    # By default the certificate is checked: an unknown authority is refused
    client = ApiClient(url)
    try:
        with pytest.raises(Offline, match="CERTIFICATE_VERIFY_FAILED"):
            await client.login("agent.north", "agent-pass-1")
    finally:
        await client.aclose()
    # With the authority configured, the same server is trusted
    monkeypatch.setenv("AGENTDESK_CA_BUNDLE", str(cert))
    trusted = ApiClient(url)
    try:
        user = await trusted.login("agent.north", "agent-pass-1")
        assert user.username == "agent.north"
    finally:
        await trusted.aclose()
    # A bundle that cannot be read says so
    with pytest.raises(ValueError, match="cannot be read"):
        ApiClient(url, ca_bundle=str(cert.parent / "missing.pem"))
