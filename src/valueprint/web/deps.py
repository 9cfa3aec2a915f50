"""Every dependency a route may ask for, as `Annotated` aliases (FastAPI's full-stack template's `deps.py`).

Routers import their dependencies from here and their page helpers from `templating`, never
from one another:

    @router.get("/me/profile")
    def my_profile(s: ServicesDep, participant_id: Participant) -> ProfileView: ...
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from starlette.datastructures import FormData

from valueprint.accounts.roles import Role
from valueprint.errors import AuthError, ForbiddenError
from valueprint.services import Services
from valueprint.store.models import App
from valueprint.web import security
from valueprint.web.security import require_role

__all__ = [
    "Admin",
    "AppClient",
    "BrowserSession",
    "CallerDep",
    "CheckedForm",
    "Curator",
    "CurrentParticipant",
    "Form",
    "Participant",
    "Reviewer",
    "ServicesDep",
    "UnitId",
    "get_services",
    "require_role",
]


async def get_services(request: Request) -> Services:
    """The app's services. Async because it does no I/O: FastAPI runs a sync dependency on a worker thread."""
    return security.services(request)


def browser_session(request: Request) -> dict[str, Any]:
    """The signed cookie of a browser: a random session id, the CSRF token, a one-time notice (see web.security)."""
    return request.session


ServicesDep = Annotated[Services, Depends(get_services)]
BrowserSession = Annotated[dict[str, Any], Depends(browser_session)]

Participant = Annotated[str, Depends(security.participant)]
"""The signed-in participant's id (401 if none; CSRF-checked for state-changing requests)."""
CallerDep = Annotated[security.Caller, Depends(security.caller)]
"""The caller, resolved by the route itself (`caller.participant_id()`, as `Participant` would) inside its
unit of work: for the busiest routes, where a thread and a transaction of their own cost a third of the time."""
CurrentParticipant = Annotated[str | None, Depends(security.current)]
"""The signed-in participant's id, or None: for pages that send visitors to the welcome page instead."""
Admin = Annotated[str, Depends(require_role(Role.ADMIN))]
Curator = Annotated[str, Depends(require_role(Role.CURATOR, Role.ADMIN))]
"""A signed-in curator's (or administrator's) id: imports, fixes and exports annotation projects."""
UnitId = Annotated[int, Path(ge=1, le=2**63 - 1, description="An annotation unit's id.")]
"""A unit id in a path: bounded like every number a request may carry."""

REVIEW_ROLES = (Role.REVIEWER, Role.CURATOR, Role.ADMIN)


async def reviewer(request: Request) -> str:
    """The signed-in participant's id if they may review: a reviewer, curator or administrator, or anyone whose
    karma has unlocked reviewing (403 with what it takes otherwise)."""
    participant_id = await security.participant(request)
    viewer = security.signed_in(request)
    if viewer is not None and viewer.role in REVIEW_ROLES:
        return participant_id
    standing = security.services(request).crowd.karma(participant_id)
    if not standing["may_review"]:
        raise ForbiddenError(
            f"reviewing unlocks at {standing['review_karma']:g} karma (you have {standing['karma']:g}): "
            "label units carefully, especially those with known answers, to earn it"
        )
    return participant_id


Reviewer = Annotated[str, Depends(reviewer)]
"""A signed-in person who may review: by role, or by karma (`annotate.karma.REVIEW_KARMA`)."""

AppClient = Annotated[App, Depends(security.app_client)]
"""The registered app calling with `Authorization: Bearer vpk_…`."""


async def graph_reader(request: Request) -> str:
    """Who reads the moral graph: a registered app by its API key ("app:<id>"), or else the signed-in
    participant's id. Neither: 401 naming both ways in (the graph is not public: see `web.moralgraph_api`)."""
    if request.headers.get("authorization"):
        return "app:" + (await security.app_client(request)).id
    try:
        return await security.participant(request)
    except AuthError:
        raise AuthError(
            "the moral graph is read by signed-in people and registered apps: sign in, or send the app's API key "
            "as `Authorization: Bearer vpk_…`"
        ) from None


GraphReader = Annotated[str, Depends(graph_reader)]
"""A registered app (by its API key) or a signed-in participant, reading the moral graph."""

Form = Annotated[FormData, Depends(security.form)]
CheckedForm = Annotated[FormData, Depends(security.checked_form)]
"""The form of a request with no signed-in participant yet, CSRF-checked."""
