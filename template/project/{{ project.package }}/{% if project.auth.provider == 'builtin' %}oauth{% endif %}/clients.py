"""Client registration (RFC 7591) and the redirect URIs a client may use (RFC 8252 §7.3, §8.4)."""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull
from pydantic import AnyUrl

from ..settings import is_loopback

# Schemes a browser would run or read locally instead of handing a code to an app.
DANGEROUS_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"})


def check_redirect_uri(uri: str) -> None:
    """Refuse where a code must never be sent: plain http off the loopback, script and local URLs.

    https URLs (claude.ai, claude.com), loopback http on any port (Claude Code, Inspector) and
    an app's private-use scheme (RFC 8252 §7.1, e.g. cursor://) are accepted.
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in DANGEROUS_SCHEMES or not scheme or "://" not in uri:
        raise RegistrationError("invalid_redirect_uri", f"{uri!r} is not a redirect URI a client may use")
    if scheme == "http" and not is_loopback(parts.hostname or ""):
        raise RegistrationError("invalid_redirect_uri", f"{uri!r}: plain http is only allowed for loopback hosts")
    if scheme in ("http", "https") and not parts.hostname:
        raise RegistrationError("invalid_redirect_uri", f"{uri!r} has no host")
    if parts.fragment:
        raise RegistrationError("invalid_redirect_uri", f"{uri!r}: redirect URIs must not carry a fragment")


class Client(OAuthClientInformationFull):
    """A registered client. Loopback redirects match on any port (RFC 8252 §7.3); all else exactly."""

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        if redirect_uri is not None and redirect_uri.scheme == "http" and is_loopback(redirect_uri.host or ""):
            for registered in self.redirect_uris or []:
                same = (registered.scheme, registered.host, registered.path or "/")
                if same == ("http", redirect_uri.host, redirect_uri.path or "/"):
                    return redirect_uri
            raise InvalidRedirectUriError(f"Redirect URI '{redirect_uri}' not registered for client")
        return super().validate_redirect_uri(redirect_uri)
