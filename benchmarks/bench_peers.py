"""mtst next to its peers, side by side in one process on whatever CPU runs it (`make bench`).

Peers: sentence-transformers (torch fp32, the 1.00x reference), its ONNX recipe (fp32 and dynamic int8) and
its OpenVINO recipe (fp32, OpenVINO's default precision: bf16 by itself on AMX, and static int8 calibrated by
NNCF on local texts). sentence-transformers runs those through optimum / optimum-intel, whose releases need
transformers < 5 (mtst runs on 5.x), so this script rebuilds the same recipes on the same runtimes: the
Hugging Face transformer exported to ONNX as is, sentence-transformers' batching (sorted by characters,
padded per batch) and mean pooling, onnxruntime's quantize_dynamic (per-channel int8), OpenVINO's CPU plugin
with the LATENCY hint, and nncf.quantize (transformer preset). A peer whose package is missing is skipped
with the reason printed (the `bench` extra installs openvino and nncf).

mtst rows: torch fp32, torch precision="auto" (with the embedding, and labels only), ONNX fp32, ONNX int8
(dynamic) and int8-static, and mtst's own graph on OpenVINO (`mtst export --runtime openvino`): at the CPU
plugin's default precision and NNCF static int8 (also labels only), as `mtst predict --backend openvino` runs
them (one stream per core).
Every row: texts/s (median of interleaved runs), x sentence-transformers, % of the matmul ceiling of its
precision (benchmarks/ceilings.py), min cosine to mtst fp32, and each head's agreement with mtst fp32 (a
peer's embedding goes through the model's heads when they read the base embedding; otherwise cosine only).
Writes benchmarks/results/peers.{json,md} (--out elsewhere: a smoke run must not replace the results).
"""

import argparse
import atexit
import csv
import importlib.util
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceilings import all_ceilings, model_flops  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
APP_TEST = ROOT / "data" / "app" / "test.jsonl"
APP_TRAIN = ROOT / "data" / "app" / "train.jsonl"
BANKING77 = ROOT.parent / "shared" / "datasets" / "banking77" / "test.csv"
BATCH = 32
MAX_LENGTH = 256


def load_texts(n: int) -> tuple[list[str], str]:
    texts = [json.loads(line)["text"] for line in APP_TEST.open()][:n] if APP_TEST.is_file() else []
    source = f"{APP_TEST.relative_to(ROOT)} ({len(texts)})"
    if len(texts) < n and BANKING77.is_file():
        with BANKING77.open() as f:
            extra = [row["text"] for row in csv.DictReader(f)]
        random.Random(0).shuffle(extra)
        extra = extra[: n - len(texts)]
        texts += extra
        source += f", BANKING77 test ({len(extra)})"
    return texts, source


def load_short_texts(n: int) -> tuple[list[str], str]:
    """Short texts (about 15 tokens): BANKING77 test and STS-B test sentences, shuffled together."""
    from common import load_stsb

    with BANKING77.open() as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    first, second, _ = load_stsb("test")
    texts += list(first) + list(second)
    random.Random(0).shuffle(texts)
    return texts[:n], f"BANKING77 test and STS-B test sentences, shuffled ({min(n, len(texts))})"


def calibration_texts(n: int) -> list[str]:
    """Local texts for static int8 (mtst's and OpenVINO's alike): the shipped train split, taken evenly."""
    from mtst.quantize import spread
    from mtst.textio import iter_texts

    return spread(list(iter_texts(APP_TRAIN)), n)


# --- sentence-transformers' recipe on other runtimes -----------------------------------------------


class StRecipe:
    """sentence-transformers' encode around any runtime: sort by characters, pad per batch, mean-pool, normalise."""

    def __init__(self, model_dir: Path, infer) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.infer = infer

    def feed(self, texts: list[str]) -> dict[str, np.ndarray]:
        return dict(self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="np"))

    def __call__(self, texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            index = order[start : start + BATCH]
            feed = self.feed([texts[i] for i in index])
            hidden = self.infer(feed)
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            out[index] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def export_plain_onnx(model_dir: Path, path: Path) -> Path:
    """The Hugging Face transformer as one ONNX graph, as optimum exports it for sentence-transformers."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = AutoModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager")

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = LastHidden().eval()
    sample = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)(
        ["a short text", "and a somewhat longer one"], padding=True, return_tensors="pt"
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            tuple(sample[n] for n in names),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return path


def onnx_session(path: Path):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda feed: session.run(["last_hidden_state"], feed)[0]


def quantize_dynamic_like_st(source: Path, target: Path) -> Path:
    """export_dynamic_quantized_onnx_model's recipe: per-channel int8 weights, uint8 activations per batch."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), per_channel=True, reduce_range=False, weight_type=QuantType.QInt8)
    return target


def openvino_infer(model, config: dict):
    import openvino as ov

    compiled = ov.Core().compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY", **config})
    request = compiled.create_infer_request()
    chosen = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()  # f32, bf16
    return (lambda feed: request.infer(feed)[0].copy()), chosen


def nncf_static_int8(onnx_path: Path, recipe: StRecipe, texts: list[str]):
    """nncf.quantize on the OpenVINO model, calibrated on local texts (batches of BATCH, as at run time)."""
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(onnx_path))
    batches = [recipe.feed(texts[s : s + BATCH]) for s in range(0, len(texts), BATCH)]
    return nncf.quantize(model, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches))


# --- the rows --------------------------------------------------------------------------------------


def missing(*modules: str) -> str | None:
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"{', '.join(absent)} not installed (pip install -e '.[bench]')" if absent else None


def build_rows(model_dir: Path, work: Path, calibration: list[str]) -> tuple[dict, dict, object]:
    """name -> (run(texts) -> embeddings or Outputs, precision kind, note); name -> why a row was skipped; and
    the mtst fp32 model (the reference)."""
    from sentence_transformers import SentenceTransformer

    from mtst.export import export_onnx
    from mtst.model import MultiTaskModel, write_sentence_transformers_files
    from mtst.onnx_backend import OnnxModel

    rows, skipped = {}, {}
    fp32 = MultiTaskModel.load(model_dir, device="cpu", precision="fp32")
    # The peers run the encoder whose embedding the model serves (the base one; a folder saved before the
    # branches holds tuned weights, and mtst serves the shipped base beside them).
    served = work / "served-encoder"
    fp32.encoder.transformer.save_pretrained(served)
    fp32.encoder.tokenizer.save_pretrained(served)
    write_sentence_transformers_files(served, fp32.encoder.dim, fp32.encoder.max_length)
    model_dir, mtst_dir = served, model_dir
    st = SentenceTransformer(str(model_dir), device="cpu")
    rows["sentence-transformers torch fp32"] = (
        lambda t: st.encode(t, batch_size=BATCH, normalize_embeddings=True),
        "fp32",
        "SentenceTransformer.encode",
    )
    plain = export_plain_onnx(model_dir, work / "plain.onnx")
    recipe_base = StRecipe(model_dir, None)

    reason = missing("onnxruntime")
    if reason is None:
        rows["ST ONNX fp32"] = (StRecipe(model_dir, onnx_session(plain)), "fp32", "onnxruntime, exported transformer")
        int8 = quantize_dynamic_like_st(plain, work / "plain-int8.onnx")
        rows["ST ONNX int8 dynamic"] = (
            StRecipe(model_dir, onnx_session(int8)),
            "int8",
            "quantize_dynamic, per-channel",
        )
    else:
        skipped["ST ONNX"] = reason

    reason = missing("openvino")
    if reason is None:
        infer, chosen = openvino_infer(str(plain), {"INFERENCE_PRECISION_HINT": "f32"})
        rows["ST OpenVINO fp32"] = (StRecipe(model_dir, infer), "fp32", f"OpenVINO CPU, {chosen}")
        infer, chosen = openvino_infer(str(plain), {})
        kind = "bf16" if "bf16" in chosen or "bfloat16" in chosen else "fp32"
        rows["ST OpenVINO default"] = (StRecipe(model_dir, infer), kind, f"OpenVINO CPU chose {chosen}")
        reason = missing("nncf")
        if reason is None:
            quantized = nncf_static_int8(plain, recipe_base, calibration)
            infer, chosen = openvino_infer(quantized, {})
            rows["ST OpenVINO static int8"] = (
                StRecipe(model_dir, infer),
                "int8",
                f"NNCF, {len(calibration)} local texts; other ops {chosen}",
            )
        else:
            skipped["ST OpenVINO static int8"] = reason
    else:
        skipped["ST OpenVINO"] = reason

    rows["mtst torch fp32"] = (lambda t: fp32.run(t, batch_size=BATCH), "fp32", "exact")
    auto = MultiTaskModel.load(mtst_dir, device="cpu", precision="auto")
    rows["mtst torch auto"] = (
        lambda t: auto.run(t, batch_size=BATCH),
        auto.encoder.precision,
        auto.encoder.precision_reason,
    )
    # What `mtst predict`, Ray and /v1/predict without return_embedding run: the heads' path alone, the base
    # branch (the served embedding's top blocks) skipped.
    rows["mtst torch auto, labels only"] = (
        lambda t: auto.run(t, batch_size=BATCH, embeddings=False),
        auto.encoder.precision,
        "predict: heads only, no embedding",
    )
    for quantize, kind in ((None, "fp32"), ("int8", "int8"), ("int8-static", "int8")):
        folder = export_onnx(
            mtst_dir, work / f"mtst-{quantize or 'fp32'}", quantize, calibration if quantize == "int8-static" else None
        )
        exported = OnnxModel.load(folder)
        rows[f"mtst ONNX {quantize or 'fp32'}"] = (
            lambda t, m=exported: m.run(t, batch_size=BATCH),
            kind,
            "dynamic int8" if quantize == "int8" else "calibrated on local texts" if quantize else "fused graph",
        )
    reason = missing("openvino", "nncf")
    if reason is None:
        add_mtst_openvino_rows(rows, mtst_dir, work, calibration)
    else:
        skipped["mtst OpenVINO"] = reason
    return rows, skipped, fp32


def add_mtst_openvino_rows(rows: dict, mtst_dir: Path, work: Path, calibration: list[str]) -> None:
    """mtst's own graph (embedding and every head) on OpenVINO: the plugin's default precision, and NNCF int8."""
    from mtst.backend import load_model
    from mtst.openvino_export import export_openvino

    for quantize in (None, "int8-static"):
        folder = export_openvino(
            mtst_dir, work / f"mtst-openvino-{quantize or 'default'}", quantize, calibration if quantize else None
        )
        model = load_model(folder, backend="openvino")  # as `mtst predict --backend openvino`: a stream per core
        runs_at = model.describe()["inference_precision"]
        streams = f"{model.streams} stream{'s' * (model.streams > 1)}"
        rows[f"mtst OpenVINO {quantize or 'default'}"] = (
            lambda t, m=model: m.run(t, batch_size=BATCH),
            "int8" if quantize else "bf16" if runs_at == "bf16" else "fp32",  # the ceiling it is measured against
            f"NNCF, {len(calibration)} local texts; other ops {runs_at}; {streams}"
            if quantize
            else f"OpenVINO CPU chose {runs_at}; {streams}",
        )
    # What `mtst predict --backend openvino` runs: the graph compiled with the heads' outputs alone.
    rows["mtst OpenVINO int8-static, labels only"] = (
        lambda t, m=model: m.run(t, batch_size=BATCH, embeddings=False),
        "int8",
        "predict: heads only, no embedding",
    )


def heads_read_base_embedding(model) -> bool:
    """True when the model's heads read the embedding it serves (no tuned branch between them)."""
    describe = getattr(model, "describe", None)
    return describe is None or describe().get("heads_read", "base embedding") == "base embedding"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calibration-texts", type=int, default=600)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--quick", action="store_true", help="300 texts, 1 run, 100 calibration texts")
    parser.add_argument("--short", action="store_true", help="short texts: BANKING77 and STS-B (peers-short)")
    parser.add_argument("--out", type=Path, default=RESULTS / "peers", help="writes OUT.json and OUT.md")
    args = parser.parse_args()
    if args.quick:
        args.texts, args.runs, args.calibration_texts = 300, 1, 100
        args.out = args.out.with_name(args.out.name + "-quick")
    if args.short:
        args.out = args.out.with_name(args.out.name + "-short")
    if not (args.model / "tasks.json").is_file():
        sys.exit(f"no mtst model at {args.model}: train one (make demo) or pass --model")

    import torch

    texts, source = (load_short_texts if args.short else load_texts)(args.texts)
    work = Path(tempfile.mkdtemp(prefix="mtst-bench-peers-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the exports in it take hundreds of MB
    rows, skipped, reference_model = build_rows(args.model, work, calibration_texts(args.calibration_texts))
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")

    for run, _, _ in rows.values():
        run(texts[:64])
    times = {name: [] for name in rows}
    outputs = {}
    for round_ in range(args.runs):
        for name, (run, _, _) in rows.items():
            start = time.perf_counter()
            outputs[name] = run(texts)
            times[name].append(time.perf_counter() - start)
        print(
            f"run {round_ + 1}/{args.runs}: " + ", ".join(f"{n} {len(texts) / t[-1]:.0f}/s" for n, t in times.items())
        )

    reference = outputs["mtst torch fp32"]
    use_heads = heads_read_base_embedding(reference_model)
    trained = [n for n, done in reference_model.trained.items() if done]
    ceilings = all_ceilings()
    flops = model_flops(reference_model.token_counts(texts), reference_model.encoder.transformer.config)
    st_median = statistics.median(times["sentence-transformers torch fp32"])
    results = {
        "texts": len(texts),
        "source": source,
        "runs": args.runs,
        "ceilings": ceilings,
        "model_gflop": flops / 1e9,
    }
    results["machine"] = machine()
    results["skipped"], results["rows"] = skipped, {}
    for name, (_, kind, note) in rows.items():
        out = outputs[name]
        embeddings = out if isinstance(out, np.ndarray) else out.embeddings
        if isinstance(out, np.ndarray) and use_heads:
            with torch.inference_mode():
                logits = reference_model.head_logits(torch.from_numpy(embeddings), trained)
            labels = {n: v.argmax(1).numpy() for n, v in logits.items()}
        elif isinstance(out, np.ndarray):
            labels = {}
        else:
            labels = {n: out.probabilities[n].argmax(1) for n in trained}
        median = statistics.median(times[name])
        results["rows"][name] = {
            "texts_per_s": len(texts) / median,
            "x_sentence_transformers": st_median / median,
            "precision": kind,
            "fraction_of_ceiling": flops / median / 1e9 / ceilings["bf16" if kind == "bf16" else kind],
            "min_cosine": None if embeddings is None else float((embeddings * reference.embeddings).sum(axis=1).min()),
            "head_agreement": {n: float((labels[n] == reference.probabilities[n].argmax(1)).mean()) for n in labels},
            "note": note,
            "runs_s": times[name],
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)


def machine() -> dict:
    import onnxruntime
    import torch

    from mtst.device import _cpu_flags

    name = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    versions = {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}
    for package in ("openvino", "nncf"):
        if importlib.util.find_spec(package):
            versions[package] = __import__(package).__version__
    isa = sorted(_cpu_flags() & {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8"})
    return {"cpu": name, "cores": len(os.sched_getaffinity(0)), "isa": isa, "load": os.getloadavg(), **versions}


def markdown(r: dict) -> str:
    m = r["machine"]
    c = r["ceilings"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['isa'])}); load {m['load'][0]:.1f}. "
        f"Texts: {r['texts']} ({r['source']}); batch {BATCH}; median of {r['runs']} interleaved runs.",
        f"Ceilings: fp32 {c['fp32']:.0f} GFLOP/s, bf16 {c['bf16']:.0f}, int8 {c['int8']:.0f} GOP/s; "
        f"model work {r['model_gflop']:.0f} GFLOP.",
        "",
        "| path | texts/s | × sentence-transformers | precision | % of its ceiling | min cosine vs mtst fp32 "
        "| head agreement (worst) | how |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in r["rows"].items():
        agree = min(row["head_agreement"].values()) if row["head_agreement"] else None
        cosine = "-" if row["min_cosine"] is None else f"{row['min_cosine']:.5f}"
        lines.append(
            f"| {name} | {row['texts_per_s']:.0f} | {row['x_sentence_transformers']:.2f} | {row['precision']} "
            f"| {100 * row['fraction_of_ceiling']:.0f}% | {cosine} "
            f"| {'-' if agree is None else f'{agree:.3f}'} | {row['note']} |"
        )
    for name, reason in r["skipped"].items():
        lines.append(f"| {name} | skipped | | | | | | {reason} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
