"""The annotation domain's quality face (part 2): gold units, agreement, consensus, review and karma.

`Crowd` works on the same database as `service.Annotate` and borrows its sanitiser (gold texts pass it like
any other text before a person sees them). Every method is one unit of work. Who may call what is the entry
points' concern (curators add gold and lift pauses; reviewers adjudicate; anyone sees their own karma).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from valueprint.annotate import agreement, gold, karma, quality, review
from valueprint.annotate.consensus import project_consensus
from valueprint.annotate.dedup import NearDuplicates
from valueprint.annotate.importer import known_texts, prepare
from valueprint.annotate.readers import Record
from valueprint.annotate.schema import LabelSchema
from valueprint.annotate.service import Annotate
from valueprint.errors import NotFoundError
from valueprint.store.models import Annotation, AnnotationProject, AnnotationUnit


class Crowd:
    def __init__(self, annotate: Annotate, datasets_dir: Path) -> None:
        self.annotate, self.datasets_dir = annotate, datasets_dir
        self.db, self.space, self.clock = annotate.db, annotate.space, annotate.clock

    def _project(self, session: Any, project_id: str) -> AnnotationProject:
        project = session.get(AnnotationProject, project_id)
        if project is None:
            raise NotFoundError(f"no annotation project {project_id!r}")
        return project

    # -- gold ---------------------------------------------------------------------------------

    def add_gold(self, project_id: str, source: str, limit: int = 50, seed: int = 0) -> dict[str, int]:
        """Adds `limit` gold units from a source's validation split (sanitised, near-duplicates dropped), each
        with its known answer; they join the queue unannounced at the project's gold share."""
        items = gold.sample(gold.gold_items(self.space, self.datasets_dir, source), limit, seed)
        records = [
            Record(
                row=f"{source} {it.external_id}",
                text=it.text,
                source=it.source,
                licence=it.licence,
                external_id=it.external_id,
            )
            for it in items
        ]
        by_row = {r.row: it for r, it in zip(records, items, strict=True)}
        sanitiser = self.annotate.sanitiser()
        with self.db.session() as session:
            project = self._project(session, project_id)
            seen = NearDuplicates()
            for text in known_texts(session, project.id):
                seen.repeats(text)
            schema = LabelSchema.model_validate(project.label_schema)
            documents, duplicates = prepare(records, "posts", schema, sanitiser, seen)
            stored = quality.store_gold(session, project, documents, by_row, self.annotate.sealer)
        return {"gold_units": stored, "duplicates": duplicates}

    def gold_record(self, project_id: str, participant_id: str) -> dict[str, Any]:
        """The annotator's accuracy on the project's gold units (with its interval) and whether they are paused."""
        with self.db.session() as session:
            self._project(session, project_id)
            standing = quality.record(session, project_id, participant_id).as_dict()
            pause = quality.paused(session, project_id, participant_id)
            return standing | {"paused": pause is not None, "pause_reason": pause.reason if pause else None}

    def gold_records(self, project_id: str) -> list[dict[str, Any]]:
        """Every annotator's gold record in the project, worst first."""
        with self.db.session() as session:
            self._project(session, project_id)
            people = session.scalars(
                select(Annotation.participant_id).where(Annotation.project_id == project_id).distinct()
            ).all()
            records = [{"participant_id": p} | quality.record(session, project_id, p).as_dict() for p in people]
        return sorted(records, key=lambda r: (r["accuracy"] is None, r["accuracy"] or 0.0))

    def paused(self, project_id: str | None = None) -> list[dict[str, Any]]:
        with self.db.session() as session:
            return quality.pauses(session, project_id)

    def lift_pause(self, project_id: str, participant_id: str) -> bool:
        """A curator lets a paused annotator continue; False when they were not paused."""
        with self.db.session() as session:
            return quality.lift_pause(session, project_id, participant_id, self.clock())

    # -- agreement ------------------------------------------------------------------------------

    def _labels(self, session: Any, project_id: str) -> list[Annotation]:
        return list(
            session.scalars(
                select(Annotation)
                .join(AnnotationUnit, AnnotationUnit.id == Annotation.unit_id)
                .where(
                    Annotation.project_id == project_id,
                    Annotation.skipped.is_(False),
                    AnnotationUnit.hidden.is_(False),
                )
                .order_by(Annotation.unit_id, Annotation.id)
            )
        )

    def agreement(self, project_id: str, top: int = 10) -> dict[str, Any]:
        """Krippendorff's alpha per label and for the project, and the most disagreed units with their text
        (see `agreement`)."""
        with self.db.session() as session:
            schema = LabelSchema.model_validate(self._project(session, project_id).label_schema)
            found = agreement.project_agreement(
                self._labels(session, project_id), schema.dimensions, schema.custom_labels, top
            )
            for row in found["most_disagreed"]:
                row["text"] = session.get(AnnotationUnit, row["unit_id"]).text
        return found

    def consensus(self, project_id: str, unit_ids: list[int] | None = None) -> list[dict[str, Any]]:
        """Per unit (all, or those named): Dawid–Skene consensus with its confidence and majority vote beside
        it, per label (see `consensus`)."""
        with self.db.session() as session:
            schema = LabelSchema.model_validate(self._project(session, project_id).label_schema)
            found = project_consensus(session, project_id, schema, self._labels(session, project_id))
        wanted = found if unit_ids is None else {u: found[u] for u in unit_ids if u in found}
        return [{"unit_id": u} | entry for u, entry in sorted(wanted.items())]

    # -- review -------------------------------------------------------------------------------

    def disputes(self, project_id: str) -> list[dict[str, Any]]:
        """The reviewer backlog: disputed units nobody has adjudicated, most disputed first, with their text."""
        with self.db.session() as session:
            project = self._project(session, project_id)
            rows = review.disputed(session, project, self._labels(session, project_id))
            for row in rows:
                row["text"] = session.get(AnnotationUnit, row["unit_id"]).text
        return rows

    def review_unit(self, project_id: str, unit_id: int) -> dict[str, Any]:
        """A unit as a reviewer sees it: its text, every label (annotators by pseudonymous id) and any answer."""
        from valueprint.annotate.export import labels_of
        from valueprint.annotate.labels import unit_of
        from valueprint.store.models import Adjudication

        with self.db.session() as session:
            unit = unit_of(session, project_id, unit_id)
            last = session.scalars(
                select(Adjudication).where(Adjudication.unit_id == unit.id).order_by(Adjudication.id.desc()).limit(1)
            ).first()
            return {
                "unit_id": unit.id,
                "text": unit.text,
                "annotations": [
                    {"annotator": a.participant_id} | labels_of(a) for a in review.annotations_of(session, unit.id)
                ],
                "adjudication": None
                if last is None
                else {"values": last.values, "acceptability": last.acceptability, "comment": last.comment},
            }

    def adjudicate(
        self, project_id: str, unit_id: int, reviewer_id: str, labels: dict[str, Any], comment: str = ""
    ) -> list[dict[str, Any]]:
        """The reviewer's answer to a disputed unit; every karma change it made, with its reason."""
        with self.db.session() as session:
            return review.adjudicate(session, self._project(session, project_id), unit_id, reviewer_id, labels, comment)

    def return_annotation(
        self, project_id: str, unit_id: int, annotator_id: str, reviewer_id: str, comment: str
    ) -> None:
        """Send an annotation back to its annotator with a comment; the unit comes back to them first."""
        with self.db.session() as session:
            project = self._project(session, project_id)
            review.return_annotation(session, project, unit_id, annotator_id, reviewer_id, comment, self.clock())

    def returned_to(self, participant_id: str, project_id: str | None = None) -> list[dict[str, Any]]:
        with self.db.session() as session:
            return review.open_returns(session, participant_id, project_id)

    def consensus_labels(self, min_confidence: float = 0.8) -> list[tuple[str, dict[str, int], list[str]]]:
        """Every project's confident value consensus as (unit text, {dimension: -1 | 0 | +1}, dimensions it
        speaks for), for the judge's value reader (`valueprint judge train --with-annotations`). A dimension
        counts when its consensus confidence reaches `min_confidence`; absent ones are labelled 0."""
        out = []
        with self.db.session() as session:
            projects = [p.id for p in session.scalars(select(AnnotationProject))]
        for project_id in projects:
            texts = self._texts(project_id)
            for row in self.consensus(project_id):
                sure = {d: e["consensus"] for d, e in row["values"].items() if e["confidence"] >= min_confidence}
                if sure:
                    out.append((texts[row["unit_id"]], sure, sorted(sure)))
        return out

    def _texts(self, project_id: str) -> dict[int, str]:
        with self.db.session() as session:
            rows = session.execute(
                select(AnnotationUnit.id, AnnotationUnit.text).where(AnnotationUnit.project_id == project_id)
            )
            return {uid: text for uid, text in rows}

    # -- the moral map's inputs ---------------------------------------------------------------

    def latest_profiles(self, project_id: str | None = None) -> dict[str, str]:
        """Each annotator's latest value-profile snapshot (JSON), over one project's labels or all."""
        query = select(Annotation.participant_id, Annotation.profile_json).where(
            Annotation.skipped.is_(False), Annotation.profile_json.is_not(None)
        )
        if project_id is not None:
            query = query.where(Annotation.project_id == project_id)
        with self.db.session() as session:
            return {pid: profile for pid, profile in session.execute(query.order_by(Annotation.id))}

    def acceptability_of(self, project_id: str, unit_id: int) -> list[tuple[str, int]]:
        """(annotator, acceptability) of every label of the unit that has one."""
        with self.db.session() as session:
            rows = session.execute(
                select(Annotation.participant_id, Annotation.acceptability).where(
                    Annotation.project_id == project_id,
                    Annotation.unit_id == unit_id,
                    Annotation.acceptability.is_not(None),
                )
            )
            return [(pid, value) for pid, value in rows]

    def admin_figures(self) -> dict[str, Any]:
        """Throughput, agreement over time, reviewer backlog, karma and gold-accuracy distributions and flagged
        annotators, over every project (see `admin_figures`)."""
        from valueprint.annotate.admin_figures import figures
        from valueprint.store.models import now

        with self.db.session() as session:
            return figures(session, now())  # labels are stamped with the wall clock

    # -- scenarios from the crowd -------------------------------------------------------------

    def unit_judgements(self, project_id: str) -> dict[int, tuple[str, list[tuple[str, int, bool, str]]]]:
        """Per unit: its text and each label's (annotator, acceptability, marked a value, profile snapshot)."""
        out: dict[int, tuple[str, list[tuple[str, int, bool, str]]]] = {}
        with self.db.session() as session:
            texts = {
                u: t
                for u, t in session.execute(
                    select(AnnotationUnit.id, AnnotationUnit.text).where(
                        AnnotationUnit.project_id == project_id, AnnotationUnit.hidden.is_(False)
                    )
                )
            }
            for a in self._labels(session, project_id):
                if a.acceptability is not None and a.profile_json and a.unit_id in texts:
                    entry = out.setdefault(a.unit_id, (texts[a.unit_id], []))
                    entry[1].append((a.participant_id, a.acceptability, bool(a.values), a.profile_json))
        return out

    def store_scenarios(self, project_id: str, found: list[dict[str, Any]]) -> int:
        from valueprint.annotate import scenarios

        with self.db.session() as session:
            return scenarios.store(session, project_id, found)

    def scenarios(self, status: str | None = None) -> list[dict[str, Any]]:
        from valueprint.annotate import scenarios
        from valueprint.store.models import ScenarioCandidate

        query = select(ScenarioCandidate).order_by(ScenarioCandidate.id)
        if status is not None:
            query = query.where(ScenarioCandidate.status == status)
        with self.db.session() as session:
            return [scenarios.view(row) for row in session.scalars(query)]

    def decide_scenario(self, candidate_id: int, curator_id: str, approve: bool) -> dict[str, Any]:
        """A curator approves (it joins the question bank at the next start) or rejects a candidate."""
        from valueprint.annotate import scenarios

        with self.db.session() as session:
            return scenarios.view(scenarios.decide(session, candidate_id, curator_id, approve, self.clock()))

    # -- karma --------------------------------------------------------------------------------

    def karma(self, participant_id: str) -> dict[str, Any]:
        """The person's karma, what it unlocks and weighs, and every change with its reason (latest first)."""
        with self.db.session() as session:
            total = karma.total(session, participant_id)
            return {
                "karma": round(total, 3),
                "weight": round(karma.weight(total), 3),
                "may_review": total >= karma.REVIEW_KARMA,
                "review_karma": karma.REVIEW_KARMA,
                "events": karma.history(session, participant_id),
            }
