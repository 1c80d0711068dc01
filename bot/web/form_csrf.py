"""CSRF for a form shown before there is a session (the chat's start form, staff login).

The page keeps a random nonce in a SameSite=Strict cookie and puts its signature (with a key
id, bot.keys) in the form; a post is ours only if the two match and the browser does not
say another page made it (`from_our_own_page`).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from bot.keys import sign, unsign
from bot.web.http import from_our_own_page, is_https


@dataclass(frozen=True)
class PreSessionForm:
    cookie: str  # the nonce cookie's name
    purpose: str  # what the token is signed for
    path: str  # the cookie's path

    def nonce(self, request: Request) -> str:
        """The browser's nonce if it is a sound one, else a new one (set it with `keep`)."""
        nonce = request.cookies.get(self.cookie) or ""
        if not (20 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()):
            nonce = secrets.token_urlsafe(24)
        return nonce

    def token(self, nonce: str) -> str:
        return sign(self.purpose, nonce)

    def keep(self, request: Request, response: Response, nonce: str) -> None:
        response.set_cookie(
            self.cookie, nonce, path=self.path, httponly=True, samesite="strict",
            secure=is_https(request),
        )  # fmt: skip

    def posted_ok(self, request: Request, token: str | None) -> bool:
        nonce = request.cookies.get(self.cookie)
        value = unsign(self.purpose, token)
        return bool(
            from_our_own_page(request) and nonce and value and hmac.compare_digest(nonce, value)
        )
