"""The networks of ``benchmark.py`` in plain PyTorch: the benchmark's honest baseline.

"Plain PyTorch" means each network written the way a PyTorch user writes it,
with nothing of this project's ``reference/`` package: a ``torch.nn.Module``
built from ``nn.Conv2d``, ``nn.Linear``, ``nn.BatchNorm2d``, ``nn.MaxPool2d``,
``nn.LocalResponseNorm``, ``nn.Dropout``, ``nn.Embedding``, ``nn.LSTM`` and ``F.*``;
a training step that is one forward pass, ``F.cross_entropy``, one
``loss.backward()`` (a single autograd pass over the whole network) and one
``torch.optim`` step. The captioner's step (``caption_train_step``) first turns
the captions into teacher forcing's (inputs, targets) tokens.

Why it exists: ``reference/`` mirrors the book's layer-by-layer
forward/backward API, which is what makes the parity suite possible but
costs speed (one autograd call per layer). Timing NumPy only against it
would flatter the NumPy side, so ``benchmark.py`` also times these modules:
what "PyTorch" costs when used as PyTorch is meant to be used.

The architectures are the ones of ``scratch/`` (same layers, sizes, padding,
pooling, dropout, LRN constants, batch-norm eps and momentum), and
``load_from_scratch`` copies a scratch network's ``params`` into a module,
so ``scripts/tests/test_plain_torch.py`` can prove that both compute the same
scores and gradients. Each class's ``scratch_names()`` maps scratch's
parameter names to the module's parameters.

Import this module after setting the thread counts (it imports torch).
"""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from scratch.captioner import CAPTION_PAD, END, PAD_TOKEN, START, VOCAB_SIZE, caption_tokens

from .benchmark import TASKS

__all__ = ["NETWORKS", "TwoLayerNet", "SimpleConvNet", "DeepConvNet", "LeNet", "ResNet", "AlexNet", "VGG",
           "GoogLeNet", "Captioner", "make", "load_from_scratch", "named_gradients", "train_step",
           "caption_train_step"]


def _numbered(layers):
    """{'W1': layers[0].weight, 'b1': layers[0].bias, 'W2': ...}: scratch's names for a plain stack."""
    names = {}
    for idx, layer in enumerate(layers, start=1):
        names[f"W{idx}"], names[f"b{idx}"] = layer.weight, layer.bias
    return names


def _three_stages(fourth_padding):
    """DeepConvNet's and VGG's six 3x3 convolutions, 16-16-32-32-64-64 channels, padding 1 (the fourth:
    ``fourth_padding``)."""
    channels = [1, 16, 16, 32, 32, 64, 64]
    return nn.ModuleList([nn.Conv2d(channels[k], channels[k + 1], 3, padding=fourth_padding if k == 3 else 1)
                          for k in range(6)])


def _through_stages(convs, x):
    """Each convolution with relu, a 2x2 max pool after every second."""
    for idx, conv in enumerate(convs, start=1):
        x = F.relu(conv(x))
        if idx % 2 == 0:
            x = F.max_pool2d(x, 2)
    return x


class TwoLayerNet(nn.Module):
    """Affine - ReLU - Affine (chapter 5). Input (N, 784)."""

    def __init__(self, input_size=784, hidden_size=50, output_size=10):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.fc2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

    def scratch_names(self):
        return _numbered([self.fc1, self.fc2])


class SimpleConvNet(nn.Module):
    """conv 5x5 (30) - relu - max pool 2x2 - affine 100 - relu - affine 10 (chapter 7)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 30, 5)
        self.fc1 = nn.Linear(30 * 12 * 12, 100)
        self.fc2 = nn.Linear(100, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)

    def scratch_names(self):
        return _numbered([self.conv1, self.fc1, self.fc2])


class DeepConvNet(nn.Module):
    """Six 3x3 convolutions (16-16-32-32-64-64, the fourth with pad 2), a max pool after every
    second, then affine 50 - relu - dropout - affine 10 - dropout (chapter 8.1)."""

    def __init__(self, dropout_ratio=0.5):
        super().__init__()
        self.convs = _three_stages(fourth_padding=2)
        self.fc1 = nn.Linear(64 * 4 * 4, 50)
        self.fc2 = nn.Linear(50, 10)
        self.dropout = nn.Dropout(dropout_ratio)

    def forward(self, x):
        x = _through_stages(self.convs, x)  # 28 -> 14, 16 -> 8, 8 -> 4
        x = self.dropout(F.relu(self.fc1(x.flatten(1))))
        return self.dropout(self.fc2(x))

    def scratch_names(self):
        return _numbered([*self.convs, self.fc1, self.fc2])


class Subsampling(nn.Module):
    """LeNet's subsampling: the 2x2 average times a trained coefficient per channel plus a bias."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return F.avg_pool2d(x, 2) * self.weight[:, None, None] + self.bias[:, None, None]


class LeNet(nn.Module):
    """C1 conv 5x5 (6), pad 2 - act - S2 - act - C3 conv 5x5 (16) - act - S4 - act -
    F5 affine 120 - act - F6 affine 84 - act - affine 10 (chapter 8.2.1); act is tanh or sigmoid."""

    def __init__(self, activation="tanh"):
        super().__init__()
        self.act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.s2 = Subsampling(6)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.s4 = Subsampling(16)
        self.f5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, 10)

    def forward(self, x):
        act = self.act
        x = act(self.s2(act(self.c1(x))))
        x = act(self.s4(act(self.c3(x))))
        x = act(self.f6(act(self.f5(x.flatten(1)))))
        return self.output(x)

    def scratch_names(self):
        return _numbered([self.c1, self.s2, self.c3, self.s4, self.f5, self.f6, self.output])


class ResidualBlock(nn.Module):
    """conv 3x3 - bn - relu - conv 3x3 - bn, plus the shortcut (identity, or 1x1 conv - bn when the
    shape changes), then relu. The convolutions have no bias (batch norm's beta is the bias)."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.projection = None
        if stride != 1 or in_channels != out_channels:
            self.projection = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.projection is None else self.projection(x)
        return F.relu(out + shortcut)

    def scratch_names(self, prefix):
        names = {f"{prefix}_W1": self.conv1.weight, f"{prefix}_gamma1": self.bn1.weight,
                 f"{prefix}_beta1": self.bn1.bias,
                 f"{prefix}_W2": self.conv2.weight, f"{prefix}_gamma2": self.bn2.weight,
                 f"{prefix}_beta2": self.bn2.bias}
        if self.projection is not None:
            conv, bn = self.projection
            names.update({f"{prefix}_Wp": conv.weight, f"{prefix}_gammap": bn.weight, f"{prefix}_betap": bn.bias})
        return names


class ResNet(nn.Module):
    """stem conv 3x3 (16) - bn - relu, residual blocks 16 -> 16, 16 -> 32 (stride 2),
    32 -> 64 (stride 2), global average pooling, affine 10 (chapter 8.2.5)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.s1b1 = ResidualBlock(16, 16, stride=1)
        self.s2b1 = ResidualBlock(16, 32, stride=2)
        self.s3b1 = ResidualBlock(32, 64, stride=2)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        x = self.s3b1(self.s2b1(self.s1b1(x)))
        return self.fc(x.mean(dim=(2, 3)))

    def scratch_names(self):
        names = {"stem_W": self.stem.weight, "stem_gamma": self.stem_bn.weight, "stem_beta": self.stem_bn.bias}
        for prefix in ("s1b1", "s2b1", "s3b1"):
            names.update(getattr(self, prefix).scratch_names(prefix))
        names.update({"fc_W": self.fc.weight, "fc_b": self.fc.bias})
        return names


class AlexNet(nn.Module):
    """conv 5x5 (32), pad 2 - relu - LRN - max pool 3x3/2, conv 3x3 (64) - relu - LRN - max pool 3x3/2,
    conv 3x3 (96) - relu, conv 3x3 (64) - relu - max pool 3x3/2, dropout - affine 256 - relu -
    dropout - affine 10 (chapter 8.2.2). LRN: the paper's n=5, k=2, beta=0.75, and alpha=1e-4 on
    the sum of squares, which is nn.LocalResponseNorm's alpha = 5 * 1e-4 (it divides by size)."""

    def __init__(self, dropout_ratio=0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 96, 3, padding=1)
        self.conv4 = nn.Conv2d(96, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 2 * 2, 256)
        self.fc2 = nn.Linear(256, 10)
        self.lrn = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
        self.pool = nn.MaxPool2d(3, stride=2)
        self.dropout = nn.Dropout(dropout_ratio)

    def forward(self, x):
        x = self.pool(self.lrn(F.relu(self.conv1(x))))  # 28 -> 13
        x = self.pool(self.lrn(F.relu(self.conv2(x))))  # 13 -> 6
        x = F.relu(self.conv3(x))
        x = self.pool(F.relu(self.conv4(x)))  # 6 -> 2
        x = F.relu(self.fc1(self.dropout(x.flatten(1))))
        return self.fc2(self.dropout(x))

    def scratch_names(self):
        return _numbered([self.conv1, self.conv2, self.conv3, self.conv4, self.fc1, self.fc2])


class VGG(nn.Module):
    """Three stages of two 3x3 convolutions (pad 1) with relu, each ending in a 2x2 max pool
    (16, 32, 64 channels; 28 -> 14 -> 7 -> 3), then affine 256 - relu - dropout - affine 10."""

    def __init__(self, dropout_ratio=0.5):
        super().__init__()
        self.convs = _three_stages(fourth_padding=1)
        self.fc1 = nn.Linear(64 * 3 * 3, 256)
        self.fc2 = nn.Linear(256, 10)
        self.dropout = nn.Dropout(dropout_ratio)

    def forward(self, x):
        x = _through_stages(self.convs, x)  # 28 -> 14 -> 7 -> 3
        x = self.dropout(F.relu(self.fc1(x.flatten(1))))
        return self.fc2(x)

    def scratch_names(self):
        return _numbered([*self.convs, self.fc1, self.fc2])


class Inception(nn.Module):
    """Four paths joined along the channels: 1x1; 1x1 - 3x3; 1x1 - 5x5; max pool 3x3/1 - 1x1.
    Sizes in the paper's order (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)."""

    def __init__(self, in_channels, n1, r3, n3, r5, n5, pool_proj):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, n1, 1)
        self.conv2r = nn.Conv2d(in_channels, r3, 1)
        self.conv2 = nn.Conv2d(r3, n3, 3, padding=1)
        self.conv3r = nn.Conv2d(in_channels, r5, 1)
        self.conv3 = nn.Conv2d(r5, n5, 5, padding=2)
        self.conv4 = nn.Conv2d(in_channels, pool_proj, 1)

    def forward(self, x):
        path1 = F.relu(self.conv1(x))
        path2 = F.relu(self.conv2(F.relu(self.conv2r(x))))
        path3 = F.relu(self.conv3(F.relu(self.conv3r(x))))
        path4 = F.relu(self.conv4(F.max_pool2d(x, 3, stride=1, padding=1)))
        return torch.cat([path1, path2, path3, path4], dim=1)

    def scratch_names(self, prefix):
        names = {}
        for suffix in ("1", "2r", "2", "3r", "3", "4"):
            conv = getattr(self, f"conv{suffix}")
            names[f"{prefix}_W{suffix}"], names[f"{prefix}_b{suffix}"] = conv.weight, conv.bias
        return names


class GoogLeNet(nn.Module):
    """stem conv 3x3 (32), pad 1 - relu - max pool 2x2, inception (-> 56), max pool 2x2,
    inception (-> 88), global average pooling, affine 10 (chapter 8.2.3)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 32, 3, padding=1)
        self.i1 = Inception(32, 16, 16, 24, 4, 8, 8)
        self.i2 = Inception(56, 24, 24, 32, 8, 16, 16)
        self.fc = nn.Linear(88, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 2)  # 28 -> 14
        x = F.max_pool2d(self.i1(x), 2)  # 14 -> 7
        x = self.i2(x)
        return self.fc(x.mean(dim=(2, 3)))

    def scratch_names(self):
        names = {"stem_W": self.stem.weight, "stem_b": self.stem.bias}
        names.update(self.i1.scratch_names("i1"))
        names.update(self.i2.scratch_names("i2"))
        names.update({"fc_W": self.fc.weight, "fc_b": self.fc.bias})
        return names


class Captioner(nn.Module):
    """Image captioning (8.4): conv 3x3 pad 1 - relu - max pool (2x2, 2x2, then 3x3 stride 2 pad 1) three
    times; affine - relu - affine - tanh of the whole map gives the LSTM its initial hidden state h0 (c0 = 0),
    an affine map of each column plus a learnt position gives the keys; embedding - LSTM, attention over the
    keys, affine - tanh of [context, h], affine scores the next token (``scratch.captioner``'s docstring:
    the vocabulary, teacher forcing, greedy decoding)."""

    def __init__(self, input_dim=(1, 28, 140), channels=(16, 32, 64), encoder_size=512, hidden_size=256,
                 embed_size=16):
        super().__init__()
        C, height, width = input_dim
        self.conv1 = nn.Conv2d(C, channels[0], 3, padding=1)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 3, padding=1)
        self.conv3 = nn.Conv2d(channels[1], channels[2], 3, padding=1)
        rows, columns = (height // 4 + 1) // 2, (width // 4 + 1) // 2  # 28 x 140 -> 4 x 18
        self.fc = nn.Linear(channels[2] * rows * columns, encoder_size)
        self.to_h = nn.Linear(encoder_size, hidden_size)
        self.key = nn.Linear(channels[2] * rows, hidden_size)
        self.position = nn.Parameter(torch.randn(columns, hidden_size))
        self.embed = nn.Embedding(VOCAB_SIZE, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, batch_first=True)
        self.attentional = nn.Linear(2 * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, VOCAB_SIZE)

    def encode(self, images):
        """Pictures (N, C, H, W) -> the LSTM's initial state (h0, c0), each (1, N, hidden_size), and the keys
        (N, columns, hidden_size)."""
        x = F.max_pool2d(F.relu(self.conv1(images)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(x)), 3, stride=2, padding=1)
        keys = self.key(x.permute(0, 3, 1, 2).flatten(2)) + self.position
        h0 = torch.tanh(self.to_h(F.relu(self.fc(x.flatten(1)))))[None]
        return (h0, torch.zeros_like(h0)), keys

    def decode(self, hidden, keys):
        context = F.scaled_dot_product_attention(hidden, keys, keys)
        return self.out(torch.tanh(self.attentional(torch.cat([context, hidden], dim=2))))

    def forward(self, images, inputs):
        """Scores (N, T, V) of the next token after each input token (N, T): teacher forcing."""
        state, keys = self.encode(images)
        hidden, _ = self.lstm(self.embed(inputs), state)
        return self.decode(hidden, keys)

    @torch.no_grad()
    def generate(self, images, max_len=6):
        """Greedy captions (N, max_len): from <start>, feed back the best of the digits and <end> until
        <end>; digits, then -1 from the <end> on."""
        state, keys = self.encode(images)
        token = torch.full((len(images), 1), START)
        captions = torch.full((len(images), max_len), CAPTION_PAD)
        done = torch.zeros(len(images), dtype=torch.bool)
        for t in range(max_len):
            hidden, state = self.lstm(self.embed(token), state)
            token = self.decode(hidden, keys)[:, 0, :END + 1].argmax(1)
            done |= token == END
            captions[~done, t] = token[~done]
            if done.all():
                break
            token = token[:, None]
        return captions

    def scratch_names(self):
        return {"W1": self.conv1.weight, "b1": self.conv1.bias, "W2": self.conv2.weight, "b2": self.conv2.bias,
                "W3": self.conv3.weight, "b3": self.conv3.bias, "W4": self.fc.weight, "b4": self.fc.bias,
                "W_h": self.to_h.weight, "b_h": self.to_h.bias, "W_key": self.key.weight, "b_key": self.key.bias,
                "W_pos": self.position, "W_embed": self.embed.weight,
                "weight_ih": self.lstm.weight_ih_l0, "weight_hh": self.lstm.weight_hh_l0,
                "bias_ih": self.lstm.bias_ih_l0, "bias_hh": self.lstm.bias_hh_l0,
                "W_att": self.attentional.weight, "b_att": self.attentional.bias,
                "W_out": self.out.weight, "b_out": self.out.bias}


# benchmark.py's model names -> module class; each is built in its benchmarked shape and trains with the
# optimizer and learning rate of its task (``benchmark.TASKS[name]``: a classifier's entry in
# toolkit.models, the captioner scripts/caption.py's), as benchmark.py trains it.
NETWORKS = {"two_layer": TwoLayerNet, "simple_convnet": SimpleConvNet, "deep_convnet": DeepConvNet, "lenet": LeNet,
            "resnet": ResNet, "alexnet": AlexNet, "vgg": VGG, "googlenet": GoogLeNet, "captioner": Captioner}


def make(model_name, dtype, **options):
    """(module, optimizer) for one of benchmark.py's networks, in ``dtype`` ('float32', np.float64,
    torch.float32, ...). ``options`` go to the module's constructor (e.g. ``dropout_ratio=0``) over
    the benchmarked shape (the captioner's: ``benchmark.Captioning.shape``)."""
    task = TASKS[model_name]
    if not isinstance(dtype, torch.dtype):
        dtype = getattr(torch, np.dtype(dtype).name)
    module = NETWORKS[model_name](**{**task.shape, **options}).to(dtype)
    return module, getattr(torch.optim, task.optimizer)(module.parameters(), lr=task.lr)


def load_from_scratch(module, params):
    """Copy a scratch network's ``params`` (name -> NumPy array) into ``module``; returns the module.

    Every parameter of the module must be named, with its shape (scratch stores affine weights
    (out, in), as nn.Linear does, so nothing is transposed). Values are cast to the module's dtype.
    """
    targets = module.scratch_names()
    if set(targets) != set(params):
        raise KeyError(f"{type(module).__name__}: parameters differ; missing {sorted(set(targets) - set(params))}, "
                       f"unknown {sorted(set(params) - set(targets))}")
    if len({id(p) for p in targets.values()}) != len(list(module.parameters())):
        raise AssertionError(f"{type(module).__name__}.scratch_names() does not name every parameter once")
    with torch.no_grad():
        for name, param in targets.items():
            value = torch.as_tensor(np.asarray(params[name]))
            if tuple(value.shape) != tuple(param.shape):
                raise ValueError(f"{name}: shape {tuple(value.shape)} from scratch, {tuple(param.shape)} here")
            param.copy_(value)
    return module


def named_gradients(module):
    """The gradients of the last ``backward`` under scratch's parameter names (name -> tensor)."""
    return {name: param.grad for name, param in module.scratch_names().items()}


def train_step(module, optimizer, x, t):
    """One training step: zero the gradients, cross-entropy of the scores, one backward pass,
    one optimizer step. Returns the loss (a tensor)."""
    optimizer.zero_grad()
    loss = F.cross_entropy(module(x), t)
    loss.backward()
    optimizer.step()
    return loss


def caption_train_step(module, optimizer, images, captions):
    """The captioner's training step: captions (N, L), digits padded with -1, become teacher forcing's
    (inputs, targets); then cross-entropy of every (N * T) score row, <pad> targets ignored, one
    backward pass, one optimizer step. Returns the loss (a tensor)."""
    inputs, targets = (torch.from_numpy(tokens) for tokens in caption_tokens(captions))
    optimizer.zero_grad()
    scores = module(images, inputs)
    loss = F.cross_entropy(scores.flatten(0, 1), targets.flatten(), ignore_index=PAD_TOKEN)
    loss.backward()
    optimizer.step()
    return loss
