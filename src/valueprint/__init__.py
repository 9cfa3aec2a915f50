"""valueprint: state your values once; carry them to any AI as a signed value token."""

__version__ = "0.1.0"
