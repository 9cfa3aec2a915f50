"""The admin dashboard's statistics, computed from the database in a few queries and one pass.

Who is counted: participants with the role ``participant`` (admins trying the
questionnaire are left out). Everything below is about them.

- **Participants**: accounts. **Completions**: accounts whose ``completed_at`` is set
  (the adaptive questionnaire reached its stopping rule). **Completion rate**:
  completions / participants. **Median completion time**: the median of
  ``completed_at - created_at`` over completions, in seconds.
- **Answers**: stored answer rows, of which **skipped** have no value. **Active in the
  last hour**: participants with an answer stored in the last hour.
- **Drop-off by question**: for participants who have not completed, the number of
  answers (skips included) they gave before stopping: position 0 left before the first
  answer, position *n* stopped after the *n*-th. ``reached`` is how many participants
  (completed or not) gave at least *n* answers, so ``stopped / reached`` is the drop-off
  rate at that position. ``last_items`` are the items most often answered last by
  those who stopped. Participants still in the middle of the questionnaire count as
  stopped until they answer again.
- **Coverage by demographic group**, per demographic field, with "not given" as a
  group of its own (so the groups of a field always add up to the participants):

  1. No group of a field is shown while there are fewer than *k* participants
     (``settings.k_anonymity``, default 5): the field is ``hidden``.
  2. A group of fewer than *k* people is never named: its answer (a religion, a country)
     is merged into one unnamed "other answers" row, for choice and free-text fields alike.
     A "not given" row under *k* keeps its label (it names no answer) but not its count.
  3. Complementary suppression: the hidden rows (the pool and a hidden "not given") must not
     be computable from the total. While only one row is hidden and it is under *k*, the
     smallest shown row joins it (a value into the pool, "not given" hidden too). A pool
     that is then the only hidden row holds at least *k* people and shows its count
     (it equals the total minus the shown rows anyway); otherwise hidden rows show none.
  4. Free-text fields (country, language) are grouped case- and space-insensitively.

- **Flagged answer patterns**, as counts plus pseudonymous participant ids (never
  personal data); the thresholds are in :class:`Thresholds`:

  - *straight-lining*: at least 10 Likert answers, and at least 90% of them the same value;
  - *speeding*: at least 10 answers (not skips), with a median of under 2 seconds since
    the previous answer;
  - *contradictions*: at least 3 contradicting pairs of Likert items, a pair being two
    items with the same primary dimension, one forward- and one reverse-keyed, both
    answered agree (4-5) or both disagree (1-2).

- **App reads**, per registered app: successful reads (handle look-ups and token
  verifications), reads denied for lack of consent, and the time of the last of either.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from valueprint.accounts.roles import Role
from valueprint.accounts.service import Accounts
from valueprint.registry import audit
from valueprint.store.models import Answer, App, AuditEntry, Participant, PersonalData
from valueprint.values.bank import DemographicField, LikertItem, QuestionBank

PARTICIPANT_ROLE = Role.PARTICIPANT.value
READ_ACTIONS = tuple(action.value for action in audit.READ_ACTIONS)
DENIED_ACTION = audit.AuditAction.DENIED.value
LAST_ITEMS = 10
MAX_FLAGGED_IDS = 200

LikertKeys = dict[str, tuple[str, bool]]  # Likert item id -> (primary dimension, reverse-keyed)


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True)
    straight_min_answers: int = 10
    straight_share: float = 0.9
    speeding_min_answers: int = 10
    speeding_median_s: float = 2.0
    contradiction_min_pairs: int = 3


class GroupCount(BaseModel):
    group: str
    kind: Literal["value", "not_given", "other"] = "value"
    count: int | None = Field(description="None when suppressed.")
    suppressed: bool = False


class FieldCoverage(BaseModel):
    field: str
    label: str
    hidden: bool = Field(description="True while there are fewer than k participants.")
    groups: list[GroupCount]


class DropOffStep(BaseModel):
    position: int = Field(description="Answers given before stopping.")
    reached: int
    stopped: int


class ItemCount(BaseModel):
    item_id: str
    text: str
    count: int


class DropOff(BaseModel):
    by_position: list[DropOffStep]
    last_items: list[ItemCount]


class Flag(BaseModel):
    count: int
    participants: list[str] = Field(description=f"Pseudonymous ids, at most {MAX_FLAGGED_IDS}.")


class Flags(BaseModel):
    straight_lining: Flag
    speeding: Flag
    contradictions: Flag


class AppReads(BaseModel):
    app_id: str | None
    name: str
    reads: int
    denied: int
    last_read: datetime | None


class DashboardStats(BaseModel):
    generated_at: datetime
    k: int
    participants: int
    completions: int
    completion_rate: float | None
    median_completion_s: float | None
    answers: int
    skipped: int
    active_last_hour: int
    drop_off: DropOff
    coverage: list[FieldCoverage]
    flags: Flags
    thresholds: Thresholds
    apps: list[AppReads]


# -- one pass over the answers ------------------------------------------------------------


class Respondent:
    """What the statistics need from one participant's answers, in the order given."""

    __slots__ = ("answers", "last_item", "likert", "seconds", "skipped")

    def __init__(self) -> None:
        self.answers = self.skipped = 0
        self.last_item: str | None = None
        self.likert: dict[str, int] = {}
        self.seconds: list[float] = []

    def add(self, keys: LikertKeys, item_id: str, value: object, seconds: float | None) -> None:
        self.answers += 1
        self.last_item = item_id
        if value is None:
            self.skipped += 1
            return
        if seconds is not None:
            self.seconds.append(seconds)
        if isinstance(value, int) and item_id in keys:
            self.likert[item_id] = value


def respondents(session: Session, keys: LikertKeys) -> Iterator[tuple[str, Respondent]]:
    rows = session.connection().execute(  # Core rows: no ORM bookkeeping for 10^5-10^6 answers
        select(Answer.participant_id, Answer.item_id, Answer.value, Answer.seconds)
        .join(Participant, Participant.id == Answer.participant_id)
        .where(Participant.role == PARTICIPANT_ROLE)
        .order_by(Answer.participant_id, Answer.answered_at, Answer.id)
    )
    for participant_id, group in groupby(rows, key=lambda row: row[0]):
        respondent = Respondent()
        for _, item_id, value, seconds in group:
            respondent.add(keys, item_id, value, seconds)
        yield participant_id, respondent


# -- flags -------------------------------------------------------------------------------


def straight_lining(respondent: Respondent, keys: LikertKeys, t: Thresholds) -> bool:
    values = list(respondent.likert.values())
    if len(values) < t.straight_min_answers:
        return False
    return Counter(values).most_common(1)[0][1] >= t.straight_share * len(values)


def speeding(respondent: Respondent, keys: LikertKeys, t: Thresholds) -> bool:
    times = respondent.seconds
    return len(times) >= t.speeding_min_answers and statistics.median(times) < t.speeding_median_s


def likert_keys(bank: QuestionBank) -> LikertKeys:
    """Likert item id -> (primary dimension, reverse-keyed)."""
    return {item.id: (item.primary, item.reverse_keyed) for item in bank.items if isinstance(item, LikertItem)}


def contradicting_pairs(likert: dict[str, int], keys: LikertKeys) -> int:
    """Pairs (forward, reverse-keyed) on one primary dimension answered both agree or both disagree."""
    tally: Counter[tuple[str, bool, bool]] = Counter()
    for item_id, value in likert.items():
        if value != 3:
            primary, reverse = keys[item_id]
            tally[(primary, reverse, value > 3)] += 1
    return sum(n * tally[(primary, True, agree)] for (primary, reverse, agree), n in tally.items() if not reverse)


def contradictions(respondent: Respondent, keys: LikertKeys, t: Thresholds) -> bool:
    return contradicting_pairs(respondent.likert, keys) >= t.contradiction_min_pairs


FLAGS: dict[str, Callable[[Respondent, LikertKeys, Thresholds], bool]] = {
    "straight_lining": straight_lining,
    "speeding": speeding,
    "contradictions": contradictions,
}


def flag(ids: list[str]) -> Flag:
    return Flag(count=len(ids), participants=sorted(ids)[:MAX_FLAGGED_IDS])


# -- drop-off ------------------------------------------------------------------------------


def drop_off(
    all_counts: Sequence[int], stopped_counts: Sequence[int], last_items: Counter[str], bank: QuestionBank
) -> DropOff:
    """`all_counts`: answers per participant (everyone); `stopped_counts`: of those not completed."""
    top = max(all_counts, default=0)
    stopped = Counter(stopped_counts)
    at_least = [0] * (top + 2)
    for count, n in Counter(all_counts).items():
        at_least[count] += n
    for position in range(top, -1, -1):
        at_least[position] += at_least[position + 1]
    steps = [DropOffStep(position=p, reached=at_least[p], stopped=stopped.get(p, 0)) for p in range(top + 1)]
    items = [ItemCount(item_id=i, text=item_text(bank, i), count=n) for i, n in last_items.most_common(LAST_ITEMS)]
    return DropOff(by_position=steps, last_items=items)


def item_text(bank: QuestionBank, item_id: str) -> str:
    item = bank.get(item_id)
    if item is None:
        return "(no longer in the bank)"
    return item.text if isinstance(item, LikertItem) else item.prompt


# -- coverage --------------------------------------------------------------------------------


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def field_groups(spec: DemographicField, values: Sequence[str | None]) -> tuple[Counter[str], int]:
    """Counts per group (free text grouped case-insensitively, labelled by its commonest spelling), and not given."""
    given = [v for v in values if v is not None and v.strip()]
    not_given = sum(1 for v in values if v is None or not v.strip())
    if spec.kind == "choice":
        return Counter(given), not_given
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for value in given:
        spellings[normalise(value)][" ".join(value.split())] += 1
    return Counter({s.most_common(1)[0][0]: s.total() for s in spellings.values()}), not_given


Entry = tuple[str, Literal["value", "not_given"], int]  # (group, kind, people)


@dataclass
class Suppression:
    """Which rows of one field are shown, pooled into "other answers", or hidden ("not given")."""

    shown: list[Entry]
    pooled: list[Entry] = field(default_factory=list)
    hidden: list[Entry] = field(default_factory=list)

    def hidden_rows(self) -> int:
        return (1 if self.pooled else 0) + len(self.hidden)

    def computable_below_k(self, k: int) -> bool:
        """One hidden row alone is the total minus the shown rows: unsafe if it is a pool under k or a
        "not given" row (whose count is hidden)."""
        if self.hidden_rows() != 1:
            return False
        return sum(n for *_, n in self.pooled + self.hidden) < k or bool(self.hidden)

    def hide(self, entry: Entry) -> None:
        self.shown.remove(entry)
        (self.pooled if entry[1] == "value" else self.hidden).append(entry)


def suppress(entries: Sequence[Entry], k: int) -> Suppression:
    """Rules 2 and 3 of the module docstring; `entries` are sorted largest first."""
    result = Suppression(shown=list(entries))
    for entry in [e for e in entries if e[2] < k]:
        result.hide(entry)
    while result.computable_below_k(k) and result.shown:
        result.hide(result.shown[-1])  # the smallest shown row
    return result


def field_coverage(spec: DemographicField, values: list[str | None], k: int) -> FieldCoverage:
    if len(values) < k:
        return FieldCoverage(field=spec.id, label=spec.label, hidden=True, groups=[])
    counts, not_given = field_groups(spec, values)
    entries: list[Entry] = [(g, "value", n) for g, n in counts.items()]
    if not_given:
        entries.append(("not given", "not_given", not_given))
    entries.sort(key=lambda entry: (-entry[2], entry[1], entry[0]))
    result = suppress(entries, k)
    groups = [GroupCount(group=group, kind=kind, count=n) for group, kind, n in result.shown]
    if result.pooled:
        pool = sum(n for *_, n in result.pooled) if result.hidden_rows() == 1 else None
        groups.append(GroupCount(group="other answers", kind="other", count=pool, suppressed=pool is None))
    groups += [GroupCount(group=group, kind=kind, count=None, suppressed=True) for group, kind, _ in result.hidden]
    return FieldCoverage(field=spec.id, label=spec.label, hidden=False, groups=groups)


def demographic_values(session: Session, accounts: Accounts, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Demographics by participant id; rows are loaded in one query, then opened one by one."""
    rows = session.scalars(
        select(PersonalData)
        .join(Participant, Participant.id == PersonalData.participant_id)
        .where(Participant.role == PARTICIPANT_ROLE)
    ).all()  # now in the session's identity map, so accounts.personal() issues no further query
    present = {row.participant_id for row in rows}
    return {pid: accounts.personal(session, pid).get("demographics", {}) if pid in present else {} for pid in ids}


def coverage(session: Session, accounts: Accounts, ids: list[str], k: int) -> list[FieldCoverage]:
    demographics = demographic_values(session, accounts, ids)
    return [
        field_coverage(spec, [demographics[pid].get(spec.id) for pid in ids], k)
        for spec in accounts.model.bank.demographics
    ]


# -- app reads --------------------------------------------------------------------------------


def app_reads(session: Session) -> list[AppReads]:
    tallies: dict[str | None, dict[str, Any]] = {
        app.id: {"name": app.name, "reads": 0, "denied": 0, "last_read": None}
        for app in session.scalars(select(App).order_by(App.created_at))
    }
    rows = session.execute(
        select(AuditEntry.app_id, AuditEntry.action, func.count(), func.max(AuditEntry.at))
        .where(AuditEntry.action.in_((*READ_ACTIONS, DENIED_ACTION)))
        .group_by(AuditEntry.app_id, AuditEntry.action)
    )
    for app_id, action, count, last in rows:
        tally = tallies.setdefault(app_id, {"name": "deleted app", "reads": 0, "denied": 0, "last_read": None})
        tally["denied" if action == DENIED_ACTION else "reads"] += count
        if last is not None and (tally["last_read"] is None or last > tally["last_read"]):
            tally["last_read"] = last
    return [AppReads(app_id=app_id, **tally) for app_id, tally in tallies.items()]


# -- everything --------------------------------------------------------------------------------


@dataclass
class Scan:
    """The answers' one pass: per-participant counts, last items of those who stopped, flags."""

    counts: dict[str, int]
    last_items: Counter[str] = field(default_factory=Counter)
    flagged: dict[str, list[str]] = field(default_factory=lambda: {name: [] for name in FLAGS})
    answers: int = 0
    skipped: int = 0


def scan(session: Session, bank: QuestionBank, ids: list[str], completed: Container[str], t: Thresholds) -> Scan:
    result, keys = Scan(counts=dict.fromkeys(ids, 0)), likert_keys(bank)
    for pid, respondent in respondents(session, keys):
        result.counts[pid] = respondent.answers
        result.answers += respondent.answers
        result.skipped += respondent.skipped
        if pid not in completed and respondent.last_item is not None:
            result.last_items[respondent.last_item] += 1
        for name, test in FLAGS.items():
            if test(respondent, keys, t):
                result.flagged[name].append(pid)
    return result


def active_since(session: Session, moment: datetime) -> int:
    return session.scalar(
        select(func.count(func.distinct(Answer.participant_id)))
        .join(Participant, Participant.id == Answer.participant_id)
        .where(Participant.role == PARTICIPANT_ROLE, Answer.answered_at >= moment)
    )


def dashboard_stats(accounts: Accounts, k: int, thresholds: Thresholds | None = None) -> DashboardStats:
    """The dashboard's numbers; see the module docstring for every rule."""
    t, bank, moment = thresholds or Thresholds(), accounts.model.bank, datetime.now(UTC)
    with accounts.db.session() as session:
        people = session.execute(
            select(Participant.id, Participant.created_at, Participant.completed_at).where(
                Participant.role == PARTICIPANT_ROLE
            )
        ).all()
        ids = [pid for pid, _, _ in people]
        durations = {pid: (done - created).total_seconds() for pid, created, done in people if done is not None}
        answers = scan(session, bank, ids, durations, t)
        stopped = [n for pid, n in answers.counts.items() if pid not in durations]
        return DashboardStats(
            generated_at=moment,
            k=k,
            participants=len(ids),
            completions=len(durations),
            completion_rate=len(durations) / len(ids) if ids else None,
            median_completion_s=statistics.median(durations.values()) if durations else None,
            answers=answers.answers,
            skipped=answers.skipped,
            active_last_hour=active_since(session, moment - timedelta(hours=1)),
            drop_off=drop_off(list(answers.counts.values()), stopped, answers.last_items, bank),
            coverage=coverage(session, accounts, ids, k),
            flags=Flags(**{name: flag(pids) for name, pids in answers.flagged.items()}),
            thresholds=t,
            apps=app_reads(session),
        )
