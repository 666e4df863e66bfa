"""Runtime of the generated types: element dtypes, columns, the object base class, dtype descriptions."""
