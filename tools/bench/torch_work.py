"""The same benchmark work as tools/bench/work.ts, in PyTorch (CPU, one thread), written as the
lecture writes it. Prints one JSON line.   python tools/bench/torch_work.py <work> <repeats> <names.txt>
"""
import json
import random
import resource
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
SEED = 2147483647


def load(names):
    words = open(names).read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0

    def build(ws):
        X, Y = [], []
        for w in ws:
            context = [0] * 3
            for ch in w + ".":
                X.append(context)
                Y.append(stoi[ch])
                context = context[1:] + [stoi[ch]]
        return torch.tensor(X), torch.tensor(Y)

    random.seed(42)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return build(words[:n1]), build(words[n1:n2])


def bn_mlp(g):
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g) * (5 / 3) / (30 ** 0.5)
    W2 = torch.randn((200, 27), generator=g) * 0.01
    b2 = torch.randn(27, generator=g) * 0
    bngain, bnbias = torch.ones((1, 200)), torch.zeros((1, 200))
    state = {"mean": torch.zeros((1, 200)), "std": torch.ones((1, 200))}
    params = [C, W1, W2, b2, bngain, bnbias]
    for p in params:
        p.requires_grad = True

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

    return params, loss


class Linear:
    def __init__(self, fan_in, fan_out, g):
        self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in ** 0.5

    def __call__(self, x):
        self.out = x @ self.weight
        return self.out

    def parameters(self):
        return [self.weight]


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)
        self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)

    def __call__(self, x):
        xmean, xvar = x.mean(0, keepdim=True), x.var(0, keepdim=True)
        self.out = self.gamma * (x - xmean) / torch.sqrt(xvar + self.eps) + self.beta
        with torch.no_grad():
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


def deep(g):
    C = torch.randn((27, 10), generator=g)
    layers = [Linear(30, 100, g), BatchNorm1d(100), Tanh()]
    for _ in range(4):
        layers += [Linear(100, 100, g), BatchNorm1d(100), Tanh()]
    layers += [Linear(100, 27, g), BatchNorm1d(27)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1
        for layer in layers[:-1]:
            if isinstance(layer, Linear):
                layer.weight *= 5 / 3
    params = [C] + [p for layer in layers for p in layer.parameters()]
    for p in params:
        p.requires_grad = True
    return C, layers, params


def main():
    work, repeats, names = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    (Xtr, Ytr), (Xdev, Ydev) = load(names)
    samples, unit = [], "ms/step"
    for _ in range(repeats):
        g = torch.Generator().manual_seed(SEED)
        if work in ("bn-mlp", "notebook"):
            params, loss = bn_mlp(g)
            steps = 200000 if work == "notebook" else 1000
            t0 = time.perf_counter()
            for i in range(steps):
                ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
                lossv = loss(Xtr[ix], Ytr[ix], True)
                for p in params:
                    p.grad = None
                lossv.backward()
                lr = 0.1 if i < steps / 2 else 0.01
                for p in params:
                    p.data += -lr * p.grad
                lossv.item()  # the loss is read every step (lossi.append(loss.log10().item()))
            if work == "notebook":
                with torch.no_grad():
                    loss(Xtr, Ytr, False).item()
                    loss(Xdev, Ydev, False).item()
                samples.append(time.perf_counter() - t0)
                unit = "s"
            else:
                samples.append((time.perf_counter() - t0) * 1000 / steps)
        elif work == "deep-ud":
            C, layers, params = deep(g)
            steps, ud = 200, []
            t0 = time.perf_counter()
            for i in range(steps):
                ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
                emb = C[Xtr[ix]]
                x = emb.view(emb.shape[0], -1)
                for layer in layers:
                    x = layer(x)
                lossv = F.cross_entropy(x, Ytr[ix])
                for layer in layers:
                    layer.out.retain_grad()
                for p in params:
                    p.grad = None
                lossv.backward()
                for p in params:
                    p.data += -0.1 * p.grad
                with torch.no_grad():
                    ud.append([((0.1 * p.grad).std() / p.data.std()).log10().item() for p in params])
                lossv.item()
            samples.append((time.perf_counter() - t0) * 1000 / steps)
        elif work == "eval-train":
            params, loss = bn_mlp(g)
            t0 = time.perf_counter()
            with torch.no_grad():
                loss(Xtr, Ytr, False).item()
            samples.append((time.perf_counter() - t0) * 1000)
            unit = "ms"
        else:
            raise SystemExit(f"unknown work {work}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"work": work, "backend": f"torch {torch.__version__}", "unit": unit, "samples": samples,
                      "peakMiB": peak, "liveTensors": None}))


if __name__ == "__main__":
    main()
