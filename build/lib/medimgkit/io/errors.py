"""Errors raised when a medical image file cannot be used.

All of them are ``ValueError`` subclasses (the input is bad, not the code),
and every message names the file and what was expected.
"""

from __future__ import annotations

#: Largest number of pixel values (rows x columns x frames x samples) a loader
#: will allocate by default: 2**28 values, 1 GiB as float32. A header asking
#: for more is refused *before* the pixel data is read or decoded.
MAX_PIXELS = 2**28


class MedicalImageError(ValueError):
    """A file is not a usable medical image (wrong format, truncated, no pixels...)."""


class MissingDecoderError(MedicalImageError):
    """The pixel data is compressed with a transfer syntax no installed package decodes."""


class ImageTooLargeError(MedicalImageError):
    """The header asks for more pixels than the allowed limit."""


class SeriesError(MedicalImageError):
    """The files of a DICOM series do not form one regular volume."""
