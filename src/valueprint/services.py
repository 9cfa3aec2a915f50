"""The services of a running valueprint, built once from the settings, and the operations that span domains.

The web app, the CLI and the benchmarks all start here (`Services.build`); the web layer
only adds HTTP on top. An operation that needs two domains (issuing a token for the
current profile, training a person's adapter from their answers) lives here, so no
domain imports another's service and no entry point re-assembles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from valueprint.accounts.service import Accounts, require_covered
from valueprint.annotate.jobs import IMPORT_BATCH, AnnotateJobs
from valueprint.annotate.service import Annotate
from valueprint.errors import ForbiddenError
from valueprint.personalize.picks import PICK_MAX_TOKENS, BlindPicks
from valueprint.personalize.service import Personalizer
from valueprint.registry.consent_request import ConsentRequest
from valueprint.registry.service import Registry
from valueprint.settings import Settings
from valueprint.store.crypto import Sealer
from valueprint.store.db import Database, migrate
from valueprint.store.duties import participant_tables
from valueprint.store.models import Base, Participant
from valueprint.store.secret_files import data_key
from valueprint.tokens.jws import IssuedToken
from valueprint.tokens.keys import KeyStore
from valueprint.values.model import default_model
from valueprint.values.scoring import ScoringModel


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
    annotate_embedder: Any = None  # embeds texts for prompt-driven selection; None: the evaluator's MiniLM
    annotate_prelabeller: Any = None  # suggests labels for the Label Studio backend; None: the evaluator's

    def delete_participant(self, participant_id: str) -> None:
        """The account and everything derived from it, in every domain (see `valueprint.store.duties`):
        rows and files are deleted, their training job is cancelled (a job that still finishes keeps
        nothing, see `personalize.jobs`), and no copy of the rows is left readable in the database's files."""
        self.accounts.delete(participant_id)  # removes their job's status file: a running job stops
        self.personalizer.jobs.cancel(self.personalizer.job_id("person", participant_id))  # a queued one never starts
        self.db.scrub([*participant_tables(Base.metadata), Participant.__tablename__])

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
        answers and decided blind picks (the reply they picked over the other)."""
        from valueprint.personalize.preferences import own_scenario_options

        profile = self.accounts.profile(participant_id)
        own = own_scenario_options(self.accounts.answers(participant_id), self.model.bank)
        own += self.picks.preference_pairs(participant_id)
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

    @classmethod
    def build(cls, settings: Settings) -> Services:
        settings.check_safe()
        require_covered()  # every table of participant data is exported and deleted, or the server does not start
        db = Database(settings.resolved_database_url)
        migrate(db.engine)
        model = default_model()
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
        personalizer = Personalizer(settings, model.space)
        registry = Registry(db, model.space, keys, settings, sealer)
        registry.seal_plain_tokens()  # rows from before tokens were sealed (migration 0003)
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
                settings.data_dir / "annotate" / "jobs",
                settings.resolved_database_url,
                settings.dask_scheduler,
                settings.evaluator_dir,
                settings.evaluator_precision,
                sealer=sealer,
            ),
        )
