"""Alembic's entry script: run the migrations on the connection `assistant.migrations.upgrade` hands in."""

from alembic import context

from assistant.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Expected a connection from assistant.migrations.upgrade(); run `kb db upgrade` instead of `alembic`."
    )
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
