"""The content-addressed cache (DVC 3 layout), the state DB, save, checkout and gc."""
