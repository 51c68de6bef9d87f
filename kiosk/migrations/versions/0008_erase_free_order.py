"""erase the free items' order kept at the seal

The order in which late arrivals took the free items after a seal was stored in plaintext
(draw_round.remaining_order): with it anyone reading the database could tell what a late arrival
got. Late arrivals now draw from a fresh permutation sealed in their supplement; the column and
what it held go.

Revision ID: 0008_erase_free_order
Revises: 0007
Create Date: 2026-12-01 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008_erase_free_order'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Emptied first: SQLite's batch mode copies the table, and secure_delete zeroes the old pages.
    op.execute("UPDATE draw_round SET remaining_order = NULL")
    with op.batch_alter_table('draw_round', schema=None) as batch_op:
        batch_op.drop_column('remaining_order')


def downgrade() -> None:
    with op.batch_alter_table('draw_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remaining_order', sa.Text(), nullable=True))
