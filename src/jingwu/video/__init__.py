"""Video (capability 6): reading cameras, keeping a rolling buffer, cutting clips and relaying
live pictures, in worker processes apart from the API. Importing starts nothing."""
