"""Public checks of 03_deep_network (shipped to students with the notebook).

Deterministic exercises (features, data) are compared with the reference
(rtol=1e-5: float32 products). The network exercises are graded by properties
with margins taken from the reference solution trained on the same data:
architecture, repeatability and the compiled loss's value on two probabilities
(rtol=1e-5) for build_mlp, one loss per epoch, one optimizer step per epoch (full
batch; counted on every optimizer that updated the network, and 0 steps fails), a
falling loss whose last value is near the judge's loss of the returned weights, a
network that differs when trained from another seed, a training accuracy no more
than 0.03 below the reference's and an accuracy on new points no more than 0.05
below it for train_mlp, and for linear_vs_deep (both models trained by an
optimizer) a deep accuracy no more than 0.05 below the
reference's (on X_test and on other points the judge draws itself, which no
sandbox sees), beating the linear one by at least 0.15, on test points drawn from
a smaller square than the training points (about half of them inside the circle,
against a quarter in training), so that an accuracy measured on the training
points is not the test accuracy. Training data is made here, not with the
student's make_driving_data.

The probes record networks as layers and weights; every accuracy, output and
comparison of weights is computed by the judge from those (the ``*_values``
functions), never taken from the student's process, where a model's ``predict``
or the returned numbers could lie.
"""

import contextlib

import numpy as np

from autograder.authoring import (
    ArtefactError, Check, Close, Limits, Property, WrongAnswerType, describe_model, number, predict, same_weights,
    structure, trained_models, unpack)

LIMITS = Limits(check_timeout_s=120, cell_timeout_s=180, total_timeout_s=1200, memory_mb=6144)

ACCURACY_MARGIN = 0.03
# The last loss train_mlp returns (the loss before the last step, as model.fit reports it) and the
# judge's loss of the returned network's weights differ by one step: at most this much.
LOSS_GAP = 0.25
LOSS_GAP_ABS = 0.02
HELD_OUT_MARGIN = 0.05
DEEP_MARGIN = 0.05
DEEP_OVER_LINEAR = 0.15
# linear_vs_deep trains with the student's own settings; the notebook asks to keep it under a
# minute, so its checks get that minute whatever the solution's 30 epochs take (see Check.allowance_s).
STUDENT_CHOICE_S = 60.0


TRAIN_HALF_WIDTH = 2.2  # about a quarter of these points lie inside the circle
TEST_HALF_WIDTH = 1.6   # linear_vs_deep's test points: about half inside


def ring_data(n, seed, half_width=TRAIN_HALF_WIDTH):
    """Probe inputs: points around a circle boundary (not the exercise's data set)."""
    rng = np.random.default_rng(2000 + seed)
    X = rng.uniform(-half_width, half_width, size=(n, 2))
    labels = (X[:, 0] ** 2 + X[:, 1] ** 2 > 1.5).astype(np.float32)
    return X.astype(np.float32), labels


def _float(value, what):
    try:
        arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)
    except Exception:
        raise WrongAnswerType(f"{what} should be a number, got {type(value).__name__}") from None
    if arr.size != 1:
        raise WrongAnswerType(f"{what} should be a single number, got shape {arr.shape}")
    return float(arr.reshape(()))


# ---------------------------------------------------------------- probes


def features_probe(student, X, degree):
    return {"features": student.polynomial_features(np.array(X, np.float32), degree)}


def driving_probe(student, n, seed):
    X, labels = unpack(student.make_driving_data(n, seed), 2, "make_driving_data")
    return {"X": X, "labels": labels}


def _built(model):
    """A model as the judge will read it: weights created (a model without keras.Input gets them
    here, as it would at its first predict)."""
    import keras

    if isinstance(model, keras.Model) and not model.built:
        try:
            model.build((None, 2))
        except Exception:  # noqa: BLE001 - the judge then reports the missing weights
            pass
    return model


# The compiled loss of one point at a time (so any reduction gives the same number):
# probability 0.8 for label 1, probability 0.3 for label 0.
LOSS_POINTS = ((1.0, 0.8), (0.0, 0.3))


def _compiled_loss_values(model):
    """The compiled loss of each of LOSS_POINTS, or None where it cannot be computed."""
    import keras

    try:
        loss = keras.losses.get(model.loss)
    except Exception:  # noqa: BLE001 - not compiled, or a loss Keras does not know
        return None
    values = []
    for label, p in LOSS_POINTS:
        try:
            value = np.asarray(loss(np.array([[label]], np.float32), np.array([[p]], np.float32)), np.float64)
            values.append(float(np.mean(value)))
        except Exception:  # noqa: BLE001
            return None
    return np.array(values)


def mlp_probe(student, hidden_units, seed):
    """Records three networks (seed, seed again, another seed): the judge reads their layers and
    compares their weights, and computes their outputs itself (see mlp_values). Also the compiled
    loss of two known probabilities: it tells a loss that expects scores (from_logits=True)."""
    out = {}
    for key, s in (("first", seed), ("again", seed), ("other", seed + 1)):
        model = _built(student.build_mlp(list(hidden_units), s))
        out[key] = describe_model(model, "build_mlp")
        if key == "first":
            out["loss_values"] = _compiled_loss_values(model)
    return out


def train_probe(student, n, seed, hidden_units, epochs, learning_rate):
    """Records the trained network, the losses and the optimizer steps that trained it, and the
    network of a second training from another seed: the judge measures the network's accuracy and
    the loss of its final weights itself, on these points and on others that never enter the
    sandbox (see training_values)."""
    X, labels = ring_data(n, seed)
    out = {}
    for key, s in (("", seed), ("other_", seed + 1)):
        with optimizer_steps() as steps, fitted_points() as fitted:
            model, losses = unpack(student.train_mlp(X, labels, list(hidden_units), epochs, learning_rate, s), 2,
                                   "train_mlp")
        out[key + "model"] = describe_model(model, "train_mlp")
        if not key:
            out["losses"] = np.array([_float(v, "each loss") for v in list(losses)], dtype=np.float64)
            out["steps"] = steps(model)
            # model.fit's training rows: how many, and how many of them are the n points (-1: no fit with arrays)
            rows = set(fitted(model) or ())
            out["fitted_rows"] = len(rows) if fitted(model) is not None else -1
            out["fitted_points"] = len(rows & {r.tobytes() for r in X}) if fitted(model) is not None else -1
    return out


def _rows(data):
    """The rows of a model.fit input as float32 bytes (None when it is not an array, e.g. a
    tf.data.Dataset or a generator: then nothing is concluded from it)."""
    if data is None or not hasattr(data, "__len__") and not hasattr(data, "numpy"):
        return None
    try:
        arr = np.asarray(data.numpy() if hasattr(data, "numpy") else data, dtype=np.float32)
    except Exception:  # noqa: BLE001
        return None
    if arr.ndim != 2:
        return None
    return [row.tobytes() for row in arr]


@contextlib.contextmanager
def fitted_points():
    """Inside the block, every ``model.fit`` with array inputs is noted; yields ``fitted(model)``:
    the rows (float32 bytes) that ``fit`` trained that model on, its largest such set, without the
    share ``validation_split`` holds out (None when the model never went through ``fit`` with
    arrays, e.g. a GradientTape loop)."""
    import keras

    trained: dict = {}  # id(model) -> list of row lists
    saved, original = keras.Model.__dict__.get("fit"), keras.Model.fit

    def fit(self, *args, **kwargs):
        x = args[0] if args else kwargs.get("x")
        rows = _rows(x)
        if rows is not None:
            split = kwargs.get("validation_split", args[6] if len(args) > 6 else 0.0)
            try:
                split = float(split or 0.0)
            except (TypeError, ValueError):
                split = 0.0
            if 0.0 < split < 1.0:  # Keras holds out the last share of the points
                rows = rows[:int(len(rows) * (1.0 - split))]
            trained.setdefault(id(self), []).append(rows)
        return original(self, *args, **kwargs)

    def fitted(model):
        fits = trained.get(id(model))
        return max(fits, key=len) if fits else None

    keras.Model.fit = fit
    try:
        yield fitted
    finally:
        if saved is None:
            del keras.Model.fit
        else:
            keras.Model.fit = saved


@contextlib.contextmanager
def optimizer_steps():
    """Inside the block, every Keras optimizer that updates variables is noted (its ``apply``, which
    ``model.fit`` and ``apply_gradients`` go through); yields ``steps(model)``: the steps those
    optimizers took on the model's weights (0 when none did: a network that was never trained)."""
    import keras

    applied: dict = {}  # id(optimizer) -> (optimizer, ids of the variables it updated)
    cls = keras.optimizers.Optimizer
    saved, original = cls.__dict__.get("apply"), cls.apply

    def apply(self, grads, trainable_variables=None, *args, **kwargs):
        if trainable_variables is not None:
            trainable_variables = list(trainable_variables)
        variables = trainable_variables if trainable_variables is not None else \
            list(getattr(self, "_trainable_variables", None) or [])
        applied.setdefault(id(self), (self, set()))[1].update(id(v) for v in variables)
        return original(self, grads, trainable_variables, *args, **kwargs)

    def steps(model):
        try:
            mine = {id(v) for v in model.trainable_variables}
            return sum(int(np.asarray(opt.iterations).reshape(())) for opt, touched in applied.values()
                       if touched & mine)
        except Exception:  # noqa: BLE001 - not a Keras model, or an optimizer without a step count
            return 0

    cls.apply = apply
    try:
        yield steps
    finally:
        if saved is None:
            del cls.apply
        else:
            cls.apply = saved


def compare_probe(student, n, seed):
    """Records the two accuracies returned and every Keras model the function trained or used:
    the judge measures those models on the test set itself (see comparison_values). The test
    points come from a smaller square than the training points, so accuracies measured on the
    training points differ from the test accuracies by far more than MATCH points."""
    X_train, y_train = ring_data(n, seed)
    X_test, y_test = ring_data(n, seed + 100, TEST_HALF_WIDTH)
    with trained_models() as models, optimizer_steps() as steps, fitted_points() as fitted:
        result = student.linear_vs_deep(X_train, y_train, X_test, y_test, seed)
    if not isinstance(result, dict) or set(result) != {"linear", "deep"}:
        raise WrongAnswerType("linear_vs_deep should return a dict with exactly the keys 'linear' and 'deep'")
    test_rows = {row.tobytes() for row in X_test}
    return {"linear": _float(result["linear"], "the linear accuracy"),
            "deep": _float(result["deep"], "the deep accuracy"),
            "models": [describe_model(m, "linear_vs_deep") for m in models],
            "model_steps": np.array([steps(m) for m in models], dtype=np.int64),
            # how many test points each model was fitted on (model.fit with arrays): leakage
            "model_test_points": np.array([len(set(fitted(m) or ()) & test_rows) for m in models], dtype=np.int64)}


# ---------------------------------------------------------------- judge side: values from the artefacts
# What decides a grade is computed here, in the grading process, from the recorded
# layers and weights: never what the student's process said of its own model.

PROBE_POINTS = np.stack([np.linspace(-2, 2, 10), np.linspace(2, -2, 10)], axis=1).astype(np.float32)
HELD_OUT = 500          # seed offset of points the judge makes and the sandbox never sees
MATCH = 3               # returned accuracies may differ from the judge's by this many test points


def _accuracy(description, X, labels):
    return float(np.mean((predict(description, X) > 0.5) == (labels > 0.5)))


def _network(description):
    """The structure of a recorded network, and a problem reading it (or None)."""
    try:
        return structure(description), None
    except ArtefactError as exc:
        return {}, str(exc)


def mlp_values(values, hidden_units, seed):
    out, problem = _network(values.get("first"))
    if problem is None:
        try:
            p = predict(values["first"], PROBE_POINTS)
            out.update(output_shape=[len(p), 1], in_unit_interval=bool(np.all((p >= 0) & (p <= 1))),
                       repeatable=same_weights(values["first"], values.get("again")),
                       seed_matters=not same_weights(values["first"], values.get("other")))
        except ArtefactError as exc:
            problem = str(exc)
    return {**dict.fromkeys(("units", "activations", "other_layers", "loss", "compiled", "output_shape",
                             "in_unit_interval", "repeatable", "seed_matters")), **out, "model_problem": problem}


def _loss(description, X, labels):
    """The binary cross-entropy of a recorded network on (X, labels), as Keras computes it (the
    probabilities clipped to [1e-7, 1 - 1e-7])."""
    p = np.clip(predict(description, X), 1e-7, 1 - 1e-7)
    y = np.asarray(labels, np.float64) > 0.5
    return float(np.mean(-np.where(y, np.log(p), np.log1p(-p))))


def training_values(values, n, seed, hidden_units, epochs, learning_rate):
    out, problem = _network(values.get("model"))
    losses = values.get("losses")
    losses = np.asarray(losses, dtype=np.float64).reshape(-1) if isinstance(losses, np.ndarray) else np.zeros(0)
    steps = values.get("steps")
    fitted = [values.get(k) for k in ("fitted_rows", "fitted_points")]
    fitted = [v if isinstance(v, int) and not isinstance(v, bool) else None for v in fitted]
    # Only a fit on some of the points themselves says points were left out (rows transformed
    # before fit, e.g. standardised, match none of them: nothing is concluded then).
    out.update(fitted_points=fitted[1] if fitted[0] is not None and fitted[0] == fitted[1] else None, n=n)
    out.update(n_losses=int(losses.size), first_loss=float(losses[0]) if losses.size else None,
               last_loss=float(losses[-1]) if losses.size else None, train_accuracy=None, held_out_accuracy=None,
               final_loss=None, other_seed_differs=None,
               steps=steps if isinstance(steps, int) and not isinstance(steps, bool) else None)
    if problem is None:
        try:
            out["train_accuracy"] = _accuracy(values["model"], *ring_data(n, seed))
            out["held_out_accuracy"] = _accuracy(values["model"], *ring_data(n, seed + HELD_OUT))
            out["final_loss"] = _loss(values["model"], *ring_data(n, seed))
            try:
                out["other_seed_differs"] = not same_weights(values["model"], values.get("other_model"))
            except ArtefactError:
                out["other_seed_differs"] = False
        except ArtefactError as exc:
            problem = str(exc)
    return {**dict.fromkeys(("units", "activations", "other_layers", "loss", "compiled")), **out,
            "model_problem": problem}


def comparison_values(values, n, seed):
    X_test, y_test = ring_data(n, seed + 100, TEST_HALF_WIDTH)
    measured, found = {"linear": [], "deep": []}, {"linear": [], "deep": []}
    steps = values.get("model_steps")
    steps = [int(x) for x in np.asarray(steps).reshape(-1)] if isinstance(steps, np.ndarray) else []
    leaked = values.get("model_test_points")
    leaked = [int(x) for x in np.asarray(leaked).reshape(-1)] if isinstance(leaked, np.ndarray) else []
    for i, description in enumerate(values.get("models") or []):
        network, problem = _network(description)
        if problem is not None or not network["units"]:
            continue
        try:
            accuracy = _accuracy(description, X_test, y_test)
        except ArtefactError:
            continue
        key = "linear" if len(network["units"]) == 1 else "deep"
        measured[key].append(accuracy)
        found[key].append((description, steps[i] if i < len(steps) else 0, leaked[i] if i < len(leaked) else 0))
    out, problem, untrained, on_test = {"deep_held_out": None}, None, [], []
    for key in ("linear", "deep"):  # the measured accuracy the returned one stands for
        claimed = number(values.get(key))
        match = next((i for i, a in enumerate(measured[key]) if claimed is not None and abs(a - claimed) <= MATCH / n),
                     None)
        out[key] = None if match is None else measured[key][match]
        if match is not None and found[key][match][1] <= 0:  # its optimizer never stepped
            untrained.append(key)
        if match is not None and found[key][match][2] > 0:  # model.fit saw test points
            on_test.append(key)
        if key == "deep" and match is not None:  # the same network on points the sandbox never saw
            out["deep_held_out"] = _accuracy(found[key][match][0], *ring_data(n, seed + HELD_OUT, TEST_HALF_WIDTH))
    if not measured["linear"] and not measured["deep"]:
        problem = ("no trained Keras model was found: train both models with Keras (model.fit), the linear one "
                   "as a network without hidden layers (Dense(1, activation='sigmoid'))")
    elif not measured["deep"]:
        problem = ("the deep model has no hidden layer: it is one more linear model (does it have hidden "
                   "layers?)")
    elif out["linear"] is None or out["deep"] is None:
        problem = ("the accuracies returned are not the test accuracies of the models your function trained: "
                   "measure both models on X_test and y_test")
    elif on_test:
        problem = (f"the {' and the '.join(on_test)} model{'s were' if len(on_test) > 1 else ' was'} trained on "
                   "test points (X_test): a model scored on the points it learned from says nothing about new "
                   "points; train both models on X_train and y_train only, and keep X_test for measuring")
    elif untrained:
        problem = (f"the {' and the '.join(untrained)} model{'s were' if len(untrained) > 1 else ' was'} never "
                   "trained (no optimizer step changed the weights): train both models on X_train and y_train "
                   "with model.fit")
    return {**out, "comparison_problem": problem}


# ---------------------------------------------------------------- rules (grader side)
# Property tests take ``hidden``: for a hidden check their message quotes no value, neither
# the student's (they may carry the hidden inputs) nor the reference's (hidden_units is an
# input); see autograder.checks.rules.Property.


def structure_problem(actual, expected, hidden=False):
    """What is wrong with the network's layers or compilation, or None."""
    want = expected["units"]
    units, acts = actual.get("units"), actual.get("activations") or []
    if units is None:
        return actual.get("model_problem") or "no model was recorded"
    if not units:
        return "no Dense layer found: build the network from keras.layers.Dense layers"
    if len(units) == 1 and len(want) > 1:
        return ("the network has no hidden layer: add one Dense(u, activation='relu') per entry of "
                "hidden_units before the output layer (a network without hidden layers is only a linear model)")
    if units != want:
        if hidden:
            return ("the Dense layers do not have the units hidden_units asks for: one Dense layer per entry "
                    "of hidden_units, with that many units, followed by one output unit")
        return f"Dense layers with {units} units; hidden_units asks for {want[:-1]} followed by one output unit"
    if any(a != "relu" for a in acts[:-1]) and "Activation" in (actual.get("other_layers") or []):
        return ("the ReLU is a separate Activation layer after a linear Dense layer: the assignment asks for it "
                "inside each hidden Dense layer, Dense(units, activation='relu'), and no other layers")
    if any(a != "relu" for a in acts[:-1]):
        return ("the hidden layers need activation='relu': without a non-linearity, stacked layers are "
                "still one linear map")
    if acts[-1] != "sigmoid":
        return "the output layer needs activation='sigmoid' to give a probability"
    if actual.get("other_layers"):
        if hidden:  # layer class names are the student's
            return "unexpected layers: build the network from Dense layers only"
        return f"unexpected layers: {', '.join(actual['other_layers'])}"
    if not actual.get("compiled"):
        return "the model is not compiled: call model.compile(optimizer=..., loss='binary_crossentropy')"
    if "binary_crossentropy" not in actual.get("loss", "").lower().replace(" ", "_"):
        return "compile the model with the binary cross-entropy loss (loss='binary_crossentropy')"
    return actual.get("model_problem")


def mlp_properties(actual, expected, hidden=False):
    problem = structure_problem(actual, expected, hidden)
    if problem:
        return problem
    if actual.get("output_shape") != expected["output_shape"]:
        if hidden:
            return "the model's output has a different shape than expected: one probability per point"
        return f"the model outputs shape {actual.get('output_shape')} for 10 points; expected {expected['output_shape']}"
    if not actual.get("in_unit_interval"):
        return "the outputs are not probabilities in [0, 1]"
    if not actual.get("repeatable"):
        return "the same seed gave different networks: call keras.utils.set_random_seed(seed) first"
    if not actual.get("seed_matters"):
        return "different seeds gave the same network: the seed argument must be used"
    return None


def training_properties(actual, expected, hidden=False):
    problem = structure_problem(actual, expected, hidden)
    if problem:
        return problem
    if actual.get("n_losses") != expected["n_losses"]:
        if hidden:
            return "the number of losses returned is wrong: there must be one per epoch"
        return f"{actual.get('n_losses')} losses returned; there must be one per epoch"
    fitted, n = actual.get("fitted_points"), actual.get("n")
    if fitted is not None and 0 < fitted < n:  # -1: not trained through model.fit with arrays
        shown = "" if hidden else f" on {fitted} of the {n} points"
        return (f"model.fit trained the network{shown}: validation_split (or a slice of X) keeps points out of "
                "training; train on all of X and labels (no validation_split)")
    steps, want = actual.get("steps"), expected.get("steps")
    # Counted on every optimizer that updated the network's weights (model.fit or a GradientTape loop)
    if not isinstance(steps, int) or steps <= 0:
        return ("no optimizer step changed the network's weights: train_mlp must train the network "
                "(model.fit(..., batch_size=len(X)), or an optimizer's apply_gradients in a loop)")
    if steps != want:
        if hidden:
            return ("the optimizer did not take one step per epoch: training is full batch, "
                    "model.fit(..., batch_size=len(X))")
        return (f"the optimizer took {steps} steps in {actual.get('n_losses')} epochs; full-batch training takes "
                f"one per epoch ({want}): model.fit(..., batch_size=len(X)) (its default is 32)")
    first, last = number(actual.get("first_loss")), number(actual.get("last_loss"))
    if first is None or last is None or not np.isfinite(last) or not last < first:
        return "the loss did not decrease during training"
    final = number(actual.get("final_loss"))
    if final is None or not abs(last - final) <= LOSS_GAP * final + LOSS_GAP_ABS:
        shown = "" if hidden or final is None else f" ({last:.4f}; the network returned has {final:.4f})"
        return (f"the last loss returned is not the loss of the network returned{shown}: return the losses of "
                "this network's own training, one per epoch (history.history['loss'])")
    if not actual.get("other_seed_differs"):
        return ("another seed gave the same trained network: build the network with build_mlp(hidden_units, "
                "seed) and train it; weights that do not depend on the seed did not come from training")
    accuracy, reference = number(actual.get("train_accuracy")), number(expected.get("train_accuracy"))
    if accuracy < reference - ACCURACY_MARGIN:
        shown = "" if hidden else f" {accuracy:.3f}"
        return (f"training accuracy{shown} is too low for this network: check the learning rate, "
                "the number of epochs and that training is full batch")
    held_out, reference = number(actual.get("held_out_accuracy")), number(expected.get("held_out_accuracy"))
    if held_out < reference - HELD_OUT_MARGIN:
        shown = "" if hidden else f" ({held_out:.3f})"
        return (f"the trained network does much worse on new points of the same kind{shown} than the "
                "reference's: it learned the training points rather than the circle")
    return None


def comparison_properties(actual, expected, hidden=False):
    if actual.get("comparison_problem"):
        return actual["comparison_problem"]
    linear, deep = number(actual.get("linear")), number(actual.get("deep"))
    if not (0 <= linear <= 1 and 0 <= deep <= 1):
        return "accuracies are fractions between 0 and 1"
    if linear > number(expected["linear"]) + 0.1:
        shown = "" if hidden else f" {linear:.3f},"
        return f"the linear model scores{shown} more than a straight line can: is it really linear?"
    if deep < number(expected["deep"]) - DEEP_MARGIN:
        shown = "" if hidden else f" {deep:.3f}"
        return (f"the deep model's test accuracy{shown} is too low: give it hidden layers with ReLU and "
                "train it long enough")
    held_out = number(actual.get("deep_held_out"))
    if held_out is not None and held_out < number(expected["deep_held_out"]) - DEEP_MARGIN:
        shown = "" if hidden else f" ({held_out:.3f})"
        return (f"the deep model does much worse on other test points of the same kind{shown} than on X_test: "
                "train it on X_train and y_train only, and long enough")
    if deep < linear + DEEP_OVER_LINEAR:
        if hidden:
            return (f"the deep model should beat the linear one by at least {DEEP_OVER_LINEAR}: "
                    "does it have hidden layers?")
        return (f"the deep model ({deep:.3f}) should beat the linear one ({linear:.3f}) by at least "
                f"{DEEP_OVER_LINEAR}: does it have hidden layers?")
    return None


LOSS_RULE = Close("loss_values", rtol=1e-5, atol=1e-6, label="the compiled loss of p = 0.8 for label 1 and of "
                  "p = 0.3 for label 0", why="float32")

# ---------------------------------------------------------------- public checks

CHECKS = [
    Check("polynomial_features", "degree_2", features_probe, ([[2.0, 3.0], [-1.0, 0.5]], 2),
          [Close("features", rtol=1e-5, atol=1e-6, label="the features")],
          explain="x1, x2, x1^2, x1*x2, x2^2 for two points"),
    Check("make_driving_data", "small", driving_probe, (20, 0),
          [Close("X", dtype="float32", rtol=1e-6, atol=1e-7, label="X"),
           Close("labels", dtype="float32", rtol=0, atol=0, label="labels")],
          explain="n = 20, seed = 0: enough points near the circle that another boundary disagrees on some"),
    Check("build_mlp", "one_hidden_layer", mlp_probe, ([8], 0), [Property(mlp_properties), LOSS_RULE],
          derive=mlp_values,
          explain="Dense(8, relu) then Dense(1, sigmoid), compiled with binary cross-entropy, repeatable"),
    Check("train_mlp", "two_hidden_layers", train_probe, (200, 0, [16, 16], 20, 0.05), [Property(training_properties)],
          points=2, derive=training_values,
          explain="[16, 16] for 20 full-batch epochs: falling loss, training accuracy near the reference's"),
    Check("linear_vs_deep", "ring", compare_probe, (300, 0), [Property(comparison_properties)],
          derive=comparison_values, allowance_s=STUDENT_CHOICE_S,
          explain="the MLP beats logistic regression on held-out data, and does as well on other new points"),
]
