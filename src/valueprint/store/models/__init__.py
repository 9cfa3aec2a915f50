"""The database schema, one module per domain, all on one declarative `Base`.

Value data and personal data live in separate tables, joined only by the pseudonymous
participant id; personal data is stored encrypted. A new domain adds its module here and
re-exports its tables below, so that Alembic (which reads `Base.metadata`) sees them.
Every table with a `participant_id` column must also be covered by a data duty
(`valueprint.data_duties`): a test fails otherwise.
"""

from valueprint.store.models.accounts import (
    Answer,
    CustomInstructions,
    Participant,
    PersonalData,
    Profile,
    SessionRecord,
)
from valueprint.store.models.annotate import (
    Annotation,
    AnnotationDocument,
    AnnotationFlag,
    AnnotationPrelabel,
    AnnotationProject,
    AnnotationReservation,
    AnnotationUnit,
)
from valueprint.store.models.annotate_import import (
    AnnotationImport,
    AnnotationImportDocument,
    AnnotationImportUnit,
)
from valueprint.store.models.annotate_quality import (
    Adjudication,
    AnnotationGold,
    AnnotationReturn,
    AnnotatorPause,
    KarmaEvent,
    ScenarioCandidate,
)
from valueprint.store.models.base import Base, UTCDateTime, now
from valueprint.store.models.jobs import JobStatusRecord
from valueprint.store.models.limits import RateCounter
from valueprint.store.models.moralgraph import (
    CanonicalCard,
    CardMerge,
    ContextDismissal,
    MoralContext,
    RepresentationAnswer,
    Transition,
    TransitionStory,
    ValuesCard,
    WiserVote,
)
from valueprint.store.models.personalize import BlindPick
from valueprint.store.models.registry import App, AuditEntry, Consent, IssuedTokenRecord

__all__ = [
    "Adjudication",
    "Annotation",
    "AnnotationDocument",
    "AnnotationFlag",
    "AnnotationGold",
    "AnnotationImport",
    "AnnotationImportDocument",
    "AnnotationImportUnit",
    "AnnotationPrelabel",
    "AnnotationProject",
    "AnnotationReservation",
    "AnnotationReturn",
    "AnnotationUnit",
    "AnnotatorPause",
    "Answer",
    "App",
    "AuditEntry",
    "Base",
    "BlindPick",
    "CanonicalCard",
    "CardMerge",
    "Consent",
    "ContextDismissal",
    "CustomInstructions",
    "IssuedTokenRecord",
    "JobStatusRecord",
    "KarmaEvent",
    "MoralContext",
    "Participant",
    "PersonalData",
    "Profile",
    "RateCounter",
    "RepresentationAnswer",
    "ScenarioCandidate",
    "SessionRecord",
    "Transition",
    "TransitionStory",
    "UTCDateTime",
    "ValuesCard",
    "WiserVote",
    "now",
]
