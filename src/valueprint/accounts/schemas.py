"""The accounts domain's JSON shapes: sessions, questions, answers, the result and the export.

Responses of the `/v1` API (and so of `/openapi.json`); the web views build plain dicts of
the same shape for the pages, which these models validate on the way out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from valueprint.values.profile import ValueProfile


class SessionStarted(BaseModel):
    participant_id: str
    resume_code: str | None = Field(None, description="Shown once: the only way back into this account.")
    csrf_token: str


class LikertScale(BaseModel):
    min: int
    max: int
    labels: list[str]


class OptionView(BaseModel):
    key: str
    text: str


class AxisView(BaseModel):
    dimension: str
    low: str
    high: str


class LikertItemView(BaseModel):
    id: str
    kind: Literal["likert"]
    why: str
    text: str
    scale: LikertScale


class ScenarioItemView(BaseModel):
    id: str
    kind: Literal["scenario"]
    why: str
    text: str
    options: list[OptionView]


class SliderItemView(BaseModel):
    id: str
    kind: Literal["slider"]
    why: str
    text: str
    x: AxisView
    y: AxisView


ItemView = Annotated[LikertItemView | ScenarioItemView | SliderItemView, Field(discriminator="kind")]


class NextStep(BaseModel):
    """The most informative question to ask next, or done."""

    done: bool
    item: ItemView | None
    answered: int
    progress: float = Field(
        description="Questions asked out of asked plus still to ask, in [0, 1]; 1 only when the questionnaire is done."
    )
    remaining: int = Field(0, description="Questions still to ask if none is skipped (0 when done).")


class AnswerAccepted(BaseModel):
    acknowledged: bool
    item_id: str
    next: NextStep


class MyAnswers(BaseModel):
    answers: dict[str, Any] = Field(description="Item id -> answer (null = skipped).")
    boundaries: list[str]


class PersonalData(BaseModel):
    """Demographics (null = prefer not to say) and, only when given, a contact."""

    demographics: dict[str, str | None]
    contact: str | None = None


class Boundaries(BaseModel):
    boundaries: list[str]


class PersonaView(BaseModel):
    id: str
    name: str
    summary: str
    distance: float = Field(description="Confidence-weighted RMS distance on the [-1, 1] scale (0 = identical).")
    match: str = Field(description="How well the persona fits, in words (a close, partial or loose match).")


class PoliticalPoint(BaseModel):
    economic: float
    social: float


class ResultView(BaseModel):
    """The profile with confidence, nearest persona, précis and political point."""

    profile: ValueProfile
    persona: PersonaView
    precis: str
    political: PoliticalPoint


class InstructionsView(BaseModel):
    """My custom instructions: what AI apps are told about me (my own text once I edit it)."""

    text: str = Field(description="The text in force: my edited text, or the generated précis until I edit it.")
    edited: bool = Field(description="True when `text` is my own wording (carried by my token as claim `ins`).")
    generated: str = Field(description="The précis generated from my measured profile (what a reset goes back to).")
    max_chars: int


class InstructionsSaved(InstructionsView):
    """Saved (or reset); my token was re-issued to carry the change, and earlier tokens revoked."""

    token: str
    handle: str
    superseded_copies: list[str] = Field(
        default_factory=list, description="Apps that verified the replaced token: their copy no longer works here."
    )


class ParticipantExport(BaseModel):
    id: str
    role: str
    handle: str | None
    created_at: str
    completed_at: str | None
    boundaries: list[str]


class ExportDocument(BaseModel):
    """Everything stored about a person: the account, then one section per registered data duty
    (answers, profile, personal_data, tokens, consents, reads, …)."""

    model_config = ConfigDict(extra="allow")
    format: str
    participant: ParticipantExport
