"""Blind picks: a person's own prompt answered by the plain and the personalised model, shown as A and B in a
random hidden order; the person picks the one that fits them, or "no difference".

A pick is the person's revealed preference: the prompt and both replies are sealed (AES-GCM, the
participant id as associated data), the side is drawn with `secrets`, and the choice is recorded once.
Decided picks become (prompt, chosen, rejected) pairs for the person's adapter. `stats()` gives, per
strategy, the personalised reply's share of decided picks with a Wilson 95% interval, and the count
of "no difference". Every person's picks count, admins' included (they are real judgements too).
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import func, select

from valueprint.errors import BadRequestError, ConflictError, NotFoundError
from valueprint.personalize.schemas import PickRevealed, PickStarted, StrategyPicks
from valueprint.personalize.trial import answer_twice, clean_prompt
from valueprint.store.crypto import Sealer
from valueprint.store.db import Database
from valueprint.store.models import BlindPick
from valueprint.store.models.base import now
from valueprint.values.profile import ValueProfile

PICK_MAX_TOKENS = 96  # like Try it: a few seconds per reply on the CPU
Z95 = 1.959963984540054
CHOICES = ("A", "B", "same")
Choice = Literal["A", "B", "same"]


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None for n = 0)."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def other_side(side: str) -> str:
    return "B" if side == "A" else "A"


class BlindPicks:
    """`profile_of` gives a person's current profile (the accounts service's, wired in `Services.build`)."""

    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        personalizer: Any,
        profile_of: Callable[[str], ValueProfile],
        strategies: str,
        max_tokens: int = PICK_MAX_TOKENS,
        instructions_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.db, self.sealer, self.personalizer, self.profile_of = db, sealer, personalizer, profile_of
        self.strategies, self.max_tokens = strategies, max_tokens
        self.instructions_of = instructions_of or (lambda _participant_id: None)

    def expected_seconds(self) -> int:
        """About how long answering twice takes here (the personalizer's last measured time)."""
        return int(self.personalizer.expected_answer_seconds())

    def start(self, participant_id: str, prompt: str) -> PickStarted:
        """Answer the prompt plainly and personalised, store both sealed with a random hidden side.

        Side effects: runs the local model twice; stores one `BlindPick` row."""
        prompt = clean_prompt(prompt)
        started = time.perf_counter()
        profile, instructions = self.profile_of(participant_id), self.instructions_of(participant_id)
        answers = answer_twice(self.personalizer, profile, prompt, self.strategies, self.max_tokens, instructions)
        side = secrets.choice("AB")
        personal, plain = answers.personal, answers.base
        a, b = (personal, plain) if side == "A" else (plain, personal)
        sealed = self.sealer.seal({"prompt": prompt, "reply_a": a.text, "reply_b": b.text}, participant_id)
        with self.db.session() as session:
            row = BlindPick(
                participant_id=participant_id,
                strategy="+".join(answers.strategies),
                model=personal.model[:64],
                personal_side=side,
                sealed=sealed,
            )
            session.add(row)
            session.flush()
            pick_id = row.id
        seconds = round(time.perf_counter() - started, 1)
        return PickStarted(
            pick_id=pick_id,
            prompt=prompt,
            reply_a=a.text,
            reply_b=b.text,
            reply_a_cut=a.finish_reason == "length",
            reply_b_cut=b.finish_reason == "length",
            seconds=seconds,
        )

    def _own(self, session: Any, participant_id: str, pick_id: int) -> BlindPick:
        row = session.get(BlindPick, pick_id)
        if row is None or row.participant_id != participant_id:
            raise NotFoundError(f"no blind pick {pick_id} of yours: start one with your own prompt")
        return row

    @staticmethod
    def _revealed(row: BlindPick) -> PickRevealed:
        choice = row.choice or "same"
        shown = (
            "same" if choice == "same" else row.personal_side if choice == "personal" else other_side(row.personal_side)
        )
        return PickRevealed(
            pick_id=row.id,
            choice=shown,  # type: ignore[arg-type]
            personal_side=row.personal_side,  # type: ignore[arg-type]
            chose=choice,  # type: ignore[arg-type]
            strategies=row.strategy.split("+"),
        )

    def choose(self, participant_id: str, pick_id: int, choice: str) -> PickRevealed:
        """Record the person's choice ("A", "B" or "same") once, and reveal the personalised side.

        Another person's pick (or none) is a NotFoundError; a second choice is a ConflictError."""
        if choice not in CHOICES:
            raise BadRequestError('choose "A", "B" or "same" (no difference)')
        with self.db.session() as session:
            row = self._own(session, participant_id, pick_id)
            if row.choice is not None:
                raise ConflictError("you already chose for this pick; your first choice stands")
            if choice == "same":
                row.choice = "same"
            else:
                row.choice = "personal" if choice == row.personal_side else "plain"
            row.chosen_at = now()
            return self._revealed(row)

    def reveal(self, participant_id: str, pick_id: int) -> PickRevealed | None:
        """The recorded choice and the personalised side, or None while the person has not chosen."""
        with self.db.session() as session:
            row = self._own(session, participant_id, pick_id)
            return self._revealed(row) if row.choice is not None else None

    def stats(self) -> list[StrategyPicks]:
        """Per strategy: picks, personalised share of decided picks with a Wilson 95% interval, "same" count."""
        with self.db.session() as session:
            rows = session.execute(
                select(BlindPick.strategy, BlindPick.choice, func.count()).group_by(
                    BlindPick.strategy, BlindPick.choice
                )
            ).all()
        counts: dict[str, dict[str | None, int]] = {}
        for strategy, choice, n in rows:
            counts.setdefault(strategy, {})[choice] = n
        result = []
        for strategy in sorted(counts):
            c = counts[strategy]
            personal, plain, same = c.get("personal", 0), c.get("plain", 0), c.get("same", 0)
            interval = wilson(personal, personal + plain)
            result.append(
                StrategyPicks(
                    strategy=strategy,
                    picks=personal + plain + same,
                    personal=personal,
                    plain=plain,
                    same=same,
                    open=c.get(None, 0),
                    personal_share=personal / (personal + plain) if personal + plain else None,
                    ci_low=interval[0] if interval else None,
                    ci_high=interval[1] if interval else None,
                )
            )
        return result

    def preference_pairs(self, participant_id: str) -> list[tuple[str, str, str]]:
        """(prompt, chosen reply, rejected reply) for each of the person's decided picks, oldest first."""
        with self.db.session() as session:
            rows = session.scalars(
                select(BlindPick)
                .where(BlindPick.participant_id == participant_id, BlindPick.choice.in_(("personal", "plain")))
                .order_by(BlindPick.id)
            ).all()
            pairs = []
            for row in rows:
                opened = self.sealer.open(row.sealed, participant_id)
                replies = {"A": opened["reply_a"], "B": opened["reply_b"]}
                personal, plain = replies[row.personal_side], replies[other_side(row.personal_side)]
                chosen, rejected = (personal, plain) if row.choice == "personal" else (plain, personal)
                pairs.append((opened["prompt"], chosen, rejected))
            return pairs
