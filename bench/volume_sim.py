"""The volume_taker decision over seeded random markets (tests/volume_simulation.py): prints the figures of its
three invariants (inventory within one leg of flat, spend incl. fees within the budget, fills inside the band).

    python bench/volume_sim.py                # 20 seeds x 5,000 steps
    python bench/volume_sim.py 100 10000      # seeds, steps per seed
"""
import sys
import time

import _setup  # noqa: F401  (puts the repository on sys.path)
from tests.volume_simulation import simulate_seeds
from tests.volume_taker_standins import load_volume_taker


def main():
    seeds, steps = (int(arg) for arg in (sys.argv[1:] + ["20", "5000"][len(sys.argv[1:]):]))
    start = time.perf_counter()
    figures = simulate_seeds(load_volume_taker(), range(1, seeds + 1), steps)
    print(f"volume_taker simulation: {figures.summary()} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
