"""The same benchmark work as tools/bench/work.ts, in PyTorch (CPU, one thread), written as the
lecture writes it. Prints one JSON line.   python tools/bench/torch_work.py <work> <repeats> <names.txt>
"""
import json
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


# The lecture's data and networks, as the reference script writes them (one copy of that code).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "test" / "reference"))
from torch_reference import SEED, build_deep, init_mlp, load_data  # noqa: E402


def bn_mlp(vocab_size):
    """The batch-norm MLP of the stage table (no b1), with its loss in training and evaluation mode."""
    g, p = init_mlp(vocab_size, "batchnorm", draw_b1=False)
    C, W1, W2, b2 = p["C"], p["W1"], p["W2"], p["b2"]
    bngain, bnbias = torch.ones((1, 200)), torch.zeros((1, 200))
    state = {"mean": torch.zeros((1, 200)), "std": torch.ones((1, 200))}
    params = [C, W1, W2, b2, bngain, bnbias]
    for q in params:
        q.requires_grad = True

    def loss(X, Y, training):
        emb = C[X]
        hpreact = emb.view(emb.shape[0], -1) @ W1
        if training:
            mean, std = hpreact.mean(0, keepdim=True), hpreact.std(0, keepdim=True)
            with torch.no_grad():
                state["mean"] = 0.999 * state["mean"] + 0.001 * mean
                state["std"] = 0.999 * state["std"] + 0.001 * std
        else:
            mean, std = state["mean"], state["std"]
        h = torch.tanh(bngain * (hpreact - mean) / std + bnbias)
        return F.cross_entropy(h @ W2 + b2, Y)

    return g, params, loss


def edited_mlp(vocab_size, n_embd=10, n_hidden=200, block_size=3):
    """The lecture's MLP as a learner edits it in a notebook (the same network as work.ts's editedMLP):
    ReLU, a second hidden layer, and a layer norm over each example's 200 features (biased variance,
    as tf.moments). C plain randn, W1, W2, W3 randn / sqrt(fan_in) in that order; biases zeros."""
    g = torch.Generator().manual_seed(SEED)  # for reproducibility
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) / (n_embd * block_size) ** 0.5
    b1 = torch.zeros(n_hidden)
    W2 = torch.randn((n_hidden, n_hidden), generator=g) / n_hidden ** 0.5
    b2 = torch.zeros(n_hidden)
    lngain = torch.ones((1, n_hidden))
    lnbias = torch.zeros((1, n_hidden))
    W3 = torch.randn((n_hidden, vocab_size), generator=g) / n_hidden ** 0.5
    b3 = torch.zeros(vocab_size)
    params = [C, W1, b1, W2, b2, lngain, lnbias, W3, b3]
    for p in params:
        p.requires_grad = True

    def loss(X, Y):
        emb = C[X]
        embcat = emb.view(emb.shape[0], -1)
        h1 = torch.relu(embcat @ W1 + b1)
        hpreact = h1 @ W2 + b2
        # layer norm: over the features of each example (dim 1), biased variance
        lnmeani = hpreact.mean(1, keepdim=True)
        lnvari = hpreact.var(1, keepdim=True, unbiased=False)
        hnorm = (hpreact - lnmeani) / torch.sqrt(lnvari + 1e-5)
        h2 = torch.relu(lngain * hnorm + lnbias)
        logits = h2 @ W3 + b3
        return F.cross_entropy(logits, Y)

    return g, params, loss


def timed(step, steps):
    """Run step(0) alone (PyTorch's first step warms its allocator and kernels), then step(1..steps);
    returns the first step's loss and milliseconds, and the others' milliseconds per step."""
    t0 = time.perf_counter()
    first_loss = step(0)
    first = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        step(i)
    return first_loss, first, (time.perf_counter() - t0) * 1000 / steps


def training_step(g, params, loss, Xtr, Ytr, lr, keep=None):
    """One step of the lecture's loop: minibatch, forward, backward, update; the loss read (lossi).
    keep(lr) runs after the update (update:data ratios, retained gradients)."""
    def step(i):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        lossv = loss(Xtr[ix], Ytr[ix])
        for p in params:
            p.grad = None
        lossv.backward()
        rate = lr(i)
        for p in params:
            p.data += -rate * p.grad
        if keep:
            keep(rate)
        return lossv.item()
    return step


def deep_loss(C, layers):
    """The deep network's loss, every layer's output gradient retained (as the lecture's diagnostics)."""
    def loss(X, Y):
        emb = C[X]
        x = emb.view(emb.shape[0], -1)
        for layer in layers:
            x = layer(x)
        for layer in layers:
            layer.out.retain_grad()
        return F.cross_entropy(x, Y)
    return loss


def main():
    work, repeats, names = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = load_data(names)
    Xtr, Ytr, Xdev, Ydev = data["Xtr"], data["Ytr"], data["Xdev"], data["Ydev"]
    samples, firsts, unit, first_loss = [], [], "ms/step", None
    for _ in range(repeats):
        if work == "notebook":
            g, params, loss = bn_mlp(data["vocab_size"])
            steps = 200000
            step = training_step(g, params, lambda X, Y: loss(X, Y, True), Xtr, Ytr, lambda i: 0.1 if i < steps / 2 else 0.01)
            t0 = time.perf_counter()
            for i in range(steps):
                step(i)
            with torch.no_grad():
                loss(Xtr, Ytr, False).item()
                loss(Xdev, Ydev, False).item()
            samples.append(time.perf_counter() - t0)
            unit = "s"
            continue
        if work == "eval-train":
            g, params, loss = bn_mlp(data["vocab_size"])
            t0 = time.perf_counter()
            with torch.no_grad():
                loss(Xtr, Ytr, False).item()
            samples.append((time.perf_counter() - t0) * 1000)
            unit = "ms"
            continue
        if work == "bn-mlp":
            g, params, loss = bn_mlp(data["vocab_size"])
            steps = 1000
            step = training_step(g, params, lambda X, Y: loss(X, Y, True), Xtr, Ytr, lambda i: 0.1 if i < steps / 2 else 0.01)
        elif work == "edited":
            g, params, loss = edited_mlp(data["vocab_size"])
            steps = 1000
            step = training_step(g, params, loss, Xtr, Ytr, lambda i: 0.1)
        elif work in ("deep-ud", "probe"):
            # deep-ud: the deep network trained with the row of update:data ratios of every step.
            # probe: the experiments notebook's last step, every parameter's gradient also kept and
            # handed back (as lib/train/loop.ts's sgdStepKeepingGrads); one step at a time.
            g, C, layers, params = build_deep(data["vocab_size"])
            steps = 200 if work == "deep-ud" else 50

            def keep(rate):
                with torch.no_grad():
                    ratios = [((rate * p.grad).std() / p.data.std()).log10().item() for p in params]
                return ratios, ([p.grad for p in params] if work == "probe" else None)
            step = training_step(g, params, deep_loss(C, layers), Xtr, Ytr, lambda i: 0.1, keep)
        else:
            raise SystemExit(f"unknown work {work}")
        # first_loss: the step-0 loss, compared with ours (the same generator streams on both sides).
        first_loss, first, per_step = timed(step, steps)
        firsts.append(first)
        samples.append(per_step)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"work": work, "backend": f"torch {torch.__version__}", "unit": unit, "samples": samples,
                      "firstStepMs": firsts or None, "peakMiB": peak, "liveTensors": None, "firstLoss": first_loss}))


if __name__ == "__main__":
    main()
