"""security: the releases a feed's polls skipped, for /healthz

Revision ID: 0012_security
Revises: 0011_people
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_security"
down_revision: str | None = "0011_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_cursor") as batch:
        batch.add_column(sa.Column("skipped", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    raise NotImplementedError("bestbot migrations only go forward; restore a backup instead")
