"""The Fitzpatrick skin-type self-assessment on its published scale; pure, no Flask.

The published instrument has ten items scored 0-4, a total of 0-40, and fixed
bands for types I-VI. The questionnaire marks its items with `scored: fitzpatrick`.
Submissions made with questionnaire 2026.11.1 answered only the first eight items:
their total is never rescaled, it is shown as what it is (n of 32) together with
the range the full 0-40 score must lie in, and the types that range covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .questionnaire import Questionnaire

ITEMS = 10
ITEM_MAX = 4
SCALE_MAX = ITEMS * ITEM_MAX  # 40
# (upper bound of the 0-40 total, type): I 0-6, II 7-13, III 14-20, IV 21-27, V 28-34, VI 35-40.
BANDS = ((6, "I"), (13, "II"), (20, "III"), (27, "IV"), (34, "V"), (40, "VI"))
TYPES = tuple(label for _limit, label in BANDS)
# How many items may be missing before the range says too little to print a type.
MAX_MISSING = 2


def band(total: int) -> str:
    """The type for a 0-40 total."""
    return next(label for limit, label in BANDS if total <= limit)


def band_range(kind: str) -> str:
    """The totals a type covers, e.g. "14–20" for III."""
    index = TYPES.index(kind)
    low = BANDS[index - 1][0] + 1 if index else 0
    return f"{low}–{BANDS[index][0]}"


@dataclass(frozen=True)
class SkinType:
    """A patient's self-assessment: the sum of the items answered, and what it says on the 0-40 scale."""

    score: int
    answered: int

    @property
    def complete(self) -> bool:
        return self.answered >= ITEMS

    @property
    def low(self) -> int:
        return self.score

    @property
    def high(self) -> int:
        return self.score + ITEM_MAX * max(0, ITEMS - self.answered)

    @property
    def kind(self) -> str:
        """"III", or "III–IV" when unanswered items leave the type open."""
        first, last = band(self.low), band(self.high)
        return first if first == last else f"{first}–{last}"

    @property
    def number(self) -> int:
        """The highest type the answers allow, 1-6: a caution (skin type IV-VI) errs on the safe side."""
        return TYPES.index(band(self.high)) + 1

    def describe(self) -> str:
        """The score with its scale, so that a physician never has to guess it."""
        if self.complete:
            return f"score {self.score}/{SCALE_MAX}; type {self.kind} = {band_range(self.kind)}"
        return (f"{self.answered} of the {ITEMS} items were asked: {self.score}/{ITEM_MAX * self.answered}, "
                f"so the 0–{SCALE_MAX} score is {self.low}–{self.high}")


def assess(q: Questionnaire, answers: Mapping[str, Any]) -> SkinType | None:
    """Score the scored items the patient answered; None when too many are missing to say anything."""
    items = [x for x in q.by_id.values() if x.scored == "fitzpatrick"]
    chosen = [c for x in items if answers.get(x.link_id) and (c := x.choice(answers[x.link_id])) is not None]
    if not chosen or ITEMS - len(chosen) > MAX_MISSING:
        return None
    return SkinType(sum(c.score for c in chosen), len(chosen))
