"""A real OpenID Connect provider on loopback for the tests: the npm package `oidc-provider`.

Installed once with npm into <repo>/.cache/oidc-provider and started per session by the
`oidc_provider` fixture with a configuration written here (see oidc_provider.mjs for what it
offers). Generated projects' own suites get it through `Idp.env()`. Without node and npm the
tests that need it skip, unless MCPGEN_REQUIRE_SERVICES=1 makes that a failure.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .conftest import EXAMPLES, npm_package

OIDC_PROVIDER_VERSION = "9.13.3"
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")


def install() -> Path:
    """The folder oidc-provider is installed in (its node_modules), running npm on first use."""
    return npm_package("oidc-provider", OIDC_PROVIDER_VERSION, "oidc-provider").parent.parent


def signing_key() -> dict[str, Any]:
    """A fresh RSA private key as a JWK: the provider signs with it, the tests can forge with it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key, as_dict=True)
    return {**jwk, "kid": "test-" + secrets.token_hex(4), "alg": "RS256", "use": "sig"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Idp:
    issuer: str
    key: dict[str, Any]
    process: subprocess.Popen[bytes]
    log: Path

    def env(self) -> dict[str, str]:
        """What a generated project's tests read to find this provider."""
        return {"MCPGEN_TEST_OIDC_ISSUER": self.issuer, "MCPGEN_TEST_OIDC_KEY": json.dumps(self.key)}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(workdir: Path, scopes: list[str], clients: list[dict[str, Any]] | None = None) -> Idp:
    folder = install()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    key = signing_key()
    config = {
        "port": port,
        "issuer": issuer,
        "scopes": scopes,
        "jwks": {"keys": [key]},
        "cookieKey": secrets.token_urlsafe(32),
        "clients": clients or [],
    }
    config_path = workdir / f"oidc-provider-{port}.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    # Run from the install folder, so the script's `import 'oidc-provider'` resolves there.
    script = folder / SCRIPT.name
    shutil.copyfile(SCRIPT, script)
    log = workdir / f"oidc-provider-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", str(script), str(config_path)], cwd=folder, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"oidc-provider exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                return Idp(issuer=issuer, key=key, process=process, log=log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"oidc-provider did not answer within 30 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    """One provider for the session, knowing every scope the example specs use."""
    specs = [tomllib.loads(path.read_text(encoding="utf-8")) for path in EXAMPLES.glob("*.toml")]
    scopes = sorted({s for spec in specs for s in spec.get("auth", {}).get("scopes", [])})
    idp = start(tmp_path_factory.mktemp("oidc-provider"), scopes)
    yield idp
    idp.stop()
