"""The login and consent pages: plain HTML forms that work without JavaScript.

The login form needs the cookie its page set and the CSRF token it carries. Anyone holding the
link can open that page, so signing in gives the browser a fresh secret cookie, and only that
browser can see and answer the consent form: someone who sent the link cannot consent on behalf
of whoever signed in (nor sign in again over them). Failed logins are counted per client address
and user name, and the sixth within five minutes is refused with 429.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from html import escape
from typing import TYPE_CHECKING, Any, Literal

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .tokens import digest
from .users import signed_out_at

if TYPE_CHECKING:
    from .provider import BuiltinAuthorizationServer, Pending

# Names the authorization this browser opened the login page of.
COOKIE = "mcp_authorization"
# The secret of the browser that signed in; Pending.browser is its hash.
SIGNED_IN_COOKIE = "mcp_signed_in"
MAX_FAILURES = 5
FAILURE_WINDOW = 300
STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f4f5;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0001;width:min(24rem,90vw)}
h1{font-size:1.25rem;margin-top:0}label{display:block;margin:.75rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #ccc;border-radius:6px}
button{margin-top:1rem;padding:.6rem 1rem;border:0;border-radius:6px;background:#1f6feb;color:#fff;cursor:pointer}
button.secondary{background:#e4e4e7;color:#111}.error{color:#b91c1c}ul{padding-left:1.2rem}code{font-size:.9em;overflow-wrap:anywhere}
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


def refused() -> HTMLResponse:
    body = "<h1>Request refused</h1><p>Continue in the browser you signed in with, or start again from your app.</p>"
    return page("Refused", body, 403)


def expired() -> HTMLResponse:
    return page("Sign-in expired", "<h1>This sign-in has expired</h1><p>Start again from your app.</p>", 400)


def consent_csrf(secret: str, key: str) -> str:
    """The consent form's CSRF token, derived from the signed-in browser's secret: a client
    without that cookie can neither read it from the page nor work it out."""
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


class Pages:
    def __init__(self, server: BuiltinAuthorizationServer) -> None:
        self.server = server
        self.store = server.store
        # A lock per login counter while it is read and written; gone when no request holds it.
        self._counting: weakref.WeakValueDictionary[str, anyio.Lock] = weakref.WeakValueDictionary()

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
            return expired()
        return str(key), pending

    @staticmethod
    def _signed_in_here(request: Request, pending: Pending) -> str | None:
        """The secret of the browser that signed in to `pending`, if this request comes from it."""
        secret = request.cookies.get(SIGNED_IN_COOKIE, "")
        if pending.browser and hmac.compare_digest(digest(secret), pending.browser):
            return secret
        return None

    def _with_cookie(
        self, response: Response, name: str, value: str, samesite: Literal["lax", "strict"] = "lax"
    ) -> Response:
        response.set_cookie(
            name,
            value,
            max_age=600,
            path=f"{self.server.prefix}/oauth",
            httponly=True,
            samesite=samesite,
            secure=self.server.secure_cookies,
        )
        return response

    async def _attempt(self, counter: str) -> bool:
        """Count a login attempt before its password is checked; False once MAX_FAILURES are counted.

        Counted first and under a lock per counter, so concurrent guesses cannot all read one count
        while argon2 runs (~170 ms): within a process the count is exact. Replicas share the store but
        not the lock, and the store has no atomic increment: across replicas a read and a write can
        still interleave (a window of milliseconds), so there the limit is close, not exact, and
        RATE_LIMIT_LOGIN bounds the rest.
        """
        lock = self._counting.setdefault(counter, anyio.Lock())
        async with lock:
            failures = await self.store.get(counter, collection="login_failures") or {"count": 0}
            if failures["count"] >= MAX_FAILURES:
                return False
            failures["count"] += 1
            await self.store.put(counter, failures, collection="login_failures", ttl=FAILURE_WINDOW)
        return True

    async def login(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        found = await self._pending(request, form)
        if isinstance(found, Response):
            return found
        key, pending = found
        if form is None:
            return self._with_cookie(self._login_form(key, pending), COOKIE, key)
        from_this_page = request.cookies.get(COOKIE) == key and hmac.compare_digest(
            str(form.get("csrf", "")), pending.csrf
        )
        # Once someone has signed in, only their browser may sign in again on this authorization.
        if not from_this_page or (pending.browser and self._signed_in_here(request, pending) is None):
            return refused()
        name = str(form.get("username", ""))
        counter = f"{request.client.host if request.client else '?'}:{name}"
        if not await self._attempt(counter):
            return page("Too many attempts", "<h1>Too many attempts</h1><p>Wait a few minutes.</p>", 429)
        if not await self.server.users.verify(name, str(form.get("password", ""))):
            return self._login_form(key, pending, error="Wrong user name or password.", status=401)
        await self.store.delete(counter, collection="login_failures")
        secret = secrets.token_urlsafe(32)
        pending.user, pending.signed_in_at, pending.browser = name, time.time(), digest(secret)
        await self.server.save(key, pending)
        # A consent given before the user was last signed out everywhere no longer counts.
        consent = await self.store.get(f"{name}:{pending.client_id}", collection="consents")
        if (
            consent is not None
            and float(consent.get("at", 0)) >= await signed_out_at(self.store, name)
            and set(pending.scopes) <= set(consent["scopes"])
        ):
            return self._back(await self.server.complete(key, pending, name))
        response = RedirectResponse(f"{self.server.prefix}/oauth/consent?txn={key}", status_code=303)
        # Strict: only this site's own pages (this redirect, the consent form) send it.
        return self._with_cookie(response, SIGNED_IN_COOKIE, secret, samesite="strict")

    async def consent(self, request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        found = await self._pending(request, form)
        if isinstance(found, Response):
            return found
        key, pending = found
        user = pending.user
        if not user:
            return RedirectResponse(f"{self.server.prefix}/oauth/login?txn={key}", status_code=303)
        secret = self._signed_in_here(request, pending)
        if secret is None:
            return refused()
        csrf = consent_csrf(secret, key)
        if form is None:
            return self._consent_form(key, pending, csrf)
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf):
            return refused()
        if form.get("decision") != "allow":
            return self._back(await self.server.deny(key, pending))
        location = await self.server.complete(key, pending, user)
        if location is not None:
            # Remembered as of the sign-in, so a sign-out everywhere since then forgets it.
            remembered = {"scopes": sorted(pending.scopes), "at": pending.signed_in_at}
            await self.store.put(f"{user}:{pending.client_id}", remembered, collection="consents")
        return self._back(location)

    @staticmethod
    def _back(location: str | None) -> Response:
        """Back to the client, unless this authorization was already answered (a form posted twice)."""
        return RedirectResponse(location, status_code=303) if location is not None else expired()

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

    def _consent_form(self, key: str, pending: Pending, csrf: str) -> Response:
        scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in pending.scopes) or "<li>no scopes</li>"
        # The whole redirect URI, not its host: "https://claude.ai@evil.example/" is not claude.ai.
        return page(
            "Allow access?",
            f"<h1>Allow {escape(pending.client_name)}?</h1>"
            f"<p>It will act as <b>{escape(pending.user or '')}</b> with:</p><ul>{scopes}</ul>"
            f"<p>and receive access at <code>{escape(pending.redirect_uri)}</code>.</p>"
            f"<form method=post action='{self.server.prefix}/oauth/consent'>"
            f"<input type=hidden name=txn value='{escape(key)}'><input type=hidden name=csrf value='{escape(csrf)}'>"
            "<button type=submit name=decision value=allow>Allow</button> "
            "<button type=submit name=decision value=deny class=secondary>Deny</button></form>",
        )
