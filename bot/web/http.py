"""Facts about a request that every part of the web app reads the same way."""

from __future__ import annotations

from fastapi import Request

from bot.settings import get_settings


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (for the Secure cookie flag).

    Behind our proxy (BEHIND_PROXY=true) the proxy's X-Forwarded-Proto says so; otherwise
    the request's own scheme."""
    if get_settings().behind_proxy:
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        if forwarded:
            return forwarded.lower() == "https"
    return request.url.scheme == "https"


def client_address(request: Request) -> str:
    """Who is trying a code or a password, for the throttles. Behind our proxy, the address
    it saw (the last X-Forwarded-For entry: earlier ones are whatever the client claimed)."""
    if get_settings().behind_proxy:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        if forwarded:
            return "web:" + forwarded
    return "web:" + (request.client.host if request.client else "unknown")
