"""people: what an enterprise says it does, and when its alerts were paused

* ``profile.description``: the free-text answer to "What does your enterprise do?", kept
  beside the keywords read from it (a second signal, and what advisers see).
* ``subscriber.paused_at``: set by /pause (alerts wait: /resume offers what opened
  meanwhile), cleared by /stop (alerts stop: nothing is caught up).

Revision ID: 0011_people
Revises: 0010_reports
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011_people"
down_revision: str | None = "0010_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profile") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
    with op.batch_alter_table("subscriber") as batch:
        batch.add_column(sa.Column("paused_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriber") as batch:
        batch.drop_column("paused_at")
    with op.batch_alter_table("profile") as batch:
        batch.drop_column("description")
