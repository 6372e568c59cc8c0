"""What the benchmarks share: the one tool every measured server runs, and nginx's main config."""

from __future__ import annotations

# Appended to each benchmark's spec: the tool the load generators call.
ADD_TOOL = """
[[tools]]
name = "add"
description = "Add two integers."
returns = "integer"

  [[tools.params]]
  name = "a"
  type = "integer"

  [[tools.params]]
  name = "b"
  type = "integer"
"""

# The generated example body counts calls in the store; every server gets the same body instead.
TOOL_BODY = """\
async def add(store: object, *, a: int, b: int) -> int:
    return a + b
"""

# nginx as a foreground process of the benchmark: everything it writes under its own directory.
NGINX_MAIN = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {site};
}}
"""
