"""The upload engine: plain data, planning, hashing, the journal and transfers.

Nothing under this package imports Textual; the UI and the headless CLI both drive it.
"""
