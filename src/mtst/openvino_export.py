"""OpenVINO export (`mtst export --runtime openvino`): the ONNX export's graph as an OpenVINO model.

The folder it writes runs with mtst.openvino_backend.OpenVinoModel; beside model.xml and model.bin (OpenVINO's
IR: the graph and its weights) it holds the ONNX export's tokenizer files, tasks.json and manifest.json.

Steps: trace the same graph as the ONNX export (mtst.export.trace), convert it to OpenVINO *unfused*: the
fusions mtst applies for onnxruntime (Attention, SkipLayerNormalization, com.microsoft ops) are onnxruntime's
own, while OpenVINO's CPU plugin finds its own patterns in the plain graph (attention, MVN, GELU) when it
compiles. Optionally quantise to static int8 with NNCF, save, and check against torch.

int8-static (nncf.quantize, transformer preset, calibrated on texts like quantize.py's): only the transformer
blocks' matrix products are quantised. The heads stay in floating point (tiny, and where a label is decided),
and so do the feed-forward output projections, whose heavy-tailed GELU input loses most to one activation
scale per tensor (docs/performance.md): on MiniLM they took the minimum cosine to fp32 from 0.982 to 0.991 on
app texts for no measurable loss of speed.
"""

import logging
import re
import tempfile
from pathlib import Path

from mtst.errors import MtstError
from mtst.export import (
    OPSET,
    check_export,
    folder_manifest,
    staged_export,
    trace,
    versions,
    write_folder_files,
)
from mtst.model import MultiTaskModel
from mtst.onnx_backend import OPENVINO_FORMAT, pad_rows
from mtst.openvino_backend import INSTALL_HINT, MODEL_FILE, OpenVinoModel, import_openvino

log = logging.getLogger("mtst")

QUANTIZE = (None, "int8-static")
# The traced graph names nodes by torch module path. A BERT block's matrix products sit under attention/,
# intermediate/dense/ or output/dense/, whether the block is the trunk's (/layer.N/) or the tuned branch's
# (/blocks.N/); the heads are under their task's name. The feed-forward output projection is the output/dense/
# outside attention/ (the attention's own output projection is attention/output/dense/).
BLOCK_MATMUL = re.compile(r"/(attention|intermediate/dense|output/dense)/")
FFN_OUTPUT = re.compile(r"^(?!.*/attention/).*/output/dense/")


def export_openvino(
    model_dir: str | Path, output_dir: str | Path, quantize: str | None = None, calibration: list[str] | None = None
) -> Path:
    """Write an OpenVINO export of the mtst model folder `model_dir` into `output_dir`; returns the folder.

    quantize: None (weights in fp32; the CPU plugin picks the precision it computes in when the model is
    loaded) or "int8-static" (NNCF, calibrated on `calibration` texts, by default mtst's built-in ones).
    Built in a staging folder and put in place only after the check against torch passed, as export_onnx.
    """
    if quantize not in QUANTIZE:
        hint = "; dynamic int8 is onnxruntime's (leave --runtime out)" if quantize == "int8" else ""
        raise MtstError(f"unknown quantisation {quantize!r} for OpenVINO: choose int8-static or leave it out{hint}")
    import_openvino()  # before the slow part: a missing package is reported at once
    if quantize is not None:
        import_nncf()
    return staged_export(
        model_dir,
        output_dir,
        lambda model, staging: write_openvino_export(model, Path(model_dir), staging, quantize, calibration),
        f"OpenVINO, {quantize or 'fp32 weights'}",
    )


def import_nncf():
    try:
        import nncf
    except ImportError as err:
        raise MtstError(
            f"--quantize int8-static with OpenVINO needs NNCF, which is not installed: {INSTALL_HINT}"
        ) from err
    return nncf


def write_openvino_export(
    model: MultiTaskModel, source: Path, output: Path, quantize: str | None, calibration: list[str] | None
) -> None:
    """Trace, convert, (quantise,) save and check the export in `output`; raises if the check fails."""
    ov = import_openvino()
    static = None
    with tempfile.TemporaryDirectory(prefix="mtst-export-") as tmp:
        traced = Path(tmp) / "traced.onnx"
        trace(model, traced)
        graph = ov.convert_model(str(traced))
        if quantize == "int8-static":
            graph, static = quantize_int8_static(graph, model, calibration)
        # fp32 weights: fp16 storage (save_model's default) would move an fp32 run away from torch's numbers
        ov.save_model(graph, str(output / MODEL_FILE), compress_to_fp16=False)
    model.encoder.transformer.set_attn_implementation("sdpa")  # back to the fast path for the checks below

    manifest = folder_manifest(model, source, OPENVINO_FORMAT, MODEL_FILE, quantize) | {
        "runtime": "openvino",
        # int8-static: the blocks' matrix products; everything else, and an unquantised model, runs at the
        # precision the CPU plugin picks when it loads the model (bf16 where native, else fp32)
        "precision": quantize or "chosen by the CPU plugin at load",
        "static": static,
        "opset": OPSET,
        "versions": versions() | openvino_versions(),
    }
    write_folder_files(model, source, output, manifest)
    exported = OpenVinoModel.load(output)  # at the precision the CPU plugin picks: what will run here
    if quantize is None:
        # The graph itself must be exact: run in f32, within FP32_TOLERANCE of torch, as an ONNX fp32 export.
        in_f32 = exported if exported.runs_at() == "fp32" else OpenVinoModel.load(output, inference_precision="f32")
        check_export(model, in_f32, output, manifest, exact=True, key="check_fp32")
    manifest["check_precision"] = exported.runs_at()
    check_export(model, exported, output, manifest, exact=False)


def quantize_int8_static(graph, model: MultiTaskModel, calibration: list[str] | None):
    """nncf.quantize on the transformer blocks' matrix products; returns the model and what was done."""
    nncf = import_nncf()
    from mtst.quantize import TextReader, calibration_rows

    pad_id = model.encoder.tokenizer.pad_token_id or 0
    rows = calibration_rows(model.encoder, calibration)
    batches = [pad_rows(batch, pad_id) for batch in TextReader(rows, pad_id).batches]  # as they run: sorted, padded
    ignored = kept_in_float(graph)
    nncf_log = logging.getLogger("nncf")
    level = nncf_log.level
    nncf_log.setLevel(logging.ERROR)  # it reports every node it leaves alone
    try:
        quantized = nncf.quantize(
            graph,
            nncf.Dataset(batches),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(batches),  # every calibration batch (the dataset's items are batches, not texts)
            ignored_scope=nncf.IgnoredScope(names=ignored),
        )
    finally:
        nncf_log.setLevel(level)
    return quantized, {
        "calibration_texts": len(rows),
        "method": "nncf.quantize, ModelType.TRANSFORMER preset",
        "kept_in_float": ignored,
    }


def kept_in_float(graph) -> list[str]:
    """The MatMuls NNCF must leave alone: all but the transformer blocks' (the heads), and the FFN outputs."""
    matmuls = [op.get_friendly_name() for op in graph.get_ops() if op.get_type_name() == "MatMul"]
    blocks = [name for name in matmuls if BLOCK_MATMUL.search(name)]
    if not blocks:
        raise MtstError(
            "found no transformer block's MatMul in the traced graph (none under attention/): cannot quantise"
        )
    return [name for name in matmuls if name not in blocks or FFN_OUTPUT.search(name)]


def openvino_versions() -> dict[str, str]:
    import importlib.metadata

    found = {}
    for package in ("openvino", "nncf"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found
