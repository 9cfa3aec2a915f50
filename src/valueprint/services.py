"""The services of a running valueprint, built once from the settings, and the operations that span domains.

The web app, the CLI and the benchmarks all start here (`Services.build`); the web layer
only adds HTTP on top. An operation that needs two domains (issuing a token for the
current profile, training a person's adapter from their answers) lives here, so no
domain imports another's service and no entry point re-assembles it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from valueprint.accounts.service import Accounts, NextQuestion, require_covered
from valueprint.annotate.jobs import IMPORT_BATCH, AnnotateJobs
from valueprint.annotate.service import Annotate
from valueprint.errors import ForbiddenError
from valueprint.moralgraph.consult import Consultation
from valueprint.moralgraph.service import MoralGraph
from valueprint.personalize.picks import PICK_MAX_TOKENS, BlindPicks
from valueprint.personalize.service import Personalizer
from valueprint.registry.consent_request import ConsentRequest
from valueprint.registry.service import Registry
from valueprint.settings import Settings
from valueprint.store.crypto import Sealer
from valueprint.store.db import Database, migrate, shared_database
from valueprint.store.duties import participant_tables
from valueprint.store.models import Base, Participant
from valueprint.store.secret_files import data_key
from valueprint.tokens.jws import IssuedToken
from valueprint.tokens.keys import KeyStore
from valueprint.values.bank import QuestionBank
from valueprint.values.model import default_model
from valueprint.values.scoring import ScoringModel

log = logging.getLogger("valueprint.jobs")


def with_crowd_scenarios(model: ScoringModel, db: Database) -> ScoringModel:
    """The scoring model with the scenarios curators approved from the crowd (`annotate.scenarios`) in its bank."""
    from valueprint.annotate.scenarios import approved_items

    with db.session() as session:
        extra = [item for item in approved_items(session) if item.id not in model.bank.ids]
    if not extra:
        return model
    bank = QuestionBank(
        space_version=model.bank.space_version, items=(*model.bank.items, *extra), demographics=model.bank.demographics
    )
    return ScoringModel(model.space, bank, model.prior, model.params)


@dataclass
class Services:
    settings: Settings
    db: Database
    model: ScoringModel
    accounts: Accounts
    registry: Registry
    personalizer: Personalizer
    picks: BlindPicks
    annotate: Annotate
    annotate_jobs: AnnotateJobs
    moralgraph: MoralGraph
    annotate_embedder: Any = None  # embeds texts for prompt-driven selection; None: the evaluator's MiniLM
    annotate_prelabeller: Any = None  # suggests labels for the Label Studio backend; None: the evaluator's

    @property
    def crowd(self) -> Any:
        """Annotation quality (gold, agreement, consensus, review, karma) over the installed annotation domain."""
        from valueprint.annotate.crowd import Crowd

        return Crowd(self.annotate, self.settings.datasets_dir)

    def map_members(self, project_id: str | None = None) -> list[Any]:
        """Annotators (of one project, or all) as moral-map members: each at their latest value-profile snapshot,
        with only the groups they chose to give (demographics, and the political quadrant of their slider)."""
        from valueprint.annotate.moralmap import Member, position, quadrant
        from valueprint.values.profile import ValueProfile

        snapshots = self.crowd.latest_profiles(project_id)
        members = []
        with self.db.session() as session:
            for pid, profile_json in snapshots.items():
                profile = ValueProfile.from_json(profile_json)
                means = {d: float(v.mean) for d, v in profile.scores.items()}
                given = self.accounts.personal(session, pid).get("demographics", {}) or {}
                slider = self.accounts.answers(pid).slider.get("political-slider")
                groups = {f: given.get(f) for f in ("country", "religion", "age_band")}
                members.append(Member(pid, position(means), groups | {"political_quadrant": quadrant(slider)}))
        return members

    def moral_map(self, field: str, project_id: str | None = None) -> dict[str, Any]:
        """The moral map by one grouping field, groups under k suppressed (see `annotate.moralmap`)."""
        from valueprint.annotate.moralmap import build

        return build(self.map_members(project_id), field, self.settings.k_anonymity)

    def unit_groups(self, project_id: str, unit_id: int, field: str) -> dict[str, Any]:
        """How each group (under k suppressed) judged one unit's acceptability."""
        from valueprint.annotate.moralmap import unit_by_group

        members = {m.participant_id: m for m in self.map_members(project_id)}
        judged = [(members[p], a) for p, a in self.crowd.acceptability_of(project_id, unit_id) if p in members]
        scale = self.annotate.project(project_id).label_schema.scale
        return unit_by_group(judged, field, scale, self.settings.k_anonymity) | {"unit_id": unit_id}

    def propose_scenarios(self, project_id: str) -> dict[str, Any]:
        """Candidate questionnaire scenarios from the project's units (see `annotate.scenarios`): stored for a
        curator to approve; how many units were looked at and how many candidates are new."""
        import numpy as np

        from valueprint.annotate import scenarios
        from valueprint.annotate.moralmap import FIELDS
        from valueprint.values.profile import ValueProfile

        members = {m.participant_id: m for m in self.map_members(project_id)}
        points = len(self.annotate.project(project_id).label_schema.scale)
        space = self.model.space
        found = []
        judgements = self.crowd.unit_judgements(project_id)
        for unit_id, (text, rows) in judgements.items():
            labels = []
            for pid, acceptability, marked, profile_json in rows:
                scores = ValueProfile.from_json(profile_json).scores
                profile = np.array([scores[d].mean if d in scores else 0.0 for d in space.ids])
                labels.append((members[pid], acceptability, marked, profile))
            made = scenarios.candidate(unit_id, text, labels, space.ids, FIELDS, points, self.settings.k_anonymity)
            if made is not None:
                found.append(made)
        return {"units": len(judgements), "new_candidates": self.crowd.store_scenarios(project_id, found)}

    def delete_participant(self, participant_id: str) -> None:
        """The account and everything derived from it, in every domain (see `valueprint.store.duties`):
        rows and files are deleted, their training job is cancelled (a job that still finishes keeps
        nothing, see `personalize.jobs`), and no copy of the rows is left readable in the database's files."""
        self.accounts.delete(participant_id)  # deletes their job's record too: a running job stops
        self.personalizer.jobs.cancel(self.personalizer.job_id("person", participant_id))  # a queued one never starts
        self.db.scrub([*participant_tables(Base.metadata), Participant.__tablename__])

    def answer(self, answering: Callable[[], str], item_id: str, value: object) -> NextQuestion:
        """Store one answer and say what comes next, with `answering()` (who is answering: a session
        look-up) in the same unit of work: one transaction for the busiest request there is."""
        with self.db.session():
            return self.accounts.record_answer(answering(), item_id, value)

    def issue_token(self, participant_id: str) -> IssuedToken:
        """Store the person's current profile and issue a token carrying it and their own custom
        instructions (one unit of work); earlier tokens are revoked."""
        with self.db.session():
            profile = self.accounts.save_profile(participant_id)
            return self.registry.issue(participant_id, profile, self.accounts.instructions(participant_id))

    def ensure_token(self, participant_id: str) -> None:
        """Issue a first token; never silently replace one the person may already have handed out."""
        with self.db.session():
            if self.registry.current_token(participant_id) is None:
                self.issue_token(participant_id)

    def quick_token(self, participant_id: str, seen: int) -> bool:
        """The quick path: when the `quick_token_after`-th question was answered or skipped, issue a
        first token (if there is none) from the profile so far; True when it was issued now. Every
        questionnaire passes that count once (one question at a time), so no other answer pays for this."""
        if seen != self.settings.quick_token_after:
            return False
        with self.db.session():
            if self.registry.current_token(participant_id) is not None:
                return False
            self.issue_token(participant_id)
            return True

    def grant_consent_request(self, participant_id: str, asked: ConsentRequest) -> str:
        """Let the app read the scopes it asked for (nothing granted before is taken away) and hand it the
        person's handle, issuing a first token if there is none; the return address with the answer."""
        with self.db.session():
            granted = self.registry.grant_more(participant_id, asked.app.id, asked.scopes)
            self.ensure_token(participant_id)
            handle = self.registry.handle_of(participant_id) or ""
        return asked.answer(handle=handle, scope=" ".join(granted))

    def set_instructions_and_reissue(self, participant_id: str, text: object) -> IssuedToken:
        """The person's own wording of their précis, and a token that carries it (claim `ins`), in one unit of work."""
        with self.db.session():
            self.accounts.set_instructions(participant_id, text)
            return self.issue_token(participant_id)

    def reset_instructions_and_reissue(self, participant_id: str) -> IssuedToken:
        """Back to the generated précis, and a token without the person's text, in one unit of work."""
        with self.db.session():
            self.accounts.reset_instructions(participant_id)
            return self.issue_token(participant_id)

    def train_adapter(self, participant_id: str) -> dict[str, Any]:
        """Start training the person's adapter in the background; their own choices count most: scenario
        answers, decided blind picks (the reply they picked over the other) and their annotations (the unit
        they judged more acceptable over another of the same document)."""
        from valueprint.personalize.preferences import own_scenario_options

        profile = self.accounts.profile(participant_id)
        own = own_scenario_options(self.accounts.answers(participant_id), self.model.bank)
        own += self.picks.preference_pairs(participant_id)
        own += self.annotate.preference_pairs(participant_id)
        request = self.personalizer.training_request("person", participant_id, profile, own)
        return self.personalizer.jobs.submit(request)

    def prelabeller(self) -> Any:
        """The pre-labeller serving Label Studio (the shared evaluator through the shipped calibration, loaded
        on first use), or the one installed in `annotate_prelabeller`."""
        if self.annotate_prelabeller is None:
            from valueprint.annotate.prelabel import EvaluatorPrelabeller
            from valueprint.evaluate.evaluator import shared_evaluator

            self.annotate_prelabeller = EvaluatorPrelabeller(shared_evaluator(self.settings))
        return self.annotate_prelabeller

    def start_import(self, project_id: str, import_id: str, batch: int = IMPORT_BATCH) -> dict[str, Any]:
        """Run a staged import (`Annotate.stage_*`) as a job; in-process it uses the annotation service's
        sanitiser (loaded once per server), on Dask each worker loads its own."""
        return self.annotate_jobs.import_(project_id, import_id, batch, self.annotate.sanitiser)

    def resume_import(self, job_id: str) -> dict[str, Any]:
        """Carry on with an import whose process died (see `AnnotateJobs.resume`)."""
        return self.annotate_jobs.resume(job_id, self.annotate.sanitiser)

    def recover_jobs(self) -> dict[str, list[str]]:
        """Background jobs whose process died (no sign of life for `job_lease_s`, see `valueprint.jobs`): imports
        are resumed here with the annotation service's sanitiser; pre-label jobs, exports and adapter training
        are marked failed ("the server restarted while this job ran; start it again"). The web app calls this at
        startup and every lease/4 seconds after; side effects: job rows written, imports submitted. The ids of
        the jobs resumed and failed (an import given up after three automatic resumes is among the failed)."""
        lease = self.settings.job_lease_s
        annotation = self.annotate_jobs.recover(lease, self.annotate.sanitiser)
        failed = annotation["failed"] + self.personalizer.jobs.fail_abandoned(lease)
        if annotation["resumed"] or failed:
            log.warning("abandoned jobs: resumed %s, failed %s", annotation["resumed"], failed)
        return {"resumed": annotation["resumed"], "failed": failed}

    def annotator_profile(self, participant_id: str) -> str:
        """The person's current value profile (JSON), stored with every label they give; ForbiddenError until
        they have answered enough of the questionnaire for a first token (`quick_token_after` questions)."""
        profile = self.accounts.profile(participant_id)
        if profile.answered < self.settings.quick_token_after:
            raise ForbiddenError(
                f"answer at least {self.settings.quick_token_after} questions of the value questionnaire first: "
                "every label records its annotator's own values"
            )
        return profile.to_json()

    def annotate_unit(self, project_id: str, unit_id: int, participant_id: str, labels: dict[str, Any] | None) -> None:
        """Store the person's labels for a unit they hold (None: a skip) with a snapshot of their value profile."""
        profile_json = self.annotator_profile(participant_id)
        self.annotate.annotate(project_id, unit_id, participant_id, profile_json, labels)

    def consult_moral_graph(self, view: dict[str, Any] | None, prompt: str) -> Consultation | None:
        """What the moral graph says about a chat prompt's context, for a person read through `view` (None: no
        token). Their own cards count only as far as the view shares them (scope `wisdom`)."""
        own = {int(card["context_id"]) for card in (view or {}).get("wisdom", [])}
        return self.moralgraph.consult(prompt, own)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        settings.check_safe()
        require_covered()  # every table of participant data is exported and deleted, or the server does not start
        db = shared_database(settings.resolved_database_url, settings.db_pool_size)
        migrate(db.engine)
        model = with_crowd_scenarios(default_model(), db)
        keys = KeyStore(settings.keys_dir)
        keys.ensure_signing_key()
        sealer = Sealer(data_key(settings))
        accounts = Accounts(
            db,
            model,
            sealer,
            data_dir=settings.data_dir,
            stop_sd=settings.stop_sd,
            sign_ups_per_minute=settings.sign_ups_per_minute,
            session_idle=timedelta(hours=settings.session_idle_hours),
            session_lifetime=timedelta(days=settings.session_max_days),
        )
        personalizer = Personalizer(settings, model.space, db)
        registry = Registry(db, model.space, keys, settings, sealer)
        registry.seal_plain_tokens()  # rows from before tokens were sealed (migration 0003)
        moralgraph = MoralGraph(db, settings)
        moralgraph.seed()
        registry.wisdom = moralgraph.wisdom  # a person's cards, for reads within the `wisdom` scope
        return cls(
            settings=settings,
            db=db,
            model=model,
            accounts=accounts,
            registry=registry,
            personalizer=personalizer,
            picks=BlindPicks(
                db,
                sealer,
                personalizer,
                accounts.profile,
                settings.try_strategies,
                instructions_of=accounts.instructions,
                max_tokens=min(settings.chat_max_tokens, PICK_MAX_TOKENS),
            ),
            annotate=Annotate(db, model.space, sealer, timedelta(seconds=settings.annotate_reservation_s)),
            annotate_jobs=AnnotateJobs(
                settings.data_dir / "annotate" / "exports",
                settings.resolved_database_url,
                settings.dask_scheduler,
                settings.evaluator_dir,
                settings.evaluator_precision,
                sealer=sealer,
                lease_s=settings.job_lease_s,
            ),
            moralgraph=moralgraph,
        )
