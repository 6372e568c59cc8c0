"""`mcpgen doctor`: probe a live MCP server over HTTP the way Claude and MCP Inspector do.

Each stage module (transport, session, protocol, discovery, oauth, login, cors, leaks) holds the
checks of one part of a client's connection; `run.diagnose` drives them in order and returns a
`report.Report`, in which every FAIL names the clients (clients.Client) that break there.
"""
