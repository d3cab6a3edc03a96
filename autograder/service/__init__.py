"""The course submission service: a Django site (students upload, staff review) and its grading workers (`autograder serve`, `autograder worker`)."""
