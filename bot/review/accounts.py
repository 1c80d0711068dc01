"""Staff passwords: argon2id hashes, the password policy, and logging in with a throttle.

- Hashes are argon2id with argon2-cffi's defaults (RFC 9106's second recommended option:
  3 passes, 64 MiB, 4 lanes). A hash made with weaker parameters is redone at the next login.
- A password needs 12 or more characters, or 8 or more if it is not in the deny list
  (bot/review/data/common_passwords.txt); a deny-listed one is refused at any length.
- Failed logins are counted per account (the typed email, under a keyed hash) and per address
  (bot.web.http.client_address): after `LOGIN_ATTEMPTS` failures within
  `LOGIN_WINDOW_MINUTES`, either one refuses every try, the right password included, until the
  window moves on. Counts live where the invite throttle keeps its own
  (`RATE_LIMIT_STORAGE_URL`: memory, or Redis shared by every process).
- A refusal never says whether the email belongs to an account: unknown, wrong password,
  no password set and disabled all get `LOGIN_REFUSED`, and take as long (a hash is checked
  against a dummy when there is no account).

Every attempt is audited (`staff.login`, `staff.login_failed` with a reason) with ids only:
never a password or a typed email.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.models import StaffUser
from bot.security import keyed_hash
from bot.services import ServiceError, record_event
from bot.settings import get_settings

MIN_LENGTH = 12
MIN_LENGTH_NOT_COMMON = 8
MAX_LENGTH = 1024  # hashing is memory-hard, not length-hard, but a bound keeps bodies small
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_MINUTES = 5

LOGIN_REFUSED = "That email address and password do not match an account we know. Please try again."
LOGIN_THROTTLED = (
    f"Too many tries. Please wait {LOGIN_WINDOW_MINUTES} minutes and try again, "
    "or ask your administrator to reset your password."
)

_DENY_LIST = Path(__file__).with_name("data") / "common_passwords.txt"
_NAMESPACE = "pep-voice-login"

#: argon2id, RFC 9106 low-memory recommendation (argon2-cffi's defaults, pinned here so a
#: library upgrade changes them only on purpose).
hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16,
                        type=Type.ID)  # fmt: skip


class PasswordRejected(ServiceError):
    """The new password breaks the policy; the message says how."""


@cache
def common_passwords() -> frozenset[str]:
    lines = _DENY_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why `password` may not be used, or None if it may."""
    if len(password) > MAX_LENGTH:
        return f"A password can have at most {MAX_LENGTH} characters."
    folded = password.casefold()
    if folded in common_passwords() or (email and folded == email.strip().casefold()):
        return "That password is too easy to guess. Please choose another."
    if len(password) < MIN_LENGTH_NOT_COMMON:
        return (
            f"A password needs at least {MIN_LENGTH} characters "
            f"(or {MIN_LENGTH_NOT_COMMON} that are not a common password)."
        )
    return None


def check_password_policy(password: str, email: str | None = None) -> None:
    problem = password_problem(password, email)
    if problem is not None:
        raise PasswordRejected(problem)


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked when there is no account, so an unknown email takes as long as a wrong password.
    return hasher.hash("no account has this password: it only spends the same time")


def find_staff(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))


def set_password(session: Session, staff: StaffUser, password: str, *, actor: str) -> None:
    """Check the policy, store the new hash, and end every session the account had."""
    from bot.review.sessions import end_all_sessions  # sessions imports this module

    check_password_policy(password, staff.email)
    staff.password_hash = hash_password(password)
    ended = end_all_sessions(session, staff.id)
    record_event(
        session,
        actor,
        "staff.password_set",
        school_id=staff.school_id,
        staff_id=staff.id,
        sessions_ended=ended,
    )
    session.flush()


# --- Throttle ------------------------------------------------------------------------------


class LoginThrottle:
    """Failed logins per account and per address, in a moving window."""

    def __init__(self, storage: Storage, attempts: int, minutes: int) -> None:
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._item: RateLimitItem = RateLimitItemPerMinute(attempts, minutes, namespace=_NAMESPACE)

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        account = keyed_hash("login-account:" + email.strip().lower())[:32]
        return "account:" + account, "address:" + keyed_hash("login-address:" + address)[:32]

    def allowed(self, email: str, address: str) -> bool:
        return all(self._limiter.test(self._item, key) for key in self._keys(email, address))

    def failed(self, email: str, address: str) -> None:
        for key in self._keys(email, address):
            self._limiter.hit(self._item, key)

    def reset(self) -> None:
        self._storage.reset()


@lru_cache(maxsize=1)
def login_throttle() -> LoginThrottle:
    """The process's throttle, on the invite throttle's storage setting (tests clear it)."""
    storage = storage_from_string(get_settings().invites.limits_storage_url)
    if not isinstance(storage, Storage):  # an async storage URL ("async+redis://")
        storage = MemoryStorage()
    return LoginThrottle(storage, LOGIN_ATTEMPTS, LOGIN_WINDOW_MINUTES)


# --- Logging in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    staff_id: int | None  # None: refused, and `message` says what to show
    message: str = ""
    throttled: bool = False


@dataclass(frozen=True)
class _Account:
    """What a login check reads, so the slow hash runs with no transaction open."""

    id: int
    password_hash: str | None
    disabled: bool
    school_id: int | None
    role: str


def _account(email: str) -> _Account | None:
    if not email.strip():
        return None
    with session_scope() as session:
        staff = find_staff(session, email)
        if staff is None:
            return None
        return _Account(
            staff.id, staff.password_hash, staff.disabled_at is not None, staff.school_id,
            staff.role.value,
        )  # fmt: skip


def authenticate(email: str, password: str, *, address: str) -> LoginResult:
    """Check a login and audit it, each in its own short transaction.

    argon2id takes ~0.5-2 s of CPU on purpose; inside a transaction it held SQLite's write
    lock that long, and children's answers waited behind it (docs/benchmarks.md)."""
    throttle = login_throttle()
    account = _account(email)
    if not throttle.allowed(email, address):
        _refused(account, "throttled")
        return LoginResult(None, LOGIN_THROTTLED, throttled=True)
    password = password[: MAX_LENGTH + 1]
    if account is None or account.password_hash is None:
        verify_password(_dummy_hash(), password)
        reason = "unknown_account" if account is None else "no_password"
    elif not verify_password(account.password_hash, password):
        reason = "wrong_password"
    elif account.disabled:
        reason = "disabled"
    else:
        new_hash = hash_password(password) if needs_rehash(account.password_hash) else None
        with session_scope() as session:
            if new_hash is not None:
                staff = session.get_one(StaffUser, account.id)
                if staff.password_hash == account.password_hash:  # not reset meanwhile
                    staff.password_hash = new_hash
            record_event(
                session, f"staff:{account.id}", "staff.login", school_id=account.school_id,
                staff_id=account.id, role=account.role,
            )  # fmt: skip
        return LoginResult(account.id)
    throttle.failed(email, address)
    _refused(account, reason)
    return LoginResult(None, LOGIN_REFUSED)


def _refused(account: _Account | None, reason: str) -> None:
    # The typed email is not recorded: it may be anything, a password typed in the wrong box.
    with session_scope() as session:
        record_event(
            session,
            "anonymous" if account is None else f"staff:{account.id}",
            "staff.login_failed",
            school_id=None if account is None else account.school_id,
            staff_id=None if account is None else account.id,
            reason=reason,
        )
