"""The components of the book, as ``scripts/side_by_side.py`` shows them: name, chapter, section, kind, report labels.

One ``Component`` per public class or function of ``scratch`` that has a
mirror in ``reference`` worth reading side by side. ``NOT_COMPONENTS`` lists
the other public names of ``scratch.__all__``, each with the reason it is not
one (``scripts/tests/test_side_by_side.py`` checks that the two lists cover
``scratch.__all__``).

``labels`` are the parity report's component labels that measure the
component: ``<test module without test_>.<TestClass without Test>``
(``parity_report.component_of``), the module alone for module-level tests,
or an explicit ``component=`` of ``assert_close``. ``label[Prefix]`` keeps
only the label's quantities named ``Prefix`` or ``Prefix ...`` (the label
``layers.ActivationLayers`` measures Relu and Sigmoid; ``[Relu]`` keeps
'Relu forward', 'Relu dx'). ``book_labels`` measure the ``scratch.book``
version. Section numbers are those the docstrings give, else the book's.

Standard library only: nothing here imports NumPy or torch.
"""
import difflib
import re
from dataclasses import dataclass

__all__ = ["CATALOG", "CHAPTERS", "KINDS", "NOT_COMPONENTS", "Component", "by_name", "find_component", "suggestions", "parse_label",
           "section_key"]

CHAPTERS = {
    2: "Perceptrons",
    3: "Neural networks",
    4: "Training neural networks",
    5: "Backpropagation",
    6: "Training techniques",
    7: "Convolutional neural networks",
    8: "Deep learning",
}

KINDS = ("gate", "activation", "loss", "gradient", "layer", "optimizer", "initialization", "network",
         "training", "convolution helper", "augmentation", "detection")

_LABEL = re.compile(r"^([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)(?:\[([^\[\]]+)\])?$")


@dataclass(frozen=True)
class Component:
    """One component: its public name in ``scratch`` and ``reference`` and what the site says of it."""

    name: str
    chapter: int
    section: str
    title: str
    kind: str
    labels: tuple = ()
    book_labels: tuple = ()

    @property
    def heading(self):
        """'5.6.2 Affine'."""
        return f"{self.section} {self.name}"


def parse_label(text):
    """'layers.ActivationLayers[Relu]' -> ('layers.ActivationLayers', 'Relu'); 'layers.Affine' -> (..., None)."""
    match = _LABEL.match(text)
    if not match:
        raise ValueError(f"not a report label: {text!r} (expected module.Class or module.Class[Prefix])")
    return match.group(1), match.group(2)


def section_key(section):
    """'5.6.2' -> (5, 6, 2), for sorting."""
    return tuple(int(part) for part in section.split("."))


def _c(name, section, title, kind, labels=(), book_labels=()):
    return Component(name, int(section.split(".")[0]), section, title, kind, tuple(labels), tuple(book_labels))


_OPTIMIZERS = "optimizers"
_BOOK_OPTIMIZERS = "book_variants.Optimizers"

CATALOG = (
    # Chapter 2: perceptrons
    _c("perceptron", "2.3.2", "A perceptron with weights and a bias", "gate", ["gates.Gates"]),
    _c("AND", "2.3.2", "AND gate", "gate", ["gates.Gates"]),
    _c("NAND", "2.3.3", "NAND gate", "gate", ["gates.Gates"]),
    _c("OR", "2.3.3", "OR gate", "gate", ["gates.Gates"]),
    _c("XOR", "2.5.2", "XOR as a two-layer perceptron", "gate", ["gates.Gates"]),
    # Chapter 3: neural networks
    _c("step_function", "3.2.2", "Step function", "activation", ["functions.Activations[step_function]"],
       ["book_variants.Utilities"]),
    _c("sigmoid", "3.2.4", "Sigmoid function", "activation", ["functions.Activations[sigmoid]"]),
    _c("relu", "3.2.7", "ReLU function", "activation", ["functions.Activations[relu]"]),
    _c("identity_function", "3.4.3", "Identity output function", "activation",
       ["functions.Activations[identity_function]"]),
    _c("softmax", "3.5.2", "Softmax, shifted by the maximum", "activation",
       ["functions.Softmax", "properties.softmax"]),
    _c("ThreeLayerNet", "3.6.2", "The 784-50-100-10 inference network", "network",
       ["serialization.ThreeLayerNetBookWeights"]),
    # Chapter 4: training
    _c("sum_squared_error", "4.2.1", "Sum of squared errors", "loss", ["functions.SumSquaredError"]),
    _c("cross_entropy_error", "4.2.2", "Cross-entropy error", "loss",
       ["functions.CrossEntropyError", "properties.cross_entropy_error"], ["book_variants.SoftmaxWithLoss"]),
    _c("numerical_diff", "4.3.1", "Numerical differentiation (central difference)", "gradient",
       ["gradient.NumericalDiff", "gradient.central_difference"]),
    _c("numerical_gradient", "4.4", "Numerical gradient", "gradient",
       ["gradient.NumericalGradient", "gradient.central_difference"]),
    _c("gradient_descent", "4.4.1", "Gradient descent", "gradient",
       ["gradient.GradientDescent", "gradient.autograd", "gradient.central_difference"]),
    # Chapter 5: backpropagation
    _c("MulLayer", "5.4.1", "Multiplication layer", "layer", ["layers.MulAddLayers"]),
    _c("AddLayer", "5.4.2", "Addition layer", "layer", ["layers.MulAddLayers"]),
    _c("Relu", "5.5.1", "ReLU layer", "layer", ["layers.ActivationLayers[Relu]"]),
    _c("Sigmoid", "5.5.2", "Sigmoid layer", "layer", ["layers.ActivationLayers[Sigmoid]"]),
    _c("Affine", "5.6.2", "Fully connected (Affine) layer", "layer", ["layers.Affine"], ["book_variants.Affine"]),
    _c("SoftmaxWithLoss", "5.6.3", "Softmax with cross-entropy loss", "loss",
       ["layers.SoftmaxWithLoss", "properties.SoftmaxWithLoss"], ["book_variants.SoftmaxWithLoss"]),
    _c("TwoLayerNet", "5.7.2", "The two-layer network, by backpropagation", "network",
       ["two_layer_net.TwoLayerNet", "two_layer_net.central_difference", "training_parity.TrainingParity",
        "training_parity.loss_curve", "training_parity.final_params"], ["book_variants.Networks"]),
    # Chapter 6: training techniques
    _c("SGD", "6.1.2", "Stochastic gradient descent", "optimizer", [f"{_OPTIMIZERS}[SGD]", "training_parity.SGD"],
       [f"{_BOOK_OPTIMIZERS}[SGD]"]),
    _c("Momentum", "6.1.4", "Momentum", "optimizer", [f"{_OPTIMIZERS}[Momentum]"], [f"{_BOOK_OPTIMIZERS}[Momentum]"]),
    _c("Nesterov", "6.1.4", "Nesterov's accelerated gradient", "optimizer", [f"{_OPTIMIZERS}[Nesterov]"],
       [f"{_BOOK_OPTIMIZERS}[Nesterov]"]),
    _c("AdaGrad", "6.1.5", "AdaGrad", "optimizer", [f"{_OPTIMIZERS}[AdaGrad]"], [f"{_BOOK_OPTIMIZERS}[AdaGrad]"]),
    _c("RMSprop", "6.1.5", "RMSprop", "optimizer", [f"{_OPTIMIZERS}[RMSprop]"], [f"{_BOOK_OPTIMIZERS}[RMSprop]"]),
    _c("Adam", "6.1.6", "Adam", "optimizer", [f"{_OPTIMIZERS}[Adam]"], [f"{_BOOK_OPTIMIZERS}[Adam]"]),
    _c("init_weight", "6.2.2", "Initial weights: fixed std, Xavier or He", "initialization", ["weight_init"]),
    _c("BatchNormalization", "6.3", "Batch normalization layer", "layer",
       ["batch_normalization.BatchNormalizationParity", "batch_normalization.out", "batch_normalization.dx",
        "batch_normalization.dx_two_values_per_channel", "batch_normalization.dgamma", "batch_normalization.dbeta",
        "batch_normalization.running_mean", "batch_normalization.running_var",
        "batch_normalization.ScratchBackwardNumerically"], ["book_variants.BatchNormalization"]),
    _c("MultiLayerNet", "6.4.2", "Fully connected network of any depth, with weight decay", "network",
       ["multi_layer_net"], ["book_variants.RandomDraws"]),
    _c("Dropout", "6.4.3", "Dropout layer", "layer", ["dropout.DropoutParity"], ["book_variants.Dropout"]),
    _c("MultiLayerNetExtend", "6.4.3", "MultiLayerNet with batch norm and dropout", "network",
       ["multi_layer_net"], ["book_variants.Networks"]),
    _c("Trainer", "6.4.3", "Minibatch training with per-epoch accuracy", "training", ["trainer", "training_loop"],
       ["book_scripts.BookScriptsOnScratchBook"]),
    # Chapter 7: convolutional networks
    _c("conv_output_size", "7.2.4", "Output size of a convolution (equation 7.1)", "convolution helper",
       ["convnets.conv_output_size"],
       ["book_variants.Utilities"]),
    _c("im2col", "7.4.3", "im2col: image windows to matrix rows", "convolution helper",
       ["util.Layout", "util.Parity[im2col]"], ["book_variants.Utilities"]),
    _c("col2im", "7.4.3", "col2im: the way back, overlaps summed", "convolution helper",
       ["util.Parity[col2im]", "properties.col2im"]),
    _c("Convolution", "7.4.3", "Convolution layer", "layer",
       ["convolution.ConvolutionParity", "properties.Convolution"],
       ["book_scripts.BookScriptsOnScratchBook"]),
    _c("Pooling", "7.4.4", "Max pooling layer", "layer", ["convolution.PoolingParity", "properties.Pooling"]),
    _c("SimpleConvNet", "7.5", "The simple convolutional network", "network", ["convnets"],
       ["book_variants.Networks"]),
    # Chapter 8: deep learning
    _c("DeepConvNet", "8.1.1", "The deep convolutional network", "network", ["convnets", "half_precision"],
       ["book_variants.RandomDraws"]),
    _c("affine", "8.1.1", "Rotate, scale and shift images (augmentation)", "augmentation",
       ["augment.Affine", "augment.tv_affine"]),
    _c("rotate", "8.1.1", "Rotate images", "augmentation", ["augment.tv_rotate"]),
    _c("translate", "8.1.1", "Shift images", "augmentation", ["augment.tv_affine"]),
    _c("scale", "8.1.1", "Zoom images", "augmentation", ["augment.tv_affine"]),
    _c("crop", "8.1.1", "Pad and crop images", "augmentation", ["augment.Crop"]),
    _c("hflip", "8.1.1", "Mirror images left-right", "augmentation", ["augment.HflipBrightness"]),
    _c("brightness", "8.1.1", "Change the brightness of images", "augmentation",
       ["augment.HflipBrightness", "augment.tv_brightness"]),
    _c("Augmenter", "8.1.1", "Seeded random augmentation of minibatches", "augmentation", ["augment.Augmenter"]),
    _c("LeNet", "8.2.1", "LeNet-5", "network", ["chapter8_networks"]),
    _c("Tanh", "8.2.1", "Hyperbolic tangent layer (LeNet)", "layer", ["chapter8_layers.Tanh"]),
    _c("Subsampling", "8.2.1", "LeNet's trained subsampling layer", "layer", ["chapter8_layers.Subsampling"]),
    _c("AvgPooling", "8.2.1", "Average pooling layer", "layer", ["chapter8_layers.AvgPooling"]),
    _c("AlexNet", "8.2.2", "A small AlexNet", "network", ["chapter8_alexnet_vgg[AlexNet]"]),
    _c("LocalResponseNorm", "8.2.2", "Local response normalization (AlexNet)", "layer",
       ["chapter8_layers.LocalResponseNorm"]),
    _c("VGG", "8.2.3", "A small VGG", "network", ["chapter8_alexnet_vgg[VGG]"]),
    _c("GoogLeNet", "8.2.3", "A small GoogLeNet (inception blocks)", "network", ["chapter8_googlenet"]),
    _c("Concat", "8.2.3", "Concatenation of branches (inception)", "layer", ["chapter8_layers.Concat"]),
    _c("GlobalAvgPooling", "8.2.3", "Global average pooling layer", "layer", ["chapter8_layers.GlobalAvgPooling"]),
    _c("ResNet", "8.2.5", "A small ResNet", "network", ["chapter8_networks"]),
    _c("Residual", "8.2.5", "The sum joining a residual block (ResNet)", "layer", ["chapter8_layers.Residual"]),
    _c("RNN", "8.4", "One RNN step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (nn.RNNCell)", "layer",
       ["recurrent.RNN"]),
    _c("TimeRNN", "8.4", "An RNN over T steps, batch first, stateful for truncated BPTT (nn.RNN)", "layer",
       ["recurrent.TimeRNN"]),
    _c("LSTM", "8.4", "One LSTM step, gates (i, f, g, o) in nn.LSTM's layout (nn.LSTMCell)", "layer", ["lstm.LSTM"]),
    _c("TimeLSTM", "8.4", "An LSTM over T steps, batch first, stateful for truncated BPTT (nn.LSTM)", "layer",
       ["lstm.TimeLSTM", "lstm.StatefulTimeLSTM", "lstm.TwoLayerTimeLSTM"]),
    _c("Embedding", "8.4", "Word embedding: a row lookup; repeated words accumulate (nn.Embedding)", "layer",
       ["time_layers.Embedding"]),
    _c("TimeEmbedding", "8.4", "Embedding of a batch of sequences (N, T)", "layer", ["time_layers.TimeEmbedding"]),
    _c("TimeAffine", "8.4", "An Affine layer at every time step", "layer", ["time_layers.TimeAffine"]),
    _c("TimeAttention", "8.4", "Attention per step: softmax(hs ks^T / sqrt(H)) ks (F.scaled_dot_product_attention)",
       "layer", ["attention.TimeAttention"]),
    _c("TimeSoftmaxWithLoss", "8.4", "Softmax cross-entropy over time, padding ignored (ignore_index)", "loss",
       ["time_layers.TimeSoftmaxWithLoss"]),
    _c("clip_grads", "8.4", "Gradient clipping by global norm (clip_grad_norm_)", "training",
       ["time_layers.ClipGrads"]),
    _c("Captioner", "8.4", "Image captioning: a CNN encoder, an LSTM decoder attending to the picture's columns",
       "network",
       ["captioner.Forward", "captioner.Generate", "captioner.TrainingRun"]),
    _c("Deconvolution", "8.4", "Transposed convolution, FCN's upsampling (F.conv_transpose2d)", "layer",
       ["deconvolution.DeconvolutionParity"]),
    _c("bilinear_kernel", "8.4", "FCN's bilinear upsampling filter for Deconvolution", "initialization",
       ["deconvolution.BilinearKernel"]),
    _c("PixelSoftmaxWithLoss", "8.4", "Per-pixel softmax cross-entropy, ignore_index (F.cross_entropy on 4-D)", "loss",
       ["pixel_loss.PixelSoftmaxWithLoss"]),
    _c("RoIPooling", "8.4", "Fast R-CNN's RoI max pooling (torchvision.ops.roi_pool)", "layer",
       ["roi_pooling.RoIPoolingParity", "fast_rcnn.FastRoIPooling"]),
    _c("box_iou", "8.4", "IoU of every pair of boxes, area (x2-x1)(y2-y1) (torchvision.ops.box_iou)", "detection",
       ["boxes.BoxIou[iou]"]),
    _c("box_area", "8.4", "Area of boxes (x1, y1, x2, y2) (torchvision.ops.box_area)", "detection",
       ["boxes.BoxIou[area]"]),
    _c("nms", "8.4", "Greedy non-maximum suppression, ties by index (torchvision.ops.nms)", "detection", ["boxes.Nms"]),
    _c("batched_nms", "8.4", "Non-maximum suppression per class (torchvision.ops.batched_nms)", "detection",
       ["boxes.BatchedNms"]),
    _c("encode_boxes", "8.4", "R-CNN's box-regression deltas (tx, ty, tw, th) (BoxCoder)", "detection",
       ["boxes.BoxCoder[encode]"]),
    _c("decode_boxes", "8.4", "R-CNN's deltas applied to proposals, clamped at log(1000/16) (BoxCoder)", "detection",
       ["boxes.BoxCoder[decode]"]),
    _c("FCN", "8.4", "Semantic segmentation, FCN-8s style: 1x1 scores, two learnt x2 deconvolutions + pool2 and "
       "pool1 skips, bilinear x2", "network", ["fcn.Forward", "fcn.Segment", "fcn.TrainingRun"]),
    _c("BilinearUpsampling", "8.4", "FCN's fixed bilinear upsampling, separable (F.conv_transpose2d by "
       "bilinear_kernel)", "layer", ["fcn.BilinearUpsampling"]),
    _c("SmoothL1Loss", "8.4", "Smooth L1 (Huber) loss, Fast R-CNN's box regression (F.smooth_l1_loss)", "loss",
       ["smooth_l1.SmoothL1Loss"]),
    _c("DetectionLoss", "8.4", "Fast R-CNN's multi-task loss: cross-entropy + smooth L1 on the true class's deltas, "
       "label -1 ignored", "loss", ["rcnn.DetectionLoss"]),
    _c("detect_boxes", "8.4", "Proposals' scores and deltas to detections per scene: decode, clip, threshold, "
       "per-class NMS", "detection", ["rcnn.Detect", "fast_rcnn.Detect"]),
    _c("RCNN", "8.4", "R-CNN's per-proposal convnet: 11-class scores and class-specific box deltas of warped "
       "proposals", "network", ["rcnn.Forward", "rcnn.TrainingRun"]),
    _c("FastRCNN", "8.4", "Fast R-CNN: one shared conv map per scene, RoI pooling, R-CNN's heads and loss", "network",
       ["fast_rcnn.Forward", "fast_rcnn.Detect", "fast_rcnn.TrainingRun"]),
    _c("Gather", "8.4", "DQN: Q(s, a) of the taken actions; the gradient reaches only those (torch.gather)", "layer",
       ["dqn.Gather"]),
    _c("HuberLoss", "8.4", "DQN's Huber loss: quadratic within delta, linear beyond (F.huber_loss)", "loss",
       ["dqn.HuberLoss"]),
    _c("td_targets", "8.4", "DQN's TD targets r + gamma (1 - terminated) max Q_target(s'), Double DQN's variant",
       "training", ["dqn.TDTargets"]),
    _c("QNetwork", "8.4", "DQN's Q-network: an MLP scoring the actions, Huber loss of the taken ones", "network",
       ["dqn.QNetwork"]),
    _c("DQNAgent", "8.4", "DQN's learner: replay, epsilon-greedy, Huber TD updates with clipping, a target network",
       "training", ["dqn.Agent"]),
)

# Public classes and functions of scratch.__all__ that are not components, and why.
NOT_COMPONENTS = {
    "load_mnist": "data loader (file reading and downloading): no arithmetic to compare",
    "load_fashion_mnist": "data loader (file reading and downloading): no arithmetic to compare",
    "default_data_dir": "data loader helper: where the data sets are kept",
    "save_params": "serialization helper: writes parameter files",
    "load_params": "serialization helper: reads parameter files",
    "load_config": "serialization helper: reads the configuration saved beside the weights",
    "is_book_file": "serialization helper: tells the book's weight layout from this project's",
    "write_atomically": "serialization helper: safe file writing",
    "Network": "base class of the networks (accuracy, saving and loading); what a network uses of it is on its page",
    "LayerNetwork": "base class of chapter 8's networks (predict, loss, accuracy, gradient); shown on their pages",
    "takes_train_flg": "helper of LayerNetwork: which layers take train_flg (dropout, batch norm, residual blocks)",
    "make_rng": "helper: a seeded NumPy generator",
    "weight_init_scale": "reference reuses scratch's own function (the std of Xavier/He); init_weight calls it",
    "draw_params": "reference reuses scratch's own function (the augmentation's random draw, shared on purpose)",
    "make_multi_digit": "data generator (pictures of a row of MNIST digits, captions, boxes): reference reuses "
                        "scratch's own, so both backends train on the same pictures",
    "load_multi_digit": "data generator: make_multi_digit on one MNIST split, loaded",
    "MultiDigitPictures": "the data generator's result (images, captions, lengths, boxes, sources, scales)",
    "ReplayBuffer": "DQN's experience replay (stored transitions, seeded sampling): reference reuses scratch's own, "
                    "so both backends learn from the same minibatches",
    "linear_epsilon": "DQN's exploration schedule (a number per step): reference reuses scratch's own",
    "epsilon_greedy": "DQN's action choice (dice and argmax): reference applies scratch's own to its values",
    "caption_tokens": "helper of Captioner: a caption as teacher forcing's inputs and targets (integer tokens)",
    "caption_scores": "helper of Captioner: exact-caption and token accuracy (counting, no arithmetic to compare)",
    "match_detections": "detection metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "precision_recall_curve": "detection metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "average_precision": "detection metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "average_precisions": "detection metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "mean_average_precision": "detection metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "mean_average_precision_50_95": "detection metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "confusion_matrix": "segmentation metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "pixel_accuracy": "segmentation metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "per_class_iou": "segmentation metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "mean_iou": "segmentation metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "segmentation_scores": "segmentation metric (counting, no arithmetic to compare): reference reuses scratch's own",
    "make_scenes": "data generator (2-D scenes of 1 to 4 MNIST digits with boxes and per-pixel masks): reference "
                   "reuses scratch's own, so both backends train on the same scenes",
    "load_scenes": "data generator: make_scenes on one MNIST split, loaded",
    "MultiDigitScenes": "the scene generator's result (images, masks, boxes, labels, counts, sources, scales)",
    "ground_truth": "helper of the detection metric: each scene's boxes and labels without padding (no arithmetic "
                    "to compare)",
    "propose": "R-CNN's region proposals (stroke components, their groups, grid sub-windows tightened to the "
               "stroke): data, reference reuses scratch's own",
    "propose_scenes": "propose for each scene of a batch (data)",
    "warp": "R-CNN's warp of each proposal with context padding to 28x28 (data: reference reuses scratch's own; "
            "checked against torchvision's roi_align)",
    "label_proposals": "R-CNN's training labels by IoU (digit, background, ignored) and regression targets: data, "
                       "reference reuses scratch's own",
    "sample_proposals": "helper of R-CNN's training: minibatches with 25% foreground (a seeded draw)",
    "proposal_set": "data: the warped proposals, labels and targets of a set of scenes for R-CNN and Fast R-CNN",
    "connected_components": "helper of propose: 8-connected components in NumPy (no arithmetic to compare)",
    "ProposalSet": "proposal_set's result (crops, labels, targets, scene, boxes, matched, ious)",
}


def by_name():
    """{public name: Component}."""
    return {component.name: component for component in CATALOG}


def suggestions(name, names, most=5):
    """The names of ``names`` a typo or a beginning ``name`` may mean, best first: the same name in other
    letter cases, then those starting with ``name`` ('Conv': Convolution), then difflib's close matches."""
    folded = name.lower()
    same = [key for key in names if key.lower() == folded]
    starting = sorted((key for key in names if key.lower().startswith(folded)), key=lambda key: (len(key), key))
    close = difflib.get_close_matches(name, list(names), n=most, cutoff=0.6)
    return list(dict.fromkeys([*same, *starting, *close]))[:most]


def find_component(name):
    """The catalog entry named ``name``; a ValueError listing the likely ones if there is none."""
    components = by_name()
    if name in components:
        return components[name]
    likely = suggestions(name, components)
    hint = f"; close matches: {', '.join(likely)}" if likely else ""
    raise ValueError(f"unknown component {name!r}{hint} (python scripts/side_by_side.py builds the site, whose "
                     "index lists them all)")
