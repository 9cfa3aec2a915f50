"""The result page's context: profile chart, political compass, persona, précis, token, next steps.

Shared by the page routes (`ui`) and the model features on the same page (`personal`); the
rules behind the words ("tentative", "fairly sure", a stale token) live in their domains.
"""

from __future__ import annotations

from typing import Any

from valueprint.personalize.trial import MAX_PROMPT_CHARS
from valueprint.services import Services
from valueprint.values.confidence import certainty, certainty_counts, is_tentative, least_certain
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace
from valueprint.web.views import next_view, result_view

CHART_WIDTH, CHART_PAD = 200.0, 6.0


def _x(value: float) -> float:
    """Chart x coordinate of a score in [-1, 1]."""
    return round(CHART_PAD + (max(-1.0, min(1.0, value)) + 1) / 2 * (CHART_WIDTH - 2 * CHART_PAD), 2)


def chart_groups(profile: ValueProfile, space: ValueSpace) -> list[dict[str, Any]]:
    """One row per dimension (mean and ±1 SD in chart coordinates), grouped by group label."""
    groups = []
    for group in space.groups:
        rows = []
        for dim in (d for d in space.dimensions if d.group == group.id):
            score = profile.scores[dim.id]
            lo, hi = _x(score.mean - score.sd), _x(score.mean + score.sd)
            rows.append(
                {
                    "dim": dim,
                    "mean": score.mean,
                    "sd": score.sd,
                    "certainty": certainty(score.sd),
                    "cx": _x(score.mean),
                    "lo": lo,
                    "width": round(hi - lo, 2),
                }
            )
        groups.append({"group": group, "rows": rows})
    return groups


def compass(profile: ValueProfile) -> dict[str, float]:
    """The political point in compass coordinates (authoritarian up), with its ±1 SD ellipse."""
    economic, social = profile.scores["economic"], profile.scores["social"]
    half = (CHART_WIDTH - 2 * CHART_PAD) / 2
    return {
        "x": _x(economic.mean),
        "y": _x(-social.mean),
        "rx": round(economic.sd * half, 2),
        "ry": round(social.sd * half, 2),
    }


def result_context(s: Services, participant_id: str) -> dict[str, Any]:
    profile = s.accounts.profile(participant_id)
    space = s.model.space
    own = s.accounts.own_instructions(participant_id, s.settings.precis_min_confidence_sd)
    return {
        "instructions": own,
        "view": result_view(profile, space, s.settings.precis_min_confidence_sd),
        "groups": chart_groups(profile, space),
        "compass": compass(profile),
        "uncertain": [d.label for d in least_certain(profile, space)],
        "token": s.registry.current_token_state(participant_id, profile, own.text if own.edited else None),
        "space": space,
        "boundaries": set(profile.boundaries),
        "step": next_view(s.accounts.next_question(participant_id)),
        "answered": len(s.accounts.answers(participant_id).answered),
        "tentative": is_tentative(profile, space),
        "sureness": certainty_counts(profile, space),
        "try_max_chars": MAX_PROMPT_CHARS,
        "try_eta": s.personalizer.expected_answer_seconds(),
        "adapter_status": s.personalizer.adapter_status(participant_id),
    }
