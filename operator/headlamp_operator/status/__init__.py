"""The status, the product's only voice: outcomes from results, their rendering, when to write, and the write."""
