"""Providers: how boot interfaces serve their boot configuration."""
