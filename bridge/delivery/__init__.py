"""Delivery: planning events into deliveries, abandonment timers, and the worker that runs them."""
