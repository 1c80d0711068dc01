"""Facts about a request that every part of the web app reads the same way."""

from __future__ import annotations

from fastapi import Request

from bot.settings import get_settings


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (for the Secure cookie flag).

    Behind our proxy (BEHIND_PROXY=true) the proxy's X-Forwarded-Proto says so; otherwise
    the request's own scheme."""
    if get_settings().web.behind_proxy:
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        if forwarded:
            return forwarded.lower() == "https"
    return request.url.scheme == "https"


def client_address(request: Request) -> str:
    """Who is trying a code or a password, for the throttles. Behind our proxy, the address
    it saw (the last X-Forwarded-For entry: earlier ones are whatever the client claimed)."""
    if get_settings().web.behind_proxy:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        if forwarded:
            return "web:" + forwarded
    return "web:" + (request.client.host if request.client else "unknown")


def from_our_own_page(request: Request) -> bool:
    """Whether a form post came from one of our own pages, as the browser tells it.

    A page on another port or subdomain of the same site can set cookies for ours (cookies
    are not kept apart by port), so a CSRF cookie alone does not prove where a post came
    from. Browsers say it in Sec-Fetch-Site, and older ones in Origin. Our pages send no
    referrer, so a browser's own form post carries "Origin: null"; that, and tools that send
    neither header, fall back to the CSRF token alone.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    host = request.headers.get("host", "")
    return origin.lower() in (f"http://{host}".lower(), f"https://{host}".lower())
