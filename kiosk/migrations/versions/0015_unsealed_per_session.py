"""sessions (场次) in the results: each session's two unsealed layers are its own

A layer opened at the unsealing ceremony belongs to the session whose draw it opened (its
round's session): the rows already there are the implicit session's, so nothing changes for an
existing instance. The table is small (two rows at most before this), so it is rebuilt.

Revision ID: 0015_unsealed_per_session
Revises: 0014_session_draw
"""

import sqlalchemy as sa
from alembic import op

import kiosk.db

revision = '0015_unsealed_per_session'
down_revision = '0014_session_draw'
branch_labels = None
depends_on = None


def _old(*extra: sa.ColumnClause) -> sa.TableClause:
    """The rows as stored, read with their types (the opening times are UTC datetimes)."""
    return sa.table('unsealed_stage', sa.column('stage', sa.Integer()),
                    sa.column('round_id', sa.Integer()), sa.column('sealed_sha256', sa.String()),
                    sa.column('verified', sa.Boolean()), sa.column('problems', sa.Text()),
                    sa.column('opened_by', sa.String()), sa.column('supervisor', sa.String()),
                    sa.column('opened_at', kiosk.db.UTCDateTime()), *extra)


def _rows(query) -> list[dict]:
    return [dict(row._mapping) for row in op.get_bind().execute(query)]


def _common_columns() -> list[sa.Column]:
    return [
        sa.Column('stage', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('sealed_sha256', sa.String(length=64), nullable=False),
        sa.Column('verified', sa.Boolean(), nullable=False),
        sa.Column('problems', sa.Text(), nullable=False),
        sa.Column('opened_by', sa.String(length=64), nullable=False),
        sa.Column('supervisor', sa.String(length=64), nullable=False),
        sa.Column('opened_at', kiosk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['draw_round.id'],
                                name=op.f('fk_unsealed_stage_round_id_draw_round')),
    ]


def upgrade() -> None:
    old = _old()
    rounds = sa.table('draw_round', sa.column('id', sa.Integer()),
                      sa.column('exam_session_id', sa.Integer()))
    kept = _rows(sa.select(*old.c, rounds.c.exam_session_id)
                 .join_from(old, rounds, rounds.c.id == old.c.round_id))
    op.drop_table('unsealed_stage')
    table = op.create_table(
        'unsealed_stage',
        sa.Column('id', sa.Integer(), nullable=False),
        *_common_columns(),
        sa.Column('exam_session_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['exam_session_id'], ['exam_session.id'],
                                name=op.f('fk_unsealed_stage_exam_session_id_exam_session')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unsealed_stage')),
        sa.UniqueConstraint('exam_session_id', 'stage',
                            name=op.f('uq_unsealed_stage_exam_session_id')),
    )
    with op.batch_alter_table('unsealed_stage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unsealed_stage_exam_session_id'),
                              ['exam_session_id'], unique=False)
    if kept:
        op.bulk_insert(table, kept)


def downgrade() -> None:
    # Only the first session's layers fit the old table (one row per stage).
    old = _old(sa.column('exam_session_id', sa.Integer()))
    first = sa.text("(SELECT id FROM exam_session ORDER BY position LIMIT 1)")
    kept = [{k: v for k, v in row.items() if k != 'exam_session_id'} for row in _rows(
        sa.select(*old.c).where(old.c.exam_session_id == sa.literal_column(first.text)))]
    op.drop_table('unsealed_stage')
    table = op.create_table(
        'unsealed_stage', *_common_columns(),
        sa.PrimaryKeyConstraint('stage', name=op.f('pk_unsealed_stage')))
    if kept:
        op.bulk_insert(table, kept)
