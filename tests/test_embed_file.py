"""`mtst embed --input-file`: a failure midway leaves neither a partial file nor an output behind."""

import numpy as np
import pytest

from mtst import embedding_io


class BreaksOnSecondChunk:
    """The real encoder, except that its second encode() call raises `error`."""

    def __init__(self, encoder, error: BaseException) -> None:
        self._encoder = encoder
        self.error = error
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._encoder, name)

    def encode(self, texts, **kwargs):
        self.calls += 1
        if self.calls == 2:
            raise self.error
        return self._encoder.encode(texts, **kwargs)


@pytest.fixture
def lines(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("".join(f"text number {i}\n" for i in range(6)))
    return path


@pytest.mark.parametrize("suffix", [".npy", ".jsonl"])
@pytest.mark.parametrize("error", [RuntimeError("model broke"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_failure_midway_leaves_no_partial_file_and_no_output(encoder, lines, tmp_path, monkeypatch, suffix, error):
    breaking = BreaksOnSecondChunk(encoder, error)
    monkeypatch.setattr(embedding_io, "load_encoder", lambda model, precision: breaking)
    monkeypatch.setattr(embedding_io, "CHUNK", 2)  # three chunks: the second one fails
    output = tmp_path / "out" / f"vectors{suffix}"
    output.parent.mkdir()
    with pytest.raises(type(error)):
        embedding_io.embed_file(lines, output, None, 8, "fp32")
    assert breaking.calls == 2
    assert list(output.parent.iterdir()) == []  # no *.partial.npy, no output


@pytest.mark.parametrize("suffix", [".npy", ".jsonl"])
def test_a_finished_file_leaves_only_the_output(encoder, lines, tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(embedding_io, "load_encoder", lambda model, precision: encoder)
    monkeypatch.setattr(embedding_io, "CHUNK", 4)
    lines.write_text(lines.read_text() + "\n   \n")  # blank lines are dropped and the .npy trimmed
    output = tmp_path / "out" / f"vectors{suffix}"
    output.parent.mkdir()
    assert embedding_io.embed_file(lines, output, None, 8, "fp32") == 6
    assert [p.name for p in output.parent.iterdir()] == [output.name]
    if suffix == ".npy":
        texts = [f"text number {i}" for i in range(6)]
        np.testing.assert_allclose(np.load(output), encoder.encode(texts), atol=1e-5)
