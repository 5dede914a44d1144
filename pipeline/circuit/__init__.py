"""Circuits of the product: the Poseidon gadget and the dataset statistics circuit."""
