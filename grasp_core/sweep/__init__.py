"""Trade-off experiments: sweep configs (and the dashboard's launch form), resumable sweeps through the run
registry, background sweeps, reports, the trade-off plot, and the bundled demo."""
