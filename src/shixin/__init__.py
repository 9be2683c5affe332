"""shixin: the dishonest judgment debtor list, from the courts to the departments and back."""

__version__ = "0.1.0"
