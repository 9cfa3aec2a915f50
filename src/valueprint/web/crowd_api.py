"""The annotation quality API under /v1/annotate: HTTP onto `valueprint.annotate.crowd` (the domain does the work).

Curators add gold units and lift pauses; reviewers (by role, or by karma) see agreement, consensus and disputed
units, adjudicate and return annotations; everyone sees their own gold record and karma, every change with
its reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from valueprint.annotate.gold import MAX_GOLD_IMPORT
from valueprint.web.deps import Curator, Participant, Reviewer, ServicesDep, UnitId

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


class AdjudicationRequest(Body):
    values: dict[str, Annotated[int, Field(ge=-1, le=1)]] = Field(default_factory=dict, max_length=100)
    acceptability: int | None = Field(None, ge=0, le=10)
    comment: str = Field("", max_length=2000, description="Shown to the annotators with their karma change.")


class ReturnRequest(Body):
    annotator: str = Field(min_length=1, max_length=32, description="The pseudonymous id of the annotator.")
    comment: str = Field(min_length=1, max_length=2000, description="What to look at again (they see it).")


class KarmaChange(BaseModel):
    participant_id: str
    delta: float
    reason: str


@router.get("/projects/{project_id}/disputes")
def disputes(s: ServicesDep, _: Reviewer, project_id: str) -> list[dict[str, Any]]:
    """The reviewer backlog: disputed units nobody has adjudicated yet, most disputed first."""
    return s.crowd.disputes(project_id)


@router.get("/projects/{project_id}/units/{unit_id}/review")
def review_unit(s: ServicesDep, _: Reviewer, project_id: str, unit_id: UnitId) -> dict[str, Any]:
    """A unit with every label given (annotators by pseudonymous id) and any adjudication."""
    return s.crowd.review_unit(project_id, unit_id)


@router.post("/projects/{project_id}/units/{unit_id}/adjudication")
def adjudicate(
    s: ServicesDep, reviewer_id: Reviewer, project_id: str, unit_id: UnitId, body: AdjudicationRequest
) -> list[KarmaChange]:
    """Settle a disputed unit: the answer becomes its known answer; every karma change, with its reason."""
    labels = {"values": body.values, "acceptability": body.acceptability}
    return [KarmaChange(**c) for c in s.crowd.adjudicate(project_id, unit_id, reviewer_id, labels, body.comment)]


@router.post("/projects/{project_id}/units/{unit_id}/returns", status_code=204)
def return_annotation(
    s: ServicesDep, reviewer_id: Reviewer, project_id: str, unit_id: UnitId, body: ReturnRequest
) -> Response:
    """Send an annotation back to its annotator with a comment; the unit comes back to them first."""
    s.crowd.return_annotation(project_id, unit_id, body.annotator, reviewer_id, body.comment)
    return Response(status_code=204)


@router.get("/me/returns")
def my_returns(s: ServicesDep, participant_id: Participant) -> list[dict[str, Any]]:
    """Annotations reviewers returned to me with their comments, until I label the unit again."""
    return s.crowd.returned_to(participant_id)


MapField = Literal["country", "religion", "age_band", "political_quadrant"]


class MapGroup(BaseModel):
    group: str = Field(description='A group of at least k people; "other answers" pools rarer ones, unnamed.')
    n: int
    centroid: list[float] = Field(description="[traditional-secular, survival-self-expression], each in [-1, 1].")
    interval: list[list[float]] = Field(
        description="95% bootstrap interval per axis: [[x low, x high], [y low, y high]]."
    )


class MoralMapView(BaseModel):
    field: str
    k: int
    people: int
    hidden: bool = Field(description="True while fewer than k people are on the map.")
    axes: dict[str, list[str]]
    overall: dict[str, Any] | None
    groups: list[MapGroup]
    suppressed_groups: int = 0
    pool_shown: bool = False


@router.get("/map")
def moral_map(
    s: ServicesDep, _: Participant, field: MapField = "country", project_id: str | None = Query(None, max_length=32)
) -> MoralMapView:
    """Annotators' groups on the moral map (axes documented in `annotate.moralmap`); groups under k suppressed."""
    return MoralMapView(**s.moral_map(field, project_id))


@router.get(
    "/map.{fmt}",
    response_class=Response,
    responses={200: {"description": "The map as an image.", "content": {"image/png": {}, "image/svg+xml": {}}}},
)
def moral_map_image(
    s: ServicesDep,
    _: Participant,
    fmt: Literal["png", "svg"],
    field: MapField = "country",
    project_id: str | None = Query(None, max_length=32),
) -> Response:
    """The moral map as PNG or SVG."""
    from valueprint.annotate.moralmap import render

    media = "image/png" if fmt == "png" else "image/svg+xml"
    return Response(render(s.moral_map(field, project_id), fmt), media_type=media)


@router.get("/projects/{project_id}/units/{unit_id}/groups")
def unit_groups(
    s: ServicesDep, _: Participant, project_id: str, unit_id: UnitId, field: MapField = "country"
) -> dict[str, Any]:
    """How acceptable each group (k or more people) found one unit, kept apart from the consensus."""
    return s.unit_groups(project_id, unit_id, field)


class ScenarioView(BaseModel):
    id: int
    unit_id: int
    project_id: str
    prompt: str
    options: list[dict[str, Any]] = Field(description="A and B with value loadings estimated from the labels.")
    evidence: dict[str, Any]
    status: str = Field(description="candidate, approved or rejected.")


class Decision(Body):
    approve: bool = Field(description="True: it joins the question bank at the next start; False: rejected.")


@router.post("/projects/{project_id}/scenarios", status_code=201)
def propose_scenarios(s: ServicesDep, _: Curator, project_id: str) -> dict[str, int]:
    """Find units the crowd agrees are value-laden but groups judge differently; store them as candidates."""
    return s.propose_scenarios(project_id)


@router.get("/scenarios")
def list_scenarios(
    s: ServicesDep, _: Curator, status: Literal["candidate", "approved", "rejected"] | None = None
) -> list[ScenarioView]:
    return [ScenarioView(**row) for row in s.crowd.scenarios(status)]


@router.post("/scenarios/{candidate_id}/decision")
def decide_scenario(
    s: ServicesDep, curator_id: Curator, candidate_id: Annotated[int, Path(ge=1, le=2**63 - 1)], body: Decision
) -> ScenarioView:
    """Approve or reject a candidate scenario (once)."""
    return ScenarioView(**s.crowd.decide_scenario(candidate_id, curator_id, body.approve))
