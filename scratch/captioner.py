"""Image captioning (8.4: CNN + RNN): a small convnet reads a picture of digits, an LSTM writes its caption.

    net = Captioner(seed=0)                       # pictures (N, 1, 28, 140), ``multi_digit``'s canvas
    grads = net.gradient(images, captions)        # captions (N, 5): digits padded with PAD = -1
    tokens = net.generate(images)                 # (N, 6): the greedy caption, digits padded with -1

The network
-----------
Encoder (chapter-7 layers): three conv stages turn the picture into a map of C3 x 4 x 18, read two ways:

    Conv1 3x3 pad 1 - Relu - Pool 2x2                  (1, 28, 140) -> (C1, 14, 70)
    Conv2 3x3 pad 1 - Relu - Pool 2x2                  -> (C2, 7, 35)
    Conv3 3x3 pad 1 - Relu - Pool 3x3 stride 2 pad 1   -> (C3, 4, 18)
    the whole map:  Affine4 (F) - Relu - Affine_h - Tanh          -> h0 (N, H), the LSTM's first state
    each column s:  its C3 x 4 values - Affine_key, + W_pos[s]    -> keys (N, S = 18, H)

Three conv stages see a whole digit (the third's receptive field is 18 pixels
wide, a digit's ink about 20); the last pool overlaps (3x3, stride 2, pad 1)
because 7 x 35 does not halve. The summary h0 tells the decoder where the
digits are and how many; a key tells it what one column (8 pixels of the
picture, seeing about 30) holds, and W_pos, learnt, where that column is.
The cell state starts at c0 = 0.

Decoder (the sequel's chapters 6 and 8), teacher forcing:

    tokens (N, T) - TimeEmbedding - TimeLSTM (from h0, 0)  -> hs (N, T, H)
    TimeAttention(hs, keys)                                -> context (N, T, H): the columns each step looks at
    [context, hs] - TimeAffine (W_att) - Tanh - TimeAffine (W_out) - TimeSoftmaxWithLoss (mean over non-padding)

At each step the LSTM's state asks for a column (``scratch.attention``:
softmax(hs keys^T / sqrt(H)) keys), and the scores of the next token come
from what it found there together with the state (Luong's attentional
layer; the sequel's AttentionSeq2seq joins them the same way, without the
tanh layer). Why attention: with the encoder's state alone (the design of
docs/captioning.md's first runs), the LSTM had to carry every digit of the
row from h0; the longest captions suffered most.

The vocabulary (V = 13 tokens): the digits 0-9 are their own tokens, then
``END`` = 10, ``START`` = 11 and ``PAD_TOKEN`` = 12 (so the tokens a caption
can hold, the digits and <end>, are 0..10). A caption d1..dk (k <= L,
L = captions.shape[1]) becomes (``caption_tokens``), with T = L + 1:

    inputs  = <start> d1 ... dk <pad> ...      (what the LSTM reads at each step)
    targets = d1 ... dk <end> <pad> ...        (what it should say at each step)

The loss ignores the <pad> targets (``ignore_index=PAD_TOKEN``, as
``F.cross_entropy``), so the padding neither counts nor dilutes the mean. The
LSTM is causal: the <pad> inputs after <end> change no counted score, and the
<pad> row of the embedding never gets a gradient.

Greedy decoding (``generate``): from h0, feed <start>, take the highest score
among the tokens a caption holds (the digits and <end>; <start> and <pad> are
never chosen), feed it back, until <end> or ``max_len`` tokens; the keys are
computed once per picture.

Backward: the decoder's layers in reverse; the gradient of [context, hs]
splits, the context's part runs back through the attention to hs and to the
keys, and the hs part joins the one from the attention before the LSTM. The
gradients with respect to h0 (``lstm.dh``) and the keys come back through
their layers and add up on the last feature map, which runs back through the
convolutions.

Parameters (``params``; affine weights (out, in) like ``nn.Linear``, the LSTM's
in ``nn.LSTM``'s layout, ``scratch.lstm``):

    W1 (C1, C, 3, 3), b1; W2 (C2, C1, 3, 3), b2; W3 (C3, C2, 3, 3), b3;
    W4 (F, C3 * 4 * 18), b4; W_h (H, F), b_h                                  the summary -> h0
    W_key (H, C3 * 4), b_key; W_pos (18, H)                                   the keys
    W_embed (V, E); weight_ih (4H, E), weight_hh (4H, H), bias_ih, bias_hh (4H,);
    W_att (H, 2H), b_att; W_out (V, H), b_out (V,)                            the decoder

Initial draws, in this order from one generator: W1, W2, W3, W4 with He's scale
(``weight_init_std``, default 'he'), W_h and W_key with Xavier's sqrt(1 / fan-in),
W_pos and W_embed ~ N(0, 1) (an embedding's, ``nn.Embedding``'s), weight_ih,
weight_hh, W_att and W_out with Xavier's scale; biases 0.
"""
from collections import OrderedDict

import numpy as np

from .checks import check_size, dtype_of
from .layers import Relu, Tanh
from .attention import TimeAttention
from .lstm import TimeLSTM
from .network_base import Network
from .simple_convnet import check_input_dim, conv_output_size
from .time_layers import TimeAffine, TimeEmbedding, TimeSoftmaxWithLoss
from .weight_init import make_rng

__all__ = ["Captioner", "caption_tokens", "caption_scores", "VOCAB_SIZE", "START", "END", "PAD_TOKEN",
           "CAPTION_PAD"]

VOCAB_SIZE = 13     # the digits 0..9, <start>, <end>, <pad>
END = 10            # right after the digits: the tokens a caption holds are 0..END
START = 11
PAD_TOKEN = 12      # padding of token sequences (ignored by the loss)
CAPTION_PAD = -1    # padding of the captions of ``multi_digit`` (its PAD)


# --- checks and token helpers (shared with reference.captioner)

def check_captions(captions, who="Captioner", n=None):
    """Captions (N, L) of integer digits 0..9, each padded at its end with -1; N == n when given.
    Returns the captions as an int64 NumPy array and their lengths (N,)."""
    captions = np.asarray(captions)
    if captions.dtype.kind not in "iu":
        raise TypeError(f"{who} expects integer captions (digits 0..9, padded with -1), got dtype {captions.dtype}")
    if captions.ndim != 2 or captions.shape[1] < 1:
        raise ValueError(f"{who} expects captions of shape (N, L), L >= 1, got {captions.shape}")
    if n is not None and captions.shape[0] != n:
        raise ValueError(f"{who}: {n} pictures but {captions.shape[0]} captions (captions of shape "
                         f"{captions.shape}); give one caption per picture")
    bad = (captions != CAPTION_PAD) & ((captions < 0) | (captions > 9))
    if np.any(bad):
        raise ValueError(f"{who}: caption tokens must be digits 0..9 or the padding -1, got {captions[bad][0]} "
                         f"({int(np.count_nonzero(bad))} of {captions.size} out of range)")
    digits = captions != CAPTION_PAD
    lengths = digits.sum(axis=1)
    gaps = digits & (np.arange(captions.shape[1]) >= lengths[:, None])  # a digit after a -1
    if np.any(gaps):
        row = int(np.nonzero(gaps.any(axis=1))[0][0])
        raise ValueError(f"{who}: caption {row} has a digit after its padding ({captions[row].tolist()}); "
                         f"pad each caption with -1 at its end only")
    return captions.astype(np.int64, copy=False), lengths.astype(np.int64)


def caption_tokens(captions):
    """Teacher forcing's (inputs, targets), each (N, L + 1) int64, from captions (N, L) padded with -1:
    inputs = <start> d1..dk <pad>..., targets = d1..dk <end> <pad>... (module docstring)."""
    captions, lengths = check_captions(captions, "caption_tokens")
    N, L = captions.shape
    digits = np.where(captions == CAPTION_PAD, PAD_TOKEN, captions)
    inputs = np.full((N, L + 1), PAD_TOKEN, dtype=np.int64)
    inputs[:, 0] = START
    inputs[:, 1:] = digits
    targets = np.full((N, L + 1), PAD_TOKEN, dtype=np.int64)
    targets[:, :L] = digits
    targets[np.arange(N), lengths] = END
    return inputs, targets


def caption_scores(predicted, captions):
    """(exact-caption accuracy, token accuracy) of ``generate``'s output against the true captions.

    Both are digits padded with -1. Exact: the fraction of pictures whose
    predicted caption is the true one, digit for digit and of the same
    length. Token: over every position of every true target sequence
    (d1..dk <end>), the fraction where the prediction holds the same token
    (a prediction that stops early or goes on counts as wrong there).
    """
    predicted, captions = np.asarray(predicted), check_captions(captions, "caption_scores")[0]
    if predicted.ndim != 2 or predicted.shape[0] != captions.shape[0]:
        raise ValueError(f"caption_scores: predictions of shape {predicted.shape} for captions of shape "
                         f"{captions.shape}; one row per caption expected")
    width = max(predicted.shape[1], captions.shape[1]) + 1  # room for the <end> after a full row
    _, targets = caption_tokens(np.pad(captions, ((0, 0), (0, width - 1 - captions.shape[1])),
                                       constant_values=CAPTION_PAD))
    pred = np.where(predicted == CAPTION_PAD, PAD_TOKEN, predicted)
    said = np.full((len(pred), width), PAD_TOKEN, dtype=np.int64)
    said[:, :pred.shape[1]] = pred
    ended = pred.shape[1] - (pred == PAD_TOKEN).sum(axis=1)  # the <end> goes after the last digit
    stopped = ended < pred.shape[1]  # a row that filled max_len said no <end>
    said[np.nonzero(stopped)[0], ended[stopped]] = END
    counted = targets != PAD_TOKEN
    exact = float(np.mean(np.all(said == targets, axis=1)))
    token = float(np.count_nonzero((said == targets) & counted) / np.count_nonzero(counted))
    return exact, token


# The encoder's three poolings (size, stride, pad): 28 x 140 -> 14 x 70 -> 7 x 35 -> 4 x 18.
POOLS = ((2, 2, 0), (2, 2, 0), (3, 2, 1))


def encoder_shape(input_dim, channels, who="Captioner"):
    """(C, H, W) after the three conv (3x3, pad 1) - pool (``POOLS``) stages; the 2x2 pools must tile."""
    C, height, width = check_input_dim(input_dim, who)
    for size, stride, pad in POOLS:  # a 3x3 conv with pad 1 keeps the size
        if size == stride and (height % size or width % size):
            raise ValueError(f"{who}: input_dim {tuple(input_dim)} does not pool {size}x{size}: a {height}x{width} "
                             f"feature map (both sides must be even)")
        height, width = conv_output_size(height, size, stride, pad), conv_output_size(width, size, stride, pad)
    return channels[-1], height, width


def check_captioner_args(channels, encoder_size, hidden_size, embed_size, who="Captioner"):
    """Three positive channel counts and positive sizes; returns (channels, encoder_size, hidden_size, embed_size)."""
    channels = tuple(channels)
    if len(channels) != 3:
        raise ValueError(f"{who}: channels must be three counts (C1, C2, C3), got {channels!r}")
    channels = tuple(check_size(c, "channels", who) for c in channels)
    return (channels, check_size(encoder_size, "encoder_size", who), check_size(hidden_size, "hidden_size", who),
            check_size(embed_size, "embed_size", who))


def check_max_len(max_len, who="Captioner.generate"):
    return check_size(max_len, "max_len", who)


class Captioner(Network):
    """A CNN encoder reads the picture; an LSTM decoder, starting from the encoder's summary and
    attending to its columns, writes the caption (module docstring: layers, vocabulary, parameters)."""

    def __init__(self, input_dim=(1, 28, 140), channels=(16, 32, 64), encoder_size=512, hidden_size=256,
                 embed_size=16, weight_init_std="he", dtype="float32", seed=None, readable=False):
        self.readable = readable
        channels, F, H, E = check_captioner_args(channels, encoder_size, hidden_size, embed_size)
        C3, h3, w3 = encoder_shape(input_dim, channels)
        (C, *_), (C1, C2, _), V = input_dim, channels, VOCAB_SIZE
        self.input_dim = tuple(int(n) for n in input_dim)
        self.encoder_size, self.hidden_size, self.embed_size = F, H, E
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        zeros = lambda n: np.zeros(n, dtype=self.dtype)  # noqa: E731
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
        self.feature_shape = x.shape
        N, C3, h3, w3 = x.shape
        columns = x.transpose(0, 3, 1, 2).reshape(N, w3, C3 * h3)  # column s: its C3 x h3 features
        keys = self.key.forward(columns) + self.params["W_pos"]
        h = x.reshape(N, -1)
        for layer in self.summary.values():
            h = layer.forward(h)
        return h, keys

    def decode(self, hs, keys):
        """The LSTM's states (N, T, H) and the keys -> scores (N, T, V): attend, combine, score."""
        context = self.attention.forward(hs, keys)
        combined = self.tanh_att.forward(self.attentional.forward(np.concatenate([context, hs], axis=2)))
        return self.output.forward(combined)

    def predict(self, x, inputs):
        """Scores (N, T, V) of the next token after each of the input tokens (N, T), teacher forcing."""
        h0, keys = self.encode(x)
        self.lstm.set_state(h0, np.zeros_like(h0))
        return self.decode(self.lstm.forward(self.embed.forward(inputs)), keys)

    def loss(self, x, captions):
        """Mean cross-entropy of the caption's tokens (d1..dk <end>) given the picture, padding ignored."""
        x = self._as_images(x)
        check_captions(captions, "Captioner", len(x))
        inputs, targets = caption_tokens(captions)
        return self.last_layer.forward(self.predict(x, inputs), targets)

    def gradient(self, x, captions):
        """Backpropagation (module docstring, "Backward"); the loss of the forward pass is kept as ``last_loss``."""
        self.last_loss = self.loss(x, captions)
        H = self.hidden_size
        dout = self.output.backward(self.last_layer.backward(1))
        dout = self.attentional.backward(self.tanh_att.backward(dout))  # d[context, hs]
        dhs_attention, dkeys = self.attention.backward(dout[:, :, :H])
        self.embed.backward(self.lstm.backward(dout[:, :, H:] + dhs_attention))
        dW_pos = dkeys.sum(axis=0)  # W_pos is added to every picture's keys
        N, C3, h3, w3 = self.feature_shape
        dmap = self.key.backward(dkeys).reshape(N, w3, C3, h3).transpose(0, 2, 3, 1)  # columns back in place
        dh0 = self.lstm.dh
        for layer in reversed(self.summary.values()):
            dh0 = layer.backward(dh0)
        dmap = dmap + dh0.reshape(self.feature_shape)  # the two readings of the map add up
        for layer in reversed(self.layers.values()):
            dmap = layer.backward(dmap)
        L, S = self.layers, self.summary
        return {"W1": L["Conv1"].dW, "b1": L["Conv1"].db, "W2": L["Conv2"].dW, "b2": L["Conv2"].db,
                "W3": L["Conv3"].dW, "b3": L["Conv3"].db, "W4": S["Affine4"].dW, "b4": S["Affine4"].db,
                "W_h": S["Affine_h"].dW, "b_h": S["Affine_h"].db, "W_key": self.key.dW, "b_key": self.key.db,
                "W_pos": dW_pos, "W_embed": self.embed.dW, "weight_ih": self.lstm.dweight_ih,
                "weight_hh": self.lstm.dweight_hh, "bias_ih": self.lstm.dbias_ih, "bias_hh": self.lstm.dbias_hh,
                "W_att": self.attentional.dW, "b_att": self.attentional.db,
                "W_out": self.output.dW, "b_out": self.output.db}

    def generate(self, x, max_len=6):
        """Greedy captions (N, max_len) int64: digits, then -1 from the <end> on (the <end> not written).

        One LSTM step per token, from (h0, 0) and <start>; each step attends to
        the keys, scores, and feeds back its highest-scoring token among the
        digits and <end> (the first of equal scores, as ``argmax``). A row
        without <end> after ``max_len`` tokens keeps them all.
        """
        max_len = check_max_len(max_len)
        h, keys = self.encode(x)
        c = np.zeros_like(h)
        N = len(h)
        token = np.full((N, 1), START, dtype=np.int64)
        out = np.full((N, max_len), CAPTION_PAD, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        for t in range(max_len):
            self.lstm.set_state(h, c)
            scores = self.decode(self.lstm.forward(self.embed.forward(token)), keys)[:, 0, :]
            h, c = self.lstm.h, self.lstm.c
            token = np.argmax(scores[:, :END + 1], axis=1)  # the digits and <end>
            done |= token == END
            out[~done, t] = token[~done]
            if done.all():
                break
            token = token[:, None]
        return out

    def evaluate(self, x, captions, batch_size=500, max_len=6):
        """(exact-caption accuracy, token accuracy) of greedy captions (``caption_scores``), in batches."""
        x = np.asarray(x)
        check_captions(captions, "Captioner", len(x))
        predicted = np.concatenate([self.generate(x[i:i + batch_size], max_len)
                                    for i in range(0, len(x), batch_size)])
        return caption_scores(predicted, captions)

    def accuracy(self, x, captions, batch_size=500):
        """Exact-caption accuracy of greedy decoding."""
        return self.evaluate(x, captions, batch_size)[0]
