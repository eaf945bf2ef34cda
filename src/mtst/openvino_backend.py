"""OpenVinoModel: runs an `mtst export --runtime openvino` folder with OpenVINO's CPU plugin.

The folder is an ONNX export's (tokenizer, tasks.json, manifest.json) with an OpenVINO model (model.xml and
model.bin) in place of the ONNX graph: the same inputs and outputs, converted from the plain traced graph
(mtst.openvino_export). Everything but the runtime is OnnxModel's: tokenisation, length-sorted batches,
temperature-scaled probabilities, predictions. What OpenVINO adds is its fused CPU kernels (attention, layer
norm and GELU around the matrix products, in bf16 or int8) and, by itself, bf16 where the CPU computes it.

Like the ONNX backend it never imports torch or transformers.
"""

import threading
from pathlib import Path

import numpy as np

from mtst.errors import MtstError
from mtst.onnx_backend import EMBEDDINGS_OUTPUT, OPENVINO_FORMAT, OnnxModel

MODEL_FILE = "model.xml"  # and model.bin beside it, its weights
INSTALL_HINT = "pip install 'mtst[openvino]'"
# OpenVINO's names for its inference precisions -> the names mtst reports (fp32 and bf16 as mtst.device's).
PRECISION_NAMES = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}


def import_openvino():
    """The openvino module, or an MtstError saying how to install it (it is an optional dependency)."""
    try:
        import openvino
    except ImportError as err:
        raise MtstError(f"the openvino backend needs OpenVINO, which is not installed: {INSTALL_HINT}") from err
    return openvino


def compile_config(threads: int, streams: int, inference_precision: str | None) -> dict:
    """The CPU plugin's settings: `streams` batches at once, on `threads` cores in all.

    One stream is OpenVINO's LATENCY hint: each batch spread over every core (the server: one merged batch at
    a time). Several are its THROUGHPUT hint with that many streams, each batch on its own share of the cores:
    on 2 busy cores, 2 streams took 8-12% less CPU time than one for batches of 32 (docs/performance.md), so
    bulk jobs get one stream per core by default.
    inference_precision: None lets the plugin choose (bf16 where the CPU does it natively, else f32).
    """
    config = {
        "PERFORMANCE_HINT": "LATENCY" if streams == 1 else "THROUGHPUT",
        "NUM_STREAMS": str(streams),
        "INFERENCE_NUM_THREADS": str(threads),
    }
    if inference_precision is not None:
        config["INFERENCE_PRECISION_HINT"] = inference_precision
    return config


class OpenVinoModel(OnnxModel):
    """An OpenVINO export of an mtst model: embeddings and every head's logits in one compiled model."""

    FORMAT = OPENVINO_FORMAT
    MODEL_FILE = MODEL_FILE

    def __init__(
        self,
        folder: Path,
        threads: int | None = None,
        streams: int | None = None,
        inference_precision: str | None = None,
    ) -> None:
        self.inference_precision = inference_precision
        super().__init__(folder, threads, streams)

    @classmethod
    def load(
        cls,
        directory: str | Path,
        threads: int | None = None,
        streams: int | None = None,
        inference_precision: str | None = None,
    ) -> "OpenVinoModel":
        """Open a folder written by `mtst export --runtime openvino`; raises MtstError if it is not one.

        streams: batches run at once (default one per core, OpenVINO's THROUGHPUT mode; 1 for its LATENCY
        mode); threads: cores each uses (default: its share). inference_precision: f32, bf16 or f16 to override
        the CPU plugin's own choice for what the export left in floating point (the export check uses f32).
        """
        return cls(Path(directory), threads, streams, inference_precision)

    def open_graph(self, path: Path) -> None:
        """Compile the model for the CPU, twice: whole, and with the heads' logits as its only outputs.

        The second is what predictions run (`mtst predict`, /v1/predict without embeddings): OpenVINO drops
        what no output needs, here the base branch that only the served embedding reads, as the torch backend
        skips it. Each thread that runs batches gets its own infer request of each.
        """
        ov = import_openvino()
        core = ov.Core()
        config = compile_config(self.threads * self.streams, self.streams, self.inference_precision)
        try:
            model = core.read_model(str(path))
            labels = [r for r in model.get_results() if r.get_output_tensor(0).get_any_name() != EMBEDDINGS_OUTPUT]
            self.compiled = core.compile_model(model, "CPU", config)
            self.compiled_labels = core.compile_model(ov.Model(labels, model.get_parameters(), "labels"), "CPU", config)
        except Exception as err:  # OpenVINO raises RuntimeError with its own message for broken files
            raise MtstError(f"could not load the OpenVINO model {path}: {err}") from err
        self._local = threading.local()  # an infer request runs one batch at a time: one per stream's thread

    def infer(self, outputs: list[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        labels_only = EMBEDDINGS_OUTPUT not in outputs
        key = "labels_request" if labels_only else "request"
        request = getattr(self._local, key, None)
        if request is None:
            request = (self.compiled_labels if labels_only else self.compiled).create_infer_request()
            setattr(self._local, key, request)
        result = request.infer(feed)  # copies the outputs out of the request's own buffers
        return [result[name] for name in outputs]

    def runs_at(self) -> str:
        """The precision the CPU plugin computes the floating-point operations in: fp32, bf16 or fp16."""
        hint = self.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        return PRECISION_NAMES.get(hint, hint)

    def describe(self) -> dict:
        """The export's precision (int8-static, or the plugin's own: fp32, bf16) and what the plugin runs."""
        described = super().describe()
        runs_at = self.runs_at()
        precision = self.quantize or runs_at
        return {**described, "precision": precision, "inference_precision": runs_at}
