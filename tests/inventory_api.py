"""A real FastAPI service for the OpenAPI import tests: its /openapi.json is FastAPI's, not ours.

Version 2 is the same API after a change: `delete_item` is gone, `update_item` is new, and
`list_items` takes a search text. Every request's headers are kept, so a test can prove what the
generated server sent (its own API key, never the MCP caller's token).
"""

# No `from __future__ import annotations`: FastAPI reads the local functions' annotations at run time.
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

API_KEY = "inventory-secret-key-for-tests"


class Color(StrEnum):
    red = "red"
    green = "green"
    blue = "blue"


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50, description="What the item is called")
    price: float = Field(ge=0, description="Price in euros")
    color: Color = Color.red
    tags: list[str] = []


class Item(ItemIn):
    id: int


def make_app(version: int = 1) -> FastAPI:
    app = FastAPI(title="Inventory", version=f"{version}.0.0")
    items: dict[int, Item] = {1: Item(id=1, name="lamp", price=12.5, color=Color.green, tags=["home"])}
    app.state.headers = []
    key = APIKeyHeader(name="X-API-Key")

    def checked(value: Annotated[str, Depends(key)]) -> None:
        if value != API_KEY:
            raise HTTPException(401, detail="wrong API key")

    guard = [Depends(checked)]

    @app.middleware("http")
    async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
        app.state.headers.append(dict(request.headers))
        return await call_next(request)

    @app.get("/items/{item_id}", operation_id="get_item", tags=["items"], summary="Read one item")
    def get_item(item_id: Annotated[int, Path(ge=1, description="The item's number")]) -> Item:
        if item_id not in items:
            raise HTTPException(404, detail=f"Item {item_id} not found")
        return items[item_id]

    if version == 1:

        @app.get("/items", operation_id="list_items", tags=["items"], summary="List items")
        def list_items(color: Color | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[Item]:
            return [i for i in items.values() if color is None or i.color == color][:limit]

        @app.delete("/items/{item_id}", operation_id="delete_item", tags=["items"], status_code=204, dependencies=guard)
        def delete_item(item_id: int) -> None:
            items.pop(item_id, None)

    else:

        @app.get("/items", operation_id="list_items", tags=["items"], summary="List items")
        def list_items_v2(
            color: Color | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 10, q: str | None = None
        ) -> list[Item]:
            return [i for i in items.values() if (color is None or i.color == color) and (q or "") in i.name][:limit]

        @app.put("/items/{item_id}", operation_id="update_item", tags=["items"], dependencies=guard)
        def update_item(item_id: int, item: ItemIn) -> Item:
            items[item_id] = Item(id=item_id, **item.model_dump())
            return items[item_id]

    @app.post(
        "/items", operation_id="create_item", tags=["items"], status_code=201, summary="Add an item", dependencies=guard
    )
    def create_item(item: ItemIn) -> Item:
        created = Item(id=max(items, default=0) + 1, **item.model_dump())
        items[created.id] = created
        return created

    @app.get("/health", operation_id="health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port, in a thread; yields its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
