"""The LMS side: downloads in, grades and feedback back, and Gradescope's bundle."""
