"""Generate the `spellings:` section of the safeguarding lexicon from real misspellings.

Source: Roger Mitton's Birkbeck and Holbrook spelling-error corpora (mostly schoolchildren),
in ../shared/data/spelling beside the repository (`$word` then its misspellings, `_` = space).
Run once, review the diff, commit the lexicon; the app never reads the corpora at run time.

    .venv/app/bin/python bench/make_spelling_variants.py [--corpus-dir DIR]

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pep_nlp.pipeline import build_nlp  # noqa: E402

LEXICON = ROOT / "pep_nlp" / "data" / "safeguarding_lexicon.yml"
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


def generate(corpus_dir: Path) -> dict[str, str]:
    nlp = build_nlp()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    english = {str(v) for v in table.values()}
    corpus: dict[str, set[str]] = defaultdict(set)
    for name in ("birkbeck-missp.dat", "holbrook-missp.dat"):
        for target, wrong in read_corpus(corpus_dir / name).items():
            corpus[target] |= wrong
    claimed: dict[str, set[str]] = defaultdict(set)
    for target, wrong in corpus.items():
        for w in wrong:
            claimed[w].add(target)
    out: dict[str, str] = {}
    for target in sorted(set(KEY_WORDS)):
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
        "# bench/make_spelling_variants.py and reviewed by hand. Add your own below the END line.",
        "spellings:",
    ]
    lines += [f"  {wrong}: {right}" for wrong, right in sorted(spellings.items())]
    lines.append(END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    shared = Path(__file__).resolve().parents[2] / "shared"  # beside the repository
    parser.add_argument("--corpus-dir", type=Path, default=shared / "data" / "spelling")
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
    LEXICON.write_text(text, encoding="utf-8")
    print(f"{len(spellings)} misspellings written to {LEXICON.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
