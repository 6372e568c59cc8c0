"""One module per `mcpgen` command; the CLI imports each only when it runs."""
