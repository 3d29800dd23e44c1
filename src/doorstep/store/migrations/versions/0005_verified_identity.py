"""verified identities: site secrets, verified flags, token generations, recorded merges

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 23:50:00.000000
"""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Plain ALTER TABLE on SQLite too, never a batch copy (see 0004): copying `contacts` would drop
# the table every conversation refers to.
_VERIFIED_EXTERNAL_ID = "external_id_verified AND merged_into_id IS NULL"


def upgrade() -> None:
    false = sa.text("false")
    op.add_column(
        "sites",
        sa.Column("identity_secret", sa.String(64), nullable=False, server_default=sa.text("''")),
    )
    op.add_column("sites", sa.Column("identity_secret_previous", sa.String(64), nullable=True))
    op.add_column(
        "sites", sa.Column("identity_previous_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "sites",
        sa.Column("require_verification", sa.Boolean(), nullable=False, server_default=false),
    )
    # Every email and user_id stored so far was only claimed by a browser: both flags start
    # false, so none of them joins contacts from now on.
    op.add_column(
        "contacts",
        sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=false),
    )
    op.add_column(
        "contacts",
        sa.Column("external_id_verified", sa.Boolean(), nullable=False, server_default=false),
    )
    op.create_index(
        "uq_contacts_verified_external_id",
        "contacts",
        ["site_id", "external_id"],
        unique=True,
        sqlite_where=sa.text(_VERIFIED_EXTERNAL_ID),
        postgresql_where=sa.text(_VERIFIED_EXTERNAL_ID),
    )
    op.add_column(
        "visitors",
        sa.Column("token_generation", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_table(
        "contact_merges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "site_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("sites.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "source_contact_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("contacts.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "target_contact_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column(
            "operator_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("operators.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("source_name", sa.String(200), nullable=True),
        sa.Column("source_email", sa.String(254), nullable=True),
        sa.Column(
            "visitor_ids",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_merges"),
    )
    op.create_index(
        "ix_contact_merges_site_id_kind_id", "contact_merges", ["site_id", "kind", "id"]
    )
    op.create_index("ix_contact_merges_target_contact_id", "contact_merges", ["target_contact_id"])
    _give_each_site_a_secret()
    _record_earlier_merges()


def _give_each_site_a_secret() -> None:
    bind = op.get_bind()
    for (site_id,) in bind.execute(sa.text("SELECT id FROM sites")).all():
        bind.execute(
            sa.text("UPDATE sites SET identity_secret = :secret WHERE id = :id"),
            {"secret": secrets.token_hex(32), "id": site_id},
        )


def _record_earlier_merges() -> None:
    """Each contact merged automatically so far (an email typed in a browser was enough) is
    listed for admins, with the browsers its survivor has now: one of them may not be the
    person's. The shell's last sighting is the nearest moment to the merge that was kept."""
    bind = op.get_bind()
    as_json = "CAST(:browsers AS JSONB)" if bind.dialect.name == "postgresql" else ":browsers"
    shells = bind.execute(
        sa.text("SELECT id, merged_into_id FROM contacts WHERE merged_into_id IS NOT NULL")
    ).all()
    for shell_id, target_id in shells:
        browsers = (
            bind.execute(
                sa.text("SELECT id FROM visitors WHERE contact_id = :c ORDER BY id"),
                {"c": target_id},
            )
            .scalars()
            .all()
        )
        # Copied within the database, so the timestamp keeps its stored form on SQLite too.
        bind.execute(
            sa.text(
                "INSERT INTO contact_merges (site_id, source_contact_id, target_contact_id, "
                f"kind, visitor_ids, created_at) SELECT site_id, id, merged_into_id, "
                f"'before_upgrade', {as_json}, last_seen_at FROM contacts WHERE id = :shell"
            ),
            {"browsers": json.dumps(list(browsers)), "shell": shell_id},
        )


def downgrade() -> None:
    op.drop_table("contact_merges")
    op.execute("ALTER TABLE visitors DROP COLUMN token_generation")
    op.drop_index("uq_contacts_verified_external_id", "contacts")
    op.execute("ALTER TABLE contacts DROP COLUMN external_id_verified")
    op.execute("ALTER TABLE contacts DROP COLUMN email_verified")
    op.execute("ALTER TABLE sites DROP COLUMN require_verification")
    op.execute("ALTER TABLE sites DROP COLUMN identity_previous_until")
    op.execute("ALTER TABLE sites DROP COLUMN identity_secret_previous")
    op.execute("ALTER TABLE sites DROP COLUMN identity_secret")
