"""Hidden checks of 03_deep_network: other inputs and edge cases (instructors only).

Each public check has a hidden check of the same kind as its sibling (``sibling_of``): the public
check earns its points only when its sibling passes too, so a function that returns the published
values earns nothing.
"""

from checks import (LOSS_RULE, STUDENT_CHOICE_S, Close, Property, comparison_properties, comparison_values, compare_probe,
                    driving_probe, features_probe, mlp_probe, mlp_properties, mlp_values, train_probe,
                    training_properties, training_values)

from autograder.authoring import Check

CHECKS = [
    Check("polynomial_features", "degree_3", features_probe,
          ([[0.5, -2.0], [1.5, 1.0], [-1.0, -0.25]], 3),
          [Close("features", rtol=1e-5, atol=1e-6, label="the features")], sibling_of="degree_2", hidden=True),
    Check("polynomial_features", "degree_1", features_probe, ([[0.25, 4.0]], 1),
          [Close("features", rtol=1e-5, atol=1e-6, label="the features")], hidden=True),
    Check("make_driving_data", "larger", driving_probe, (300, 7),
          [Close("X", dtype="float32", rtol=1e-6, atol=1e-7, label="X"),
           Close("labels", dtype="float32", rtol=0, atol=0, label="labels")], sibling_of="small", hidden=True),
    Check("build_mlp", "three_hidden_layers", mlp_probe, ([16, 8, 4], 3), [Property(mlp_properties), LOSS_RULE],
          points=2, sibling_of="one_hidden_layer", hidden=True, derive=mlp_values),
    Check("train_mlp", "one_wide_layer", train_probe, (250, 5, [32], 20, 0.05), [Property(training_properties)],
          points=2, sibling_of="two_hidden_layers", hidden=True, derive=training_values),
    Check("linear_vs_deep", "other_ring", compare_probe, (400, 2), [Property(comparison_properties)],
          points=2, sibling_of="ring", hidden=True, derive=comparison_values, allowance_s=STUDENT_CHOICE_S),
]
