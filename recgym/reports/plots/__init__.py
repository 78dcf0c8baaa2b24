"""Figures of the studies (matplotlib, drawn off-screen): one module per study."""
