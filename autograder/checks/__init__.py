"""The check model and its judging: check files, probes, rules, the judge and its words."""
