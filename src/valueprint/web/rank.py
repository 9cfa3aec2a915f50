"""`POST /v1/rank`: the personal judge as a service — a reward model for one person, within their consent.

An app sends a prompt, its candidate replies (from any model, e.g. its own larger one for
best-of-N) and the person's value token or handle; the registry resolves the token to the
scopes the person consented to for this app (the read is audit-logged), and the judge ranks
the replies on those dimensions alone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from valueprint.errors import BadRequestError
from valueprint.judge.schemas import RankRequest, RankResult
from valueprint.personalize.service import scoped_profile
from valueprint.registry.audit import ReadPurpose
from valueprint.tokens.jws import MAX_TOKEN_CHARS
from valueprint.web.deps import AppClient, ServicesDep

router = APIRouter(prefix="/v1", tags=["judge"])


@router.post("/rank", response_model=RankResult)
def rank(
    s: ServicesDep,
    app: AppClient,
    body: RankRequest,
    x_value_token: Annotated[str | None, Header(max_length=MAX_TOKEN_CHARS)] = None,
) -> RankResult:
    """Rank candidate replies by how well they fit the person behind the value token."""
    token = x_value_token or body.value_token
    if not token:
        raise BadRequestError("send the person's value token or handle (X-Value-Token header or value_token)")
    view = s.registry.read(app, token, ReadPurpose.RANK)
    ranking = s.personalizer.judge().rank(scoped_profile(view, s.model.space), body.prompt, body.replies)
    return RankResult(order=ranking.order, scores=ranking.scores, because=ranking.because, scopes=view["scopes"])
