"""The moral graph's tables: migration 0007 builds exactly what the models declare, and one person has one
vote per pair of cards."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from valueprint.store.db import make_engine, migrate
from valueprint.store.models import Base, CanonicalCard, MoralContext, Transition, WiserVote


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from valueprint.store.db import _alembic_config

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_migration_0007_creates_the_tables_the_models_declare(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in differences if "moralgraph" in repr(d)]
    assert ours == []
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_one_person_has_one_vote_per_pair_whichever_way_it_was_shown(services) -> None:
    person = services.accounts.create().id
    with pytest.raises(IntegrityError), services.db.session() as session:
        context = MoralContext(text="when testing votes", source="curated")
        session.add(context)
        session.flush()
        a, b = (CanonicalCard(context_id=context.id, title=t, description="d", policies=[]) for t in "ab")
        session.add_all([a, b])
        session.flush()
        there, back = Transition(context_id=context.id, from_id=a.id, to_id=b.id), None
        back = Transition(context_id=context.id, from_id=b.id, to_id=a.id)
        session.add_all([there, back])
        session.flush()
        for t in (there, back):
            low, high = sorted((t.from_id, t.to_id))
            session.add(
                WiserVote(
                    participant_id=person,
                    context_id=context.id,
                    transition_id=t.id,
                    from_id=t.from_id,
                    to_id=t.to_id,
                    low_id=low,
                    high_id=high,
                    answer="yes",
                )
            )
        session.flush()


def test_the_moral_graph_runs_on_postgresql_and_a_deletion_reaches_it(pg_cluster, tmp_path) -> None:
    import secrets

    from tests.moralgraph_factories import four_values, grief_context, judge_all, person, stories_upward, words
    from valueprint.services import Services
    from valueprint.settings import Settings

    url = pg_cluster.create_database("vp_" + secrets.token_hex(6))
    services = Services.build(Settings(data_dir=tmp_path / "pg", environment="test", database_url=url))
    services.moralgraph.embedder = words
    context = grief_context(services)
    ids = four_values(services, context)
    order = [ids["Practical advice"], ids["Honouring the rites"], ids["Shared laughter"], ids["Being there"]]
    stories_upward(services, order)
    voters = [person(services) for _ in range(3)]
    for voter in voters:
        judge_all(services, voter, context, order)
    assert services.moralgraph.graph(context).winner.title == "Being there"
    services.delete_participant(voters[0])
    with services.db.session() as session:
        assert session.scalars(select(WiserVote).where(WiserVote.participant_id == voters[0])).all() == []
    assert services.moralgraph.graph(context).votes == 12
