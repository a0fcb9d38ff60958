"""headlamp-operator: drive Headlamp's backend declaratively from custom resources."""
