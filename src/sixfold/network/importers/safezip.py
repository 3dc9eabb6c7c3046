"""Reading members of an untrusted ZIP archive without extracting it.

Nothing is written to disk, so path traversal entries cannot escape anywhere; they are still
refused and reported, because an archive that contains them was not made by Slack. Sizes are
checked before and while reading, since the sizes declared in a ZIP header can lie.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from sixfold.network.importers.base import ImportAborted, ImportLimits, ProblemLog

_CHUNK = 1024 * 1024


def is_safe_member_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return False
    parts = PurePosixPath(name).parts
    return ".." not in parts and not (parts and ":" in parts[0])


def iter_members(
    path: Path, limits: ImportLimits, log: ProblemLog, wanted: Callable[[str], bool]
) -> Iterator[tuple[str, bytes]]:
    """Yield (name, content) for safe, wanted members one at a time, within the limits."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportAborted(f"{path.name} is not a readable ZIP archive: {error}") from error
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_members:
            raise ImportAborted(
                f"{path.name} has {len(infos)} entries, above the limit of {limits.max_zip_members}"
            )
        budget = limits.max_total_unzipped_bytes
        for info in infos:
            if not is_safe_member_name(info.filename):
                log.add(info.filename, "unsafe path in archive; entry ignored")
                continue
            if info.is_dir() or not wanted(info.filename):
                continue
            content = _read_member(archive, info, limits, budget)
            budget -= len(content)
            yield info.filename, content


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ImportLimits, budget: int
) -> bytes:
    ceiling = min(limits.max_member_bytes, budget)
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > ceiling or ratio > limits.max_compression_ratio:
        raise ImportAborted(
            f"{info.filename} expands to {info.file_size} bytes "
            f"(ratio {ratio:.0f}); refusing a likely zip bomb"
        )
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                total += len(chunk)
                if total > ceiling or total > limits.max_compression_ratio * max(
                    info.compress_size, 1
                ):
                    raise ImportAborted(
                        f"{info.filename} expands beyond its declared size; "
                        "refusing a likely zip bomb"
                    )
                chunks.append(chunk)
    # zipfile signals an unsupported compression method with NotImplementedError and an
    # encrypted member with RuntimeError; both are a bad upload, not a bug here.
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise ImportAborted(f"{info.filename}: damaged archive entry ({error})") from error
    return b"".join(chunks)
