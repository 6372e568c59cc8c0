"""mcpgen: one TOML spec in, a ready-to-deploy remote MCP server with OAuth 2.1 out."""

__version__ = "0.1.0"
