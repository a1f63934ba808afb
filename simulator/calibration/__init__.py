"""`keepcab calibrate`: a firm's order log -> a scenario TOML, every number with its source.

Pure numpy/scipy estimators, one module per part of the scenario (demand,
space, patience, trips, shifts, churn), fed by `valuation.logrows` rows from
whichever log source the `keepcab.log_sources` entry points provide. Where
the evidence maps to scenario keys and why: docs/calibrate.md.
"""
