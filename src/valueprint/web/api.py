"""The JSON API under /v1: everything the UI does, plus the app-facing token reads.

Every response is a model from a domain's `schemas` module, so `/openapi.json` describes it;
errors are `{"error": {"code", "message"}}` (declared once, for the whole app, in `web.schemas`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from valueprint.accounts.schemas import (
    AnswerAccepted,
    ExportDocument,
    InstructionsSaved,
    InstructionsView,
    MyAnswers,
    NextStep,
    PersonalData,
    ResultView,
    SessionStarted,
)
from valueprint.errors import BadRequestError
from valueprint.personalize.schemas import AdapterStatus, TrainingStarted
from valueprint.registry.schemas import (
    AdminAppView,
    AppCredentials,
    AppView,
    BoundariesSaved,
    ConsentGranted,
    IssuedTokenView,
    PrecisView,
    ReadView,
    ScopedView,
    TokenSummary,
)
from valueprint.tokens.jws import MAX_TOKEN_CHARS, IssuedToken
from valueprint.values.precis import MAX_INSTRUCTIONS_CHARS
from valueprint.web import security
from valueprint.web.deps import Admin, AppClient, CallerDep, Participant, ServicesDep
from valueprint.web.views import next_view, result_view

router = APIRouter(prefix="/v1")

# Strict types: JSON `true` must not become the Likert answer 1. Every answer's numbers lie in [-1, 5] (the
# domain names the exact range); the schema refuses absurd magnitudes, NaN and infinities before they get there.
ANSWER_NUMBER_BOUND = 10
BoundedInt = Annotated[StrictInt, Field(ge=-ANSWER_NUMBER_BOUND, le=ANSWER_NUMBER_BOUND)]
BoundedFloat = Annotated[StrictFloat, Field(ge=-ANSWER_NUMBER_BOUND, le=ANSWER_NUMBER_BOUND, allow_inf_nan=False)]
AnswerValue = BoundedInt | Annotated[StrictStr, Field(max_length=200)] | dict[str, BoundedInt | BoundedFloat] | None


class Body(BaseModel):
    """Request bodies refuse unknown fields: a misspelt field is an error, never a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class SignUpRequest(Body):
    consent: bool = Field(description="Must be true: the person agrees to the terms shown on the welcome page.")


class ResumeRequest(Body):
    resume_code: str = Field(max_length=200)


class AnswerRequest(Body):
    value: AnswerValue = Field(description="Likert 1-5, scenario option key, slider {x, y}, or null to skip.")


class DemographicsRequest(Body):
    demographics: dict[str, str | None] = Field(default_factory=dict)
    contact: str | None = Field(None, max_length=200)


class BoundariesRequest(Body):
    boundaries: list[str]


class InstructionsRequest(Body):
    text: str = Field(min_length=1, max_length=MAX_INSTRUCTIONS_CHARS, description="My own custom instructions.")


class ConsentRequest(Body):
    scopes: list[str]


class AppRequest(Body):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str]
    description: str = Field("", max_length=2000)
    owner: str = Field("", max_length=200, description="Who runs the app (shown to people).")
    redirect_uris: list[str] = Field(
        default_factory=list, max_length=10, description="Where its consent requests may return (https)."
    )


class AppUpdate(Body):
    """The fields to change; absent ones are kept."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    owner: str | None = Field(None, max_length=200)
    redirect_uris: list[str] | None = Field(None, max_length=10)


class VerifyRequest(Body):
    token: str = Field(max_length=MAX_TOKEN_CHARS)


# -- participants --------------------------------------------------------------


@router.post("/participants", status_code=201, tags=["participants"])
def create_participant(request: Request, s: ServicesDep, body: SignUpRequest) -> SessionStarted:
    """Start a pseudonymous account (with `{"consent": true}`); the browser session is signed in to it."""
    if body.consent is not True:
        raise BadRequestError('an account needs consent: send {"consent": true} once the person has agreed')
    s.accounts.sign_ups.hit(security.client_address(request), "new accounts from this address")
    new = s.accounts.create()
    return SessionStarted(
        participant_id=new.id, resume_code=new.resume_code, csrf_token=security.start_session(request, new.id)
    )


@router.post("/session", tags=["participants"])
def resume(request: Request, s: ServicesDep, body: ResumeRequest) -> SessionStarted:
    """Sign back in with the six-word resume code."""
    participant_id = s.accounts.sign_in(body.resume_code, security.client_address(request))
    return SessionStarted(participant_id=participant_id, csrf_token=security.start_session(request, participant_id))


@router.delete("/session", status_code=204, tags=["participants"])
def sign_out(request: Request, _: Participant) -> Response:
    """Sign this browser out: the session ends on the server, so a copy of its cookie stops working too."""
    security.end_session(request)
    return Response(status_code=204)


@router.delete("/me/sessions", status_code=204, tags=["participants"])
def sign_out_everywhere(request: Request, s: ServicesDep, participant_id: Participant) -> Response:
    """Sign out on every browser: every session of mine ends, this one included."""
    s.accounts.sessions.end_all(participant_id)
    security.end_session(request)
    return Response(status_code=204)


@router.get("/questionnaire/next", response_model=NextStep, tags=["questionnaire"])
def next_question(s: ServicesDep, participant_id: Participant) -> dict[str, Any]:
    """The most informative question to ask next, or done."""
    return next_view(s.accounts.next_question(participant_id))


@router.put("/answers/{item_id}", response_model=AnswerAccepted, tags=["questionnaire"])
def answer(s: ServicesDep, caller: CallerDep, item_id: str, body: AnswerRequest) -> dict[str, Any]:
    """Store one answer (saved before this returns) and get the next question."""
    step = s.answer(caller.participant_id, item_id, body.value)
    return {"acknowledged": True, "item_id": item_id, "next": next_view(step)}


@router.get("/me/answers", tags=["me"])
def my_answers(s: ServicesDep, participant_id: Participant) -> MyAnswers:
    """My answers (null = skipped) and boundaries; demographics are under /v1/me/export."""
    answers = s.accounts.answers(participant_id).to_json()
    return MyAnswers(answers=answers["answers"], boundaries=answers["boundaries"])


@router.put("/me/demographics", response_model=PersonalData, response_model_exclude_unset=True, tags=["me"])
def set_demographics(s: ServicesDep, participant_id: Participant, body: DemographicsRequest) -> dict[str, Any]:
    """Optional demographics (every field may be null: prefer not to say); stored encrypted."""
    return s.accounts.set_personal(participant_id, body.demographics, body.contact)


@router.put("/me/boundaries", tags=["me"])
def set_boundaries(s: ServicesDep, participant_id: Participant, body: BoundariesRequest) -> BoundariesSaved:
    """Save my boundaries; my token and handle stay the same (see `offline_copies`)."""
    saved = s.accounts.set_boundaries(participant_id, body.boundaries)
    return BoundariesSaved(boundaries=saved, offline_copies=s.registry.copy_holders(participant_id))


@router.get("/me/profile", response_model=ResultView, tags=["me"])
def my_profile(s: ServicesDep, participant_id: Participant) -> dict[str, Any]:
    """The profile with confidence, nearest persona, précis and political point."""
    return result_view(s.accounts.profile(participant_id), s.model.space, s.settings.precis_min_confidence_sd)


@router.get("/me/instructions", tags=["me"])
def my_instructions(s: ServicesDep, participant_id: Participant) -> InstructionsView:
    """My custom instructions: the generated précis, or my own edited text once I save one."""
    return InstructionsView(**vars(s.accounts.own_instructions(participant_id, s.settings.precis_min_confidence_sd)))


def _saved(s: ServicesDep, participant_id: str, holders: list[str], issued: IssuedToken) -> InstructionsSaved:
    own = s.accounts.own_instructions(participant_id, s.settings.precis_min_confidence_sd)
    return InstructionsSaved(**vars(own), token=issued.token, handle=issued.handle, superseded_copies=holders)


@router.put("/me/instructions", tags=["me"])
def set_my_instructions(s: ServicesDep, participant_id: Participant, body: InstructionsRequest) -> InstructionsSaved:
    """Save my own wording (at most 1200 characters); my token is re-issued to carry it (claim `ins`), and
    `superseded_copies` names the apps that verified the one replaced."""
    holders = s.registry.copy_holders(participant_id)
    return _saved(s, participant_id, holders, s.set_instructions_and_reissue(participant_id, body.text))


@router.delete("/me/instructions", tags=["me"])
def reset_my_instructions(s: ServicesDep, participant_id: Participant) -> InstructionsSaved:
    """Back to the generated précis; my token is re-issued without my text."""
    holders = s.registry.copy_holders(participant_id)
    return _saved(s, participant_id, holders, s.reset_instructions_and_reissue(participant_id))


@router.post("/me/refine", response_model=NextStep, tags=["questionnaire"])
def refine(s: ServicesDep, participant_id: Participant) -> dict[str, Any]:
    """Keep asking where the profile is least certain."""
    return next_view(s.accounts.refine(participant_id))


@router.post("/me/token", status_code=201, tags=["tokens"])
def issue_token(s: ServicesDep, participant_id: Participant) -> IssuedTokenView:
    """Issue (or re-issue after answers changed) the value token; older tokens are revoked, and
    `superseded_copies` names the apps that verified the one replaced."""
    holders = s.registry.copy_holders(participant_id)
    return IssuedTokenView.of(s.issue_token(participant_id), holders)


@router.get("/me/tokens", tags=["tokens"])
def my_tokens(s: ServicesDep, participant_id: Participant) -> list[TokenSummary]:
    return [
        TokenSummary(
            jti=t.jti,
            issued_at=t.issued_at.isoformat(),
            expires_at=t.expires_at.isoformat(),
            revoked=t.revoked_at is not None,
        )
        for t in s.registry.tokens(participant_id)
    ]


@router.delete("/me/tokens/{jti}", status_code=204, tags=["tokens"])
def revoke_token(s: ServicesDep, participant_id: Participant, jti: str) -> Response:
    """Revoke a token: it stops verifying here, and once no token of mine is in force my handle
    stops answering too (apps get 404, as for an unknown handle). Nothing else gives apps access."""
    s.registry.revoke(participant_id, jti)
    return Response(status_code=204)


@router.get("/apps", tags=["consent"])
def list_apps(s: ServicesDep) -> list[AppView]:
    """Registered apps a person can grant access to."""
    return [
        AppView(id=a.id, name=a.name, description=a.description, owner=a.owner, scopes=a.scopes)
        for a in s.registry.apps()
    ]


@router.get("/me/consents", tags=["consent"])
def my_consents(s: ServicesDep, participant_id: Participant) -> dict[str, list[str]]:
    """App id -> the scopes granted to it, for consents in force."""
    return s.registry.consents(participant_id)


@router.put("/me/consents/{app_id}", tags=["consent"])
def grant(s: ServicesDep, participant_id: Participant, app_id: str, body: ConsentRequest) -> ConsentGranted:
    """Let this app read these scopes (dimension groups and/or boundaries)."""
    return ConsentGranted(app_id=app_id, scopes=s.registry.grant(participant_id, app_id, body.scopes))


@router.delete("/me/consents/{app_id}", status_code=204, tags=["consent"])
def withdraw(s: ServicesDep, participant_id: Participant, app_id: str) -> Response:
    s.registry.withdraw(participant_id, app_id)
    return Response(status_code=204)


@router.get("/me/reads", tags=["consent"])
def my_reads(s: ServicesDep, participant_id: Participant) -> list[ReadView]:
    """Who read my values, when (and who was refused)."""
    return [
        ReadView(app=name, app_id=e.app_id, action=e.action, purpose=e.purpose, scopes=e.scopes, at=e.at.isoformat())
        for e, name in s.registry.reads(participant_id)
    ]


@router.get("/me/export", response_model=ExportDocument, tags=["me"])
def export(s: ServicesDep, participant_id: Participant) -> Response:
    """Everything stored about me, as a JSON download."""
    data = s.accounts.export(participant_id)
    return Response(
        json.dumps(data, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="valueprint-export.json"'},
    )


@router.delete("/me", status_code=204, tags=["me"])
def delete_me(request: Request, s: ServicesDep, participant_id: Participant) -> Response:
    """Delete my account: answers, profile, personal data, consents, adapter; every token stops verifying here."""
    s.delete_participant(participant_id)
    security.end_session(request)
    return Response(status_code=204)


# -- my personal adapter -------------------------------------------------------------------


@router.post("/me/adapter", status_code=202, tags=["adapters"])
def train_my_adapter(s: ServicesDep, participant_id: Participant) -> TrainingStarted:
    """Train my personal LoRA adapter (DPO on pairs chosen by my values) in the background."""
    return TrainingStarted(job=s.train_adapter(participant_id))


@router.get("/me/adapter", response_model=AdapterStatus, tags=["adapters"])
def my_adapter(s: ServicesDep, participant_id: Participant) -> dict[str, Any]:
    """My adapter's metadata (null until trained) and the state of its latest training job."""
    return s.personalizer.adapter_status(participant_id)


@router.delete("/me/adapter", status_code=204, tags=["adapters"])
def delete_my_adapter(s: ServicesDep, participant_id: Participant) -> Response:
    """Delete my adapter (chat then falls back to the other strategies)."""
    s.personalizer.delete_adapter(participant_id)
    return Response(status_code=204)


# -- apps reading values -----------------------------------------------------------


@router.get("/tokens/{handle}", response_model=ScopedView, tags=["apps"])
def read_by_handle(s: ServicesDep, app: AppClient, handle: str) -> dict[str, Any]:
    """An app reads a person's profile by handle, limited to the scopes they consented to."""
    return s.registry.read_by_handle(app, handle)


@router.get("/tokens/{handle}/precis", response_model=PrecisView, tags=["apps"])
def precis_by_handle(s: ServicesDep, app: AppClient, handle: str) -> dict[str, Any]:
    """Only the précis: custom instructions any model (local or remote) can take as its system prompt.

    Built from the consented scopes alone, so it says nothing the app could not read anyway.
    """
    return s.registry.read_by_handle(app, handle)


@router.post("/tokens/verify", response_model=ScopedView, tags=["apps"])
def read_by_token(s: ServicesDep, app: AppClient, body: VerifyRequest) -> dict[str, Any]:
    """An app verifies a token (signature, expiry, revocation) and reads the consented scopes."""
    return s.registry.read_by_token(app, body.token)


# -- admin ----------------------------------------------------------------------------


@router.post("/admin/apps", status_code=201, tags=["admin"])
def register_app(s: ServicesDep, _: Admin, body: AppRequest) -> AppCredentials:
    """Register a third-party app; its API key is shown only in this response."""
    registered = s.registry.register_app(body.name, body.scopes, body.description, body.owner, body.redirect_uris)
    return AppCredentials.of(registered)


@router.patch("/admin/apps/{app_id}", tags=["admin"])
def edit_app(s: ServicesDep, _: Admin, app_id: str, body: AppUpdate) -> AdminAppView:
    """Change an app's name, description, owner or return addresses."""
    return AdminAppView.of(s.registry.update_app(app_id, **body.model_dump()))


@router.get("/space", tags=["reference"])
def value_space(s: ServicesDep) -> dict[str, Any]:
    """The value space: groups, dimensions with poles, boundaries."""
    return s.model.space.model_dump(mode="json", by_alias=False)


@router.get("/health", tags=["reference"])
def health() -> dict[str, str]:
    return {"status": "ok"}
