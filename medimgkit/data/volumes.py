"""From 3-D volumes to the 2-D inputs of "2-D" and "2.5-D" models: middle and orthogonal slices.

A volume ``(D, H, W)`` is cut by three planes through its centre: the
**axial** slice ``v[D // 2]`` (H x W), the **coronal** slice
``v[:, H // 2]`` (D x W) and the **sagittal** slice ``v[:, :, W // 2]``
(D x H). A 2-D CNN on the axial slice sees one plane; a "2.5-D" model stacks
the three planes as the three channels of one image, so an ordinary 2-D CNN
sees a little of all three directions (the 2.5-D baseline of MedMNIST v2).

The plane names follow the array's axes (depth, height, width), as
MedMNIST's ACS baselines do; an array carries no patient orientation. For a
NIfTI volume in a known (RAS) orientation use ``medimgkit.io.slice_volume``.
"""

from __future__ import annotations

import numpy as np

PLANES = ("axial", "coronal", "sagittal")


def _volumes(volumes, name: str = "volumes") -> np.ndarray:
    v = np.asarray(volumes)
    if v.ndim == 5 and v.shape[-1] == 1:
        v = v[..., 0]
    if v.ndim != 4:
        hint = ("one volume: add the batch axis, v[None]" if v.ndim == 3 else
                "several channels: pick one, v[..., c]" if v.ndim == 5 else "pass volumes (N, D, H, W)")
        raise ValueError(f"{name}: expected volumes (N, D, H, W) or (N, D, H, W, 1), found shape {v.shape}; {hint}")
    if v.shape[0] == 0 or min(v.shape[1:]) < 1:
        raise ValueError(f"{name}: expected at least one non-empty volume, found shape {v.shape}")
    return v


def middle_slices(volumes, plane: str = "axial") -> np.ndarray:
    """The middle slice of each volume in one plane.

    Parameters
    ----------
    volumes : array (N, D, H, W) or (N, D, H, W, 1), any dtype
    plane : "axial", "coronal" or "sagittal"

    Returns
    -------
    array of the volumes' dtype: (N, H, W) axial, (N, D, W) coronal, (N, D, H) sagittal.
    """
    v = _volumes(volumes)
    if plane not in PLANES:
        raise ValueError(f"plane: expected one of {PLANES}, found {plane!r}")
    _, d, h, w = v.shape
    if plane == "axial":
        return v[:, d // 2]
    if plane == "coronal":
        return v[:, :, h // 2]
    return v[:, :, :, w // 2]


def orthogonal_slices(volumes) -> np.ndarray:
    """The axial, coronal and sagittal middle slices of each volume, as the three channels of one image.

    The input of a "2.5-D" model: a 2-D CNN with three input channels.

    Parameters
    ----------
    volumes : array (N, D, H, W) or (N, D, H, W, 1), any dtype (uint8 0-255
        or float in [0, 1], as the package's input contract has them), with
        ``D == H == W`` (a cube, as MedMNIST's 28³ and 64³ volumes are), so
        that the three slices have one shape.

    Returns
    -------
    array of the volumes' dtype, (N, S, S, 3): channel 0 axial ``v[S // 2]``,
    1 coronal ``v[:, S // 2]``, 2 sagittal ``v[:, :, S // 2]``.

    Raises
    ------
    ValueError
        Naming the shape found: not a batch of volumes, or not cubes (resample
        them to a cube first, ``medimgkit.data.resample``).
    """
    v = _volumes(volumes)
    if not v.shape[1] == v.shape[2] == v.shape[3]:
        raise ValueError(f"volumes: expected cubes (N, S, S, S) so that the three slices stack, found shape "
                         f"{v.shape}; resample or pad them to a cube first (medimgkit.data.resample)")
    return np.stack([middle_slices(v, p) for p in PLANES], axis=-1)
