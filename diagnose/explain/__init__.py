"""Explanations of findings: why trees and near misses, what would clear a cause, the timeline, audiences."""
