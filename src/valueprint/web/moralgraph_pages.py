"""The moral graph's pages: HTTP onto `valueprint.moralgraph` for people in a browser (the domain does the work).

`/moralgraph` lists the contexts (and takes a proposed one); a context's page draws its graph (SVG, by the
vendored `moralgraph.js` from the graph's JSON) with its winning value and a table of the same; the
guided interview (`…/interview`) helps a person write their card in their own words, offering similar
policies beside each field and, with an upstream model, a chat that drafts the card for them to edit;
`…/vote` shows one transition at a time ("did this person become wiser?"); `…/represent` asks whether
the winning value represents the person; `/moralgraph/mine` lists a person's cards with their merges,
to keep apart or merge; `/moralgraph/proposals` shows curators the contexts proposed from DailyDilemmas and
annotation units, to accept (perhaps reworded) or dismiss. Every form posts with the session's CSRF token;
an error shows the page again with what was typed and what to fix (422), so nothing is lost.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from valueprint.accounts.roles import Role
from valueprint.errors import BadRequestError, CardError, NotFoundError
from valueprint.moralgraph import interview
from valueprint.moralgraph.cards import MAX_POLICIES, MIN_POLICIES
from valueprint.services import Services
from valueprint.web import security
from valueprint.web.deps import Curator, CurrentParticipant, Form, Participant, ServicesDep
from valueprint.web.templating import flash, redirect, render

router = APIRouter(include_in_schema=False)
MAX_ID = 2**31 - 1
ContextId = Annotated[int, Path(ge=1, le=MAX_ID)]
CardId = Annotated[int, Path(ge=1, le=MAX_ID)]
TransitionId = Annotated[int, Path(ge=1, le=MAX_ID)]
POLICY_FIELDS = MAX_POLICIES
ProposalKey = Annotated[str, Path(max_length=64)]


def _visitor(request: Request) -> Response:
    flash(request, "Sign up or sign in to take part in the moral graph: your cards and votes stay with your account.")
    return redirect("/")


# -- contexts -------------------------------------------------------------------------------------


@router.get("/moralgraph", response_class=HTMLResponse)
def contexts_page(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return _visitor(request)
    return _contexts(request, s)


def _is_curator(request: Request) -> bool:
    viewer = security.signed_in(request)
    return viewer is not None and viewer.role in (Role.CURATOR, Role.ADMIN)


def _contexts(request: Request, s: Services, **more: Any) -> Response:
    context = {
        "contexts": s.moralgraph.contexts(),
        "proposals": s.moralgraph.context_proposals(),
        "summary": s.moralgraph.representation(),
        "curator": _is_curator(request),
        **more,
    }
    return render(request, "moralgraph.html", context, status_code=422 if more.get("error") else 200)


@router.post("/moralgraph/contexts")
def propose(request: Request, s: ServicesDep, participant_id: Participant, form: Form) -> Response:
    text = str(form.get("text") or "")
    try:
        context = s.moralgraph.propose_context(participant_id, text)
    except CardError as error:
        return _contexts(request, s, error=str(error), typed=text)
    flash(request, f"The context “{context.text}” is open: write your card for it, or judge others'.")
    return redirect(f"/moralgraph/contexts/{context.id}")


@router.get("/moralgraph/contexts/{context_id}", response_class=HTMLResponse)
def context_page(
    request: Request, s: ServicesDep, participant_id: CurrentParticipant, context_id: ContextId
) -> Response:
    if participant_id is None:
        return _visitor(request)
    graph = s.moralgraph.graph(context_id)
    names = {v.id: v.title for v in graph.values}
    return render(request, "moralgraph_context.html", {"graph": graph, "context": graph.context, "names": names})


# -- proposed contexts (curators) ----------------------------------------------------------------


@router.get("/moralgraph/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, s: ServicesDep, _: Curator) -> Response:
    return _proposals(request, s)


def _proposals(request: Request, s: Services, **more: Any) -> Response:
    page = {"proposals": s.moralgraph.proposed_contexts(), **more}
    return render(request, "moralgraph_proposals.html", page, status_code=422 if more.get("error") else 200)


@router.post("/moralgraph/proposals/{key}/accept")
def accept_proposal(request: Request, s: ServicesDep, curator_id: Curator, key: ProposalKey, form: Form) -> Response:
    text = str(form.get("text") or "")
    try:
        context = s.moralgraph.accept_proposal(curator_id, key, text)
    except CardError as error:
        return _proposals(request, s, error=str(error), error_key=key, typed=text)
    flash(request, f"“{context.text}” is now a context people can write cards for and judge.")
    return redirect("/moralgraph/proposals")


@router.post("/moralgraph/proposals/{key}/dismiss")
def dismiss_proposal(request: Request, s: ServicesDep, curator_id: Curator, key: ProposalKey) -> Response:
    dismissed = s.moralgraph.dismiss_proposal(curator_id, key)
    flash(request, f"Dismissed “{dismissed.text}”: it will not be proposed again.")
    return redirect("/moralgraph/proposals")


# -- the interview and the card ------------------------------------------------------------------


def _interview(request: Request, s: Services, context_id: int, **more: Any) -> Response:
    context = s.moralgraph.context(context_id)
    typed = more.pop("typed", {})
    policies = list(typed.get("policies", []))
    policies += [""] * (POLICY_FIELDS - len(policies))
    page = {
        "context": context,
        "prompts": interview.prompts_for(context.text),
        "upstream": s.moralgraph.has_upstream,
        "typed": typed,
        "policies": policies,
        "min_policies": MIN_POLICIES,
        "max_policies": MAX_POLICIES,
        **more,
    }
    return render(request, "moralgraph_interview.html", page, status_code=422 if more.get("error") else 200)


@router.get("/moralgraph/contexts/{context_id}/interview", response_class=HTMLResponse)
def interview_page(
    request: Request, s: ServicesDep, participant_id: CurrentParticipant, context_id: ContextId
) -> Response:
    if participant_id is None:
        return _visitor(request)
    return _interview(request, s, context_id)


@router.post("/moralgraph/contexts/{context_id}/cards")
def save_card(
    request: Request, s: ServicesDep, participant_id: Participant, context_id: ContextId, form: Form
) -> Response:
    typed = {
        "title": str(form.get("title") or ""),
        "description": str(form.get("description") or ""),
        "policies": [str(p) for p in form.getlist("policy")][:POLICY_FIELDS],
        "drafted": form.get("drafted_by_model") == "1",
    }
    try:
        card = s.moralgraph.create_card(
            participant_id, context_id, typed["title"], typed["description"], typed["policies"], typed["drafted"]
        )
    except CardError as error:
        return _interview(request, s, context_id, typed=typed, error=str(error))
    if card.merged_with_others and card.canonical is not None:
        flash(
            request,
            f"Saved. Your card says nearly what “{card.canonical.title}” says, so they were merged: "
            "you can keep yours apart below.",
        )
    else:
        flash(request, "Saved: your card is a value of its own in this context.")
    return redirect(f"/moralgraph/mine#card-{card.id}")


@router.get("/moralgraph/mine", response_class=HTMLResponse)
def my_cards(request: Request, s: ServicesDep, participant_id: CurrentParticipant) -> Response:
    if participant_id is None:
        return _visitor(request)
    return render(request, "moralgraph_mine.html", {"cards": s.moralgraph.my_cards(participant_id)})


@router.post("/moralgraph/cards/{card_id}/split")
def split(request: Request, s: ServicesDep, participant_id: Participant, card_id: CardId) -> Response:
    try:
        card = s.moralgraph.split_card(participant_id, card_id)
        flash(request, f"Your card “{card.title}” is now a value of its own; the earlier merge stays in its history.")
    except (CardError, NotFoundError) as error:
        flash(request, f"Nothing changed: {error}.")
    return redirect(f"/moralgraph/mine#card-{card_id}")


@router.post("/moralgraph/cards/{card_id}/merge")
def merge(request: Request, s: ServicesDep, participant_id: Participant, card_id: CardId, form: Form) -> Response:
    raw = str(form.get("canonical_id") or "")
    try:
        card = s.moralgraph.merge_card(participant_id, card_id, int(raw) if raw.isdigit() and len(raw) < 10 else 0)
        flash(request, f"Merged: your card now counts for “{card.canonical.title if card.canonical else card.title}”.")
    except (CardError, NotFoundError) as error:
        flash(request, f"Nothing changed: {error}.")
    return redirect(f"/moralgraph/mine#card-{card_id}")


# -- judging transitions ---------------------------------------------------------------------------


@router.get("/moralgraph/contexts/{context_id}/vote", response_class=HTMLResponse)
def vote_page(request: Request, s: ServicesDep, participant_id: CurrentParticipant, context_id: ContextId) -> Response:
    if participant_id is None:
        return _visitor(request)
    return _vote(request, s, participant_id, context_id)


def _vote(request: Request, s: Services, participant_id: str, context_id: int, **more: Any) -> Response:
    page = {
        "context": s.moralgraph.context(context_id),
        "transition": s.moralgraph.next_transition(participant_id, context_id),
        "upstream": s.moralgraph.has_upstream,
        **more,
    }
    return render(request, "moralgraph_vote.html", page, status_code=422 if more.get("error") else 200)


@router.post("/moralgraph/transitions/{transition_id}/vote")
def vote(
    request: Request, s: ServicesDep, participant_id: Participant, transition_id: TransitionId, form: Form
) -> Response:
    shown = s.moralgraph.transition(participant_id, transition_id)
    try:
        recorded = s.moralgraph.vote(participant_id, transition_id, form.get("answer"), form.get("why"))
    except CardError as error:
        return _vote(request, s, participant_id, shown.context_id, error=str(error), why=str(form.get("why") or ""))
    message = f"Recorded. You have judged {recorded.judged} transition{'s' if recorded.judged != 1 else ''} here."
    if recorded.weight < 1:
        message += (
            f" Your judgement weighs {recorded.weight:g} of an established annotator's: annotating carefully earns"
            " the karma that makes it count fully."
        )
    flash(request, message)
    return redirect(f"/moralgraph/contexts/{shown.context_id}/vote")


@router.post("/moralgraph/transitions/{transition_id}/story")
def story(
    request: Request, s: ServicesDep, participant_id: Participant, transition_id: TransitionId, form: Form
) -> Response:
    shown = s.moralgraph.transition(participant_id, transition_id)
    origin = "model" if form.get("drafted") == "1" else "person"
    try:
        s.moralgraph.add_story(participant_id, transition_id, form.get("text"), origin)
    except (CardError, BadRequestError) as error:
        return _vote(
            request, s, participant_id, shown.context_id, story_error=str(error), story=str(form.get("text") or "")
        )
    flash(request, "Your story is saved: people judging this transition will read it.")
    return redirect(f"/moralgraph/contexts/{shown.context_id}/vote")


# -- did this represent you? ----------------------------------------------------------------------


@router.get("/moralgraph/contexts/{context_id}/represent", response_class=HTMLResponse)
def represent_page(
    request: Request, s: ServicesDep, participant_id: CurrentParticipant, context_id: ContextId
) -> Response:
    if participant_id is None:
        return _visitor(request)
    return _represent(request, s, context_id)


def _represent(request: Request, s: Services, context_id: int, **more: Any) -> Response:
    page = {
        "context": s.moralgraph.context(context_id),
        "summary": s.moralgraph.representation(context_id),
        **more,
    }
    return render(request, "moralgraph_represent.html", page, status_code=422 if more.get("error") else 200)


@router.post("/moralgraph/contexts/{context_id}/represent")
def represent(
    request: Request, s: ServicesDep, participant_id: Participant, context_id: ContextId, form: Form
) -> Response:
    try:
        s.moralgraph.represent(participant_id, context_id, form.get("answer"), form.get("why"))
    except CardError as error:
        return _represent(request, s, context_id, error=str(error), why=str(form.get("why") or ""))
    flash(request, "Thank you: your answer is recorded (your latest answer counts).")
    return redirect(f"/moralgraph/contexts/{context_id}/represent")
