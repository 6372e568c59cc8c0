"""Client registration (RFC 7591) and the redirect URIs a client may use (RFC 8252 §7.3, §8.4)."""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull
from pydantic import AnyUrl

from ..settings import is_loopback

# Schemes a browser would run or read locally instead of handing a code to an app.
DANGEROUS_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss"})

# Anyone may register, and a registration is kept for REGISTRATION_TTL (for good, once used), so
# what it may hold is bounded (RFC 7591 sets no limits). Real clients stay far below these.
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2048
MAX_NAME_LENGTH = 200
MAX_SCOPE_LENGTH = 1024
# Everything else a client may send (contacts, jwks, software_id, ...), all together.
MAX_RECORD_BYTES = 16_384


def check_redirect_uri(uri: str) -> None:
    """Refuse where a code must never be sent: plain http off the loopback, script and local URLs.

    https URLs (claude.ai, claude.com), loopback http on any port (Claude Code, Inspector) and
    an app's private-use scheme (RFC 8252 §7.1, e.g. cursor://) are accepted. A URI with
    userinfo (https://claude.ai@evil.example/) is refused: people read it as the host before the @.
    """
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if len(uri) > MAX_URI_LENGTH:
        raise RegistrationError("invalid_redirect_uri", f"redirect URIs are limited to {MAX_URI_LENGTH} characters")
    if scheme in DANGEROUS_SCHEMES or not scheme or "://" not in uri:
        raise RegistrationError("invalid_redirect_uri", f"{uri!r} is not a redirect URI a client may use")
    if "@" in parts.netloc:
        raise RegistrationError("invalid_redirect_uri", f"{uri!r}: redirect URIs must not carry a user name")
    if scheme == "http" and not is_loopback(parts.hostname or ""):
        raise RegistrationError("invalid_redirect_uri", f"{uri!r}: plain http is only allowed for loopback hosts")
    if scheme in ("http", "https") and not parts.hostname:
        raise RegistrationError("invalid_redirect_uri", f"{uri!r} has no host")
    if parts.fragment:
        raise RegistrationError("invalid_redirect_uri", f"{uri!r}: redirect URIs must not carry a fragment")


def check_metadata(client: OAuthClientInformationFull) -> None:
    """Refuse a registration, or a metadata document, larger than any real client needs."""
    uris = client.redirect_uris or []
    if len(uris) > MAX_REDIRECT_URIS:
        raise RegistrationError("invalid_redirect_uri", f"at most {MAX_REDIRECT_URIS} redirect URIs")
    for uri in uris:
        check_redirect_uri(str(uri))
    if len(client.client_name or "") > MAX_NAME_LENGTH:
        raise RegistrationError("invalid_client_metadata", f"client_name is limited to {MAX_NAME_LENGTH} characters")
    if len(client.scope or "") > MAX_SCOPE_LENGTH:
        raise RegistrationError("invalid_client_metadata", f"scope is limited to {MAX_SCOPE_LENGTH} characters")
    if len(client.model_dump_json(exclude={"redirect_uris"})) > MAX_RECORD_BYTES:
        raise RegistrationError("invalid_client_metadata", f"client metadata is limited to {MAX_RECORD_BYTES} bytes")


class Client(OAuthClientInformationFull):
    """A registered client. Loopback redirects match on any port (RFC 8252 §7.3); all else exactly."""

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        if redirect_uri is not None and redirect_uri.scheme == "http" and is_loopback(redirect_uri.host or ""):
            asked = ("http", redirect_uri.host, redirect_uri.path or "/", redirect_uri.query)
            for registered in self.redirect_uris or []:
                if (registered.scheme, registered.host, registered.path or "/", registered.query) == asked:
                    return redirect_uri
            raise InvalidRedirectUriError(f"Redirect URI '{redirect_uri}' not registered for client")
        return super().validate_redirect_uri(redirect_uri)
