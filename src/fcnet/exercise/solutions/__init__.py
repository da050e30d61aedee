"""Reference solutions of the exercises: one module per exercise, NumPy only, as a student would write them."""
