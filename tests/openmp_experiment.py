"""An experiment that runs OpenMP threads, importable by process pool workers."""

from __future__ import annotations

#: Rows and columns of the matrices: large enough that torch splits the product
#: between OpenMP threads.
MATRIX_SIZE = 500


def matrix_product_sum(size: int = MATRIX_SIZE) -> float:
    """The sum of a random matrix's square, computed by torch on two OpenMP threads."""
    import torch

    torch.set_num_threads(2)
    matrix = torch.rand(size, size)
    return float((matrix @ matrix).sum())
