"""the hall map (场地布局图): the layout of the hall's stations, one for the event

Each import adds a row; the last one is in force. Nothing else changes: an instance without a
layout shows the field dashboard as a list, as before.

Revision ID: 0016_hall_layout
Revises: 0015_unsealed_per_session
"""

import sqlalchemy as sa
from alembic import op

import kiosk.db

revision = '0016_hall_layout'
down_revision = '0015_unsealed_per_session'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'hall_layout',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('imported_by', sa.String(length=64), nullable=False),
        sa.Column('imported_at', kiosk.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hall_layout')),
    )


def downgrade() -> None:
    op.drop_table('hall_layout')
