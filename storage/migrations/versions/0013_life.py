"""life: which kinds of notice a subscriber wants, the reservation filter, matched lots

* ``profile.kinds_off``: the notice kinds (``feeds.kinds.KINDS`` ids) the subscriber
  switched off with ``/types``; empty means every kind at its default delivery.
* ``profile.reserved``: reservation codes (``feeds.notice.RESERVATIONS``) the subscriber
  asks for: when not empty, only contracts (or lots) reserved for one of them match.
* ``delivery.lots``: the ids of the lots of the notice that fitted the profile, best first
  (empty when the whole notice matched, or it has no lots).

Revision ID: 0013_life
Revises: 0012_security
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_life"
down_revision: str | None = "0012_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profile") as batch:
        batch.add_column(sa.Column("kinds_off", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("reserved", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("lots", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("lots")
    with op.batch_alter_table("profile") as batch:
        batch.drop_column("reserved")
        batch.drop_column("kinds_off")
