"""the paper fallback: stations switched to their printed paper, their answer sheets typed twice

`paper_station`: a station the chief judge switched to paper (its online saves are refused from
then on). `sheet_entry`: each judge's reading of each question of its answer sheet (entry 1 or 2).
`sheet_resolution`: the chief judge's reading where the two differ. New tables only: nothing of an
existing instance changes.

Revision ID: 0017_paper_fallback
Revises: 0015_unsealed_per_session
"""

import sqlalchemy as sa
from alembic import op

import kiosk.db

revision = '0017_paper_fallback'
down_revision = '0016_hall_layout'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'paper_station',
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('online_answers', sa.Integer(), nullable=False),
        sa.Column('switched_by', sa.String(length=64), nullable=False),
        sa.Column('switched_at', kiosk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['station_id'], ['station.id'],
                                name=op.f('fk_paper_station_station_id_station')),
        sa.PrimaryKeyConstraint('station_id', name=op.f('pk_paper_station')),
    )
    op.create_table(
        'sheet_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('entry', sa.Integer(), nullable=False),
        sa.Column('mark', sa.String(length=1), nullable=False),
        sa.Column('entered_by', sa.String(length=64), nullable=False),
        sa.Column('entered_at', kiosk.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint('entry IN (1, 2)', name=op.f('ck_sheet_entry_entry')),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'],
                                name=op.f('fk_sheet_entry_question_id_question')),
        sa.ForeignKeyConstraint(['station_id'], ['station.id'],
                                name=op.f('fk_sheet_entry_station_id_station')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sheet_entry')),
        sa.UniqueConstraint('station_id', 'question_id', 'entry',
                            name=op.f('uq_sheet_entry_station_id')),
    )
    with op.batch_alter_table('sheet_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sheet_entry_station_id'), ['station_id'],
                              unique=False)
    op.create_table(
        'sheet_resolution',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('station_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('mark', sa.String(length=1), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('resolved_by', sa.String(length=64), nullable=False),
        sa.Column('resolved_at', kiosk.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'],
                                name=op.f('fk_sheet_resolution_question_id_question')),
        sa.ForeignKeyConstraint(['station_id'], ['station.id'],
                                name=op.f('fk_sheet_resolution_station_id_station')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sheet_resolution')),
        sa.UniqueConstraint('station_id', 'question_id',
                            name=op.f('uq_sheet_resolution_station_id')),
    )


def downgrade() -> None:
    op.drop_table('sheet_resolution')
    with op.batch_alter_table('sheet_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sheet_entry_station_id'))
    op.drop_table('sheet_entry')
    op.drop_table('paper_station')
