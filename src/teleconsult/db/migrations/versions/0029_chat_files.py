"""a file sent in a consultation's chat

Revision ID: 0029
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The file's row (table ``files``, another branch of the tree) is named, not referenced.
    op.add_column("chat_messages", sa.Column("file_id", sa.Uuid(), nullable=True))
    op.create_index("ux_chat_messages_file", "chat_messages", ["file_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_chat_messages_file", table_name="chat_messages")
    op.drop_column("chat_messages", "file_id")
