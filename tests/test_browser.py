"""The built-in authorization server's login and consent pages in a real headless Chromium.

Debian's chromium, driven by Playwright (the pip package; it never downloads a browser of its
own). Without chromium the test skips, unless MCPGEN_REQUIRE_SERVICES=1 makes that a failure.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from . import serving
from .conftest import require_or_skip

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Headless as root, and quiet: this machine's network is closed to everything but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_sign_in_and_consent_in_a_browser(new_project: Callable[[str], Path], tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        require_or_skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("the playwright package is not installed")
    project = new_project("journal")
    with serving.serve(project, "journal", tmp_path) as served:
        env = os.environ | served.dotenv | {"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(project)}
        command = [sys.executable, "-m", "journal", "users", "add", "ada", "--password-stdin"]
        subprocess.run(command, input="a long password\n", env=env, cwd=tmp_path, check=True, text=True, timeout=60)

        callback = f"http://127.0.0.1:{serving.free_port()}/callback"
        http = httpx.Client(base_url=served.url, timeout=10)
        client = http.post(
            "/register",
            json={"client_name": "Browser test", "redirect_uris": [callback], "token_endpoint_auth_method": "none"},
        )
        client_id = client.json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "browser-state",
            "scope": "journal:read journal:write",
        }
        landed: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page()
            # The client's redirect URI has no server behind it: catch the navigation there.
            page.route(f"{callback}**", lambda route: (landed.append(route.request.url), route.fulfill(body="back")))
            page.goto(str(httpx.URL(f"{served.url}/authorize", params=query)))
            assert "Sign in" in page.title()
            assert "Browser test" in page.content()
            page.fill("#username", "ada")
            page.fill("#password", "a long password")
            page.click("button[type=submit]")
            page.wait_for_url("**/oauth/consent**")
            consent = page.content()
            assert "journal:write" in consent and "127.0.0.1" in consent and "ada" in consent
            page.screenshot(path=str(tmp_path / "consent.png"))
            page.click("button[value=allow]")
            page.wait_for_function("document.body.innerText === 'back'")
            browser.close()
        back = httpx.URL(landed[-1])
        assert back.params["state"] == "browser-state"
        assert back.params["iss"].rstrip("/") == served.url
        token = http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": back.params["code"],
                "redirect_uri": callback,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
        http.close()
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "Bearer"
