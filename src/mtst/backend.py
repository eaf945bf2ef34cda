"""One interface for every way of running a model, and one loader: the CLI and the server use only these.

A torch model folder (mtst.model.MultiTaskModel), an `mtst export` folder (mtst.onnx_backend.OnnxModel) and an
`mtst export --runtime openvino` folder (mtst.openvino_backend.OpenVinoModel) answer the same calls. Free of
torch at import, so the exported backends start without it.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from mtst.errors import MtstError
from mtst.outputs import Outputs, Prediction
from mtst.routing import Given
from mtst.tasks import TaskSpec

BACKENDS = ("torch", "onnx", "openvino")


@runtime_checkable
class Backend(Protocol):
    """What a loaded model answers, whichever backend runs it."""

    tasks: dict[str, TaskSpec]
    trained: dict[str, bool]

    def run(
        self, texts: Sequence[str], tasks: Sequence[str] | None = None, batch_size: int = 32, embeddings: bool = True
    ) -> Outputs:
        """The served embeddings (None if embeddings=False) and each requested task's probabilities, a pass a batch."""

    def predict(
        self,
        texts: Sequence[str],
        tasks: Sequence[str] | None = None,
        batch_size: int = 32,
        given: Given | Sequence[Given] | None = None,
    ) -> list[dict[str, Prediction]]:
        """Labels (given, predicted, or None where a head abstains or does not apply) per text and task."""

    def predictions(
        self, outputs: Outputs, given: Given | Sequence[Given] | None = None
    ) -> list[dict[str, Prediction]]: ...

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """The served embeddings only."""

    def token_counts(self, texts: Sequence[str]) -> list[int]: ...

    def check_tasks(self, tasks: Sequence[str] | None) -> list[str]: ...

    def describe(self) -> dict:
        """backend, precision, and the served embedding: `embedding` (base or tuned), `stsb`, the branches."""


def load_model(
    path: str | Path,
    backend: str = "torch",
    precision: str = "fp32",
    streams: int | None = None,
    device: str | None = None,
) -> Backend:
    """Open a model folder with the chosen backend.

    torch: a folder saved by mtst (precision fp32 or bf16; streams default one per core). onnx: a folder
    written by `mtst export` (its precision is fixed at export; streams default 1, onnxruntime already
    spreads one batch over the cores). openvino: a folder written by `mtst export --runtime openvino` (int8
    fixed at export, or the precision OpenVINO's CPU plugin picks; streams default one per core, OpenVINO's
    throughput mode).
    """
    if backend in ("onnx", "openvino"):
        if precision not in ("fp32", "auto"):
            raise MtstError(
                f"--precision applies to the torch backend only; an {backend} export fixes its own precision"
            )
        if device not in (None, "cpu"):
            raise MtstError(f"the {backend} backend runs on the CPU; leave --device out or use the torch backend")
        try:
            if backend == "onnx":
                from mtst.onnx_backend import OnnxModel

                return OnnxModel.load(path, streams=1 if streams is None else streams)
            from mtst.openvino_backend import OpenVinoModel

            return OpenVinoModel.load(path, streams=streams)
        except ImportError as err:
            raise MtstError(f"the {backend} backend is not available: {err}") from err
    if backend != "torch":
        raise MtstError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    from mtst.model import MultiTaskModel

    return MultiTaskModel.load(path, device=device, precision=precision, streams=streams)
