"""The moral graph's API under /v1/moralgraph: HTTP onto `valueprint.moralgraph` (the domain does the work).

Signed-in people (session cookie, and the CSRF token on every POST, as for the rest of the participants'
API) propose contexts, write values cards, keep a card apart from (or merge it into) a canonical card,
tell the story of a transition, judge transitions ("did this person become wiser?"), say whether a
winning value represents them, and read the graph and its JSON export. With an upstream model
configured, the interview can run as a chat that drafts the card (or a story) for the person to edit.
Curators (and administrators) see contexts proposed from DailyDilemmas and annotation units, and accept
(perhaps reworded) or dismiss them.

**Who reads the graph.** The contexts with their winning values, a context's graph, the representation
figures and the export are read by signed-in people and by registered third-party apps with their API key
(`Authorization: Bearer vpk_…`, as for `/v1/rank`): the graph is an aggregate (no voter ids, no reasons), so
an app needs no person's consent or scope to read it, but it is not public either: its values are people's
own words, shared with the people who build the graph and the apps this server's operator registered, not
with anonymous scrapers. Without a session or a key: 401. Apps only read; writing is for people.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from valueprint.moralgraph import interview
from valueprint.moralgraph.cards import MAX_POLICIES, STORY_CHARS, WHY_CHARS
from valueprint.moralgraph.schemas import (
    CardView,
    ContextProposal,
    ContextProposals,
    ContextView,
    GraphView,
    PolicySuggestion,
    RepresentationRecorded,
    RepresentationSummary,
    TransitionView,
    VoteRecorded,
)
from valueprint.web.deps import Curator, GraphReader, Participant, ServicesDep

router = APIRouter(prefix="/v1/moralgraph", tags=["moral graph"])
MAX_ID = 2**31 - 1
ContextId = Annotated[int, Path(ge=1, le=MAX_ID, description="A context's id.")]
CardId = Annotated[int, Path(ge=1, le=MAX_ID, description="A values card's id.")]
TransitionId = Annotated[int, Path(ge=1, le=MAX_ID, description="A transition's id.")]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
ProposalKey = Annotated[
    str, Path(max_length=64, description='A proposed context: "dd-<DailyDilemmas idx>" or "unit-<unit id>-<n>".')
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContextRequest(Body):
    text: str = Field(max_length=300, description='A situation, as "when …" ("when" is added if missing).')


class AcceptRequest(Body):
    text: str | None = Field(
        None, max_length=300, description="The context in the curator's words; the proposal's own when absent."
    )


class CardRequest(Body):
    title: str = Field(max_length=300)
    description: str = Field(max_length=600, description="One line.")
    policies: list[Annotated[str, Field(max_length=600)]] = Field(
        max_length=MAX_POLICIES + 3, description="3 to 7 attentional policies (empty strings are ignored)."
    )
    drafted_by_model: bool = Field(False, description="True when the person saved the upstream model's draft.")


class MergeRequest(Body):
    canonical_id: BodyId = Field(description="A canonical card of the same context.")


class StoryRequest(Body):
    text: str = Field(max_length=STORY_CHARS[1] + 200)
    drafted: bool = Field(False, description="True when the person saved the upstream model's draft.")


class TransitionRequest(StoryRequest):
    from_id: BodyId
    to_id: BodyId


class VoteRequest(Body):
    answer: Literal["yes", "no", "not_sure"] = Field(description="Did this person become wiser?")
    why: str | None = Field(None, max_length=WHY_CHARS + 200)


class RepresentRequest(Body):
    answer: Literal["yes", "partly", "no"] = Field(description="Does the winning value represent you?")
    why: str | None = Field(None, max_length=WHY_CHARS + 200)


class Turn(Body):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=interview.MAX_TURN_CHARS)


class InterviewRequest(Body):
    context_id: BodyId
    messages: list[Turn] = Field(min_length=1, max_length=interview.MAX_TURNS)


class InterviewPrompt(BaseModel):
    key: str
    question: str
    hint: str


class NextTransition(BaseModel):
    transition: TransitionView | None = Field(description="null once the person has judged every pair.")


class Reply(BaseModel):
    reply: str


class DraftCard(BaseModel):
    """A card the upstream model drafted from the conversation: not saved; the person edits and saves it."""

    title: str
    description: str
    policies: list[str]


class DraftStory(BaseModel):
    text: str


# -- contexts -------------------------------------------------------------------------------------


@router.get("/contexts")
def list_contexts(s: ServicesDep, _: GraphReader) -> list[ContextView]:
    """Every context, with its counts and its winning value where people have judged it (people and apps)."""
    return s.moralgraph.contexts()


@router.post("/contexts", status_code=201)
def propose_context(s: ServicesDep, participant_id: Participant, body: ContextRequest) -> ContextView:
    """Propose a context in your words (the existing one if it is already there)."""
    return s.moralgraph.propose_context(participant_id, body.text)


@router.get("/proposals")
def proposed_contexts(
    s: ServicesDep, _: Curator, per_source: Annotated[int, Query(ge=1, le=50)] = 10
) -> ContextProposals:
    """Contexts proposed from DailyDilemmas and from annotation units, not yet accepted or dismissed."""
    return s.moralgraph.proposed_contexts(per_source)


@router.post("/proposals/{key}/accept", status_code=201)
def accept_proposal(s: ServicesDep, curator_id: Curator, key: ProposalKey, body: AcceptRequest) -> ContextView:
    """Make the proposal a context (in `text` when you reworded it)."""
    return s.moralgraph.accept_proposal(curator_id, key, body.text)


@router.post("/proposals/{key}/dismiss")
def dismiss_proposal(s: ServicesDep, curator_id: Curator, key: ProposalKey) -> ContextProposal:
    """Dismiss the proposal: it is not proposed again."""
    return s.moralgraph.dismiss_proposal(curator_id, key)


@router.get("/contexts/{context_id}")
def get_context(s: ServicesDep, _: GraphReader, context_id: ContextId) -> ContextView:
    return s.moralgraph.context(context_id)


@router.get("/contexts/{context_id}/graph")
def get_graph(s: ServicesDep, _: GraphReader, context_id: ContextId) -> GraphView:
    """The context's graph: values by PageRank, every judged edge with its figures, the winning value."""
    return s.moralgraph.graph(context_id)


@router.get("/contexts/{context_id}/prompts")
def interview_prompts(s: ServicesDep, _: Participant, context_id: ContextId) -> list[InterviewPrompt]:
    """The guided interview's questions for this context (offline: no model needed)."""
    return [InterviewPrompt(**p) for p in interview.prompts_for(s.moralgraph.context(context_id).text)]


@router.get("/contexts/{context_id}/suggestions")
def policy_suggestions(
    s: ServicesDep,
    _: Participant,
    context_id: ContextId,
    text: Annotated[str, Query(max_length=300, description="What the person has typed so far.")],
    top: Annotated[int, Query(ge=1, le=8)] = 5,
) -> list[PolicySuggestion]:
    """Policies other people wrote that are most similar to `text` (this context's first)."""
    return s.moralgraph.policy_suggestions(context_id, text, top)


@router.post("/contexts/{context_id}/cards", status_code=201)
def create_card(s: ServicesDep, participant_id: Participant, context_id: ContextId, body: CardRequest) -> CardView:
    """Save your values card; it is merged into a near-duplicate canonical card (visibly) or starts its own."""
    return s.moralgraph.create_card(
        participant_id, context_id, body.title, body.description, body.policies, body.drafted_by_model
    )


@router.get("/contexts/{context_id}/next")
def next_transition(s: ServicesDep, participant_id: Participant, context_id: ContextId) -> NextTransition:
    """The transition to judge next (chosen by popularity, convergence and sparsity)."""
    return NextTransition(transition=s.moralgraph.next_transition(participant_id, context_id))


@router.post("/contexts/{context_id}/representation")
def represent(
    s: ServicesDep, participant_id: Participant, context_id: ContextId, body: RepresentRequest
) -> RepresentationRecorded:
    """Whether the context's winning value, as it stands, represents you (your latest answer counts)."""
    return s.moralgraph.represent(participant_id, context_id, body.answer, body.why)


@router.get("/representation")
def representation(s: ServicesDep, _: GraphReader) -> RepresentationSummary:
    """How many people said the winning values represent them."""
    return s.moralgraph.representation()


@router.get("/export")
def export(s: ServicesDep, _: GraphReader) -> dict[str, Any]:
    """Every context's graph with the votes it was computed from (no voter ids, no reasons)."""
    return s.moralgraph.export()


# -- my cards --------------------------------------------------------------------------------------


@router.get("/me/cards")
def my_cards(s: ServicesDep, participant_id: Participant) -> list[CardView]:
    """Your cards, newest first: where each was merged, and a merge you may want to make."""
    return s.moralgraph.my_cards(participant_id)


@router.post("/cards/{card_id}/split")
def split_card(s: ServicesDep, participant_id: Participant, card_id: CardId) -> CardView:
    """Keep your card apart from the canonical card it was merged into."""
    return s.moralgraph.split_card(participant_id, card_id)


@router.post("/cards/{card_id}/merge")
def merge_card(s: ServicesDep, participant_id: Participant, card_id: CardId, body: MergeRequest) -> CardView:
    """Merge your card into another canonical card of its context."""
    return s.moralgraph.merge_card(participant_id, card_id, body.canonical_id)


# -- transitions and votes ------------------------------------------------------------------------


@router.post("/transitions", status_code=201)
def propose_transition(s: ServicesDep, participant_id: Participant, body: TransitionRequest) -> TransitionView:
    """A transition between two values of one context, with your story of someone making it."""
    origin = "model" if body.drafted else "person"
    return s.moralgraph.propose_transition(participant_id, body.from_id, body.to_id, body.text, origin)


@router.get("/transitions/{transition_id}")
def get_transition(s: ServicesDep, participant_id: Participant, transition_id: TransitionId) -> TransitionView:
    return s.moralgraph.transition(participant_id, transition_id)


@router.post("/transitions/{transition_id}/story")
def tell_story(
    s: ServicesDep, participant_id: Participant, transition_id: TransitionId, body: StoryRequest
) -> TransitionView:
    """Your story of this transition (replacing your earlier one)."""
    origin = "model" if body.drafted else "person"
    return s.moralgraph.add_story(participant_id, transition_id, body.text, origin)


@router.post("/transitions/{transition_id}/story/draft")
def draft_story(s: ServicesDep, _: Participant, transition_id: TransitionId) -> DraftStory:
    """The upstream model's draft of a story, for you to edit and save (nothing is saved). 400 without one."""
    return DraftStory(text=s.moralgraph.draft_story(transition_id))


@router.post("/transitions/{transition_id}/votes")
def vote(s: ServicesDep, participant_id: Participant, transition_id: TransitionId, body: VoteRequest) -> VoteRecorded:
    """Did this person become wiser? One answer per pair of values: a second one replaces the first."""
    return s.moralgraph.vote(participant_id, transition_id, body.answer, body.why)


# -- the interview as a chat (with an upstream model) ---------------------------------------------


@router.post("/interview/reply")
def interview_reply(s: ServicesDep, _: Participant, body: InterviewRequest) -> Reply:
    """The interviewer's next question (the upstream model; 400 when none is configured)."""
    context = s.moralgraph.context(body.context_id).text
    messages = interview.checked_turns([t.model_dump() for t in body.messages])
    return Reply(reply=interview.reply(s.moralgraph.upstream_model(), context, messages))


@router.post("/interview/draft")
def interview_draft(s: ServicesDep, _: Participant, body: InterviewRequest) -> DraftCard:
    """A card drafted from the conversation, for you to edit and save (nothing is saved)."""
    context = s.moralgraph.context(body.context_id).text
    messages = interview.checked_turns([t.model_dump() for t in body.messages])
    card = interview.draft_card(s.moralgraph.upstream_model(), context, messages)
    return DraftCard(title=card.title, description=card.description, policies=list(card.policies))
