"""Alembic environment: kiosk passes its engine in `config.attributes["engine"]`."""

from alembic import context

import kiosk.all_models  # noqa: F401  (fills the metadata)
from kiosk.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
