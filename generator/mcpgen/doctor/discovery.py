"""Discovery: from a 401 to the authorization server, as an MCP client finds it (RFC 9728, RFC 8414).

Guards against the failures that leave Claude at 'Configure': a 401 without WWW-Authenticate, no
protected resource metadata (at the path-suffixed or the root URL), a `resource` that is not this
server (or http behind an https proxy), and authorization server metadata without S256, without the
`none` auth method public clients use, or without a way to register.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from . import advice
from .clients import Client
from .context import Auth, Context
from .probe import Exchange
from .report import Check, Status, passed, problem, skipped

PRM_PATH = "/.well-known/oauth-protected-resource"
INVALID_TOKEN = "mcpgen-doctor-invalid-token"


def www_authenticate_param(header: str, name: str) -> str | None:
    match = re.search(rf'{name}\s*=\s*(?:"([^"]*)"|([^\s,]+))', header)
    return (match.group(1) or match.group(2)) if match else None


def prm_urls(url: str) -> tuple[str, str]:
    """(path-suffixed, root) protected resource metadata URLs of an MCP endpoint (RFC 9728 §3.1)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin + PRM_PATH + parts.path.rstrip("/"), origin + PRM_PATH


def as_metadata_urls(issuer: str) -> list[str]:
    """Where clients look for authorization server metadata, in the MCP SDK's order (RFC 8414 §3, OIDC)."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if path:
        return [
            f"{origin}/.well-known/oauth-authorization-server{path}",
            f"{origin}/.well-known/openid-configuration{path}",
            f"{origin}{path}/.well-known/openid-configuration",
        ]
    return [f"{origin}/.well-known/oauth-authorization-server", f"{origin}/.well-known/openid-configuration"]


def resource_matches(url: str, resource: str) -> bool:
    """The MCP SDK's rule: same scheme, host and port, and the resource path a prefix of the URL's."""
    mine, theirs = urlsplit(url), urlsplit(resource)
    if (mine.scheme.lower(), mine.netloc.lower()) != (theirs.scheme.lower(), theirs.netloc.lower()):
        return False
    return (mine.path.rstrip("/") + "/").startswith(theirs.path.rstrip("/") + "/")


def _document(answer: Exchange) -> dict[str, Any] | None:
    parsed = answer.json() if answer.status == 200 else None
    return parsed if isinstance(parsed, dict) else None


def checks(ctx: Context) -> list[Check]:
    if ctx.auth is Auth.NONE:
        return [skipped("discovery.auth", "authentication", "no auth: the server answers without credentials")]
    if ctx.auth is not Auth.REQUIRED or ctx.anonymous is None:
        return [skipped("discovery.auth", "authentication", "the server's auth could not be determined")]
    found = [challenge(ctx), invalid_token(ctx)]
    found += protected_resource(ctx)
    if not ctx.oauth_offered:
        return found
    found += authorization_server(ctx)
    return found


def challenge(ctx: Context) -> Check:
    """A 401 must say how to authenticate: `WWW-Authenticate: Bearer` (with resource_metadata for OAuth)."""
    id, title = "discovery.401", "401 carries WWW-Authenticate: Bearer"
    assert ctx.anonymous is not None
    header = ctx.anonymous.header("www-authenticate")
    if header.lower().startswith("bearer"):
        return passed(id, title, header)
    return problem(
        Status.FAIL,
        id,
        title,
        f"WWW-Authenticate: {header or '(missing)'}",
        "without a Bearer challenge a client cannot tell that it should start OAuth (or send a token)",
        'answer unauthenticated requests with 401 and WWW-Authenticate: Bearer resource_metadata="<PRM URL>"',
        [advice.AUTH_SPEC, advice.CHECKLIST],
        advice.PRM,
    )


def invalid_token(ctx: Context) -> Check:
    id, title = "discovery.invalid-token", "a made-up token gets 401"
    answer = ctx.initialize(headers={**ctx.headers(session=False), "Authorization": f"Bearer {INVALID_TOKEN}"})
    if answer.status == 401:
        return passed(id, title, "401")
    if answer.status == 200:
        return problem(
            Status.FAIL,
            id,
            title,
            "200: the server accepted a bearer token it never issued",
            "tokens are not validated, so anyone can call the tools",
            "validate every bearer token (signature, issuer, audience, expiry, or a lookup) before serving",
            [advice.TOKEN],
        )
    return problem(
        Status.FAIL if answer.status is None or answer.status >= 500 else Status.WARN,
        id,
        title,
        answer.describe(),
        'an invalid or expired token should get 401 (error="invalid_token"): that is what makes a client refresh '
        "or sign in again, so once its token expires a client that gets anything else is stuck",
        'answer 401 with WWW-Authenticate: Bearer error="invalid_token"',
        [advice.TOKEN, advice.AUTH_SPEC],
    )


def protected_resource(ctx: Context) -> list[Check]:
    """Find the protected resource metadata the way the MCP SDK does; decide whether OAuth is offered."""
    assert ctx.anonymous is not None
    pointer = www_authenticate_param(ctx.anonymous.header("www-authenticate"), "resource_metadata")
    path_url, root_url = prm_urls(ctx.url)
    urls = list(dict.fromkeys([path_url, root_url]))
    answers = {url: ctx.probe.send("GET", url, headers={"Accept": "application/json"}) for url in urls}
    if pointer and pointer not in answers:
        answers[pointer] = ctx.probe.send("GET", pointer, headers={"Accept": "application/json"})
    documents = {url: doc for url, answer in answers.items() if (doc := _document(answer)) is not None}
    if pointer and pointer in documents:
        ctx.prm = documents[pointer]
    else:
        ctx.prm = next(iter(documents.values()), None)
    if ctx.prm is None:
        as_found = any(
            _document(ctx.probe.send("GET", url, headers={"Accept": "application/json"}))
            for url in as_metadata_urls(ctx.origin)
        )
        if not pointer and not as_found:
            return [bearer_only(ctx)]
    ctx.oauth_offered = True
    found = [resource_metadata_pointer(ctx, pointer, documents)]
    found += [_prm_location(ctx, url, answers[url], documents, root=url == root_url) for url in urls]
    if ctx.prm is not None:
        found += [prm_resource(ctx), prm_https(ctx)]
    return found


def bearer_only(ctx: Context) -> Check:
    """A bearer scheme without OAuth discovery: fine for clients that can send a fixed header, not for claude.ai."""
    id, title = "discovery.oauth", "OAuth discovery"
    detail = "none: a bearer token without OAuth (no resource_metadata, no metadata documents)"
    if not ctx.wants(Client.CLAUDE_AI):
        return passed(id, title, detail + "; clients send the key as an Authorization header")
    return problem(
        Status.FAIL if ctx.clients == {Client.CLAUDE_AI} else Status.WARN,
        id,
        title,
        detail,
        "claude.ai connectors authenticate with OAuth only: a static key cannot be entered there (Claude Code "
        "and MCP Inspector can send it as a header)",
        "for claude.ai, offer OAuth: protected resource metadata pointing at an authorization server with DCR "
        "or CIMD; for Claude Code: claude mcp add --transport http NAME URL --header 'Authorization: Bearer KEY'",
        [advice.CONFIGURE, advice.AUTH_SPEC],
        advice.PRM,
    )


def resource_metadata_pointer(ctx: Context, pointer: str | None, documents: dict[str, Any]) -> Check:
    id, title = "discovery.resource-metadata", "the 401 points at the resource metadata"
    if pointer and pointer in documents:
        return passed(id, title, f"resource_metadata={pointer}")
    if pointer:
        return problem(
            Status.FAIL,
            id,
            title,
            f"resource_metadata={pointer}, which does not serve a JSON document",
            "the client follows the pointer first, gets nothing usable, and may stop there",
            "point resource_metadata at the URL that serves the protected resource metadata",
            [advice.RFC9728, advice.AUTH_SPEC],
            advice.PRM,
        )
    return problem(
        Status.WARN,
        id,
        title,
        "no resource_metadata in WWW-Authenticate",
        "clients then have to guess the well-known URLs; recent revisions of the spec expect the pointer",
        'add resource_metadata="<PRM URL>" to the Bearer challenge',
        [advice.RFC9728, advice.AUTH_SPEC],
        advice.PRM,
    )


def _prm_location(ctx: Context, url: str, answer: Exchange, documents: dict[str, Any], root: bool) -> Check:
    where = "root" if root else "path-suffixed"
    id, title = f"discovery.prm-{'root' if root else 'path'}", f"protected resource metadata at the {where} URL"
    path = urlsplit(url).path
    if url in documents:
        return passed(id, title, f"{path}: 200 JSON")
    found_elsewhere = bool(documents)
    problem_detail = f"{path}: {answer.describe().split(' -> ')[-1]}" + (" (not JSON)" if answer.status == 200 else "")
    if root:
        cause = "several clients look only at the root well-known URL"
    else:
        cause = "RFC 9728 puts the document of /mcp at the path-suffixed URL, and the MCP SDK asks there first"
    if not found_elsewhere:
        cause = (
            "the server asks for a token but publishes no protected resource metadata, so clients cannot find "
            "its authorization server and stop (Claude stays at 'Configure')"
        )
    return problem(
        Status.WARN if found_elsewhere else Status.FAIL,
        id,
        title,
        problem_detail,
        cause,
        "serve the same JSON document at /.well-known/oauth-protected-resource and at "
        "/.well-known/oauth-protected-resource/mcp",
        [advice.RFC9728, advice.CONFIGURE, advice.CHECKLIST],
        advice.PRM,
    )


def _proxy_cause(what: str) -> str:
    return (
        f"{what}: the server builds its URLs from the request it sees, and behind a TLS-terminating proxy that "
        "is http (or an internal host); clients then refuse the metadata or send tokens for the wrong audience"
    )


PROXY_FIX = (
    "build advertised URLs from the public base URL (a setting such as PUBLIC_URL), or trust the proxy's "
    "X-Forwarded-Proto/Host (uvicorn --proxy-headers --forwarded-allow-ips)"
)


def prm_resource(ctx: Context) -> Check:
    id, title = "discovery.prm-resource", "`resource` names this server"
    resource = (ctx.prm or {}).get("resource")
    servers = (ctx.prm or {}).get("authorization_servers")
    if not isinstance(resource, str) or not isinstance(servers, list) or not servers:
        return problem(
            Status.FAIL,
            id,
            title,
            f"resource={resource!r}, authorization_servers={servers!r}",
            "the document must name the resource and at least one authorization server",
            "fill in resource (this server's URL) and authorization_servers",
            [advice.RFC9728],
            advice.PRM,
        )
    if resource_matches(ctx.url, resource):
        return passed(id, title, resource)
    theirs = urlsplit(resource)
    if theirs.netloc.lower() == ctx.parts.netloc.lower() and theirs.scheme != ctx.parts.scheme:
        cause = _proxy_cause(f"resource is {theirs.scheme}:// while clients use {ctx.parts.scheme}://")
        fix = PROXY_FIX
    elif theirs.netloc.lower() != ctx.parts.netloc.lower():
        cause = _proxy_cause(f"resource names host {theirs.netloc!r}, clients use {ctx.parts.netloc!r}")
        fix = PROXY_FIX
    else:
        cause = "the resource path is not this endpoint (nor a parent of it); clients reject the metadata"
        fix = f"set resource to {ctx.url}"
    return problem(Status.FAIL, id, title, f"resource={resource}", cause, fix, [advice.RFC9728, advice.AUTH_SPEC])


def _urls(value: Any) -> list[str]:
    if isinstance(value, str) and "://" in value:
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and "://" in item]
    return []


def _https_check(ctx: Context, id: str, title: str, document: dict[str, Any], what: str) -> Check:
    if not ctx.https:
        return skipped(id, title, "the server URL is http; checked once it is deployed behind https")
    plain = [url for value in document.values() for url in _urls(value) if url.startswith("http://")]
    if not plain:
        return passed(id, title, "every URL is https")
    return problem(
        Status.FAIL,
        id,
        title,
        ", ".join(plain),
        _proxy_cause(f"the {what} advertises http URLs for an https server"),
        PROXY_FIX,
        [advice.AUTH_SPEC],
    )


def prm_https(ctx: Context) -> Check:
    return _https_check(
        ctx, "discovery.prm-https", "resource metadata URLs are https", ctx.prm or {}, "resource metadata"
    )


def authorization_server(ctx: Context) -> list[Check]:
    """The authorization server's metadata, found from the PRM (or, 2025-03-26 style, at this origin)."""
    servers = (ctx.prm or {}).get("authorization_servers")
    issuer = servers[0] if isinstance(servers, list) and servers and isinstance(servers[0], str) else ctx.origin
    ctx.as_url = issuer
    id, title = "discovery.as-metadata", "authorization server metadata"
    tried: list[str] = []
    answered = False
    for url in as_metadata_urls(issuer):
        answer = ctx.probe.send("GET", url, headers={"Accept": "application/json"})
        answered = answered or answer.status is not None
        tried.append(f"{urlsplit(url).path} {answer.status or answer.error}")
        if (document := _document(answer)) is not None:
            ctx.as_metadata = document
            break
    if ctx.as_metadata is None and not answered:
        return [
            problem(
                Status.FAIL,
                id,
                title,
                f"for {issuer}: " + ", ".join(tried),
                f"the authorization server {issuer} does not answer from here (nothing came back from any of its "
                "metadata URLs), so clients cannot start OAuth",
                "check the issuer URL in authorization_servers (its host name, that it resolves, its port) and that "
                "the authorization server runs and is reachable from where clients connect",
                [advice.CONFIGURE, advice.RFC9728],
            )
        ]
    if ctx.as_metadata is None:
        return [
            problem(
                Status.FAIL,
                id,
                title,
                f"for {issuer}: " + ", ".join(tried),
                "clients cannot find the authorization, token and registration endpoints, so OAuth never starts",
                "serve RFC 8414 metadata at /.well-known/oauth-authorization-server of the issuer",
                [advice.CONFIGURE, advice.RFC8414, advice.PRACTICES],
                advice.AS_METADATA,
            )
        ]
    meta = ctx.as_metadata
    return [
        passed(id, title, f"for {issuer}"),
        as_issuer(ctx, issuer),
        _supports(
            ctx,
            "discovery.as-s256",
            "PKCE S256 advertised",
            "code_challenge_methods_supported",
            "S256",
            None,
            "Claude always uses PKCE with S256, and the MCP spec tells clients to refuse a server that does not "
            "advertise it",
            [advice.DCR, advice.RFC7636],
        ),
        _supports(
            ctx,
            "discovery.as-none",
            "public clients (`none` auth method) advertised",
            "token_endpoint_auth_methods_supported",
            "none",
            ["client_secret_basic"],
            "Claude registers as a public client (token_endpoint_auth_method none) whatever this list says, so "
            "no client breaks on the list itself; whether the server accepts such a registration is checked "
            "under registration",
            [advice.DCR, advice.PRACTICES],
            Status.WARN,
        ),
        _grants(ctx, meta),
        _registration(ctx, meta),
        _https_check(ctx, "discovery.as-https", "authorization server URLs are https", meta, "AS metadata"),
    ]


def as_issuer(ctx: Context, issuer: str) -> Check:
    id, title = "discovery.as-issuer", "issuer matches"
    found = (ctx.as_metadata or {}).get("issuer")
    if isinstance(found, str) and found.rstrip("/") == issuer.rstrip("/"):
        return passed(id, title, found)
    return problem(
        Status.FAIL,
        id,
        title,
        f"issuer={found!r}, expected {issuer}",
        "RFC 8414 requires the issuer to be the URL the metadata was found for; clients must reject a mismatch "
        "(behind a proxy this is often the internal http URL)",
        PROXY_FIX,
        [advice.RFC8414],
        advice.AS_METADATA,
    )


def _supports(
    ctx: Context,
    id: str,
    title: str,
    key: str,
    value: str,
    default: list[str] | None,
    cause: str,
    see: list[str],
    severity: Status = Status.FAIL,
) -> Check:
    listed = (ctx.as_metadata or {}).get(key, default)
    if isinstance(listed, list) and value in listed:
        return passed(id, title, f"{key}: {', '.join(map(str, listed))}")
    return problem(
        severity,
        id,
        title,
        f"{key}: {listed!r}" if key in (ctx.as_metadata or {}) else f"{key} missing",
        cause,
        f'list "{value}" in {key} (and support it)',
        see,
        advice.AS_METADATA,
    )


def _grants(ctx: Context, meta: dict[str, Any]) -> Check:
    id, title = "discovery.as-grants", "grant and response types"
    grants = meta.get("grant_types_supported", ["authorization_code", "implicit"])
    responses = meta.get("response_types_supported", [])
    grants = grants if isinstance(grants, list) else []
    missing = [g for g in ("authorization_code", "refresh_token") if g not in grants]
    if "code" not in (responses if isinstance(responses, list) else []):
        missing.append("response type code")
    if not missing:
        return passed(id, title, f"grants: {', '.join(map(str, grants))}")
    only_refresh = missing == ["refresh_token"]
    return problem(
        Status.WARN if only_refresh else Status.FAIL,
        id,
        title,
        f"missing: {', '.join(missing)}",
        "without refresh_token Claude must send the user through login again whenever a token expires"
        if only_refresh
        else "clients use the authorization code flow (response type code); without it there is no way to log in",
        'advertise grant_types_supported ["authorization_code", "refresh_token"] and response_types_supported '
        '["code"], and support them',
        [advice.CONFIGURE, advice.MISTAKES, advice.RFC8414],
        advice.AS_METADATA,
    )


def _registration(ctx: Context, meta: dict[str, Any]) -> Check:
    id, title = "discovery.as-registration", "clients can register (DCR or CIMD)"
    if isinstance(meta.get("registration_endpoint"), str):
        return passed(id, title, f"registration_endpoint {meta['registration_endpoint']}")
    if meta.get("client_id_metadata_document_supported") is True:
        return passed(id, title, "client ID metadata documents (CIMD)")
    if ctx.preregistered:
        return problem(
            Status.WARN,
            id,
            title,
            "no registration_endpoint, no client_id_metadata_document_supported; --client-id given",
            "clients connect once the user pastes a client id registered beforehand (Claude Code: --client-id, "
            "claude.ai: the connector's advanced settings), as you did here; nobody can connect without one",
            "offer dynamic client registration (RFC 7591) for public clients, or CIMD",
            [advice.DCR, advice.RFC7591],
            advice.AS_METADATA,
        )
    return problem(
        Status.FAIL,
        id,
        title,
        "no registration_endpoint, no client_id_metadata_document_supported",
        "Claude has no client id for this server: it registers itself (DCR) or uses a metadata document URL "
        "(CIMD); without either, users must paste a client id and secret by hand",
        "offer dynamic client registration (RFC 7591) for public clients, or CIMD",
        [advice.DCR, advice.RFC7591],
        advice.AS_METADATA,
    )
