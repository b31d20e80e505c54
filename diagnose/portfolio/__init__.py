"""Many snapshots at once: batch diagnosis, the portfolio summary, Apache Spark, and generated test data."""
