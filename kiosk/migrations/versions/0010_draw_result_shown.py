"""a draw's result is final once shown

The first moment a round's result was shown, and, on a round replaced after that, the
supervisor who co-signed the redraw and the reason.

Revision ID: 0010_draw_result_shown
Revises: 0009_hand_in_form_token
Create Date: 2026-12-02 03:40:00
"""

from alembic import op
import sqlalchemy as sa
import kiosk.db


revision = '0010_draw_result_shown'
down_revision = '0009_hand_in_form_token'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('draw_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shown_at', kiosk.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('shown_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('superseded_at', kiosk.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('redraw_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('redraw_cosigner', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('draw_round', schema=None) as batch_op:
        for column in ('redraw_cosigner', 'redraw_reason', 'superseded_at', 'shown_by',
                       'shown_at'):
            batch_op.drop_column(column)
