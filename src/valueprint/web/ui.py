"""The participant web UI: server-rendered pages (Jinja2) with HTMX partials for the questionnaire.

Journey: welcome and consent → resume code (shown once) → optional demographics →
adaptive questions (the political slider, Likert statements and scenarios all come
through one adaptive flow) → result (profile chart, political compass, persona,
précis, token and handle) → refine. "My data" manages consent per app, shows who
read the values, exports and deletes. Every form posts with the session's CSRF token
and is answered with a 303 redirect; an HTMX answer gets the next question's partial.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from valueprint import __version__
from valueprint.errors import AnswerError, AuthError, NotFoundError
from valueprint.personalize.trial import MAX_PROMPT_CHARS
from valueprint.tokens.codec import encode_boundaries, encode_profile
from valueprint.tokens.jws import peek_claims
from valueprint.values.bank import LikertItem, SliderItem
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace
from valueprint.web import security
from valueprint.web.security import services
from valueprint.web.services import Services
from valueprint.web.views import next_view, result_view

router = APIRouter(include_in_schema=False)
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
Participant = Annotated[str, Depends(security.participant)]
Form = Annotated[FormData, Depends(security.form)]
CheckedForm = Annotated[FormData, Depends(security.checked_form)]

TENTATIVE_MEAN_SD = 0.38  # above this average SD the persona and précis are called tentative

CHART_WIDTH, CHART_PAD = 200.0, 6.0


# -- templates and helpers ------------------------------------------------------------


def _session(request: Request) -> dict[str, Any]:
    """The session, or an empty dict where there is none (an error page rendered outside the middleware)."""
    return request.session if "session" in request.scope else {}


def _csrf(request: Request) -> str:
    return security.csrf_token(request) if "session" in request.scope else ""


def _signed_in(request: Request) -> bool:
    return bool(_session(request).get("pid"))


def _is_admin(request: Request) -> bool:
    return bool(_session(request).get("admin"))


def _pop_flash(request: Request) -> str | None:
    return _session(request).pop("flash", None)


def make_templates() -> Jinja2Templates:
    """The package's templates (autoescaped), with the helpers every page uses."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.globals.update(
        csrf_token=_csrf, signed_in=_signed_in, is_admin=_is_admin, pop_flash=_pop_flash, version=__version__
    )
    return templates


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(request, name, context or {}, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def current(request: Request) -> str | None:
    """The signed-in participant, or None (pages then send people to the welcome page)."""
    participant_id = _session(request).get("pid")
    if participant_id and services(request).accounts.exists(participant_id):
        return participant_id
    return None


def resume_point(s: Services, participant_id: str) -> str:
    """Where this person stopped: demographics first (until answered or skipped), then the questions."""
    done = s.accounts.demographics_done(participant_id)
    return "/question" if done or s.accounts.answers(participant_id).seen else "/about-you"


def issue_token(s: Services, participant_id: str) -> None:
    s.registry.issue(participant_id, s.accounts.profile(participant_id))


def ensure_token(s: Services, participant_id: str) -> None:
    """Issue a first token; never silently replace one the person may already have handed out."""
    if s.registry.current_token(participant_id) is None:
        issue_token(s, participant_id)


# -- welcome, consent, resume code, resume -------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def welcome(request: Request) -> Response:
    participant_id = current(request)
    continue_to = resume_point(services(request), participant_id) if participant_id else None
    return render(request, "welcome.html", {"continue_to": continue_to})


@router.post("/start")
def start(request: Request, form: CheckedForm) -> Response:
    if form.get("consent") != "yes":
        context = {"continue_to": None, "error": "Please tick the box to say you agree before starting."}
        return render(request, "welcome.html", context, status_code=400)
    s = services(request)
    s.accounts.sign_ups.hit(security.client_address(request), "new accounts from this address")
    new = s.accounts.create()
    security.start_session(request, new.id)
    request.session["resume_code"] = new.resume_code
    return redirect("/start/code")


@router.get("/start/code", response_class=HTMLResponse)
def resume_code(request: Request) -> Response:
    """The resume code, shown once: it leaves the session as it is displayed."""
    code = _session(request).pop("resume_code", None)
    if code is None or current(request) is None:
        return redirect("/")
    return render(request, "code.html", {"words": code.split("-")})


@router.get("/resume", response_class=HTMLResponse)
def resume_form(request: Request) -> Response:
    return render(request, "resume.html")


@router.post("/resume")
def resume(request: Request, form: CheckedForm) -> Response:
    typed = str(form.get("resume_code") or "")[:200]
    s = services(request)
    try:
        participant_id = s.accounts.sign_in(typed, security.client_address(request))
    except AuthError as error:
        return render(request, "resume.html", {"error": str(error)}, status_code=401)
    security.start_session(request, participant_id)
    if s.accounts.role(participant_id) == "admin":
        request.session["admin"] = True
        return redirect("/admin")
    flash(request, "Welcome back: you are signed in and can carry on where you stopped.")
    return redirect(resume_point(s, participant_id))


@router.post("/signout")
def sign_out(request: Request, _: Participant) -> Response:
    request.session.clear()
    flash(request, "You are signed out. Your resume code signs you back in.")
    return redirect("/")


# -- demographics ---------------------------------------------------------------------------


@router.get("/about-you", response_class=HTMLResponse)
def about_you(request: Request) -> Response:
    participant_id = current(request)
    if participant_id is None:
        return redirect("/")
    s = services(request)
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
def save_about_you(request: Request, participant_id: Participant, form: Form) -> Response:
    s = services(request)
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
    return None if view["done"] else {"step": view, "item": view["item"]}


@router.get("/question", response_class=HTMLResponse)
def question(request: Request) -> Response:
    participant_id = current(request)
    if participant_id is None:
        return redirect("/")
    context = _question_context(services(request), participant_id)
    return redirect("/result") if context is None else render(request, "question.html", context)


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
        if form.get("moved") == "0":  # never touched (or no script): a skip, not a claim of "centre"
            return None
        return {"x": _float(form.get("x")), "y": _float(form.get("y"))}
    raw = form.get("value")
    if raw is None or raw == "":
        raise AnswerError(getattr(item, "id", "?"), "choose an answer, or skip this question")
    is_number = isinstance(raw, str) and raw.isascii() and raw.isdigit()  # "²".isdigit() is True, int("²") fails
    return int(raw) if isinstance(item, LikertItem) and is_number else raw


@router.post("/question/{item_id}")
def answer(request: Request, participant_id: Participant, item_id: str, form: Form) -> Response:
    s = services(request)
    item = s.model.bank.get(item_id)
    if item is None:
        raise NotFoundError("there is no such question; go back to the questionnaire")
    try:
        step = s.accounts.record_answer(participant_id, item_id, answer_value(item, form))
    except AnswerError as error:
        context = {**(_question_context(s, participant_id) or {}), "error": error.problem}
        return render(request, "partials/question_swap.html" if is_htmx(request) else "question.html", context, 422)
    if step.item is None:
        ensure_token(s, participant_id)
        return Response(headers={"HX-Redirect": "/result"}) if is_htmx(request) else redirect("/result")
    if is_htmx(request):
        view = next_view(step)
        return render(request, "partials/question_swap.html", {"step": view, "item": view["item"]})
    return redirect("/question")


@router.post("/finish")
def finish(request: Request, participant_id: Participant) -> Response:
    """Stop for now: show the result (with a first token if there is none yet)."""
    ensure_token(services(request), participant_id)
    return redirect("/result")


@router.post("/refine")
def refine(request: Request, participant_id: Participant) -> Response:
    """Keep asking where the profile is least certain."""
    step = services(request).accounts.refine(participant_id)
    if step.item is None:
        flash(request, "Your profile is already as certain as these questions can make it.")
        return redirect("/result")
    return redirect("/question")


# -- the result ---------------------------------------------------------------------------------


def _x(value: float) -> float:
    """Chart x coordinate of a score in [-1, 1]."""
    return round(CHART_PAD + (max(-1.0, min(1.0, value)) + 1) / 2 * (CHART_WIDTH - 2 * CHART_PAD), 2)


def certainty(sd: float) -> str:
    return "sure" if sd < 0.25 else "fairly sure" if sd < 0.4 else "not sure yet"


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


def _token(s: Services, participant_id: str, profile: ValueProfile) -> dict[str, object] | None:
    record = s.registry.current_token(participant_id)
    if record is None:
        return None
    claims = peek_claims(record.token)
    stale = claims["vp"] != encode_profile(profile, s.model.space) or claims["bnd"] != encode_boundaries(
        profile.boundaries, s.model.space
    )
    return {"token": record.token, "handle": claims["hdl"], "expires": record.expires_at.date(), "stale": stale}


def result_context(s: Services, participant_id: str) -> dict[str, Any]:
    profile = s.accounts.profile(participant_id)
    view = result_view(profile, s.model.space, s.settings.precis_min_confidence_sd)
    return {
        "view": view,
        "groups": chart_groups(profile, s.model.space),
        "compass": compass(profile),
        "uncertain": [d.label for d in sorted(s.model.space.dimensions, key=lambda d: -profile.scores[d.id].sd)[:3]],
        "token": _token(s, participant_id, profile),
        "space": s.model.space,
        "boundaries": set(profile.boundaries),
        "step": next_view(s.accounts.next_question(participant_id)),
        "answered": len(s.accounts.answers(participant_id).answered),
        "tentative": float(profile.sds(s.model.space).mean()) > TENTATIVE_MEAN_SD,
        "try_max_chars": MAX_PROMPT_CHARS,
        "adapter_status": s.personalizer.adapter_status(participant_id),
    }


@router.get("/result", response_class=HTMLResponse)
def result(request: Request) -> Response:
    participant_id = current(request)
    if participant_id is None:
        return redirect("/")
    return render(request, "result.html", result_context(services(request), participant_id))


@router.post("/result/token")
def new_token(request: Request, participant_id: Participant) -> Response:
    issue_token(services(request), participant_id)
    flash(request, "A new token was issued; the old one no longer works.")
    return redirect("/result#token")


@router.post("/result/boundaries")
def boundaries(request: Request, participant_id: Participant, form: Form) -> Response:
    s = services(request)
    s.accounts.set_boundaries(participant_id, [str(b) for b in form.getlist("boundary")])
    issue_token(s, participant_id)
    flash(request, "Boundaries saved; your token was re-issued to carry them.")
    return redirect("/result#boundaries")


# -- my data ----------------------------------------------------------------------------------------


def _my_data(s: Services, participant_id: str) -> dict[str, Any]:
    return {
        "apps": s.registry.apps(),
        "consents": s.registry.consents(participant_id),
        "reads": s.registry.reads(participant_id),
        "personal": s.accounts.personal_data(participant_id),
        "fields": {f.id: f.label for f in s.model.bank.demographics},
        "groups": {g.id: g.label for g in s.model.space.groups} | {"boundaries": "Boundaries"},
    }


@router.get("/me", response_class=HTMLResponse)
def my_data(request: Request) -> Response:
    participant_id = current(request)
    if participant_id is None:
        return redirect("/")
    return render(request, "me.html", _my_data(services(request), participant_id))


@router.post("/me/consents/{app_id}")
def consent(request: Request, participant_id: Participant, app_id: str, form: Form) -> Response:
    """Grant the ticked scopes to this app; nothing ticked withdraws consent."""
    s = services(request)
    scopes = [str(scope) for scope in form.getlist("scope")]
    if scopes:
        granted = s.registry.grant(participant_id, app_id, scopes)
        flash(request, f"Saved: this app may now read {len(granted)} part(s) of your values.")
    else:
        s.registry.withdraw(participant_id, app_id)
        flash(request, "Consent withdrawn: this app can no longer read your values.")
    return redirect("/me#apps")


@router.post("/me/delete")
def delete_account(request: Request, participant_id: Participant, form: Form) -> Response:
    s = services(request)
    if form.get("confirm") != "yes":
        context = _my_data(s, participant_id) | {"delete_error": "Tick the box to confirm that you want to delete."}
        return render(request, "me.html", context, status_code=400)
    s.delete_participant(participant_id)
    request.session.clear()
    flash(
        request,
        "Your account and everything stored with it were deleted; valueprint no longer accepts your tokens. "
        "A token you already gave someone can still be checked offline until it expires.",
    )
    return redirect("/")
