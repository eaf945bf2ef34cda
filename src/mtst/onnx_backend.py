"""OnnxModel: runs an `mtst export` folder with onnxruntime and the `tokenizers` library.

Nothing here (or in what it imports) pulls in torch or transformers, so a server or a script
that only predicts starts in a fraction of a second and needs neither installed. It answers the
same calls as MultiTaskModel: .tasks, .trained, .run, .predictions, .predict, .token_counts.
"""

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mtst.calibration import scaled_softmax
from mtst.errors import MtstError
from mtst.inputs import validate_texts
from mtst.outputs import Outputs, Prediction, check_tasks, predict_with, to_predictions
from mtst.routing import Given
from mtst.streams import length_sorted_batches, map_batches, policy_threads, resolve_streams, threads_per_stream
from mtst.tasks import TaskSpec, read_task_file
from mtst.truncation import truncate

log = logging.getLogger("mtst")

# The export folder's layout; export.py writes what this module reads.
FORMAT = "mtst-onnx"
FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
TASKS_FILE = "tasks.json"
TOKENIZER_FILE = "tokenizer.json"
INPUT_NAMES = ("input_ids", "attention_mask")
EMBEDDINGS_OUTPUT = "embeddings"
OPENVINO_FORMAT = "mtst-openvino"  # the same folder with an OpenVINO model instead (mtst.openvino_backend)
# Each export format: its name in messages and the backend that opens it.
EXPORT_FORMATS = {FORMAT: ("ONNX", "onnx"), OPENVINO_FORMAT: ("OpenVINO", "openvino")}


def logits_output(task: str) -> str:
    """The graph output holding one task's logits."""
    return f"logits_{task}"


def session_options(threads: int):
    """onnxruntime options for one model: `threads` per run, every graph optimisation."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # the graph is one chain of layers: nothing to run side by side
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


def pad_rows(rows: list[list[int]], pad_id: int) -> dict[str, np.ndarray]:
    """The graph's inputs for a batch of token rows, padded only to its longest row."""
    width = max(len(r) for r in rows)
    input_ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return {"input_ids": input_ids, "attention_mask": mask}


class OnnxModel:
    """An exported mtst model: one onnxruntime session computing embeddings and every head's logits.

    Subclasses run other runtimes' exports of the same graph (mtst.openvino_backend): they name their folder
    format (EXPORT_FORMATS) and graph file, and replace open_graph and infer.
    """

    FORMAT = FORMAT
    MODEL_FILE = MODEL_FILE

    def __init__(self, folder: Path, threads: int | None = None, streams: int = 1) -> None:
        from tokenizers import Tokenizer

        if not folder.is_dir():
            kind = EXPORT_FORMATS[self.FORMAT][0]
            raise MtstError(f"{kind} model folder {folder} does not exist; create one with `mtst export`")
        self.folder = folder
        self.manifest = read_manifest(folder, self.FORMAT)
        task_file = read_task_file(folder / TASKS_FILE)
        self.tasks: dict[str, TaskSpec] = {spec.name: spec for spec in task_file.tasks}
        self.trained = {name: task_file.trained.get(name, False) for name in self.tasks}
        self.max_length = task_file.max_length
        self.truncation = task_file.truncation
        self.dim = int(self.manifest["dim"])
        self.pad_id = int(self.manifest["pad_token_id"])
        self.quantize = self.manifest.get("quantize")
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        # Cut like the torch encoder (mtst.truncation, [CLS] and [SEP] kept); pad per batch ourselves, to its longest.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        # Batches run `streams` at a time (mtst.streams), each on `threads` cores. One stream on every core by
        # default: onnxruntime's own thread pool already keeps cores busy, so several streams gain only 3-14%
        # while holding several batches' activations (+300 MB peak on the benchmark) and giving a lone
        # request fewer cores.
        self.streams = resolve_streams(streams)
        self.threads = threads or threads_per_stream(self.streams, policy_threads())
        self.open_graph(folder / self.MODEL_FILE)

    def open_graph(self, path: Path) -> None:
        """One onnxruntime session for every stream: its run() is safe to call from several threads."""
        import onnxruntime as ort

        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=session_options(self.threads), providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception types for broken files
            raise MtstError(f"could not load the ONNX graph {path}: {err}") from err

    def infer(self, outputs: list[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The graph's `outputs` (by name, in that order) for one padded batch."""
        return self.session.run(outputs, feed)

    @classmethod
    def load(cls, directory: str | Path, threads: int | None = None, streams: int = 1) -> "OnnxModel":
        """Open a folder written by `mtst export`; raises MtstError naming the path if it is not one.

        streams: batches run at once (bulk jobs: one per core is 3-14% faster); threads: cores each uses
        (default: its share of the cores).
        """
        return cls(Path(directory), threads, streams)

    # --- tokens -------------------------------------------------------------------

    def tokenize(self, texts: Sequence[str]) -> tuple[list[list[int]], int]:
        """Token ids per text, truncated to max_length; also how many texts were cut."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=True)
        ids = [e.ids for e in encodings]
        cut = sum(1 for row in ids if len(row) > self.max_length)
        return [truncate(row, self.max_length, self.truncation) for row in ids], cut

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes after truncation (for batching by a token budget)."""
        return [len(ids) for ids in self.tokenize(texts)[0]]

    def _collate(self, rows: list[list[int]]) -> dict[str, np.ndarray]:
        return pad_rows(rows, self.pad_id)

    # --- inference ----------------------------------------------------------------

    def check_tasks(self, tasks: Sequence[str] | None) -> list[str]:
        return check_tasks(tasks, self.tasks)

    def run(
        self, texts: Sequence[str], tasks: Sequence[str] | None = None, batch_size: int = 32, embeddings: bool = True
    ) -> Outputs:
        """Embeddings (None with embeddings=False) and every requested task's probabilities, a graph run a batch."""
        names = self.check_tasks(tasks)
        texts = validate_texts(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32) if embeddings else None
        probs = {n: np.zeros((len(texts), len(self.tasks[n].labels)), dtype=np.float32) for n in names}
        if not texts:
            return Outputs(vectors, probs)
        ids, cut = self.tokenize(texts)
        if cut:
            log.warning(
                "%d of %d texts were longer than %d tokens and were truncated", cut, len(texts), self.max_length
            )
        wanted = ([EMBEDDINGS_OUTPUT] if embeddings else []) + [logits_output(n) for n in names]

        def score(index: list[int]) -> None:
            result = self.infer(wanted, self._collate([ids[i] for i in index]))
            if vectors is not None:
                vectors[index] = result.pop(0)
            for n, logits in zip(names, result, strict=True):
                probs[n][index] = scaled_softmax(logits, self.tasks[n].temperature)

        batches = length_sorted_batches([len(row) for row in ids], batch_size, self.streams)
        for _ in map_batches(score, batches, self.streams):  # the runtimes release the GIL while they run
            pass
        return Outputs(vectors, probs)

    def predictions(
        self, outputs: Outputs, given: Given | Sequence[Given] | None = None
    ) -> list[dict[str, Prediction]]:
        """Turn probability arrays into a label, score and distribution per text and task (mtst.outputs)."""
        return to_predictions(outputs, self.tasks, given, self.trained)

    def predict(
        self,
        texts: Sequence[str],
        tasks: Sequence[str] | None = None,
        batch_size: int = 32,
        given: Given | Sequence[Given] | None = None,
    ) -> list[dict[str, Prediction]]:
        """For each text and each requested task: the label, its probability and the full distribution."""
        return predict_with(self, texts, tasks, batch_size, given)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings only, like SentenceEncoder.encode: an (n, dim) float32 array in the caller's order."""
        return self.run(texts, tasks=[], batch_size=batch_size).embeddings

    def describe(self) -> dict:
        """What runs: the export's precision and the embedding it serves (recorded by `mtst export`)."""
        branches = self.manifest.get("branches", {"embedding": "base", "tuned_blocks": 0, "stsb": None})
        return {"backend": EXPORT_FORMATS[self.FORMAT][1], "precision": self.quantize or "fp32", **branches}


def read_manifest(folder: Path, expected: str = FORMAT) -> dict:
    path = folder / MANIFEST_FILE
    kind = EXPORT_FORMATS[expected][0]
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise MtstError(
            f"{path} is missing: {folder} is not an {kind} export (create one with `mtst export`)"
        ) from None
    except ValueError as err:
        raise MtstError(f"{path} is broken ({err}); export the model again") from err
    found = manifest.get("format")
    if found != expected and found in EXPORT_FORMATS:
        raise MtstError(
            f"{folder} is an {EXPORT_FORMATS[found][0]} export: open it with --backend {EXPORT_FORMATS[found][1]}"
        )
    if found != expected or manifest.get("format_version") != FORMAT_VERSION:
        raise MtstError(
            f"{path} is not an mtst {kind} export of format version {FORMAT_VERSION}; export the model again"
        )
    return manifest
