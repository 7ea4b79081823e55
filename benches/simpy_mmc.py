"""Baseline: the M/M/8 queue of scenarios/mmc-validation.yaml in SimPy, for scale.

Poisson arrivals at 6.4/s, 8 servers, exponential service with mean 1 s (load 0.8).
Prints the requests simulated per wall-clock second and the mean wait (Erlang C: 0.2860 s).
Usage: python benches/simpy_mmc.py [simulated_hours]
"""
import random
import sys
import time

import simpy

LAMBDA, MU, C = 6.4, 1.0, 8


def main(hours: float) -> None:
    rng = random.Random(7)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=C)
    stats = {"n": 0, "wait": 0.0}

    def request(env):
        arrived = env.now
        with servers.request() as req:
            yield req
            stats["wait"] += env.now - arrived
            stats["n"] += 1
            yield env.timeout(rng.expovariate(MU))

    def source(env):
        while True:
            yield env.timeout(rng.expovariate(LAMBDA))
            env.process(request(env))

    env.process(source(env))
    start = time.perf_counter()
    env.run(until=hours * 3600)
    wall = time.perf_counter() - start
    print(f"simpy {simpy.__version__}: {stats['n']} requests in {wall:.2f} s = "
          f"{stats['n'] / wall:.0f} requests/s, mean wait {stats['wait'] / stats['n']:.4f} s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0)
