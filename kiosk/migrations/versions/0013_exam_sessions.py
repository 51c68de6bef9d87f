"""sessions (场次): the event's sessions, and every table of one session's day filed under one

An existing instance becomes one implicit session (id 1, code ""): every row of its day is
that session's, so nothing changes for it. A station is one row per session from now on (its
code unique within the session), and so are the timetable's parts and their clocks.

Revision ID: 0013_exam_sessions
Revises: 0012_score_tasks
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import kiosk.db


revision = '0013_exam_sessions'
down_revision = '0012_score_tasks'
branch_labels = None
depends_on = None

# table → its unique constraints that become unique within a session (name, columns).
PER_SESSION = {
    'station': [('uq_station_code', ['code'])],
    'timetable_part': [('uq_timetable_part_position', ['position']),
                       ('uq_timetable_part_key', ['key'])],
    'phase': [('uq_phase_name', ['name'])],
    'draw_round': [],
    'contestant': [],
    'contestant_number': [],
    'material': [('uq_material_part', ['part', 'filename'])],
    'announcement': [],
    'incident': [],
}


def upgrade() -> None:
    exam_session = op.create_table('exam_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('created_at', kiosk.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_session')),
    sa.UniqueConstraint('code', name=op.f('uq_exam_session_code')),
    sa.UniqueConstraint('position', name=op.f('uq_exam_session_position'))
    )
    # Its id is the first of the table's own sequence (1): PostgreSQL's serial stays in step.
    op.bulk_insert(exam_session, [{
        'position': 1, 'code': '', 'name': '', 'groups': [], 'capacity': None,
        'created_at': datetime.now(timezone.utc), 'created_by': 'migration'}])

    for table, uniques in PER_SESSION.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            # A contestant awaits the session draw with none (an event of several sessions).
            batch_op.add_column(sa.Column('exam_session_id', sa.Integer(),
                                          nullable=table == 'contestant', server_default='1'))
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_exam_session_id_exam_session'), 'exam_session',
                ['exam_session_id'], ['id'])
            batch_op.create_index(batch_op.f(f'ix_{table}_exam_session_id'),
                                  ['exam_session_id'], unique=False)
            for name, columns in uniques:
                batch_op.drop_constraint(batch_op.f(name), type_='unique')
                batch_op.create_unique_constraint(batch_op.f(name),
                                                  [*columns, 'exam_session_id'])
        # The default was for the rows already there; new rows always name their session.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('exam_session_id', server_default=None)

    with op.batch_alter_table('contestant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', kiosk.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contestant', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_by')
        batch_op.drop_column('withdrawn_at')
    for table, uniques in PER_SESSION.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in uniques:
                batch_op.drop_constraint(batch_op.f(name), type_='unique')
                batch_op.create_unique_constraint(batch_op.f(name), columns)
            batch_op.drop_index(batch_op.f(f'ix_{table}_exam_session_id'))
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_exam_session_id_exam_session'),
                                     type_='foreignkey')
            batch_op.drop_column('exam_session_id')
    op.drop_table('exam_session')
