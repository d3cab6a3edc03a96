"""Which sandbox a command gets: the backends by name, and the policy of ``--backend auto``.

``docker`` is chosen by ``auto`` whenever an engine answers and the sandbox image exists;
else ``local``, which is confined by the kernel (see :mod:`autograder.sandbox.local`) and
refuses to start where the kernel lacks Landlock unless ``unconfined`` is asked for.
Every choice ``auto`` makes, and why, is said on stderr.
"""

from __future__ import annotations

import sys

from autograder.sandbox.base import Sandbox, SandboxUnavailable

BACKENDS = ("auto", "local", "docker")


def _note(text: str) -> None:
    print(f"autograder: note: {text}", file=sys.stderr)


def local(unconfined: bool = False, trusted: bool = False) -> Sandbox:
    """The local sandbox; ``trusted`` (a student's own notebook, the instructor's solution)
    falls back to an unconfined one, with a note, where the kernel cannot confine it."""
    from autograder.sandbox.local import LocalSandbox

    try:
        return LocalSandbox(confined=not unconfined)
    except SandboxUnavailable as exc:
        if not trusted:
            raise
        _note(f"{exc}; running unconfined, as for any notebook you trust")
        return LocalSandbox(confined=False)


def make_sandbox(backend: str, gpu: str = "off", unconfined: bool = False, trusted: bool = False) -> Sandbox:
    """The sandbox for ``--backend``, ``--gpu`` and ``--unconfined`` (``trusted``: see :func:`local`).

    Raises :class:`SandboxUnavailable` (a usage error) when the request cannot be met."""
    if backend not in BACKENDS:
        raise SandboxUnavailable(f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    if unconfined and backend == "docker":
        raise SandboxUnavailable("--unconfined applies to the local backend only")
    if backend == "local":
        if gpu == "on":
            raise SandboxUnavailable("--gpu on needs the docker backend")
        return local(unconfined, trusted)
    from autograder.sandbox import docker

    if not docker.docker_available():
        if backend == "docker":
            raise SandboxUnavailable("--backend docker: no Docker engine is reachable (start dockerd, or use "
                                     "--backend local)")
        if gpu == "on":
            raise SandboxUnavailable("--gpu on: no Docker engine is reachable")
        return local(unconfined, trusted)
    has_gpu = docker.nvidia_runtime_available()
    if gpu == "on" and not has_gpu:
        raise SandboxUnavailable("--gpu on: Docker has no NVIDIA runtime, so no GPU can be given to the sandbox")
    use_gpu = gpu == "on" or (gpu == "auto" and has_gpu)
    sandbox = docker.DockerSandbox(gpu=use_gpu)
    if not docker.image_exists(sandbox.image):
        hint = (f"the sandbox image {sandbox.image} is missing: run "
                f"`autograder image build{' --gpu' if use_gpu else ''}`")
        if backend == "docker" or gpu == "on":
            raise SandboxUnavailable(hint)
        if use_gpu and docker.image_exists(docker.DEFAULT_IMAGE):
            _note(f"{hint}; grading on the CPU image")
            return docker.DockerSandbox(gpu=False)
        _note(f"{hint}; using the local backend")
        return local(unconfined, trusted)
    return sandbox
