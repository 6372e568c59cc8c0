"""The built-in OAuth 2.1 authorization server: registration, login and consent, tokens.

Modules are named for what they implement: `clients` (RFC 7591 registration, RFC 8252
redirect URIs), `tokens` (RFC 9068 JWT access tokens, rotating refresh tokens), `pages`
(login and consent), `users` (accounts), `provider` (fastmcp's provider interface and the
endpoints). Per-tool scopes (RFC 6750 §3.1 insufficient_scope) are in the package's `scopes`.
"""
