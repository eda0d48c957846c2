"""The measurements the service knows and the programmes it ships (pure data).

Measures carry their LOINC code and UCUM unit; blood pressure has two values (systolic,
diastolic) under the panel code. Shipped programmes follow the Kazakhstan clinical protocols
and WHO guidance (WHO HEARTS for hypertension, WHO PEN for diabetes and COPD, ESC/WHO for
heart failure, WHO mhGAP for epilepsy); administrators edit them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    code: str
    loinc: str
    unit: str
    # LOINC codes of the two values of a panel (systolic, diastolic), else None.
    parts: tuple[str, str] | None = None
    low: float = 0.0
    high: float = 1000.0


MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure("bp", "85354-9", "mm[Hg]", ("8480-6", "8462-4"), 30, 300),
        Measure("pulse", "8867-4", "/min", None, 20, 250),
        Measure("glucose", "15074-8", "mmol/L", None, 0.5, 60),
        Measure("hba1c", "4548-4", "%", None, 2, 25),
        Measure("spo2", "59408-5", "%", None, 50, 100),
        Measure("weight", "29463-7", "kg", None, 1, 400),
        Measure("peak_flow", "19935-6", "L/min", None, 30, 1000),
    )
}

BY_LOINC: dict[str, Measure] = {m.loinc: m for m in MEASURES.values()}


def target(
    measure: str, *, low: float | None = None, high: float | None = None, high2: float | None = None
) -> dict[str, Any]:
    """A target: the value within [low, high); for blood pressure ``high2`` is diastolic."""
    return {"measure": measure, "low": low, "high": high, "high2": high2}


SHIPPED: tuple[dict[str, Any], ...] = (
    {
        "code": "hypertension",
        "icd10": ["I10", "I11", "I12", "I13", "I15"],
        "visit_interval_days": 91,
        "targets": [target("bp", high=140, high2=90), target("pulse", low=50, high=100)],
        "review_specialty": "cardiology",
        "review_interval_days": 365,
        "source": "WHO HEARTS technical package (2018); RK clinical protocol I10-I15",
    },
    {
        "code": "diabetes_t2",
        "icd10": ["E11"],
        "visit_interval_days": 182,
        "targets": [
            target("hba1c", high=7),
            target("glucose", low=4, high=7.2),
            target("bp", high=140, high2=90),
            target("weight"),
        ],
        "review_specialty": "endocrinology",
        "review_interval_days": 365,
        "source": "WHO PEN protocol 2 (2020); RK clinical protocol E11",
    },
    {
        "code": "copd",
        "icd10": ["J44"],
        "visit_interval_days": 182,
        "targets": [target("spo2", low=92), target("peak_flow")],
        "review_specialty": "pulmonology",
        "review_interval_days": 365,
        "source": "WHO PEN protocol 3 (2020); GOLD 2024",
    },
    {
        "code": "heart_failure",
        "icd10": ["I50"],
        "visit_interval_days": 91,
        "targets": [
            target("bp", high=140, high2=90),
            target("pulse", low=50, high=100),
            target("weight"),
        ],
        "review_specialty": "cardiology",
        "review_interval_days": 365,
        "source": "ESC heart failure guidelines (2021); RK clinical protocol I50",
    },
    {
        "code": "epilepsy",
        "icd10": ["G40"],
        "visit_interval_days": 182,
        "targets": [],
        "review_specialty": "neurology",
        "review_interval_days": 365,
        "source": "WHO mhGAP intervention guide 2.0 (2016)",
    },
)


def out_of_target(t: dict[str, Any], value: float, value2: float | None) -> bool:
    """Whether a measurement misses a target (a target with no bounds only asks for it)."""
    low, high, high2 = t.get("low"), t.get("high"), t.get("high2")
    if low is not None and value < low:
        return True
    if high is not None and value >= high:
        return True
    return high2 is not None and value2 is not None and value2 >= high2


def covers(icd10: list[str], code: str) -> bool:
    """Whether a programme's ICD-10 list (categories like "I10") covers a dotted code."""
    plain = code.replace(".", "").upper()
    return any(plain.startswith(c.replace(".", "").upper()) for c in icd10)
