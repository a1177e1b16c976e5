#!/usr/bin/env python3
"""PyTorch reference values for lib/nn/init.ts and lib/tensor/stats.ts.

    python test/reference/init_diagnostics_reference.py \
        --names data/names.txt --out test/fixtures/init-diagnostics.json

Sections of the output:
  init.gains, init.errors    - calculate_gain values and the messages of its errors
  init.fans                  - _calculate_fan_in_and_fan_out for a few shapes
  init.cases                 - torch.nn.init.{kaiming,xavier}_{normal,uniform}_ on torch.empty(shape)
                               from a fresh torch.Generator().manual_seed(2147483647)
  init.sequence              - several init calls from ONE generator (the cached scalar normal)
  init.generator             - tensor.normal_(mean, std) and tensor.uniform_(a, b) directly
  init.lecture_kaiming       - the lecture's `randn * (5/3) / 30**0.5` against kaiming_normal_
  diagnostics.deep_step0     - the deep network of torch_reference.py after its step 0: every Tanh
                               output and its gradient, three weights (grad, data after the
                               update), with torch's statistics, histograms and the lecture's lines
  diagnostics.original_h     - h and hpreact of the "original" stage at step 0 (the lecture's
                               h.abs() > 0.99 image): mask statistics, dead neurons, histograms
  diagnostics.histograms     - torch.histogram on small edge cases (bins, density, constant input)
  diagnostics.formats        - Python's %-formatting of numbers ('%+.2f', '%.2f', '%+f', '%e')

Float32 arrays are stored as {"shape", "b64"}: base64 of the little-endian float32 bytes (exact
and compact). Scalars are JSON numbers (float32 values converted exactly to double).
Made with torch 2.13.0+cpu, 1 thread. Deterministic: two runs give the same file.
"""

import argparse
import base64
import json
import math
import os
import random
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # noqa: E402  (the lecture's code, shared with the main fixture)

SEED = 2147483647
torch.set_num_threads(1)


def b64(t):
    t = t.detach().contiguous().to(torch.float32)
    data = t.numpy().astype("<f4").tobytes()
    return {"shape": list(t.shape), "b64": base64.b64encode(data).decode("ascii")}


def item(t):
    return t.detach().item()


def err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    return None


# ----------------------------------------------------------------------------------------------
# init
# ----------------------------------------------------------------------------------------------

INIT_CASES = [
    # (name, function, kwargs)
    ("kaiming_normal", torch.nn.init.kaiming_normal_, {}),
    ("kaiming_normal_fan_out", torch.nn.init.kaiming_normal_, {"mode": "fan_out"}),
    ("kaiming_normal_tanh_fan_out", torch.nn.init.kaiming_normal_,
     {"mode": "fan_out", "nonlinearity": "tanh"}),
    ("kaiming_normal_leaky_0.2", torch.nn.init.kaiming_normal_,
     {"a": 0.2, "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_linear", torch.nn.init.kaiming_normal_, {"nonlinearity": "linear"}),
    ("kaiming_uniform", torch.nn.init.kaiming_uniform_, {}),
    ("kaiming_uniform_fan_out", torch.nn.init.kaiming_uniform_, {"mode": "fan_out"}),
    ("kaiming_uniform_tanh_fan_out", torch.nn.init.kaiming_uniform_,
     {"mode": "fan_out", "nonlinearity": "tanh"}),
    ("kaiming_uniform_a_sqrt5", torch.nn.init.kaiming_uniform_, {"a": math.sqrt(5)}),  # nn.Linear's
    ("xavier_normal", torch.nn.init.xavier_normal_, {}),
    ("xavier_normal_gain_5/3", torch.nn.init.xavier_normal_, {"gain": 5 / 3}),
    ("xavier_uniform", torch.nn.init.xavier_uniform_, {}),
    ("xavier_uniform_gain_relu", torch.nn.init.xavier_uniform_, {"gain": math.sqrt(2.0)}),
]
INIT_SHAPES = [[200, 30], [27, 100], [5, 3], [4, 3, 2, 2]]
BIG_SHAPE_CASES = ["kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform"]


def init_section():
    cg = torch.nn.init.calculate_gain
    gains = {nl: cg(nl) for nl in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                   "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh",
                                   "relu", "leaky_relu", "selu"]}
    gains["leaky_relu_0.2"] = cg("leaky_relu", 0.2)
    gains["leaky_relu_0"] = cg("leaky_relu", 0)
    gains["leaky_relu_sqrt5"] = cg("leaky_relu", math.sqrt(5))
    gains["tanh_ignores_param"] = cg("tanh", 123.0)

    errors = {
        "unknown": err(lambda: cg("gelu")),
        "leaky_relu_str": err(lambda: cg("leaky_relu", "0.1")),
        "leaky_relu_bool": err(lambda: cg("leaky_relu", True)),
        "fan_1d": err(lambda: torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(5))),
        "bad_mode": err(lambda: torch.nn.init.kaiming_normal_(torch.empty(3, 4), mode="fan_avg")),
    }

    fans = []
    for shape in [[3, 4], [200, 30], [30, 200], [16, 3, 5, 5], [4, 3, 2, 2], [8, 2, 3], [2, 7, 0]]:
        fi, fo = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        fans.append({"shape": shape, "fan_in": fi, "fan_out": fo})

    cases = []
    for shape in INIT_SHAPES:
        for name, fn, kw in INIT_CASES:
            if shape == [200, 30] and name not in BIG_SHAPE_CASES:
                continue  # keeps the file small: the other cases differ only in the scale
            g = torch.Generator().manual_seed(SEED)
            t = fn(torch.empty(shape), generator=g, **kw)
            cases.append({"name": name, "kwargs": kw, "shape": shape, "values": b64(t)})

    # several calls from one generator: [5, 3] has 15 (odd) elements, so the second call
    # starts with the scalar normal cached by the first
    g = torch.Generator().manual_seed(SEED)
    seq = [
        torch.nn.init.kaiming_normal_(torch.empty(5, 3), generator=g),
        torch.nn.init.kaiming_normal_(torch.empty(5, 3), generator=g, nonlinearity="tanh"),
        torch.nn.init.xavier_uniform_(torch.empty(27, 100), generator=g),
        torch.nn.init.kaiming_normal_(torch.empty(200, 30), generator=g, mode="fan_out"),
        torch.nn.init.xavier_normal_(torch.empty(3, 3), generator=g),
    ]
    sequence = {"calls": ["kaiming_normal [5,3]", "kaiming_normal tanh [5,3]",
                          "xavier_uniform [27,100]", "kaiming_normal fan_out [200,30]",
                          "xavier_normal [3,3]"],
                "values": [b64(t) for t in seq]}

    generator = []
    for n, mean, std in [(15, -1.3, 0.37), (16, -1.3, 0.37), (200, -1.3, 0.37),
                         (1000, 0.5, 2.0), (33, 3.0, 1e-3)]:
        g = torch.Generator().manual_seed(SEED)
        t = torch.empty(n).normal_(mean, std, generator=g)
        generator.append({"op": "normal", "n": n, "a": mean, "b": std, "values": b64(t)})
    for n, lo, hi in [(1000, -0.3162, 0.7071), (100, 2.0, 5.0), (7, -1e-3, 1e-3),
                      (100, 1.0, 1.0)]:
        g = torch.Generator().manual_seed(SEED)
        t = torch.empty(n).uniform_(lo, hi, generator=g)
        generator.append({"op": "uniform", "n": n, "a": lo, "b": hi, "values": b64(t)})

    # the lecture's "kaiming init" of W1 against kaiming_normal_ on the (in, out) weight
    g = torch.Generator().manual_seed(SEED)
    w_lecture = torch.randn((30, 200), generator=g) * (5 / 3) / (30 ** 0.5)
    g = torch.Generator().manual_seed(SEED)
    w_init = torch.nn.init.kaiming_normal_(torch.empty(30, 200), mode="fan_out",
                                           nonlinearity="tanh", generator=g)
    diff = (w_lecture - w_init).abs()
    lecture_kaiming = {
        "n": w_init.numel(),
        "n_equal": int((w_lecture == w_init).sum()),
        "max_abs_diff": item(diff.max()),
        "max_rel_diff": item((diff / w_init.abs().clamp_min(1e-30)).max()),
    }

    return {"gains": gains, "errors": errors, "fans": fans, "cases": cases,
            "sequence": sequence, "generator": generator, "lecture_kaiming": lecture_kaiming}


# ----------------------------------------------------------------------------------------------
# diagnostics
# ----------------------------------------------------------------------------------------------

def hist(t, bins=100, density=True):
    hy, hx = torch.histogram(t.detach().reshape(-1), bins=bins, density=density)
    return {"hy": hy.tolist(), "hx": hx.tolist()}


def deep_step0(data, expected):
    """Step 0 of torch_reference.deep_network, keeping the tensors the statistics come from."""
    g, C, layers, parameters = ref.build_deep(data["vocab_size"])
    names = ref.param_names(layers)
    Xtr, Ytr = data["Xtr"], data["Ytr"]
    ix = torch.randint(0, Xtr.shape[0], (ref.BATCH_SIZE,), generator=g)
    emb = C[Xtr[ix]]
    x = emb.view(emb.shape[0], -1)
    for layer in layers:
        x = layer(x)
    loss = F.cross_entropy(x, Ytr[ix])
    for layer in layers:
        layer.out.retain_grad()
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1
    for p in parameters:
        p.data += -lr * p.grad
    # the same run as the main fixture's deep_network.step0
    assert loss.item() == expected["loss"], (loss.item(), expected["loss"])

    tanh = []
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, ref.Tanh):
            t, tg = layer.out, layer.out.grad
            name = layer.__class__.__name__
            fwd = next(s for s in expected["forward"] if s["index"] == i)
            assert item(t.std()) == fwd["std"] and item(t.mean()) == fwd["mean"]
            tanh.append({
                "index": i, "type": name,
                "out": b64(t), "grad": b64(tg),
                "mean": item(t.mean()), "std": item(t.std()),
                "saturated_percent": item((t.abs() > 0.97).float().mean() * 100),
                "std_biased": item(t.std(unbiased=False)),
                "grad_mean": item(tg.mean()), "grad_std": item(tg.std()),
                # the lecture's print lines, formatted by Python from torch's float32 values
                "line": 'layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%' % (
                    i, name, t.mean().item(), t.std().item(),
                    ((t.abs() > 0.97).float().mean() * 100).item()),
                "grad_line": 'layer %d (%10s): mean %+f, std %e' % (
                    i, name, tg.mean().item(), tg.std().item()),
            })

    weights = []
    for n, p in zip(names, parameters):
        if n in ("C", "layer0.weight", "layer3.weight", "layer15.weight"):
            t = p.grad
            s = next(s for s in expected["parameters"] if s["name"] == n)
            assert item(t.std()) == s["grad_std"] and item(p.std()) == s["data_std"]
            weights.append({
                "name": n, "shape": list(p.shape), "grad": b64(t), "data": b64(p.data),
                "grad_mean": item(t.mean()), "grad_std": item(t.std()), "data_std": item(p.std()),
                "grad_data_ratio": item(t.std() / p.std()),
                "update_data_log10": item(((lr * t).std() / p.data.std()).log10()),
                "line": 'weight %10s | mean %+f | std %e | grad:data ratio %e' % (
                    tuple(p.shape), t.mean().item(), t.std().item(), (t.std() / p.std()).item()),
            })
    return {"lr": lr, "loss": loss.item(), "tanh": tanh, "weights": weights}


def original_h(data, expected):
    """h = tanh(embcat @ W1 + b1) of the "original" stage at step 0 (all plain randn)."""
    g, P = ref.init_mlp(data["vocab_size"], "original")
    Xtr = data["Xtr"]
    ix = torch.randint(0, Xtr.shape[0], (ref.BATCH_SIZE,), generator=g)
    emb = P["C"][Xtr[ix]]
    hpreact = emb.view(emb.shape[0], -1) @ P["W1"] + P["b1"]
    h = torch.tanh(hpreact)
    assert item((h.abs() > 0.99).float().mean() * 100) == expected["h_saturated_099_percent"]
    mask = h.abs() > 0.99
    return {
        "h": b64(h), "hpreact": b64(hpreact),
        "h_mean": item(h.mean()), "h_std": item(h.std()),
        "hpreact_mean": item(hpreact.mean()), "hpreact_std": item(hpreact.std()),
        "mask_count": int(mask.sum()),
        "mask_row_sums": mask.sum(1).tolist(),
        "saturated_099_percent": item((h.abs() > 0.99).float().mean() * 100),
        "dead_neurons": mask.all(0).nonzero().reshape(-1).tolist(),
        "hist_h": hist(h),
        "hist_hpreact": hist(hpreact),
        "hist_h_50_counts": hist(h, bins=50, density=False),
    }


def histogram_cases():
    g = torch.Generator().manual_seed(SEED)
    cases = []

    def add(name, x, bins, density):
        hy, hx = torch.histogram(x, bins=bins, density=density)
        cases.append({"name": name, "x": x.tolist(), "bins": bins, "density": density,
                      "hist": hy.tolist(), "bin_edges": hx.tolist()})

    add("randn_37_bins_7", torch.randn(37, generator=g), 7, True)
    add("randn_100_bins_10_counts", torch.randn(100, generator=g), 10, False)
    add("constant", torch.full((5,), 0.25), 4, True)
    add("two_values", torch.tensor([1.0, 2.0, 2.0, 1.0, 1.5]), 3, False)
    add("one_element", torch.tensor([-3.5]), 100, True)
    add("integers_0_10", torch.arange(11, dtype=torch.float32), 10, False)
    add("tiny_range", torch.tensor([1.0, 1.0000001, 1.0000002, 1.0000001]), 5, False)
    add("rand_1000_bins_100", torch.rand(1000, generator=g) * 3 - 1, 100, True)
    return cases


def formats(deep):
    rnd = random.Random(0)
    xs = [0.0, -0.0, 1.0, -1.0, 0.5, 0.125, 0.375, -0.125, 2.5, 0.005, 0.015, 0.025, 1.005,
          2.675, 1e-7, -1e-7, 5e-7, 1.5e-6, 9.9999995, 9.995, 99.995, 0.9999996, 9.9999996e-4,
          123456789.0, 1e22, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
          1 / 3, 2 / 3, 100.0, 1e-300, 0.0009981793653219938, 8.73114894186372e-13,
          -2.0372680972768897e-11, 2.78125, 0.0278125, 12.5, 0.625, float("nan"),
          float("inf"), float("-inf")]
    for t in deep["tanh"]:
        xs += [t["mean"], t["std"], t["saturated_percent"], t["grad_mean"], t["grad_std"]]
    for w in deep["weights"]:
        xs += [w["grad_mean"], w["grad_std"], w["grad_data_ratio"]]
    for _ in range(300):
        e = rnd.uniform(-12, 6)
        xs.append((-1) ** rnd.randint(0, 1) * 10 ** e)
    for _ in range(100):
        # float32 values near ties of 2 decimals
        xs.append(float(np.float32(rnd.randint(-10000, 10000) / 100 + 0.005)))
    out = []
    for x in xs:
        out.append({"x": x if math.isfinite(x) else str(x),
                    "+.2f": "%+.2f" % x, ".2f": "%.2f" % x, "+f": "%+f" % x, "e": "%e" % x,
                    "f": "%f" % x, "+e": "%+e" % x, ".3e": "%.3e" % x})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", default="data/names.txt", help="path to names.txt (default: %(default)s)")
    ap.add_argument("--out", default="test/fixtures/init-diagnostics.json", help="output JSON path (default: %(default)s)")
    ap.add_argument("--expected", default=os.path.join(os.path.dirname(__file__),
                                                       "../fixtures/torch-expected.json"),
                    help="the main fixture (torch_reference.py), checked against")
    args = ap.parse_args()
    expected = json.load(open(args.expected))
    data = ref.load_data(args.names)

    deep = deep_step0(data, expected["deep_network"]["step0"])
    result = {
        "torch_version": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "num_threads": torch.get_num_threads(),
        "seed": SEED,
        "init": init_section(),
        "diagnostics": {
            "deep_step0": deep,
            "original_h": original_h(data, expected["stages_step0_loss"]["original"]),
            "histograms": histogram_cases(),
            "formats": formats(deep),
        },
    }
    with open(args.out, "w") as f:
        json.dump(result, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")
    lk = result["init"]["lecture_kaiming"]
    print(f"torch {torch.__version__} ({result['cpu_capability']}) -> {args.out}")
    print(f"lecture kaiming vs kaiming_normal_: {lk['n_equal']}/{lk['n']} equal, "
          f"max rel diff {lk['max_rel_diff']:.3g}")
    for t in deep["tanh"]:
        print(t["line"])
    for t in deep["tanh"]:
        print(t["grad_line"])
    for w in deep["weights"]:
        print(w["line"])


if __name__ == "__main__":
    main()
