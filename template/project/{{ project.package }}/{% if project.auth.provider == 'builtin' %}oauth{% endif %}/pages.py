"""The login and consent pages: plain HTML forms that work without JavaScript.

Each pending authorization carries a CSRF token, and the browser that started it carries a
cookie naming it; a form post needs both. Failed logins are counted per client address and
user name, and the sixth within five minutes is refused with 429.
"""

from __future__ import annotations

import hmac
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from .provider import BuiltinAuthorizationServer, Pending

COOKIE = "mcp_authorization"
MAX_FAILURES = 5
FAILURE_WINDOW = 300
STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f4f5;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0001;width:min(24rem,90vw)}
h1{font-size:1.25rem;margin-top:0}label{display:block;margin:.75rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #ccc;border-radius:6px}
button{margin-top:1rem;padding:.6rem 1rem;border:0;border-radius:6px;background:#1f6feb;color:#fff;cursor:pointer}
button.secondary{background:#e4e4e7;color:#111}.error{color:#b91c1c}ul{padding-left:1.2rem}code{font-size:.9em}
"""
HEADERS = {
    # The pages are never framed (consent clickjacking) and load nothing but their own style.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
    html += f"<title>{escape(title)}</title><style>{STYLE}</style><main>{body}</main></html>"
    return HTMLResponse(html, status_code=status, headers=HEADERS)


class Pages:
    def __init__(self, server: BuiltinAuthorizationServer) -> None:
        self.server = server
        self.store = server.store

    def routes(self) -> list[Route]:
        return [
            Route("/oauth/login", self.login, methods=["GET", "POST"]),
            Route("/oauth/consent", self.consent, methods=["GET", "POST"]),
        ]

    async def _pending(self, request: Request, form: Any = None) -> tuple[str, Pending] | Response:
        """The authorization this request continues, or the page that says why it cannot."""
        key = (form or request.query_params).get("txn")
        pending = await self.server.pending(key) if isinstance(key, str) else None
        if pending is None:
            return page("Sign-in expired", "<h1>This sign-in has expired</h1><p>Start again from your app.</p>", 400)
        if form is not None and not (
            request.cookies.get(COOKIE) == key and hmac.compare_digest(str(form.get("csrf", "")), pending.csrf)
        ):
            return page("Refused", "<h1>Request refused</h1><p>This form did not come from this sign-in.</p>", 403)
        return str(key), pending

    def _with_cookie(self, response: Response, key: str) -> Response:
        response.set_cookie(
            COOKIE, key, max_age=600, path=f"{self.server.prefix}/oauth", httponly=True, samesite="lax", secure=self.server.secure_cookies
        )
        return response

    async def login(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        found = await self._pending(request, form)
        if isinstance(found, Response):
            return found
        key, pending = found
        if form is None:
            return self._with_cookie(self._login_form(key, pending), key)
        name = str(form.get("username", ""))
        counter = f"{request.client.host if request.client else '?'}:{name}"
        failures = await self.store.get(counter, collection="login_failures") or {"count": 0}
        if failures["count"] >= MAX_FAILURES:
            return page("Too many attempts", "<h1>Too many attempts</h1><p>Wait a few minutes.</p>", 429)
        if not await self.server.users.verify(name, str(form.get("password", ""))):
            failures["count"] += 1
            await self.store.put(counter, failures, collection="login_failures", ttl=FAILURE_WINDOW)
            return self._login_form(key, pending, error="Wrong user name or password.", status=401)
        pending.user = name
        await self.server.save(key, pending)
        consent = await self.store.get(f"{name}:{pending.client_id}", collection="consents")
        if consent is not None and set(pending.scopes) <= set(consent["scopes"]):
            return RedirectResponse(await self.server.complete(key, pending, name), status_code=303)
        return RedirectResponse(f"{self.server.prefix}/oauth/consent?txn={key}", status_code=303)

    async def consent(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        found = await self._pending(request, form)
        if isinstance(found, Response):
            return found
        key, pending = found
        user = pending.user
        if not user:
            return RedirectResponse(f"{self.server.prefix}/oauth/login?txn={key}", status_code=303)
        if form is None:
            return self._consent_form(key, pending)
        if form.get("decision") != "allow":
            return RedirectResponse(await self.server.deny(key, pending), status_code=303)
        remembered = {"scopes": sorted(pending.scopes)}
        await self.store.put(f"{user}:{pending.client_id}", remembered, collection="consents")
        return RedirectResponse(await self.server.complete(key, pending, user), status_code=303)

    def _login_form(self, key: str, pending: Pending, error: str = "", status: int = 200) -> Response:
        message = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
        return page(
            "Sign in",
            f"<h1>Sign in</h1><p><b>{escape(pending.client_name)}</b> wants to use this server.</p>{message}"
            f"<form method=post action='{self.server.prefix}/oauth/login'>"
            f"<input type=hidden name=txn value='{escape(key)}'><input type=hidden name=csrf value='{escape(pending.csrf)}'>"
            "<label for=username>User name</label><input id=username name=username autocomplete=username required autofocus>"
            "<label for=password>Password</label><input id=password name=password type=password autocomplete=current-password required>"
            "<button type=submit>Sign in</button></form>",
            status,
        )

    def _consent_form(self, key: str, pending: Pending) -> Response:
        host = urlsplit(pending.redirect_uri).netloc or pending.redirect_uri
        scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in pending.scopes) or "<li>no scopes</li>"
        return page(
            "Allow access?",
            f"<h1>Allow {escape(pending.client_name)}?</h1>"
            f"<p>It will act as <b>{escape(pending.user or '')}</b> with:</p><ul>{scopes}</ul>"
            f"<p>and receive access at <code>{escape(host)}</code>.</p>"
            f"<form method=post action='{self.server.prefix}/oauth/consent'>"
            f"<input type=hidden name=txn value='{escape(key)}'><input type=hidden name=csrf value='{escape(pending.csrf)}'>"
            "<button type=submit name=decision value=allow>Allow</button> "
            "<button type=submit name=decision value=deny class=secondary>Deny</button></form>",
        )
