"""Adapted lecture lines for assignments 03 and 04 (issue 25), in the format of ``tests/disjoint.py``'s ``ADAPTED``.

Each entry is what lecture 3 or 4 shows, with only the adapter a student would add to fit the graded
signature (a parameter passed through, a layer picked by index or name, a reshape). None of
``ADAPTED_A34`` may earn a graded cell: those graded functions ask for a step beyond what the lectures
show (a float64 forward pass to any layer, He initialisation for ReLU, normalised confusion matrices,
pre-activation maps, dilated receptive fields, any number of conv-pool blocks). ``tests/disjoint.py``
takes these entries into its own ``ADAPTED``, so that its test runs them with the catalogues' notebook
runs, and ``python -m tests.disjoint <notebook> <assignment>`` measures them.
"""

from __future__ import annotations


def _answer(signature: str, *body: str) -> str:
    return f"def {signature}:\n" + "".join(f"    {line}\n" for line in body)


_L3_MODEL = ("keras.utils.set_random_seed(seed)",
             "model = keras.Sequential([",
             "    keras.Input(shape=(2,)),",
             "    keras.layers.Dense(hidden_units, activation=activation),",
             "    keras.layers.Dense(2, activation=activation),",
             "    keras.layers.Dense(1, activation='sigmoid'),",
             "])",
             "model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005), loss='binary_crossentropy',",
             "              metrics=['accuracy'])",
             "return model")

ADAPTED_A34: dict[tuple[str, str], dict[str, str]] = {
    ("03_nonlinearity", "hidden_representation"): {
        "L3 sub-model keras.Model(model.inputs, model.layers[-2].output).predict, any layer": _answer(
            "hidden_representation(model, X, layer=-2)",
            "target = model.get_layer(layer) if isinstance(layer, str) else model.layers[layer]",
            "return keras.Model(model.inputs, target.output).predict(np.asarray(X), verbose=0)"),
        "L3 sub-model, cast to float64": _answer(
            "hidden_representation(model, X, layer=-2)",
            "target = model.get_layer(layer) if isinstance(layer, str) else model.layers[layer]",
            "H = keras.Model(model.inputs, target.output).predict(np.asarray(X, dtype=float), verbose=0)",
            "return np.asarray(H, dtype=np.float64)"),
    },
    ("03_nonlinearity", "build_model"): {
        "L3 model cell with the widths changed (hidden_units, 2, 1) and Adam(0.005)": _answer(
            "build_model(activation, hidden_units=64, seed=0)", *_L3_MODEL),
    },
    ("04_cnn_activation_maps", "confusion_matrix"): {
        "L4 tf.math.confusion_matrix(...).numpy()": _answer(
            "confusion_matrix(y_true, y_pred, num_classes=10, normalize=None)",
            "return tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes).numpy()"),
        "L4 tf.math.confusion_matrix, divided by the row sums for normalize": _answer(
            "confusion_matrix(y_true, y_pred, num_classes=10, normalize=None)",
            "cm = tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes).numpy()",
            "return cm if normalize is None else cm / cm.sum(axis=1, keepdims=True)"),
    },
    ("04_cnn_activation_maps", "feature_maps"): {
        "L4 inside = keras.Model(model.inputs, [conv outputs]).predict(sample)": _answer(
            "feature_maps(model, image, before_activation=False)",
            "sample = np.asarray(image, dtype='float32').reshape(1, 28, 28, 1)",
            "convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]",
            "inside = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in convs])",
            "out = inside.predict(sample, verbose=0)",
            "return [batch[0] for batch in (out if isinstance(out, list) else [out])]"),
    },
    ("04_cnn_activation_maps", "build_cnn"): {
        "L4 make_cnn('conv-pool') without Rescaling, categorical loss, filters accepted but ignored": _answer(
            "build_cnn(input_shape=(28, 28, 1), num_classes=10, learning_rate=0.001, filters=(16, 32))",
            "layers = [keras.Input(shape=input_shape)]",
            "layers += [keras.layers.Conv2D(16, 3, activation='relu', name='conv1'),",
            "           keras.layers.MaxPooling2D(2, name='pool1'),",
            "           keras.layers.Conv2D(32, 3, activation='relu', name='conv2'),",
            "           keras.layers.MaxPooling2D(2, name='pool2')]",
            "layers += [keras.layers.Flatten(name='flatten'),",
            "           keras.layers.Dense(num_classes, activation='softmax', name='probabilities')]",
            "model = keras.Sequential(layers, name='conv_pool')",
            "model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss='categorical_crossentropy',",
            "              metrics=['accuracy'])",
            "return model"),
    },
    ("04_cnn_activation_maps", "receptive_field"): {
        "L4 r_out = r_in + (k - 1) j_in, j_out = j_in s": _answer(
            "receptive_field(layers)", "r, j = 1, 1", "for k, s in layers:", "    r, j = r + (k - 1) * j, j * s",
            "return r, j"),
    },
}
