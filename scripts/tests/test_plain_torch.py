"""scripts/toolkit/plain_torch.py, the benchmark's plain-PyTorch networks, compute what scratch's do.

For each of benchmark.py's networks: the scratch network (seeded, float64) and the plain
``torch.nn`` module loaded with its parameters give the same scores (eval mode / train_flg=False)
and, after one ``train_step``, the same loss and the same gradient of every parameter as
scratch's ``gradient``. The networks with dropout are built with dropout_ratio=0 for those
gradients (no random masks); ResNet's batch norm uses batch statistics in both. Then, with
dropout 0.5, the plain module is handed scratch's masks to show its dropouts sit where scratch's
do; and ``make`` builds the optimizer and learning rate that benchmark.py trains with.

The captioner (benchmark.py's shape: channels 16, 32, 64, encoder 512, hidden size 256): from the same weights, on
random pictures and captions of every length 1..5 padded with -1, ``caption_train_step`` has
scratch's loss and every gradient, and the greedy captions of both are the same.
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import scratch
from conftest import assert_close, to_numpy
from scratch.captioner import END
from toolkit import benchmark
from toolkit import plain_torch as plain

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODELS = [model for model, task in benchmark.TASKS.items() if isinstance(task, benchmark.Classification)]
WITH_DROPOUT = {"deep_convnet": scratch.DeepConvNet, "alexnet": scratch.AlexNet, "vgg": scratch.VGG}
DTYPE = np.float64


def twins(model, **options):
    """The scratch network (seed 0, float64) and the plain module with its parameters.

    Parameters that start as constants (biases 0, batch norm's gamma 1 and beta 0, LeNet's
    subsampling coefficients 1) are moved to random values first, so that a parameter copied
    to the wrong place of the same shape shows.
    """
    if options:
        network = WITH_DROPOUT[model](dtype=DTYPE, seed=0, **options)
    else:
        network = benchmark.build(scratch, model, DTYPE, seed=0)
    rng = np.random.default_rng(1)
    for value in network.params.values():
        if np.all(value == value.flat[0]):
            value += 0.1 * rng.standard_normal(value.shape)  # in place: the layers share the arrays
    module, optimizer = plain.make(model, DTYPE, **options)
    plain.load_from_scratch(module, network.params)
    return network, module, optimizer


def batch(model, n=4):
    x, t = benchmark.batch(model, DTYPE, n, seed=2)
    return x, t, torch.from_numpy(x), torch.from_numpy(t)


@parameterized.expand([(m,) for m in MODELS])
def test_scores_agree_in_eval_mode(model):
    network, module, _ = twins(model)
    x, _, x_torch, _ = batch(model)
    if model == "resnet":  # one training pass first, so the running statistics are not 0 and 1
        network.predict(x, train_flg=True)
        module.train()
        with torch.no_grad():
            module(x_torch)
    module.eval()
    with torch.no_grad():
        scores = module(x_torch)
    assert_close(network.predict(x), scores, DTYPE, what=f"{model} scores")  # predict: train_flg=False


@parameterized.expand([(m,) for m in MODELS])
def test_one_training_step_has_scratch_gradients(model):
    options = {"dropout_ratio": 0.0} if model in WITH_DROPOUT else {}
    network, module, optimizer = twins(model, **options)
    x, t, x_torch, t_torch = batch(model)
    module.train()  # ResNet: batch statistics, as scratch's gradient uses
    loss = plain.train_step(module, optimizer, x_torch, t_torch)
    grads = network.gradient(x, t)
    assert_close(network.last_loss, to_numpy(loss), DTYPE, what=f"{model} loss")
    torch_grads = plain.named_gradients(module)
    assert sorted(torch_grads) == sorted(grads) == sorted(network.params)
    for name in network.params:
        assert_close(grads[name], torch_grads[name], DTYPE, what=f"{model} d{name}")


@parameterized.expand([(m,) for m in benchmark.MODELS])
def test_make_trains_as_benchmark_does(model):
    optimizer_name, lr = benchmark.optimizer_of(model)
    module, optimizer = plain.make(model, "float32")
    assert type(optimizer).__name__ == optimizer_name and optimizer.defaults["lr"] == lr
    assert all(p.dtype == torch.float32 for p in module.parameters())
    assert [id(p) for group in optimizer.param_groups for p in group["params"]] == \
        [id(p) for p in module.parameters()]
    x, t = benchmark.batch(model, np.float32, 2)
    if model == "captioner":
        loss = plain.caption_train_step(module, optimizer, torch.from_numpy(x), t)
    else:
        loss = plain.train_step(module, optimizer, torch.from_numpy(x), torch.from_numpy(t))
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


@parameterized.expand([(m,) for m in WITH_DROPOUT])
def test_dropout_in_the_same_places(model):
    """Dropout 0.5 in training: the plain module's nn.Dropout outputs are replaced, through a forward
    hook, by the input times scratch's masks (in the order scratch drew them); then the loss and
    every gradient agree, which they do only if the dropouts sit where scratch's do."""
    network, module, optimizer = twins(model)
    x, t, x_torch, t_torch = batch(model)
    grads = network.gradient(x, t)
    masks = [layer.mask for name, layer in network.layers.items() if name.startswith("Dropout")]
    assert masks and all(m is not None and not m.all() for m in masks)
    unused = list(masks)

    def scratch_mask(dropout, inputs, output):
        # reshaped: AlexNet's first dropout sees scratch's (N, 64, 2, 2) map, flattened here
        mask = torch.from_numpy(unused.pop(0)).to(inputs[0].dtype).reshape(inputs[0].shape)
        return inputs[0] * (mask / (1 - dropout.p))  # F.dropout's order: the mask scaled first

    for layer in module.modules():
        if isinstance(layer, torch.nn.Dropout):
            layer.register_forward_hook(scratch_mask)
    module.train()
    loss = plain.train_step(module, optimizer, x_torch, t_torch)
    assert unused == [], f"{len(unused)} of scratch's {len(masks)} dropout masks unused"
    assert_close(network.last_loss, to_numpy(loss), DTYPE, what=f"{model} loss, dropout 0.5")
    torch_grads = plain.named_gradients(module)
    for name in network.params:
        assert_close(grads[name], torch_grads[name], DTYPE, what=f"{model} d{name}, dropout 0.5")


def random_captions(rng, lengths, width=5):
    """Captions of the given lengths, random digits padded with -1 to ``width``."""
    lengths = np.asarray(lengths)
    return np.where(np.arange(width) < lengths[:, None], rng.integers(0, 10, (len(lengths), width)), -1)


def test_captioner_step_has_scratch_loss_and_gradients():
    network, module, optimizer = twins("captioner")
    assert network.hidden_size == 256 and module.lstm.hidden_size == 256
    rng = np.random.default_rng(3)
    x = rng.random((8, 1, 28, 140))
    captions = random_captions(rng, [1, 2, 3, 4, 5, 5, 2, 1])
    assert captions[0, 1] == -1 and captions[4, 4] != -1
    grads = network.gradient(x, captions)
    loss = plain.caption_train_step(module, optimizer, torch.from_numpy(x), captions)
    assert_close(network.last_loss, to_numpy(loss), DTYPE, what="captioner loss")
    torch_grads = plain.named_gradients(module)
    assert sorted(torch_grads) == sorted(grads) == sorted(network.params)
    for name in network.params:
        assert_close(grads[name], torch_grads[name], DTYPE, what=f"captioner d{name}")


def test_captioner_greedy_captions_agree():
    """Larger key, recurrent and output weights, so that the captions differ from picture to picture and
    stop at every length (0: <end> first; 6: max_len without <end>)."""
    network, module, _ = twins("captioner")
    for name, factor in (("W_key", 5.0), ("weight_hh", 5.0), ("W_out", 5.0)):
        network.params[name] *= factor  # in place: the layers share the arrays
    network.params["b_out"][END] += 3.0  # and <end> more likely: captions of every length 0..6
    plain.load_from_scratch(module, network.params)
    x = benchmark.batch("captioner", DTYPE, 32, seed=4)[0]  # noise in blocks of columns
    captions = network.generate(x)
    plain_captions = module.generate(torch.from_numpy(x))
    assert plain_captions.dtype == torch.int64
    np.testing.assert_array_equal(plain_captions.numpy(), captions)
    lengths = set((captions != -1).sum(axis=1).tolist())
    assert {0, 6} < lengths and len({tuple(row) for row in captions.tolist()}) > 8, captions
