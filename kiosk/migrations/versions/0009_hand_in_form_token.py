"""the desk form that sent a hand-in

A double-click at the collection desk sent the same form twice and made two hand-ins with two
receipts. The form now carries a token, stored with the hand-in it made (unique): the same
form sent again answers with that hand-in.

Revision ID: 0009_hand_in_form_token
Revises: 0008_erase_free_order
Create Date: 2026-12-02 03:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_hand_in_form_token'
down_revision = '0008_erase_free_order'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('hand_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_hand_in_form_token'), ['form_token'])


def downgrade() -> None:
    with op.batch_alter_table('hand_in', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_hand_in_form_token'), type_='unique')
        batch_op.drop_column('form_token')
