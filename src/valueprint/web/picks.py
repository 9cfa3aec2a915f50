"""Blind picks by people: the page (`/pick`) and its JSON API (`/v1/me/picks`).

The person types a prompt; the plain and the personalised model answer it, shown as A and B in a
hidden random order; the person picks one (or "no difference") and then sees which was personalised.
The rules (sealing, the hidden side, one choice only) live in `valueprint.personalize.picks`.
HTMX posts get partials; without JavaScript the same forms answer with the whole page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from valueprint.errors import BadRequestError, ConflictError
from valueprint.personalize.schemas import PickRevealed, PickStarted
from valueprint.personalize.trial import MAX_PROMPT_CHARS
from valueprint.services import Services
from valueprint.web.deps import CurrentParticipant, Form, Participant, ServicesDep
from valueprint.web.templating import is_htmx, redirect, render

router = APIRouter()
PickId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The pick's id, from starting it.")]
DEFAULT_PROMPT = "My friend asked me to cover for her with her boss. Should I?"


class PickRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, description="The person's own question.")


class ChoiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: Literal["A", "B", "same"] = Field(description='The reply that fits the person, or "same".')


# -- JSON API ------------------------------------------------------------------------------


@router.post("/v1/me/picks", status_code=201, tags=["picks"])
def start_pick(s: ServicesDep, participant_id: Participant, body: PickRequest) -> PickStarted:
    """Answer my prompt plainly and with my values, as replies A and B in a hidden order (a few seconds)."""
    return s.picks.start(participant_id, body.prompt)


@router.post("/v1/me/picks/{pick_id}", tags=["picks"])
def choose_pick(s: ServicesDep, participant_id: Participant, pick_id: PickId, body: ChoiceRequest) -> PickRevealed:
    """Pick the reply that fits me (once; 409 after), and learn which one was shaped by my values."""
    return s.picks.choose(participant_id, pick_id, body.choice)


# -- pages ---------------------------------------------------------------------------------


def _context(s: Services, **more: Any) -> dict[str, Any]:
    return {"max_chars": MAX_PROMPT_CHARS, "eta": s.picks.expected_seconds(), "prompt": DEFAULT_PROMPT, **more}


@router.get("/pick", response_class=HTMLResponse, include_in_schema=False)
def pick_page(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return redirect("/")
    return render(request, "pick.html", _context(s))


@router.post("/pick", response_class=HTMLResponse, include_in_schema=False)
def pick_start(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    prompt = str(form.get("prompt") or "")
    pick, error = None, None
    try:
        pick = s.picks.start(participant_id, prompt)
    except BadRequestError as refused:
        error = str(refused)
    context = _context(s, pick=pick, pick_error=error, prompt=prompt.strip() or DEFAULT_PROMPT)
    status = 422 if error else 200
    return render(request, "partials/pick.html" if is_htmx(request) else "pick.html", context, status_code=status)


@router.post("/pick/{pick_id}", response_class=HTMLResponse, include_in_schema=False)
def pick_choose(request: Request, s: ServicesDep, participant_id: Participant, pick_id: PickId, form: Form) -> Response:
    choice = str(form.get("choice") or "")
    revealed, notice, error = None, None, None
    try:
        revealed = s.picks.choose(participant_id, pick_id, choice)
    except ConflictError:
        revealed, notice = s.picks.reveal(participant_id, pick_id), "You had already chosen: your first choice stands."
    except BadRequestError as refused:
        error = str(refused)
    context = _context(s, revealed=revealed, pick_notice=notice, choice_error=error, pick_id=pick_id)
    status = 422 if error else 200
    template = "partials/pick_reveal.html" if is_htmx(request) else "pick.html"
    return render(request, template, context, status_code=status)
