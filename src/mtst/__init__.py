"""mtst: one small sentence encoder shared by several text classifiers."""

from mtst.errors import MtstError

__version__ = "0.1.0"

__all__ = ["MtstError", "__version__", "SentenceEncoder", "MultiTaskModel", "TaskSpec"]


def __getattr__(name: str):
    # Lazy imports keep `import mtst` (and the torch-free ONNX backend) fast.
    if name == "SentenceEncoder":
        from mtst.encoder import SentenceEncoder

        return SentenceEncoder
    if name in ("MultiTaskModel", "TaskSpec"):
        from mtst import model

        return getattr(model, name)
    raise AttributeError(name)
