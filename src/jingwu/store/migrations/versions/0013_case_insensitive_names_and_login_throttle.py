"""User names unique regardless of case; failed log-ins counted per account and source

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00

User names have always matched case-insensitively (an officer types BJ01 or bj01), but only the
code checked it before inserting: two concurrent creations of ``BJ01`` and ``bj01`` could both
succeed. A unique index on the lowered name makes the database refuse the second. Names already
stored that differ only by case are not merged here (which account is the real one is a person's
decision): the upgrade stops and names them, so that an admin renames all but one first.

The lock-out after five wrong passwords let anyone who knew a call sign lock its officer out. The
failures are now counted per account and source address (``login_throttle``), each source backing
off on its own, so that the owner at their own terminal can still log in; the owner is told of them
at the next log-in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jingwu.errors import Conflict
from jingwu.store.tables import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _refuse_case_duplicates() -> None:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT username FROM users WHERE lower(username) IN "
            "(SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1) "
            "ORDER BY lower(username), username"
        )
    )
    names = [row.username for row in rows]
    if names:
        # A Conflict: `jingwu migrate` prints it as one line, `error: ...`, and exits with 2.
        raise Conflict(
            "cannot make user names unique regardless of case: these differ only by case: "
            + ", ".join(repr(name) for name in names)
            + ". Rename all but one of each in the users table (UPDATE users SET username = "
            "'NEW' WHERE username = 'OLD'; no jingwu command renames) and run `jingwu migrate` again.",
            code="duplicate_user_names",
            names=names,
        )


def upgrade() -> None:
    _refuse_case_duplicates()
    op.create_index("ix_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "login_throttle",
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unseen", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failed_at", UtcDateTime(), nullable=True),
        sa.Column("blocked_until", UtcDateTime(), nullable=True),
        sa.Column("last_success_at", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_index("ix_users_username_lower", table_name="users")
