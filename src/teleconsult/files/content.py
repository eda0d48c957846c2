"""What an uploaded file is, decided from its content, and how it is kept.

Only JPEG, PNG and WebP images, PDF documents and DICOM files are accepted. The type comes
from the bytes (``filetype``, then Pillow opens the whole image; a PDF must be whole, header
to ``%%EOF``; pydicom reads a DICOM file to its end), never from the name or the declared
type. Images lose their EXIF and XMP
metadata (location, device) without being re-encoded: the pixels stay byte for byte. A
thumbnail is made for the pages.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

import filetype
from PIL import Image, ImageOps

from ..errors import DomainError, UnsupportedMediaType

IMAGES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
PDF = "application/pdf"
DICOM = "application/dicom"
ACCEPTED = frozenset({*IMAGES, PDF, DICOM})
THUMBNAIL = (320, 320)
MAX_PIXELS = 60_000_000


class PayloadTooLarge(DomainError):
    status = 413
    default_detail = "The file is larger than the limit."
    default_code = "file_too_large"


def refused_type() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "Only JPEG, PNG and WebP images, PDF documents and DICOM files are accepted.",
        code="file_type_refused",
    )


def damaged() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "The file is damaged or incomplete; send it again.", code="file_damaged"
    )


def sniff(head: bytes) -> str | None:
    """The accepted type the first bytes announce, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head[128:132] == b"DICM":
        return DICOM
    kind = filetype.guess(head)
    if kind is not None and kind.mime in IMAGES:
        return str(kind.mime)
    return None


@dataclass(frozen=True)
class Prepared:
    data: bytes
    content_type: str
    thumbnail: bytes | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def prepare(data: bytes) -> Prepared:
    """Check the file's type and wholeness (415 otherwise), strip metadata, thumbnail it."""
    content_type = sniff(data[:8192])
    if content_type is None:
        raise refused_type()
    if content_type == PDF:
        if b"%%EOF" not in data[-2048:] or b"startxref" not in data[-4096:]:
            raise damaged()
        return Prepared(data, PDF)
    if content_type == DICOM:
        return Prepared(data, DICOM, None, _dicom(data))
    cleaned = strip_metadata(content_type, data)
    thumbnail, meta = _image(content_type, data)
    return Prepared(cleaned, content_type, thumbnail, meta)


def _image(content_type: str, data: bytes) -> tuple[bytes, dict[str, Any]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data), formats=[IMAGES[content_type]])
            if image.width * image.height > MAX_PIXELS:
                raise damaged()
            image.load()
            meta = {"width": image.width, "height": image.height}
            # The thumbnail stands the way the camera meant (the original keeps no EXIF).
            image = ImageOps.exif_transpose(image)
            image.thumbnail(THUMBNAIL)
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
    except DomainError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise damaged() from None
    return out.getvalue(), meta


def _dicom(data: bytes) -> dict[str, Any]:
    """A DICOM file read whole (a truncated one fails); what the pages show of its study."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ds = pydicom.dcmread(io.BytesIO(data))
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, Warning):
        raise damaged() from None
    syntax = str(getattr(ds.file_meta, "TransferSyntaxUID", ""))
    # pydicom reads a cut value short without a word: the declared lengths must fit.
    if "SOPClassUID" not in ds or not _dicom_whole(data, syntax):
        raise damaged()
    meta: dict[str, Any] = {}
    for key, name in (
        ("study_date", "StudyDate"),
        ("modality", "Modality"),
        ("description", "StudyDescription"),
    ):
        value = str(ds.get(name, "") or "").strip()
        if value:
            meta[key] = value[:200]
    date = meta.get("study_date", "")
    if len(date) == 8 and date.isdigit():
        meta["study_date"] = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return meta


_LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"SQ",
    b"SV",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"UV",
}


def _dicom_whole(data: bytes, syntax: str) -> bool:
    """Whether every element's declared length fits in the file, to its last byte (little
    endian syntaxes; an undefined length ends the walk: pydicom has read those whole)."""
    explicit = syntax != "1.2.840.10008.1.2"
    if syntax.startswith("1.2.840.10008.1.2.2") or syntax == "1.2.840.10008.1.2.1.99":
        return True  # big endian or deflated: pydicom's own read is the check
    (group_length,) = struct.unpack("<I", data[140:144])
    i = 144 + group_length
    if i > len(data):
        return False
    while i < len(data):
        if i + 8 > len(data):
            return False
        if explicit:
            vr = data[i + 4 : i + 6]
            if vr in _LONG_VRS:
                if i + 12 > len(data):
                    return False
                (length,) = struct.unpack("<I", data[i + 8 : i + 12])
                i += 12
            else:
                (length,) = struct.unpack("<H", data[i + 6 : i + 8])
                i += 8
        else:
            (length,) = struct.unpack("<I", data[i + 4 : i + 8])
            i += 8
        if length == 0xFFFFFFFF:
            return True
        i += length
        if i > len(data):
            return False
    return True


# --- metadata removal, lossless ------------------------------------------------------------


def strip_metadata(content_type: str, data: bytes) -> bytes:
    try:
        if content_type == "image/jpeg":
            return _strip_jpeg(data)
        if content_type == "image/png":
            return _strip_png(data)
        return _strip_webp(data)
    except (IndexError, struct.error, ValueError):
        raise damaged() from None


# APP1 carries EXIF and XMP, APP13 Photoshop's IPTC block (captions, places).
_JPEG_DROP = {0xE1, 0xED}


def _strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out = bytearray(data[:2])
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError("bad marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[i : i + 2]
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        end = i + 2 + length
        if end > len(data):
            raise ValueError("truncated segment")
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return bytes(out)
        if marker not in _JPEG_DROP:
            out += data[i:end]
        i = end
    return bytes(out)


_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _strip_png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise ValueError("not a PNG")
    out = bytearray(signature)
    i = len(signature)
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise ValueError("truncated chunk")
        if kind not in _PNG_DROP:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            break
    return bytes(out)


def _strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks = bytearray()
    i = 12
    (riff_size,) = struct.unpack("<I", data[4:8])
    stop = min(len(data), 8 + riff_size)
    while i + 8 <= stop:
        kind = data[i : i + 4]
        (size,) = struct.unpack("<I", data[i + 4 : i + 8])
        end = i + 8 + size + (size & 1)
        if i + 8 + size > len(data):
            raise ValueError("truncated chunk")
        chunk = bytearray(data[i:end])
        if kind == b"VP8X":
            chunk[8] &= ~(0x08 | 0x04) & 0xFF  # no EXIF, no XMP
        if kind not in (b"EXIF", b"XMP "):
            chunks += chunk
        i = end
    return b"RIFF" + struct.pack("<I", len(chunks) + 4) + b"WEBP" + bytes(chunks)
