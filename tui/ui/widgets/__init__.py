"""Reusable widgets: the sessions table and the on-demand parts view."""
