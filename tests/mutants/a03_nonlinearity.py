"""Plausible wrong answers for assignment 03_nonlinearity; each must lose points."""

from tests.harness import Mutant

ASSIGNMENT = "03_nonlinearity"


def m(cell: str, name: str, code: str) -> Mutant:
    return Mutant(cell, name, code)


XOR_HEAD = "def make_xor_data(n_per_cluster=50, spread=0.25, seed=0):\n"
COMPOSE_HEAD = "def compose_linear(W1, b1, W2, b2):\n"
BUILD_HEAD = "def build_model(activation, hidden_units=64, seed=0):\n"
GRID_HEAD = "def decision_grid(model, xlim=(0, 10), ylim=(0, 10), n=200):\n"
HIDDEN_HEAD = "def hidden_representation(model, X, layer=-2):\n"

HE_FOR_RELU = "    INIT = 'he_normal' if activation == 'relu' else 'glorot_uniform'\n"


def xor(body: str) -> str:
    return XOR_HEAD + body


def build(layers: str, compile_args: str = "optimizer=keras.optimizers.Adam(learning_rate=0.005), "
                                           "loss='binary_crossentropy', metrics=['accuracy']",
          seed: str = "    keras.utils.set_random_seed(seed)\n", init: str = HE_FOR_RELU) -> str:
    return (BUILD_HEAD + seed + init + f"    model = keras.Sequential([{layers}])\n"
            f"    model.compile({compile_args})\n    return model\n")


RIGHT_LAYERS = ("keras.Input(shape=(2,)), keras.layers.Dense(hidden_units, activation=activation, kernel_initializer=INIT), "
                "keras.layers.Dense(2, activation=activation, kernel_initializer=INIT), "
                "keras.layers.Dense(1, activation='sigmoid')")


def forward(head: str = "    h = np.asarray(X, dtype=np.float64)\n", stop: str = "model.layers.index(target)",
            target: str = "model.get_layer(layer) if isinstance(layer, str) else model.layers[layer]",
            step: str = "keras.ops.convert_to_numpy(dense.activation(h @ W + b))") -> str:
    """hidden_representation, right (a float64 forward pass), with one part changed."""
    return (HIDDEN_HEAD + f"    target = {target}\n    stop = {stop}\n" + head
            + "    for dense in model.layers[: stop + 1]:\n"
            "        W, b = (np.asarray(w, dtype=np.float64) for w in dense.get_weights())\n"
            f"        h = {step}\n    return np.asarray(h, dtype=np.float64)\n")


def grid(body: str) -> str:
    return GRID_HEAD + body


MUTANTS = [
    # make_xor_data
    m("make_xor_data", "XNOR labels (1 where the coordinates agree)",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, spread, size=(n_per_cluster, 2)) for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    return X, np.repeat([1, 0, 0, 1], n_per_cluster)\n")),
    m("make_xor_data", "seed ignored",
      xor("    rng = np.random.default_rng()\n"
          "    X = np.concatenate([rng.normal(c, spread, size=(n_per_cluster, 2)) for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    return X, np.repeat([0, 1, 1, 0], n_per_cluster)\n")),
    m("make_xor_data", "clusters grouped by label (wrong order)",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, spread, size=(n_per_cluster, 2)) for c in [(2, 2), (8, 8), (2, 8), (8, 2)]])\n"
          "    return X, np.repeat([0, 0, 1, 1], n_per_cluster)\n")),
    m("make_xor_data", "(2, 8) and (8, 2) swapped",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, spread, size=(n_per_cluster, 2)) for c in [(2, 2), (8, 2), (2, 8), (8, 8)]])\n"
          "    return X, np.repeat([0, 1, 1, 0], n_per_cluster)\n")),
    m("make_xor_data", "spread ignored (the seed's 0.25)",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, 0.25, size=(n_per_cluster, 2)) for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    return X, np.repeat([0, 1, 1, 0], n_per_cluster)\n")),
    m("make_xor_data", "spread used as a variance",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, spread ** 2, size=(n_per_cluster, 2)) for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    return X, np.repeat([0, 1, 1, 0], n_per_cluster)\n")),
    m("make_xor_data", "n_per_cluster ignored",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, spread, size=(50, 2)) for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    return X, np.repeat([0, 1, 1, 0], 50)\n")),
    m("make_xor_data", "float labels",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, spread, size=(n_per_cluster, 2)) for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    return X, np.repeat([0.0, 1.0, 1.0, 0.0], n_per_cluster)\n")),
    m("make_xor_data", "shuffled",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([rng.normal(c, spread, size=(n_per_cluster, 2)) for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    y = np.repeat([0, 1, 1, 0], n_per_cluster)\n    order = rng.permutation(len(y))\n"
          "    return X[order], y[order]\n")),
    m("make_xor_data", "same noise for both coordinates",
      xor("    rng = np.random.default_rng(seed)\n"
          "    X = np.concatenate([np.asarray(c) + rng.normal(0, spread, size=(n_per_cluster, 1))"
          " for c in [(2, 2), (2, 8), (8, 2), (8, 8)]])\n"
          "    return X, np.repeat([0, 1, 1, 0], n_per_cluster)\n")),
    # compose_linear
    m("compose_linear", "biases added (b1 + b2)", COMPOSE_HEAD + "    return W1 @ W2, b1 + b2\n"),
    m("compose_linear", "first bias dropped", COMPOSE_HEAD + "    return W1 @ W2, b2\n"),
    m("compose_linear", "second bias dropped", COMPOSE_HEAD + "    return W1 @ W2, b1 @ W2\n"),
    m("compose_linear", "W2 @ W1 (wrong order)", COMPOSE_HEAD + "    return W2 @ W1, b1 @ W2 + b2\n"),
    m("compose_linear", "W2 @ b1 (transposed bias product)", COMPOSE_HEAD + "    return W1 @ W2, W2 @ b1 + b2\n"),
    m("compose_linear", "elementwise product", COMPOSE_HEAD + "    return W1 * W2, b1 * W2 + b2\n"),
    m("compose_linear", "returns (b, W)", COMPOSE_HEAD + "    return b1 @ W2 + b2, W1 @ W2\n"),
    m("compose_linear", "bias accumulated in place (modifies b2)",
      COMPOSE_HEAD + "    b2 += b1 @ W2\n    return W1 @ W2, b2\n"),
    # build_model
    m("build_model", "activation ignored (always relu)",
      build(RIGHT_LAYERS.replace("activation=activation", "activation='relu'"))),
    m("build_model", "activation only in the first hidden layer",
      build("keras.Input(shape=(2,)), keras.layers.Dense(hidden_units, activation=activation), "
            "keras.layers.Dense(2), keras.layers.Dense(1, activation='sigmoid')")),
    m("build_model", "seed ignored", build(RIGHT_LAYERS, seed="")),
    m("build_model", "hidden_units ignored", build(RIGHT_LAYERS.replace("Dense(hidden_units", "Dense(64"))),
    m("build_model", "no 2-unit bottleneck",
      build("keras.Input(shape=(2,)), keras.layers.Dense(hidden_units, activation=activation), "
            "keras.layers.Dense(1, activation='sigmoid')")),
    m("build_model", "mean squared error loss",
      build(RIGHT_LAYERS, "optimizer=keras.optimizers.Adam(learning_rate=0.005), loss='mse', metrics=['accuracy']")),
    m("build_model", "no accuracy metric",
      build(RIGHT_LAYERS, "optimizer=keras.optimizers.Adam(learning_rate=0.005), loss='binary_crossentropy'")),
    m("build_model", "default learning rate",
      build(RIGHT_LAYERS, "optimizer='adam', loss='binary_crossentropy', metrics=['accuracy']")),
    m("build_model", "input_shape argument (Keras warns)",
      build("keras.layers.Dense(hidden_units, activation=activation, input_shape=(2,)), "
            "keras.layers.Dense(2, activation=activation), keras.layers.Dense(1, activation='sigmoid')")),
    m("build_model", "Keras' default initialisation (Glorot) for ReLU too (the lecture's cell)",
      build(RIGHT_LAYERS, init="    INIT = 'glorot_uniform'\n")),
    m("build_model", "He for every activation", build(RIGHT_LAYERS, init="    INIT = 'he_normal'\n")),
    m("build_model", "LeCun (variance 1 / n_in) for ReLU",
      build(RIGHT_LAYERS, init="    INIT = 'lecun_normal' if activation == 'relu' else 'glorot_uniform'\n")),
    m("build_model", "He for ReLU and ELU",
      build(RIGHT_LAYERS, init="    INIT = 'he_normal' if activation in ('relu', 'elu') else 'glorot_uniform'\n")),
    # decision_grid
    m("decision_grid", "transposed grid (indexing='ij')",
      grid("    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n), indexing='ij')\n"
           "    p = model.predict(np.column_stack([xx.ravel(), yy.ravel()]), verbose=0).reshape(xx.shape)\n"
           "    return xx, yy, p\n")),
    m("decision_grid", "limits ignored",
      grid("    xx, yy = np.meshgrid(np.linspace(0, 10, n), np.linspace(0, 10, n))\n"
           "    p = model.predict(np.column_stack([xx.ravel(), yy.ravel()]), verbose=0).reshape(xx.shape)\n"
           "    return xx, yy, p\n")),
    m("decision_grid", "n ignored",
      grid("    xx, yy = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))\n"
           "    p = model.predict(np.column_stack([xx.ravel(), yy.ravel()]), verbose=0).reshape(xx.shape)\n"
           "    return xx, yy, p\n")),
    m("decision_grid", "xlim and ylim swapped",
      grid("    xx, yy = np.meshgrid(np.linspace(*ylim, n), np.linspace(*xlim, n))\n"
           "    p = model.predict(np.column_stack([xx.ravel(), yy.ravel()]), verbose=0).reshape(xx.shape)\n"
           "    return xx, yy, p\n")),
    m("decision_grid", "points stacked as (x2, x1)",
      grid("    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))\n"
           "    p = model.predict(np.column_stack([yy.ravel(), xx.ravel()]), verbose=0).reshape(xx.shape)\n"
           "    return xx, yy, p\n")),
    m("decision_grid", "p transposed",
      grid("    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))\n"
           "    p = model.predict(np.column_stack([xx.ravel(), yy.ravel()]), verbose=0).reshape(xx.shape)\n"
           "    return xx, yy, p.T\n")),
    m("decision_grid", "p not reshaped",
      grid("    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))\n"
           "    return xx, yy, model.predict(np.column_stack([xx.ravel(), yy.ravel()]), verbose=0)\n")),
    m("decision_grid", "0/1 labels instead of probabilities",
      grid("    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))\n"
           "    p = model.predict(np.column_stack([xx.ravel(), yy.ravel()]), verbose=0).reshape(xx.shape)\n"
           "    return xx, yy, (p > 0.5).astype(float)\n")),
    # hidden_representation
    m("hidden_representation", "the 64-unit layer",
      HIDDEN_HEAD + "    sub = keras.Model(inputs=model.inputs, outputs=model.layers[0].output)\n"
      "    return np.asarray(sub.predict(X, verbose=0))\n"),
    m("hidden_representation", "pre-activation of the 2-unit layer",
      HIDDEN_HEAD + "    first, second = model.layers[0], model.layers[1]\n"
      "    W1, b1 = first.get_weights()\n    W2, b2 = second.get_weights()\n"
      "    h = np.asarray(first.activation(np.asarray(X, dtype='float32') @ W1 + b1))\n"
      "    return h @ W2 + b2\n"),
    m("hidden_representation", "the final output",
      HIDDEN_HEAD + "    return model.predict(X, verbose=0)\n"),
    m("hidden_representation", "ReLU by hand whatever the activation (the seed's mistake)",
      HIDDEN_HEAD + "    h = np.asarray(X, dtype=float)\n    for layer in model.layers[:2]:\n"
      "        W, b = layer.get_weights()\n        h = np.maximum(h @ W + b, 0.0)\n    return h\n"),
    m("hidden_representation", "a global model instead of the argument",
      HIDDEN_HEAD + "    sub = keras.Model(inputs=models['relu'].inputs, outputs=models['relu'].layers[-2].output)\n"
      "    return np.asarray(sub.predict(X, verbose=0))\n"),
    m("hidden_representation", "a tensor instead of a NumPy array",
      HIDDEN_HEAD + "    h = X\n    for layer in model.layers[:-1]:\n        h = layer(h)\n    return h\n"),
    m("hidden_representation", "the lecture's sub-model with a layer index (float32)",
      HIDDEN_HEAD + "    return keras.Model(model.inputs, model.layers[layer].output).predict(np.asarray(X), verbose=0)\n"),
    m("hidden_representation", "the lecture's sub-model, cast to float64",
      HIDDEN_HEAD + "    target = model.get_layer(layer) if isinstance(layer, str) else model.layers[layer]\n"
      "    return np.asarray(keras.Model(model.inputs, target.output).predict(np.asarray(X), verbose=0), dtype=float)\n"),
    m("hidden_representation", "layer ignored (always the bottleneck)", forward(stop="len(model.layers) - 2")),
    m("hidden_representation", "stops one layer early", forward(stop="model.layers.index(target) - 1")),
    m("hidden_representation", "negative index taken as a slice end (layers[: layer + 1])",
      HIDDEN_HEAD + "    h = np.asarray(X, dtype=np.float64)\n    for dense in model.layers[: layer + 1]:\n"
      "        W, b = dense.get_weights()\n        h = keras.ops.convert_to_numpy(dense.activation(h @ W + b))\n"
      "    return h\n"),
    m("hidden_representation", "layer names not accepted", forward(target="model.layers[int(layer)]")),
    m("hidden_representation", "float32 arithmetic", forward(head="    h = np.asarray(X, dtype=np.float32)\n",
                                                           step="keras.ops.convert_to_numpy(dense.activation("
                                                                "h @ W.astype(np.float32) + b.astype(np.float32)))")),
    m("hidden_representation", "no activation in the layer asked for",
      forward(step="h @ W + b if dense is target else keras.ops.convert_to_numpy(dense.activation(h @ W + b))")),
    m("hidden_representation", "zeroes X after use",
      forward(step="keras.ops.convert_to_numpy(dense.activation(h @ W + b))").replace(
          "    return np.asarray(h, dtype=np.float64)\n",
          "    if isinstance(X, np.ndarray):\n        X[...] = 0\n    return np.asarray(h, dtype=np.float64)\n")),
    m("hidden_representation", "activation of the output layer applied",
      HIDDEN_HEAD + "    sub = keras.Model(inputs=model.inputs, outputs=model.layers[-2].output)\n"
      "    return 1 / (1 + np.exp(-np.asarray(sub.predict(X, verbose=0))))\n"),
]

# Right answers written differently: the tests must accept every one of them.
ALTERNATIVES = [
    m("make_xor_data", "centres plus scaled standard normal, one draw",
      xor("    rng = np.random.default_rng(seed)\n"
          "    centres = np.repeat(np.array([[2.0, 2.0], [2.0, 8.0], [8.0, 2.0], [8.0, 8.0]]), n_per_cluster, axis=0)\n"
          "    X = centres + spread * rng.standard_normal(centres.shape)\n"
          "    y = np.concatenate([np.zeros(n_per_cluster), np.ones(2 * n_per_cluster), np.zeros(n_per_cluster)])\n"
          "    return X, y.astype(int)\n")),
    m("make_xor_data", "legacy RandomState, coordinates drawn separately",
      xor("    rs = np.random.RandomState(seed)\n    parts, labels = [], []\n"
          "    for (cx, cy), label in zip([(2, 2), (2, 8), (8, 2), (8, 8)], [0, 1, 1, 0]):\n"
          "        parts.append(np.column_stack([rs.normal(cx, spread, n_per_cluster), rs.normal(cy, spread, n_per_cluster)]))\n"
          "        labels += [label] * n_per_cluster\n"
          "    return np.vstack(parts), np.array(labels, dtype=np.int32)\n")),
    m("compose_linear", "np.dot", COMPOSE_HEAD + "    W = np.dot(W1, W2)\n    return W, np.dot(b1, W2) + b2\n"),
    m("compose_linear", "evaluate at 0 and at the unit vectors",
      COMPOSE_HEAD + "    layers = lambda x: (x @ W1 + b1) @ W2 + b2\n    b = layers(np.zeros(W1.shape[0]))\n"
      "    W = layers(np.eye(W1.shape[0])) - b\n    return W, b\n"),
    m("build_model", "functional API, seeded initialisers (He uniform), loss and metric objects",
      BUILD_HEAD + "    inputs = keras.Input(shape=(2,))\n"
      "    init = keras.initializers.HeUniform if activation == 'relu' else keras.initializers.GlorotNormal\n"
      "    h = keras.layers.Dense(hidden_units, activation=activation,\n"
      "                           kernel_initializer=init(seed=seed))(inputs)\n"
      "    h = keras.layers.Dense(2, activation=activation,\n"
      "                           kernel_initializer=init(seed=seed + 1))(h)\n"
      "    out = keras.layers.Dense(1, activation='sigmoid',\n"
      "                             kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 2))(h)\n"
      "    model = keras.Model(inputs, out)\n"
      "    model.compile(optimizer=keras.optimizers.Adam(0.005), loss=keras.losses.BinaryCrossentropy(),\n"
      "                  metrics=[keras.metrics.BinaryAccuracy()])\n    return model\n"),
    m("build_model", "Sequential.add",
      BUILD_HEAD + "    keras.utils.set_random_seed(seed)\n    model = keras.Sequential()\n"
      "    model.add(keras.Input(shape=(2,)))\n"
      "    scale = keras.initializers.VarianceScaling(2.0 if activation == 'relu' else 1.0,\n"
      "                                               'fan_in' if activation == 'relu' else 'fan_avg', 'truncated_normal')\n"
      "    model.add(keras.layers.Dense(hidden_units, activation=activation, kernel_initializer=scale))\n"
      "    model.add(keras.layers.Dense(2, activation=activation, kernel_initializer=scale))\n"
      "    model.add(keras.layers.Dense(1, activation='sigmoid'))\n"
      "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=5e-3), loss='binary_crossentropy',\n"
      "                  metrics=['binary_accuracy'])\n    return model\n"),
    m("decision_grid", "direct model call on stacked points",
      grid("    xs, ys = np.linspace(xlim[0], xlim[1], n), np.linspace(ylim[0], ylim[1], n)\n"
           "    xx, yy = np.meshgrid(xs, ys)\n    points = np.stack([xx, yy], axis=-1).reshape(-1, 2)\n"
           "    p = keras.ops.convert_to_numpy(model(points))\n    return xx, yy, p.reshape(n, n)\n")),
    m("decision_grid", "predict with the default batch size, squeeze",
      grid("    xx, yy = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))\n"
           "    p = model.predict(np.c_[xx.ravel(), yy.ravel()], verbose=0)\n"
           "    return xx, yy, np.squeeze(p).reshape(xx.shape)\n")),
    m("hidden_representation", "layer by layer with NumPy activations and a loop index",
      HIDDEN_HEAD + "    acts = {'relu': lambda z: np.maximum(z, 0), 'elu': lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),\n"
      "            'tanh': np.tanh, 'linear': lambda z: z, 'sigmoid': lambda z: 1 / (1 + np.exp(-z))}\n"
      "    names = [d.name for d in model.layers]\n"
      "    last = names.index(layer) if isinstance(layer, str) else list(range(len(names)))[layer]\n"
      "    h = np.array(X, dtype=float).reshape(-1, 2)\n"
      "    for k in range(last + 1):\n        W, b = model.layers[k].get_weights()\n"
      "        h = acts[model.layers[k].activation.__name__](h @ W.astype(float) + b.astype(float))\n"
      "    return h\n"),
    m("hidden_representation", "NumPy forward pass with the layers' activations, dense list",
      HIDDEN_HEAD + "    dense = [d for d in model.layers if isinstance(d, keras.layers.Dense)]\n"
      "    if isinstance(layer, str):\n        layer = [d.name for d in dense].index(layer)\n"
      "    layer = layer % len(dense)\n"
      "    h = np.asarray(X, dtype=float)\n    for d in dense[: layer + 1]:\n        W, b = d.get_weights()\n"
      "        h = np.asarray(keras.ops.convert_to_numpy(d.activation(h @ np.float64(W) + np.float64(b))), dtype=float)\n"
      "    return h\n"),
]
