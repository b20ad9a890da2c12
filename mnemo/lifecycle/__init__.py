"""Keeping memory current.

extraction/    candidates from conversation turns (offline rules, or an LLM)
statements     reading statements well enough to compare them without a model
reconcile      add / update / supersede / ignore, for each candidate
pipeline       an extraction job's work: pending turns to reconciled memories, once
decay          scores of unread memories fall with a half-life
consolidate    near-duplicates are merged
cleanup        what policy says is dead is removed
optimize       decay + consolidation + clean-up for one user, planned and reported
jobs/          the durable queue (procrastinate): job names, handlers, the worker
reembed        moving a store to another embedding model
"""
