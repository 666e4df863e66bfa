"""Column types: element dtypes, conversion of values, dtype descriptions."""
