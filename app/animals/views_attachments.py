"""Photos and documents of cases and animals: upload, and serving to those allowed to see them."""
