"""Which records go together: shuffled batches of similar length, the same for a given seed and epoch."""

import numpy as np

CHUNK_BATCHES = 16  # batches are drawn from length-sorted chunks of this many, to pad little


def make_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Shuffled batches of similar length: the same for a given seed and epoch, whatever ran before."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    batches = []
    chunk = batch_size * CHUNK_BATCHES
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int, world_size: int = 1) -> list:
    """The global batches one epoch runs: every process draws the same ones and keeps its share of each,
    so a batch with fewer records than processes is left out."""
    batches = make_batches(lengths, batch_size, seed, epoch)
    return [b for b in batches if len(b) >= world_size] if world_size > 1 else batches
