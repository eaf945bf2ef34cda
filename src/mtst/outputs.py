"""What a model run returns, shared by the torch and ONNX backends. Free of torch on purpose."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mtst.inputs import validate_texts
from mtst.routing import Given, applies, check_given, dependency_order, with_dependencies
from mtst.tasks import TaskSpec


@dataclass
class Prediction:
    """One task's answer for one text.

    label is None where the head abstained (its confidence is under the task's floor) or does not apply to
    this text (applies_when); the distribution is always the head's own. score is the probability of the
    best label (of the given label, where the caller gave it).
    """

    label: str | None
    score: float
    distribution: dict[str, float]
    abstained: bool = False  # confidence under the task's floor
    applies: bool = True  # False: the text is not of a kind this head answers for
    given: bool = False  # the caller said this task's label; it was not predicted

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "score": self.score,
            "distribution": self.distribution,
            "abstained": self.abstained,
            "applies": self.applies,
            "given": self.given,
        }


@dataclass
class Outputs:
    """Everything one pass over a list of texts gives: embeddings and each task's probabilities."""

    embeddings: np.ndarray | None  # (n, dim); None when the caller asked for labels only (run(embeddings=False))
    probabilities: dict[str, np.ndarray]  # task -> (n, n_labels)

    def __len__(self) -> int:
        """How many texts (labels-only outputs with no task hold none: 0)."""
        if self.embeddings is not None:
            return len(self.embeddings)
        return len(next(iter(self.probabilities.values()), ()))


def to_predictions(
    outputs: Outputs,
    tasks: Mapping[str, TaskSpec],
    given: Given | Sequence[Given] | None = None,
    trained: Mapping[str, bool] | None = None,
) -> list[dict[str, Prediction]]:
    """Per text and task: the label (given, predicted, or None), its score and the full distribution.

    Tasks are settled in dependency order, so a head whose applies_when rules the text out says so. A router
    (a task others depend on) rules only when its label is known: given, or predicted by a trained head that
    did not abstain.
    """
    n = len(outputs)
    given_rows = check_given(given, n, tasks)
    present = [t for t in dependency_order(list(tasks.values())) if t in outputs.probabilities]
    result: list[dict[str, Prediction]] = [{} for _ in range(n)]
    for i in range(n):
        routes: dict[str, str | None] = dict(given_rows[i])
        inapplicable: set[str] = set()
        for name in present:
            spec, p = tasks[name], outputs.probabilities[name][i]
            distribution = {label: float(v) for label, v in zip(spec.labels, p, strict=True)}
            best = spec.labels[int(p.argmax())]
            if name in given_rows[i]:
                label = given_rows[i][name]
                result[i][name] = Prediction(label, distribution[label], distribution, given=True)
                routes[name] = label
            elif not applies(spec, routes, inapplicable):
                result[i][name] = Prediction(None, distribution[best], distribution, applies=False)
                inapplicable.add(name)
            elif spec.floor is not None and distribution[best] < spec.floor:
                result[i][name] = Prediction(None, distribution[best], distribution, abstained=True)
            else:
                result[i][name] = Prediction(best, distribution[best], distribution)
                routes[name] = best if trained is None or trained.get(name, False) else None
    return result


def predict_with(model, texts, tasks, batch_size, given) -> list[dict[str, "Prediction"]]:
    """model.predict for either backend: run the requested heads and those they depend on, answer the requested."""
    names = model.check_tasks(tasks)
    check_given(given, len(texts), model.tasks)  # before the model runs: a typo costs nothing
    if not names:
        return [{} for _ in validate_texts(texts)]
    outputs = model.run(texts, with_dependencies(names, model.tasks), batch_size, embeddings=False)
    return [{t: row[t] for t in names} for row in model.predictions(outputs, given)]


def check_tasks(requested: Sequence[str] | None, known: Mapping[str, TaskSpec]) -> list[str]:
    """The requested task names (all when None), or an error naming the unknown ones."""
    from mtst.errors import MtstError

    if requested is None:
        return list(known)
    unknown = [t for t in requested if t not in known]
    if unknown:
        raise MtstError(f"unknown task(s) {', '.join(unknown)}; this model has: {', '.join(known)}")
    return list(requested)
