"""The moral graph's JSON shapes, shared by the `/v1/moralgraph` API, the pages and the export."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ValueView(BaseModel):
    """A canonical card: a node of the graph, in the words of one of its member cards."""

    id: int
    context_id: int
    title: str
    description: str
    policies: list[str]
    members: int = Field(description="Values cards merged into it.")
    rank: float | None = Field(None, description="Its PageRank in the context's graph, when computed.")


class ContextView(BaseModel):
    id: int
    text: str = Field(description='The situation, as "when …".')
    detail: str
    source: str = Field(description="curated, daily_dilemmas or participant.")
    source_ref: str | None
    cards: int
    values: int = Field(description="Canonical cards (nodes).")
    votes: int
    winner: ValueView | None = None


class ContextProposal(BaseModel):
    """A context proposed to curators, not yet accepted or dismissed."""

    key: str = Field(description='Its name: "dd-<DailyDilemmas idx>" or "unit-<annotation unit id>-<n>".')
    text: str = Field(description='The situation, as "when …" (a curator may reword it on accepting).')
    detail: str = Field(description="Where it was read: the dilemma, or the annotation unit's sanitised text.")
    source: str = Field(description="daily_dilemmas or annotation.")
    source_ref: str


class ContextProposals(BaseModel):
    daily_dilemmas: list[ContextProposal]
    annotation: list[ContextProposal]


class MergeView(BaseModel):
    canonical_id: int
    method: str = Field(description="new, embedding (merged by similarity), split or merge (by the card's author).")
    similarity: float | None
    at: str


class SuggestedMerge(BaseModel):
    value: ValueView
    similarity: float


class CardView(BaseModel):
    """A person's own values card, where it was merged, and a merge they may want to make."""

    id: int
    context_id: int
    context: str
    title: str
    description: str
    policies: list[str]
    drafted_by_model: bool
    canonical: ValueView | None
    merged_with_others: bool = Field(description="Whether other people's cards share its canonical card.")
    history: list[MergeView]
    suggestion: SuggestedMerge | None = Field(
        None, description="The most similar other canonical card, close to but below the merge threshold."
    )


class PolicySuggestion(BaseModel):
    text: str
    value: str = Field(description="The title of the card it comes from.")
    similarity: float


class StoryView(BaseModel):
    text: str
    origin: str = Field(description="person, or model (drafted by the upstream model and saved by a person).")


class TransitionView(BaseModel):
    """A transition to judge: from one value to another in a context, with a story when someone wrote one."""

    id: int
    context_id: int
    context: str
    from_value: ValueView
    to_value: ValueView
    story: StoryView | None
    judged: int = Field(description="Transitions this person has judged in this context.")
    remaining: int = Field(description="Pairs of values in this context this person has not judged.")


class VoteRecorded(BaseModel):
    transition_id: int
    answer: str
    replaced: bool = Field(description="True when it replaced the person's earlier answer on this pair.")
    judged: int
    weight: float = Field(
        description="The vote's weight from the voter's annotation karma: 0.1 for a fresh account, 1 from 6 karma."
    )


class EdgeView(BaseModel):
    from_id: int
    to_id: int
    endorse: float
    against: float
    unsure: float
    votes: float = Field(description="n: the summed weight of everyone who judged the pair.")
    voters: int = Field(description="v: how many people judged the pair (the minimum votes counts these).")
    likelihood: float
    entropy: float
    kept: bool
    status: str = Field(description="kept, too_few_votes, contested or not_endorsed.")


class GraphParameters(BaseModel):
    min_votes: float
    max_entropy: float
    damping: float


class GraphView(BaseModel):
    """One context's graph: values by PageRank, every judged edge, the winner, and what it was computed from."""

    context: ContextView
    values: list[ValueView]
    edges: list[EdgeView]
    winner: ValueView | None
    parameters: GraphParameters
    votes: int
    votes_digest: str = Field(description="SHA-256 of the votes it was computed from (see the export).")


class RepresentationRecorded(BaseModel):
    context_id: int
    answer: str
    winner: str


class RepresentationSummary(BaseModel):
    """How many people said the winning value of a context represented them."""

    answered: int
    yes: int
    partly: int
    no: int
    share_yes: float | None
    share_yes_or_partly: float | None
