"""The baseline for bench/api.py: the least an API can do for "generate" and "status" on the same services:
one INSERT and one XADD, one SELECT by primary key. No auth, no validation, no envelope, no outbox."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, get, post
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(os.environ["BASELINE_DATABASE_URL"], pool_size=10, max_overflow=10)
redis = Redis.from_url(os.environ["BASELINE_REDIS_URL"])


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE IF NOT EXISTS baseline_music (id text primary key, name text, prompt text, status text)")
        )
    yield
    await engine.dispose()
    await redis.aclose()


@post("/generate", status_code=201)
async def generate(data: dict[str, Any]) -> dict[str, Any]:
    music_id = uuid.uuid4().hex
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO baseline_music VALUES (:id, :name, :prompt, 'GENERATING')"),
            {"id": music_id, "name": data.get("name"), "prompt": data.get("prompt")},
        )
    await redis.xadd("baseline-jobs", {"music_id": music_id}, maxlen=100_000)
    return {"musicId": music_id, "status": "GENERATING"}


@get("/status/{music_id:str}")
async def status(music_id: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM baseline_music WHERE id = :id"), {"id": music_id})).first()
    return {"musicId": row.id, "status": row.status} if row else {}


app = Litestar([generate, status], lifespan=[lifespan])
