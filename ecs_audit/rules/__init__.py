"""Check functions by area, each registered by the checklist id it implements."""
