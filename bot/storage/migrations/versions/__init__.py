"""One file per schema revision, written by hand: 0001_initial, 0002_..., each with upgrade and downgrade."""
