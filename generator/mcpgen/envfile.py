"""The `.env` a new project starts with: working values and fresh secrets, never committed."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from mcpgen.spec import PROXY_PROVIDERS, UPSTREAMS, USER_ENDPOINT_PROVIDERS, Spec


def fernet_key() -> str:
    """A key in the format `cryptography.fernet.Fernet` takes (32 random bytes, urlsafe base64)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


# Filled in by the user (the API issues them), so written empty.
_UPSTREAM_SECRETS = {
    "api_key": ("UPSTREAM_API_KEY",),
    "bearer": ("UPSTREAM_TOKEN",),
    "client_credentials": ("UPSTREAM_CLIENT_ID", "UPSTREAM_CLIENT_SECRET"),
}


def env_text(spec: Spec) -> str:
    lines = [
        "# Written by `mcpgen new` with fresh secrets. Keep it out of version control.",
        f"PUBLIC_URL={spec.server.public_url}",
        f"STORAGE_KEY={fernet_key()}",
    ]
    if spec.auth.provider == "static":
        lines.append(f"API_KEYS={secrets.token_urlsafe(32)}")
    if spec.auth.provider == "builtin":
        lines.append(f"JWT_SIGNING_KEY={secrets.token_urlsafe(48)}")
    if spec.auth.provider in PROXY_PROVIDERS:
        upstream = UPSTREAMS[spec.auth.provider]
        lines.append(f"JWT_SIGNING_KEY={secrets.token_urlsafe(48)}")
        lines.append(f"{upstream['env']}_CLIENT_ID={spec.auth.client_id or ''}")
        lines.append(f"# The client secret from {upstream['name']}'s console; the server refuses to start without it.")
        lines.append(f"{upstream['env']}_CLIENT_SECRET=change-me")
    if spec.auth.provider in USER_ENDPOINT_PROVIDERS:
        who = "GitHub logins" if spec.auth.provider == "github" else "Google account emails"
        lines.append(
            f"# Who may sign in ({who}, comma-separated); empty lets in everyone {UPSTREAMS[spec.auth.provider]['name']} knows."
        )
        lines.append("ALLOWED_USERS=")
    if spec.storage.backend == "sqlite":
        lines.append("DATA_DIR=data")
    if url := spec.storage.default_url:
        lines.append(f"STORAGE_URL={url}")
    if spec.storage.backend == "postgres":
        lines.append("# The database compose.yaml starts.")
        lines.append(f"POSTGRES_PASSWORD={secrets.token_urlsafe(24)}")
    if spec.upstream is not None and (secret := _UPSTREAM_SECRETS.get(spec.upstream.auth)):
        lines.append("# The credentials this server calls the API with; fill them in (see .env.example).")
        lines += [f"{name}=" for name in secret]
    lines.append("LOG_LEVEL=INFO")
    return "\n".join(lines) + "\n"


def write_env(project: Path, spec: Spec) -> None:
    path = project / ".env"
    path.write_text(env_text(spec), encoding="utf-8")
    path.chmod(0o600)


def add_missing_settings(project: Path, spec: Spec) -> list[str]:
    """Append to `.env` the settings `spec` needs that it lacks (new secrets after an auth switch).

    Values already there are never touched; returns the names added. Without a `.env` (a fresh
    clone) nothing is written: `.env.example` says what to set.
    """
    path = project / ".env"
    if not path.is_file():
        return []
    have = {line.split("=", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines() if "=" in line}
    added: list[str] = []
    block: list[str] = []
    comments: list[str] = []
    for line in env_text(spec).splitlines()[1:]:
        if line.startswith("#"):
            comments.append(line)
            continue
        name = line.split("=", 1)[0]
        if name not in have:
            block += [*comments, line]
            added.append(name)
        comments = []
    if block:
        text = path.read_text(encoding="utf-8")
        separator = "" if text.endswith("\n") or not text else "\n"
        path.write_text(
            f"{text}{separator}# Added by `mcpgen generate` for the spec's new settings.\n" + "\n".join(block) + "\n",
            "utf-8",
        )
    return added
