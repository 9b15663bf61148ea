"""The inventory: typed, immutable models of everything the collectors read, plus the errors."""
