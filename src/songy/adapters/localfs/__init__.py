"""A blob store on the local disk, for the embedded default."""
