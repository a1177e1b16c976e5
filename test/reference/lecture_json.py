#!/usr/bin/env python3
"""Writes data/lecture.json: the lecture's printed values and the PyTorch values the notebooks show.

Two parts:
- `lecture`: numbers and lines printed in Andrej Karpathy's lecture notebook (makemore part 3, as saved),
  typed in below, since no program can recompute them: its final losses per stage and the per-layer lines
  of its last run (gain 1.0).
- `torch`: a small extract of test/fixtures/torch-expected.json (made by torch_reference.py with torch
  2.13): the step-0 losses of every stage and the deep network's statistics after step 0 and after the
  lecture's 1,001 steps, without histograms.

lib/lecture.ts reads the file (`mm.lecture`); the notebooks and the tests read that module.

Command (from the repository root; both arguments have these defaults):

    python3 test/reference/lecture_json.py \
        --fixture test/fixtures/torch-expected.json --out data/lecture.json
"""
import argparse
import json

ABOUT = ("The lecture's printed values and PyTorch's values that the notebooks show beside ours; "
         "made by test/reference/lecture_json.py, read by lib/lecture.ts (mm.lecture).")

LECTURE = {
    "source": "Andrej Karpathy, 'Building makemore Part 3: Activations & Gradients, BatchNorm' (2022), "
              "the notebook makemore_part3_bn.ipynb as saved in karpathy/nn-zero-to-hero",
    # The final losses the lecture reports after 200,000 steps, with the digits it gives.
    # (The softmax fix is quoted to two decimals in the lecture.)
    "finalLosses": {
        "original": {"train": 2.1245, "dev": 2.1682, "digits": 4},
        "fix_softmax": {"train": 2.07, "dev": 2.13, "digits": 2},
        "fix_tanh": {"train": 2.0356, "dev": 2.1027, "digits": 4},
        "kaiming": {"train": 2.0377, "dev": 2.1070, "digits": 4},
        "batchnorm": {"train": 2.0668, "dev": 2.1048, "digits": 4},
    },
    # The per-layer lines of the lecture's diagnostic cells; its notebook was last run with
    # `layer.weight *= 1.0 #5/3`, i.e. gain 1 (see notebook 06).
    "gain1": {
        "forwardLines": [
            "layer 2 (      Tanh): mean -0.00, std 0.63, saturated: 2.78%",
            "layer 5 (      Tanh): mean +0.00, std 0.64, saturated: 2.56%",
            "layer 8 (      Tanh): mean -0.00, std 0.65, saturated: 2.25%",
            "layer 11 (      Tanh): mean +0.00, std 0.65, saturated: 1.69%",
            "layer 14 (      Tanh): mean +0.00, std 0.65, saturated: 1.88%",
        ],
        "gradientLines": [
            "layer 2 (      Tanh): mean +0.000000, std 2.640701e-03",
            "layer 5 (      Tanh): mean +0.000000, std 2.245584e-03",
            "layer 8 (      Tanh): mean +0.000000, std 2.045741e-03",
            "layer 11 (      Tanh): mean -0.000000, std 1.983132e-03",
            "layer 14 (      Tanh): mean -0.000000, std 1.952381e-03",
        ],
    },
}


def moment(m):
    """One moment of the deep network: forward and backward rows and parameter rows, without histograms."""
    return {
        "forward": [{k: r[k] for k in ("index", "type", "mean", "std", "saturated_percent") if k in r}
                    for r in m["forward"]],
        "backward": [{k: r[k] for k in ("index", "type", "mean", "std")} for r in m["backward_tanh_grads"]],
        "parameters": [{k: r[k] for k in ("name", "shape", "ndim", "grad_mean", "grad_std", "data_std",
                                          "grad_data_ratio", "update_data_log10") if k in r}
                       for r in m["parameters"]],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixture", default="test/fixtures/torch-expected.json",
                    help="torch_reference.py's output (default: %(default)s)")
    ap.add_argument("--out", default="data/lecture.json", help="output JSON path (default: %(default)s)")
    args = ap.parse_args()
    with open(args.fixture) as f:
        t = json.load(f)
    d = t["deep_network"]
    torch = {
        "version": t["torch_version"],
        "seed": t["seed"],
        "expectedInitLoss": t["expected_init_loss"],
        "stageStep0Losses": {k: v["loss"] for k, v in t["stages_step0_loss"].items()},
        "stageParameterCounts": {k: v["n_parameters"] for k, v in t["stages_step0_loss"].items()},
        "deepNetwork": {
            "parameterCount": d["n_parameters"],
            "parameterNames": d["parameter_names"],
            "parameterShapes": d["parameter_shapes"],
            "lossStep0": d["loss_step0"],
            "lossStep1000": d["loss_step1000"],
            "step0": moment(d["step0"]),
            "after1001Steps": moment(d["lecture_break_at_i1000"]),
            "updateRatiosLog10": {"step0": d["ud_log10"]["per_step"][0], "step1000": d["ud_log10"]["per_step"][1000]},
        },
    }
    with open(args.out, "w") as f:
        json.dump({"about": ABOUT, "lecture": LECTURE, "torch": torch}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
