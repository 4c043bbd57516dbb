"""Weak supervision for stance: labeling functions, the label model that combines them, and gold annotations."""
