"""Shared helpers for the evidence benchmarks (benchmarks/bench_*.py).

- dataset loaders that read ../shared/datasets/ in place and return (texts, labels) lists;
- JSONL writers for mtst's record format (temporary files under benchmarks/cache/, git-ignored);
- a per-text embedding store for the frozen encoder, which also warms mtst's own embedding cache
  so the trainer's cached fast path does not embed the same texts again;
- `train_run`: mtst's trainer (`mtst.training.train`) with a run cache keyed by the config, the data
  files and the mtst source, so a run shared by two studies is trained once;
- scoring of a trained run on a full official test list, results (JSON + markdown table) and machine info.
"""

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("MTST_DATASETS", ROOT.parent / "shared" / "datasets"))
RESULTS = ROOT / "benchmarks" / "results"
CACHE = ROOT / "benchmarks" / "cache"
DATA_CACHE = CACHE / "data"
RUNS = CACHE / "runs"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MTST_CACHE_DIR", str(CACHE / "mtst-embeddings"))


# --- command line and process setup -------------------------------------------------------


def base_parser(doc: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small subsets and 1 epoch: a smoke test of the script")
    parser.add_argument(
        "--threads",
        default="auto",
        help="CPU cores to run on (mtst uses every core it may run on); 'auto': all of them, or 1 when the "
        "machine is already busy (1-minute load average at or above the core count), where oversubscribed "
        "threads run slower than one",
    )
    return parser


def setup(args: argparse.Namespace) -> dict:
    """Quiet logs, pin the cores, and return the machine description stored with every result."""
    import logging
    import warnings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.getLogger("mtst").setLevel(logging.ERROR)  # e.g. one truncation warning per training run
    warnings.filterwarnings("ignore", category=FutureWarning)
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    cores = sorted(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    if args.threads == "auto":
        n = 1 if load >= len(cores) and len(cores) > 1 else len(cores)
    else:
        n = max(1, min(int(args.threads), len(cores)))
    os.sched_setaffinity(0, set(cores[:n]))
    info = machine_info()
    info.update({"threads": n, "load_average_at_start": round(load, 2), "quick": bool(args.quick)})
    print(f"# {info['cpu']} ({info['cores']} cores), running on {n} core(s); load average {load:.1f}", flush=True)
    return info


def machine_info() -> dict:
    cpu, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu in ("unknown", "", platform.processor()):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    import torch

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "avx2": "avx2" in flags,
        "avx512": any(f.startswith("avx512") for f in flags),
        "gpu": torch.cuda.is_available(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "git_commit": commit,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --- datasets (read in place, never copied into the repository) ----------------------------


def dataset_path(*parts: str) -> Path:
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        raise SystemExit(f"{path} not found: the public datasets are expected at {DATASETS} (set MTST_DATASETS)")
    return path


def load_stsb(split: str = "test") -> tuple[list[str], list[str], list[float]]:
    """STS-B pairs; lines split on tabs by hand (quotes inside sentences break CSV readers)."""
    s1, s2, scores = [], [], []
    for line in dataset_path("stsb", "original", f"sts-{split}.csv").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 7:
            continue
        scores.append(float(fields[4]))
        s1.append(fields[5])
        s2.append(fields[6])
    return s1, s2, scores


def load_banking77(split: str) -> tuple[list[str], list[str]]:
    """BANKING77 `train` (10,003) or `test` (3,080): texts and intent labels."""
    with dataset_path("banking77", f"{split}.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def banking77_labels() -> list[str]:
    return json.loads(dataset_path("banking77", "categories.json").read_text())


def load_clinc150(split: str) -> tuple[list[str], list[str]]:
    """CLINC150 data_full.json: `train`, `val`, `test`, `oos_train`, `oos_val`, `oos_test`."""
    data = json.loads(dataset_path("clinc150", "data_full.json").read_text())
    return [t for t, _ in data[split]], [label for _, label in data[split]]


def load_snips(split: str) -> tuple[list[str], list[str]]:
    """SNIPS `train`, `valid` or `test`: seq.in and label pair by line number."""
    texts = dataset_path("snips", split, "seq.in").read_text(encoding="utf-8").splitlines()
    labels = dataset_path("snips", split, "label").read_text(encoding="utf-8").splitlines()
    if len(texts) != len(labels):
        raise SystemExit(f"snips/{split}: {len(texts)} texts but {len(labels)} labels")
    return [t.strip() for t in texts], [lab.strip() for lab in labels]


def load_smishing() -> tuple[list[str], list[str]]:
    """SMS smishing (Mishra & Soni 2022): label lower-cased, text read with errors='replace'.

    Texts that occur with two different labels are dropped (the gold label is ambiguous), and exact
    duplicates are kept once, so a seeded split cannot put one text on both sides.
    """
    with dataset_path("sms_smishing", "Dataset_5971.csv").open(encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.DictReader(f))
    pairs = [(r["TEXT"].strip(), r["label"].strip().lower()) for r in rows if r["TEXT"].strip()]
    labels_of: dict[str, set[str]] = {}
    for text, label in pairs:
        labels_of.setdefault(norm_key(text), set()).add(label)
    texts, labels, seen = [], [], set()
    for text, label in pairs:
        key = norm_key(text)
        if len(labels_of[key]) > 1 or key in seen:
            continue
        seen.add(key)
        texts.append(text)
        labels.append(label)
    return texts, labels


def norm_key(text: str) -> str:
    """The duplicate key mtst's data check uses: whitespace collapsed, lower case."""
    return re.sub(r"\s+", " ", text).strip().lower()


def dedupe(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Keep the first of texts that mtst's data check would call duplicates (training files must have none)."""
    seen, out_t, out_l = set(), [], []
    for text, label in zip(texts, labels, strict=True):
        key = norm_key(text)
        if key in seen or not text.strip():
            continue
        seen.add(key)
        out_t.append(text)
        out_l.append(label)
    return out_t, out_l


def stratified_split(
    texts: Sequence[str], labels: Sequence[str], test_fraction: float, seed: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    """A seeded stratified split: train texts, train labels, held-out texts, held-out labels."""
    from sklearn.model_selection import train_test_split

    a, b, la, lb = train_test_split(
        list(texts), list(labels), test_size=test_fraction, random_state=seed, stratify=list(labels)
    )
    return a, la, b, lb


def per_class_sample(
    texts: Sequence[str], labels: Sequence[str], k: int, seed: int, exclude: set[int] | None = None
) -> list[int]:
    """Indices of k examples of every label (seeded), skipping `exclude`."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if exclude is None or i not in exclude:
            by_label.setdefault(label, []).append(i)
    chosen = []
    for label in sorted(by_label):
        pool = by_label[label]
        chosen += [pool[j] for j in rng.choice(len(pool), size=min(k, len(pool)), replace=False)]
    return sorted(chosen)


def subsample(texts: Sequence[str], labels: Sequence[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    """At most n pairs, seeded and stratified where possible (for --quick)."""
    if len(texts) <= n:
        return list(texts), list(labels)
    rng = np.random.default_rng(seed)
    index = sorted(rng.choice(len(texts), size=n, replace=False))
    return [texts[i] for i in index], [labels[i] for i in index]


# --- JSONL for mtst's trainer ----------------------------------------------------------------


def write_jsonl(path: Path, rows: Sequence[dict]) -> Path:
    """Write records ({"text": ..., "<task>": "<label>"}) under benchmarks/cache/ (git-ignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if not path.exists() or path.read_text(encoding="utf-8") != body:
        path.write_text(body, encoding="utf-8")
    return path


def task_rows(task: str, texts: Sequence[str], labels: Sequence[str]) -> list[dict]:
    """Records labelled for one task only (other tasks' labels absent: partial labels)."""
    return [{"text": t, task: lab} for t, lab in zip(texts, labels, strict=True)]


def task_jsonl(name: str, task: str, texts: Sequence[str], labels: Sequence[str]) -> Path:
    """A deduplicated single-task JSONL file under benchmarks/cache/data/."""
    texts, labels = dedupe(texts, labels)
    return write_jsonl(DATA_CACHE / f"{name}.jsonl", task_rows(task, texts, labels))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


# --- frozen-encoder embeddings -----------------------------------------------------------------


class EmbeddingStore:
    """all-MiniLM-L6-v2 embeddings per text, kept on disk, so each text is embedded once for all studies."""

    def __init__(self) -> None:
        self._encoder = None
        self._fingerprint: str | None = None
        self.folder: Path | None = None
        self.vectors: dict[str, np.ndarray] = {}
        self.seconds = 0.0  # time spent embedding new texts
        self.embedded = 0

    @property
    def encoder(self):
        if self._encoder is None:
            from mtst.cache import encoder_fingerprint
            from mtst.encoder import SentenceEncoder

            self._encoder = SentenceEncoder()
            self._fingerprint = encoder_fingerprint(self._encoder)
            self.folder = CACHE / "store" / self._fingerprint[:16]
            if (self.folder / "texts.json").is_file():
                texts = json.loads((self.folder / "texts.json").read_text(encoding="utf-8"))
                array = np.load(self.folder / "vectors.npy")
                if len(texts) == len(array):
                    self.vectors = dict(zip(texts, array, strict=True))
        return self._encoder

    @property
    def fingerprint(self) -> str:
        _ = self.encoder
        return self._fingerprint

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        enc = self.encoder
        missing = sorted({t for t in texts if t not in self.vectors})
        if missing:
            began = time.perf_counter()
            out = enc.encode(missing, batch_size=64, show_progress=len(missing) > 2000)
            self.seconds += time.perf_counter() - began
            self.embedded += len(missing)
            self.vectors.update(zip(missing, out, strict=True))
            self._save()
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, enc.dim), np.float32)

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        texts = list(self.vectors)
        np.save(self.folder / "vectors.tmp.npy", np.stack([self.vectors[t] for t in texts]))
        (self.folder / "texts.tmp.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        os.replace(self.folder / "vectors.tmp.npy", self.folder / "vectors.npy")
        os.replace(self.folder / "texts.tmp.json", self.folder / "texts.json")

    def seconds_per_text(self, texts: Sequence[str], n: int = 256, seed: int = 0) -> float:
        """Embedding time per text, timed on a random sample of n of these texts (always recomputed)."""
        rng = np.random.default_rng(seed)
        sample = [texts[i] for i in rng.choice(len(texts), size=min(n, len(texts)), replace=False)]
        self.encoder.encode(sample[:16], batch_size=64)  # warm-up
        began = time.perf_counter()
        self.encoder.encode(sample, batch_size=64)
        return (time.perf_counter() - began) / len(sample)

    def warm_trainer_cache(self, config) -> None:
        """Put the texts the trainer will embed (train after its seeded dev split, and dev) in mtst's cache.

        Only speed depends on this: mtst's cache key is the text list plus the encoder's weights, so a
        miss (another split, another encoder) just makes the trainer embed the texts itself.
        """
        from mtst.cache import cached_encode
        from mtst.data import load_records, stratified_split

        specs = config.specs()
        train = load_records([config.data.train], specs)
        if config.data.dev:
            dev = load_records([config.data.dev], specs)
        else:
            train, dev = stratified_split(train, config.data.dev_fraction, config.seed)
        store = self

        class Shim:  # what cached_encode needs of an encoder
            dim = store.encoder.dim
            max_length = store.encoder.max_length
            precision = store.encoder.precision
            device = store.encoder.device

            @staticmethod
            def encode(texts, batch_size=64, show_progress=False):
                return store.embed(list(texts))

        for records in (train, dev):
            cached_encode(Shim, [r.text for r in records], self.fingerprint)


# --- training runs -------------------------------------------------------------------------------


def _mtst_source_hash() -> str:
    import mtst

    h = hashlib.sha256()
    for path in sorted(Path(mtst.__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _file_hash(path: str | None) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else ""


@dataclass
class Run:
    name: str
    folder: Path
    metrics: dict  # what mtst.training.train returned
    seconds: float  # wall time of train(): model load, embedding (unless cached), epochs, evaluation, save
    epoch_seconds: float  # the epochs alone (sum of history.jsonl's seconds)
    history: list[dict]
    reused: bool

    @property
    def trainable(self) -> int:
        """Trainable parameters: the most of any epoch (gradual unfreezing grows them; early-stopped heads
        are frozen by the end, so the final count can be lower)."""
        counts = [row.get("trainable_parameters", 0) for row in self.history]
        return int(max(counts + [self.metrics["trainable_parameters"]["trainable"]]))

    def dev(self, task: str, key: str = "accuracy") -> float:
        return float(self.metrics["dev"]["tasks"][task][key])


def run_folder(name: str, config: dict) -> Path:
    """Where train_run keeps this run: named by a hash of the config, the data files and mtst's source."""
    from mtst.config import parse_config

    parsed = parse_config(config)
    key_source = json.dumps(config, sort_keys=True) + "".join(
        _file_hash(p) for p in (parsed.data.train, parsed.data.dev, parsed.data.test)
    )
    if parsed.encoder.init_model:
        key_source += _file_hash(str(Path(parsed.encoder.init_model) / "heads.safetensors"))
    key_source += _mtst_source_hash()
    return RUNS / f"{name}-{hashlib.sha256(key_source.encode()).hexdigest()[:12]}"


def is_done(name: str, config: dict) -> bool:
    """True when train_run would reuse a stored run instead of training."""
    return (run_folder(name, config) / "bench_run.json").is_file()


MAX_CONFUSION_LABELS = 20
_ORIGINAL_CONFUSION_PNG = None


def _small_confusion_png(metrics: dict, title: str, path) -> None:
    """mtst's confusion-matrix picture, skipped for tasks with many labels.

    mtst sizes the figure by the label count and writes every cell's number: for BANKING77 (77 labels)
    that takes 30 to 70 s per run on this CPU, and CLINC150's 150 labels make a 20,000-pixel-wide image.
    The benchmarks do not use these pictures, so runs with more than 20 labels leave them out.
    """
    if len(metrics["labels"]) <= MAX_CONFUSION_LABELS:
        _ORIGINAL_CONFUSION_PNG(metrics, title, path)


def train_run(name: str, config: dict, store: EmbeddingStore | None = None) -> Run:
    """mtst.training.train on a config dict, or the stored result of the very same run.

    The run folder's name carries a hash of the config, the data files and mtst's source: any change
    retrains. `store` warms the frozen-encoder cache first, so the wall time of a `freeze: encoder` run then
    leaves out embedding the texts (EmbeddingStore.seconds_per_text estimates that one-off cost).
    """
    from mtst import metrics as mtst_metrics
    from mtst.config import parse_config
    from mtst.training import train

    global _ORIGINAL_CONFUSION_PNG
    if _ORIGINAL_CONFUSION_PNG is None:
        _ORIGINAL_CONFUSION_PNG = mtst_metrics.save_confusion_png
    parsed = parse_config(config)
    folder = run_folder(name, config)
    record = folder / "bench_run.json"
    if record.is_file():
        saved = json.loads(record.read_text())
        print(f"  [{name}] reusing the identical run in {folder.relative_to(ROOT)}", flush=True)
        return Run(name, folder, saved["metrics"], saved["seconds"], saved["epoch_seconds"], saved["history"], True)
    shutil.rmtree(folder, ignore_errors=True)
    if store is not None and parsed.encoder.freeze == "encoder" and parsed.encoder.cache_embeddings:
        store.warm_trainer_cache(parsed)
    print(f"  [{name}] training ...", flush=True)
    began = time.perf_counter()
    mtst_metrics.save_confusion_png = _small_confusion_png
    try:
        metrics = train(parsed, folder, quiet=True)
    finally:
        mtst_metrics.save_confusion_png = _ORIGINAL_CONFUSION_PNG
    seconds = time.perf_counter() - began
    history = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines() if line.strip()]
    epoch_seconds = float(sum(row["seconds"] for row in history))
    record.write_text(
        json.dumps(
            {
                "config": config,
                "metrics": metrics,
                "seconds": seconds,
                "epoch_seconds": epoch_seconds,
                "history": history,
            },
            indent=1,
        )
    )
    print(f"  [{name}] {len(history)} epoch(s), {seconds:.0f} s", flush=True)
    return Run(name, folder, metrics, seconds, epoch_seconds, history, False)


# --- scoring a trained run on a full test list --------------------------------------------------------


def load_heads(folder: Path):
    """The task heads of a saved mtst model (without loading its encoder)."""
    from safetensors.torch import load_file
    from torch import nn

    from mtst.model import HEADS_FILE, TASKS_FILE, make_head
    from mtst.tasks import read_task_file

    tasks = read_task_file(folder / TASKS_FILE).tasks
    state = load_file(folder / HEADS_FILE)
    dim = next(v.shape[1] for k, v in state.items() if k.endswith("weight") and v.ndim == 2)
    heads = nn.ModuleDict({spec.name: make_head(dim, spec) for spec in tasks})
    heads.load_state_dict(state)
    heads.eval()
    return heads, {spec.name: spec for spec in tasks}


def head_probabilities(folder: Path, task: str, embeddings: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class probabilities of one head over precomputed frozen-encoder embeddings."""
    import torch

    heads, specs = load_heads(folder)
    with torch.inference_mode():
        logits = heads[task](torch.from_numpy(np.asarray(embeddings, dtype=np.float32)))
        probs = torch.softmax(logits.float(), -1).numpy()
    return probs, list(specs[task].labels)


def model_probabilities(folder: Path, texts: Sequence[str], tasks: Sequence[str]) -> tuple[dict, dict, float]:
    """The saved model run end to end (its own encoder): probabilities and labels per task, and seconds."""
    from mtst.model import MultiTaskModel

    model = MultiTaskModel.load(folder, device="cpu")
    began = time.perf_counter()
    outputs = model.run(list(texts), tasks=list(tasks), batch_size=64)
    seconds = time.perf_counter() - began
    return dict(outputs.probabilities), {t: list(model.tasks[t].labels) for t in tasks}, seconds


def classification_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Accuracy and macro-F1 (over the gold labels present), in percent, and n."""
    from sklearn.metrics import accuracy_score, f1_score

    gold, predicted = list(gold), list(predicted)
    return {
        "accuracy": 100 * float(accuracy_score(gold, predicted)),
        "macro_f1": 100 * float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0)),
        "n": len(gold),
    }


def score_probabilities(probs: np.ndarray, labels: Sequence[str], gold: Sequence[str]) -> dict:
    return classification_scores(gold, [labels[i] for i in probs.argmax(axis=1)])


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


# --- results ---------------------------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def result_path(name: str, quick: bool, suffix: str) -> Path:
    """benchmarks/results/<name>.<suffix>; --quick smoke runs go to the git-ignored benchmarks/cache/ instead."""
    folder = CACHE / "results-quick" if quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.{suffix}"


def write_results(name: str, info: dict, payload: dict, tables: dict[str, str], began: float) -> Path:
    """benchmarks/results/<name>.json (or <name>.quick.json): machine, tables and every measured number."""
    info = {**info, "load_average_at_end": round(os.getloadavg()[0], 2), "wall_seconds": round(time.time() - began)}
    path = result_path(name, info.get("quick", False), "json")
    body = {"benchmark": name, "machine": info, "tables": tables, **payload}
    path.write_text(json.dumps(body, indent=2, default=_json_default) + "\n")
    for title, table in tables.items():
        print(f"\n## {title}\n\n{table}")
    print(f"\nwrote {path.relative_to(ROOT)} ({info['wall_seconds']} s)")
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value.relative_to(ROOT)) if value.is_relative_to(ROOT) else str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def save_figure(fig, name: str, quick: bool, dpi: int = 110) -> Path:
    """Lay out, save as benchmarks/results/<name>.png (or .quick.png) and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = result_path(name, quick, "png")
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def label_counts(labels: Sequence[str]) -> dict[str, int]:
    return dict(Counter(labels))


# --- time guards for fine-tuning ------------------------------------------------------------------------


def probe_costs(config: dict, texts: Sequence[str], batches: int = 8, seed: int = 0) -> dict:
    """Seconds per text for this config, timed on a few real batches of training texts.

    Returns "train_per_text" (a training step: forward, loss, backward), "eval_per_text" (the dev pass the
    trainer makes each epoch), "once_per_text" (the one-off pass of frozen lower blocks that `freeze: top`
    caches) and "full_per_text" (a whole-model forward pass, as for the test set). Batches are drawn the
    trainer's way (`make_batches`: similar lengths together) from the sample's own length mix; purely random
    batches pad far more and made fine-tuning estimates about twice too long.
    """
    import torch
    import torch.nn.functional as F

    from mtst.config import parse_config
    from mtst.training import apply_freezing, build_model, make_batches

    parsed = parse_config(config)
    model = build_model(parsed)
    strategy = parsed.encoder.freeze
    apply_freezing(model, parsed, parsed.epochs - 1 if strategy == "gradual" else 0, set())
    enc = model.encoder
    layer = enc.num_layers - parsed.encoder.top_layers if strategy == "top" else 0
    ids = enc.tokenize(list(texts))[0]
    drawn = make_batches(np.array([len(row) for row in ids]), parsed.batch_size, seed, 0)
    task = parsed.tasks[0].name
    totals = dict.fromkeys(("train_per_text", "eval_per_text", "once_per_text", "full_per_text"), 0.0)
    n = 0
    for step in range(batches + 1):  # the first batch warms up and is not counted
        index = drawn[step % len(drawn)]
        batch = enc.collate([ids[i] for i in index])
        times = {}
        model.eval()
        t0 = time.perf_counter()
        with torch.inference_mode():
            enc(**batch)
        times["full_per_text"] = time.perf_counter() - t0
        if strategy == "top":
            t0 = time.perf_counter()
            with torch.inference_mode():
                hidden = enc.hidden_below(layer, **batch)
            times["once_per_text"] = time.perf_counter() - t0
            hidden = hidden.clone()
            t0 = time.perf_counter()
            with torch.inference_mode():
                enc.forward_from(layer, hidden, batch["attention_mask"])
            times["eval_per_text"] = time.perf_counter() - t0
        else:
            times["eval_per_text"] = times["full_per_text"]
        model.train()
        t0 = time.perf_counter()
        emb = enc.forward_from(layer, hidden, batch["attention_mask"]) if strategy == "top" else enc.features(**batch)
        F.cross_entropy(model.heads[task](emb), torch.zeros(len(index), dtype=torch.long)).backward()
        model.zero_grad(set_to_none=True)
        times["train_per_text"] = time.perf_counter() - t0
        if step > 0:
            n += len(index)
            for key, value in times.items():
                totals[key] += value
    del model
    return {key: value / max(1, n) for key, value in totals.items()}


def plan_shared_epochs(
    jobs: dict[str, dict], budget_s: float, wanted: int, quick: bool = False
) -> tuple[int, dict[str, str], float]:
    """One epoch count for several fine-tuning runs, the most that fits the budget together.

    jobs: name -> {"costs": probe_costs(...), "sizes": (n_train, n_dev, n_test), "done": epochs -> bool}, where
    "done" says whether the run with that many epochs is already stored (it then costs nothing). When even
    one epoch does not fit, the dearest runs are dropped first. Returns (epochs, {dropped: reason}, estimate).
    """
    if quick:
        return 1, {}, 0.0
    active = list(jobs)
    while active:
        for epochs in range(wanted, 0, -1):
            total = sum(
                0.0
                if jobs[j].get("done", lambda e: False)(epochs)
                else plan_epochs(jobs[j]["costs"], *jobs[j]["sizes"], 1e12, epochs)[1]
                for j in active
            )
            if total <= budget_s:
                dropped = {
                    j: f"not run: did not fit the time budget ({budget_s / 60:.0f} min)"
                    for j in jobs
                    if j not in active
                }
                return epochs, dropped, total
        dearest = max(active, key=lambda j: jobs[j]["costs"]["train_per_text"] * jobs[j]["sizes"][0])
        active.remove(dearest)
    return 0, {j: f"not run: one epoch did not fit the time budget ({budget_s / 60:.0f} min)" for j in jobs}, 0.0


def plan_epochs(
    costs: dict, n_train: int, n_dev: int, n_test: int, budget_s: float, wanted: int, minimum: int = 1
) -> tuple[int, float]:
    """Epochs that fit a time budget (the one-off pass, each epoch's training and dev pass, the final test
    pass), and the estimated seconds for that many."""
    per_epoch = costs["train_per_text"] * n_train + costs["eval_per_text"] * n_dev
    fixed = costs["once_per_text"] * (n_train + n_dev) + costs["full_per_text"] * n_test + 20  # + model load/save
    epochs = max(minimum, min(wanted, int((budget_s - fixed) // max(per_epoch, 1e-6))))
    return epochs, fixed + epochs * per_epoch


# --- `freeze: top` models: the frozen lower blocks run once for a test list ----------------------------------


class LowerBlocks:
    """Token vectors below the top `top_layers` blocks of the shipped encoder, for one list of texts.

    Every `freeze: top` model shares these frozen lower blocks, so a test list is run through them once
    and each model only runs its own top blocks (checked: its lower weights must equal the shipped ones).
    """

    def __init__(self, store: EmbeddingStore, texts: Sequence[str], top_layers: int) -> None:
        enc = store.encoder
        self.layer = enc.num_layers - top_layers
        self.reference = {k: v.clone() for k, v in enc.transformer.state_dict().items() if self._lower(k)}
        self.ids, _ = enc.tokenize(list(texts))
        began = time.perf_counter()
        self.hidden = enc.lower_block_outputs(self.ids, self.layer)
        self.seconds = time.perf_counter() - began

    def _lower(self, key: str) -> bool:
        match = re.search(r"encoder\.layer\.(\d+)\.", key)
        return key.startswith("embeddings.") or (match is not None and int(match.group(1)) < self.layer)

    def probabilities(self, folder: Path, tasks: Sequence[str]) -> tuple[dict, dict, float]:
        """Like model_probabilities, for a saved `freeze: top` model; raises if its lower blocks moved."""
        import torch
        from torch import nn

        from mtst.model import MultiTaskModel

        model = MultiTaskModel.load(folder, device="cpu")
        enc = model.encoder
        state = enc.transformer.state_dict()
        moved = [k for k, v in self.reference.items() if not torch.equal(state[k], v)]
        if moved:
            raise RuntimeError(f"{folder}: lower-block weights differ from the shipped encoder ({moved[:3]} ...)")
        probs = {t: np.zeros((len(self.ids), len(model.tasks[t].labels)), np.float32) for t in tasks}

        def score(index: list[int]) -> None:
            rows = [self.hidden[i] for i in index]
            padded = nn.utils.rnn.pad_sequence(rows, batch_first=True)
            mask = torch.zeros(padded.shape[:2], dtype=torch.long)
            for r, t in enumerate(rows):
                mask[r, : len(t)] = 1
            emb = enc.forward_from(self.layer, padded, mask)
            for t in tasks:
                probs[t][index] = torch.softmax(model.heads[t](emb).float(), -1).numpy()

        began = time.perf_counter()
        enc.run_batches(self.ids, 64, score)
        labels = {t: list(model.tasks[t].labels) for t in tasks}
        return probs, labels, time.perf_counter() - began
