"""Durable timers: the worker claims due jobs and calls the service each kind names."""
