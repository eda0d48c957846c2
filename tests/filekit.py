"""Files for the upload tests, made here (no binary fixtures), and a tus client."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from .factories import Api


def _picture(size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new("RGB", size, (250, 250, 250))
    for x in range(size[0]):
        # A trace across the page, like an ECG strip.
        y = size[1] // 2 + (size[1] // 3 if x % 16 == 8 else 0)
        image.putpixel((x, min(y, size[1] - 1)), (200, 0, 0))
    return image


def exif_bytes() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x8825] = {1: "N", 2: (43.0, 14.0, 0.0), 3: "E", 4: (76.0, 56.0, 0.0)}  # GPS
    return exif.tobytes()


def jpeg(exif: bool = False, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    kwargs: dict[str, Any] = {"quality": 90}
    if exif:
        kwargs["exif"] = exif_bytes()
    _picture(size).save(out, "JPEG", **kwargs)
    return out.getvalue()


def png(exif: bool = False) -> bytes:
    out = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if exif:
        kwargs["exif"] = exif_bytes()
    _picture().save(out, "PNG", **kwargs)
    return out.getvalue()


def webp(exif: bool = False) -> bytes:
    out = io.BytesIO()
    kwargs: dict[str, Any] = {"lossless": True}
    if exif:
        kwargs["exif"] = exif_bytes()
    _picture().save(out, "WEBP", **kwargs)
    return out.getvalue()


def pdf() -> bytes:
    """A small, whole PDF (one page, one line of text)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
    ]
    stream = b"BT /F1 12 Tf 10 50 Td (K 4.1 mmol/L) Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def executable() -> bytes:
    """The start of a Windows executable."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


async def start(api: Api, length: int, name: str = "file.bin") -> Any:
    encoded = base64.b64encode(name.encode()).decode()
    return await api.client.post(
        "/api/v1/uploads",
        headers=api.headers(
            {
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(length),
                "Upload-Metadata": f"filename {encoded}",
            }
        ),
    )


async def patch(api: Api, location: str, offset: int, chunk: bytes) -> Any:
    return await api.client.patch(
        location,
        data=chunk,
        headers=api.headers(
            {
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
        ),
    )


async def upload(api: Api, data: bytes, name: str = "file.bin", chunk: int = 64 * 1024) -> Any:
    """Upload ``data`` in chunks; (status, body) of the last response."""
    resp = await start(api, len(data), name)
    if resp.status != 201:
        return resp.status, await resp.json()
    location = resp.headers["Location"]
    offset = 0
    while True:
        resp = await patch(api, location, offset, data[offset : offset + chunk])
        if resp.status == 204:
            offset = int(resp.headers["Upload-Offset"])
            continue
        return resp.status, await resp.json()


async def fetch(api: Api, path: str) -> tuple[int, bytes]:
    resp = await api.client.get(f"/api/v1{path}", headers=api.headers())
    return resp.status, await resp.read()


def dicom(truncate: int = 0) -> bytes:
    """A small DICOM file (an 8×8 secondary capture) with a study date and modality."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = "20300301"
    ds.Modality = "ECG"
    ds.StudyDescription = "12-lead resting ECG"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(64))
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    data = out.getvalue()
    return data[: len(data) - truncate] if truncate else data
