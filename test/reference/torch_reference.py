#!/usr/bin/env python3
"""PyTorch reference values for the makemore part 3 library ("activations, gradients, BatchNorm").

This script follows the lecture's PyTorch code as closely as possible and writes the numbers
our TypeScript/TensorFlow.js library is tested against into one JSON file.

    python test/reference/torch_reference.py \
        --names data/names.txt --out test/fixtures/torch-expected.json

Sections of the output (see test/reference/README.md):
  torch_version, data        - versions, dataset sizes
  rng_checks                 - this torch's generator streams against the torch 1.13 fixtures
  batchnorm_stage            - the lecture's batch-norm MLP: init, 2 training steps in full detail
                               (b1 not drawn, as in the lecture's final code: step-0 loss 3.3239)
  batchnorm_stage_b1_drawn   - the same with b1 drawn (and unused): losses and minibatches only
  stages_step0_loss          - step-0 loss of every stage of the "loss log" (fresh seed each)
  deep_network               - the "PyTorch-ified" 47,024-parameter network: statistics after
                               step 0, after 1,000 steps, and after the lecture's 1,001 steps
  cross_entropy              - F.cross_entropy loss and d loss / d logits for small cases
  calculate_gain             - torch.nn.init.calculate_gain for every accepted nonlinearity
  histogram                  - torch.histogram(x, bins=100, density=True) on 1,000 randn values
  multinomial_sampling       - names sampled from the smoothed bigram model (makemore part 1)

Every float32 tensor is written with `.tolist()` (exact float32 values as JSON numbers);
multi-dimensional tensors are flattened in row-major order and their shape is written next to them.
"""

import argparse
import json
import math
import platform
import random
import time

import torch
import torch.nn.functional as F

SEED = 2147483647  # the lecture's seed
BLOCK_SIZE = 3     # context length: how many characters do we take to predict the next one?
BATCH_SIZE = 32

# One intra-op thread: matmul/reduction results then do not depend on the machine's core count.
torch.set_num_threads(1)


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def flat(t):
    """A tensor as a flat list of Python numbers (row-major), detached from autograd."""
    return t.detach().reshape(-1).tolist()


def arr(t):
    """A tensor as {shape, data}: data flattened row-major."""
    return {"shape": list(t.shape), "data": flat(t)}


def item(t):
    return t.detach().item()


def hist(t):
    """torch.histogram(t, density=True) with the default 100 bins, as the lecture plots it."""
    hy, hx = torch.histogram(t.detach().reshape(-1), density=True)
    return {"hy": hy.tolist(), "hx": hx.tolist()}


# ----------------------------------------------------------------------------------------------
# data, exactly as in the lecture
# ----------------------------------------------------------------------------------------------

def load_data(names_path):
    words = open(names_path, "r").read().splitlines()
    # build the vocabulary of characters and mappings to/from integers
    chars = sorted(list(set("".join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    vocab_size = len(itos)

    def build_dataset(words):
        X, Y = [], []
        for w in words:
            context = [0] * BLOCK_SIZE
            for ch in w + ".":
                ix = stoi[ch]
                X.append(context)
                Y.append(ix)
                context = context[1:] + [ix]  # crop and append
        X = torch.tensor(X)
        Y = torch.tensor(Y)
        return X, Y

    all_words = list(words)  # unshuffled copy, for the bigram model
    random.seed(42)
    random.shuffle(words)
    n1 = int(0.8 * len(words))
    n2 = int(0.9 * len(words))
    Xtr, Ytr = build_dataset(words[:n1])     # 80%
    Xdev, Ydev = build_dataset(words[n1:n2])  # 10%
    Xte, Yte = build_dataset(words[n2:])     # 10%
    return dict(words=words, all_words=all_words, stoi=stoi, itos=itos, vocab_size=vocab_size,
                Xtr=Xtr, Ytr=Ytr, Xdev=Xdev, Ydev=Ydev, Xte=Xte, Yte=Yte)


# ----------------------------------------------------------------------------------------------
# a. / rng checks: does this torch still produce the streams of the torch 1.13 fixtures?
# ----------------------------------------------------------------------------------------------

def rng_checks(fixtures):
    out = {}

    def cmp(name, mine):
        want = fixtures[name]
        a = torch.tensor(mine, dtype=torch.float64)
        b = torch.tensor(want, dtype=torch.float64)
        out[name] = {
            "bit_equal": mine == want,
            "n_equal": int((a == b).sum()),
            "n": len(want),
            "max_abs_diff": float((a - b).abs().max()),
        }

    for n in (5, 16, 20):
        g = torch.Generator().manual_seed(SEED)
        cmp(f"randn_{n}", torch.randn(n, generator=g).tolist())
    g = torch.Generator().manual_seed(SEED)
    cmp("randn_27x10", flat(torch.randn((27, 10), generator=g)))
    g = torch.Generator().manual_seed(SEED)
    cmp("randint_0_182625_x32", torch.randint(0, 182625, (32,), generator=g).tolist())
    g = torch.Generator().manual_seed(SEED)
    torch.randn((27, 10), generator=g)
    cmp("randint_after_randn_27x10", torch.randint(0, 182625, (32,), generator=g).tolist())
    g = torch.Generator().manual_seed(SEED)
    cmp("rand_8", torch.rand(8, generator=g).tolist())

    # multinomial: 20 separate calls with num_samples=1, replacement=True (as the lecture samples)
    p = torch.tensor(fixtures["multinomial_probs"], dtype=torch.float32)
    g = torch.Generator().manual_seed(SEED)
    mine = [torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            for _ in range(20)]
    cmp("multinomial_1_x20", mine)
    out["multinomial_1_x20"]["this_torch"] = mine
    # ... and one call with num_samples=20 (a different code path: inverse CDF, one uniform each)
    g = torch.Generator().manual_seed(SEED)
    out["multinomial_20_in_one_call_this_torch"] = torch.multinomial(
        p, num_samples=20, replacement=True, generator=g).tolist()

    # How this torch draws one multinomial sample (num_samples=1): the "exponential race"
    #   q = empty_like(p).exponential_(1, generator=g); idx = argmax(p / q)
    # and exponential_ on CPU draws, per element, u = 53-bit double uniform (two 32-bit draws,
    # first is the high word) and returns -log(1 - u).  Check that decomposition here.
    g = torch.Generator().manual_seed(SEED)
    via_exponential = []
    for _ in range(20):
        q = torch.empty_like(p).exponential_(1, generator=g)
        via_exponential.append(int(torch.argmax(p / q)))
    g = torch.Generator().manual_seed(SEED)
    u = torch.rand(20 * 27, generator=g, dtype=torch.float64)  # 53-bit uniforms, same draws
    q = (-torch.log1p(-u)).to(torch.float32).reshape(20, 27)
    via_uniform = torch.argmax(p / q, dim=1).tolist()
    out["multinomial_num_samples_1_is_argmax_p_over_exponential"] = via_exponential == mine
    out["exponential_is_minus_log1p_minus_u53"] = via_uniform == mine
    g = torch.Generator().manual_seed(SEED)
    out["exponential_27_this_torch"] = torch.empty(27).exponential_(1, generator=g).tolist()

    # CPython's random, used for the shuffle
    random.seed(42)
    r = list(range(10))
    random.shuffle(r)
    out["py_random_seed42_shuffle_range10"] = {
        "equal": r == fixtures["py_random_seed42_shuffle_range10"]}
    return out


# ----------------------------------------------------------------------------------------------
# b. the MLP of the lecture: batch-norm stage in detail, and the step-0 loss of every stage
# ----------------------------------------------------------------------------------------------

def init_mlp(vocab_size, stage, n_embd=10, n_hidden=200, draw_b1=True):
    """Parameters drawn in the lecture's order from a fresh generator; `stage` picks the scales.

    draw_b1=False leaves b1 out of the stream, as the lecture's final batch-norm code does
    (`#b1 = torch.randn(n_hidden, generator=g) * 0.01`): W2, b2 and every minibatch then come
    from other draws.  b1 is then returned as zeros.
    """
    g = torch.Generator().manual_seed(SEED)  # for reproducibility
    fan_in = n_embd * BLOCK_SIZE
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((fan_in, n_hidden), generator=g)
    b1 = torch.randn(n_hidden, generator=g) if draw_b1 else torch.zeros(n_hidden)
    W2 = torch.randn((n_hidden, vocab_size), generator=g)
    b2 = torch.randn(vocab_size, generator=g)
    if stage == "original":
        pass
    elif stage == "fix_softmax":
        W2, b2 = W2 * 0.01, b2 * 0
    elif stage == "fix_tanh":
        W1, b1, W2, b2 = W1 * 0.2, b1 * 0.01, W2 * 0.01, b2 * 0
    elif stage in ("kaiming", "batchnorm"):
        W1 = W1 * (5 / 3) / (fan_in ** 0.5)  # kaiming init, tanh gain 5/3
        b1, W2, b2 = b1 * 0.01, W2 * 0.01, b2 * 0
    else:
        raise ValueError(stage)
    return g, dict(C=C, W1=W1, b1=b1, W2=W2, b2=b2)


def stage_step0(data, stage):
    """Step 0 of the stages without batch norm: hpreact = embcat @ W1 + b1."""
    g, P = init_mlp(data["vocab_size"], stage)
    C, W1, b1, W2, b2 = P["C"], P["W1"], P["b1"], P["W2"], P["b2"]
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    Xtr, Ytr = data["Xtr"], data["Ytr"]
    ix = torch.randint(0, Xtr.shape[0], (BATCH_SIZE,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1 + b1
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Yb)
    return {
        "loss": item(loss),
        "n_parameters": sum(p.nelement() for p in parameters),
        "ix": ix.tolist(),
        "hpreact_mean": item(hpreact.mean()),
        "hpreact_std": item(hpreact.std()),
        "h_saturated_099_percent": item((h.abs() > 0.99).float().mean() * 100),
        "logits_abs_max": item(logits.abs().max()),
    }


def batchnorm_stage(data, draw_b1=False, detail=True):
    """The lecture's batch-norm MLP and its first two training steps.

    The lecture's final code (the one that prints 3.3239 at step 0) has the b1 line commented
    out, so b1 is not drawn: draw_b1=False.  With b1 drawn (and unused) the step-0 loss is
    3.3147 instead; detail=False records only the losses and minibatches of that variant.
    """
    vocab_size = data["vocab_size"]
    n_embd, n_hidden = 10, 200
    g, P = init_mlp(vocab_size, "batchnorm", n_embd, n_hidden, draw_b1=draw_b1)
    if not draw_b1:
        del P["b1"]  # not part of the lecture's final code at all
    C, W1, W2, b2 = P["C"], P["W1"], P["W2"], P["b2"]
    # BatchNorm parameters and buffers
    bngain = torch.ones((1, n_hidden))
    bnbias = torch.zeros((1, n_hidden))
    bnmean_running = torch.zeros((1, n_hidden))
    bnstd_running = torch.ones((1, n_hidden))

    parameters = [C, W1, W2, b2, bngain, bnbias]  # no b1: BN has its own bias
    names = ["C", "W1", "W2", "b2", "bngain", "bnbias"]
    n_params = sum(p.nelement() for p in parameters)
    for p in parameters:
        p.requires_grad = True

    out = {
        "b1_drawn": draw_b1,
        "n_embd": n_embd,
        "n_hidden": n_hidden,
        "n_parameters": n_params,
        "parameter_order": names,
        "steps": [],
    }
    if detail:
        out["init"] = {k: arr(v) for k, v in P.items()}  # incl. b1 if drawn (not a parameter)

    Xtr, Ytr = data["Xtr"], data["Ytr"]
    for i in range(2):
        # minibatch construct
        ix = torch.randint(0, Xtr.shape[0], (BATCH_SIZE,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]  # batch X,Y

        # forward pass
        emb = C[Xb]  # embed the characters into vectors
        embcat = emb.view(emb.shape[0], -1)  # concatenate the vectors
        # Linear layer
        hpreact = embcat @ W1  # + b1 # hidden layer pre-activation
        hpreact_pre_bn = hpreact
        # BatchNorm layer
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
            bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        # Non-linearity
        h = torch.tanh(hpreact)  # hidden layer
        logits = h @ W2 + b2  # output layer
        loss = F.cross_entropy(logits, Yb)  # loss function

        # backward pass
        for p in parameters:
            p.grad = None
        loss.backward()

        step = {"i": i, "ix": ix.tolist(), "loss": item(loss)}
        if i == 0:
            step["hpreact_pre_bn_mean"] = item(hpreact_pre_bn.mean())
            step["hpreact_pre_bn_std"] = item(hpreact_pre_bn.std())
        if i == 0 and detail:
            step["Xb"] = arr(Xb)
            step["Yb"] = Yb.tolist()
            step["bnmeani"] = arr(bnmeani)
            step["bnstdi"] = arr(bnstdi)
            step["h_saturated_099_percent"] = item((h.abs() > 0.99).float().mean() * 100)
            step["grads"] = {n: arr(p.grad) for n, p in zip(names, parameters)}

        # update
        lr = 0.1 if i < 100000 else 0.01  # step learning rate decay
        for p in parameters:
            p.data += -lr * p.grad

        if i == 0 and detail:
            step["lr"] = lr
            step["params_after_update"] = {n: arr(p) for n, p in zip(names, parameters)}
            step["bnmean_running_after"] = arr(bnmean_running)
            step["bnstd_running_after"] = arr(bnstd_running)
        out["steps"].append(step)

    out["loss_step0"] = out["steps"][0]["loss"]
    out["loss_step1"] = out["steps"][1]["loss"]
    return out


# ----------------------------------------------------------------------------------------------
# c. the deeper network, "PyTorch-ified" (lecture part 2)
# ----------------------------------------------------------------------------------------------

class Linear:
    def __init__(self, fan_in, fan_out, g, bias=True):
        self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in ** 0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.training = True
        # parameters (trained with backprop)
        self.gamma = torch.ones(dim)
        self.beta = torch.zeros(dim)
        # buffers (trained with a running 'momentum update')
        self.running_mean = torch.zeros(dim)
        self.running_var = torch.ones(dim)

    def __call__(self, x):
        # calculate the forward pass
        if self.training:
            xmean = x.mean(0, keepdim=True)  # batch mean
            xvar = x.var(0, keepdim=True)  # batch variance (unbiased)
        else:
            xmean = self.running_mean
            xvar = self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)  # normalize to unit variance
        self.out = self.gamma * xhat + self.beta
        # update the buffers
        if self.training:
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


def build_deep(vocab_size, n_embd=10, n_hidden=100, gain=5 / 3):
    g = torch.Generator().manual_seed(SEED)  # for reproducibility
    C = torch.randn((vocab_size, n_embd), generator=g)
    layers = [
        Linear(n_embd * BLOCK_SIZE, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, vocab_size, g, bias=False), BatchNorm1d(vocab_size),
    ]
    with torch.no_grad():
        # last layer: make less confident
        layers[-1].gamma *= 0.1
        # all other layers: apply gain
        for layer in layers[:-1]:
            if isinstance(layer, Linear):
                layer.weight *= gain
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True
    return g, C, layers, parameters


def param_names(layers):
    names = ["C"]
    for i, layer in enumerate(layers):
        if isinstance(layer, Linear):
            names.append(f"layer{i}.weight")
            if layer.bias is not None:
                names.append(f"layer{i}.bias")
        elif isinstance(layer, BatchNorm1d):
            names += [f"layer{i}.gamma", f"layer{i}.beta"]
    return names


def deep_stats(layers, parameters, names, lr, with_hist):
    """The lecture's four visualisations, as numbers, for the network's current state.

    Forward stats come from the last forward pass, gradients from the last backward pass and
    the data (p.std()) from after the last update - exactly what the lecture's cells see after
    the training loop has broken out.
    """
    forward, backward = [], []
    for i, layer in enumerate(layers):
        t = layer.out
        s = {"index": i, "type": layer.__class__.__name__,
             "mean": item(t.mean()), "std": item(t.std())}
        if isinstance(layer, Tanh):
            s["saturated_percent"] = item((t.abs() > 0.97).float().mean() * 100)
            if with_hist:
                s["hist"] = hist(t)
        forward.append(s)
        if isinstance(layer, Tanh):
            tg = layer.out.grad
            b = {"index": i, "type": "Tanh", "mean": item(tg.mean()), "std": item(tg.std())}
            if with_hist:
                b["hist"] = hist(tg)
            backward.append(b)
    params = []
    for n, p in zip(names, parameters):
        t = p.grad
        s = {"name": n, "shape": list(p.shape), "ndim": p.ndim,
             "grad_mean": item(t.mean()), "grad_std": item(t.std()),
             "data_std": item(p.std()),
             "grad_data_ratio": item(t.std() / p.std()),
             "update_data_log10": item(((lr * t).std() / p.data.std()).log10())}
        if with_hist and p.ndim == 2:
            s["grad_hist"] = hist(t)
        params.append(s)
    return {"forward": forward, "backward_tanh_grads": backward, "parameters": params}


def deep_network(data):
    vocab_size = data["vocab_size"]
    Xtr, Ytr = data["Xtr"], data["Ytr"]
    g, C, layers, parameters = build_deep(vocab_size)
    names = param_names(layers)
    out = {
        "n_embd": 10, "n_hidden": 100, "gain": 5 / 3, "last_gamma_scale": 0.1,
        "n_parameters": sum(p.nelement() for p in parameters),
        "layers": [layer.__class__.__name__ for layer in layers],
        "parameter_names": names,
        "parameter_shapes": [list(p.shape) for p in parameters],
    }

    lossi, ud, losses = [], [], []
    t0 = time.time()
    max_steps = 1001  # i = 0 .. 1000: the lecture's loop runs until `if i >= 1000: break`
    for i in range(max_steps):
        # minibatch construct
        ix = torch.randint(0, Xtr.shape[0], (BATCH_SIZE,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]  # batch X,Y

        # forward pass
        emb = C[Xb]  # embed the characters into vectors
        x = emb.view(emb.shape[0], -1)  # concatenate the vectors
        for layer in layers:
            x = layer(x)
        loss = F.cross_entropy(x, Yb)  # loss function

        # backward pass
        for layer in layers:
            layer.out.retain_grad()  # AFTER_DEBUG: would take out retain_graph
        for p in parameters:
            p.grad = None
        loss.backward()

        # update
        lr = 0.1 if i < 150000 else 0.01  # step learning rate decay
        for p in parameters:
            p.data += -lr * p.grad

        # track stats
        losses.append(item(loss))
        lossi.append(item(loss.log10()))
        with torch.no_grad():
            ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])

        if i == 0:
            out["step0_ix"] = ix.tolist()
            out["step0"] = deep_stats(layers, parameters, names, lr, with_hist=True)
            out["step0"]["loss"] = item(loss)
            # also the first two layers' outputs in full, for a direct comparison
            out["step0"]["layer0_out_first_row"] = flat(layers[0].out[0])
        if i == 999:
            # after 1,000 steps (i = 0 .. 999)
            out["after_1000_steps"] = deep_stats(layers, parameters, names, lr, with_hist=True)
            out["after_1000_steps"]["loss_last_step"] = item(loss)
        if i >= 1000:
            # the lecture's loop also runs i = 1000 before breaking: 1,001 steps in all
            out["lecture_break_at_i1000"] = deep_stats(layers, parameters, names, lr,
                                                       with_hist=True)
            out["lecture_break_at_i1000"]["loss_last_step"] = item(loss)
            break
    elapsed = time.time() - t0

    out["loss_step0"] = losses[0]
    out["loss_step999"] = losses[999]
    out["loss_step1000"] = losses[1000]
    out["losses"] = losses  # every step's loss, i = 0 .. 1000
    out["lossi_log10"] = lossi
    out["ud_log10"] = {"parameter_names": names, "per_step": ud}  # ud[i][j]: step i, param j
    out["seconds_1001_steps"] = elapsed
    return out


# ----------------------------------------------------------------------------------------------
# d. cross entropy
# ----------------------------------------------------------------------------------------------

def cross_entropy_cases():
    g = torch.Generator().manual_seed(SEED)
    cases = [
        ("lecture_small", torch.tensor([[-2.0, -3.0, 0.0, 5.0]]), [3]),
        ("lecture_plus100", torch.tensor([[-100.0, -3.0, 0.0, 100.0]]), [3]),
        ("large_thousands", torch.tensor([[1000.0, 1001.0, 999.0], [-1000.0, 2000.0, 3000.0]]),
         [0, 1]),
        ("huge_1e4_spread", torch.tensor([[-1e4, 1e4, 0.0, 5e3]]), [0]),
        ("uniform_27", torch.zeros((2, 27)), [0, 26]),
        ("randn_4x5", torch.randn((4, 5), generator=g), [0, 4, 2, 2]),
        ("randn_times_30_3x27", torch.randn((3, 27), generator=g) * 30, [1, 13, 0]),
    ]
    out = []
    for name, logits, target in cases:
        logits = logits.clone().requires_grad_(True)
        y = torch.tensor(target)
        loss = F.cross_entropy(logits, y)  # mean over the batch
        loss.backward()
        out.append({"name": name, "logits": arr(logits), "targets": target,
                    "loss": item(loss), "grad_logits": arr(logits.grad)})
    return out


# ----------------------------------------------------------------------------------------------
# e. - g.
# ----------------------------------------------------------------------------------------------

def calculate_gains():
    cg = torch.nn.init.calculate_gain
    out = {}
    for nl in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        out[nl] = cg(nl)
    out["leaky_relu_0.2"] = cg("leaky_relu", 0.2)
    return out


def histogram_case():
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(1000, generator=g)
    hy, hx = torch.histogram(x, bins=100, density=True)
    return {"x": x.tolist(), "bins": 100, "density": True, "hist": hy.tolist(),
            "bin_edges": hx.tolist()}


def multinomial_sampling(data):
    """Sample names from the smoothed bigram model of makemore part 1."""
    stoi, itos = data["stoi"], data["itos"]
    N = torch.zeros((27, 27), dtype=torch.int32)
    for w in data["all_words"]:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            N[stoi[ch1], stoi[ch2]] += 1
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)

    def sample(seed, n):
        g = torch.Generator().manual_seed(seed)
        names, ixs = [], []
        for _ in range(n):
            out, seq = [], []
            ix = 0
            while True:
                p = P[ix]
                ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
                out.append(itos[ix])
                seq.append(ix)
                if ix == 0:
                    break
            names.append("".join(out))
            ixs.append(seq)
        return names, ixs

    names10, ix10 = sample(SEED + 10, 5)
    names0, ix0 = sample(SEED, 5)
    return {
        "model": "bigram counts N over all words (unshuffled), P = (N+1).float() row-normalised",
        "N_row0": N[0].tolist(),
        "N_sum": int(N.sum()),
        "P": arr(P),
        "seed_2147483657": {"names": names10, "indices": ix10},
        "seed_2147483647": {"names": names0, "indices": ix0},
    }


# ----------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", default="data/names.txt", help="path to names.txt (default: %(default)s)")
    ap.add_argument("--out", default="test/fixtures/torch-expected.json", help="output JSON path (default: %(default)s)")
    ap.add_argument("--fixtures", default="../shared/fixtures/torch-reference.json",
                    help="torch 1.13 fixtures to compare the generator streams with")
    args = ap.parse_args()

    t_start = time.time()
    data = load_data(args.names)
    result = {
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "num_threads": torch.get_num_threads(),
        "seed": SEED,
        "data": {
            "n_words": len(data["words"]),
            "vocab_size": data["vocab_size"],
            "itos": [data["itos"][i] for i in range(data["vocab_size"])],
            "shuffled_first5": data["words"][:5],
            "split_sizes_train_dev_test": [data["Xtr"].shape[0], data["Xdev"].shape[0],
                                           data["Xte"].shape[0]],
        },
        "expected_init_loss": -math.log(1 / 27),
    }

    try:
        fixtures = json.load(open(args.fixtures))
        result["rng_checks"] = rng_checks(fixtures)
    except FileNotFoundError:
        result["rng_checks"] = None

    result["batchnorm_stage"] = batchnorm_stage(data, draw_b1=False, detail=True)
    result["batchnorm_stage_b1_drawn"] = batchnorm_stage(data, draw_b1=True, detail=False)
    result["stages_step0_loss"] = {s: stage_step0(data, s)
                                   for s in ["original", "fix_softmax", "fix_tanh", "kaiming"]}
    for key, src in [("batchnorm", "batchnorm_stage"),
                     ("batchnorm_b1_drawn", "batchnorm_stage_b1_drawn")]:
        result["stages_step0_loss"][key] = {
            "loss": result[src]["loss_step0"],
            "n_parameters": result[src]["n_parameters"],
            "ix": result[src]["steps"][0]["ix"],
            "b1_drawn": result[src]["b1_drawn"],
        }
    result["deep_network"] = deep_network(data)
    result["cross_entropy"] = cross_entropy_cases()
    result["calculate_gain"] = calculate_gains()
    result["histogram"] = histogram_case()
    result["multinomial_sampling"] = multinomial_sampling(data)
    result["seconds_total"] = time.time() - t_start

    with open(args.out, "w") as f:
        json.dump(result, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")

    # a short summary on stdout
    bn, dn = result["batchnorm_stage"], result["deep_network"]
    print("torch", torch.__version__, "| split", result["data"]["split_sizes_train_dev_test"])
    for s, v in result["stages_step0_loss"].items():
        print(f"stage {s:12s} step-0 loss {v['loss']:.4f}  params {v['n_parameters']}")
    print(f"batchnorm stage: loss step0 {bn['loss_step0']:.4f} step1 {bn['loss_step1']:.4f}")
    print(f"deep network: {dn['n_parameters']} params, loss step0 {dn['loss_step0']:.4f}, "
          f"step999 {dn['loss_step999']:.4f}, step1000 {dn['loss_step1000']:.4f}, "
          f"{dn['seconds_1001_steps']:.1f}s")
    print(f"total {result['seconds_total']:.1f}s -> {args.out}")


if __name__ == "__main__":
    main()
