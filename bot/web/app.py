"""FastAPI application served by uvicorn (`bot.web.app:app`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot.review import audit_pages, children_pages, concern_pages, themes_pages, voice_pages
from bot.review import dashboard_pages as review_dashboard_pages
from bot.review import routes as review_routes
from bot.services.health import database_ok
from bot.settings import REPO_ROOT, get_settings
from bot.telegram import webhook as telegram_webhook
from bot.web import chat
from bot.web.limits import LimitRequestSize
from bot.web.logs import RedactChatPaths


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One connection pool to the engine for every child's turn: a client per message cost
    # ~40 ms of CPU each (TLS set-up) under load (docs/benchmarks.md).
    async with httpx.AsyncClient(timeout=60) as engine:
        app.state.engine_client = engine
        try:
            # Starts Telegram's webhook mode when TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET
            # are set.
            async with telegram_webhook.telegram_lifespan(app):
                yield
        finally:
            app.state.engine_client = None  # closed with the app: never handed out again


app = FastAPI(title="PEP Voice", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
app.include_router(chat.router)
app.include_router(telegram_webhook.router)
app.include_router(review_routes.router)
app.include_router(audit_pages.router)
app.include_router(children_pages.router)
app.include_router(review_dashboard_pages.router)
app.include_router(concern_pages.router)
app.include_router(concern_pages.email_link_router)
app.include_router(voice_pages.router)
app.include_router(themes_pages.router)
app.mount("/static", StaticFiles(directory=REPO_ROOT / "bot" / "static"), name="static")
app.middleware("http")(chat.security_headers)
# Outermost, so no handler or middleware reads a body over its route's limit.
app.add_middleware(LimitRequestSize)
# Invite codes arrive in chat links: keep them out of the access log.
logging.getLogger("uvicorn.access").addFilter(RedactChatPaths())


async def _reachable(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


@app.get("/health")
async def health() -> JSONResponse:
    settings = get_settings()
    checks = {
        "database": database_ok(),
        "engine": await _reachable(settings.engine.url),
        "actions": await _reachable(settings.engine.action_server_url + "/health"),
    }
    healthy = all(checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
    )
