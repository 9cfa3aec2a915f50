"""Contexts proposed to curators: DailyDilemmas' situations and the "when …" clauses of annotation units
(`contexts`), which a curator accepts (it becomes a context, perhaps reworded) or dismisses (it is not
proposed again). Contexts that exist, and proposals dismissed, by key or by text, are left out.

A proposal is named by a key that says where it came from, so accepting or dismissing one re-reads it from
its source: "dd-<idx>" (a DailyDilemmas dilemma of the training part) or "unit-<id>-<n>" (the n-th context
the annotation unit's current text suggests; a unit hidden for personal data proposes nothing).
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from valueprint.errors import NotFoundError
from valueprint.moralgraph import contexts as seeds
from valueprint.moralgraph import graphs
from valueprint.moralgraph.base import GraphBase
from valueprint.moralgraph.cards import check_context
from valueprint.moralgraph.schemas import ContextProposal, ContextProposals, ContextView
from valueprint.store.models import AnnotationProject, AnnotationUnit, ContextDismissal, MoralContext

PER_SOURCE = 10
UNITS_SCANNED = 5000  # the newest units read per listing: enough to fill a page, bounded on a large project
KEY = re.compile(r"^(?:dd-[0-9A-Za-z_.-]{1,40}|unit-[0-9]{1,18}-[0-9]{1,3})$")


def _order(key: str) -> bytes:
    """A stable shuffle of DailyDilemmas' situations (file order groups similar ones)."""
    return hashlib.sha256(key.encode()).digest()


class Proposing(GraphBase):
    """Proposed contexts for curators, a part of `service.MoralGraph`."""

    @staticmethod
    def _left_out(session: Session) -> tuple[set[str], set[str]]:
        """The keys dismissed, and the texts (casefolded) of contexts and of dismissed proposals."""
        texts = {t.casefold() for t in session.scalars(select(MoralContext.text))}
        dismissed = session.execute(select(ContextDismissal.key, ContextDismissal.text)).all()
        return {k for k, _ in dismissed}, texts | {t.casefold() for _, t in dismissed}

    def proposed_contexts(self, per_source: int = PER_SOURCE) -> ContextProposals:
        """Up to `per_source` open proposals from DailyDilemmas and from annotation units (newest first)."""
        with self.db.session() as session:
            keys, texts = self._left_out(session)
            pool = sorted(seeds.dilemma_contexts(self.settings.datasets_dir), key=lambda c: _order(c.key))
            dilemmas = [c for c in pool if c.key not in keys and c.text.casefold() not in texts][:per_source]
            units = self._unit_proposals(session, keys, texts, per_source)
        return ContextProposals(
            daily_dilemmas=[
                ContextProposal(key=c.key, text=c.text, detail=c.detail, source=c.source, source_ref=c.source_ref or "")
                for c in dilemmas
            ],
            annotation=units,
        )

    @staticmethod
    def _units(session: Session, unit_id: int | None = None) -> list[tuple[int, str, str]]:
        query = (
            select(AnnotationUnit.id, AnnotationUnit.text, AnnotationProject.name)
            .join(AnnotationProject, AnnotationProject.id == AnnotationUnit.project_id)
            .where(AnnotationUnit.hidden.is_(False))
        )
        if unit_id is not None:
            return [tuple(r) for r in session.execute(query.where(AnnotationUnit.id == unit_id))]
        query = query.where(
            func.lower(AnnotationUnit.text).contains("when ") | (func.length(AnnotationUnit.text) < 120)
        )
        return [tuple(r) for r in session.execute(query.order_by(AnnotationUnit.id.desc()).limit(UNITS_SCANNED))]

    @staticmethod
    def _unit_proposal(unit_id: int, text: str, project: str, n: int, context: str) -> ContextProposal:
        ref = f"annotation unit {unit_id} of project {project!r}"
        return ContextProposal(
            key=f"unit-{unit_id}-{n}", text=context, detail=text, source="annotation", source_ref=ref
        )

    def _unit_proposals(self, session: Session, keys: set[str], texts: set[str], most: int) -> list[ContextProposal]:
        found: list[ContextProposal] = []
        seen = set(texts)
        for unit_id, text, project in self._units(session):
            for n, context in enumerate(seeds.unit_contexts(text)):
                key = f"unit-{unit_id}-{n}"
                if key in keys or context.casefold() in seen:
                    continue
                seen.add(context.casefold())
                found.append(self._unit_proposal(unit_id, text, project, n, context))
                if len(found) >= most:
                    return found
        return found

    def _proposal(self, session: Session, key: str) -> ContextProposal:
        """The proposal named `key`, re-read from its source (404 when it names nothing)."""
        missing = NotFoundError(f"no proposed context {key!r}; GET /v1/moralgraph/proposals lists them")
        if not KEY.match(key):
            raise missing
        if key.startswith("dd-"):
            found = next((c for c in seeds.dilemma_contexts(self.settings.datasets_dir) if c.key == key), None)
            if found is None:
                raise missing
            ref = found.source_ref or ""
            return ContextProposal(key=key, text=found.text, detail=found.detail, source=found.source, source_ref=ref)
        _, unit_id, n = key.split("-")
        for uid, text, project in self._units(session, int(unit_id)):
            suggested = seeds.unit_contexts(text)
            if int(n) < len(suggested):
                return self._unit_proposal(uid, text, project, int(n), suggested[int(n)])
        raise missing

    def accept_proposal(self, curator_id: str, key: str, text: object = None) -> ContextView:
        """Side effect: a new context from the proposal, in `text` when the curator reworded it (the existing
        context when one has that text already). The curator is not recorded as its proposer: a curated
        context outlives its curator's account. A DailyDilemmas dilemma becomes the context's detail; an
        annotation unit's text does not (contexts are read by every participant and by apps, a project's
        units only by its annotators): `source_ref` names the unit instead."""
        with self.db.session() as session:
            proposal = self._proposal(session, key)
            wording = check_context(proposal.text if text is None or text == "" else text)
            existing = session.scalar(select(MoralContext).where(func.lower(MoralContext.text) == wording.lower()))
            if existing is None:
                detail = proposal.detail if proposal.source == "daily_dilemmas" else ""
                existing = MoralContext(
                    text=wording, detail=detail, source=proposal.source, source_ref=proposal.source_ref
                )
                session.add(existing)
                session.flush()
            return graphs.context_views(session, [existing], self.parameters)[0]

    def dismiss_proposal(self, curator_id: str, key: str) -> ContextProposal:
        """Side effect: the proposal is recorded as dismissed (by key and text) and not proposed again."""
        with self.db.session() as session:
            proposal = self._proposal(session, key)
            if session.scalar(select(ContextDismissal.id).where(ContextDismissal.key == key)) is None:
                try:
                    with session.begin_nested():
                        session.add(ContextDismissal(key=key, text=proposal.text, dismissed_by=curator_id))
                except IntegrityError:  # dismissed by another curator at the same moment
                    pass
            return proposal
