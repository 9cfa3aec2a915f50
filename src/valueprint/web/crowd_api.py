"""The annotation quality API under /v1/annotate: HTTP onto `valueprint.annotate.crowd` (the domain does the work).

Curators add gold units and lift pauses; reviewers (by role, or by karma) see agreement, consensus and disputed
units, adjudicate and return annotations; everyone sees their own gold record and karma, every change with
its reason.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from valueprint.annotate.gold import MAX_GOLD_IMPORT
from valueprint.web.deps import Curator, Participant, Reviewer, ServicesDep

router = APIRouter(prefix="/v1/annotate", tags=["annotate quality"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldRequest(Body):
    source: Literal["social_chemistry", "touche23", "moral_stories"] = Field(
        description="Whose validation split the known answers come from (test splits are never used)."
    )
    limit: int = Field(50, ge=1, le=MAX_GOLD_IMPORT)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Which sample of the split.")


class GoldAdded(BaseModel):
    gold_units: int
    duplicates: int = Field(description="Dropped as near-duplicates of the project's units.")


class GoldRecord(BaseModel):
    units: int = Field(description="Gold units labelled.")
    accuracy: float | None = Field(description="Mean share of checks agreeing with the known answers.")
    interval: list[float] = Field(description="95% Wilson interval of the accuracy.")
    chance: float | None = Field(description="What uniformly random answers would score on the same units.")
    far_below_chance: bool
    paused: bool = False
    pause_reason: str | None = None
    participant_id: str | None = None


class KarmaEventView(BaseModel):
    kind: str
    delta: float
    reason: str = Field(description="Why karma changed, as the person sees it.")
    project_id: str | None
    unit_id: int | None
    created_at: Any


class KarmaView(BaseModel):
    karma: float
    weight: float = Field(description="Weight of this person's labels in consensus (fresh accounts weigh little).")
    may_review: bool
    review_karma: float
    events: list[KarmaEventView]


class LabelAlpha(BaseModel):
    label: str = Field(description="`acceptability`, `value:<dimension>` or `custom:<label>`.")
    metric: str
    alpha: float
    units: int


class Disputed(BaseModel):
    unit_id: int
    disagreement: float = Field(description="Disagreement within the unit relative to chance (1 = as random).")
    split_on: list[str]
    text: str


class AgreementView(BaseModel):
    alpha: float | None = Field(description="Mean Krippendorff's alpha over the labels that vary.")
    labels: list[LabelAlpha]
    units: int
    annotations: int
    most_disagreed: list[Disputed]


@router.post("/projects/{project_id}/gold", status_code=201)
def add_gold(s: ServicesDep, _: Curator, project_id: str, body: GoldRequest) -> GoldAdded:
    """Add gold units with known answers from a validation split; they reach annotators unannounced."""
    return GoldAdded(**s.crowd.add_gold(project_id, body.source, body.limit, body.seed))


@router.get("/projects/{project_id}/gold/records")
def gold_records(s: ServicesDep, _: Curator, project_id: str) -> list[GoldRecord]:
    """Every annotator's accuracy on gold units, worst first."""
    return [GoldRecord(**r) for r in s.crowd.gold_records(project_id)]


@router.get("/projects/{project_id}/gold/me")
def my_gold_record(s: ServicesDep, participant_id: Participant, project_id: str) -> GoldRecord:
    """My accuracy on the project's units with known answers, and whether I am paused (and why)."""
    return GoldRecord(**s.crowd.gold_record(project_id, participant_id))


@router.get("/projects/{project_id}/pauses")
def pauses(s: ServicesDep, _: Curator, project_id: str) -> list[dict[str, Any]]:
    """Annotators paused in the project, with the reason each was shown."""
    return s.crowd.paused(project_id)


@router.delete("/projects/{project_id}/pauses/{participant_id}", status_code=204)
def lift_pause(s: ServicesDep, _: Curator, project_id: str, participant_id: str) -> Response:
    """Let a paused annotator continue."""
    s.crowd.lift_pause(project_id, participant_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/agreement")
def project_agreement(
    s: ServicesDep, _: Reviewer, project_id: str, top: int = Query(10, ge=1, le=100)
) -> AgreementView:
    """Krippendorff's alpha per label (ordinal for acceptability, nominal for values and custom labels) and for
    the project, with the most disagreed units."""
    return AgreementView(**s.crowd.agreement(project_id, top))


@router.get("/projects/{project_id}/consensus")
def project_consensus(s: ServicesDep, _: Reviewer, project_id: str) -> list[dict[str, Any]]:
    """Per unit and label: the Dawid–Skene consensus with its confidence (posterior), and majority vote beside it."""
    return s.crowd.consensus(project_id)


@router.get("/me/karma")
def my_karma(s: ServicesDep, participant_id: Participant) -> KarmaView:
    """My karma, what it unlocks and weighs, and every change with its reason."""
    return KarmaView(**s.crowd.karma(participant_id))
