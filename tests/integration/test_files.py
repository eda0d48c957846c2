"""Uploaded files: accepted types round-trip, others are refused before they are stored,
uploads resume, the passport's chain covers its files, and reads follow consent."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from teleconsult.clock import FakeClock
from teleconsult.config import Settings
from teleconsult.db.engine import make_sessionmaker
from teleconsult.files import content
from teleconsult.files.models import StoredFile, Upload
from teleconsult.ledger.verify import run_verify

from .. import filekit
from ..conftest import Database
from .passport_support import clinic, grant


async def _count(database: Database, model: Any) -> int:
    async with make_sessionmaker(database.engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


CASES = {
    "jpeg": (filekit.jpeg, "image/jpeg"),
    "png": (filekit.png, "image/png"),
    "webp": (filekit.webp, "image/webp"),
    "pdf": (filekit.pdf, "application/pdf"),
    "dcm": (filekit.dicom, "application/dicom"),
}


async def test_every_accepted_type_round_trips(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    gp = c.w.gp
    for name, (make, content_type) in CASES.items():
        data = make()
        # Small chunks: several PATCH requests per file.
        status, body = await filekit.upload(gp, data, f"result.{name}", chunk=100)
        assert status == 200, body
        stored = body["file"]
        assert stored["content_type"] == content_type and stored["size"] == len(data)
        status, attached = await gp.post(
            f"/consultations/{c.consultation_id}/files", {"file_id": stored["id"]}
        )
        assert status == 201, attached
        status, back = await filekit.fetch(gp, f"/files/{stored['id']}")
        assert status == 200 and back == data, name
        # The specialist of the case reads it too.
        status, back = await filekit.fetch(c.w.specialist, f"/files/{stored['id']}")
        assert status == 200 and back == data, name
        status, thumb = await filekit.fetch(gp, f"/files/{stored['id']}/thumbnail")
        if content_type.startswith("image/"):
            assert status == 200 and Image.open(io.BytesIO(thumb)).format == "JPEG"
        else:
            assert status == 404
    status, listed = await c.w.specialist.get(f"/consultations/{c.consultation_id}/files")
    assert status == 200
    [dcm] = [f for f in listed if f["content_type"] == "application/dicom"]
    assert dcm["meta"] == {
        "study_date": "2030-03-01",
        "modality": "ECG",
        "description": "12-lead resting ECG",
    }
    assert sorted(f["name"] for f in listed) == sorted(f"result.{n}" for n in CASES)
    # Every read of a referral's file is in the patient's audit chain.
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT document FROM audit_entries WHERE chain = :c"), {"c": c.patient_id}
        )
        actions = [json.loads(doc)["action"] for (doc,) in rows]
    assert actions.count("file.read") == 2 * len(CASES) + 3  # thumbnails of the 3 images
    assert actions.count("file.attach") == len(CASES)
    # Someone else's specialist sees neither the list nor a file.
    status, _ = await c.other.get(f"/consultations/{c.consultation_id}/files")
    assert status == 404
    status, _ = await filekit.fetch(c.other, f"/files/{listed[0]['id']}")
    assert status == 404


@pytest.mark.parametrize("make", [filekit.jpeg, filekit.png, filekit.webp])
async def test_images_lose_their_exif_and_keep_their_pixels(
    client: Any, database: Database, make: Any
) -> None:
    c = await clinic(client, database.engine)
    original = make(exif=True)
    assert Image.open(io.BytesIO(original)).getexif()
    status, body = await filekit.upload(c.w.gp, original, "ecg.img")
    assert status == 200, body
    status, back = await filekit.fetch(c.w.gp, f"/files/{body['file']['id']}")
    assert status == 200
    assert back == content.strip_metadata(body["file"]["content_type"], original)
    assert b"PhoneMaker" not in back and b"Model X" not in back
    kept = Image.open(io.BytesIO(back))
    assert not kept.getexif()
    assert kept.tobytes() == Image.open(io.BytesIO(original)).tobytes()


async def test_refused_before_anything_is_stored(
    client: Any, database: Database, settings: Settings
) -> None:
    c = await clinic(client, database.engine)
    # A renamed executable: refused at its first chunk, whatever its name says.
    status, body = await filekit.upload(c.w.gp, filekit.executable(), "ecg.jpg")
    assert status == 415 and body["code"] == "file_type_refused"
    # A truncated PDF: its header is fine, its end never came.
    whole = filekit.pdf()
    status, body = await filekit.upload(c.w.gp, whole[: len(whole) // 2], "labs.pdf", chunk=64)
    assert status == 415 and body["code"] == "file_damaged"
    # A truncated JPEG.
    image = filekit.jpeg(size=(300, 200))
    status, body = await filekit.upload(c.w.gp, image[: len(image) - 400], "ecg.jpg")
    assert status == 415 and body["code"] == "file_damaged"
    # A truncated DICOM file.
    status, body = await filekit.upload(c.w.gp, filekit.dicom(truncate=20), "ecg.dcm")
    assert status == 415 and body["code"] == "file_damaged"
    # Over the limit: refused when announced, before one byte is sent.
    resp = await filekit.start(c.w.gp, settings.max_upload_mb * 1024 * 1024 + 1, "big.pdf")
    assert resp.status == 413 and (await resp.json())["code"] == "file_too_large"
    # A chunk beyond the announced length is refused too.
    resp = await filekit.start(c.w.gp, 10, "small.pdf")
    resp = await filekit.patch(c.w.gp, resp.headers["Location"], 0, b"%PDF-" + b"x" * 20)
    assert resp.status == 413
    assert await _count(database, StoredFile) == 0
    # The refused uploads' chunks are gone; only the last, still open, one is left.
    assert await _count(database, Upload) == 1
    files_dir = settings.data_dir / "files"
    assert not files_dir.exists() or not any(files_dir.rglob("*"))
    # Patients do not upload.
    resp = await filekit.start(c.patient, 10, "x.pdf")
    assert resp.status == 403


async def test_an_interrupted_upload_resumes(client: Any, database: Database) -> None:
    c = await clinic(client, database.engine)
    data = filekit.jpeg(size=(400, 300))
    resp = await filekit.start(c.w.gp, len(data), "ecg.jpg")
    assert resp.status == 201 and resp.headers["Upload-Offset"] == "0"
    location = resp.headers["Location"]
    first = len(data) // 3
    resp = await filekit.patch(c.w.gp, location, 0, data[:first])
    assert resp.status == 204 and resp.headers["Upload-Offset"] == str(first)
    # The link drops; the page asks where the server stands and goes on from there.
    resp = await c.w.gp.client.head(location, headers=c.w.gp.headers({"Tus-Resumable": "1.0.0"}))
    assert resp.status == 200 and resp.headers["Upload-Offset"] == str(first)
    assert resp.headers["Upload-Length"] == str(len(data))
    # A chunk sent again at a stale offset is refused, not appended twice.
    resp = await filekit.patch(c.w.gp, location, 0, data[:first])
    assert resp.status == 409
    # Another user cannot see or continue it.
    resp = await c.w.specialist.client.head(location, headers=c.w.specialist.headers())
    assert resp.status == 404
    resp = await filekit.patch(c.w.gp, location, first, data[first:])
    assert resp.status == 200
    body = await resp.json()
    status, back = await filekit.fetch(c.w.gp, f"/files/{body['file']['id']}")
    assert status == 200 and back == data
    # The same last chunk again (its answer was lost): the same file, nothing twice.
    resp = await filekit.patch(c.w.gp, location, first, data[first:])
    assert resp.status == 200 and (await resp.json())["file"]["id"] == body["file"]["id"]
    assert await _count(database, StoredFile) == 1


async def _tamper(database: Database, settings: Settings, sha256: str) -> None:
    if database.backend == "sqlite":
        path = settings.data_dir / "files" / sha256[:2] / sha256
        data = bytearray(path.read_bytes())
        data[-10] ^= 0xFF
        path.write_bytes(bytes(data))
        return
    async with database.engine.begin() as conn:
        await conn.execute(
            text("UPDATE file_blobs SET data = data || '\\x00'::bytea WHERE sha256 = :s"),
            {"s": sha256},
        )


async def test_passport_attachment_chain_covers_the_file(
    client: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    data = filekit.pdf()
    status, uploaded = await filekit.upload(c.w.specialist, data, "potassium.pdf")
    assert status == 200, uploaded
    file_id = uploaded["file"]["id"]
    status, entry = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "attachment", "body": {"title": "Potassium", "file_id": file_id}},
    )
    assert status == 201, entry
    assert entry["body"]["sha256"] == uploaded["file"]["sha256"]
    assert entry["body"]["content_type"] == "application/pdf"
    # Once in the passport, it is not attached anywhere else.
    status, again = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "attachment", "body": {"title": "Again", "file_id": file_id}},
    )
    assert status == 404, again
    # The patient reads their own file.
    status, back = await filekit.fetch(c.patient, f"/files/{file_id}")
    assert status == 200 and back == data
    status, verdict = await c.patient.get(f"/patients/{c.patient_id}/passport/verify")
    assert status == 200 and verdict["ok"], verdict

    await _tamper(database, settings, entry["body"]["sha256"])
    ok, reports = await run_verify(make_sessionmaker(database.engine), settings)
    bad = [r.first_bad for r in reports if r.first_bad is not None]
    assert not ok and len(bad) == 1
    assert bad[0].entry_id == entry["id"] and "potassium.pdf" in bad[0].problem
    assert "changed" in bad[0].problem
    status, verdict = await c.patient.get(f"/patients/{c.patient_id}/passport/verify")
    assert status == 200 and not verdict["ok"]
    assert verdict["first_bad"]["entry_id"] == entry["id"]
    # A changed file is never served.
    status, _ = await filekit.fetch(c.patient, f"/files/{file_id}")
    assert status == 409


async def test_missing_file_named_by_verify(
    client: Any, database: Database, clock: FakeClock, settings: Settings
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    status, uploaded = await filekit.upload(c.w.specialist, filekit.png(), "ecg.png")
    status, entry = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "attachment", "body": {"title": "ECG", "file_id": uploaded["file"]["id"]}},
    )
    assert status == 201, entry
    sha256 = entry["body"]["sha256"]
    if database.backend == "sqlite":
        (settings.data_dir / "files" / sha256[:2] / sha256).unlink()
    else:
        async with database.engine.begin() as conn:
            await conn.execute(text("DELETE FROM file_blobs WHERE sha256 = :s"), {"s": sha256})
    ok, reports = await run_verify(make_sessionmaker(database.engine), settings)
    [bad] = [r.first_bad for r in reports if r.first_bad is not None]
    assert not ok and bad.entry_id == entry["id"] and "missing" in bad.problem


async def _denials(database: Database, patient_id: str) -> int:
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT document FROM audit_entries WHERE chain = :c"), {"c": patient_id}
        )
        return sum(1 for (doc,) in rows if json.loads(doc)["outcome"] == "deny")


async def test_reading_without_consent_is_refused_and_audited(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    given = await grant(c, clock, user_id=c.w.specialist.id)
    status, uploaded = await filekit.upload(c.w.specialist, filekit.jpeg(), "ecg.jpg")
    file_id = uploaded["file"]["id"]
    status, entry = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "attachment", "body": {"title": "ECG", "file_id": file_id}},
    )
    assert status == 201, entry
    status, _ = await filekit.fetch(c.w.specialist, f"/files/{file_id}")
    assert status == 200
    status, _ = await c.patient.post(f"/patients/{c.patient_id}/consents/{given['id']}/revoke")
    assert status == 200
    before = await _denials(database, c.patient_id)
    for path in (f"/files/{file_id}", f"/files/{file_id}/thumbnail"):
        status, _ = await filekit.fetch(c.w.specialist, path)
        assert status == 403, path
    assert await _denials(database, c.patient_id) == before + 2
    # A grant without the attachments category does not cover it either.
    await grant(c, clock, user_id=c.w.specialist.id, categories=["notes"])
    status, _ = await filekit.fetch(c.w.specialist, f"/files/{file_id}")
    assert status == 403
    # The GP without any grant: refused as well.
    status, _ = await filekit.fetch(c.w.gp, f"/files/{file_id}")
    assert status == 403
    assert await _denials(database, c.patient_id) == before + 4


async def test_files_close_with_the_consultation(
    client: Any, database: Database, tmp_path: Path
) -> None:
    c = await clinic(client, database.engine)
    status, uploaded = await filekit.upload(c.w.gp, filekit.png(), "ecg.png")
    status, done = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/complete", {"conclusion": "Sinus rhythm."}
    )
    assert status == 200, done
    status, body = await c.w.gp.post(
        f"/consultations/{c.consultation_id}/files", {"file_id": uploaded["file"]["id"]}
    )
    assert status == 409 and body["code"] == "files_closed"


async def test_fhir_export_has_document_references_and_binaries_on_request(
    client: Any, database: Database, clock: FakeClock
) -> None:
    c = await clinic(client, database.engine)
    await grant(c, clock, user_id=c.w.specialist.id)
    data = filekit.png()
    status, uploaded = await filekit.upload(c.w.specialist, data, "ecg.png")
    status, entry = await c.w.specialist.post(
        f"/consultations/{c.consultation_id}/entries",
        {"kind": "attachment", "body": {"title": "ECG", "file_id": uploaded["file"]["id"]}},
    )
    assert status == 201, entry
    status, bundle = await c.patient.get(f"/patients/{c.patient_id}/fhir")
    assert status == 200, bundle
    resources = [e["resource"] for e in bundle["entry"]]
    [doc] = [r for r in resources if r["resourceType"] == "DocumentReference"]
    attachment = doc["content"][0]["attachment"]
    assert attachment["contentType"] == "image/png" and attachment["size"] == len(data)
    assert attachment["url"] == f"/api/v1/files/{uploaded['file']['id']}"
    assert doc["identifier"][0]["value"] == entry["body"]["sha256"]
    assert not [r for r in resources if r["resourceType"] == "Binary"]
    status, bundle = await c.patient.get(f"/patients/{c.patient_id}/fhir", binary="true")
    assert status == 200, bundle
    resources = [e["resource"] for e in bundle["entry"]]
    [binary] = [r for r in resources if r["resourceType"] == "Binary"]
    [doc] = [r for r in resources if r["resourceType"] == "DocumentReference"]
    assert doc["content"][0]["attachment"]["url"] == f"urn:uuid:{binary['id']}"
    assert base64.b64decode(binary["data"]) == data
