#!/usr/bin/env python3
"""Extra reference values for lib/tensor/random.ts (PyTorch's CPU generator and CPython's `random`).

../shared/fixtures/torch-reference.json holds the values torch 1.13 produced; this script adds
more cases from the torch installed here (2.13 was used), written to test/fixtures/random-extra.json:

    python test/reference/random_extra.py --out test/fixtures/random-extra.json

Every case starts from a fresh `torch.Generator().manual_seed(seed)` unless it says otherwise.
Float32 tensors are written with `.tolist()`, i.e. their exact values as JSON numbers.

What 2.13 and 1.13 do alike (checked against the 1.13 fixtures): randn (both paths), rand,
randint, multinomial with replacement and num_samples >= 2 (inverse CDF), multinomial without
replacement (exponential race). What differs: multinomial(p, 1, replacement=True) takes the
exponential race in 2.13 but the inverse CDF in 1.13, so the 2.13 values of that call are
written under a key that says so ("..._torch2"); and randint with high - low >= 2^28 draws
64 bits per value in 2.13 (1.13: only from 2^32 on), so no such range is written here.

randn for >= 16 elements runs the AVX2 kernel (normal_fill_AVX2) on x86 with AVX2 or AVX-512,
as on the machine that made the 1.13 fixtures; other CPUs (e.g. ARM) give other low bits.
"""

import argparse
import hashlib
import json
import platform
import random

import torch

SEED = 2147483647  # the lecture's seed


def fresh(seed=SEED):
    return torch.Generator().manual_seed(seed)


def sha256_f32(t):
    """sha256 of the tensor's float32 values as little-endian bytes (row-major)."""
    return hashlib.sha256(t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()).hexdigest()


def torch_cases():
    out = {}

    # randn: both code paths, and sizes that are not multiples of 16 (last 16 drawn again)
    out["randn_sizes"] = {str(n): torch.randn(n, generator=fresh()).tolist()
                          for n in (1, 2, 15, 16, 17, 31, 32, 33, 48, 100, 1000)}
    # larger tensors: sha256 of the float32 bytes, plus a few values to locate a failure
    big = {}
    for shape in ((30, 200), (1000000,)):
        t = torch.randn(shape, generator=fresh()).reshape(-1)
        big["x".join(map(str, shape))] = {"sha256": sha256_f32(t), "numel": t.numel(),
                                           "first3": t[:3].tolist(), "last3": t[-3:].tolist()}
    out["randn_big"] = big

    # the scalar path (numel < 16) caches r*sin for the next value, across calls; the vector
    # path (numel >= 16) neither uses nor clears that cache
    g = fresh()
    out["randn_sequence_sizes"] = [5, 3, 16, 1, 7, 2, 20, 1]
    out["randn_sequence"] = [torch.randn(n, generator=g).tolist() for n in out["randn_sequence_sizes"]]

    # manual_seed drops the cached value: randn(1) leaves one cached; after re-seeding, randn(2)
    # must start the stream again
    g = fresh()
    torch.randn(1, generator=g)
    g.manual_seed(SEED)
    out["randn_2_after_reseed"] = torch.randn(2, generator=g).tolist()

    # rand: 24-bit float32 uniforms
    out["rand_17"] = torch.rand(17, generator=fresh()).tolist()
    out["rand_3x5"] = torch.rand((3, 5), generator=fresh()).reshape(-1).tolist()

    # randint: low + random() % (high - low), one 32-bit draw each, for ranges below 2^28.
    # (From 2^28 on, torch 2.x draws 64 bits per value; torch 1.13 did so only from 2^32 on.)
    out["randint"] = [
        {"low": lo, "high": hi, "n": n, "values": torch.randint(lo, hi, (n,), generator=fresh()).tolist()}
        for lo, hi, n in ((-5, 5, 20), (0, 27, 50), (0, 2 ** 28 - 1, 10), (-(2 ** 27), 2 ** 27 - 1, 10))
    ]

    # multinomial
    p = torch.tensor([0.0026534071657806635 * 1.1663 ** i for i in range(27)], dtype=torch.float32)
    p = p / p.sum()
    counts = torch.tensor([0.0, 3.0, 5.0, 0.0, 10.0, 1.0])  # unnormalised, with zeros
    mult = {"probs": p.tolist(), "counts": counts.tolist()}
    # inverse CDF (with replacement, num_samples >= 2): same in 1.13 and 2.13
    mult["with_replacement_20_seed_plus_10"] = torch.multinomial(
        p, 20, replacement=True, generator=fresh(SEED + 10)).tolist()
    mult["counts_with_replacement_30"] = torch.multinomial(
        counts, 30, replacement=True, generator=fresh()).tolist()
    # exponential race (without replacement): same in 1.13 and 2.13
    g = fresh()
    mult["without_replacement_1_x10"] = [
        torch.multinomial(p, 1, replacement=False, generator=g).item() for _ in range(10)]
    mult["without_replacement_5"] = torch.multinomial(p, 5, replacement=False, generator=fresh()).tolist()
    g = fresh()
    mult["counts_without_replacement_1_x10"] = [
        torch.multinomial(counts, 1, replacement=False, generator=g).item() for _ in range(10)]
    # 2.13's path for num_samples=1 with replacement (exponential race, unlike 1.13)
    g = fresh()
    mult["with_replacement_1_x10_torch2"] = [
        torch.multinomial(p, 1, replacement=True, generator=g).item() for _ in range(10)]
    out["multinomial"] = mult

    # one generator through a mix of calls: the stream must advance exactly as PyTorch's
    g = fresh()
    mixed = {}
    mixed["randn_27x10_sha256"] = sha256_f32(torch.randn((27, 10), generator=g))
    mixed["randint"] = torch.randint(0, 182625, (32,), generator=g).tolist()
    mixed["rand_3"] = torch.rand(3, generator=g).tolist()
    mixed["multinomial_3"] = torch.multinomial(p, 3, replacement=True, generator=g).tolist()
    mixed["randn_4"] = torch.randn(4, generator=g).tolist()
    mixed["randn_20"] = torch.randn(20, generator=g).tolist()
    mixed["randn_1"] = torch.randn(1, generator=g).tolist()
    out["mixed_sequence"] = mixed

    # the default seed of torch.Generator()
    out["default_generator_initial_seed"] = torch.Generator().initial_seed()
    out["default_generator_randint_5"] = torch.randint(0, 1000, (5,), generator=torch.Generator()).tolist()
    # a seed above 2^32: only its low 32 bits reach mt19937
    out["seed_2p40_plus_5_randint_5"] = torch.randint(0, 1000, (5,), generator=fresh(2 ** 40 + 5)).tolist()
    return out


def python_cases():
    out = {}
    r = random.Random()
    out["seeds"] = {}
    for seed in (42, 0, 1, -3, 2 ** 32 + 7, 2 ** 40 + 123, 2147483647):
        r.seed(seed)
        out["seeds"][str(seed)] = [r.random() for _ in range(3)]
    r.seed(42)
    out["getrandbits_seed42"] = [{"k": k, "value": r.getrandbits(k)} for k in (1, 5, 31, 32, 33, 53)]
    r.seed(42)
    out["randbelow_seed42"] = [{"n": n, "value": r._randbelow(n)}
                               for n in (1, 2, 3, 10, 1000, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1)]
    r.seed(123)
    x = list(range(100))
    r.shuffle(x)
    out["shuffle_range100_seed123"] = x
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="test/fixtures/random-extra.json")
    args = ap.parse_args()
    data = {
        "generated_with": f"torch {torch.__version__} (CPU capability "
                          f"{torch.backends.cpu.get_cpu_capability()}), CPython {platform.python_version()}",
        "seed": SEED,
        "torch": torch_cases(),
        "python_random": python_cases(),
    }
    with open(args.out, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
