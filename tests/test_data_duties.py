"""Export and deletion reach every table of participant data, because every domain registers its data duties.

The guard for the next domain: a table with a `participant_id` column that no duty exports
and deletes is named by `uncovered`, fails the first test below, refuses export and deletion,
and stops the server from starting.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

import valueprint.services  # noqa: F401  (imports every domain, as the app does)
from tests.test_blind_picks import ScriptedPersonalizer
from valueprint.errors import ConfigError
from valueprint.store import duties
from valueprint.store.duties import DataDuty, participant_tables, uncovered
from valueprint.store.models import Base

ALL_SCOPES = ["schwartz", "moral", "politics", "behaviour", "boundaries"]


def copy_of_the_schema() -> MetaData:
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    return metadata


def future_table(metadata: MetaData) -> Table:
    """A table a future domain might add."""
    return Table(
        "future_table",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("participant_id", String(32)),
        Column("choice", String(8)),
    )


def test_every_table_with_a_participant_column_is_exported_and_deleted() -> None:
    assert uncovered(Base.metadata) == {}
    assert "answers" in participant_tables(Base.metadata) and "audit_log" in participant_tables(Base.metadata)


def test_a_new_participant_table_without_a_duty_is_named_for_export_and_delete() -> None:
    metadata = copy_of_the_schema()
    future_table(metadata)
    assert uncovered(metadata) == {"export": ["future_table"], "delete": ["future_table"]}


def test_registering_a_duty_covers_the_new_table() -> None:
    metadata = copy_of_the_schema()
    table = future_table(metadata)
    duty = DataDuty("future_table", tables=(table,), export=lambda context: [])
    assert uncovered(metadata, [*duties.duties(), duty]) == {}
    assert uncovered(metadata, [*duties.duties(), DataDuty("future_table", tables=(table,))]) == {
        "export": ["future_table"]
    }


def test_a_duty_table_needs_a_participant_column() -> None:
    table = Table("notes", MetaData(), Column("id", Integer, primary_key=True))
    with pytest.raises(ValueError, match="participant_id"):
        duties.register(DataDuty("notes", tables=(table,), export=lambda context: []))


def person_with_data_everywhere(client, services) -> tuple[str, dict]:
    """A participant with rows in every participant table: answers, profile, personal data,
    a token, a consent and an app's read in the audit log."""
    participant_id = client.participant["participant_id"]
    step = client.get("/v1/questionnaire/next").json()
    client.put(f"/v1/answers/{step['item']['id']}", json={"value": None})
    client.put("/v1/me/demographics", json={"demographics": {"country": "Peru"}, "contact": "p@example.org"})
    assert client.put("/v1/me/instructions", json={"text": "Be blunt with me."}).status_code == 200
    token = client.post("/v1/me/token").json()
    app = services.registry.register_app("Reader", ALL_SCOPES)
    client.put(f"/v1/me/consents/{app.id}", json={"scopes": ["moral"]})
    client.get(f"/v1/tokens/{token['handle']}", headers={"Authorization": f"Bearer {app.api_key}"})
    services.picks.personalizer = ScriptedPersonalizer()  # a blind pick, through its API (no model needed)
    pick = client.post("/v1/me/picks", json={"prompt": "Should I lend my brother money?"}).json()
    client.post(f"/v1/me/picks/{pick['pick_id']}", json={"choice": "A"})
    annotate_everything(services, participant_id)
    moral_graph_everything(services, participant_id)
    adapter_job_of(services, participant_id)
    return participant_id, token


def adapter_job_of(services, participant_id: str) -> None:
    """A finished training job of the person's (a trainer that writes nothing: its record is what counts)."""
    from valueprint.personalize.jobs import Jobs, TrainingRequest

    jobs = services.personalizer.jobs = Jobs(services.db, train=lambda request, progress: {"train_seconds": 0.0})
    out = services.personalizer.adapters.person(participant_id)
    jobs.submit(TrainingRequest(participant_id, "person", participant_id, "{}", str(out), "", ""))
    assert jobs.wait(participant_id, timeout=30)["state"] == "done"


def annotate_everything(services, participant_id: str) -> None:
    """An annotation, a flag and a live reservation of the person's (the domain's own calls, test sanitiser)."""
    from tests.annotate_factories import LABELS, Clock, annotate_for, posts, project
    from valueprint.annotate.readers import Fields

    annotate = annotate_for(services, Clock())
    pid = project(annotate)
    annotate.import_items(pid, posts(["A first post.", "A second one here.", "And a third, different."]), Fields(), "t")
    first = annotate.next_unit(pid, participant_id).unit_id
    annotate.annotate(pid, first, participant_id, services.accounts.profile(participant_id).to_json(), LABELS)
    annotate.flag(pid, annotate.next_unit(pid, participant_id).unit_id, participant_id, "a name")
    annotate.next_unit(pid, participant_id)
    quality_everything(services, participant_id, first)


def quality_everything(services, participant_id: str, unit_id: int) -> None:
    """Karma events and a pause (labelling gold units wrongly), a review given and an annotation returned."""
    from tests.test_annotate_gold import label_gold_wrongly
    from valueprint.annotate.gold import MIN_GOLD
    from valueprint.store.models import Adjudication, AnnotationReturn

    gold_project = services.annotate.create_project(None, {"name": "gold only", "gold_share": 0.5}).id
    services.crowd.add_gold(gold_project, "moral_stories", limit=MIN_GOLD)
    label_gold_wrongly(services, gold_project, participant_id, MIN_GOLD)
    with services.db.session() as session:
        session.add(Adjudication(unit_id=unit_id, participant_id=participant_id, acceptability=1, comment="c"))
        session.add(AnnotationReturn(unit_id=unit_id, participant_id=participant_id, comment="c", original={}))


def moral_graph_everything(services, participant_id: str) -> None:
    """A values card, a story, a vote and a "did this represent you?" answer of the person's."""
    from valueprint.store.models import (
        CanonicalCard,
        MoralContext,
        RepresentationAnswer,
        Transition,
        TransitionStory,
        ValuesCard,
        WiserVote,
    )

    policies = ["MOMENTS when they want to talk", "CHANCES to listen", "WAYS to stay near"]
    with services.db.session() as session:
        context = MoralContext(text="when a test person is grieving", source="participant", proposed_by=participant_id)
        session.add(context)
        session.flush()
        a = CanonicalCard(context_id=context.id, title="Presence", description="Being there.", policies=policies)
        b = CanonicalCard(context_id=context.id, title="Advice", description="Fixing it.", policies=policies)
        session.add_all([a, b])
        session.flush()
        card = ValuesCard(
            participant_id=participant_id,
            context_id=context.id,
            canonical_id=a.id,
            title=a.title,
            description=a.description,
            policies=policies,
        )
        transition = Transition(context_id=context.id, from_id=b.id, to_id=a.id)
        session.add_all([card, transition])
        session.flush()
        a.source_card_id = card.id
        session.add(TransitionStory(transition_id=transition.id, participant_id=participant_id, text="A story."))
        session.add(
            WiserVote(
                participant_id=participant_id,
                context_id=context.id,
                transition_id=transition.id,
                from_id=b.id,
                to_id=a.id,
                low_id=min(a.id, b.id),
                high_id=max(a.id, b.id),
                answer="yes",
            )
        )
        session.add(
            RepresentationAnswer(
                participant_id=participant_id, context_id=context.id, winner_title="Presence", answer="yes"
            )
        )


def rows_of(services, participant_id: str) -> dict[str, int]:
    with services.db.session() as session:
        return {
            name: session.scalar(
                select(func.count()).select_from(table).where(table.c.participant_id == participant_id)
            )
            for name, table in Base.metadata.tables.items()
            if name in participant_tables(Base.metadata)
        }


def test_export_holds_a_section_for_every_duty(participant_client, services) -> None:
    participant_id, _ = person_with_data_everywhere(participant_client, services)
    assert all(count > 0 for count in rows_of(services, participant_id).values()), rows_of(services, participant_id)
    exported = participant_client.get("/v1/me/export").json()
    sections = [duty.name for duty in duties.duties() if duty.export is not None]
    assert set(exported) == {"format", "participant", *sections}
    assert all(exported[name] for name in sections), exported
    assert exported["blind_picks"][0]["prompt"] == "Should I lend my brother money?"
    assert exported["blind_picks"][0]["choice"] in ("personal", "plain")


def test_deleting_a_person_leaves_no_row_in_any_participant_table_and_no_adapter(participant_client, services):
    participant_id, _ = person_with_data_everywhere(participant_client, services)
    folder = services.personalizer.adapters.person(participant_id)
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    assert participant_client.delete("/v1/me").status_code == 204
    assert set(rows_of(services, participant_id).values()) == {0}
    assert not folder.exists()


def test_export_and_deletion_are_refused_while_a_table_has_no_duty(participant_client, services, monkeypatch):
    participant_id, _ = person_with_data_everywhere(participant_client, services)
    monkeypatch.delitem(duties._DUTIES, "reads")
    with pytest.raises(ConfigError, match="audit_log"):
        services.accounts.delete(participant_id)
    with pytest.raises(ConfigError, match="audit_log"):
        services.accounts.export(participant_id)
    assert rows_of(services, participant_id)["answers"] == 1, "nothing was deleted"
