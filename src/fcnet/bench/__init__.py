"""``fcnet bench``: fcnet against PyTorch and scikit-learn (CPU) or PyTorch CUDA (GPU), in one run."""

from fcnet.bench.cpu import IMPLS, NETS, NetSpec, _data, matmul_flops, run_bench
from fcnet.bench.report import to_markdown

__all__ = ["IMPLS", "NETS", "NetSpec", "_data", "matmul_flops", "run_bench", "to_markdown"]
