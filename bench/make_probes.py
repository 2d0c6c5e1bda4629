"""Build the probe suite `data/probes/probes.csv`: `make probes`.

Short sentences from hand-written sentence frames, filled with sentiment words.
Each frame tests one thing a reader of word order must get right:

    negation          a negated positive word  ("the movie was not great")      -> negative
    negated_negative  a negated negative word  ("this is not bad at all")       -> positive
    double_negation   two negations cancel     ("it's not that I don't like it") -> the word's
    contrast          "X, but Y": Y decides    ("good food, but awful service")  -> Y's
    intensity         intensifiers and diminishers keep the polarity ("slightly boring")
    control           the word alone in a plain frame, and neutral statements
    negation_not_flipping  a negator that intensifies or is idiomatic, both polarities
                      ("couldn't be happier", "can't complain" -> positive;
                      "couldn't be worse", "can't stand it" -> negative)

The sentiment words are hand-picked adjectives and verbs that the VADER lexicon rates
at |valence| >= 1.5 with the sign of their list, kept only where they occur at least
MIN_COUNT times in the SemEval-2017 training split (when ../shared/data is present).
The frames are used here only: the training augmentation (sentiment_cli/training/augment.py)
edits real tweets by token rules and never uses these frames, so a model that passes
the probes has not seen them.

    python bench/make_probes.py [--per-category 80] [--seed 0] [--out data/probes/probes.csv]
    python bench/make_probes.py --add negation_not_flipping   # one new category, appended
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMEVAL_TRAIN = ROOT.parent / "shared" / "data" / "semeval2017" / "train.csv"
MIN_COUNT = 5

POSITIVE_ADJ = """good great amazing awesome excellent fantastic wonderful nice lovely beautiful
brilliant perfect fun happy cool fabulous impressive enjoyable pleasant superb terrific funny
sweet exciting delightful incredible outstanding helpful friendly smart interesting glad
entertaining charming fine""".split()
NEGATIVE_ADJ = """bad terrible awful horrible boring disappointing sad annoying stupid ugly poor
dreadful painful disgusting lame pathetic upsetting depressing useless rude nasty frustrating
miserable crappy weak scary dull mediocre gross unfair ridiculous tragic worse""".split()
POSITIVE_VERB = "love like enjoy adore appreciate admire trust recommend".split()
NEGATIVE_VERB = "hate dislike regret despise dread fear detest blame".split()
NOUNS = """movie game show album book phone concert weather service food trip match episode
update song class team weekend hotel party speech interview season trailer restaurant
flight app performance""".split()
INTENSIFIERS = "really so extremely incredibly very super absolutely totally".split()
DIMINISHERS = ["slightly", "a bit", "somewhat", "kind of", "a little", "mildly", "rather"]
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

# Frames: {a} adjective, {v} verb, {n} and {m} nouns. The key is the polarity of the
# filled word; the value is a list of (frame, label) where label is "same" (the word's
# polarity), "flip" (the opposite one) or a fixed label.
FRAMES: dict[str, list[tuple[str, str]]] = {
    "negation": [
        ("the {n} was not {a}", "flip"),
        ("this {n} is not {a} at all", "flip"),
        ("the {n} isn't {a}", "flip"),
        ("honestly, the {n} wasn't {a}", "flip"),
        ("I don't {v} the {n}", "flip"),
        ("I never {v} this {n}", "flip"),
        ("I did not {v} the {n} one bit", "flip"),
        ("nothing about the {n} was {a}", "flip"),
        ("the {n} was hardly {a}", "flip"),
        ("no one would call this {n} {a}", "flip"),
        ("a {n} without a single {a} moment", "flip"),
        ("never been a {a} {n}", "flip"),
        ("that {n} could never be called {a}", "flip"),
        ("I can't {v} a {n} like this", "flip"),
    ],
    "double_negation": [
        ("it's not that the {n} wasn't {a}", "same"),
        ("I can't say the {n} was not {a}", "same"),
        ("it is not true that I don't {v} the {n}", "same"),
        ("you can't say I never {v} the {n}", "same"),
        ("I wouldn't say the {n} isn't {a}", "same"),
        ("not once was the {n} not {a}", "same"),
    ],
    "contrast": [
        ("the {n} was {b}, but the {m} was {a}", "same"),
        ("{b} {n}, but a {a} {m}", "same"),
        ("I expected the {n} to be {b}, but it was {a}", "same"),
        ("it started {b} but the {n} ended up {a}", "same"),
        ("although the {n} was {b}, the {m} was {a}", "same"),
        ("the {m} looked {b} at first, but it turned out {a}", "same"),
        ("sure the {n} is {b}, but overall it's {a}", "same"),
    ],
    "intensity": [
        ("the {n} was {i} {a}", "same"),
        ("this {n} is {i} {a}!", "same"),
        ("the {n} was {d} {a}", "same"),
        ("I found the {n} {d} {a}", "same"),
        ("the {n} felt {i} {a}", "same"),
    ],
    "control": [
        ("the {n} was {a}", "same"),
        ("this {n} is {a}", "same"),
        ("I {v} the {n}", "same"),
        ("what a {a} {n}", "same"),
        ("the {n} is on {day}", "neutral"),
        ("the {n} starts at {hour} pm tomorrow", "neutral"),
        ("I am reading about the {n} on {day}", "neutral"),
    ],
}
FRAMES["negated_negative"] = FRAMES["negation"]  # the same frames, filled with negative words
# A negator that does not flip: it intensifies ("couldn't be happier") or belongs to an
# idiom ("can't complain", "can't stand"). Filled with either polarity's words where the
# frame has one; "same"/"flip" follow the filled word, fixed labels do not. Last, so the
# categories above keep their sentences.
FRAMES["negation_not_flipping"] = [
    ("I couldn't be happier with the {n}", "positive"),
    ("the {n} has never been better", "positive"),
    ("can't complain about the {n}", "positive"),
    ("no complaints at all about the {n}", "positive"),
    ("the {n} never disappoints", "positive"),
    ("can't wait for the {n}", "positive"),
    ("I could not have asked for a better {n}", "positive"),
    ("you can't go wrong with this {n}", "positive"),
    ("no regrets about the {n}", "positive"),
    ("never had a {n} this {a}", "same"),
    ("the {n} could not have been more {a}", "same"),
    ("I can't believe how {a} the {n} was", "same"),
    ("the {n} couldn't be worse", "negative"),
    ("the {n} has never been worse", "negative"),
    ("I can't stand this {n}", "negative"),
    ("this {n} is no good", "negative"),
    ("the {n} never fails to disappoint", "negative"),
    ("I couldn't be more disappointed with the {n}", "negative"),
    ("can't wait for this {n} to be over", "negative"),
    ("nothing works on this {n}", "negative"),
]


def vader_valences() -> dict[str, float]:
    from sentiment_cli.text.lexicon import vader_valences as valences

    return valences()


def training_counts() -> Counter | None:
    if not SEMEVAL_TRAIN.exists():
        return None
    import pandas as pd

    from sentiment_cli.config import TextConfig
    from sentiment_cli.text.tokenizer import tokenize_all

    texts = pd.read_csv(SEMEVAL_TRAIN, dtype=str, keep_default_na=False)["text"]
    return Counter(t for tokens in tokenize_all(texts, TextConfig()) for t in tokens)


def word_lists(counts: Counter | None) -> dict[str, list[str]]:
    valences = vader_valences()

    def keep(words: list[str], sign: int) -> list[str]:
        return [
            w
            for w in words
            if sign * valences.get(w, 0.0) >= 1.5 and (counts is None or counts[w] >= MIN_COUNT)
        ]

    return {
        "pos_adj": keep(POSITIVE_ADJ, 1),
        "neg_adj": keep(NEGATIVE_ADJ, -1),
        "pos_verb": keep(POSITIVE_VERB, 1),
        "neg_verb": keep(NEGATIVE_VERB, -1),
    }


def fill(frame: str, polarity: str, words: dict, rng: random.Random) -> str:
    other = "neg" if polarity == "pos" else "pos"
    noun, second = rng.sample(NOUNS, 2)
    return frame.format(
        a=rng.choice(words[f"{polarity}_adj"]),
        b=rng.choice(words[f"{other}_adj"]),
        v=rng.choice(words[f"{polarity}_verb"]),
        n=noun,
        m=second,
        i=rng.choice(INTENSIFIERS),
        d=rng.choice(DIMINISHERS),
        day=rng.choice(DAYS),
        hour=rng.randint(1, 11),
    )


def label_of(rule: str, polarity: str) -> str:
    same = "positive" if polarity == "pos" else "negative"
    flipped = "negative" if polarity == "pos" else "positive"
    return {"same": same, "flip": flipped}.get(rule, rule)


def build(per_category: int, seed: int, words: dict) -> list[dict]:
    return build_frames(FRAMES, per_category, seed, words, seen=set())


def build_frames(frames_by_category, per_category, seed, words, seen: set[str]) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    for category, frames in frames_by_category.items():
        polarities = {"negation": ["pos"], "negated_negative": ["neg"]}.get(
            category, ["pos", "neg"]
        )
        made = 0
        # Cycle through frames and polarities so each gets an equal share.
        for frame, rule in itertools.cycle([(f, r) for f, r in frames]):
            if made == per_category:
                break
            polarity = polarities[made % len(polarities)]
            text = fill(frame, polarity, words, rng)
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": label_of(rule, polarity), "category": category})
            made += 1
    return rows


def add_category(out: Path, category: str, per_category: int, seed: int, words: dict) -> None:
    """Append ``category``'s probes to ``out``; its other rows stay byte for byte, so the
    figures of the categories already there stay comparable."""
    import pandas as pd

    existing = pd.read_csv(out, dtype=str, keep_default_na=False)
    if category in set(existing["category"]):
        raise SystemExit(f"make_probes: {out} already has {category}")
    frames = {category: FRAMES[category]}
    rows = build_frames(frames, per_category, seed, words, seen=set(existing["text"]))
    with open(out, "a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, fieldnames=["text", "label", "category"]).writerows(rows)
    by = Counter(r["label"] for r in rows)
    print(f"Appended {len(rows)} {category} probes to {out}: {dict(by)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-category", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "probes" / "probes.csv")
    parser.add_argument(
        "--add",
        metavar="CATEGORY",
        help="append one new category to the existing --out, leaving its rows as they are",
    )
    args = parser.parse_args()
    counts = training_counts()
    words = word_lists(counts)
    if args.add:
        add_category(args.out, args.add, args.per_category, args.seed, words)
        return
    print(
        "Sentiment words kept ("
        + ("in VADER and seen >= 5 times in SemEval train" if counts else "in VADER; no SemEval")
        + "): "
        + ", ".join(f"{k} {len(v)}" for k, v in words.items())
    )
    rows = build(args.per_category, args.seed, words)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label", "category"])
        writer.writeheader()
        writer.writerows(rows)
    by = Counter((r["category"], r["label"]) for r in rows)
    print(
        f"Wrote {len(rows)} probes to {args.out}: " + ", ".join(f"{k}={v}" for k, v in by.items())
    )


if __name__ == "__main__":
    main()
