"""`python -m mtst serve` with faults injected, for the fault tests only (tests/test_server_reliability.py).

    MTST_TEST_FAULTS=slow=1.0,kill_collector=__die__ python tests/fault_server.py serve --model DIR --port N

The variable is read here and nowhere in mtst itself. Faults, comma-separated:
  slow=SECONDS         every model call takes SECONDS longer (a batch is surely running when the test acts)
  kill_collector=TEXT  the batch collector dies (a bug outside any batch) when a waiting request holds TEXT
"""

import os
import sys
import time

from mtst import batching, cli, server


class SlowModel:
    """The served model, but every run() sleeps first."""

    def __init__(self, model, delay: float) -> None:
        self._model = model
        self.delay = delay

    def __getattr__(self, name):
        return getattr(self._model, name)

    def run(self, texts, *args, **kwargs):
        time.sleep(self.delay)
        return self._model.run(texts, *args, **kwargs)


def install(spec: str) -> None:
    faults = dict(item.split("=", 1) for item in spec.split(",") if item)
    if "slow" in faults:
        delay = float(faults["slow"])
        load = server.load_model
        server.load_model = lambda settings: SlowModel(load(settings), delay)
    if "kill_collector" in faults:
        marker = faults["kill_collector"]
        take = batching.Batcher._take

        def take_or_die(self):
            if any(marker in text for job in self._pending for text in job.texts):
                raise RuntimeError("injected fault: the collector dies")
            return take(self)

        batching.Batcher._take = take_or_die


if __name__ == "__main__":
    install(os.environ.get("MTST_TEST_FAULTS", ""))
    sys.argv = ["mtst", *sys.argv[1:]]
    cli.main()
