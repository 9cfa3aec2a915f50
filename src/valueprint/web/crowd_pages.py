"""The annotation quality pages: HTTP onto `valueprint.annotate.crowd` for people in a browser.

`/annotate/{project}/quality` (reviewers by role or karma) shows agreement per label, the most disagreed
units and the consensus; `/annotate/karma` shows a person their karma and every change with its reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from valueprint.web.deps import CurrentParticipant, Reviewer, ServicesDep
from valueprint.web.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/annotate/karma", response_class=HTMLResponse)
def karma_page(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        flash(request, "Sign in to see your karma.")
        return redirect("/")
    return render(request, "annotate_karma.html", {"standing": s.crowd.karma(participant_id)})


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
