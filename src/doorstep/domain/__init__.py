"""Pure rules and value types: no I/O, no clock reads, nothing from the other layers."""
