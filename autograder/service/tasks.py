"""The grading job, on Django's Tasks framework (django-tasks, database backend): the web
process only enqueues it; an ``autograder worker`` process runs it."""

from django_tasks import task


@task(queue_name="grading")
def grade_submission(submission_id: str) -> str:
    from autograder.service.grading import grade

    return grade(submission_id)
