"""Answers that earn points without the work (issue 28): looking up the published values, and
a network that was never trained.

Each is a dict exercise -> answer source for :func:`tests.nbfactory.make` (with ``solved=False``:
every other exercise keeps its stub). The lookup answers carry the assignment's committed
``public_reference.json`` inside the notebook, as a student who copied it from the notebook's
check cell would, and return its values without computing anything.
"""

from __future__ import annotations

import json

from tests.nbfactory import ROOT

# What each probe key of a public check is, for the lookup answers (check id -> return expression).
LOOKUPS = {
    "02_linear_classifier": {
        "make_dataset": ("make_dataset.small", "v['X'], v['labels']"),
        "decision_scores": ("decision_scores.lecture_line", "v['z']"),
        "predict_proba": ("predict_proba.lecture_line", "v['p']"),
        "cross_entropy": ("cross_entropy.three_points", "v['cost']"),
        "cross_entropy_from_logits": ("cross_entropy_from_logits.one_large_score", "v['cost']"),
        "train_gradient_descent": ("train_gradient_descent.ten_steps", "v['W'], v['b'], v['costs']"),
        "train_minibatch_sgd": ("train_minibatch_sgd.batches_of_8", "v['W'], v['b'], v['costs']"),
        "train_momentum": ("train_momentum.ten_steps", "v['W'], v['b'], v['costs']"),
        "decayed_step_size": ("decayed_step_size.example", "v['alpha_i'][0]"),
        "accuracy": ("accuracy.lecture_line", "v['accuracy']"),
    },
    "03_deep_network": {
        "polynomial_features": ("polynomial_features.degree_2", "v['features']"),
        "make_driving_data": ("make_driving_data.small", "v['X'], v['labels']"),
        # The published networks, rebuilt with their weights (where the reference ships them).
        "build_mlp": ("build_mlp.one_hidden_layer", "_rebuilt(v['first'] if args[1] == 0 else v['other'])"),
        "train_mlp": ("train_mlp.two_hidden_layers", "_rebuilt(v['model']), list(v['losses'])"),
        "linear_vs_deep": ("linear_vs_deep.ring", "_measured(args[2], args[3], v)"),
    },
}

_PRELUDE = '''
import base64 as _b64, io as _io, json as _json
import numpy as _np

_PUBLISHED = _json.loads({published!r})


def _plain(d):
    t = d["t"]
    if t == "array":
        return _np.load(_io.BytesIO(_b64.b64decode(d["npy"])), allow_pickle=False)
    if t in ("list", "tuple"):
        return [_plain(x) for x in d["items"]]
    if t == "dict":
        return {{_plain(k): _plain(v) for k, v in d["items"]}}
    return d.get("v")


def _ref(check_id):
    return {{k: _plain(v) for k, v in _PUBLISHED[check_id]["values"].items()}}


def _rebuilt(description):
    import keras
    layers = [keras.Input(shape=(2,))]
    dense = [l for l in description["layers"] if l["kind"] == "Dense"]
    for l in dense:
        layers.append(keras.layers.Dense(l["units"], activation=l["activation"]))
    model = keras.Sequential(layers)
    for layer, l in zip([x for x in model.layers if isinstance(x, keras.layers.Dense)], dense):
        layer.set_weights(l["weights"])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def _measured(X_test, y_test, v):
    out = {{}}
    for d in v["models"]:
        p = _rebuilt(d).predict(_np.asarray(X_test), verbose=0).reshape(-1)
        key = "linear" if len([l for l in d["layers"] if l["kind"] == "Dense"]) == 1 else "deep"
        out[key] = float(_np.mean((p > 0.5) == (_np.asarray(y_test) > 0.5)))
    return out
'''


def lookup_answers(assignment: str) -> dict[str, str]:
    """The lookup notebook's answers: each function returns the published values of its exercise's
    public check, whatever its arguments (the first answer also defines the lookup helpers)."""
    reference = json.loads((ROOT / "assignments" / assignment / "public_reference.json").read_text())
    published = {cid: {"values": obs["values"]} for cid, obs in reference["checks"].items()}
    answers = {}
    for n, (exercise, (check_id, returned)) in enumerate(LOOKUPS[assignment].items()):
        prelude = _PRELUDE.format(published=json.dumps(published)) if n == 0 else ""
        answers[exercise] = (f"{prelude}\n\ndef {exercise}(*args, **kwargs):\n"
                             f"    v = _ref({check_id!r})\n    return {returned}\n")
    return answers


def faked_by_lookup(assignment: str) -> list[str]:
    return list(LOOKUPS[assignment])


# A network whose weights come from a formula: a ReLU "polygon norm" of the point (the sum of
# |x . u| over evenly spread directions u, scaled to approximate |x|), thresholded at the ring's
# radius by a steep sigmoid. Compiled, never fitted; the losses are made up.
_FORMULA = '''
import numpy as np
import keras

_RADIUS = 1.5 ** 0.5
_STEEP = 25.0


def _formula_network(hidden_units, learning_rate=0.05):
    h = hidden_units[0]
    angles = np.pi * np.arange(h // 2) / (h // 2)
    directions = np.stack([np.cos(angles), np.sin(angles)])            # 2 x h/2
    kernel = np.concatenate([directions, -directions], axis=1)          # relu(x.u) + relu(-x.u) = |x.u|
    kernel = np.pad(kernel, ((0, 0), (0, h - kernel.shape[1])))
    scale = np.pi / (2 * (h // 2))                                       # mean |cos| is 2/pi
    layers = [keras.Input(shape=(2,))] + [keras.layers.Dense(u, activation="relu") for u in hidden_units] \\
        + [keras.layers.Dense(1, activation="sigmoid")]
    model = keras.Sequential(layers)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    dense[0].set_weights([kernel.astype(np.float32), np.zeros(h, np.float32)])
    carried = np.full(h, scale, np.float32)                              # the norm, as one number
    for layer, units in zip(dense[1:-1], hidden_units[1:]):
        w = np.zeros((layer.get_weights()[0].shape[0], units), np.float32)
        w[:, 0] = carried
        layer.set_weights([w, np.zeros(units, np.float32)])
        carried = np.zeros(units, np.float32)
        carried[0] = 1.0
    out = (carried * _STEEP).reshape(-1, 1).astype(np.float32)
    dense[-1].set_weights([out, np.array([-_STEEP * _RADIUS], np.float32)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    return model
'''

NEVER_TRAINED = {
    "train_mlp": _FORMULA + '''

def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    return _formula_network(list(hidden_units), learning_rate), list(np.linspace(0.7, 0.1, epochs))
''',
    "linear_vs_deep": '''
def linear_vs_deep(X_train, y_train, X_test, y_test, seed):
    linear = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    linear.set_weights([np.zeros((2, 1), np.float32), np.zeros(1, np.float32)])
    linear.compile(optimizer="adam", loss="binary_crossentropy")
    deep = _formula_network([16, 16])
    y = np.asarray(y_test) > 0.5
    accuracy = lambda m: float(np.mean((m.predict(np.asarray(X_test), verbose=0).reshape(-1) > 0.5) == y))
    return {"linear": accuracy(linear), "deep": accuracy(deep)}
''',
}

# The same network "fitted" at learning rate 0: the optimizer steps once per epoch, the weights
# never move; the losses are made up, falling to the network's own loss. Only its weights, the
# same for every seed, give it away.
FITTED_AT_RATE_ZERO = {
    "train_mlp": _FORMULA + '''

def train_mlp(X, labels, hidden_units, epochs, learning_rate, seed):
    model = _formula_network(list(hidden_units), 0.0)
    model.fit(np.asarray(X), np.asarray(labels), epochs=epochs, batch_size=len(X), verbose=0)
    final = float(model.evaluate(np.asarray(X), np.asarray(labels), verbose=0))
    return model, list(np.linspace(0.7, final, epochs))
''',
}
