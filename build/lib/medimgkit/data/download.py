"""Checksummed, atomic downloads into the dataset cache."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from medimgkit._files import atomic_file

_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's MD5 does not match the published value."""


class DataUnavailableError(OSError):
    """A dataset is neither cached nor downloadable (no network, bad URL)."""


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """Hex digest of a file (``algorithm``: any name ``hashlib.new`` knows), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def md5sum(path: str | os.PathLike) -> str:
    """Hex MD5 digest of a file (MedMNIST publishes MD5s)."""
    return file_digest(path, "md5")


def sha256sum(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of a file (HC18's checksum list)."""
    return file_digest(path, "sha256")


def verify_md5(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`ChecksumError` naming the file and both hashes on mismatch."""
    found = md5sum(path)
    if found != expected:
        raise ChecksumError(
            f"{path}: MD5 mismatch, expected {expected} but found {found}. "
            "The file is corrupt or truncated; delete it so it can be downloaded again."
        )


def download(url: str, dest: str | os.PathLike, md5: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` and keep it only if its MD5 is ``md5``.

    Bytes go to a temporary file in the destination folder, which is renamed
    onto ``dest`` only after the hash matches, so an interrupted or corrupt
    download never leaves a half-written file behind. ``file://`` URLs work
    too (the tests use them against a local mirror).

    Raises
    ------
    DataUnavailableError
        If the URL cannot be read (no network, missing file, HTTP error).
    ChecksumError
        If the downloaded bytes do not hash to ``md5``.
    """
    dest = Path(dest)
    with atomic_file(dest, hint="set MEDIMGKIT_DATA to a writable folder") as tmp:
        digest = hashlib.md5()
        with open(tmp, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise DataUnavailableError(
                    f"could not download {url} to {dest}: {exc}"
                ) from exc
        found = digest.hexdigest()
        if found != md5:
            raise ChecksumError(
                f"{url}: downloaded file has MD5 {found} but {md5} was expected; "
                f"nothing was written to {dest}"
            )
    return dest
