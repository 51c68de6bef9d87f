"""the day's timetable: parts of any key, hand-ins and task books per part

The phase table no longer limits its names to theory and practical: a part's key names its
clock. An instance with no timetable part keeps the default day (theory, then practical, their
lengths from config.toml), so nothing changes for it; its hand-ins are the practical part's.

Revision ID: 0011_timetable
Revises: 0010_draw_result_shown
Create Date: 2026-12-02 17:01:39.948373
"""

from alembic import op
import sqlalchemy as sa
import kiosk.db


revision = '0011_timetable'
down_revision = '0010_draw_result_shown'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('part', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', kiosk.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material')),
    sa.UniqueConstraint('part', 'filename', name=op.f('uq_material_part'))
    )
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_part'), ['part'], unique=False)

    op.create_table('timetable_part',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('hand_in', sa.Boolean(), nullable=False),
    sa.Column('reading_minutes', sa.Float(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', kiosk.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('theory', 'practical')", name=op.f('ck_timetable_part_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timetable_part')),
    sa.UniqueConstraint('key', name=op.f('uq_timetable_part_key')),
    sa.UniqueConstraint('position', name=op.f('uq_timetable_part_position'))
    )
    op.create_table('material_fetch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('at', kiosk.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_material_fetch_material_id_material')),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], name=op.f('fk_material_fetch_station_id_station')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_fetch'))
    )
    with op.batch_alter_table('material_fetch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_material_fetch_material_id'), ['material_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_material_fetch_station_id'), ['station_id'], unique=False)

    with op.batch_alter_table('phase', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_phase_name'), type_='check')

    with op.batch_alter_table('hand_in', schema=None) as batch_op:
        # Every hand-in so far was the practical exam's.
        batch_op.add_column(sa.Column('part', sa.String(length=16), nullable=False,
                                      server_default='practical'))
        batch_op.drop_constraint(batch_op.f('uq_hand_in_station_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_hand_in_station_id'), ['station_id', 'part', 'version'])
        batch_op.create_index(batch_op.f('ix_hand_in_part'), ['part'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hand_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hand_in_part'))
        batch_op.drop_constraint(batch_op.f('uq_hand_in_station_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_hand_in_station_id'), ['station_id', 'version'])
        batch_op.drop_column('part')

    with op.batch_alter_table('phase', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_phase_name'), "name IN ('theory', 'practical')")

    with op.batch_alter_table('material_fetch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_fetch_station_id'))
        batch_op.drop_index(batch_op.f('ix_material_fetch_material_id'))

    op.drop_table('material_fetch')
    op.drop_table('timetable_part')
    with op.batch_alter_table('material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_part'))

    op.drop_table('material')
