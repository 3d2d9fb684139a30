"""Model v2: the CAM++ speaker encoder (3D-Speaker), exported for the Rust engine."""
