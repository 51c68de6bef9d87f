"""scores by module: the practical's tasks and their full marks (score_task)

Revision ID: 0012_score_tasks
Revises: 0011_timetable
"""

from alembic import op
import sqlalchemy as sa
import kiosk.db


revision = '0012_score_tasks'
down_revision = '0011_timetable'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('score_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('full_marks', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', kiosk.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_task')),
    sa.UniqueConstraint('key', name=op.f('uq_score_task_key')),
    sa.UniqueConstraint('position', name=op.f('uq_score_task_position'))
    )


def downgrade() -> None:
    op.drop_table('score_task')
