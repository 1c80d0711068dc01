"""Full-stack load: simulated children each holding one whole conversation (issue 12).

    .venv/app/bin/python bench/full_stack.py --model models/current.tar.gz [--label NAME]
        [--concurrency 1 10 20] [--turns 44] [--via web engine] [--json OUT] [--plots DIR]

Starts its own engine (the given model), action server and web app on free loopback ports
with a fresh SQLite store in a temporary folder (bench/_stack.py), seeds a PEP with an
invite for every conversation (reception, Year 4, Year 8 and Year 12 in turn), warms up with
one conversation, then for each concurrency level N and each path runs N children at once,
each holding ONE conversation of `--turns` turns, back to back (no thinking time):

- `web`: as a browser does: the start page, the code posted to /chat/start (cookie and
  CSRF token), then /chat/api/start and /chat/api/send with the session cookie and the
  X-PEP-Voice header, through the app to the engine.
- `engine`: the app's side only: the conversation linked through bot.services (as the app
  does), then the engine's REST webhook with the app's bearer header.

A child answers whatever the bot asks, as children do: ordinary answers for their phase,
every third question something else ("help", "i dont know", "what does that mean", "skip",
"can i change my answer", the last answer again), a button when the bot offers some; once
the bot shows the summary ("Is this right?") they change answers, by button and in words, until
their last turn, when they tap "Yes, send it". The bot's safeguarding check ("Are you
telling me that someone is hurting you...") is answered No, as tests/integration/stack.py
does. Nothing sent is a disclosure: a load run must never email a DSL.

A turn is one message to the bot (the start is turn 1) and its reply. A turn errs if the
answer is not 200, times out, or holds no message; the child carries on either way.
Reported per (path, N): turns, errors, p50/p95/p99/max latency (every turn, failed ones
at the time they took), messages per second (turns / the level's wall time), mean latency
by turn number, and the engine's memory (VmRSS, VmHWM) before and after. Plots are
bench/plots.py's (`--plots`), from the same figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import httpx

from bot import db
from bot.engine_client import ENGINE_WEBHOOK_PATH, START_MESSAGE, as_typed_text, engine_headers
from bot.models import Role
from bot.services import directory
from bot.services.conversation import link_conversation
from bot.services.invites import issue_invite
from bot.settings import get_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stack import REPO, Stack, StackError, memory_kib

PATHS = ("web", "engine")
YEAR_GROUPS = (0, 4, 8, 12)  # reception, Year 4, Year 8, Year 12
DEFAULT_TURNS = 44
DEFAULT_TIMEOUT = 60.0
WARMUP_TURNS = 20
CSRF_HEADER = {"X-PEP-Voice": "1"}  # bot.web.chat.CSRF_HEADER

#: What the bot says, as the conversation driver recognises it (domain/pep_voice.yml).
DISCLOSURE_CHECK = "Are you telling me that someone is hurting you"
CHANGE_WHICH = "Which answer would you like to change?"
SENT = ("sent your answers", "Your answers have been sent")
DENY, AFFIRM, CHANGE, STOP = "/deny", "/affirm", "/change_answer", "/stop"

#: Ordinary answers, by what the question is about (its words in any phase's wording, in
#: domain/pep_voice.yml; the first topic that matches wins, so "lessons ... hard" comes
#: before "hard"). Short, misspelt, nothing a DSL must hear.
TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("feeling_now", ("feel about school", "feel about nursery", "is school good", "this week")),
    ("attendance", ("coming to school", "getting to school", "get to school")),
    ("behaviour_support", ("behaviour", "stay calm")),
    ("lessons_enjoy", ("lessons do you enjoy", "lessons do you like")),
    ("lessons_hard", ("lessons do you find hard", "lessons are difficult")),
    ("going_well", ("going well", "been good at", "like doing at nursery")),
    ("proud", ("proud", "feel good about yourself")),
    ("hard", ("hard or tricky", "tricky or not nice", "not been easy")),
    ("friends", ("friends", "play with", "break and lunch")),
    ("get_better_at", ("get better at", "learn to do better")),
    ("when_older", ("when you're older", "grow up")),
    ("next_steps", ("after year", "where would you like to go next")),
    ("careers", ("careers", "kind of work")),
    ("helps_learn", ("helps you learn", "learning easier", "feel happy at")),
    ("help_wanted", ("what help would you like", "school could do to help")),
    ("activities", ("outside school", "play at home", "for fun")),
    ("meeting_attend", ("come to it", "want to be there")),
    ("meeting_who", ("who would you like to be", "which grown-ups")),
    ("meeting_say_for_me", ("say for you", "someone else to say")),
    ("not_for_everyone", ("shared with everyone", "only your designated teacher")),
)
ANSWERS: dict[str, tuple[str, ...]] = {
    "feeling_now": ("its ok i guess", "good mostly", "fine tbh"),
    "attendance": ("mostly on time now", "mornings are hard but im getting there"),
    "behaviour_support": ("i dont get any", "the time out pass helps a bit"),
    "lessons_enjoy": ("art, PE and sience", "english and drama", "music and computing"),
    "lessons_hard": ("maths bc the numbers get mixed up", "french", "spellings"),
    "going_well": ("i got moved up in reading and art is fun", "PE and drama are good"),
    "proud": ("my volcano model for science", "getting a merit", "helping in the library"),
    "hard": ("times tables", "getting up on time", "nothing really"),
    "friends": ("i play with jay at break", "me and my mates at lunch its fine"),
    "get_better_at": ("my 7 and 8 times tables", "my handwriting", "my grades in maths"),
    "when_older": ("a vet or a footballer", "something with cars", "a nurse"),
    "next_steps": ("college to do mechanics", "sixth form", "uni for psychology"),
    "careers": ("something with animals", "work with people", "building things"),
    "helps_learn": ("when miss explains it again quietly", "when the steps are on the board"),
    "help_wanted": ("help with homework", "someone to talk to sometimes"),
    "activities": ("swimming on saturdays and minecraft", "football club and gaming"),
    "meeting_attend": ("yes", "for a bit of it"),
    "meeting_who": ("my foster carer Jo and miss Patel", "my carer and mr Khan"),
    "meeting_say_for_me": ("that i want to stay at this school", "no"),
    "not_for_everyone": ("nothing", "no"),
}
#: Reception and nursery: what a carer types with the child.
EARLY_YEARS = {
    "going_well": ("the sand tray", "painting and the big slide"),
    "hard": ("saying bye in the morning", "tidy up time"),
    "friends": ("Maya and Leo", "she plays with Sam"),
    "helps_learn": ("songs and stories", "when miss sings to us"),
    "activities": ("bikes at the park", "lego and playdough"),
}
#: For a question the table does not know (a new wording): still an ordinary answer.
ANY_ANSWER = ("not sure really", "its fine", "a bit", "nothing much")


def answers_for(question: str, phase: str) -> tuple[str, ...]:
    lowered = question.lower()
    for topic, words in TOPICS:
        if any(word in lowered for word in words):
            if phase == "early_years" and topic in EARLY_YEARS:
                return EARLY_YEARS[topic]
            return ANSWERS[topic]
    return ANY_ANSWER


#: Every third question, one of these instead of an answer (REPEAT: the last answer again).
REPEAT = ""
EXTRAS = ("help", "i dont know", "what does that mean", "skip", "can i change my answer", REPEAT)
#: After the summary, until the last turn.
#: (Not "thanks" or "ok": the bot rightly reads those as "yes, send it".)
AFTER_SUMMARY = (CHANGE, "can i change my answer about friends", "hmm wait", CHANGE)
AFTER_SENT = ("thanks", "bye", "ok")
#: The answers a child changes, by the button's title, in turn.
CHANGE_TARGETS = ("Friends and break times", "What's been going well", "Activities and hobbies")


def phase_of(year_group: int) -> str:
    if year_group <= 0:
        return "early_years"
    if year_group <= 6:
        return "ks1_2"
    return "ks3_4" if year_group <= 11 else "post_16"


@dataclass(frozen=True)
class Reply:
    """The bot's latest turn: its texts and the buttons it offered."""

    texts: tuple[str, ...] = ()
    buttons: tuple[tuple[str, str], ...] = ()  # (title, payload)

    def says(self, words: str) -> bool:
        return any(words in text for text in self.texts)


@dataclass(frozen=True)
class Move:
    """What the child sends: typed text, or the payload of a button the bot offered."""

    text: str = ""
    payload: str = ""


@dataclass
class ChildScript:
    """Decides each message from the bot's latest turn; deterministic for a given `seed`."""

    phase: str
    seed: int
    questions: int = 0
    typed: int = 0
    extras: int = 0
    after_summary: int = 0
    after_sent: int = 0
    changes: int = 0
    last_answer: str = ""
    counts: Counter[str] = field(default_factory=Counter)

    def next_move(self, reply: Reply, turns_left: int) -> Move:
        offered = {payload for _, payload in reply.buttons}
        if reply.says(DISCLOSURE_CHECK):
            self.counts["disclosure_checks"] += 1
            return Move(payload=DENY)
        if any(reply.says(words) for words in SENT):
            self.after_sent += 1
            return Move(text=AFTER_SENT[self.after_sent % len(AFTER_SENT)])
        # The summary's buttons, under "Is this right?" or after something typed there.
        if {AFFIRM, CHANGE} <= offered:
            return self._at_summary(turns_left, offered)
        if reply.says(CHANGE_WHICH) and reply.buttons:
            return self._choose_answer_to_change(reply)
        return self._answer_question(reply)

    def _at_summary(self, turns_left: int, offered: set[str]) -> Move:
        self.counts["at_summary"] += 1
        if turns_left <= 1:
            self.counts["sent"] += 1
            return Move(payload=AFFIRM)
        said = AFTER_SUMMARY[self.after_summary % len(AFTER_SUMMARY)]
        self.after_summary += 1
        if said == CHANGE and CHANGE in offered:
            return Move(payload=CHANGE)
        return Move(text=said if said != CHANGE else "change an answer")

    def _choose_answer_to_change(self, reply: Reply) -> Move:
        self.counts["changes"] += 1
        titles = {title: payload for title, payload in reply.buttons}
        wanted = CHANGE_TARGETS[self.changes % len(CHANGE_TARGETS)]
        self.changes += 1
        payload = titles.get(wanted) or reply.buttons[self.changes % len(reply.buttons)][1]
        return Move(payload=payload)

    def _answer_question(self, reply: Reply) -> Move:
        self.questions += 1
        if self.questions % 3 == 0:
            extra = EXTRAS[self.extras % len(EXTRAS)]
            self.extras += 1
            self.counts["extras"] += 1
            if extra != REPEAT:
                return Move(text=extra)
            if self.last_answer:
                return Move(text=self.last_answer)
        buttons = [(t, p) for t, p in reply.buttons if p != STOP]
        if buttons:
            self.counts["buttons"] += 1
            return Move(payload=buttons[(self.seed + self.questions) % len(buttons)][1])
        answers = answers_for(reply.texts[-1] if reply.texts else "", self.phase)
        self.last_answer = answers[(self.seed + self.typed) % len(answers)]
        self.typed += 1
        return Move(text=self.last_answer)


@dataclass(frozen=True)
class Pep:
    pep_id: int
    year_group: int
    code: str


@dataclass
class TurnRecord:
    turn: int
    ms: float
    status: int  # 0: no HTTP answer (timeout, connection)
    error: str | None  # None: a good turn


class Channel(Protocol):
    """One child's way to the bot: start (redeeming the code) and send messages."""

    async def open(self) -> None: ...

    async def start(self) -> tuple[int, Reply]: ...

    async def send(self, move: Move) -> tuple[int, Reply]: ...


def reply_from(messages: Sequence[dict[str, Any]]) -> Reply:
    texts, buttons = [], []
    for message in messages:
        if message.get("text"):
            texts.append(str(message["text"]))
        for button in message.get("buttons") or []:
            buttons.append((str(button.get("title", "")), str(button.get("payload", ""))))
    return Reply(tuple(texts), tuple(buttons))


class WebChannel:
    """A browser: its own cookie jar, the start form, then the chat's JSON API."""

    def __init__(self, client: httpx.AsyncClient, app_url: str, code: str) -> None:
        self.client, self.app_url, self.code = client, app_url, code

    async def open(self) -> None:
        page = await self.client.get(self.app_url + "/chat")
        page.raise_for_status()
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if found is None:
            raise RuntimeError("no CSRF token on the start page")
        posted = await self.client.post(
            self.app_url + "/chat/start", data={"code": self.code, "csrf": found.group(1)}
        )
        if posted.status_code != 303:
            raise RuntimeError(f"the code was refused ({posted.status_code})")

    async def _api(self, path: str, body: dict[str, str] | None = None) -> tuple[int, Reply]:
        answer = await self.client.post(self.app_url + path, json=body, headers=CSRF_HEADER)
        if answer.status_code != 200:
            return answer.status_code, Reply()
        bot = [m for m in answer.json().get("messages", []) if m.get("sender") == "bot"]
        return 200, reply_from(bot)

    async def start(self) -> tuple[int, Reply]:
        return await self._api("/chat/api/start")

    async def send(self, move: Move) -> tuple[int, Reply]:
        body = {"payload": move.payload} if move.payload else {"text": move.text}
        return await self._api("/chat/api/send", body)


class EngineChannel:
    """The app's side only: the conversation linked through bot.services, then the webhook."""

    def __init__(self, client: httpx.AsyncClient, engine_url: str, code: str) -> None:
        self.client, self.code = client, code
        self.sender = f"bench-{uuid.uuid4().hex}"
        self.url = engine_url + ENGINE_WEBHOOK_PATH
        self.headers = engine_headers()

    async def open(self) -> None:
        await asyncio.to_thread(link_conversation, self.code, self.sender, client="bench")

    async def _say(self, message: str) -> tuple[int, Reply]:
        body = {"sender": self.sender, "message": message}
        answer = await self.client.post(self.url, json=body, headers=self.headers)
        if answer.status_code != 200:
            return answer.status_code, Reply()
        return 200, reply_from(answer.json() or [])

    async def start(self) -> tuple[int, Reply]:
        return await self._say(START_MESSAGE)

    async def send(self, move: Move) -> tuple[int, Reply]:
        # As the app does: a payload as it is, typed text guarded against reading as one.
        return await self._say(move.payload or as_typed_text(move.text))


@dataclass
class Conversation:
    records: list[TurnRecord] = field(default_factory=list)
    opened_ms: float | None = None
    # Why the conversation stopped early: the child could not get in, or the driver broke.
    failure: str | None = None
    script: ChildScript | None = None
    # The first conversation of a level keeps what was said, to show in the figures.
    sample: list[tuple[int, str, str]] | None = None


async def timed(turn: int, call: Any) -> tuple[TurnRecord, Reply]:
    started = time.perf_counter()
    try:
        status, reply = await call
        error = None if status == 200 else f"http {status}"
        if error is None and not reply.texts:
            error = "empty reply"
    except httpx.TimeoutException:
        status, reply, error = 0, Reply(), "timeout"
    except httpx.HTTPError as failure:
        status, reply, error = 0, Reply(), type(failure).__name__
    except ValueError:  # a body that is not JSON
        status, reply, error = 200, Reply(), "bad body"
    ms = (time.perf_counter() - started) * 1000
    return TurnRecord(turn, ms, status, error), reply


async def hold_conversation(
    channel: Channel, script: ChildScript, turns: int, out: Conversation, think: float = 0.0
) -> None:
    """One child's conversation, turn after turn; a failed turn is recorded and passed over.

    `think`: the mean seconds a child reads and types before each message (0: at once, to
    measure capacity); children also start at random moments within that time."""
    out.script = script
    pause = random.Random(f"think:{script.seed}")
    await asyncio.sleep(pause.uniform(0, think))
    started = time.perf_counter()
    try:
        await channel.open()
    except Exception as failure:  # the child could not get in: no turns to time
        out.failure = f"could not start: {type(failure).__name__}: {failure}"
        return
    out.opened_ms = (time.perf_counter() - started) * 1000
    record, reply = await timed(1, channel.start())
    out.records.append(record)
    _keep_sample(out, record, "(start)", reply)
    last_good = reply
    for turn in range(2, turns + 1):
        move = script.next_move(last_good, turns - turn + 1)
        await asyncio.sleep(pause.uniform(0.5 * think, 1.5 * think))
        record, reply = await timed(turn, channel.send(move))
        out.records.append(record)
        _keep_sample(out, record, move.payload or move.text, reply)
        if record.error is None:
            last_good = reply


def _keep_sample(out: Conversation, record: TurnRecord, said: str, reply: Reply) -> None:
    if out.sample is not None:
        answer = record.error or (reply.texts[-1][:90] if reply.texts else "")
        out.sample.append((record.turn, said, answer))


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[round(fraction * 100) - 1]


def summarise(
    path: str, concurrency: int, turns: int, conversations: list[Conversation], wall_s: float
) -> dict[str, Any]:
    records = [r for c in conversations for r in c.records]
    latencies = [r.ms for r in records]
    errors: Counter[str] = Counter(r.error for r in records if r.error is not None)
    failures = [c.failure for c in conversations if c.failure]
    errors.update(failure.split(":")[0] for failure in failures)
    by_turn: dict[int, list[float]] = {}
    for r in records:
        by_turn.setdefault(r.turn, []).append(r.ms)
    counts: Counter[str] = Counter()
    for c in conversations:
        if c.script is not None:
            counts.update(c.script.counts)
    opened = [c.opened_ms for c in conversations if c.opened_ms is not None]
    mean_by_turn = [round(statistics.fmean(by_turn[t]), 1) for t in sorted(by_turn)]
    return {
        "path": path,
        "concurrency": concurrency,
        "conversations": len(conversations),
        "turns_per_conversation": turns,
        "count": len(records),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "conversation_failures": failures[:5],
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "wall_s": round(wall_s, 2),
        "messages_per_s": round(len(records) / wall_s, 2) if wall_s > 0 else None,
        "open_ms_p50": round(percentile(opened, 0.5), 1) if opened else None,
        "mean_ms_by_turn": mean_by_turn,
        "p95_ms_by_turn": [round(percentile(by_turn[t], 0.95), 1) for t in sorted(by_turn)],
        "turn_ratio": turn_ratio(mean_by_turn),
        "conversation_counts": dict(counts),
        "sample_conversation": conversations[0].sample if conversations else None,
    }


def turn_ratio(mean_by_turn: list[float], early: int = 5, late: int = 60) -> dict[str, Any]:
    """Mean latency at a late turn over turn 5 (the target: turn 60 at most 1.2 x turn 5);
    the last turn stands in for turn 60 in a shorter run, and says so."""
    late = min(late, len(mean_by_turn))
    if late < early:
        return {}

    # Neighbouring turns smooth out which question happens to fall on one turn number.
    def around(turn: int) -> float:
        window = mean_by_turn[max(0, turn - 3) : min(len(mean_by_turn), turn + 2)]
        return statistics.fmean(window)

    return {
        "early_turn": early,
        "late_turn": late,
        "ratio": round(around(late) / around(early), 2),
        "smoothing": "mean over turns t-2..t+2",
    }


# --- the run ---------------------------------------------------------------------------------


def point_at(stack: Stack) -> None:
    """This process reads and writes the stack's store, under its key, as the app does."""
    for name in ("DATABASE_URL", "SECRET_KEY", "VAR_DIR", "RASA_URL", "ACTION_SERVER_URL"):
        os.environ[name] = stack.env[name]
    get_settings.cache_clear()
    db.reset_engine()


def seed_peps(count: int) -> list[Pep]:
    """`count` PEPs, one child each, year groups in turn, each with a fresh invite."""
    meeting = date.today() + timedelta(days=30)
    made: list[Pep] = []
    with db.session_scope() as session:
        school = directory.add_school(session, f"Bench School {uuid.uuid4().hex[:6]}")
        directory.add_staff(session, school.name, "dsl@bench.example", Role.dsl)
        directory.add_staff(session, school.name, "dt@bench.example", Role.designated_teacher)
        for index in range(count):
            year = YEAR_GROUPS[index % len(YEAR_GROUPS)]
            child = directory.add_child(session, school.name, f"Child{index}", year)
            pep = directory.add_pep(session, child.id, meeting)
            made.append(Pep(pep.id, year, issue_invite(session, pep)))
    return made


async def run_level(
    stack: Stack, path: str, peps: list[Pep], turns: int, timeout: float, think: float
) -> tuple[list[Conversation], float]:
    conversations = [Conversation() for _ in peps]
    conversations[0].sample = []
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=2)

    async def one(pep: Pep, out: Conversation, index: int) -> None:
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            channel: Channel
            if path == "web":
                channel = WebChannel(client, stack.app_url, pep.code)
            else:
                channel = EngineChannel(client, stack.engine_url, pep.code)
            script = ChildScript(phase_of(pep.year_group), seed=index)
            try:
                await hold_conversation(channel, script, turns, out, think)
            except Exception as failure:  # a bug in the driver: the other children go on
                out.failure = f"crashed: {type(failure).__name__}: {failure}"

    started = time.perf_counter()
    tasks = [
        asyncio.create_task(one(p, c, i))
        for i, (p, c) in enumerate(zip(peps, conversations, strict=True))
    ]
    try:
        # Every request has its timeout; this is the backstop, so a level always ends.
        _, late = await asyncio.wait(tasks, timeout=turns * (timeout + 1.5 * think) + 120)
        if late:
            print(
                f"  {path} x{len(peps)}: {len(late)} still going at the backstop", file=sys.stderr
            )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return conversations, time.perf_counter() - started


def engine_memory(stack: Stack) -> dict[str, int]:
    pid = stack.engine_pid()
    return memory_kib(pid) if pid is not None else {}


def run_all(args: argparse.Namespace, stack: Stack) -> dict[str, Any]:
    levels: list[int] = args.concurrency
    needed = 1 + sum(levels) * len(args.via)
    print(f"seeding {needed} PEPs", flush=True)
    peps = iter(seed_peps(needed))
    results: list[dict[str, Any]] = []

    print("warming up: one conversation through the web chat", flush=True)
    warm, warm_s = asyncio.run(
        run_level(stack, "web", [next(peps)], min(WARMUP_TURNS, args.turns), args.timeout, 0.0)
    )
    warmup = summarise("web", 1, min(WARMUP_TURNS, args.turns), warm, warm_s)
    print(f"  warm-up: {warmup['count']} turns, {warmup['errors']} errors", flush=True)

    for concurrency in levels:
        for path in args.via:
            batch = [next(peps) for _ in range(concurrency)]
            before, cpu_before = engine_memory(stack), stack.cpu_seconds()
            print(f"{path} x{concurrency}: {concurrency * args.turns} turns", flush=True)
            conversations, wall = asyncio.run(
                run_level(stack, path, batch, args.turns, args.timeout, args.think)
            )
            result = summarise(path, concurrency, args.turns, conversations, wall)
            result["engine_memory_kib"] = {"before": before, "after": engine_memory(stack)}
            result["cpu_s"] = cpu_used(cpu_before, stack.cpu_seconds())
            results.append(result)
            print(f"  {table_row(result)}", flush=True)
            if result["errors"] and stack.failed():
                print("  " + "; ".join(stack.failed()), file=sys.stderr)
    return {"warmup": warmup, "results": results}


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each server used during a level (the wall time is in the result)."""
    return {name: round(after[name] - before[name], 1) for name in after if name in before}


def machine() -> dict[str, Any]:
    model_name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu": model_name,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


TABLE_HEAD = (
    f"{'path':<7}{'N':>4}{'turns':>7}{'errors':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
    f"{'msg/s':>8}{'late/t5':>9}{'RSS MiB':>9}  CPU % engine/actions/app"
)


def table_row(r: dict[str, Any]) -> str:
    after = r.get("engine_memory_kib", {}).get("after", {})
    rss = f"{after['VmRSS'] / 1024:.0f}" if "VmRSS" in after else "-"
    ratio = r["turn_ratio"].get("ratio", "-")
    return (
        f"{r['path']:<7}{r['concurrency']:>4}{r['count']:>7}{r['errors']:>7}"
        f"{r['p50_ms']:>8.0f}{r['p95_ms']:>8.0f}{r['p99_ms']:>8.0f}{r['max_ms'] or 0:>8.0f}"
        f"{r['messages_per_s'] or 0:>8.1f}{ratio!s:>9}{rss:>9}  {cpu_shares(r)}"
    )


def cpu_shares(r: dict[str, Any]) -> str:
    """Each server's CPU time over the level's wall time (100 = one core busy)."""
    used = r.get("cpu_s", {})
    wall = r["wall_s"] or 1
    return "/".join(
        f"{100 * used[name] / wall:.0f}" if name in used else "-"
        for name in ("engine", "actions", "app")
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Full-stack load: whole conversations at several concurrency levels."
    )
    parser.add_argument("--model", type=Path, required=True, help="the engine's model")
    parser.add_argument("--label", default="pep-voice", help="names this run (project, peer)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 20])
    parser.add_argument("--turns", type=int, default=DEFAULT_TURNS, help="per conversation")
    parser.add_argument("--via", nargs="+", choices=PATHS, default=list(PATHS))
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per request, s")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds a child takes before each message"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--plots", type=Path, help="write PNG plots into this folder")
    args = parser.parse_args(argv)
    if args.turns < 2 or any(n < 1 for n in args.concurrency):
        parser.error("--turns must be at least 2 and each --concurrency at least 1")
    if not args.model.is_file():
        parser.error(f"no model at {args.model}")
    return args


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so `finally` stops the stack


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    model = args.model.resolve()
    stack = Stack.create()
    print(f"work folder (logs, store): {stack.work}", flush=True)
    started = datetime.now(UTC)
    ok = False
    try:
        stack.migrate()
        point_at(stack)
        print("starting action server and engine (a minute or two), then the app", flush=True)
        stack.start(model)
        figures = run_all(args, stack)
        ok = not any(r["errors"] for r in figures["results"])
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted (logs: {stack.work})", file=sys.stderr)
        return 130
    finally:
        stack.stop()
    report = {
        "label": args.label,
        "model": str(model.relative_to(REPO) if model.is_relative_to(REPO) else model),
        "machine": machine(),
        "date": started.isoformat(timespec="seconds"),
        "settings": {
            "turns": args.turns,
            "timeout_s": args.timeout,
            "think_s": args.think,
            "via": args.via,
        },
        **figures,
    }
    print()
    print(TABLE_HEAD)
    for result in report["results"]:
        print(table_row(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        print(f"figures: {args.json}")
    if args.plots:
        from plots import plot_run

        for made in plot_run(report, args.plots):
            print(f"plot: {made}")
    if not ok:
        print(f"some turns failed; the servers' logs are in {stack.work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
