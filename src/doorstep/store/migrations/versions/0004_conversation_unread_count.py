"""the operators' unread count kept on each conversation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on SQLite too, never a batch copy: copying a table drops the old one, and
# with foreign keys on, dropping `conversations` would delete every message with it.


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column("operator_unread", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    # Counted once here; from now on every write that adds a message or moves the operators'
    # read pointer keeps it.
    op.execute(
        """
        UPDATE conversations SET operator_unread = (
            SELECT count(*) FROM messages
            WHERE messages.conversation_id = conversations.id
              AND messages.author_type = 'visitor'
              AND messages.seq > conversations.operator_read_seq
        )
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE conversations DROP COLUMN operator_unread")
