"""Image captioning (8.4: CNN + RNN), in PyTorch: the same network as ``scratch.captioner``.

The encoder's layers are ``reference.convolution`` / ``reference.layers``
(``F.conv2d``, ``F.max_pool2d``, ``F.linear``, ``torch.tanh``), the decoder's
``reference.time_layers``, ``reference.lstm`` and ``reference.attention``
(``F.embedding``, ``nn.LSTM`` through ``functional_call``,
``F.scaled_dot_product_attention``, ``F.linear``, ``F.cross_entropy(ignore_index=...)``).
The gradient is one autograd pass from the loss, through the attention and the
LSTM's initial state into the encoder. The vocabulary, the token helpers and the checks are
``scratch.captioner``'s (tokens are data, not arithmetic). The initial weights
are drawn with ``torch.nn.init`` from a ``torch.Generator``: the same scales as
the NumPy network, other numbers; ``load_params`` copies one network's weights
into the other.
"""
from collections import OrderedDict

import numpy as np
import torch

from scratch.captioner import (CAPTION_PAD, END, PAD_TOKEN, POOLS, START, VOCAB_SIZE, caption_scores,
                               caption_tokens, check_captioner_args, check_captions, check_max_len, encoder_shape)

from ._tensor import to_numpy, torch_dtype
from .attention import TimeAttention
from .layers import Relu, Tanh
from .lstm import TimeLSTM
from .network_base import Network
from .time_layers import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .weight_init import make_rng

__all__ = ["Captioner", "caption_tokens", "caption_scores", "VOCAB_SIZE", "START", "END", "PAD_TOKEN",
           "CAPTION_PAD"]


class Captioner(Network):
    """A CNN encoder reads the picture; an LSTM decoder, starting from the encoder's summary and
    attending to its columns, writes the caption (``scratch.captioner``'s docstring)."""

    def __init__(self, input_dim=(1, 28, 140), channels=(16, 32, 64), encoder_size=512, hidden_size=256,
                 embed_size=16, weight_init_std="he", dtype="float32", seed=None, readable=False):
        self.readable = readable  # PyTorch's operators are one code path: accepted for the same signature
        channels, F, H, E = check_captioner_args(channels, encoder_size, hidden_size, embed_size)
        C3, h3, w3 = encoder_shape(input_dim, channels)
        (C, *_), (C1, C2, _), V = input_dim, channels, VOCAB_SIZE
        self.input_dim = tuple(int(n) for n in input_dim)
        self.encoder_size, self.hidden_size, self.embed_size = F, H, E
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        zeros = lambda n: torch.zeros(n, dtype=self.dtype, requires_grad=True)  # noqa: E731
        self.params = {
            "W1": self._init_weight((C1, C, 3, 3), weight_init_std, rng), "b1": zeros(C1),
            "W2": self._init_weight((C2, C1, 3, 3), weight_init_std, rng), "b2": zeros(C2),
            "W3": self._init_weight((C3, C2, 3, 3), weight_init_std, rng), "b3": zeros(C3),
            "W4": self._init_weight((F, C3 * h3 * w3), weight_init_std, rng), "b4": zeros(F),
            "W_h": self._init_weight((H, F), "xavier", rng), "b_h": zeros(H),
            "W_key": self._init_weight((H, C3 * h3), "xavier", rng), "b_key": zeros(H),
            "W_pos": self._init_weight((w3, H), 1.0, rng),
            "W_embed": self._init_weight((V, E), 1.0, rng),
            "weight_ih": self._init_weight((4 * H, E), "xavier", rng),
            "weight_hh": self._init_weight((4 * H, H), "xavier", rng),
            "bias_ih": zeros(4 * H), "bias_hh": zeros(4 * H),
            "W_att": self._init_weight((H, 2 * H), "xavier", rng), "b_att": zeros(H),
            "W_out": self._init_weight((V, H), "xavier", rng), "b_out": zeros(V),
        }
        p = self.params
        self.layers = OrderedDict()  # the encoder's convolutions
        for i, (size, stride, pad) in enumerate(POOLS, start=1):
            self.layers[f"Conv{i}"] = self._convolution(p[f"W{i}"], p[f"b{i}"], 1, 1)
            self.layers[f"Relu{i}"] = Relu()
            self.layers[f"Pool{i}"] = self._pooling(size, size, stride, pad)
        self.layers["Conv1"].need_dx = False  # nothing upstream needs dL/dx of the images
        self.summary = OrderedDict(Affine4=self._affine(p["W4"], p["b4"]), Relu4=Relu(),  # the whole picture -> h0
                                   Affine_h=self._affine(p["W_h"], p["b_h"]), Tanh_h=Tanh())
        self.key = TimeAffine(p["W_key"], p["b_key"])  # each column -> a key
        self.embed = TimeEmbedding(p["W_embed"])  # the decoder
        self.lstm = TimeLSTM(p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"])
        self.attention = TimeAttention()
        self.attentional = TimeAffine(p["W_att"], p["b_att"])
        self.tanh_att = Tanh()
        self.output = TimeAffine(p["W_out"], p["b_out"])
        self.last_layer = TimeSoftmaxWithLoss(ignore_index=PAD_TOKEN)

    def encode(self, x):
        """Pictures (N, *input_dim) -> the LSTM's initial state h0 (N, H) and the column keys (N, S, H)."""
        x = self._as_images(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        N, C3, h3, w3 = x.shape
        columns = x.permute(0, 3, 1, 2).reshape(N, w3, C3 * h3)  # column s: its C3 x h3 features
        keys = self.key.forward(columns) + self.params["W_pos"]
        h = x.reshape(N, -1)
        for layer in self.summary.values():
            h = layer.forward(h)
        return h, keys

    def decode(self, hs, keys):
        """The LSTM's states (N, T, H) and the keys -> scores (N, T, V): attend, combine, score."""
        context = self.attention.forward(hs, keys)
        combined = self.tanh_att.forward(self.attentional.forward(torch.cat([context, hs], dim=2)))
        return self.output.forward(combined)

    def predict(self, x, inputs):
        """Scores (N, T, V) of the next token after each of the input tokens (N, T), teacher forcing."""
        h0, keys = self.encode(x)
        self.lstm.set_state(h0, torch.zeros_like(h0))
        return self.decode(self.lstm.forward(self.embed.forward(inputs)), keys)

    def loss(self, x, captions):
        """Mean cross-entropy of the caption's tokens (d1..dk <end>) given the picture, padding ignored."""
        x = self._as_images(x)
        check_captions(to_numpy(captions), "Captioner", len(x))
        inputs, targets = caption_tokens(to_numpy(captions))
        return self.last_layer.forward(self.predict(x, inputs), targets)

    def gradient(self, x, captions):
        """Every parameter's gradient in one autograd pass from the loss; the loss is kept as ``last_loss``."""
        return self._autograd_gradient(self.loss(x, captions))

    @torch.no_grad()
    def generate(self, x, max_len=6):
        """Greedy captions (N, max_len), a NumPy int64 array as ``scratch``'s: digits, then -1 from the <end> on.

        One ``nn.LSTM`` step per token, from (h0, 0) and <start>; each step attends
        to the keys and feeds back ``torch.argmax`` of the scores of the digits and <end>.
        """
        max_len = check_max_len(max_len)
        h, keys = self.encode(x)
        c = torch.zeros_like(h)
        N = len(h)
        token = torch.full((N, 1), START, dtype=torch.int64)
        out = torch.full((N, max_len), CAPTION_PAD, dtype=torch.int64)
        done = torch.zeros(N, dtype=torch.bool)
        for t in range(max_len):
            self.lstm.set_state(h, c)
            scores = self.decode(self.lstm.forward(self.embed.forward(token)), keys)[:, 0, :]
            h, c = self.lstm.h, self.lstm.c
            token = torch.argmax(scores[:, :END + 1], dim=1)  # the digits and <end>
            done |= token == END
            out[~done, t] = token[~done]
            if bool(done.all()):
                break
            token = token[:, None]
        return out.numpy()

    def evaluate(self, x, captions, batch_size=500, max_len=6):
        """(exact-caption accuracy, token accuracy) of greedy captions (``caption_scores``), in batches."""
        x = np.asarray(to_numpy(x))
        check_captions(to_numpy(captions), "Captioner", len(x))
        predicted = np.concatenate([self.generate(x[i:i + batch_size], max_len)
                                    for i in range(0, len(x), batch_size)])
        return caption_scores(predicted, to_numpy(captions))

    def accuracy(self, x, captions, batch_size=500):
        """Exact-caption accuracy of greedy decoding."""
        return self.evaluate(x, captions, batch_size)[0]
