"""User code in a generated project: rich bodies and the user's own additions, in user-owned files only.

A project made by `mcpgen new`, its user-owned modules rewritten as a user would: a tool that
returns an image and a resource link, a binary resource, a prompt of several messages with an
image, and extend.py with a route, HTTP middleware and start-up work. Then its own mypy strict,
`mcpgen check`, and a test against the real server with the official client.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import mcpgen, run_project_tests, run_tool

SPEC = """\
[server]
name = "gallery"
description = "Returns every kind of content."
transport = "both"

[auth]
provider = "none"

[storage]
backend = "sqlite"

[[tools]]
name = "draw"
description = "A picture and where to find more."
returns = "content"

[[resources]]
uri = "gallery://logo"
name = "logo"
description = "The logo, as bytes."
mime_type = "image/png"

[[prompts]]
name = "critique"
description = "Show the model a picture and ask about it."
"""

PNG = b"\\x89PNG\\r\\n\\x1a\\n"

BODIES = {
    "gallery/tools/draw.py": f"""
from __future__ import annotations

import base64

from key_value.aio.protocols import AsyncKeyValue
from mcp.types import ImageContent, ResourceLink

from ..calls import ToolContent

PNG = {PNG!r}


async def draw(store: AsyncKeyValue) -> ToolContent:
    image = ImageContent(type="image", data=base64.b64encode(PNG).decode(), mime_type="image/png")
    return [image, ResourceLink(type="resource_link", uri="gallery://logo", name="logo")]
""",
    "gallery/resources/logo.py": f"""
from __future__ import annotations

from key_value.aio.protocols import AsyncKeyValue

PNG = {PNG!r}


async def read(store: AsyncKeyValue) -> bytes:
    return PNG
""",
    "gallery/prompts/critique.py": """
from __future__ import annotations

from key_value.aio.protocols import AsyncKeyValue
from mcp.types import ImageContent

from ..calls import Message


async def render(store: AsyncKeyValue) -> list[Message]:
    picture = ImageContent(type="image", data="iVBORw0KGgo=", mime_type="image/png")
    return [Message("What is wrong with this picture?"), Message(picture), Message("Let me look.", role="assistant")]
""",
    "gallery/extend.py": """
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastmcp import FastMCP
from key_value.aio.protocols import AsyncKeyValue
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import Settings


def server(mcp: FastMCP, settings: Settings, store: AsyncKeyValue) -> None:
    @mcp.custom_route("/gallery/started", methods=["GET"])
    async def started(request: Request) -> JSONResponse:
        return JSONResponse(await store.get("started", collection="gallery"))


@asynccontextmanager
async def running(settings: Settings, store: AsyncKeyValue) -> AsyncIterator[None]:
    await store.put("started", {"started": True}, collection="gallery")
    yield


class Stamp:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-gallery", b"1")]
            await send(message)

        await self.app(scope, receive, stamped)


def middleware(settings: Settings) -> list[Middleware]:
    return [Middleware(Stamp)]
""",
    "tests/test_gallery.py": """
from __future__ import annotations

import base64

import pytest
from mcp.types import BlobResourceContents, ImageContent, ResourceLink, TextContent

import httpx

from .conftest import Connect, Raw, Server

pytestmark = pytest.mark.anyio


def test_extend_adds_a_route_start_up_work_and_middleware(server: Server, raw: Raw) -> None:
    assert httpx.get(f"{server.url}/gallery/started").json() == {"started": True}
    session = raw.initialize()
    assert raw.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, raw.headers(**session)).headers["x-gallery"] == "1"


async def test_every_kind_of_content_reaches_the_client(mcp_client: Connect) -> None:
    async with mcp_client("auto") as client:
        drawn = await client.call_tool("draw", {})
        logo = await client.read_resource("gallery://logo")
        prompt = await client.get_prompt("critique", {})
    assert [type(block) for block in drawn.content] == [ImageContent, ResourceLink]
    (contents,) = logo.contents
    assert isinstance(contents, BlobResourceContents) and base64.b64decode(contents.blob).startswith(b"\\\\x89PNG")
    assert [message.role for message in prompt.messages] == ["user", "user", "assistant"]
    assert isinstance(prompt.messages[1].content, ImageContent)
    assert isinstance(prompt.messages[2].content, TextContent)
""",
}


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = tmp_path_factory.mktemp("spec") / "mcpgen.toml"
    spec.write_text(SPEC)
    project = tmp_path_factory.mktemp("gallery") / "gallery"
    code, output = mcpgen("new", str(project), "--spec", str(spec), "--yes")
    assert code == 0, output
    for path, body in BODIES.items():
        (project / path).write_text(body.lstrip())
    return project


def test_bodies_returning_images_blobs_and_messages_type_check(gallery: Path) -> None:
    result = run_tool(gallery, "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_user_code_leaves_the_project_matching_its_spec(gallery: Path) -> None:
    code, output = mcpgen("check", cwd=gallery)
    assert code == 0, output


def test_bodies_returning_images_blobs_and_messages_are_served(gallery: Path) -> None:
    result = run_project_tests(gallery, "tests/test_gallery.py")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
