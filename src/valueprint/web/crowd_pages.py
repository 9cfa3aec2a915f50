"""The annotation quality pages: HTTP onto `valueprint.annotate.crowd` for people in a browser.

`/annotate/{project}/quality` (reviewers by role or karma) shows agreement per label, the most disagreed
units and the consensus; `/annotate/karma` shows a person their karma, every change with its reason and
the annotations reviewers returned to them. `/annotate/{project}/review` is the reviewer backlog;
`/annotate/{project}/review/{unit}` shows every label of a unit, settles it (adjudication) or returns
one label with a comment.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from valueprint.errors import ConflictError, LabelError, NotFoundError
from valueprint.web.annotate_pages import labels_from
from valueprint.web.deps import CurrentParticipant, Form, Reviewer, ServicesDep, UnitId
from valueprint.web.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/annotate/karma", response_class=HTMLResponse)
def karma_page(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        flash(request, "Sign in to see your karma.")
        return redirect("/")
    context = {"standing": s.crowd.karma(participant_id), "returns": s.crowd.returned_to(participant_id)}
    return render(request, "annotate_karma.html", context)


@router.get("/annotate/{project_id}/quality", response_class=HTMLResponse)
def quality_page(request: Request, s: ServicesDep, _: Reviewer, project_id: str) -> Response:
    project = s.annotate.project(project_id)
    agreement = s.crowd.agreement(project_id)
    consensus = s.crowd.consensus(project_id)
    return render(
        request,
        "annotate_quality.html",
        {"project": project, "agreement": agreement, "consensus": consensus, "scale": project.label_schema.scale},
    )


@router.get("/annotate/{project_id}/review", response_class=HTMLResponse)
def review_list(request: Request, s: ServicesDep, _: Reviewer, project_id: str) -> Response:
    project = s.annotate.project(project_id)
    return render(request, "annotate_review_list.html", {"project": project, "disputes": s.crowd.disputes(project_id)})


@router.get("/annotate/{project_id}/review/{unit_id}", response_class=HTMLResponse)
def review_page(request: Request, s: ServicesDep, _: Reviewer, project_id: str, unit_id: UnitId) -> Response:
    project = s.annotate.project(project_id)
    unit = s.crowd.review_unit(project_id, unit_id)
    dimensions = [s.model.space.dimension(d) for d in project.label_schema.dimensions]
    used = {d for a in unit["annotations"] for d in a["values"]}
    context = {"project": project, "unit": unit, "scale": project.label_schema.scale, "dimensions": dimensions}
    return render(request, "annotate_review.html", context | {"used": used})


@router.post("/annotate/{project_id}/review/{unit_id}")
def adjudicate(
    request: Request, s: ServicesDep, reviewer_id: Reviewer, project_id: str, unit_id: UnitId, form: Form
) -> Response:
    project = s.annotate.project(project_id)
    labels = labels_from(form, project)
    try:
        changes = s.crowd.adjudicate(project_id, unit_id, reviewer_id, labels, str(form.get("comment") or ""))
    except (LabelError, ConflictError) as error:
        flash(request, f"Not settled: {error}.")
        return redirect(f"/annotate/{project_id}/review/{unit_id}")
    flash(request, f"Unit {unit_id} settled: the karma of {len(changes)} people changed, each told why.")
    return redirect(f"/annotate/{project_id}/review")


@router.post("/annotate/{project_id}/review/{unit_id}/return")
def return_annotation(
    request: Request, s: ServicesDep, reviewer_id: Reviewer, project_id: str, unit_id: UnitId, form: Form
) -> Response:
    annotator, comment = str(form.get("annotator") or ""), str(form.get("comment") or "")
    try:
        s.crowd.return_annotation(project_id, unit_id, annotator, reviewer_id, comment)
    except (ConflictError, NotFoundError) as error:
        flash(request, f"Not returned: {error}.")
    else:
        flash(request, "Returned: the annotator gets the unit back first, with your comment.")
    return redirect(f"/annotate/{project_id}/review/{unit_id}")


@router.get("/annotate/map", response_class=HTMLResponse)
def map_page(request: Request, s: ServicesDep, participant_id: CurrentParticipant, field: str = "country") -> Response:
    from valueprint.annotate.moralmap import FIELDS

    if participant_id is None:
        flash(request, "Sign in to see the moral map.")
        return redirect("/")
    field = field if field in FIELDS else "country"
    return render(request, "annotate_map.html", {"found": s.moral_map(field), "fields": FIELDS})
