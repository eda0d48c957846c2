from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base


class ChainHead(Base):
    """The newest entry of each chain: the row appenders lock to stay strictly linear.

    It is a lock anchor and a shortcut to the previous hash, not evidence: verification walks
    the entries themselves and compares them with signed checkpoints.
    """

    __tablename__ = "chain_heads"

    ledger: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
