"""``GET /codes`` names every specialty, region and care level in English, Kazakh and Russian,
from the one table in ``codes.py``."""

from __future__ import annotations

from typing import Any

from teleconsult.codes import CARE_LEVEL_NAMES, REGION_NAMES, SPECIALTY_NAMES


async def test_every_code_has_its_three_names(client: Any) -> None:
    resp = await client.get("/api/v1/codes")
    assert resp.status == 200
    body = await resp.json()
    for table, source in (
        ("specialties", SPECIALTY_NAMES),
        ("regions", REGION_NAMES),
        ("care_levels", CARE_LEVEL_NAMES),
    ):
        items = body[table]
        assert [item["code"] for item in items] == list(source), table
        for item in items:
            names = item["names"]
            assert set(names) == {"en", "kk", "ru"}, item
            assert all(isinstance(n, str) and n.strip() for n in names.values()), item
            assert item["name"] == names["en"]
            # Kazakh and Russian are written in Cyrillic, not copied from English.
            for lang in ("kk", "ru"):
                assert any("\u0400" <= ch <= "\u04ff" for ch in names[lang]), (lang, item)
    cardiology = next(i for i in body["specialties"] if i["code"] == "cardiology")
    assert cardiology["names"] == {"en": "Cardiology", "kk": "Кардиология", "ru": "Кардиология"}
    karaganda = next(i for i in body["regions"] if i["code"] == "karaganda")
    assert karaganda["names"]["kk"] == "Қарағанды облысы"
    assert karaganda["names"]["ru"] == "Карагандинская область"
