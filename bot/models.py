"""Database tables. Children are identified by first name and year group only."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from bot.phases import Phase, phase_for_year


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite forgets the zone, so restore it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    # VARCHAR, not a native type: identical on SQLite and PostgreSQL, and a
    # new value needs no ALTER TYPE. length leaves room for such values.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    designated_teacher = "designated_teacher"
    dsl = "dsl"
    virtual_school = "virtual_school"
    admin = "admin"


class PepStatus(enum.StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    submitted = "submitted"


class AnsweredBy(enum.StrEnum):
    child = "child"
    with_carer = "with_carer"
    carer = "carer"


class ConcernSource(enum.StrEnum):
    engine = "engine"  # flagged while the conversation was running
    answer_screen = "answer_screen"  # flagged when an answer was screened before saving


class AlertStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"  # claimed by one deliverer; see bot.alerts
    sent = "sent"
    failed = "failed"


class Base(DeclarativeBase):
    # Deterministic constraint names so later (batch) migrations can address them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    children: Mapped[list[Child]] = relationship(back_populates="school")
    staff: Mapped[list[StaffUser]] = relationship(back_populates="school")


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[Role] = mapped_column(_str_enum(Role, "staff_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # argon2id (bot.review.accounts); NULL: no password yet, the account cannot log in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Set: the account cannot log in and its sessions stop working.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship(back_populates="staff")

    @validates("email")
    def _lower_email(self, _key: str, value: str) -> str:
        return value.strip().lower()


class Child(Base):
    __tablename__ = "children"
    __table_args__ = (CheckConstraint("year_group BETWEEN -1 AND 13", name="year_group_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(50))
    # -1 Nursery, 0 Reception, 1..13
    year_group: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    school: Mapped[School] = relationship(back_populates="children")
    peps: Mapped[list[Pep]] = relationship(back_populates="child")

    @property
    def phase(self) -> Phase:
        return phase_for_year(self.year_group)


class Pep(Base):
    __tablename__ = "peps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    meeting_date: Mapped[date] = mapped_column(Date)
    status: Mapped[PepStatus] = mapped_column(
        _str_enum(PepStatus, "pep_status"), default=PepStatus.not_started
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Approved by the designated teacher (shown as "reviewed").
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Sent back to the child with a question for the bot to ask next time.
    returned_question: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Emails to the designated teacher (bot.services.notifications): when each last went,
    # and a sender's claim while it emails.
    submitted_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    teacher_reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    teacher_notice_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    child: Mapped[Child] = relationship(back_populates="peps")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="pep", order_by="(Answer.created_at, Answer.id)"
    )
    invites: Mapped[list[Invite]] = relationship(back_populates="pep")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("pep_id", "question_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pep_id: Mapped[int] = mapped_column(ForeignKey("peps.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    # Verbatim; NULL when the child chose to skip the question.
    text: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(default=False)
    answered_by: Mapped[AnsweredBy] = mapped_column(_str_enum(AnsweredBy, "answered_by"))
    # The Phase whose question wording was used.
    phase: Mapped[str] = mapped_column(String(32))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # The designated teacher's "for the PEP" wording; `text` (the child's) is never changed
    # by staff. Each change is kept in AnswerWordingEdit.
    teacher_wording: Mapped[str | None] = mapped_column(Text)

    pep: Mapped[Pep] = relationship(back_populates="answers")


class AnswerWordingEdit(Base):
    """One change to an answer's teacher wording: the history the review page shows."""

    __tablename__ = "answer_wording_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    wording: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PepComment(Base):
    """A staff comment on a PEP's child's voice."""

    __tablename__ = "pep_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pep_id: Mapped[int] = mapped_column(ForeignKey("peps.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pep_id: Mapped[int] = mapped_column(ForeignKey("peps.id"), index=True)
    # keyed_hash of the normalised code; the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # keyed_hash of the long random token that links carry instead of the code.
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when a newer invite for the same PEP replaced this one: it links nothing any more.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # keyed_hash of the conversation id that redeemed the code.
    bound_to: Mapped[str | None] = mapped_column(String(64), index=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    pep: Mapped[Pep] = relationship(back_populates="invites")


class AuditEvent(Base):
    """Who did or viewed what. `detail` holds ids and keys, never message text.

    school_id and pep_id are plain integers, not foreign keys, so the log
    outlives (and never blocks) deletion of the records it mentions.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    school_id: Mapped[int | None] = mapped_column(Integer, index=True)
    pep_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SafeguardingConcern(Base):
    """A possible disclosure of harm, and the state of the alert about it.

    `words` is the child's message verbatim: only the school's DSL and admins
    may read it (bot.services.access). It is deferred so that loading a concern for a
    list or an alert never fetches it. school_id and pep_id are NULL when the
    conversation had not been linked to a PEP yet; the disclosure is kept
    and the fallback contact alerted all the same.
    """

    __tablename__ = "safeguarding_concerns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    pep_id: Mapped[int | None] = mapped_column(ForeignKey("peps.id"), index=True)
    # A screen category (pep_nlp.safeguarding.CATEGORIES) or "classifier".
    category: Mapped[str] = mapped_column(String(40))
    words: Mapped[str] = mapped_column(Text, deferred=True)
    question_key: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[ConcernSource] = mapped_column(_str_enum(ConcernSource, "concern_source"))
    # keyed_hash of the conversation, so a concern made before the child linked
    # a PEP can still be traced to the conversation (and so to a later PEP).
    conversation_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # keyed_hash of conversation id + message id: one row per delivered message.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    alert_status: Mapped[AlertStatus] = mapped_column(
        _str_enum(AlertStatus, "alert_status"), default=AlertStatus.pending, index=True
    )
    alert_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a deliverer claimed the row (status "sending"); a stale claim is retaken.
    alert_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The addresses the SMTP server accepted for the alert.
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Every message of the conversation that was passed on while this concern was open
    # (the first included), and how many of them the last alert that went out counted:
    # repeats and follow-ups join the open concern instead of making new ones, and the DSL
    # hears of them at most once per ALERT_FOLLOWUP_MINUTES.
    message_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    alerted_message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when the DSL closes the concern; a later disclosure then opens a new one.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    action_taken: Mapped[str | None] = mapped_column(Text)

    pep: Mapped[Pep | None] = relationship()
    school: Mapped[School | None] = relationship()
    messages: Mapped[list[ConcernMessage]] = relationship(
        back_populates="concern", order_by="ConcernMessage.id"
    )


class ConcernMessage(Base):
    """One message a child sent that was passed on to the DSL, with its time.

    `words` is verbatim and read only through bot.services.access, like the concern's own.
    """

    __tablename__ = "concern_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("safeguarding_concerns.id"), index=True)
    words: Mapped[str] = mapped_column(Text, deferred=True)
    category: Mapped[str] = mapped_column(String(40))
    question_key: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[ConcernSource] = mapped_column(_str_enum(ConcernSource, "concern_source"))
    # keyed_hash of conversation id + message id: a redelivered message is stored once.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    concern: Mapped[SafeguardingConcern] = relationship(back_populates="messages")


class TelegramChat(Base):
    """A Telegram chat linked to a PEP, so `send-reminders` can nudge the child.

    The chat id is never stored in clear: `chat_hash` (keyed_hash) finds the row, and
    `sealed_chat_id` is the id sealed with AES-GCM-SIV under a key derived from the
    deployment's secret, bound to the row's hash (bot.services.telegram_identity, bot.keys), because
    a reminder must be sent to it.
    """

    __tablename__ = "telegram_chats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_chat_id: Mapped[str] = mapped_column(String(120))
    pep_id: Mapped[int] = mapped_column(ForeignKey("peps.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    pep: Mapped[Pep] = relationship()


class ProcessedUpdate(Base):
    """Telegram update ids the webhook took: in progress (`claimed_at`, so a second delivery
    of the same update is not run at the same time) or processed (`processed_at`, so a
    redelivery is not run twice). A failed update's claim is deleted, so it runs again."""

    __tablename__ = "telegram_processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramKeyboard(Base):
    """One inline keyboard the bot sent on Telegram: PTB's callback-data cache, in the store
    (bot.telegram.persistence), so a button still works after a restart or on another
    instance. `buttons` is JSON {button id: payload}; payloads are the bot's own ("/affirm",
    '/inform{"answered_by":"with_carer"}'), never a child's words or a name. The newest
    `bot.services.telegram_keyboards.KEYBOARDS_KEPT` are kept."""

    __tablename__ = "telegram_keyboards"

    keyboard_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    buttons: Mapped[str] = mapped_column(Text)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class StaffSession(Base):
    """A logged-in staff member's session for the review app (bot.review.sessions).

    The cookie carries a random token signed for "staff-session"; only its keyed hash is
    stored. A session ends after 30 idle minutes, 12 hours in all, or at logout (the row is
    deleted). `csrf_secret` is signed into every form the session's pages show.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    csrf_secret: Mapped[str] = mapped_column(String(64))

    staff: Mapped[StaffUser] = relationship()
