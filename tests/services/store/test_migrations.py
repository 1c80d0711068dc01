from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from bot import db
from bot.models import Base


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    db.migrate(url)
    db.migrate(url)  # already at head: a no-op
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    config.attributes["url"] = url
    command.downgrade(config, "base")
    engine = db.make_engine(url)
    try:
        assert inspect(engine).get_table_names() == ["alembic_version"]
        db.migrate(url)
        assert set(inspect(engine).get_table_names()) == {
            "alembic_version",
            *Base.metadata.tables,
        }
    finally:
        engine.dispose()
