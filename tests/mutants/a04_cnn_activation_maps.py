"""Plausible wrong answers for assignment 04_cnn_activation_maps; each must lose points.

The notebook trains its conv-pool CNN once, in an ordinary cell, so a wrong ``build_cnn`` or
``preprocess_images`` here is caught by the tests of that function (architecture, values), not by
retraining. The Fashion-MNIST exercise cell is swapped as a whole: its wrong answers retrain.
"""

from tests.harness import Mutant

ASSIGNMENT = "04_cnn_activation_maps"


def m(cell: str, name: str, code: str) -> Mutant:
    return Mutant(cell, name, code)


_CNN = '''def build_cnn(input_shape=(28, 28, 1), num_classes=10, learning_rate=0.001, filters={default}):
    layers = [keras.Input(shape=input_shape)]
    for number, count in enumerate({filters}):
        layers.append(keras.layers.Conv2D(count, {k}, activation="{act}"{pad}))
        {pool}
    layers += [{flatten}, keras.layers.Dense({units}, activation="{out}")]
    model = keras.Sequential(layers)
    model.compile(optimizer={opt}, loss="{loss}", metrics={metrics})
    return model
'''

_POOL_IF = "if {}:\n            layers.append(keras.layers.MaxPooling2D(2))"  # pooling for some blocks only


def cnn(**changes) -> str:
    """build_cnn with some of its settings changed."""
    params = dict(default="(16, 32)", filters="filters", k=3, act="relu", pad="",
                  pool="layers.append(keras.layers.MaxPooling2D(2))", flatten="keras.layers.Flatten()",
                  units="num_classes",
                  out="softmax", opt="keras.optimizers.Adam(learning_rate)", loss="categorical_crossentropy",
                  metrics='["accuracy"]')
    params.update(changes)
    return _CNN.format(**params)


# count_parameters, right, with one part changed.
_COUNT = '''def count_parameters(input_shape, filters, num_classes=10, kernel_size=3, pool_size=2):
    height, width, channels = input_shape
    total = 0
    for count in filters:
        total += {conv}
        height, width, channels = {shrink}, count
        if pool_size is not None:
            {pool}
    return {dense}
'''


def count(**changes) -> str:
    params = dict(conv="(kernel_size * kernel_size * channels + 1) * count",
                  shrink="height - kernel_size + 1, width - kernel_size + 1",
                  pool="height, width = height // pool_size, width // pool_size",
                  dense="total + (height * width * channels + 1) * num_classes")
    params.update(changes)
    return _COUNT.format(**params)


# The right feature_maps with one line changed.
_FM = '''def feature_maps(model, image, before_activation=False):
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., np.newaxis]
    conv_layers = [layer for layer in model.layers if {select}]
    nodes = [layer.input if before_activation else layer.output for layer in conv_layers]
    probe = keras.Model(inputs=model.inputs, outputs=nodes)
    outputs = probe([image[np.newaxis]], training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    maps = []
    for layer, out in zip(conv_layers, outputs):
        if before_activation:
            out = {pre}
        maps.append({convert})
    return maps
'''
_PRE = ("keras.ops.conv(out, layer.kernel, strides=layer.strides, padding=layer.padding, "
        "dilation_rate=layer.dilation_rate) + layer.bias")


def fm(select="isinstance(layer, keras.layers.Conv2D)", convert="keras.ops.convert_to_numpy(out)[0]",
       pre=_PRE) -> str:
    return _FM.format(select=select, convert=convert, pre=pre)


# confusion_matrix, right, with one part of the normalisation changed.
_CM = '''def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):
    if normalize not in (None, "true", "pred", "all"):
        {unknown}
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    if normalize is None:
        return counts
    axis = {axes}[normalize]
    totals = counts.sum(axis=axis, keepdims=axis is not None)
    {divide}
'''


def cm(**changes) -> str:
    params = dict(unknown="raise ValueError(normalize)", axes='{"true": 1, "pred": 0, "all": None}',
                  divide="return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)")
    params.update(changes)
    return _CM.format(**params)


# receptive_field, right, with one part changed.
_RF = '''def receptive_field(layers):
    size, jump = {start}
    for spec in layers:
        kernel, stride, *rest = ({convert} for value in spec)
        dilation = rest[0] if rest else 1
        {update}
    return {result}
'''


def rf(**changes) -> str:
    params = dict(start="1, 1", convert="int(value)", update="size += dilation * (kernel - 1) * jump\n        jump *= stride",
                  result="size, jump")
    params.update(changes)
    return _RF.format(**params)


# The Fashion-MNIST exercise, with the steps a student might get wrong as parameters.
_FASHION = '''fashion = load_fashion_mnist()
n_fashion = min(FASHION_TRAIN_SAMPLES or len(fashion.x_train), len(fashion.x_train))
fashion_x_train = preprocess_images(fashion.x_train[:n_fashion])
fashion_y_train = one_hot(fashion.y_train[:n_fashion])
set_seeds(SEED, tensorflow=True)
fashion_model = build_cnn()
{fit}
fashion_image = {image}
fashion_maps = feature_maps(fashion_model, fashion_image)
'''

MUTANTS = [
    # preprocess_images
    m("preprocess_images", "not scaled",
      "def preprocess_images(X):\n    return np.asarray(X).reshape(len(X), 28, 28, 1).astype(np.float32)\n"),
    m("preprocess_images", "float64 (X / 255.0)",
      "def preprocess_images(X):\n    return np.asarray(X).reshape(-1, 28, 28, 1) / 255.0\n"),
    m("preprocess_images", "divided by the batch's maximum",
      "def preprocess_images(X):\n    X = np.asarray(X, dtype=np.float32)\n    return (X / X.max())[..., np.newaxis]\n"),
    m("preprocess_images", "no channel axis",
      "def preprocess_images(X):\n    return np.asarray(X).astype(np.float32) / 255\n"),
    m("preprocess_images", "channel axis first",
      "def preprocess_images(X):\n    return (np.asarray(X).astype(np.float32) / 255)[:, np.newaxis]\n"),
    m("preprocess_images", "fixed sample count (the source material's reshape)",
      "def preprocess_images(X):\n    return np.asarray(X).reshape(10000, 28, 28, 1).astype(np.float32) / 255\n"),
    m("preprocess_images", "reshapes the caller's array in place",
      "def preprocess_images(X):\n    X.shape = (*X.shape, 1)\n    return X.astype(np.float32) / 255\n"),
    m("preprocess_images", "standardised instead of scaled",
      "def preprocess_images(X):\n    X = np.asarray(X, dtype=np.float32)\n"
      "    return ((X - X.mean()) / X.std())[..., np.newaxis]\n"),
    # one_hot
    m("one_hot", "off by one (labels taken as 1-based)",
      "def one_hot(y, num_classes=10):\n    return np.eye(num_classes, dtype=np.float32)[np.asarray(y) - 1]\n"),
    m("one_hot", "number of classes from the data",
      "def one_hot(y, num_classes=10):\n    y = np.asarray(y)\n    return np.eye(y.max() + 1, dtype=np.float32)[y]\n"),
    m("one_hot", "float64 (to_categorical as is)",
      "def one_hot(y, num_classes=10):\n    return keras.utils.to_categorical(y, num_classes)\n"),
    m("one_hot", "integer dtype",
      "def one_hot(y, num_classes=10):\n    return np.eye(num_classes, dtype=int)[np.asarray(y)]\n"),
    m("one_hot", "transposed (classes x samples)",
      "def one_hot(y, num_classes=10):\n    return np.eye(num_classes, dtype=np.float32)[:, np.asarray(y)]\n"),
    m("one_hot", "ignores num_classes (always 10)",
      "def one_hot(y, num_classes=10):\n    return np.eye(10, dtype=np.float32)[np.asarray(y)]\n"),
    # build_cnn
    m("build_cnn", "no softmax (linear output)", cnn(out="linear")),
    m("build_cnn", "sigmoid output", cnn(out="sigmoid")),
    m("build_cnn", "sigmoid instead of ReLU in the conv layers", cnn(act="sigmoid")),
    m("build_cnn", "filter counts swapped (32, 16)", cnn(default="(32, 16)")),
    m("build_cnn", "the seed's widths (64, 32)", cnn(default="(64, 32)")),
    m("build_cnn", "5 x 5 kernels", cnn(k=5)),
    m("build_cnn", "padding='same' in the conv layers", cnn(pad=', padding="same"')),
    m("build_cnn", "no pooling (the seed's network)", cnn(pool="pass")),
    m("build_cnn", "pooling after the first conv layer only", cnn(pool=_POOL_IF.format("number == 0"))),
    m("build_cnn", "average pooling instead of max pooling",
      cnn(pool="layers.append(keras.layers.AveragePooling2D(2))")),
    m("build_cnn", "pool size 3", cnn(pool="layers.append(keras.layers.MaxPooling2D(3))")),
    m("build_cnn", "pool size 2 with stride 1",
      cnn(pool="layers.append(keras.layers.MaxPooling2D(2, strides=1))")),
    m("build_cnn", "global average pooling instead of Flatten", cnn(flatten="keras.layers.GlobalAveragePooling2D()")),
    m("build_cnn", "ignores num_classes", cnn(units=10)),
    m("build_cnn", "sparse categorical cross-entropy with one-hot targets",
      cnn(loss="sparse_categorical_crossentropy")),
    m("build_cnn", "SGD optimizer", cnn(opt="keras.optimizers.SGD(learning_rate)")),
    m("build_cnn", "ignores learning_rate (optimizer='adam')", cnn(opt='"adam"')),
    m("build_cnn", "learning rate fixed at 0.008", cnn(opt="keras.optimizers.Adam(0.008)")),
    m("build_cnn", "no accuracy metric", cnn(metrics="[]")),
    m("build_cnn", "filters ignored (the lecture's two blocks, 16 and 32)", cnn(filters="(16, 32)")),
    m("build_cnn", "only the first two entries of filters (two written-out blocks)", cnn(filters="filters[:2]")),
    m("build_cnn", "blocks in increasing order of width (sorted filters)", cnn(filters="sorted(filters)")),
    m("build_cnn", "blocks in reverse order", cnn(default="(32, 16)", filters="filters[::-1]")),
    m("build_cnn", "pooling missing for the blocks after the first two",
      cnn(pool=_POOL_IF.format("number < 2"))),
    m("build_cnn", "filters keyword-only", cnn().replace("learning_rate=0.001, filters", "learning_rate=0.001, *, filters")),
    m("build_cnn", "the conv layers of every block, then the pooling layers",
      "def build_cnn(input_shape=(28, 28, 1), num_classes=10, learning_rate=0.001, filters=(16, 32)):\n"
      "    convs = [keras.layers.Conv2D(f, 3, activation='relu') for f in filters]\n"
      "    pools = [keras.layers.MaxPooling2D(2) for _ in filters]\n"
      "    model = keras.Sequential([keras.Input(shape=input_shape), *convs, *pools, keras.layers.Flatten(),\n"
      "                              keras.layers.Dense(num_classes, activation='softmax')])\n"
      "    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss='categorical_crossentropy',\n"
      "                  metrics=['accuracy'])\n"
      "    return model\n"),
    m("build_cnn", "input_shape passed to the first layer (Keras warns)",
      "def build_cnn(input_shape=(28, 28, 1), num_classes=10, learning_rate=0.001, filters=(16, 32)):\n"
      "    blocks = [keras.layers.Conv2D(filters[0], 3, activation='relu', input_shape=input_shape)]\n"
      "    for count in filters[1:]:\n"
      "        blocks += [keras.layers.MaxPooling2D(2), keras.layers.Conv2D(count, 3, activation='relu')]\n"
      "    model = keras.Sequential([\n"
      "        *blocks,\n"
      "        keras.layers.MaxPooling2D(2),\n"
      "        keras.layers.Flatten(),\n"
      "        keras.layers.Dense(num_classes, activation='softmax'),\n"
      "    ])\n"
      "    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss='categorical_crossentropy',\n"
      "                  metrics=['accuracy'])\n"
      "    return model\n"),
    # count_parameters
    m("count_parameters", "no conv biases", count(conv="kernel_size * kernel_size * channels * count")),
    m("count_parameters", "one bias per conv layer, not per filter",
      count(conv="kernel_size * kernel_size * channels * count + 1")),
    m("count_parameters", "no dense bias", count(dense="total + height * width * channels * num_classes")),
    m("count_parameters", "ignores the input channels (always 1)",
      count(conv="(kernel_size * kernel_size * (channels if total else 1) + 1) * count")),
    m("count_parameters", "conv maps do not shrink (as with padding='same')", count(shrink="height, width")),
    m("count_parameters", "shrinks by kernel_size instead of kernel_size - 1",
      count(shrink="height - kernel_size, width - kernel_size")),
    m("count_parameters", "pooling rounds up", count(pool="height, width = -(-height // pool_size), -(-width // pool_size)")),
    m("count_parameters", "ignores pool_size (always 2)", count(pool="height, width = height // 2, width // 2")),
    m("count_parameters", "ignores kernel_size (always 3)",
      count(conv="(9 * channels + 1) * count", shrink="height - 2, width - 2")),
    m("count_parameters", "ignores num_classes (always 10)", count(dense="total + (height * width * channels + 1) * 10")),
    m("count_parameters", "dense layer counted from the filters only (no height and width)",
      count(dense="total + (channels + 1) * num_classes")),
    m("count_parameters", "square images assumed (height used twice)",
      count(dense="total + (height * height * channels + 1) * num_classes")),
    m("count_parameters", "a float (true division in the pooling)",
      count(pool="height, width = height / pool_size, width / pool_size",
            dense="total + (int(height) * int(width) * channels + 1) * num_classes + 0.0")),
    m("count_parameters", "pool_size=None not honoured (always pools by 2)",
      "def count_parameters(input_shape, filters, num_classes=10, kernel_size=3, pool_size=2):\n"
      "    height, width, channels = input_shape\n"
      "    total = 0\n"
      "    for count in filters:\n"
      "        total += (kernel_size * kernel_size * channels + 1) * count\n"
      "        height, width, channels = (height - kernel_size + 1) // (pool_size or 2), "
      "(width - kernel_size + 1) // (pool_size or 2), count\n"
      "    return total + (height * width * channels + 1) * num_classes\n"),
    # confusion_matrix
    m("confusion_matrix", "transposed (rows are predictions)",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    cm = np.zeros((num_classes, num_classes), dtype=int)\n"
      "    np.add.at(cm, (np.asarray(y_pred, dtype=int), np.asarray(y_true, dtype=int)), 1)\n    return cm\n"),
    m("confusion_matrix", "fancy-index += counts repeated pairs once",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    cm = np.zeros((num_classes, num_classes), dtype=int)\n"
      "    cm[np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)] += 1\n    return cm\n"),
    m("confusion_matrix", "float counts",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    cm = np.zeros((num_classes, num_classes))\n"
      "    np.add.at(cm, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)\n    return cm\n"),
    m("confusion_matrix", "size from the largest label",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    t, p = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)\n"
      "    n = max(t.max(), p.max()) + 1\n    cm = np.zeros((n, n), dtype=int)\n"
      "    np.add.at(cm, (t, p), 1)\n    return cm\n"),
    m("confusion_matrix", "rows normalised",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    cm = np.zeros((num_classes, num_classes))\n"
      "    np.add.at(cm, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)\n"
      "    return cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)\n"),
    m("confusion_matrix", "bincount on uint8 labels overflows",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    t, p = np.asarray(y_true), np.asarray(y_pred)\n"
      "    flat = np.bincount(num_classes * t + p, minlength=num_classes * num_classes)\n"
      "    return flat[: num_classes * num_classes].reshape(num_classes, num_classes)\n"),
    m("confusion_matrix", "scikit-learn (the source material)",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    from sklearn.metrics import confusion_matrix as sk_confusion_matrix\n"
      "    return sk_confusion_matrix(y_true, y_pred, labels=list(range(num_classes)))\n"),
    # feature_maps
    m("feature_maps", "first conv layer only",
      "def feature_maps(model, image, before_activation=False):\n"
      "    image = np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1)\n"
      "    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))\n"
      "    probe = keras.Model(model.inputs, [conv.output])\n"
      "    return [keras.ops.convert_to_numpy(probe([image]))[0]]\n"),
    m("feature_maps", "model.input (Keras 2 tutorials; a Keras 3 Sequential has none)",
      "def feature_maps(model, image, before_activation=False):\n"
      "    batch = np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1)\n"
      "    convs = [layer.output for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]\n"
      "    return [np.asarray(out)[0] for out in keras.Model(model.input, convs)(batch)]\n"),
    m("feature_maps", "keeps the batch axis", fm(convert="keras.ops.convert_to_numpy(out)")),
    m("feature_maps", "the first two layers, whatever they are",
      fm(select="layer in [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)][:2]")),
    m("feature_maps", "every layer's output", fm(select="not isinstance(layer, keras.layers.InputLayer)")),
    m("feature_maps", "conv layers found by name", fm(select="'conv' in layer.name")),
    m("feature_maps", "the pooled maps instead of the conv maps",
      fm(select="isinstance(layer, keras.layers.MaxPooling2D)")),
    m("feature_maps", "conv and pooling layers",
      fm(select="isinstance(layer, (keras.layers.Conv2D, keras.layers.MaxPooling2D))")),
    m("feature_maps", "returns tensors, not NumPy arrays", fm(convert="out[0]")),
    m("feature_maps", "before the activation (manual convolution without ReLU)",
      "def feature_maps(model, image, before_activation=False):\n"
      "    x = keras.ops.convert_to_tensor(np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1))\n"
      "    maps = []\n"
      "    for layer in model.layers:\n"
      "        if isinstance(layer, keras.layers.InputLayer):\n"
      "            continue\n"
      "        if isinstance(layer, keras.layers.Conv2D):\n"
      "            kernel, bias = layer.get_weights()\n"
      "            maps.append(keras.ops.convert_to_numpy(keras.ops.conv(x, kernel) + bias)[0])\n"
      "        x = layer(x)\n"
      "    return maps\n"),
    m("feature_maps", "single conv layer: output not wrapped in a list",
      "def feature_maps(model, image, before_activation=False):\n"
      "    image = np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1)\n"
      "    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]\n"
      "    outputs = keras.Model(model.inputs, [layer.output for layer in convs])([image])\n"
      "    return [keras.ops.convert_to_numpy(out)[0] for out in outputs]\n"),
    m("confusion_matrix", "the lecture's tf.math.confusion_matrix (normalize ignored)",
      "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    return tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes).numpy()\n"),
    m("confusion_matrix", "rows and columns swapped in the normalisation", cm(axes='{"true": 0, "pred": 1, "all": None}')),
    m("confusion_matrix", "'all' divides by the number of classes",
      cm(divide="return counts / num_classes if axis is None else np.divide(counts, totals, out=np.zeros(counts.shape), "
                "where=totals > 0)")),
    m("confusion_matrix", "NaN for absent classes (plain division, warnings silenced)",
      cm(divide="with np.errstate(invalid='ignore', divide='ignore'):\n        return counts / totals")),
    m("confusion_matrix", "plain division (NumPy warns for absent classes)", cm(divide="return counts / totals")),
    m("confusion_matrix", "integer division", cm(divide="return counts // np.maximum(totals, 1)")),
    m("confusion_matrix", "unknown normalize gives the counts", cm(unknown="normalize = None")),
    m("confusion_matrix", "unknown normalize raises KeyError", cm(unknown="pass")),
    # receptive_field
    m("receptive_field", "kernels added up (the jump ignored)", rf(update="size += dilation * (kernel - 1)\n        jump *= stride")),
    m("receptive_field", "jump multiplied before the size grows",
      rf(update="jump *= stride\n        size += dilation * (kernel - 1) * jump")),
    m("receptive_field", "dilation ignored", rf(update="size += (kernel - 1) * jump\n        jump *= stride")),
    m("receptive_field", "dilated kernel taken as kernel * dilation",
      rf(update="size += (kernel * dilation - 1) * jump\n        jump *= stride")),
    m("receptive_field", "dilation multiplies the jump", rf(update="size += (kernel - 1) * jump\n        jump *= stride * dilation")),
    m("receptive_field", "starts at 0", rf(start="0, 1")),
    m("receptive_field", "returns (jump, size)", rf(result="jump, size")),
    m("receptive_field", "returns the size only", rf(result="size")),
    m("receptive_field", "int64 arithmetic (overflows for deep stacks)",
      rf(start="np.int64(1), np.int64(1)", convert="np.int64(value)")),
    m("receptive_field", "floats", rf(start="1.0, 1.0")),
    m("receptive_field", "pairs only (a dilation column is unpacked as an error)",
      "def receptive_field(layers):\n    size, jump = 1, 1\n    for kernel, stride in layers:\n"
      "        size += (int(kernel) - 1) * jump\n        jump *= int(stride)\n    return size, jump\n"),
    # feature_maps before the activation
    m("feature_maps", "before_activation ignored", fm(pre="out")),
    m("feature_maps", "pre-activation without the bias",
      fm(pre="keras.ops.conv(out, layer.kernel, strides=layer.strides, padding=layer.padding, "
             "dilation_rate=layer.dilation_rate)")),
    m("feature_maps", "pre-activation with stride 1 and valid padding whatever the layer",
      fm(pre="keras.ops.conv(out, layer.kernel) + layer.bias")),
    # arguments changed in place (each answer right otherwise)
    m("confusion_matrix", "zeroes y_true after counting",
      cm(divide="return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)").replace(
          "    if normalize is None:\n        return counts\n",
          "    if isinstance(y_true, np.ndarray):\n        y_true[...] = 0\n"
          "    if normalize is None:\n        return counts\n")),
    m("feature_maps", "zeroes the image after use",
      fm().replace("def feature_maps(", "def _right_maps(", 1)
      + "\n\ndef feature_maps(model, image, before_activation=False):\n"
      "    maps = _right_maps(model, image, before_activation)\n"
      "    if isinstance(image, np.ndarray):\n        image[...] = 0\n    return maps\n"),
    m("receptive_field", "overwrites an array argument", rf(result="size, jump")
      .replace("    return size, jump", "    if isinstance(layers, np.ndarray):\n        layers[...] = 1\n    return size, jump")),
    m("strongest_filter", "zeroes the maps after use",
      "def strongest_filter(maps):\n    best = int(np.argmax(np.mean(maps, axis=(0, 1))))\n"
      "    if isinstance(maps, np.ndarray):\n        maps[...] = 0\n    return best\n"),
    m("one_hot", "zeroes the labels after use",
      "def one_hot(y, num_classes=10):\n    out = np.eye(num_classes, dtype=np.float32)[np.asarray(y)]\n"
      "    if isinstance(y, np.ndarray):\n        y[...] = 0\n    return out\n"),
    m("count_parameters", "reverses a list of filters", count(dense="total + (height * width * channels + 1) * num_classes")
      .replace("    return total", "    if isinstance(filters, list):\n        filters.reverse()\n    return total")),
    # strongest_filter
    m("strongest_filter", "peak (max) instead of mean",
      "def strongest_filter(maps):\n    return int(np.argmax(np.max(maps, axis=(0, 1))))\n"),
    m("strongest_filter", "filters on the first axis",
      "def strongest_filter(maps):\n    return int(np.argmax(np.mean(maps, axis=(1, 2))))\n"),
    m("strongest_filter", "mean over one axis, flat argmax",
      "def strongest_filter(maps):\n    return int(np.argmax(np.mean(maps, axis=0)))\n"),
    m("strongest_filter", "argmin", "def strongest_filter(maps):\n    return int(np.argmin(np.mean(maps, axis=(0, 1))))\n"),
    m("strongest_filter", "returns the largest mean, not its index",
      "def strongest_filter(maps):\n    return float(np.max(np.mean(maps, axis=(0, 1))))\n"),
    m("strongest_filter", "most active positions instead of mean",
      "def strongest_filter(maps):\n    return int(np.argmax(np.sum(np.asarray(maps) > 0, axis=(0, 1))))\n"),
    # the Fashion-MNIST exercise (retrains)
    m("fashion_cnn", "model never trained",
      _FASHION.format(fit="", image="preprocess_images(fashion.x_test[:1])[0]")),
    m("fashion_cnn", "trained on the MNIST arrays of section 5",
      _FASHION.format(fit="fashion_model.fit(x_train, y_train_onehot, batch_size=BATCH_SIZE, "
                          "epochs=FASHION_EPOCHS, verbose=0)",
                      image="preprocess_images(fashion.x_test[:1])[0]")),
    m("fashion_cnn", "feature maps of an MNIST digit",
      _FASHION.format(fit="fashion_model.fit(fashion_x_train, fashion_y_train, batch_size=BATCH_SIZE, "
                          "epochs=FASHION_EPOCHS, verbose=0)",
                      image="x_test[0]")),
    m("fashion_cnn", "maps of an untrained CNN",
      _FASHION.format(fit="fashion_model.fit(fashion_x_train, fashion_y_train, batch_size=BATCH_SIZE, "
                          "epochs=FASHION_EPOCHS, verbose=0)",
                      image="preprocess_images(fashion.x_test[:1])[0]")
      + "fashion_maps = feature_maps(build_cnn(), fashion_image)\n"),
    m("fashion_cnn", "the seed's network (no pooling)",
      _FASHION.replace("fashion_model = build_cnn()", "fashion_model = keras.Sequential([keras.Input((28, 28, 1)), "
                       "keras.layers.Conv2D(16, 3, activation='relu'), keras.layers.Conv2D(32, 3, activation='relu'), "
                       "keras.layers.Flatten(), keras.layers.Dense(10, activation='softmax')])\n"
                       "fashion_model.compile(optimizer='adam', loss='categorical_crossentropy')")
      .format(fit="fashion_model.fit(fashion_x_train, fashion_y_train, batch_size=BATCH_SIZE, "
                  "epochs=FASHION_EPOCHS, verbose=0)",
              image="preprocess_images(fashion.x_test[:1])[0]")),
]

# Right answers written differently: the tests must accept every one of them.
ALTERNATIVES = [
    m("preprocess_images", "expand_dims after dividing",
      "def preprocess_images(X):\n    return np.expand_dims(np.asarray(X) / np.float32(255), -1).astype(np.float32)\n"),
    m("preprocess_images", "reshape with len(X)",
      "def preprocess_images(X):\n    return X.reshape(len(X), 28, 28, 1).astype('float32') / 255\n"),
    m("one_hot", "rows of the identity", "def one_hot(y, num_classes=10):\n"
      "    return np.eye(num_classes, dtype=np.float32)[np.asarray(y)]\n"),
    m("one_hot", "to_categorical cast to float32", "def one_hot(y, num_classes=10):\n"
      "    return keras.utils.to_categorical(y, num_classes).astype('float32')\n"),
    m("one_hot", "comparison with arange", "def one_hot(y, num_classes=10):\n"
      "    return (np.asarray(y)[:, None] == np.arange(num_classes)).astype(np.float32)\n"),
    m("build_cnn", "functional API with objects for optimizer, loss and metric",
      "def build_cnn(input_shape=(28, 28, 1), num_classes=10, learning_rate=0.001, filters=(16, 32)):\n"
      "    inputs = keras.Input(shape=input_shape)\n"
      "    x = inputs\n"
      "    for f in list(filters):\n"
      "        x = keras.layers.Conv2D(f, (3, 3), activation=keras.activations.relu)(x)\n"
      "        x = keras.layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2), padding='valid')(x)\n"
      "    outputs = keras.layers.Dense(num_classes, activation='softmax')(keras.layers.Flatten()(x))\n"
      "    model = keras.Model(inputs, outputs)\n"
      "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),\n"
      "                  loss=keras.losses.CategoricalCrossentropy(), metrics=[keras.metrics.CategoricalAccuracy()])\n"
      "    return model\n"),
    m("build_cnn", "Sequential built with add()",
      "def build_cnn(input_shape=(28, 28, 1), num_classes=10, learning_rate=0.001, filters=(16, 32)):\n"
      "    model = keras.Sequential()\n"
      "    model.add(keras.Input(shape=input_shape))\n"
      "    for i in range(len(filters)):\n"
      "        model.add(keras.layers.Conv2D(filters=filters[i], kernel_size=3, activation='relu'))\n"
      "        model.add(keras.layers.MaxPooling2D())\n"
      "    model.add(keras.layers.Flatten())\n"
      "    model.add(keras.layers.Dense(num_classes, activation='softmax'))\n"
      "    optimizer = keras.optimizers.Adam(learning_rate)\n"
      "    model.compile(optimizer=optimizer, loss=keras.losses.categorical_crossentropy, metrics=['accuracy'])\n"
      "    return model\n"),
    m("count_parameters", "per-layer list, pool_size or 1",
      "def count_parameters(input_shape, filters, num_classes=10, kernel_size=3, pool_size=2):\n"
      "    h, w, c = input_shape\n"
      "    p = pool_size or 1\n"
      "    counts = []\n"
      "    for f in filters:\n"
      "        counts.append(f * (kernel_size ** 2 * c + 1))\n"
      "        h, w, c = (h - kernel_size + 1) // p, (w - kernel_size + 1) // p, f\n"
      "    counts.append(num_classes * (h * w * c) + num_classes)\n"
      "    return sum(counts)\n"),
    m("count_parameters", "numpy product and math.floor",
      "def count_parameters(input_shape, filters, num_classes=10, kernel_size=3, pool_size=2):\n"
      "    import math\n"
      "    size = np.array(input_shape[:2])\n"
      "    channels, total = input_shape[2], 0\n"
      "    for f in list(filters):\n"
      "        total += f * kernel_size * kernel_size * channels + f\n"
      "        size = size - (kernel_size - 1)\n"
      "        if pool_size:\n"
      "            size = np.array([math.floor(s / pool_size) for s in size])\n"
      "        channels = f\n"
      "    return int(total + (int(np.prod(size)) * channels + 1) * num_classes)\n"),
    m("confusion_matrix", "bincount on int labels, nan_to_num", "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    t, p = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)\n"
      "    cm = np.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)\n"
      "    if normalize is None:\n        return cm\n"
      "    with np.errstate(invalid='ignore', divide='ignore'):\n"
      "        if normalize == 'true':\n            out = cm / cm.sum(axis=1, keepdims=True)\n"
      "        elif normalize == 'pred':\n            out = cm / cm.sum(axis=0, keepdims=True)\n"
      "        elif normalize == 'all':\n            out = cm / cm.sum()\n"
      "        else:\n            raise ValueError('normalize')\n"
      "    return np.nan_to_num(out)\n"),
    m("confusion_matrix", "a loop, rows and columns by hand", "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    cm = np.zeros((num_classes, num_classes), dtype=int)\n"
      "    for t, p in zip(y_true, y_pred):\n        cm[int(t), int(p)] += 1\n"
      "    if normalize is None:\n        return cm\n"
      "    if normalize not in ('true', 'pred', 'all'):\n        raise ValueError(f'unknown normalize {normalize!r}')\n"
      "    out = cm.astype(float)\n"
      "    if normalize == 'all':\n        return out / max(cm.sum(), 1)\n"
      "    view = out if normalize == 'true' else out.T\n"
      "    for row in view:\n        if row.sum() > 0:\n            row /= row.sum()\n"
      "    return out\n"),
    m("confusion_matrix", "histogram2d cast to int", "def confusion_matrix(y_true, y_pred, num_classes=10, normalize=None):\n"
      "    edges = np.arange(num_classes + 1) - 0.5\n"
      "    counts, _, _ = np.histogram2d(y_true, y_pred, bins=[edges, edges])\n"
      "    counts = counts.astype(int)\n"
      "    sums = {None: None, 'true': counts.sum(1, keepdims=True), 'pred': counts.sum(0, keepdims=True),\n"
      "            'all': counts.sum()}\n"
      "    if normalize not in sums:\n        raise ValueError(normalize)\n"
      "    if normalize is None:\n        return counts\n"
      "    total = np.broadcast_to(sums[normalize], counts.shape)\n"
      "    return np.where(total > 0, counts / np.where(total > 0, total, 1), 0.0)\n"),
    m("receptive_field", "walks back from the last layer", "def receptive_field(layers):\n"
      "    low, high, jump = 0, 0, 1\n"
      "    for spec in reversed([list(map(int, s)) for s in layers]):\n"
      "        k, s, d = (spec + [1])[:3]\n        low, high, jump = low * s, high * s + d * (k - 1), jump * s\n"
      "    return high - low + 1, jump\n"),
    m("receptive_field", "effective kernel, then the lecture's formula", "def receptive_field(layers):\n"
      "    r = j = 1\n    for layer in layers:\n        layer = [int(v) for v in layer]\n"
      "        k_eff = (layer[2] if len(layer) == 3 else 1) * (layer[0] - 1) + 1\n"
      "        r, j = r + (k_eff - 1) * j, j * layer[1]\n    return (r, j)\n"),
    m("feature_maps", "layer by layer, a linear copy for the pre-activation", "def feature_maps(model, image, before_activation=False):\n"
      "    x = keras.ops.convert_to_tensor(np.asarray(image, dtype='float32').reshape(1, 28, 28, 1))\n"
      "    maps = []\n"
      "    for layer in model.layers:\n"
      "        if isinstance(layer, keras.layers.InputLayer):\n"
      "            continue\n"
      "        if isinstance(layer, keras.layers.Conv2D) and before_activation:\n"
      "            linear = layer.__class__.from_config({**layer.get_config(), 'activation': 'linear'})\n"
      "            linear.build(x.shape)\n            linear.set_weights(layer.get_weights())\n"
      "            maps.append(keras.ops.convert_to_numpy(linear(x))[0])\n"
      "        x = layer(x)\n"
      "        if isinstance(layer, keras.layers.Conv2D) and not before_activation:\n"
      "            maps.append(keras.ops.convert_to_numpy(x)[0])\n"
      "    return maps\n"),
    m("feature_maps", "one probe per layer, predict", "def feature_maps(model, image, before_activation=False):\n"
      "    batch = np.asarray(image, dtype='float32').reshape(1, 28, 28, 1)\n"
      "    maps = []\n"
      "    for layer in model.layers:\n"
      "        if not isinstance(layer, keras.layers.Conv2D):\n            continue\n"
      "        if not before_activation:\n"
      "            maps.append(keras.Model(model.inputs, layer.output).predict([batch], verbose=0)[0])\n"
      "            continue\n"
      "        x = keras.Model(model.inputs, layer.input).predict([batch], verbose=0)\n"
      "        z = keras.ops.conv(x, layer.kernel, layer.strides, layer.padding, dilation_rate=layer.dilation_rate)\n"
      "        maps.append(np.asarray(z + layer.bias)[0])\n"
      "    return maps\n"),
    m("feature_maps", "probe with the model's outputs too, squeeze", "def feature_maps(model, image, before_activation=False):\n"
      "    image = np.asarray(image, dtype='float32')\n"
      "    batch = image.reshape((1,) + image.shape[:2] + (1,))\n"
      "    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]\n"
      "    nodes = [layer.input if before_activation else layer.output for layer in layers]\n"
      "    outputs = keras.Model(inputs=model.inputs, outputs=nodes + model.outputs)([batch])[:-1]\n"
      "    if before_activation:\n"
      "        outputs = [keras.ops.conv(x, l.kernel, strides=l.strides, padding=l.padding, dilation_rate=l.dilation_rate)\n"
      "                   + l.bias for x, l in zip(outputs, layers)]\n"
      "    return [np.asarray(out).squeeze(axis=0) for out in outputs]\n"),
    m("strongest_filter", "sum instead of mean", "def strongest_filter(maps):\n"
      "    return int(np.argmax(np.sum(maps, axis=(0, 1))))\n"),
    m("strongest_filter", "reshape and numpy int", "def strongest_filter(maps):\n"
      "    maps = np.asarray(maps)\n    return maps.reshape(-1, maps.shape[-1]).mean(axis=0).argmax()\n"),
    m("strongest_filter", "a loop over filters", "def strongest_filter(maps):\n"
      "    means = [maps[:, :, k].mean() for k in range(maps.shape[2])]\n    return means.index(max(means))\n"),
]
