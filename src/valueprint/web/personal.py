"""The result page's model features: "Try it" side by side, and the person's own adapter (train, status, delete).

HTMX posts get partials (the adapter status polls itself while a training runs); without
JavaScript the same forms answer with the whole result page or a redirect to it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from valueprint.errors import AdapterError, BadRequestError, ConflictError
from valueprint.personalize.trial import MAX_TOKENS, clean_prompt, run_trial
from valueprint.services import Services
from valueprint.web.deps import Form, Participant, ServicesDep
from valueprint.web.result_page import result_context
from valueprint.web.templating import flash, is_htmx, redirect, render

router = APIRouter(include_in_schema=False)


@router.post("/result/try", response_class=HTMLResponse)
def try_it(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    """One prompt, answered by the plain model and by the one personalised with this person's profile."""
    prompt = str(form.get("prompt") or "").strip()
    trial, error = None, None
    try:
        prompt = clean_prompt(prompt)
    except BadRequestError as refused:
        error = str(refused)
    else:
        profile = s.accounts.profile(participant_id)
        max_tokens = min(s.settings.chat_max_tokens, MAX_TOKENS)
        own = s.accounts.instructions(participant_id)  # the person's own text, when they edited their précis
        trial = run_trial(s.personalizer, profile, prompt, s.settings.try_strategies, max_tokens, own)
    context = {"trial": trial, "try_error": error, "prompt": prompt}
    status = 422 if error else 200
    if is_htmx(request):
        return render(request, "partials/try.html", context, status_code=status)
    return render(request, "result.html", {**result_context(s, participant_id), **context}, status_code=status)


def _adapter_partial(request: Request, s: Services, participant_id: str, error: str | None = None) -> Response:
    status = s.personalizer.adapter_status(participant_id)
    context = {"adapter_status": status, "adapter_error": error}
    return render(request, "partials/adapter.html", context, status_code=422 if error else 200)


@router.get("/result/adapter", response_class=HTMLResponse)
def adapter_status(request: Request, s: ServicesDep, participant_id: Participant) -> Response:
    return _adapter_partial(request, s, participant_id)


@router.post("/result/adapter")
def train_adapter(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    """Start training the person's adapter; the status partial then polls until it is done."""
    try:
        s.train_adapter(participant_id)
    except (AdapterError, ConflictError) as error:
        if is_htmx(request):
            return _adapter_partial(request, s, participant_id, str(error))
        flash(request, str(error))
        return redirect("/result#adapter")
    return _adapter_partial(request, s, participant_id) if is_htmx(request) else redirect("/result#adapter")


@router.post("/result/adapter/delete")
def delete_adapter(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    s.personalizer.delete_adapter(participant_id)
    flash(request, "Your personal model was deleted.")
    return redirect("/result#adapter")
