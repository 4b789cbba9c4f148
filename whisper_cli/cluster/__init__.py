"""--ray: the same batch run across a Ray cluster, its executor here and its actors there."""
