"""Provider adapters: each turns one provider's upload API into the Provider protocol.

Nothing under this package imports Textual.
"""
