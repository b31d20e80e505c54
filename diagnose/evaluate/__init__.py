"""Is the pack right? Labelled cases, accuracy against them, backtests of a pack change, and calibrated weights."""
