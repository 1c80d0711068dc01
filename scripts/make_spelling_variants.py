"""Generate the `spellings:` section of the safeguarding lexicon from real misspellings.

Source: Roger Mitton's Birkbeck and Holbrook spelling-error corpora (mostly schoolchildren),
in ../shared/data/spelling beside the repository (`$word` then its misspellings, `_` = space).
Run once, review the diff, commit the lexicon; the app never reads the corpora at run time.

    .venv/app/bin/python scripts/make_spelling_variants.py [--corpus-dir DIR]
    .venv/app/bin/python scripts/make_spelling_variants.py --check   # exit 1 if stale

The words misspelled are every word of the lexicon (word lists, patterns, text speak and the
hand-written spellings' targets), every word of the safeguarding training examples
(`safeguarding_concern` in nlu_data/*.yml), the forms of those words the corpora list, and
KEY_WORDS.

A misspelling is kept only when it is not itself an English word form (per the lookup
lemmatizer's table), is at least three letters, has no spaces, and misspells only one of the
key words, and is close to its target: "hat" for "hit" would turn "my hat" into a false alarm.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pep_nlp.pipeline import build_nlp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_misspellings import common_english_words  # noqa: E402

LEXICON = ROOT / "pep_nlp" / "data" / "safeguarding_lexicon.yml"
NLU_DIR = ROOT / "nlu_data"
BEGIN = "# BEGIN GENERATED SPELLINGS"
END = "# END GENERATED SPELLINGS"

# Key words of the lexicon that children misspell; keep in step with the patterns.
KEY_WORDS = [
    "scared",
    "scary",
    "frightened",
    "afraid",
    "terrified",
    "hurt",
    "hurts",
    "hurting",
    "hit",
    "hits",
    "hitting",
    "touch",
    "touched",
    "touches",
    "touching",
    "kill",
    "killed",
    "killing",
    "punch",
    "punched",
    "kick",
    "kicked",
    "slap",
    "slapped",
    "beat",
    "beating",
    "beaten",
    "starving",
    "starve",
    "starved",
    "hungry",
    "secret",
    "secrets",
    "myself",
    "suicide",
    "die",
    "dead",
    "rape",
    "raped",
    "abuse",
    "abused",
    "bully",
    "bullied",
    "bullying",
    "knife",
    "stab",
    "stabbed",
    "threaten",
    "threatened",
    "drunk",
    "drugs",
    "alcohol",
    "homeless",
    "nowhere",
    "alone",
    "sexual",
    "private",
    "privates",
    "force",
    "forced",
    "marry",
    "married",
    "marriage",
    "police",
    "dangerous",
    "safe",
    "placement",
    "foster",
    "carer",
    "food",
    "clothes",
    "dirty",
    "smoke",
    "smoking",
    "pills",
    "tablets",
    "harm",
    "cut",
    "cutting",
    "burn",
    "burnt",
    "bruise",
    "bruises",
    "strangle",
    "choke",
    "naked",
    "pictures",
    "photos",
    "blackmail",
    "scream",
    "screaming",
    "shout",
    "shouting",
    "stupid",
    "ugly",
    "useless",
    "worthless",
    "hate",
    "hates",
    "fault",
    "ignore",
    "locked",
    "away",
    "sleep",
    "slept",
    "night",
    "street",
    "streets",
    "husband",
    "circumcised",
    "terrorist",
    "bomb",
    "fight",
    "fighting",
    "weight",
    "calories",
    "eating",
    "sick",
    "vomit",
    "laxatives",
    "anorexia",
    "uncle",
    "boyfriend",
    "because",
    "abroad",
    "disgusting",
    "frighten",
    "lonely",
    "nobody",
    "someone",
    "somebody",
    "anyone",
    "anymore",
    "punish",
    "pushed",
    "grabbed",
    "bleed",
    "blood",
    "wrist",
    "wrists",
    "throat",
    "neck",
    "bottom",
    "breasts",
    "knickers",
    "trousers",
    "threw",
    "thrown",
    "violent",
    "weapon",
    "gun",
    "cousin",
    "married",
    "wedding",
    "guilty",
    "secretly",
]

WORD = re.compile(r"^[a-z']{3,}$")
# Far-fetched attempts ("foat" for "frightened") add noise and collide with names and slang.
MIN_SIMILARITY = 0.7
# Reviewed by hand: real words, names or slang the English table does not know.
REJECTED = {
    "aware",
    "gaff",
    "diy",
    "cher",
    "dans",
    "nath",
    "afraid",
    "het",
    "nak",
    "nec",
    "hungary",
    "tonight",
    "kike",
}


def read_corpus(path: Path) -> dict[str, set[str]]:
    """target word -> its misspellings (lower-cased)."""
    variants: dict[str, set[str]] = defaultdict(set)
    target = ""
    for line in path.read_text(encoding="latin-1").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("$"):
            target = line[1:].lower()
            continue
        variants[target].add(line.split()[0].lower())
    return variants


def _pattern_words(pattern: str) -> set[str]:
    words = set()
    for slot in pattern.split():
        for alternative in slot.removeprefix("=").removesuffix("?").split("|"):
            if alternative and not alternative.startswith("@") and alternative not in ("*", "..."):
                words.add(alternative.lower())
    return words


def lexicon_and_training_words() -> set[str]:
    """Every word the screen's patterns and the safeguarding training examples use."""
    text = LEXICON.read_text(encoding="utf-8")
    hand_written = text.split(BEGIN, 1)[0] + (text.split(END, 1)[1] if END in text else "")
    lexicon = yaml.safe_load(hand_written)
    words: set[str] = set()
    for listed in lexicon["words"].values():
        words.update(str(w).lower() for w in listed)
    for pattern in lexicon.get("guards", []) + lexicon.get("ask_first", []):
        words |= _pattern_words(pattern)
    for entries in lexicon["categories"].values():
        for entry in entries:
            for pattern in entry["patterns"]:
                words |= _pattern_words(pattern)
    for phrase in lexicon.get("text_speak", {}).values():
        words.update(phrase.split())
    words.update(str(w) for w in (lexicon.get("spellings") or {}).values())
    for path in sorted(NLU_DIR.glob("*.yml")):  # hand-written; generated/ is below
        training = yaml.safe_load(path.read_text(encoding="utf-8"))
        for block in training.get("nlu") or []:
            if block.get("intent") != "safeguarding_concern":
                continue
            for line in block.get("examples", "").splitlines():
                words.update(re.findall(r"[a-z]+", line.lower()))
    return {w for w in words if WORD.match(w)}


def generate(corpus_dir: Path) -> dict[str, str]:
    nlp = build_nlp()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    english = {str(v) for v in table.values()}
    corpus: dict[str, set[str]] = defaultdict(set)
    for name in ("birkbeck-missp.dat", "holbrook-missp.dat"):
        for target, wrong in read_corpus(corpus_dir / name).items():
            corpus[target] |= wrong
    # A misspelling that is itself a word (a corpus headword: "again" is listed as a
    # misspelling of "against") would turn ordinary words into others: never kept.
    english |= set(corpus) | common_english_words()
    keys = lexicon_and_training_words() | set(KEY_WORDS)
    # The forms the corpora list of those words ("hitting", "touched").
    keys |= {t for t in corpus if str(table.get(t, t)) in keys}
    claimed: dict[str, set[str]] = defaultdict(set)
    for target, wrong in corpus.items():
        for w in wrong:
            claimed[w].add(target)
    out: dict[str, str] = {}
    for target in sorted(keys):
        for w in sorted(corpus.get(target, ())):
            if (
                WORD.match(w)
                and w != target
                and w not in table
                and w not in english
                and claimed[w] == {target}
                and w not in REJECTED
                and difflib.SequenceMatcher(None, w, target).ratio() >= MIN_SIMILARITY
            ):
                out[w] = target
    return out


def render(spellings: dict[str, str]) -> str:
    lines = [
        BEGIN,
        "# Real children's misspellings of key words (Birkbeck/Holbrook corpora), made by",
        "# scripts/make_spelling_variants.py, reviewed by hand. Add your own below the END line.",
        "spellings:",
    ]
    lines += [f"  {wrong}: {right}" for wrong, right in sorted(spellings.items())]
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    shared = Path(__file__).resolve().parents[2] / "shared"  # beside the repository
    parser.add_argument("--corpus-dir", type=Path, default=shared / "data" / "spelling")
    parser.add_argument("--check", action="store_true", help="exit 1 if the lexicon is stale")
    args = parser.parse_args()
    spellings = generate(args.corpus_dir)
    text = LEXICON.read_text(encoding="utf-8")
    block = render(spellings)
    if BEGIN in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    if args.check:
        if text != LEXICON.read_text(encoding="utf-8"):
            stale = "generated spellings are stale; rerun scripts/make_spelling_variants.py"
            print(f"{LEXICON.relative_to(ROOT)}: {stale}")
            raise SystemExit(1)
        print(f"{LEXICON.relative_to(ROOT)}: generated spellings are up to date")
        return
    LEXICON.write_text(text, encoding="utf-8")
    print(f"{len(spellings)} misspellings written to {LEXICON.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
