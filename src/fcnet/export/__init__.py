"""Export a trained net's whole prediction path: to one ONNX graph, or to a PyTorch ``nn.Sequential``."""

from fcnet.export.path import Step, prediction_path
from fcnet.export.to_onnx import export_onnx, onnx_model
from fcnet.export.to_torch import export_torch

__all__ = ["Step", "export_onnx", "export_torch", "onnx_model", "prediction_path"]
