"""The authorization server behind fastmcp's provider interface, and the endpoints it serves.

Metadata (RFC 8414), registration (RFC 7591) or a client metadata document, authorize with PKCE S256 (OAuth 2.1), token,
revocation (RFC 7009), protected resource metadata (RFC 9728), and the login and consent pages.
Everything it keeps lives in the project's store, so it survives restarts and is shared by
replicas on Redis or PostgreSQL.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from fastmcp.server.auth import AccessToken, OAuthProvider
from mcp.server.auth.provider import (
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_metadata, create_auth_routes, create_protected_resource_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl, BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings, is_loopback
from .clients import MAX_SCOPE_LENGTH, MAX_URI_LENGTH, Client, check_metadata
from .documents import ClientDocuments, names_document
from .pages import Pages, page
from .tokens import Grant, Tokens
from .users import Users

if TYPE_CHECKING:  # py-key-value loads when the store opens, not at every start
    from key_value.aio.protocols import AsyncKeyValue

AUTHORIZATION_SECONDS = 600
# What a pending authorization keeps of the request, bounded: anyone may send one.
MAX_STATE_LENGTH = 1024
# An S256 challenge is 43 characters (RFC 7636 §4.2); a verifier at most 128.
MAX_CHALLENGE_LENGTH = 128


class Pending(BaseModel):
    """An authorization request waiting for the user to sign in and consent."""

    client_id: str
    client_name: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str
    state: str | None
    scopes: list[str]
    csrf: str
    # Set together by a successful sign-in: who, when, and the hash of a secret only the browser
    # that signed in holds (its cookie), which consent asks for.
    user: str | None = None
    signed_in_at: float = 0.0
    browser: str | None = None


class Code(AuthorizationCode):
    family: str


class Refresh(RefreshToken):
    grant: Grant


class ErrorPage:
    """A refused authorization is shown to the person in the browser as a page, never sent anywhere.

    That covers an unknown client or an unregistered redirect URI, and also every error the SDK
    would redirect to a registered URI (bad response_type, PKCE, scope, resource): anyone may
    register https://evil.example/phish, and an error sent there before the user has seen the
    client would make this server an open redirector (RFC 9700 §4.11.2). The one redirect
    /authorize makes is to this server's login page; access_denied goes to the client only after
    the user chose Deny.
    """

    def __init__(self, app: ASGIApp, login_url: str) -> None:
        self.app = app
        self.login_url = login_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
        headers = dict(start.get("headers", []))
        location = headers.get(b"location", b"").decode("latin-1")
        reason = None
        if start["status"] == 400 and headers.get(b"content-type", b"").startswith(b"application/json"):
            reason = json.loads(body).get("error_description") or "the request is not valid"
        elif 300 <= start["status"] < 400 and not location.startswith(self.login_url):
            error = parse_qs(urlsplit(location).query)
            reason = (error.get("error_description") or error.get("error") or ["the request is not valid"])[0]
        if reason is not None:
            refused = page("Sign-in refused", f"<h1>This app cannot sign in here</h1><p>{escape(reason[:300])}</p>", 400)
            return await refused(scope, receive, send)
        for message in messages:
            await send(message)


class BuiltinAuthorizationServer(OAuthProvider):
    def __init__(self, settings: Settings, store: AsyncKeyValue, scopes: list[str]) -> None:
        super().__init__(
            base_url=settings.public_url,
            client_registration_options=ClientRegistrationOptions(enabled=True),
            revocation_options=RevocationOptions(enabled=True),
        )
        self.store = store
        self.scopes = scopes
        self.secure_cookies = settings.public_url.startswith("https://")
        # The path prefix PUBLIC_URL carries, for the links and redirects of the sign-in pages.
        self.prefix = settings.base_path
        self.code_ttl = settings.authorization_code_ttl
        self.registration_ttl = settings.registration_ttl
        self.tokens = Tokens(
            store,
            issuer=self.issuer,
            signing_key=settings.jwt_signing_key.get_secret_value(),
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            reuse_grace=settings.refresh_reuse_grace,
        )
        self.users = Users(store)
        self.documents = ClientDocuments(
            scopes,
            timeout=settings.client_document_timeout,
            allow_loopback=is_loopback(urlsplit(settings.public_url).hostname or ""),
        )
        self.pages = Pages(self)

    @property
    def issuer(self) -> str:
        return str(self.issuer_url)

    @property
    def resource(self) -> str:
        return str(self._resource_url)

    @property
    def login_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/oauth/login"

    # Registration (RFC 7591)

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if len(client_id) > MAX_URI_LENGTH:
            return None  # neither a registered id nor a document URL; not worth a fetch or a cache entry
        if names_document(client_id):
            return await self.documents.client(client_id)
        found = await self.store.get(client_id, collection="clients")
        return Client.model_validate(found) if found else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        """RFC 7591 §3.2.2: bounded metadata; kept for REGISTRATION_TTL unless the client is used.

        Registration is open to anyone, so one that never leads to a token expires; the first
        code exchanged stores the client again for good (see `exchange_authorization_code`).
        """
        check_metadata(client_info)
        # What a client may be granted is decided at consent; clients such as claude.ai register
        # scopes of their own ("claudeai"), which must not make its later requests invalid.
        asked = (client_info.scope or "").split()
        client = Client.model_validate({**client_info.model_dump(mode="json"), "scope": " ".join([*self.scopes, *asked])})
        await self.store.put(client.client_id, client.model_dump(mode="json"), collection="clients", ttl=self.registration_ttl)

    # Authorization: the pending request waits in the store while the user logs in and consents.

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource and params.resource.rstrip("/") != self.resource.rstrip("/"):
            raise AuthorizeError("invalid_target", f"tokens here are for {self.resource} only")
        if len(params.state or "") > MAX_STATE_LENGTH:
            raise AuthorizeError("invalid_request", f"state is limited to {MAX_STATE_LENGTH} characters")
        if len(params.code_challenge) > MAX_CHALLENGE_LENGTH:
            raise AuthorizeError("invalid_request", f"code_challenge is limited to {MAX_CHALLENGE_LENGTH} characters")
        if len(" ".join(params.scopes or [])) > MAX_SCOPE_LENGTH:
            raise AuthorizeError("invalid_scope", f"scope is limited to {MAX_SCOPE_LENGTH} characters")
        scopes = list(dict.fromkeys(s for s in params.scopes or [] if s in self.scopes)) or self.scopes
        pending = Pending(
            client_id=client.client_id,
            client_name=client.client_name or client.client_id,
            redirect_uri=str(params.redirect_uri),
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            code_challenge=params.code_challenge,
            state=params.state,
            scopes=scopes,
            csrf=secrets.token_urlsafe(24),
        )
        key = secrets.token_urlsafe(24)
        await self.store.put(key, pending.model_dump(), collection="authorizations", ttl=AUTHORIZATION_SECONDS)
        return construct_redirect_uri(self.login_url, txn=key)

    async def pending(self, key: str) -> Pending | None:
        found = await self.store.get(key, collection="authorizations")
        return Pending.model_validate(found) if found else None

    async def save(self, key: str, pending: Pending) -> None:
        await self.store.put(key, pending.model_dump(), collection="authorizations", ttl=AUTHORIZATION_SECONDS)

    async def complete(self, key: str, pending: Pending, user: str) -> str | None:
        """The user consented: a single-use code, back to the client (with `iss`, RFC 9207).

        None if this authorization was already completed or denied (a form posted twice).
        """
        if not await self.store.delete(key, collection="authorizations"):
            return None
        code = Code.model_validate(
            {
                **pending.model_dump(include={"client_id", "code_challenge", "redirect_uri", "redirect_uri_provided_explicitly", "scopes"}),
                "code": secrets.token_urlsafe(32),
                "expires_at": time.time() + self.code_ttl,
                "resource": self.resource,
                "subject": user,
                # Begun at the sign-in: signing the user out after it ends this family too.
                "family": Tokens.new_family(started=pending.signed_in_at),
            }
        )
        await self.store.put(code.code, code.model_dump(mode="json"), collection="codes", ttl=self.code_ttl)
        return construct_redirect_uri(pending.redirect_uri, code=code.code, state=pending.state, iss=self.issuer)

    async def deny(self, key: str, pending: Pending) -> str | None:
        if not await self.store.delete(key, collection="authorizations"):
            return None
        return construct_redirect_uri(
            pending.redirect_uri,
            error="access_denied",
            error_description="the user declined",
            state=pending.state,
            iss=self.issuer,
        )

    # Token endpoint: codes are single-use; a replayed one revokes what it was exchanged for.

    async def load_authorization_code(self, client: OAuthClientInformationFull, authorization_code: str) -> Code | None:
        found = await self.store.get(authorization_code, collection="codes")
        if found is None:
            used = await self.store.get(authorization_code, collection="used_codes")
            if used is not None:
                await self.tokens.revoke_family(str(used["family"]))
            return None
        code = Code.model_validate(found)
        return code if code.client_id == client.client_id else None

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        code = Code.model_validate(authorization_code.model_dump())  # what load_authorization_code returned
        if not await self.store.delete(code.code, collection="codes"):
            raise TokenError("invalid_grant", "authorization code already used")
        await self.store.put(code.code, {"family": code.family}, collection="used_codes", ttl=self.code_ttl)
        if not names_document(client.client_id):
            # A user signed this client in: it is no longer a registration nobody used.
            await self.store.put(client.client_id, client.model_dump(mode="json"), collection="clients")
        grant = Grant(
            client_id=client.client_id,
            scopes=code.scopes,
            subject=code.subject or "",
            resource=code.resource or self.resource,
            family=code.family,
        )
        return await self.tokens.issue(grant)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> Refresh | None:
        grant = await self.tokens.grant_of_refresh(refresh_token)
        if grant is None or grant.client_id != client.client_id:
            return None
        return Refresh(token=refresh_token, client_id=grant.client_id, scopes=grant.scopes, subject=grant.subject, grant=grant)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        grant = Refresh.model_validate(refresh_token.model_dump()).grant  # what load_refresh_token returned
        narrowed = [s for s in scopes if s in grant.scopes] or grant.scopes
        # Issued before the old token is spent: if the store fails in between, the client keeps a
        # refresh token that works (the new one, never sent, expires unused).
        issued = await self.tokens.issue(grant.model_copy(update={"scopes": narrowed}))
        if not await self.tokens.use_refresh(refresh_token.token, grant):
            raise TokenError("invalid_grant", "refresh token already used; sign in again")
        return issued

    async def load_access_token(self, token: str) -> AccessToken | None:
        return await self.tokens.verify(token, self.resource)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        await self.tokens.revoke(token.token, token.client_id)

    # Endpoints

    def get_routes(self, mcp_path: str | None = None) -> list[Route]:
        self.set_mcp_path(mcp_path)
        routes = [
            self._with_error_page(route) if route.path == "/authorize" else route
            for route in create_auth_routes(
                provider=self,
                issuer_url=AnyHttpUrl(self.issuer),
                client_registration_options=self.client_registration_options,
            )
            if isinstance(route, Route) and route.path != "/.well-known/oauth-authorization-server"
        ]
        routes.append(Route("/.well-known/oauth-authorization-server", self._metadata, methods=["GET"]))
        if self.prefix:
            # RFC 8414 §3.1: an issuer with a path has its metadata at the well-known name plus that path.
            routes.append(Route(f"/.well-known/oauth-authorization-server{self.prefix}", self._metadata, methods=["GET"]))
        routes.append(Route("/revoke", self._revoke, methods=["POST"]))
        routes.extend(
            create_protected_resource_routes(
                resource_url=AnyHttpUrl(self.resource),
                authorization_servers=[AnyHttpUrl(self.issuer)],
                scopes_supported=self.scopes,
            )
        )
        routes.extend(self.pages.routes())
        return routes

    def _with_error_page(self, route: Route) -> Route:
        return Route(route.path, ErrorPage(route.app, self.login_url), methods=route.methods)

    async def _metadata(self, request: Request) -> Response:
        """RFC 8414, listing what the SDK's default leaves out: public clients (`none`) and `iss` (RFC 9207)."""
        metadata = build_metadata(
            AnyHttpUrl(self.issuer), None, ClientRegistrationOptions(enabled=True), RevocationOptions(enabled=True)
        ).model_dump(mode="json", exclude_none=True)
        metadata["issuer"] = self.issuer
        metadata["scopes_supported"] = self.scopes
        metadata["token_endpoint_auth_methods_supported"] = ["none", "client_secret_post", "client_secret_basic"]
        metadata["revocation_endpoint_auth_methods_supported"] = ["none", "client_secret_post"]
        metadata["authorization_response_iss_parameter_supported"] = True
        metadata["client_id_metadata_document_supported"] = True
        return JSONResponse(metadata, headers={"Cache-Control": "public, max-age=3600"})

    async def _revoke(self, request: Request) -> Response:
        """RFC 7009, public clients included (the SDK's handler demands a client_secret from everyone).

        §2.1: a token issued to another client is left alone, and the answer is 200 all the same.
        """
        form = await request.form()
        token, client_id = form.get("token"), form.get("client_id")
        if not isinstance(token, str) or not isinstance(client_id, str):
            return JSONResponse({"error": "invalid_request", "error_description": "token and client_id are required"}, 400)
        client = await self.get_client(client_id)
        secret = form.get("client_secret")
        known = client is not None and (
            client.client_secret is None
            or (isinstance(secret, str) and hmac.compare_digest(secret, client.client_secret))
        )
        if not known:
            return JSONResponse({"error": "invalid_client"}, 401)
        await self.tokens.revoke(token, client_id)
        return Response(status_code=200)
