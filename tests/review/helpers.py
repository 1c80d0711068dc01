"""Helpers for the review app tests: the accounts of two schools, clients, forms."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import cache
from unittest import mock

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from bot.models import Role, StaffUser
from bot.review import accounts
from bot.review.accounts import set_password
from bot.services.directory import add_staff
from bot.services.scope import StaffContext
from bot.web.app import app

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Staff:
    email: str
    password: str
    ctx: StaffContext


@dataclass(frozen=True)
class World:
    school_a: int
    school_b: int
    child_a: int
    child_b: int
    pep_a: int
    pep_b: int
    dt_a: Staff
    dsl_a: Staff
    dt_b: Staff
    vs: Staff
    admin: Staff


@cache
def password_hash() -> str:
    """PASSWORD's argon2id hash with the product's parameters, made once per test run."""
    return accounts.hash_password(PASSWORD)


def set_test_password(session: Session, user: StaffUser) -> None:
    """set_password(PASSWORD) (the policy, the sessions ended, the audit event), reusing one
    hash: argon2id costs ~0.3-0.5 s on purpose, and a test's world has five accounts. Logins
    still verify against a real argon2id hash; tests of hashing itself call set_password."""
    stored = password_hash()
    with mock.patch.object(accounts, "hash_password", lambda _: stored):
        set_password(session, user, PASSWORD, actor="test")


@cache
def verify_once(password_hash: str, password: str) -> bool:
    """accounts.verify_password, checked once per (hash, password) in a test run: argon2id
    verification is a pure function of the two, and costs ~0.3 s on purpose."""
    return _verify_password(password_hash, password)


_verify_password = accounts.verify_password


def make_staff(session: Session, school: str, role: Role, tag: str) -> Staff:
    email = f"{role.value}.{tag}@{uuid.uuid4().hex[:6]}.example.org"
    user = add_staff(session, school, email, role.value)
    session.flush()
    set_test_password(session, user)
    return Staff(email, PASSWORD, StaffContext(user.id, user.email, user.role, user.school_id))


def client(
    https: bool = False, application: FastAPI = app, address: str = "testclient"
) -> TestClient:
    base = "https://testserver" if https else "http://testserver"
    return TestClient(application, base_url=base, follow_redirects=False, client=(address, 50000))


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(c: TestClient, email: str, password: str, next_path: str | None = None) -> Response:
    page = c.get("/review/login")
    assert page.status_code == 200, page.text
    form = {"csrf": csrf_from(page.text), "email": email, "password": password}
    if next_path is not None:
        form["next"] = next_path
    return c.post("/review/login", data=form)


def logged_in(staff: Staff, https: bool = False, application: FastAPI = app) -> TestClient:
    c = client(https, application)
    response = login(c, staff.email, staff.password)
    assert response.status_code == 303, response.text
    return c
