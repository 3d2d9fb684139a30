"""Model v1: a singer-embedding CNN trained for singing (see models/README.md, "Model v1")."""
