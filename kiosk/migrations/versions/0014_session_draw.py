"""the session draw (场次抽签): its rounds

Revision ID: 0014_session_draw
Revises: 0013_exam_sessions
"""

from alembic import op
import sqlalchemy as sa
import kiosk.db


revision = '0014_session_draw'
down_revision = '0013_exam_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('session_draw_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.LargeBinary(), nullable=True),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('inputs_sha256', sa.String(length=64), nullable=False),
    sa.Column('entropy', sa.Text(), nullable=True),
    sa.Column('committed_at', kiosk.db.UTCDateTime(), nullable=False),
    sa.Column('committed_by', sa.String(length=64), nullable=False),
    sa.Column('drawn_at', kiosk.db.UTCDateTime(), nullable=True),
    sa.Column('drawn_by', sa.String(length=64), nullable=True),
    sa.Column('sessions', sa.JSON(), nullable=True),
    sa.Column('assignments', sa.JSON(), nullable=True),
    sa.Column('shown_at', kiosk.db.UTCDateTime(), nullable=True),
    sa.Column('shown_by', sa.String(length=64), nullable=True),
    sa.Column('superseded_at', kiosk.db.UTCDateTime(), nullable=True),
    sa.Column('redraw_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('committed', 'drawn', 'superseded')",
                       name=op.f('ck_session_draw_round_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_draw_round'))
    )


def downgrade() -> None:
    op.drop_table('session_draw_round')
