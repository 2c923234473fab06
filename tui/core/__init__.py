"""The upload engine: plain data, planning, hashing, the journal and transfers.

Nothing under this package imports Textual or a layer above it (providers, config, the
service, front ends): providers plug in through the protocol in :mod:`tui.core.ports`.
"""
