"""The kNN's float32 products with torch, on any device (``device=``); imported only on that path.

torch computes full rows of products and keeps each row's best candidates
with ``topk`` on the device; the exact re-measuring and the certification
stay on the CPU (:mod:`zigzag.knn`), so the graphs are the numpy path's.
"""

from __future__ import annotations

import numpy as np
import torch

_BLOCK_BYTES = 64 * 2**20  # float32 products per block of rows


def torch_device(device) -> str:
    """The name of ``device`` once torch has shown it can allocate there; a ValueError otherwise."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device={device!r} is not a torch device; use e.g. 'cpu', 'cuda' or 'cuda:0'.") from err
    try:
        torch.zeros(1, device=parsed)
    except (RuntimeError, AssertionError) as err:
        raise ValueError(f"torch cannot use device {str(parsed)!r} here ({str(err).splitlines()[0]}); "
                         "use device='cpu' or leave it unset.") from err
    return str(parsed)


class TorchProducts:
    """Float32 products of the centred points on a torch device: full rows, ``topk`` on the device."""

    def __init__(self, bound, block_size, device):
        self.device = device
        self.n = len(bound.sqn)
        self.block = block_size or int(np.clip(_BLOCK_BYTES // (4 * self.n), 32, 8192))
        self.left = torch.from_numpy(bound.points32).to(device)
        self.right = (-2 * self.left).T.contiguous()  # scaling by -2 is exact
        self.sq = torch.from_numpy(bound.sq32).to(device)

    def _products(self, rows):
        before = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("highest")  # no TF32 or bf16 passes: the bound assumes float32 products
        try:
            out = self.left[rows] @ self.right
        finally:
            torch.set_float32_matmul_precision(before)
        out += self.sq
        return out

    def candidates(self, look: int):
        """Each row's ``look`` smallest approximate values (float32, ascending) and their columns."""
        vals = np.empty((self.n, look), np.float32)
        idx = np.empty((self.n, look), np.int64)
        for first in range(0, self.n, self.block):
            rows = torch.arange(first, min(first + self.block, self.n), device=self.device)
            approx = self._products(rows)
            approx[torch.arange(len(rows), device=self.device), rows] = float("inf")
            v, i = torch.topk(approx, look, dim=1, largest=False, sorted=True)
            vals[first:first + len(rows)] = v.cpu().numpy()
            idx[first:first + len(rows)] = i.cpu().numpy()
        return vals, idx

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """Full approximate rows (float32), for the rows the bound did not certify."""
        return self._products(torch.from_numpy(rows).to(self.device)).cpu().numpy()
