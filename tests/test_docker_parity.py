"""Docker grades each assignment's corpus as the local backend does: status, score and every
check's outcome, notebook by notebook (03: each exercise's first mistake and every valid variation,
see parity_corpus). The local results are the corpus tests' own, graded once per test run."""

import pytest

from tests.test_course_corpus import CORPORA, grade_corpus, parity_corpus

pytestmark = pytest.mark.slow


@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(CORPORA))
def test_docker_grades_the_corpus_like_local(name, engine, tmp_path_factory, run_cli):
    local = grade_corpus(name, "local", tmp_path_factory, run_cli)["results"]
    part = parity_corpus(name)
    in_docker = grade_corpus(name, "docker", tmp_path_factory, run_cli, part)["results"]
    assert set(in_docker) == {"solution", "stub", *(f"mistake_{m}" for m in part.MISTAKES),
                              *(f"variation_{v}" for v in part.VARIATIONS)} and set(in_docker) <= set(local)
    strip = lambda r: (r["status"], r["score"], [(c["id"], c["passed"], c["outcome"]) for c in r["checks"]])  # noqa: E731
    different = [s for s in in_docker if strip(local[s]) != strip(in_docker[s])]
    assert not different, [(s, strip(local[s]), strip(in_docker[s])) for s in different]
    assert {r["backend"] for r in in_docker.values()} == {"docker"}
