"""ONNX export: encoder (trunk, base and tuned branches), pooling, normalisation and every head as ONE graph.

The folder it writes runs with mtst.onnx_backend.OnnxModel (onnxruntime + tokenizers, no torch):

    model.onnx      inputs input_ids, attention_mask (batch, sequence; int64);
                    outputs `embeddings` (batch, dim) and `logits_<task>` (batch, n_labels) per task
    model.onnx.data its weights, memory-mapped when the graph is loaded
    tokenizer.json  and the other tokenizer files of the source model
    tasks.json      the heads' specs, as in a torch model folder
    manifest.json   what the graph is, how it was made, which embedding it serves (`branches`), and how
                    closely it matched torch at export time

As in torch, one pass runs the shared trunk once: `embeddings` comes from the base branch (unless the model
serves its tuned embedding), the logits from the tuned branch. The folder is built beside the target and
put in place only after the parity check passed, so a failed export never leaves a folder that loads.

Steps: trace with the TorchScript exporter (the dynamo exporter needs onnxscript, which we do not ship),
fuse the BERT subgraphs with onnxruntime's transformer optimizer (Attention, SkipLayerNormalization,
BiasGelu), optionally quantise the weights to int8, and save the graph already optimised by onnxruntime
so that loading it does little work.
"""

import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mtst.errors import MtstError
from mtst.folders import replace_folder, staging_folder
from mtst.model import MultiTaskModel
from mtst.onnx_backend import (
    EMBEDDINGS_OUTPUT,
    FORMAT,
    FORMAT_VERSION,
    INPUT_NAMES,
    MANIFEST_FILE,
    MODEL_FILE,
    TASKS_FILE,
    TOKENIZER_FILE,
    OnnxModel,
    logits_output,
)
from mtst.tasks import TaskFile, write_task_file

log = logging.getLogger("mtst")

QUANTIZE = (None, "int8", "int8-static")
OPSET = 17
FP32_TOLERANCE = 1e-4  # max abs difference to torch an fp32 export must stay within
TOKENIZER_FILES = (TOKENIZER_FILE, "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")

# Texts the export is checked on: short and long (past the token limit), receipts, other scripts.
CHECK_TEXTS = [
    "Earn 500 bonus points on any Tide purchase this weekend",
    "huggies size 4",
    "Someone logged into my account and redeemed all my points",
    "How do I change the email on my account?",
    "KROGER #0412\nMILK 2% GAL 3.49\nBREAD 2.99\nSUBTOTAL 6.48\nTAX 0.00\nTOTAL 6.48\nVISA ****1234",
    "WA?MART SUP#RCENT?R\nGV E6GS l8CT 4.l2\nBAN?NAS l.3?\nT0TA? 5.8?",
    "¿Dónde están mis puntos? 我的积分在哪里？ 🎉",
    "a",
    "receipt points scan store milk bread coupon reward " * 40,
]


class ExportGraph(nn.Module):
    """What the ONNX graph computes: the served embedding and every head's logits, in one pass."""

    def __init__(self, model: MultiTaskModel) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.heads = model.heads
        self.names = list(model.tasks)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # token_type_ids are all zero for single texts: made inside the graph, so callers pass two inputs.
        embeddings, features = self.encoder.forward_both(
            input_ids, attention_mask, token_type_ids=torch.zeros_like(input_ids)
        )
        return (embeddings, *[self.heads[name](features) for name in self.names])


def quantized_node_exclusions(graph_path: Path) -> list[str]:
    """Nodes the int8 export keeps in fp32, chosen by measuring (docs/performance.md).

    The heads (Gemm) and the embedding tables are never quantised: only MatMul and Attention nodes are.
    Of those, the feed-forward output projections cost the most accuracy: their input, the GELU activations,
    is heavy-tailed, and one uint8 scale per tensor leaves its many small values a few levels at most. Kept
    in fp32 they bring every task of the shipped test split back within a third of a macro-F1 point of fp32
    (fully int8: up to 1 point lower) for about 10% of the int8 speed.
    """
    import onnx

    graph = onnx.load(str(graph_path), load_external_data=False).graph
    matmuls = [n.name for n in graph.node if n.op_type == "MatMul"]
    named = [n for n in matmuls if "/output/dense/" in n and "/attention/" not in n]
    # Per layer, in topological order: attention output, FFN in, FFN out (QKV sits inside the Attention node).
    return named or matmuls[2::3]


def trace(model: MultiTaskModel, path: Path) -> None:
    """The TorchScript exporter, with eager attention: the pattern onnxruntime's BERT fusions recognise."""
    model.encoder.transformer.set_attn_implementation("eager")
    graph = ExportGraph(model).eval()
    enc = model.encoder
    sample = enc.collate(enc.tokenize(["a short text", "and a somewhat longer one, to vary the length"])[0])
    outputs = [EMBEDDINGS_OUTPUT] + [logits_output(name) for name in model.tasks]
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {name: {0: "batch"} for name in outputs}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes on python control flow that does not depend on the input
        torch.onnx.export(
            graph,
            (sample["input_ids"], sample["attention_mask"]),
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def fuse(model: MultiTaskModel, source: Path, target: Path) -> dict[str, int]:
    """onnxruntime's BERT optimizer: one Attention node per layer, fused LayerNorm+residual and bias+GELU."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = model.encoder.transformer.config
    fused = optimize_model(
        str(source),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
        opt_level=0,  # python fusions only; onnxruntime's own passes run in save_optimised
    )
    fused.save_model_to_file(str(target))
    return {k: v for k, v in fused.get_fused_operator_statistics().items() if v}


def quantize_int8(source: Path, target: Path) -> list[str]:
    """Dynamic int8: weights per output channel, activations quantised per batch at run time."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    excluded = quantized_node_exclusions(source)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs advice on static pre-processing that does not apply
    try:
        quantize_dynamic(
            str(source),
            str(target),
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=excluded,
            # onnx shape inference cannot type the outputs of fused (com.microsoft) nodes; they are all float
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return excluded


def save_optimised(source: Path, target: Path) -> None:
    """Let onnxruntime optimise the graph once, now, and keep the result: loading it later costs less.

    EXTENDED, not ALL: ALL may add layout changes that suit only this machine's CPU. The weights go to a
    separate file (target + ".data") that onnxruntime memory-maps: a session then opens in about 0.06 s
    instead of the 0.25 s it takes to parse them out of one large protobuf.
    """
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    optimised = source.with_name(source.stem + ".optimised.onnx")
    options.optimized_model_filepath = str(optimised)
    ort.InferenceSession(str(source), sess_options=options, providers=["CPUExecutionProvider"])
    data = target.with_name(target.name + ".data")
    data.unlink(missing_ok=True)  # onnx appends to an existing data file
    onnx.save_model(
        onnx.load(str(optimised)),
        str(target),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=data.name,
        size_threshold=1024,
    )
    data.chmod(0o644)  # onnx creates it private; the folder is meant to be copied and served


def compare(model: MultiTaskModel, exported: OnnxModel, texts: list[str]) -> dict:
    """How closely the export (OnnxModel or a subclass) reproduces the torch model on `texts`."""
    ours = exported.run(texts)
    theirs = model.run(texts)
    with torch.inference_mode():
        batch = model.encoder.collate(model.encoder.tokenize(texts)[0])
        _, torch_logits = model(**batch)
    feed = exported._collate(exported.tokenize(texts)[0])
    exported_logits = exported.infer([logits_output(n) for n in model.tasks], feed)
    cosine = (ours.embeddings * theirs.embeddings).sum(axis=1)
    return {
        "texts": len(texts),
        "max_abs_diff_embeddings": float(np.abs(ours.embeddings - theirs.embeddings).max()),
        "max_abs_diff_logits": max(
            float(np.abs(o - torch_logits[n].numpy()).max()) for n, o in zip(model.tasks, exported_logits, strict=True)
        ),
        "min_cosine": float(cosine.min()),
        "label_agreement": {
            n: float((ours.probabilities[n].argmax(1) == theirs.probabilities[n].argmax(1)).mean()) for n in model.tasks
        },
    }


def export_onnx(
    model_dir: str | Path, output_dir: str | Path, quantize: str | None = None, calibration: list[str] | None = None
) -> Path:
    """Write an ONNX export of the mtst model folder `model_dir` into `output_dir`; returns the folder.

    quantize: None (fp32), "int8" (dynamic) or "int8-static" (calibrated on `calibration` texts, by default
    mtst's built-in check texts; mtst.quantize).
    The export is built in a staging folder beside `output_dir` and replaces it only once the parity check
    against torch passed: a failed export leaves `output_dir` as it was.
    """
    if quantize not in QUANTIZE:
        raise MtstError(f"unknown quantisation {quantize!r}; choose int8, int8-static or leave it out for fp32")
    return staged_export(
        model_dir,
        output_dir,
        lambda model, staging: write_export(model, Path(model_dir), staging, quantize, calibration),
        quantize or "fp32",
    )


def staged_export(
    model_dir: str | Path, output_dir: str | Path, write: Callable[[MultiTaskModel, Path], None], label: str
) -> Path:
    """Load the torch model, let `write` fill a staging folder, and only then put it in place of `output_dir`."""
    model = MultiTaskModel.load(model_dir, device="cpu")
    target = Path(output_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(target, "exporting")
    try:
        write(model, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_folder(staging, target, keep_other_files=False)
    log.info("exported %s to %s (%s)", model_dir, target, label)
    return target


def write_export(
    model: MultiTaskModel, source: Path, output: Path, quantize: str | None, calibration: list[str] | None = None
) -> None:
    """Trace, fuse, (quantise,) save and check the export in `output`; raises if the check fails."""
    with tempfile.TemporaryDirectory(prefix="mtst-export-") as tmp:
        work = Path(tmp)
        trace(model, work / "traced.onnx")
        fusions = fuse(model, work / "traced.onnx", work / "fused.onnx")
        graph, excluded, static = work / "fused.onnx", [], None
        if quantize == "int8":
            excluded = quantize_int8(graph, work / "int8.onnx")
            graph = work / "int8.onnx"
        elif quantize == "int8-static":
            from mtst.quantize import calibration_rows, quantize_int8_static

            excluded = quantized_node_exclusions(graph)
            rows = calibration_rows(model.encoder, calibration)
            static = quantize_int8_static(
                graph, work / "int8.onnx", rows, model.encoder.tokenizer.pad_token_id or 0, excluded
            )
            graph = work / "int8.onnx"
        save_optimised(graph, output / MODEL_FILE)
    model.encoder.transformer.set_attn_implementation("sdpa")  # back to the fast path for the checks below

    manifest = folder_manifest(model, source, FORMAT, MODEL_FILE, quantize) | {
        "runtime": "onnxruntime",
        "precision": quantize or "fp32",
        "kept_fp32": excluded,
        "static": static,
        "fusions": fusions,
        "opset": OPSET,
    }
    write_folder_files(model, source, output, manifest)
    check_export(model, OnnxModel.load(output), output, manifest, exact=quantize is None)


def folder_manifest(model: MultiTaskModel, source: Path, fmt: str, model_file: str, quantize: str | None) -> dict:
    """What every export's manifest.json says: the graph's file, inputs and outputs, and the model it serves."""
    enc = model.encoder
    return {
        "format": fmt,
        "format_version": FORMAT_VERSION,
        "model": model_file,
        "inputs": list(INPUT_NAMES),
        "outputs": {"embeddings": EMBEDDINGS_OUTPUT, "logits": {n: logits_output(n) for n in model.tasks}},
        "dim": enc.dim,
        "max_length": enc.max_length,
        "pad_token_id": enc.tokenizer.pad_token_id or 0,
        "quantize": quantize,
        "branches": {k: v for k, v in enc.describe().items() if k != "stages"},
        "source": str(source.resolve()),
        "versions": versions(),
    }


def write_folder_files(model: MultiTaskModel, source: Path, output: Path, manifest: dict) -> None:
    """Beside the graph: the tokenizer files, tasks.json and manifest.json."""
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, output / name)
    if not (output / TOKENIZER_FILE).is_file():
        model.encoder.tokenizer.save_pretrained(output)  # a folder with only the slow tokenizer's files
    enc = model.encoder
    write_task_file(
        output / TASKS_FILE, TaskFile(list(model.tasks.values()), dict(model.trained), enc.max_length, enc.truncation)
    )
    (output / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")


def check_export(
    model: MultiTaskModel, exported: OnnxModel, output: Path, manifest: dict, exact: bool, key: str = "check"
) -> dict:
    """Compare the export with torch on CHECK_TEXTS and record it in the manifest as `key`.

    exact: the export must match torch within FP32_TOLERANCE (an unquantised graph run in fp32), else MtstError.
    """
    check = compare(model, exported, CHECK_TEXTS)
    manifest[key] = check
    (output / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    if exact and max(check["max_abs_diff_embeddings"], check["max_abs_diff_logits"]) > FP32_TOLERANCE:
        raise MtstError(f"the fp32 export differs from the torch model by more than {FP32_TOLERANCE}: {check}")
    log.info("export check: %s", check)
    return check


def versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import transformers

    from mtst import __version__

    return {
        "mtst": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
