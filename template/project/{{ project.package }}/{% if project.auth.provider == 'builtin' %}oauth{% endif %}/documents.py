"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP 2025-11-25).

A client whose client_id is an https URL needs no registration: the JSON document at that URL
describes it, and its `client_id` must be that URL (§4.1). The document is fetched without
redirects, with a size cap and a timeout on the whole fetch, and what it yields is cached (§6),
a failure too, briefly: a client_id whose host is down or slow is not fetched on every request.
fastmcp's fetcher also refuses private and loopback addresses, so a client_id cannot make the
server probe its own network (§7.2).
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlsplit

import anyio
import httpx2
from fastmcp.server.auth.cimd import CIMDDocument, CIMDFetcher, CIMDFetchError, CIMDValidationError
from mcp.server.auth.provider import RegistrationError
from pydantic import ValidationError

from ..settings import is_loopback
from .clients import Client, check_metadata

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300
FAILURE_SECONDS = 30
CACHE_SIZE = 1000


def names_document(client_id: str) -> bool:
    """A client_id that is an https URL with a path names a metadata document (§3)."""
    parts = urlsplit(client_id)
    return parts.scheme == "https" and bool(parts.hostname) and parts.path not in ("", "/")


class ClientDocuments:
    """Clients described by their metadata documents, fetched on first use and cached.

    A server whose own PUBLIC_URL is on the loopback is a development server: it also takes
    documents from loopback hosts, which a deployed server must never fetch.
    """

    def __init__(self, scopes: list[str], *, timeout: float, allow_loopback: bool) -> None:
        self.scopes = scopes
        self.timeout = timeout
        self.allow_loopback = allow_loopback
        self.fetcher = CIMDFetcher(timeout=timeout)
        # A client, or None for a document refused a moment ago.
        self._cache: dict[str, tuple[float, Client | None]] = {}

    async def client(self, client_id: str) -> Client | None:
        cached = self._cache.get(client_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            client: Client | None = self._client_from(client_id, await self._fetch(client_id))
        except (CIMDFetchError, CIMDValidationError, RegistrationError, ValidationError) as exc:
            # The person sees "client not found"; the operator sees why.
            logger.warning("client metadata document %s refused: %s", client_id, exc)
            client = None
        if len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[client_id] = (time.monotonic() + (CACHE_SECONDS if client else FAILURE_SECONDS), client)
        return client

    async def _fetch(self, url: str) -> CIMDDocument:
        """The document, within CLIENT_DOCUMENT_TIMEOUT in all: a host that sends a byte a
        second never times out a single read."""
        try:
            with anyio.fail_after(self.timeout):
                if self.allow_loopback and is_loopback(urlsplit(url).hostname or ""):
                    return await self._fetch_from_loopback(url)
                return await self.fetcher.fetch(url)
        except TimeoutError:
            raise CIMDFetchError(f"{url} took longer than {self.timeout:g} s") from None

    async def _fetch_from_loopback(self, url: str) -> CIMDDocument:
        """The same rules as the fetcher's, minus the address check that refuses the loopback."""
        limit = CIMDFetcher.MAX_RESPONSE_SIZE
        body = bytearray()
        try:
            async with (
                httpx2.AsyncClient(timeout=self.timeout, follow_redirects=False) as http,
                http.stream("GET", url, headers={"Accept": "application/json"}) as response,
            ):
                if response.status_code != 200:
                    raise CIMDFetchError(f"HTTP {response.status_code} fetching {url}")
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise CIMDFetchError(f"document larger than {limit} bytes")
        except httpx2.HTTPError as exc:
            raise CIMDFetchError(f"cannot fetch {url}: {exc!r}") from exc
        try:
            document = CIMDDocument.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            raise CIMDValidationError(f"not a client metadata document: {exc}") from exc
        if str(document.client_id) != url:
            raise CIMDValidationError(f"the document's client_id is {document.client_id}, not {url}")
        return document

    def _client_from(self, client_id: str, document: CIMDDocument) -> Client:
        if document.token_endpoint_auth_method != "none":
            # Keys of a private_key_jwt client would have to be fetched and checked too.
            raise CIMDValidationError("only public clients (token_endpoint_auth_method none) are supported")
        asked = (document.scope or "").split()
        client = Client.model_validate(
            {
                "client_id": client_id,
                "client_name": document.client_name,
                "redirect_uris": document.redirect_uris,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "scope": " ".join([*self.scopes, *asked]),
            }
        )
        check_metadata(client)
        return client
