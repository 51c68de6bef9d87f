"""Alembic environment: kiosk passes its engine in `config.attributes["engine"]`."""

from alembic import context

import kiosk.all_models  # noqa: F401  (fills the metadata)
from kiosk.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch alter copies a table and drops the old one, which rows of other tables still
        # point at: SQLite checks foreign keys only after the migration (below), and a pragma
        # is ignored inside a transaction, so it goes to the driver before the first BEGIN.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    connection.commit()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
