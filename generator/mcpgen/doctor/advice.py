"""Where each fix comes from (the field guide's sections, the specs) and the snippets shown with fixes."""

from __future__ import annotations


def seed(section: int, title: str) -> str:
    """A section of the field guide this project started from (Claude MCP OAuth and transport troubleshooting)."""
    return f"field guide §{section} ({title})"


CONFIGURE = seed(1, "'Configure' visible but not connected")
DCR = seed(2, "Dynamic Client Registration")
REDIRECTS = seed(3, "redirect URIs")
HANDSHAKE = seed(4, "the three-step handshake")
GET_FALLBACK = seed(6, "why Claude sends GET")
TOKEN = seed(8, "token response format")
PRACTICES = seed(10, "best practices for POST-only servers")
CHECKLIST = seed(10, "testing checklist")
MISTAKES = seed(10, "common mistakes to avoid")

TRANSPORT_SPEC = "MCP 2025-06-18 basic/transports (Streamable HTTP)"
VERSIONS_SPEC = "MCP 2026-07-28 (stateless requests: server/discover, per-request _meta)"
AUTH_SPEC = "MCP 2025-06-18 basic/authorization"
RFC9728 = "RFC 9728 (protected resource metadata)"
RFC8414 = "RFC 8414 (authorization server metadata)"
RFC7591 = "RFC 7591 (dynamic client registration)"
RFC6749_ERRORS = "RFC 6749 §5.2 (token error response)"
RFC6749_AUTHORIZE = "RFC 6749 §4.1.2.1 (authorization errors)"
RFC7636 = "RFC 7636 (PKCE)"
RFC8252 = "RFC 8252 §7.3 (loopback redirects, any port)"
FETCH_CORS = "Fetch standard, CORS protocol"

GET_405 = """\
HTTP/1.1 405 Method Not Allowed
Allow: POST, DELETE
Content-Type: application/json

{"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Method Not Allowed: use POST"}}"""

LENIENT_ACCEPT = """\
# parse the header; never compare it as one string
types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
ok = types & {"application/json", "application/*", "*/*"} and (
    json_answers or types & {"text/event-stream", "text/*", "*/*"})
if not ok: return 406"""

INITIALIZED_202 = """\
if (method === 'notifications/initialized') {
  return res.status(202).end();  // no body: it is a notification
}"""

SESSION_ID = """\
if (body.method === 'initialize') {
  const sessionId = crypto.randomUUID();
  res.setHeader('Mcp-Session-Id', sessionId);  // and keep the session under it
}"""

SESSION_ERRORS = """\
no Mcp-Session-Id on a request after initialize  -> 400 Bad Request
an Mcp-Session-Id the server does not know      -> 404 Not Found (the client re-initializes)
DELETE with the session id                       -> 200 (or 405 if clients may not end sessions)"""

PRM = """\
GET /.well-known/oauth-protected-resource/mcp   (and the same at /.well-known/oauth-protected-resource)
{"resource": "https://your-server.com/mcp",
 "authorization_servers": ["https://your-server.com"],
 "bearer_methods_supported": ["header"]}

401 answers carry:
WWW-Authenticate: Bearer resource_metadata="https://your-server.com/.well-known/oauth-protected-resource/mcp\""""

AS_METADATA = """\
{"issuer": "https://your-server.com",
 "authorization_endpoint": "https://your-server.com/authorize",
 "token_endpoint": "https://your-server.com/token",
 "registration_endpoint": "https://your-server.com/register",
 "code_challenge_methods_supported": ["S256"],
 "token_endpoint_auth_methods_supported": ["none"],
 "grant_types_supported": ["authorization_code", "refresh_token"],
 "response_types_supported": ["code"]}"""

DCR_RESPONSE = """\
HTTP/1.1 201 Created
{"client_id": "98f974d2-5ab1-467d-b043-64edbb2a840b", "client_name": "claudeai",
 "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
 "token_endpoint_auth_method": "none", "scope": "claudeai",
 "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"]}"""

TOKEN_ERROR = """\
HTTP/1.1 400 Bad Request
Content-Type: application/json
{"error": "invalid_grant", "error_description": "authorization code is invalid or expired"}"""

TOKEN_RESPONSE = """\
{"access_token": "eyJhbGci...", "token_type": "Bearer", "expires_in": 3600,
 "refresh_token": "tGzv3JOkF0...", "scope": "read write"}"""

CORS = """\
Access-Control-Allow-Origin: http://localhost:6274     (the browser client's origin, as the request names it)
Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS
Access-Control-Allow-Headers: Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name
Access-Control-Expose-Headers: Mcp-Session-Id, WWW-Authenticate, MCP-Protocol-Version
(preflight OPTIONS answered 200/204 before any auth check)"""
