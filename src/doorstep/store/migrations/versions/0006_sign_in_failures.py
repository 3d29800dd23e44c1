"""failed console sign-ins for throttling; sessions found by operator

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_failures"),
    )
    op.create_index(
        "ix_sign_in_failures_email_created_at", "sign_in_failures", ["email", "created_at"]
    )
    op.create_index(
        "ix_sign_in_failures_address_created_at", "sign_in_failures", ["address", "created_at"]
    )
    # Signing out everywhere (a password change, a removal) deletes an operator's sessions.
    op.create_index("ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"])


def downgrade() -> None:
    op.drop_index("ix_operator_sessions_operator_id", "operator_sessions")
    op.drop_table("sign_in_failures")
