"""The annotate pages: HTTP onto `valueprint.annotate` for people in a browser (the domain does the work).

`/annotate` lists the projects; `/annotate/{project}` shows one reserved unit at a time with the
project's instructions, its sanitised text and any pre-label as a suggestion (filled in: Enter
accepts it), keyboard first (number keys pick the acceptability, Enter saves, S skips, U goes back
by undoing the last label or skip). "This shows personal data" hides the unit for everyone at once.
A person without a value profile is sent to the questionnaire first. Curators fix flagged units at
`/annotate/{project}/flagged`. Every form posts with the session's CSRF token; HTMX posts get the
next unit's partial (and the status line, out of band), plain posts a 303 back to the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from valueprint.accounts.roles import Role
from valueprint.annotate.schemas import ProjectView, Suggestion, UnitTask
from valueprint.errors import ConflictError, ForbiddenError, LabelError, NotFoundError
from valueprint.services import Services
from valueprint.web.deps import Curator, CurrentParticipant, Form, Participant, ServicesDep, UnitId
from valueprint.web.templating import flash, is_htmx, pop_session, redirect, render

router = APIRouter(include_in_schema=False)
STATUS = "annotate_status"  # the session's key for the status line after a plain (non-HTMX) post


def _visitor(request: Request) -> Response:
    """Someone not signed in: to the start page, told why."""
    flash(request, "Sign up or sign in to annotate: your labels are kept with your pseudonymous account.")
    return redirect("/")


def _without_profile(request: Request, s: Services, participant_id: str) -> Response | None:
    """A redirect to the questionnaire, with the reason, for a person who cannot annotate yet."""
    try:
        s.annotator_profile(participant_id)
    except ForbiddenError as error:
        flash(request, f"Before you annotate, tell us your own values: {error}. Then come back to Annotate.")
        return redirect("/question")
    return None


def _suggestion(unit: UnitTask | None) -> Suggestion | None:
    """The suggestion to fill in: the most confident one (imported ones may have no confidence)."""
    if unit is None or not unit.suggestions:
        return None
    return max(unit.suggestions, key=lambda found: -1.0 if found.confidence is None else found.confidence)


EVALUATOR_VERSION = "valueprint-evaluator/"  # how the product pre-labeller's model versions begin


def suggested_by(model_version: str) -> str:
    """A short name for who suggested: the value evaluator, or an imported prediction's model as named."""
    return "the value evaluator" if model_version.startswith(EVALUATOR_VERSION) else model_version


def _unit_context(
    s: Services, project: ProjectView, unit: UnitTask | None, given: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    schema = project.label_schema
    suggestion = _suggestion(unit)
    dimensions = [s.model.space.dimension(d) for d in schema.dimensions]
    return {
        "project": project,
        "unit": unit,
        "suggestion": suggestion,
        "suggestion_by": suggested_by(suggestion.model_version) if suggestion else "",
        "chosen": given if given is not None else (suggestion.labels if suggestion else {}),
        "dimensions": dimensions,
        "dimension_labels": {d.id: d.label for d in dimensions},
        "scale": schema.scale,
        **more,
    }


def _unit_response(
    request: Request, s: Services, project_id: str, participant_id: str, status: str, **more: Any
) -> Response:
    """After an action: the next unit's partial (HTMX) or a redirect to the page, which shows `status`."""
    if not is_htmx(request):
        request.session[STATUS] = status
        return redirect(f"/annotate/{project_id}")
    project = s.annotate.project(project_id)
    unit = s.annotate.next_unit(project_id, participant_id)
    context = _unit_context(s, project, unit, status=status, oob=True, **more)
    return render(request, "partials/annotate_unit.html", context)


def labels_from(form: FormData, project: ProjectView) -> dict[str, Any]:
    """The form's labels in the domain's terms (it checks them against the schema)."""
    values = {}
    for dim in project.label_schema.dimensions:
        raw = form.get(f"value-{dim}")
        if raw in ("1", "-1"):
            values[dim] = int(str(raw))
    raw = str(form.get("acceptability") or "")
    acceptability: Any = int(raw) if raw.isascii() and raw.isdigit() else (raw or None)
    why = str(form.get("why") or "").strip() or None
    return {
        "values": values,
        "acceptability": acceptability,
        "why": why,
        "custom": [str(label) for label in form.getlist("custom")],
    }


# -- the annotator's pages ------------------------------------------------------------------


@router.get("/annotate", response_class=HTMLResponse)
def projects(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return _visitor(request)
    curator = s.accounts.role(participant_id) in (Role.CURATOR, Role.ADMIN)  # may curate without a profile
    if not curator and (to_questionnaire := _without_profile(request, s, participant_id)) is not None:
        return to_questionnaire
    reviewer = (
        curator or s.accounts.role(participant_id) == Role.REVIEWER or s.crowd.karma(participant_id)["may_review"]
    )
    context = {"projects": s.annotate.projects(), "curator": curator, "reviewer": reviewer}
    return render(request, "annotate_projects.html", context)


@router.get("/annotate/{project_id}", response_class=HTMLResponse)
def annotate_page(request: Request, s: ServicesDep, participant_id: CurrentParticipant, project_id: str) -> Response:
    if participant_id is None:
        return _visitor(request)
    if (to_questionnaire := _without_profile(request, s, participant_id)) is not None:
        return to_questionnaire
    project = s.annotate.project(project_id)
    unit = s.annotate.next_unit(project_id, participant_id)
    status = pop_session(request, STATUS) or ""
    return render(request, "annotate.html", _unit_context(s, project, unit, status=status))


@router.post("/annotate/{project_id}/units/{unit_id}")
def save_labels(
    request: Request, s: ServicesDep, participant_id: Participant, project_id: str, unit_id: UnitId, form: Form
) -> Response:
    project = s.annotate.project(project_id)
    given = labels_from(form, project)
    try:
        s.annotate_unit(project_id, unit_id, participant_id, given)
    except LabelError as error:  # the same unit again, with what was given and what does not fit
        unit = s.annotate.next_unit(project_id, participant_id)
        context = _unit_context(s, project, unit, given, status="", oob=is_htmx(request), error=str(error))
        template = "partials/annotate_unit.html" if is_htmx(request) else "annotate.html"
        return render(request, template, context, status_code=422)
    except ConflictError as error:
        return _unit_response(request, s, project_id, participant_id, f"Not saved: {error}.")
    return _unit_response(request, s, project_id, participant_id, "Saved. Here is the next unit.")


@router.post("/annotate/{project_id}/units/{unit_id}/skip")
def skip(request: Request, s: ServicesDep, participant_id: Participant, project_id: str, unit_id: UnitId) -> Response:
    try:
        s.annotate_unit(project_id, unit_id, participant_id, None)
    except ConflictError as error:
        return _unit_response(request, s, project_id, participant_id, f"Not skipped: {error}.")
    return _unit_response(request, s, project_id, participant_id, "Skipped. Here is the next unit.")


@router.post("/annotate/{project_id}/undo")
def undo(request: Request, s: ServicesDep, participant_id: Participant, project_id: str) -> Response:
    try:
        undone = s.annotate.undo(project_id, participant_id)
    except NotFoundError as error:
        return _unit_response(request, s, project_id, participant_id, f"Nothing undone: {error}.")
    if undone.labels is None:
        return _unit_response(request, s, project_id, participant_id, "Back: your skip was undone; label this unit.")
    # the unit with the person's own label filled in (not the suggestion), rendered at once: the label is not
    # kept anywhere else (the session cookie holds no labels), so a plain post gets the page, not a redirect
    project = s.annotate.project(project_id)
    unit = s.annotate.next_unit(project_id, participant_id)
    status = "Back: your last label was undone; your label is filled in to correct."
    context = _unit_context(s, project, unit, undone.labels.model_dump(), status=status, yours=True)
    if is_htmx(request):
        return render(request, "partials/annotate_unit.html", context | {"oob": True})
    return render(request, "annotate.html", context)


@router.post("/annotate/{project_id}/units/{unit_id}/flag")
def flag(
    request: Request, s: ServicesDep, participant_id: Participant, project_id: str, unit_id: UnitId, form: Form
) -> Response:
    s.annotate.flag(project_id, unit_id, participant_id, str(form.get("reason") or "").strip())
    status = "Thank you: that unit is hidden from everyone until a curator removes the personal data."
    return _unit_response(request, s, project_id, participant_id, status)


# -- curators ---------------------------------------------------------------------------------


@router.get("/annotate/{project_id}/flagged", response_class=HTMLResponse)
def flagged(request: Request, s: ServicesDep, _: Curator, project_id: str) -> Response:
    project = s.annotate.project(project_id)
    units = [(unit, s.annotate.raw_unit(project_id, unit.unit_id)) for unit in s.annotate.flagged(project_id)]
    return render(request, "annotate_flagged.html", {"project": project, "units": units})


@router.post("/annotate/{project_id}/flagged/{unit_id}")
def fix(request: Request, s: ServicesDep, _: Curator, project_id: str, unit_id: UnitId, form: Form) -> Response:
    s.annotate.fix_unit(project_id, unit_id, str(form.get("text") or "")[:5000])
    flash(request, f"Unit {unit_id} fixed: it was sanitised again and annotators get it once more.")
    return redirect(f"/annotate/{project_id}/flagged")
