from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base


class StatsRollup(Base):
    """Aggregates of the consultations requested on one day (or month), kept current.

    One row per grain (``day``/``month``) × day × specialty × region × facility, at three
    levels: the country (region and facility ``*``), a region (facility ``*``) and a
    facility. ``""`` stands for "none" (a patient with no facility). The key's column order
    serves the dashboard's range scan: level first, then grain and day.
    """

    __tablename__ = "stats_rollups"

    region: Mapped[str] = mapped_column(String(40), primary_key=True)
    facility: Mapped[str] = mapped_column(String(36), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    specialty: Mapped[str] = mapped_column(String(40), primary_key=True)
    requested: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    no_show: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_in_target: Mapped[int] = mapped_column(Integer, default=0)
    # Packed log-bucketed histograms of seconds (see stats/sketch.py).
    wait: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    duration: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    turnaround: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
