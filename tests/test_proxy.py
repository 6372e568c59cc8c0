"""A generated builtin-auth server behind a real nginx that terminates TLS for it.

nginx listens on plain HTTP on loopback but tells the server the request came over https
(`X-Forwarded-Proto: https`) for the public host, as a TLS-terminating proxy does. The client
below addresses `https://mcp.example.test/...` and its transport delivers that to nginx, so
cookies, redirects and every advertised URL are seen exactly as a real client sees them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from . import serving
from .conftest import require_or_skip

PUBLIC_HOST = "mcp.example.test"
CALLBACK = "http://127.0.0.1:33418/callback"
USER, PASSWORD = "operator", secrets.token_urlsafe(16)
ACCEPT = "application/json, text/event-stream"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "proxy-test", "version": "0"},
    },
}
PROXY_HEADERS = """
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto https;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_buffering off;"""
# At the root everything goes to the server; under /tools only that prefix and the well-known
# documents (which RFC 8414 and RFC 9728 keep at the host's root) do.
SITES = {
    "": """
upstream app {{ server 127.0.0.1:{app}; }}
server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://app;{headers} }}
}}
""",
    "/tools": """
upstream app {{ server 127.0.0.1:{app}; }}
server {{
    listen 127.0.0.1:{port};
    location /tools/ {{ proxy_pass http://app;{headers} }}
    location /.well-known/ {{ proxy_pass http://app;{headers} }}
    location / {{ return 404; }}
}}
""",
}


class ToProxy(httpx.HTTPTransport):
    """Delivers requests for https://mcp.example.test to nginx on loopback, as DNS and TLS would."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        sent = httpx.Request(request.method, url, headers=request.headers, stream=request.stream)
        return super().handle_request(sent)


@pytest.fixture(scope="module")
def journal(new_project: Callable[[str], Path]) -> Path:
    if not serving.nginx_available():
        require_or_skip("nginx is not installed (Debian package nginx)")
    return new_project("journal")


@pytest.fixture(params=["", "/tools"], ids=["root", "prefix"])
def behind_proxy(request: pytest.FixtureRequest, journal: Path, tmp_path: Path) -> Iterator[tuple[str, httpx.Client]]:
    """The server with PUBLIC_URL=https://mcp.example.test[/tools], behind nginx; yields (PUBLIC_URL, client)."""
    prefix: str = request.param
    public_url = f"https://{PUBLIC_HOST}{prefix}"
    env = {
        **os.environ,
        **serving.read_env(journal / ".env"),
        "DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(journal),
    }
    add = [sys.executable, "-m", "journal", "users", "add", USER, "--password-stdin"]
    subprocess.run(add, input=PASSWORD + "\n", env=env, cwd=tmp_path, check=True, text=True, timeout=60)
    with serving.serve(journal, "journal", tmp_path, PUBLIC_URL=public_url) as served:
        port = serving.free_port()
        site = tmp_path / "site.conf"
        app_port = served.url.rsplit(":", 1)[1]
        site.write_text(SITES[prefix].format(app=app_port, port=port, headers=PROXY_HEADERS))
        with serving.nginx(site, tmp_path / "nginx", port), httpx.Client(transport=ToProxy(port), timeout=15) as http:
            yield public_url, http


def test_advertised_urls_are_public_url(behind_proxy: tuple[str, httpx.Client]) -> None:
    public_url, http = behind_proxy
    origin = f"https://{PUBLIC_HOST}"
    prefix = public_url.removeprefix(origin)
    # RFC 9728 §3.1: the path of the resource goes after the well-known name.
    resource = http.get(f"{origin}/.well-known/oauth-protected-resource{prefix}/mcp")
    assert resource.status_code == 200, resource.text
    assert resource.json()["resource"] == f"{public_url}/mcp"
    assert [s.rstrip("/") for s in resource.json()["authorization_servers"]] == [public_url]
    assert http.get(f"{origin}/.well-known/oauth-protected-resource").json() == resource.json()
    # RFC 8414 §3.1: likewise the issuer's path after the authorization server's well-known name.
    metadata = http.get(f"{origin}/.well-known/oauth-authorization-server{prefix}")
    assert metadata.status_code == 200, metadata.text
    assert metadata.json()["issuer"].rstrip("/") == public_url
    for name in ("authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint"):
        assert metadata.json()[name].startswith(f"{public_url}/"), (name, metadata.json()[name])
    refused = http.post(f"{public_url}/mcp", json=INITIALIZE, headers={"Accept": ACCEPT})
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert f'resource_metadata="{origin}/.well-known/oauth-protected-resource{prefix}/mcp"' in challenge


def test_a_whole_sign_in_and_a_call_through_the_proxy(behind_proxy: tuple[str, httpx.Client]) -> None:
    public_url, http = behind_proxy
    prefix = public_url.removeprefix(f"https://{PUBLIC_HOST}")
    metadata = http.get(f"https://{PUBLIC_HOST}/.well-known/oauth-authorization-server{prefix}").json()
    registered = http.post(
        metadata["registration_endpoint"],
        json={"client_name": "proxy-test", "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"},
    )
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st",
        "resource": f"{public_url}/mcp",
    }
    authorize = http.get(metadata["authorization_endpoint"], params=query)
    assert authorize.status_code == 302, authorize.text
    login_url = authorize.headers["location"]
    assert login_url.startswith(f"{public_url}/oauth/login?"), login_url
    # The browser follows every redirect and form action, relative ones included, through the proxy.
    login = http.get(login_url)
    signed_in = submit(http, login, {"username": USER, "password": PASSWORD}, f"{prefix}/oauth/login")
    assert signed_in.status_code == 303, signed_in.text
    consent = http.get(signed_in.url.join(signed_in.headers["location"]))
    assert consent.status_code == 200, consent.text
    allowed = submit(http, consent, {"decision": "allow"}, f"{prefix}/oauth/consent")
    assert allowed.status_code == 303, allowed.text
    back = httpx.URL(allowed.headers["location"])
    assert back.params["iss"].rstrip("/") == public_url
    token = http.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": back.params["code"],
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": f"{public_url}/mcp",
        },
    )
    assert token.status_code == 200, token.text
    headers = {"Accept": ACCEPT, "Authorization": f"Bearer {token.json()['access_token']}"}
    started = http.post(f"{public_url}/mcp", json=INITIALIZE, headers=headers)
    assert started.status_code == 200, started.text
    session = {"Mcp-Session-Id": started.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"}
    listed = http.post(
        f"{public_url}/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers={**headers, **session}
    )
    assert listed.status_code == 200, listed.text
    assert "write_entry" in listed.text


def submit(http: httpx.Client, page: httpx.Response, fields: dict[str, str], action: str) -> httpx.Response:
    """Post a sign-in page's form as a browser would: its hidden fields, to its own action."""
    assert page.status_code == 200, page.text
    found = re.search(r"<form method=post action='([^']*)'>", page.text)
    assert found and found.group(1) == action, page.text
    hidden = dict(re.findall(r"name=(txn|csrf) value='([^']*)'", page.text))
    return http.post(page.url.join(action), data={**hidden, **fields})
