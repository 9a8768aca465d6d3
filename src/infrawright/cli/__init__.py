"""Command-line interface: a thin shell over the library; one error handler at the edge."""
