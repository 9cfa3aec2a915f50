"""The participant web UI: server-rendered pages (Jinja2) with HTMX partials for the questionnaire.

Journey: welcome and consent → resume code (shown once) → optional demographics →
adaptive questions (the political slider, Likert statements and scenarios all come
through one adaptive flow; one tap answers, Back reopens an earlier answer, a first token
comes after `quick_token_after` questions) → result (profile chart, political compass, persona,
précis, token and handle) → refine. "My data" manages consent per app, shows who
read the values, exports and deletes. Every form posts with the session's CSRF token
and is answered with a 303 redirect; an HTMX answer gets the next question's partial.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from valueprint.accounts.roles import Role
from valueprint.accounts.service import ResumePoint
from valueprint.errors import AnswerError, AuthError, BadRequestError, NotFoundError
from valueprint.services import Services
from valueprint.values.bank import LikertItem, SliderItem
from valueprint.web import security
from valueprint.web.consent import waiting_app
from valueprint.web.deps import CheckedForm, CurrentParticipant, Form, Participant, ServicesDep
from valueprint.web.result_page import result_context
from valueprint.web.templating import flash, is_htmx, redirect, render, waiting_consent_request
from valueprint.web.views import item_view, next_view

router = APIRouter(include_in_schema=False)
RESUME_PAGES = {ResumePoint.DEMOGRAPHICS: "/about-you", ResumePoint.QUESTIONS: "/question"}


# -- welcome, consent, resume code, resume -------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def welcome(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    continue_to = RESUME_PAGES[s.accounts.resume_point(participant_id)] if participant_id else None
    return render(request, "welcome.html", {"continue_to": continue_to})


@router.post("/start")
def start(request: Request, s: ServicesDep, form: CheckedForm) -> Response:
    if form.get("consent") != "yes":
        context = {"continue_to": None, "error": "Please tick the box to say you agree before starting."}
        return render(request, "welcome.html", context, status_code=400)
    s.accounts.sign_ups.hit(security.client_address(request), "new accounts from this address")
    new = s.accounts.create()
    security.start_session(request, new.id, shown_once=new.resume_code)  # kept sealed server-side, never in a cookie
    return redirect("/start/code")


@router.get("/start/code", response_class=HTMLResponse)
def resume_code(request: Request, participant_id: CurrentParticipant) -> Response:
    """The resume code, shown once: the server forgets it as it is displayed."""
    code = security.take_shown_once(request) if participant_id else None
    if code is None:
        return redirect("/")
    return render(request, "code.html", {"words": code.split("-")})


@router.get("/resume", response_class=HTMLResponse)
def resume_form(request: Request) -> Response:
    return render(request, "resume.html")


@router.post("/resume")
def resume(request: Request, s: ServicesDep, form: CheckedForm) -> Response:
    typed = str(form.get("resume_code") or "")[:200]
    try:
        participant_id = s.accounts.sign_in(typed, security.client_address(request))
    except AuthError as error:
        return render(request, "resume.html", {"error": str(error)}, status_code=401)
    consent_page = waiting_consent_request(request, take=True)  # an app's request, waiting while they signed in
    security.start_session(request, participant_id)
    if consent_page:
        return redirect(consent_page)
    if s.accounts.role(participant_id) == Role.ADMIN:
        return redirect("/admin")
    flash(request, "Welcome back: you are signed in and can carry on where you stopped.")
    return redirect(RESUME_PAGES[s.accounts.resume_point(participant_id)])


@router.post("/signout")
def sign_out(request: Request, _: Participant) -> Response:
    security.end_session(request)
    flash(request, "You are signed out. Your resume code signs you back in.")
    return redirect("/")


@router.post("/signout/everywhere")
def sign_out_everywhere(request: Request, s: ServicesDep, participant_id: Participant) -> Response:
    """End every session of this person: other browsers and copied cookies stop working too."""
    s.accounts.sessions.end_all(participant_id)
    security.end_session(request)
    flash(request, "You are signed out on every browser. Your resume code signs you back in.")
    return redirect("/")


# -- demographics ---------------------------------------------------------------------------


@router.get("/about-you", response_class=HTMLResponse)
def about_you(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return redirect("/")
    return render(
        request,
        "about_you.html",
        {"fields": s.model.bank.demographics, "saved": s.accounts.personal_data(participant_id)},
    )


def _demographics(s: Services, form: FormData) -> tuple[dict[str, str | None], str | None]:
    if form.get("skip"):
        return {f.id: None for f in s.model.bank.demographics}, None
    answers = {f.id: (str(form.get(f.id) or "").strip()[:200] or None) for f in s.model.bank.demographics}
    return answers, str(form.get("contact") or "").strip()[:200] or None


@router.post("/about-you")
def save_about_you(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    demographics, contact = _demographics(s, form)
    try:
        s.accounts.set_personal(participant_id, demographics, contact)
    except AnswerError as error:
        context = {"fields": s.model.bank.demographics, "saved": {}, "error": error.problem}
        return render(request, "about_you.html", context, status_code=422)
    return redirect("/question")


# -- the questionnaire ------------------------------------------------------------------------


def _question_context(s: Services, participant_id: str) -> dict[str, Any] | None:
    view = next_view(s.accounts.next_question(participant_id))
    if view["done"]:
        return None
    return {"step": view, "item": view["item"], "back": s.accounts.previous_item(participant_id)}


@router.get("/question", response_class=HTMLResponse)
def question(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return redirect("/")
    context = _question_context(s, participant_id)
    return redirect("/result") if context is None else render(request, "question.html", context)


@router.get("/question/{item_id}", response_class=HTMLResponse)
def change_answer(request: Request, s: ServicesDep, participant_id: CurrentParticipant, item_id: str) -> Response:
    """Back: an earlier question with its answer chosen; saving it re-scores the profile."""
    if participant_id is None:
        return redirect("/")
    answers = s.accounts.answers(participant_id)
    item = s.model.bank.get(item_id)
    if item is None or item_id not in answers.seen:
        return redirect("/question")
    step = next_view(s.accounts.next_question(participant_id))
    context = {
        "step": step,
        "item": item_view(item),
        "chosen": answers.value_of(item_id),
        "editing": True,
        "back": s.accounts.previous_item(participant_id, item_id),
    }
    return render(request, "question.html", context)


def _float(raw: object) -> object:
    try:
        return float(str(raw))
    except ValueError:
        return raw


def answer_value(item: object, form: FormData) -> object:
    """The form's answer in the API's terms: Likert 1-5, scenario key, slider {x, y}, None = skip."""
    if form.get("skip"):
        return None
    if isinstance(item, SliderItem):
        if form.get("centre"):  # the explicit centre choice: a claim, unlike an untouched point
            return {"x": 0.0, "y": 0.0}
        if form.get("moved") == "0":  # never touched (or no script): a skip, not a claim of "centre"
            return None
        return {"x": _float(form.get("x")), "y": _float(form.get("y"))}
    raw = form.get("value")
    if raw is None or raw == "":
        raise AnswerError(getattr(item, "id", "?"), "choose an answer, or skip this question")
    is_number = isinstance(raw, str) and raw.isascii() and raw.isdigit()  # "²".isdigit() is True, int("²") fails
    return int(raw) if isinstance(item, LikertItem) and is_number else raw


def _to(request: Request, path: str) -> Response:
    return Response(headers={"HX-Redirect": path}) if is_htmx(request) else redirect(path)


@router.post("/question/{item_id}")
def answer(request: Request, s: ServicesDep, participant_id: Participant, item_id: str, form: Form) -> Response:
    item = s.model.bank.get(item_id)
    if item is None:
        raise NotFoundError("there is no such question; go back to the questionnaire")
    try:
        step = s.accounts.record_answer(participant_id, item_id, answer_value(item, form))
    except AnswerError as error:
        context = {**(_question_context(s, participant_id) or {}), "error": error.problem}
        return render(request, "partials/question_swap.html" if is_htmx(request) else "question.html", context, 422)
    if step.item is None:
        s.ensure_token(participant_id)
        return _to(request, "/result")
    if s.quick_token(participant_id, step.answered):
        flash(
            request,
            f"Your first token is ready, from {step.answered} answers. It is a first sketch: the bars show how unsure "
            f"each value still is. Carry on (about {step.remaining} more questions) to sharpen it.",
        )
        return _to(request, "/result")
    if is_htmx(request):
        view = next_view(step)
        context = {"step": view, "item": view["item"], "back": s.accounts.previous_item(participant_id)}
        return render(request, "partials/question_swap.html", context)
    return redirect("/question")


@router.post("/finish")
def finish(s: ServicesDep, participant_id: Participant) -> Response:
    """Stop for now: show the result (with a first token if there is none yet)."""
    s.ensure_token(participant_id)
    return redirect("/result")


@router.post("/refine")
def refine(request: Request, s: ServicesDep, participant_id: Participant) -> Response:
    """Keep asking where the profile is least certain."""
    step = s.accounts.refine(participant_id)
    if step.item is None:
        flash(request, "Your profile is already as certain as these questions can make it.")
        return redirect("/result")
    return redirect("/question")


# -- the result ---------------------------------------------------------------------------------


@router.get("/result", response_class=HTMLResponse)
def result(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return redirect("/")
    return render(request, "result.html", result_context(s, participant_id) | {"waiting": waiting_app(request, s)})


@router.post("/result/token")
def new_token(request: Request, s: ServicesDep, participant_id: Participant) -> Response:
    holders = s.registry.copy_holders(participant_id)
    s.issue_token(participant_id)
    flash(request, "A new token was issued; the old one no longer works." + _superseded(holders))
    return redirect("/result#token")


def _superseded(holders: list[str]) -> str:
    """What a re-issue tells the person about apps whose copy of the old token stops working."""
    if not holders:
        return ""
    return f" These apps checked the old one and need the new one (or your handle): {', '.join(holders)}."


@router.post("/result/boundaries")
def boundaries(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    """Save boundaries without re-issuing: token and handle stay the same, and reads through valueprint
    return the new boundaries at once; the person is told which apps may hold an offline copy."""
    s.accounts.set_boundaries(participant_id, [str(b) for b in form.getlist("boundary")])
    holders = s.registry.copy_holders(participant_id)
    told = (
        f" {', '.join(holders)} checked your token and may keep a copy that still shows your earlier boundaries"
        " when checked offline; issue a new token to replace it."
        if holders
        else ""
    )
    flash(
        request,
        "Boundaries saved. Your token and handle stay the same; apps reading through valueprint see"
        " the new boundaries from now on." + told,
    )
    return redirect("/result#boundaries")


@router.post("/result/instructions")
def save_instructions(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    """Save the person's own wording of their précis; the token is re-issued to carry it."""
    holders = s.registry.copy_holders(participant_id)
    try:
        s.set_instructions_and_reissue(participant_id, str(form.get("text") or ""))
    except BadRequestError as error:
        flash(request, f"Not saved: {error}")
        return redirect("/result#precis")
    flash(request, "Your instructions were saved; your token was re-issued to carry them." + _superseded(holders))
    return redirect("/result#precis")


@router.post("/result/instructions/reset")
def reset_instructions(request: Request, s: ServicesDep, participant_id: Participant) -> Response:
    """Back to the précis generated from the profile; the token is re-issued without the person's text."""
    holders = s.registry.copy_holders(participant_id)
    s.reset_instructions_and_reissue(participant_id)
    flash(request, "Back to the generated text; your token was re-issued." + _superseded(holders))
    return redirect("/result#precis")


# -- my data ----------------------------------------------------------------------------------------


def _my_data(s: Services, participant_id: str) -> dict[str, Any]:
    return {
        "apps": s.registry.apps(),
        "consents": s.registry.consents(participant_id),
        "reads": s.registry.reads(participant_id),
        "personal": s.accounts.personal_data(participant_id),
        "fields": {f.id: f.label for f in s.model.bank.demographics},
        "groups": {g.id: g.label for g in s.model.space.groups}
        | {"boundaries": "Boundaries", "wisdom": "Values cards"},
        "sessions": s.accounts.sessions.count(participant_id),
    }


@router.get("/me", response_class=HTMLResponse)
def my_data(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return redirect("/")
    return render(request, "me.html", _my_data(s, participant_id))


@router.post("/me/consents/{app_id}")
def consent(request: Request, s: ServicesDep, participant_id: Participant, app_id: str, form: Form) -> Response:
    """Grant the ticked scopes to this app; nothing ticked withdraws consent."""
    scopes = [str(scope) for scope in form.getlist("scope")]
    if scopes:
        granted = s.registry.grant(participant_id, app_id, scopes)
        flash(request, f"Saved: this app may now read {len(granted)} part(s) of your values.")
    else:
        s.registry.withdraw(participant_id, app_id)
        flash(request, "Consent withdrawn: this app can no longer read your values.")
    return redirect("/me#apps")


@router.post("/me/delete")
def delete_account(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    if form.get("confirm") != "yes":
        context = _my_data(s, participant_id) | {"delete_error": "Tick the box to confirm that you want to delete."}
        return render(request, "me.html", context, status_code=400)
    s.delete_participant(participant_id)
    security.end_session(request)
    flash(
        request,
        "Your account and everything stored with it were deleted; valueprint no longer accepts your tokens. "
        "A token you already gave someone can still be checked offline until it expires.",
    )
    return redirect("/")
